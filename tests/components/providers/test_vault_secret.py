"""VaultKvSecretProvider called directly against OpenBao: ownership, CAS, no-op, drift, replacement."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from typing import Any

import hvac
import pulumi
import pytest

from ctp_credentials.components.clients.vault import VaultClient
from ctp_credentials.components.digests import digest
from ctp_credentials.components.errors import VaultError
from ctp_credentials.components.providers.vault_secret import VaultKvSecretProvider
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY


def props(server: OpenBaoServer, path: str, secret: str = CANARY, **kw: Any) -> dict[str, Any]:
    return {
        "connector": "patchworks",
        "owner": "commercetools-credentials/test",
        "address": server.url,
        "namespace": None,
        "mount": "secret",
        "path": path,
        "data": {"clientId": "abc", "clientSecret": secret},
        "delete_policy": "delete",
        **kw,
    }


@pytest.fixture
def path() -> str:
    return f"commercetools/{uuid.uuid4().hex}"


def test_create_writes_once_with_ownership_and_no_secret_in_outputs(vault_env: OpenBaoServer, path: str) -> None:
    created = VaultKvSecretProvider().create(props(vault_env, path))
    assert created.outs["version"] == 1
    assert CANARY not in repr(created.outs)
    got = VaultClient().read_secret_version(path)
    assert got is not None and got.data["clientSecret"] == CANARY
    assert got.custom_metadata["managed-by"] == "ctp-credentials"
    assert got.custom_metadata["writer"] == created.id


def test_unchanged_value_is_no_change(vault_env: OpenBaoServer, path: str) -> None:
    p = VaultKvSecretProvider()
    created = p.create(props(vault_env, path))
    assert p.diff(created.id, created.outs, props(vault_env, path)).changes is False
    changed = p.diff(created.id, created.outs, props(vault_env, path, secret="new"))
    assert changed.changes is True and changed.replaces == []
    moved = p.diff(created.id, created.outs, props(vault_env, path + "-b"))
    assert moved.replaces == ["path"]


def test_foreign_path_is_refused_and_left_untouched(vault_env: OpenBaoServer, path: str) -> None:
    VaultClient().create_or_update_secret(path, {"owner": "someone else"}, cas=0)
    with pytest.raises(VaultError, match=r"belongs to another tool.*left untouched"):
        VaultKvSecretProvider().create(props(vault_env, path))
    got = VaultClient().read_secret_version(path)
    assert got is not None and got.data == {"owner": "someone else"}


def test_other_stack_cannot_take_the_path(vault_env: OpenBaoServer, path: str) -> None:
    VaultKvSecretProvider().create(props(vault_env, path))
    with pytest.raises(VaultError, match="belongs to commercetools-credentials/test/patchworks"):
        VaultKvSecretProvider().create(props(vault_env, path, owner="commercetools-credentials/prod"))


def test_update_uses_cas_and_a_concurrent_writer_is_refused(vault_env: OpenBaoServer, path: str) -> None:
    p = VaultKvSecretProvider()
    created = p.create(props(vault_env, path))
    VaultClient().create_or_update_secret(path, {"changed": "out of band"}, cas=1)
    with pytest.raises(VaultError, match="check-and-set"):
        p.update(created.id, created.outs, props(vault_env, path, secret="new"))


def test_refresh_sees_drift_and_update_repairs_it(vault_env: OpenBaoServer, path: str) -> None:
    p = VaultKvSecretProvider()
    created = p.create(props(vault_env, path))
    VaultClient().create_or_update_secret(path, {"changed": "out of band"}, cas=1)
    refreshed = p.read(created.id, created.outs)
    assert refreshed.outs["version"] == 2
    assert p.diff(created.id, refreshed.outs, props(vault_env, path)).changes is True
    repaired = p.update(created.id, refreshed.outs, props(vault_env, path))
    assert repaired.outs["version"] == 3
    # the digest of what was written: the next diff is clean, not a write on every `up`
    assert repaired.outs["digest"] == created.outs["digest"]
    assert p.diff(created.id, repaired.outs, props(vault_env, path)).changes is False
    got = VaultClient().read_secret_version(path)
    assert got is not None and got.data["clientSecret"] == CANARY


def test_refresh_of_deleted_secret_drops_it(vault_env: OpenBaoServer, path: str) -> None:
    p = VaultKvSecretProvider()
    created = p.create(props(vault_env, path))
    VaultClient().delete_secret_versions(path, [1])
    assert p.read(created.id, created.outs).id is None
    again = p.create(props(vault_env, path))  # the next `up` writes it again
    assert again.outs["version"] == 2


def test_replacement_keeps_the_value(vault_env: OpenBaoServer, path: str) -> None:
    """Create-before-delete on the same path: the old resource's delete must not remove the new value."""
    p = VaultKvSecretProvider()
    old = p.create(props(vault_env, path))
    new = p.create(props(vault_env, path, secret="replacement"))
    p.delete(old.id, old.outs)
    got = VaultClient().read_secret_version(path)
    assert got is not None and got.data["clientSecret"] == "replacement" and got.version == new.outs["version"]


@pytest.mark.parametrize(
    ("policy", "readable", "metadata"), [("keep", True, True), ("delete", False, True), ("destroy", False, False)]
)
def test_delete_policies(vault_env: OpenBaoServer, path: str, policy: str, readable: bool, metadata: bool) -> None:
    p = VaultKvSecretProvider()
    created = p.create(props(vault_env, path, delete_policy=policy))
    p.delete(created.id, created.outs)
    assert (VaultClient().read_secret_version(path) is not None) is readable
    assert (VaultClient().read_secret_metadata(path) is not None) is metadata


def test_what_replaces_the_secret_and_what_updates_it(vault_env: OpenBaoServer, path: str) -> None:
    """A new server, mount or path is another secret (create the new one first, then delete the old: never the
    other way round, which would leave consumers without one); the same server spelled another way is not; on
    KV v1, which records no owner, a new address or namespace is an update (see the provider's diff)."""
    p = VaultKvSecretProvider()
    outs = p.create(props(vault_env, path)).outs
    assert outs is not None
    same = props(vault_env, path)

    def diff(**changes: Any) -> Any:
        return p.diff("id", outs, {**same, **changes})

    unchanged = diff()
    assert (unchanged.changes, unchanged.replaces, unchanged.delete_before_replace) == (False, [], False)
    spelled = diff(address=vault_env.url.replace("http://", "HTTP://") + "/")  # scheme case, trailing slash
    assert (spelled.changes, spelled.replaces) == (False, [])
    assert diff(address="https://other-vault.example.com").replaces == ["address"]
    assert diff(path=f"{path}-moved").replaces == ["path"] and diff(mount="kv").replaces == ["mount"]
    v1 = {**outs, "kv_version": 1}
    for moved in ({"address": "https://other-vault.example.com"}, {"namespace": "team-a"}):
        result = p.diff("id", v1, {**same, "kv_version": 1, **moved})
        assert (result.changes, result.replaces) == (True, [])
    assert p.diff("id", v1, {**same, "kv_version": 1, "path": "elsewhere"}).replaces == ["path"]
    unknown = diff(data=pulumi.output.Unknown())
    assert unknown.changes is True and unknown.replaces == []


def test_refresh_of_state_written_before_kv_version_was_recorded(vault_env: OpenBaoServer, path: str) -> None:
    """Older state has no kv_version: it was KV v2."""
    p = VaultKvSecretProvider()
    created = p.create(props(vault_env, path))
    assert created.outs is not None
    old_state = {k: v for k, v in created.outs.items() if k != "kv_version"}
    refreshed = p.read(created.id, old_state)
    assert refreshed.id == created.id and refreshed.outs["version"] == 1
    p.delete(created.id, {k: v for k, v in old_state.items() if k != "delete_policy"})  # the default: delete
    assert VaultClient().read_secret_version(path) is None
    assert VaultClient().read_secret_metadata(path) is not None  # soft-deleted, recoverable, not destroyed


def _mount(server: OpenBaoServer, kv_version: int = 1, *, cas_required: bool = False) -> str:
    """A KV mount of its own (a test that needs one changes nothing other tests see)."""
    mount = f"kv{kv_version}-{uuid.uuid4().hex[:8]}"
    admin = hvac.Client(url=server.url, token=server.root_token)
    admin.sys.enable_secrets_engine("kv", path=mount, options={"version": str(kv_version)})
    if cas_required:
        admin.secrets.kv.v2.configure(cas_required=True, mount_point=mount)
    return mount


def test_check_names_each_wrong_input(vault_env: OpenBaoServer, path: str) -> None:
    p = VaultKvSecretProvider()
    assert p.check({}, props(vault_env, path)).failures == []
    reasons = [f.reason for f in p.check({}, props(vault_env, path, kv_version=3, delete_policy="shred")).failures]
    assert len(reasons) == 2 and reasons[0].startswith("delete_policy: ") and reasons[1].startswith("kv_version: ")
    assert CANARY not in repr(reasons)


def test_kv_v1_moving_server_and_namespace_at_once_is_still_an_update(vault_env: OpenBaoServer, path: str) -> None:
    p = VaultKvSecretProvider()
    created = p.create(props(vault_env, path)).outs
    assert created is not None
    outs = {**created, "kv_version": 1}
    both = {**props(vault_env, path), "kv_version": 1, "address": "https://other.example.com", "namespace": "t"}
    assert p.diff("id", outs, both).replaces == []


def test_kv_v1_values_are_ours_only_while_they_hold_what_we_wrote(vault_env: OpenBaoServer, path: str) -> None:
    mount = _mount(vault_env)
    p = VaultKvSecretProvider()
    v1 = VaultClient(mount=mount, kv_version=1)
    v1.write_secret(path, {"owner": "someone"})
    with pytest.raises(VaultError) as foreign:
        p.create(props(vault_env, path, mount=mount, kv_version=1))
    assert str(foreign.value) == (
        f"{v1.where(path)} already holds a value, and KV v1 cannot record who owns it; it is left untouched. "
        "Choose another connectors.patchworks.vault.path (store.path in your own program), or set "
        "connectors.patchworks.vault.adopt (store.adopt in your own program): true to take it over"
    )
    mine = p.create(props(vault_env, path + "-b", mount=mount, kv_version=1))
    assert mine.outs["version"] == 0  # KV v1 has no versions
    assert re.fullmatch(r"[0-9a-f]{32}", mine.id)  # the writer's ID: Pulumi needs a resource ID to track it
    v1.write_secret(path + "-b", {"clientSecret": "changed by hand"})
    with pytest.raises(VaultError) as changed:
        p.update(mine.id, mine.outs, props(vault_env, path + "-b", mount=mount, kv_version=1, secret="new"))
    assert str(changed.value) == (
        f"{v1.where(path + '-b')} was changed since our last write. Run `pulumi refresh` to see the change, "
        "then `pulumi up`"
    )
    p.delete(mine.id, mine.outs)  # not what we wrote any more: left alone
    assert v1.read_secret(path + "-b") is not None
    v1.delete_secret(path + "-b")
    p.delete(mine.id, mine.outs)  # already gone: nothing to do, no error


def test_kv_v1_update_to_another_address_records_the_new_digest(vault_env: OpenBaoServer, path: str) -> None:
    mount = _mount(vault_env)
    p = VaultKvSecretProvider()
    first = p.create(props(vault_env, path, mount=mount, kv_version=1)).outs
    assert first is not None
    moved = props(vault_env, path, mount=mount, kv_version=1, address=vault_env.url + "/")  # spelled another way
    outs = p.update("id", first, moved).outs
    assert (outs["version"], outs["salt"], outs["digest"]) == (0, first["salt"], first["digest"])
    assert outs["address"] == vault_env.url + "/" and p.diff("id", outs, moved).changes is False
    same_place = {**moved, "data": {"clientId": "abc", "clientSecret": "newer"}}
    again = p.update("id", outs, same_place).outs
    assert (again["version"], again["salt"]) == (0, first["salt"]) and again["digest"] != first["digest"]
    assert p.diff("id", again, same_place).changes is False


def test_an_update_is_refused_on_a_path_another_stack_now_owns(vault_env: OpenBaoServer, path: str) -> None:
    p = VaultKvSecretProvider()
    created = p.create(props(vault_env, path))
    VaultClient().update_metadata(
        path, {"managed-by": "ctp-credentials", "pulumi-stack": "other/prod", "connector": "x", "writer": "theirs"}
    )
    with pytest.raises(VaultError) as err:
        p.update(created.id, created.outs, props(vault_env, path, secret="new"))
    assert str(err.value) == (
        f"{VaultClient().where(path)} already exists and belongs to other/prod/x, not to connector 'patchworks' of "
        "commercetools-credentials/test; it is left untouched. Choose another "
        "connectors.patchworks.vault.path (store.path in your own program)"
    )


def test_a_path_of_another_tool_is_refused_with_the_way_to_adopt_it(vault_env: OpenBaoServer, path: str) -> None:
    VaultClient().create_or_update_secret(path, {"owner": "someone else"}, cas=0)
    with pytest.raises(VaultError) as err:
        VaultKvSecretProvider().create(props(vault_env, path))
    assert str(err.value) == (
        f"{VaultClient().where(path)} already exists and belongs to another tool, not to connector 'patchworks' "
        "of commercetools-credentials/test; it is left untouched. Choose another "
        "connectors.patchworks.vault.path (store.path in your own program), or set "
        "connectors.patchworks.vault.adopt (store.adopt in your own program): true to take it over"
    )


def test_refresh_of_a_deleted_value_reports_nothing(vault_env: OpenBaoServer, path: str) -> None:
    p = VaultKvSecretProvider()
    created = p.create(props(vault_env, path))
    VaultClient().delete_metadata_and_all_versions(path)
    gone = p.read(created.id, created.outs)
    assert (gone.id, gone.outs) == (None, {})


@pytest.mark.parametrize("found", ["metadata but no version", "the current version already deleted"])
def test_a_delete_with_nothing_left_to_delete_asks_nothing_of_vault(
    vault_env: OpenBaoServer, path: str, found: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no live version there is nothing to soft-delete: the delete only reads the metadata (a token that
    may do nothing else is enough), instead of asking Vault to delete what is already gone."""
    p = VaultKvSecretProvider()
    created = p.create(props(vault_env, path))
    if found == "metadata but no version":
        VaultClient().delete_metadata_and_all_versions(path)
        ownership = {"managed-by": "ctp-credentials", "pulumi-stack": "commercetools-credentials/test"}
        VaultClient().update_metadata(path, {**ownership, "connector": "patchworks", "writer": created.id})
    else:
        VaultClient().delete_secret_versions(path, [1])  # deleted out of band (`bao kv delete`)
    admin = hvac.Client(url=vault_env.url, token=vault_env.root_token)
    policy = f"read-{created.id}"
    admin.sys.create_or_update_policy(policy, f'path "secret/metadata/{path}" {{ capabilities = ["read"] }}')
    reader = admin.auth.token.create(policies=[policy], ttl="10m")["auth"]["client_token"]
    monkeypatch.setenv("VAULT_TOKEN", reader)
    p.delete(created.id, created.outs)  # no error: nothing but the metadata read was asked of Vault
    monkeypatch.setenv("VAULT_TOKEN", vault_env.root_token)
    meta = VaultClient().read_secret_metadata(path)
    assert meta is not None and meta.custom_metadata["writer"] == created.id


def test_the_digest_is_a_stored_contract() -> None:
    """State written by earlier releases holds digests of this exact canonical form (sorted keys, no spaces):
    spelling the JSON differently would make every stored secret look changed after an upgrade."""
    salt = "00112233445566778899aabbccddeeff"
    expected = hmac.new(bytes.fromhex(salt), b'{"a":"x","b":[1,2]}', hashlib.sha256).hexdigest()
    assert digest(salt, {"b": [1, 2], "a": "x"}) == expected


def test_create_writes_with_check_and_set(vault_env: OpenBaoServer, path: str) -> None:
    """A create names the version it expects (0: none yet), so a writer that got there first is refused rather
    than overwritten; a mount with cas_required refuses any write that does not."""
    mount = _mount(vault_env, 2, cas_required=True)
    created = VaultKvSecretProvider().create(props(vault_env, path, mount=mount))
    assert created.outs["version"] == 1
    got = VaultClient(mount=mount).read_secret_version(path)
    assert got is not None and got.data["clientSecret"] == CANARY


def test_a_replacement_whose_write_and_hand_back_both_fail_reports_the_write(
    vault_env: OpenBaoServer, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hand-back after a failed write is best effort: when it fails too, the error is still the write's
    (what the user must fix), not the hand-back's. A token good for two requests makes both fail: the
    replacement's metadata read and claim use it up, so its write and the hand-back are refused alike."""
    p = VaultKvSecretProvider()
    p.create(props(vault_env, path))
    admin = hvac.Client(url=vault_env.url, token=vault_env.root_token)
    two_uses = admin.auth.token.create(policies=["root"], num_uses=2, ttl="10m")["auth"]["client_token"]
    monkeypatch.setenv("VAULT_TOKEN", two_uses)
    with pytest.raises(VaultError) as err:
        p.create(props(vault_env, path, secret="replacement"))
    assert str(err.value).startswith(f"cannot write {VaultClient().where(path)}: permission denied")
    monkeypatch.setenv("VAULT_TOKEN", vault_env.root_token)
    got = VaultClient().read_secret_version(path)
    assert got is not None and (got.version, got.data["clientSecret"]) == (1, CANARY)


@pytest.mark.parametrize(
    "settings", [{"delete_policy": "keep"}, {"owner": "commercetools-credentials/renamed"}, {"adopt": True}]
)
def test_an_update_of_settings_only_writes_no_new_version(
    vault_env: OpenBaoServer, path: str, settings: dict[str, Any]
) -> None:
    """Only a changed value is written: a new KV version for a changed setting would look like a rotation to
    every consumer watching the version. The update records the digest of the value, so the next diff is clean."""
    p = VaultKvSecretProvider()
    created = p.create(props(vault_env, path))
    news = props(vault_env, path, **settings)
    updated = p.update(created.id, created.outs, news).outs
    meta = VaultClient().read_secret_metadata(path)
    assert meta is not None and meta.current_version == 1 and updated["version"] == 1
    assert updated["digest"] == created.outs["digest"] == digest(created.outs["salt"], news["data"])
    assert p.diff(created.id, updated, news).changes is False


def test_a_path_another_tool_claims_is_refused_even_with_adopt(vault_env: OpenBaoServer, path: str) -> None:
    """A tool that records `managed-by` too claims the path: adopt takes over only a path nobody claims. The
    message names no stack (there is none of ours) and offers no adopt (it would not help)."""
    VaultClient().create_or_update_secret(path, {"owner": "terraform"}, cas=0)
    VaultClient().update_metadata(path, {"managed-by": "terraform", "writer": "tf"})
    for adopt in (False, True):
        with pytest.raises(VaultError) as err:
            VaultKvSecretProvider().create(props(vault_env, path, adopt=adopt))
        assert str(err.value) == (
            f"{VaultClient().where(path)} already exists and belongs to another tool, not to connector "
            "'patchworks' of commercetools-credentials/test; it is left untouched. Choose another "
            "connectors.patchworks.vault.path (store.path in your own program)"
        )
    got = VaultClient().read_secret_version(path)
    assert got is not None and got.data == {"owner": "terraform"} and got.custom_metadata["managed-by"] == "terraform"


def test_adopt_takes_over_a_path_nobody_claims_and_records_ownership(vault_env: OpenBaoServer, path: str) -> None:
    VaultClient().create_or_update_secret(path, {"pasted": "by hand"}, cas=0)
    created = VaultKvSecretProvider().create(props(vault_env, path, adopt=True))
    got = VaultClient().read_secret_version(path)
    assert got is not None and got.data["clientSecret"] == CANARY and got.version == 2
    assert got.custom_metadata == {
        "managed-by": "ctp-credentials",
        "pulumi-stack": "commercetools-credentials/test",
        "connector": "patchworks",
        "writer": created.id,
    }


def test_a_delete_leaves_a_value_whose_claim_is_no_longer_ours(vault_env: OpenBaoServer, path: str) -> None:
    """Our writer's ID without our `managed-by` (another tool rewrote the claim): not ours to delete."""
    p = VaultKvSecretProvider()
    created = p.create(props(vault_env, path))
    VaultClient().update_metadata(path, {"managed-by": "terraform", "writer": created.id})
    p.delete(created.id, created.outs)
    got = VaultClient().read_secret_version(path)
    assert got is not None and got.data["clientSecret"] == CANARY
