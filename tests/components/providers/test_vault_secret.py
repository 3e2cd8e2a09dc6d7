"""VaultKvSecretProvider called directly against OpenBao: ownership, CAS, no-op, drift, replacement."""

from __future__ import annotations

import uuid
from typing import Any

import pulumi
import pytest

from components.errors import VaultError
from components.providers.vault_secret import VaultKvSecretProvider
from components.vault import VaultClient
from tests.conftest import CANARY
from testservers.openbao import OpenBaoServer


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
