"""ApiClientProvider called directly against the emulator and OpenBao: managed create, rotation, retirement,
crash recovery by name, and rollback when a step fails. After every fault the store's secret still gets a
token and the set of clients is exactly the expected one or two."""

from __future__ import annotations

import json
import re
import time
import types
import uuid
from typing import Any

import boto3
import hvac
import pulumi
import pytest

from ctp_credentials.components.clients import admin as admin_api
from ctp_credentials.components.clients.commercetools import CommercetoolsClient
from ctp_credentials.components.clients.secretsmanager import SecretsManagerClient
from ctp_credentials.components.errors import CredentialsError
from ctp_credentials.components.providers import api_client
from ctp_credentials.components.providers.api_client import ApiClientProvider, client_name
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.moto import MotoServer
from ctp_credentials.testing.openbao import OpenBaoServer

pytestmark = pytest.mark.security("faults")
PK = "shop-eu"
ADMIN_SECRET = "admin-secret-value"


@pytest.fixture
def admin(emulator: CommercetoolsEmulator, vault_env: OpenBaoServer, monkeypatch: pytest.MonkeyPatch) -> str:
    made = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], name="admin", secret=ADMIN_SECRET)
    monkeypatch.setenv("CTP_ADMIN_CLIENT_ID", made.id)
    monkeypatch.setenv("CTP_ADMIN_CLIENT_SECRET", ADMIN_SECRET)
    return made.id


def props(emu: CommercetoolsEmulator, bao: OpenBaoServer, path: str, **kw: Any) -> dict[str, Any]:
    return in_store(emu, "vault", vault_store(bao, path), **kw)


def in_store(emu: CommercetoolsEmulator, kind: str, store: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {
        "connector": "patchworks",
        "owner": "commercetools-credentials/test",
        "project_key": PK,
        "region": "europe-west1.gcp",
        "auth_url": emu.url,
        "api_url": emu.url,
        "scopes": [f"view_orders:{PK}"],
        "grace_hours": 0,
        "store_kind": kind,
        "store": store,
        **kw,
    }


def vault_store(bao: OpenBaoServer, path: str) -> dict[str, Any]:
    return {
        "address": bao.url,
        "namespace": None,
        "mount": "secret",
        "path": path,
        "kv_version": 2,
        "delete_policy": "delete",
        "adopt": False,
    }


@pytest.fixture
def path() -> str:
    return f"managed/{uuid.uuid4().hex}"


def stored(bao: OpenBaoServer, path: str) -> dict[str, Any]:
    kv = hvac.Client(url=bao.url, token=bao.root_token).secrets.kv.v2
    return dict(kv.read_secret_version(path=path, raise_on_deleted_version=True)["data"]["data"])


def working(emu: CommercetoolsEmulator, bao: OpenBaoServer, path: str) -> str:
    """The store's secret obtains a token: the one property every fault must preserve."""
    return gets_token(emu, stored(bao, path))


def gets_token(emu: CommercetoolsEmulator, doc: dict[str, Any]) -> str:
    CommercetoolsClient(emu.url, emu.url).request_token(doc["clientId"], doc["clientSecret"], None)
    return str(doc["clientId"])


class Store:
    """The connector's store as a test sees it from outside: OpenBao (Vault) or moto (Secrets Manager)."""

    def __init__(
        self, kind: str, settings: dict[str, Any], bao: OpenBaoServer | None = None, moto: MotoServer | None = None
    ) -> None:
        self.kind, self.settings, self._bao, self._moto = kind, settings, bao, moto
        self.version_key = "version" if kind == "vault" else "version_id"  # in the store provider's state

    def props(self, emu: CommercetoolsEmulator, **kw: Any) -> dict[str, Any]:
        return in_store(emu, self.kind, self.settings, **kw)

    def stored(self) -> dict[str, Any]:
        if self._bao is not None:
            return stored(self._bao, self.settings["path"])
        found = SecretsManagerClient().get_secret_value(self.settings["name"])
        assert found is not None
        return dict(json.loads(found.value))

    def put(self, doc: dict[str, Any]) -> None:
        """A write from outside the provider (a crashed run's, say)."""
        if self._bao is not None:
            kv = hvac.Client(url=self._bao.url, token=self._bao.root_token).secrets.kv.v2
            kv.create_or_update_secret(path=self.settings["path"], secret=doc)
        else:
            sm = boto3.client("secretsmanager")  # moto, from aws_env
            sm.put_secret_value(SecretId=self.settings["name"], SecretString=json.dumps(doc))

    def fail_writes(self, monkeypatch: pytest.MonkeyPatch, *, landed: bool) -> None:
        """From now on a write fails: refused outright, or refused after the new value `landed` (a call after
        the data write: Vault's metadata call, Secrets Manager's removal of AWSPENDING once AWSCURRENT moved)."""
        if self._bao is not None:
            path, root = self.settings["path"], hvac.Client(url=self._bao.url, token=self._bao.root_token)
            data = '["create", "read", "update"]' if landed else '["read"]'
            root.sys.create_or_update_policy(
                f"set-{landed}",
                f'path "secret/data/{path}" {{ capabilities = {data} }}\n'
                f'path "secret/metadata/{path}" {{ capabilities = ["read"] }}',
            )
            token = root.auth.token.create(policies=[f"set-{landed}"], ttl="10m")["auth"]["client_token"]
            monkeypatch.setenv("VAULT_TOKEN", token)
            return
        assert self._moto is not None
        denied = {"status": 400, "code": "AccessDeniedException"}  # not retried
        if landed:
            self._moto.faults.add("UpdateSecretVersionStage", when=("MoveToVersionId",), times=1)  # served as is
            self._moto.faults.add("UpdateSecretVersionStage", **denied)
        else:
            self._moto.faults.add("PutSecretValue", **denied)

    def version(self) -> Any:
        """The store's current version: Vault's number, or the version ID AWSCURRENT is on."""
        if self._bao is not None:
            kv = hvac.Client(url=self._bao.url, token=self._bao.root_token).secrets.kv.v2
            return int(kv.read_secret_metadata(path=self.settings["path"])["data"]["current_version"])
        found = SecretsManagerClient().describe_secret(self.settings["name"])
        assert found is not None
        return found.current_version_id


@pytest.fixture(params=["vault", pytest.param("secretsManager", marks=pytest.mark.aws)])
def store(request: pytest.FixtureRequest, path: str) -> Store:
    """A managed client's store of either kind; Secrets Manager's region and endpoint as config records them."""
    if request.param == "vault":
        bao: OpenBaoServer = request.getfixturevalue("openbao")
        return Store("vault", vault_store(bao, path), bao)
    moto: MotoServer = request.getfixturevalue("aws_env")
    settings: dict[str, Any] = {
        "name": path,
        "region": "eu-central-1",
        "endpoint_url": moto.url,
        "kms_key_id": None,
        "description": None,
        "tags": {},
        "recovery_window_days": 7,
        "force_delete": True,
        "restore_if_deleted": False,
    }
    return Store("secretsManager", settings, moto=moto)


def managed_clients(emu: CommercetoolsEmulator) -> set[str]:
    return {c.id for c in emu.backend.clients(PK) if c.name != "admin"}


def test_create_makes_tests_and_stores_the_client_without_the_secret_in_state(
    emulator: CommercetoolsEmulator, store: Store, admin: str
) -> None:
    created = ApiClientProvider().create(store.props(emulator, delete_days_after_creation=30))
    outs = created.outs
    assert created.id == f"apiclient-patchworks-{outs['created_at']}"
    assert outs["generation"] == 1 and outs["client_name"].endswith("-patchworks-g1")
    assert gets_token(emulator, store.stored()) == outs["client_id"]
    assert outs["store_state"][store.version_key] == store.version()
    assert store.stored()["clientSecret"] not in repr(outs)
    assert outs["delete_at"] is not None
    assert managed_clients(emulator) == {outs["client_id"]}


def test_requested_rotation_replaces_the_client_and_retires_the_old_one(
    emulator: CommercetoolsEmulator, store: Store, admin: str
) -> None:
    p = ApiClientProvider()
    first = p.create(store.props(emulator)).outs
    news = store.props(emulator, rotation_request="r-1")
    assert p.diff("id", first, news).changes is True
    second = p.update("id", first, news).outs
    assert second["generation"] == 2 and second["client_id"] != first["client_id"]
    assert gets_token(emulator, store.stored()) == second["client_id"]
    assert second["store_state"][store.version_key] == store.version() != first["store_state"][store.version_key]
    assert managed_clients(emulator) == {second["client_id"]}  # grace 0: the old one is gone
    assert p.diff("id", second, news).changes is False  # the same request does not rotate twice


def test_grace_period_keeps_the_old_client_until_a_later_run(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = ApiClientProvider()
    news = props(emulator, openbao, path, grace_hours=1)
    first = p.create(news).outs
    second = p.update("id", first, {**news, "rotation_request": "r-1"}).outs
    assert managed_clients(emulator) == {first["client_id"], second["client_id"]}
    assert p.diff("id", second, {**news, "rotation_request": "r-1"}).changes is False
    later = api_client.now() + 2 * 3600
    monkeypatch.setattr(api_client, "now", lambda: later)
    assert p.diff("id", second, {**news, "rotation_request": "r-1"}).changes is True
    third = p.update("id", second, {**news, "rotation_request": "r-1"}).outs
    assert third["client_id"] == second["client_id"] and third["previous_client_id"] is None
    assert managed_clients(emulator) == {second["client_id"]}


def test_a_second_rotation_within_the_grace_period_retires_the_oldest_client(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = ApiClientProvider()
    news = props(emulator, openbao, path, grace_hours=1)
    g1 = p.create(news).outs
    g2 = p.update("id", g1, {**news, "rotation_request": "r-1"}).outs
    g3 = p.update("id", g2, {**news, "rotation_request": "r-2"}).outs  # e.g. after a leak, within the hour
    assert managed_clients(emulator) == {g2["client_id"], g3["client_id"]}  # never more than two
    assert g3["previous_client_id"] == g2["client_id"]
    later = api_client.now() + 2 * 3600
    monkeypatch.setattr(api_client, "now", lambda: later)
    p.update("id", g3, {**news, "rotation_request": "r-2"})
    assert managed_clients(emulator) == {g3["client_id"]}
    assert working(emulator, openbao, path) == g3["client_id"]


def test_rotation_falls_due_after_rotate_after_days(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = ApiClientProvider()
    news = props(emulator, openbao, path, rotate_after_days=30)
    first = p.create(news).outs
    assert p.diff("id", first, news).changes is False
    later = api_client.now() + 31 * 86400
    monkeypatch.setattr(api_client, "now", lambda: later)
    assert p.diff("id", first, news).changes is True
    assert p.update("id", first, news).outs["generation"] == 2


def test_crash_after_create_rolls_back_the_orphan(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str
) -> None:
    """A run died after creating g2 (its secret is lost with it): the rerun deletes it and makes g2 again."""
    p = ApiClientProvider()
    news = props(emulator, openbao, path)
    first = p.create(news).outs
    orphan = emulator.backend.add_client(
        PK, [f"view_orders:{PK}"], name=client_name(api_client.ApiClientProps.model_validate(news), 2)
    )
    second = p.update("id", first, {**news, "rotation_request": "r-1"}).outs
    assert second["client_id"] != orphan.id
    assert managed_clients(emulator) == {second["client_id"]}
    assert working(emulator, openbao, path) == second["client_id"]


@pytest.mark.parametrize("answered", [True, False], ids=["createdAt", "no-createdAt"])
def test_crash_after_set_finishes_without_a_second_client(
    emulator: CommercetoolsEmulator,
    openbao: OpenBaoServer,
    admin: str,
    path: str,
    answered: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run died after storing g2 but before Pulumi saved its state: the rerun adopts g2, with the time
    commercetools recorded, or the clock's when the answer has none (createdAt is optional in the reference)."""
    p = ApiClientProvider()
    news = props(emulator, openbao, path)
    first = p.create(news).outs
    name = client_name(api_client.ApiClientProps.model_validate(news), 2)
    g2 = emulator.backend.add_client(PK, [f"view_orders:{PK}"], name=name, secret="g2-secret")
    doc = {**stored(openbao, path), "clientId": g2.id, "clientSecret": "g2-secret"}
    hvac.Client(url=openbao.url, token=openbao.root_token).secrets.kv.v2.create_or_update_secret(path=path, secret=doc)
    if not answered:
        emulator.faults.add("api_clients", method="GET", omit=("createdAt",))
        monkeypatch.setattr(api_client, "now", lambda: 1767225600.0)  # 2026-01-01T00:00:00Z
    second = p.update("id", first, {**news, "rotation_request": "r-1"}).outs
    created_at = g2.to_json()["createdAt"] if answered else "2026-01-01T00:00:00Z"
    assert second["client_id"] == g2.id and second["created_at"] == created_at
    assert managed_clients(emulator) == {g2.id}
    assert working(emulator, openbao, path) == g2.id


@pytest.mark.parametrize("step", ["create", "test"])
def test_a_failed_step_rolls_back_and_the_old_secret_keeps_working(
    emulator: CommercetoolsEmulator,
    openbao: OpenBaoServer,
    admin: str,
    path: str,
    step: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = ApiClientProvider()
    news = {**props(emulator, openbao, path), "rotation_request": "r-1"}
    first = p.create(props(emulator, openbao, path)).outs
    if step == "create":
        emulator.faults.add("api_clients", status=500, times=10)
    else:  # the new client never gets a token (propagation that does not end)
        monkeypatch.setattr(admin_api, "TEST_ATTEMPTS", 2)
        emulator.backend.advance_clock(7200)  # the admin and the current client are old: only new ones wait
        emulator.backend.new_client_token_delay = 3600
    with pytest.raises(CredentialsError, match=f"rotation step {step} failed") as err:
        p.update("id", first, news)
    assert "still holds the previous client" in str(err.value)
    cause = {  # what commercetools answered, in the message
        "create": "query API clients: HTTP 500 General: Internal Server Error (gave up after 4 attempts). ",
        "test": "token request: HTTP 401 invalid_client: ",
    }[step]
    assert f"rotation step {step} failed: {cause}" in str(err.value), str(err.value)
    assert managed_clients(emulator) == {first["client_id"]}
    assert working(emulator, openbao, path) == first["client_id"]
    emulator.faults.clear()
    emulator.backend.new_client_token_delay = 0
    assert p.update("id", first, news).outs["generation"] == 2  # the rerun converges
    assert len(managed_clients(emulator)) == 1


def test_store_down_during_set_rolls_back(
    emulator: CommercetoolsEmulator, admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OpenBaoServer() as bao:
        monkeypatch.setenv("VAULT_ADDR", bao.url)
        monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
        news, where = props(emulator, bao, "managed/down"), f"Vault {bao.url} secret/managed/down"
        p = ApiClientProvider()
        first = p.create(news).outs
        bao.stop()
        with pytest.raises(CredentialsError, match=r"rotation step set failed") as err:
            p.update("id", first, {**news, "rotation_request": "r-1"})
    # A store that does not answer might have taken the write: the new client is kept, not deleted (a rerun
    # deletes it if the store turns out not to hold it: test_crash_after_create_rolls_back_the_orphan).
    (kept,) = managed_clients(emulator) - {first["client_id"]}
    assert str(err.value) == (
        f"connector 'patchworks': rotation step set failed: cannot read metadata of {where}: cannot connect. Check "
        f"VAULT_ADDR and that the server is running. The write may have reached the store, so the new client {kept} "
        "is kept (it passed its test); the "
        f"previous client {first['client_id']} works too. Fix the cause and rerun `pulumi up`"
    )


def test_a_write_that_landed_before_the_set_step_failed_is_kept_and_finished(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data write lands, the metadata call after it is refused (a real Vault policy): the store now holds
    the new client, so rolling it back would leave the store with a deleted client."""
    p = ApiClientProvider()
    news = props(emulator, openbao, path)
    first = p.create(news).outs
    root = hvac.Client(url=openbao.url, token=openbao.root_token)
    root.sys.create_or_update_policy(
        "data-only",
        f'path "secret/data/{path}" {{ capabilities = ["create", "read", "update"] }}\n'
        f'path "secret/metadata/{path}" {{ capabilities = ["read"] }}',
    )
    monkeypatch.setenv("VAULT_TOKEN", root.auth.token.create(policies=["data-only"], ttl="10m")["auth"]["client_token"])
    request = {**news, "rotation_request": "r-1"}
    with pytest.raises(CredentialsError, match="rotation step set failed") as err:
        p.update("id", first, request)
    new = working(emulator, openbao, path)
    assert new != first["client_id"] and f"the new client {new} is kept" in str(err.value)
    assert managed_clients(emulator) == {first["client_id"], new}

    monkeypatch.setenv("VAULT_TOKEN", openbao.root_token)
    second = p.update("id", first, request).outs  # the rerun: Pulumi still has the state from before
    assert second["client_id"] == new and working(emulator, openbao, path) == new
    assert managed_clients(emulator) == {new}  # grace 0: the previous client retired
    assert p.diff("id", second, request).changes is False
    third = p.update("id", second, {**news, "rotation_request": "r-2"}).outs  # check-and-set matches the store
    assert working(emulator, openbao, path) == third["client_id"] != new


def test_a_manage_project_admin_fails_check_not_the_first_create(
    emulator: CommercetoolsEmulator, vault_env: OpenBaoServer, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """manage_project does not grant the API Clients API: say so at preview, not with a 403 in `up`."""
    made = emulator.backend.add_client(PK, [f"manage_project:{PK}"], name="admin", secret=ADMIN_SECRET)
    monkeypatch.setenv("CTP_ADMIN_CLIENT_ID", made.id)
    monkeypatch.setenv("CTP_ADMIN_CLIENT_SECRET", ADMIN_SECRET)
    (failure,) = ApiClientProvider().check({}, props(emulator, vault_env, path)).failures
    assert f"no manage_api_clients:{PK} (manage_project does not grant the API Clients API)" in failure.reason
    assert ADMIN_SECRET not in failure.reason and emulator.count("api_clients") == 0


def test_missing_admin_credentials_fail_check_with_the_fix(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, path: str
) -> None:
    result = ApiClientProvider().check({}, props(emulator, openbao, path))
    (failure,) = result.failures
    assert "CTP_ADMIN_CLIENT_ID" in failure.reason and f"manage_api_clients:{PK}" in failure.reason


def test_refresh_finds_a_deleted_client_and_update_replaces_it(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str
) -> None:
    p = ApiClientProvider()
    news = props(emulator, openbao, path)
    first = p.create(news).outs
    emulator.backend.delete_api_client(PK, first["client_id"])
    refreshed = p.read("id", first).outs
    assert refreshed["client_missing"] is True
    assert p.diff("id", refreshed, news).changes is True
    second = p.update("id", refreshed, news).outs
    assert working(emulator, openbao, path) == second["client_id"]


def test_delete_removes_clients_and_the_stored_value(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str
) -> None:
    p = ApiClientProvider()
    first = p.create(props(emulator, openbao, path)).outs
    p.delete("id", first)
    assert managed_clients(emulator) == set()
    with pytest.raises(hvac.exceptions.InvalidPath):
        stored(openbao, path)


def test_an_address_spelled_another_way_is_not_a_new_store(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str
) -> None:
    """Older state recorded VAULT_ADDR as typed (a trailing '/'); replacing the client for it would retire the
    one in use at once."""
    p = ApiClientProvider()
    news = props(emulator, openbao, path)
    first = p.create(news).outs
    assert first is not None
    respelled = {
        **first,
        "store": {**first["store"], "address": openbao.url.upper().replace("HTTP://", "http://") + "/"},
    }
    assert p.diff("id", respelled, news).replaces == []
    moved = {**first, "store": {**first["store"], "path": path + "-b"}}
    assert p.diff("id", moved, news).replaces == ["store"]


def test_check_passes_the_inputs_through_and_names_what_is_wrong(
    emulator: CommercetoolsEmulator, vault_env: OpenBaoServer, admin: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = ApiClientProvider()
    news = props(emulator, vault_env, path)
    assert (p.check({}, news).inputs, p.check({}, news).failures) == (news, [])
    unknown = {**news, "scopes": pulumi.output.Unknown()}
    assert (p.check({}, unknown).inputs, p.check({}, unknown).failures) == (unknown, [])  # judged at up
    invalid = {k: v for k, v in news.items() if k != "project_key"}
    result = p.check({}, invalid)
    assert result.inputs == invalid and [(f.property, f.reason) for f in result.failures] == [
        ("", "project_key: Field required")
    ]
    monkeypatch.setenv("CTP_ADMIN_CLIENT_SECRET", "not-the-admin-secret")
    refused = p.check({}, news)
    assert refused.inputs == news and [f.property for f in refused.failures] == [""]
    assert (
        "CTP_ADMIN_CLIENT_ID" in refused.failures[0].reason and "not-the-admin-secret" not in refused.failures[0].reason
    )


def test_diff_what_replaces_the_client_and_what_updates_it(
    emulator: CommercetoolsEmulator, vault_env: OpenBaoServer, admin: str, path: str
) -> None:
    p = ApiClientProvider()
    news = props(emulator, vault_env, path, rotate_after_days=30)
    created = p.create(news)
    olds = created.outs

    def diff(**changes: Any) -> Any:
        return p.diff(created.id, olds, {**news, **changes})

    same = diff()
    assert (same.changes, same.replaces, same.delete_before_replace) == (False, [], False)
    other_project = diff(project_key="other-shop", scopes=["view_orders:other-shop"])
    assert other_project.replaces == ["project_key"] and other_project.delete_before_replace is False
    assert diff(rotate_after_days=7).changes is True and diff(rotate_after_days=7).replaces == []
    assert diff(grace_hours=2).changes is True
    unknown = diff(scopes=pulumi.output.Unknown())
    assert (unknown.changes, unknown.replaces) == (True, [])


def test_the_store_digest_is_sealed_out_of_plain_state_and_back() -> None:
    state = {"client_id": "a", "store_state": {"version": 2, "digest": "d"}}
    sealed = api_client._sealed(state)
    assert sealed == {"client_id": "a", "store_state": {"version": 2}, "store_digest": "d"}
    assert api_client._unsealed(sealed) == {**state, "store_digest": "d"}
    assert api_client._sealed(sealed) == sealed  # sealing twice keeps the digest: it is not lost from state
    for older in (  # state written before store_digest existed, or without a store value: as it is
        {"client_id": "a", "store_state": {"version": 1}, "store_digest": None},
        {"client_id": "a", "store_state": None, "store_digest": "d"},
        {"client_id": "a"},
    ):
        assert api_client._unsealed(older) == older and api_client._unsealed(older) is not older


def test_an_endpoint_spelled_another_way_is_not_a_new_store() -> None:
    old, new = {"endpoint_url": "https://VPCE.example.com/"}, {"endpoint_url": "https://vpce.example.com"}
    assert not api_client._moved("endpoint_url", old, new)
    assert api_client._moved("endpoint_url", old, {"endpoint_url": "https://other.example.com"})
    assert api_client._moved("name", {"name": "a/"}, {"name": "a"})  # names are not URLs: any change moves


def test_refresh_keeps_a_present_client_and_reads_the_store_again(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str
) -> None:
    p = ApiClientProvider()
    first = p.create(props(emulator, openbao, path)).outs
    assert first is not None
    kv = hvac.Client(url=openbao.url, token=openbao.root_token).secrets.kv.v2
    kv.create_or_update_secret(path=path, secret={**stored(openbao, path), "extra": "x"})  # changed out of band
    refreshed = p.read("apiclient-1", first)
    assert refreshed.id == "apiclient-1" and refreshed.outs["client_missing"] is False
    assert refreshed.outs["store_state"]["version"] == first["store_state"]["version"] + 1
    assert refreshed.outs["store_state"].keys() == first["store_state"].keys()  # no key of refresh's own
    assert refreshed.outs["store_digest"] != first["store_digest"]  # the drift shows (sealed, as before)
    without = p.read("apiclient-1", {**first, "store_state": None, "store_digest": None})
    assert without.outs["store_state"] is None and without.outs["client_missing"] is False
    kv.delete_metadata_and_all_versions(path=path)  # the value deleted out of band: its digest goes with it
    gone = p.read("apiclient-1", refreshed.outs).outs
    assert gone is not None and (gone["store_state"], gone["store_digest"], gone.keys()) == (None, None, first.keys())


def test_delete_within_the_grace_period_removes_both_clients(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str
) -> None:
    p = ApiClientProvider()
    news = props(emulator, openbao, path, grace_hours=1)
    first = p.create(news).outs
    second = p.update("id", first, {**news, "rotation_request": "r-1"}).outs
    assert second["previous_client_id"] == first["client_id"]
    p.delete("id", second)
    assert managed_clients(emulator) == set()


def test_the_old_client_is_due_at_the_end_of_its_grace_not_after(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = ApiClientProvider()
    news = props(emulator, openbao, path, grace_hours=1)
    second = p.update("id", p.create(news).outs, {**news, "rotation_request": "r-1"}).outs
    monkeypatch.setattr(api_client, "now", lambda: float(second["retire_after_ts"]))
    assert p.diff("id", second, {**news, "rotation_request": "r-1"}).changes is True


def test_a_retirement_commercetools_refuses_says_what_to_do_and_a_rerun_finishes_it(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = ApiClientProvider()
    news = props(emulator, openbao, path, grace_hours=1)
    first = p.create(news).outs
    request = {**news, "rotation_request": "r-1"}
    second = p.update("id", first, request).outs
    later = float(second["retire_after_ts"]) + 1
    monkeypatch.setattr(api_client, "now", lambda: later)
    emulator.faults.add("api_clients", status=409, times=1)  # not retried: the delete is refused once
    with pytest.raises(CredentialsError) as err:
        p.update("id", second, request)
    assert str(err.value).startswith(
        f"connector 'patchworks': step finish failed: could not delete the previous client {first['client_id']} "
        "(delete API client: HTTP 409 "
    )
    assert str(err.value).endswith("). The new client is in use; rerun `pulumi up` to retire the old one")
    third = p.update("id", second, request).outs
    assert (third["previous_client_id"], third["retire_after_ts"]) == (None, None)
    assert managed_clients(emulator) == {second["client_id"]}


def test_a_failure_says_what_was_rolled_back_and_what_still_works(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = ApiClientProvider()
    news = props(emulator, openbao, path)
    emulator.faults.add("api_clients", status=400, times=1)  # the first create: nothing exists yet
    with pytest.raises(CredentialsError) as nothing:
        p.create(news)
    assert re.fullmatch(
        r"connector 'patchworks': rotation step create failed: query API clients: HTTP 400 .+\. Nothing was stored\. "
        r"Fix the cause and rerun `pulumi up`",
        str(nothing.value),
    ), str(nothing.value)
    first = p.create(news).outs
    emulator.faults.add("api_clients", status=400, times=1)
    with pytest.raises(CredentialsError) as kept_old:
        p.update("id", first, {**news, "rotation_request": "r-1"})
    assert re.fullmatch(
        r"connector 'patchworks': rotation step create failed: .+\. The store still holds the previous client "
        rf"{first['client_id']}, which keeps working\. Fix the cause and rerun `pulumi up`",
        str(kept_old.value),
    ), str(kept_old.value)
    monkeypatch.setattr(admin_api, "TEST_ATTEMPTS", 1)
    emulator.backend.advance_clock(7200)  # the admin and the current client are old: only new ones wait
    emulator.backend.new_client_token_delay = 3600
    with pytest.raises(CredentialsError) as rolled:
        p.update("id", first, {**news, "rotation_request": "r-1"})
    match = re.fullmatch(
        r"connector 'patchworks': rotation step test failed: .+\. Rolled back: deleted the new client (\S+)\. "
        rf"The store still holds the previous client {first['client_id']}, which keeps working\. "
        r"Fix the cause and rerun `pulumi up`",
        str(rolled.value),
    )
    assert match and match.group(1) not in managed_clients(emulator), str(rolled.value)


@pytest.mark.parametrize("landed", [False, True], ids=["refused", "landed"])
def test_a_failed_set_reads_the_store_under_the_connectors_key_names(
    emulator: CommercetoolsEmulator, store: Store, admin: str, landed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the write reached the store decides between keeping the new client and rolling it back; the
    store is read under the connector's own key names (secretKeys)."""
    p = ApiClientProvider()
    news = store.props(emulator, secret_keys={"clientId": "id", "clientSecret": "key"})
    first = p.create(news).outs
    assert store.stored()["id"] == first["client_id"]
    store.fail_writes(monkeypatch, landed=landed)
    with pytest.raises(CredentialsError, match="rotation step set failed") as err:
        p.update("id", first, {**news, "rotation_request": "r-1"})
    held = store.stored()["id"]
    if landed:
        assert held != first["client_id"] and f"the new client {held} is kept" in str(err.value)
        assert managed_clients(emulator) == {first["client_id"], held}
    else:
        assert held == first["client_id"] and "Rolled back: deleted the new client" in str(err.value)
        assert managed_clients(emulator) == {first["client_id"]}


def test_a_first_create_whose_store_is_down_keeps_the_client_it_may_have_stored(
    emulator: CommercetoolsEmulator, admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OpenBaoServer() as bao:
        monkeypatch.setenv("VAULT_ADDR", bao.url)
        monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
        news = props(emulator, bao, "managed/first-down")
        bao.stop()
        with pytest.raises(CredentialsError) as err:
            ApiClientProvider().create(news)
    (kept,) = managed_clients(emulator)
    assert str(err.value).endswith(
        f"The write may have reached the store, so the new client {kept} is kept (it passed its test). Fix the "
        "cause and rerun `pulumi up`"
    )


def test_the_stored_document_carries_what_a_consumer_needs_under_its_key_names(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str
) -> None:
    scopes = [f"view_products:{PK}", f"view_orders:{PK}"]
    keys = {"clientId": "id", "projectKey": "project"}
    outs = ApiClientProvider().create(props(emulator, openbao, path, scopes=scopes, secret_keys=keys)).outs
    doc = stored(openbao, path)
    secret = doc.pop("clientSecret")
    assert doc == {
        "id": outs["client_id"],
        "project": PK,
        "region": "europe-west1.gcp",
        "scopes": f"view_orders:{PK} view_products:{PK}",
        "authUrl": emulator.url,
        "apiUrl": emulator.url,
    }
    CommercetoolsClient(emulator.url, emulator.url).request_token(outs["client_id"], secret, scopes)


def test_names_and_times_are_stable_and_in_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    p = api_client.ApiClientProps.model_validate({**props_offline(), "owner": "Org/prod.EU", "connector": "erp sync"})
    assert client_name(p, 3) == "Org-prod-EU-erp-sync-g3"
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # a local time zone must not leak into recorded times
    time.tzset()
    try:
        assert api_client.iso(1767225600.0) == "2026-01-01T00:00:00Z"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def props_offline() -> dict[str, Any]:
    """Props that validate without any server (names only)."""
    return {
        "connector": "patchworks",
        "owner": "commercetools-credentials/test",
        "project_key": PK,
        "region": "europe-west1.gcp",
        "auth_url": "https://auth.europe-west1.gcp.commercetools.com",
        "api_url": "https://api.europe-west1.gcp.commercetools.com",
        "scopes": [f"view_orders:{PK}"],
        "store_kind": "vault",
        "store": {"address": "https://vault.example.com", "mount": "secret", "path": "p", "kv_version": 2},
    }


def test_a_rotation_is_due_on_its_day_not_after(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = ApiClientProvider()
    news = props(emulator, openbao, path, rotate_after_days=30)
    first = p.create(news).outs
    assert p.diff("id", first, news).changes is False
    monkeypatch.setattr(api_client, "now", lambda: float(first["created_ts"]) + 30 * 86400)
    assert p.diff("id", first, news).changes is True


def test_admin_credentials_from_vault_on_their_own_mount(
    emulator: CommercetoolsEmulator,
    openbao: OpenBaoServer,
    vault_env: OpenBaoServer,
    path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The admin's Vault is the one the connector names (vault.address), whatever VAULT_ADDR says."""
    monkeypatch.setenv("VAULT_ADDR", "http://127.0.0.1:9")  # nothing listens there
    root = hvac.Client(url=openbao.url, token=openbao.root_token)
    mount = f"admin-{uuid.uuid4().hex[:8]}"
    root.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
    made = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], name="admin", secret=ADMIN_SECRET)
    source = {"vault_path": "ctp/admin", "vault_mount": mount, "vault_address": openbao.url}
    news = props(emulator, openbao, path, admin=source)
    where = f"Vault {openbao.url} {mount}/ctp/admin (keys clientId, clientSecret)"
    with pytest.raises(CredentialsError) as missing:
        ApiClientProvider().create(news)
    assert str(missing.value) == (
        f"connector 'patchworks': no admin credentials for project {PK}: set {where} to an API client holding "
        f"manage_api_clients:{PK} (made once by hand in the Merchant Center)"
    )
    root.secrets.kv.v2.create_or_update_secret(path="ctp/admin", secret={"clientId": made.id}, mount_point=mount)
    with pytest.raises(CredentialsError, match="no admin credentials"):  # half a pair is none
        ApiClientProvider().create(news)
    pair = {"clientId": made.id, "clientSecret": ADMIN_SECRET}
    root.secrets.kv.v2.create_or_update_secret(path="ctp/admin", secret=pair, mount_point=mount)
    outs = ApiClientProvider().create(news).outs
    assert working(emulator, openbao, path) == outs["client_id"]


def test_tokens_are_asked_for_no_more_than_each_step_needs(
    emulator: CommercetoolsEmulator,
    openbao: OpenBaoServer,
    vault_env: OpenBaoServer,
    path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Least privilege on the wire: the admin token carries manage_api_clients only, though the admin client
    holds more; the new client's test token carries the connector's scopes; one admin token per operation."""
    wide = [f"manage_api_clients:{PK}", f"manage_orders:{PK}"]
    made = emulator.backend.add_client(PK, wide, name="admin", secret=ADMIN_SECRET)
    monkeypatch.setenv("CTP_ADMIN_CLIENT_ID", made.id)
    monkeypatch.setenv("CTP_ADMIN_CLIENT_SECRET", ADMIN_SECRET)
    p = ApiClientProvider()
    news = props(emulator, openbao, path, scopes=[f"view_orders:{PK}"])
    first = p.create(news).outs
    before = emulator.count("token")
    second = p.update("id", first, {**news, "rotation_request": "r-1"}).outs  # grace 0: retires in the same call
    assert emulator.count("token") - before == 2  # the admin's, and the new client's test
    tokens = {t.client_id: t.scopes for t in emulator.backend.tokens()}
    assert set(tokens[made.id]) == {f"manage_api_clients:{PK}", f"view_api_clients:{PK}"}
    assert set(tokens[second["client_id"]]) == {f"view_orders:{PK}"}


def test_the_new_clients_test_asks_for_its_scopes_and_reads_the_connectors_token_key(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str
) -> None:
    """Only a token request asking for the connector's scopes is answered under its tokenKey: the admin's, asking
    for manage_api_clients, gets commercetools' access_token (the granted scopes cannot tell what was asked)."""
    emulator.faults.add("token", scope=f"view_orders:{PK}", token_key="token", times=1)
    outs = ApiClientProvider().create(props(emulator, openbao, path, token_key="token")).outs
    assert emulator.faults.active() == [] and working(emulator, openbao, path) == outs["client_id"]


def test_a_new_client_is_tested_with_backoff_until_commercetools_accepts_it(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait between attempts passes on the emulator's clock: the client works from the fifth attempt."""
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        emulator.backend.advance_clock(seconds)

    monkeypatch.setattr(admin_api, "time", types.SimpleNamespace(sleep=sleep, time=time.time))
    emulator.backend.advance_clock(7200)  # the admin client is old: only new clients wait
    emulator.backend.new_client_token_delay = 0.25 + 0.5 + 1.0 + 2.0
    outs = ApiClientProvider().create(props(emulator, openbao, path)).outs
    assert slept == [0.25, 0.5, 1.0, 2.0] and working(emulator, openbao, path) == outs["client_id"]


def test_a_create_records_what_commercetools_and_the_clock_say(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_client, "now", lambda: 1767225600.0)  # 2026-01-01T00:00:00Z
    news = props(emulator, openbao, path, grace_hours=2, delete_days_after_creation=30)
    outs = ApiClientProvider().create({**news, "access_token_validity_seconds": 7200}).outs
    (record,) = [c for c in emulator.backend.clients(PK) if c.id == outs["client_id"]]
    assert outs["created_at"] == record.to_json()["createdAt"]  # commercetools' own time, not ours
    assert record.access_token_validity_seconds == 7200 and record.delete_at is not None
    assert (outs["created_ts"], outs["retire_after_ts"]) == (1767225600.0, 1767225600.0 + 2 * 3600)
    assert outs["delete_at"] == "2026-01-31T00:00:00Z"
    assert (outs["client_missing"], outs["last_rotation_request"], outs["previous_client_id"]) == (False, "", None)
    plain = ApiClientProvider().create(props(emulator, openbao, path + "-b")).outs
    assert plain["delete_at"] is None and "deleteDaysAfterCreation" not in str(emulator.requests)
    # The API reference marks ApiClient.createdAt optional: without it, the clock's time is recorded.
    emulator.faults.add("api_clients", method="POST", omit=("createdAt",), times=1)
    bare = ApiClientProvider().create(props(emulator, openbao, path + "-c"))
    assert (bare.id, bare.outs["created_at"]) == ("apiclient-patchworks-2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z")


def test_a_rotation_keeps_the_last_request_and_forgets_a_deleted_client(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = ApiClientProvider()
    news = props(emulator, openbao, path, rotate_after_days=30, grace_hours=1)
    second = p.update("id", p.create(news).outs, {**news, "rotation_request": "r-1"}).outs
    later = float(second["created_ts"]) + 31 * 86400
    monkeypatch.setattr(api_client, "now", lambda: later)
    third = p.update("id", second, news).outs  # due by age, the request since taken out of config
    assert third["generation"] == 3 and third["last_rotation_request"] == "r-1"  # so r-1 cannot rotate again
    assert p.diff("id", third, {**news, "rotation_request": "r-1"}).changes is False
    emulator.backend.delete_api_client(PK, third["client_id"])
    fourth = p.update("id", p.read("id", third).outs, news).outs
    # Nothing to retire at the end of the grace period: the client was deleted outside Pulumi.
    assert (fourth["generation"], fourth["previous_client_id"]) == (4, None)


def test_a_create_that_commercetools_refuses_says_so_and_what_still_works(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str
) -> None:
    p = ApiClientProvider()
    news = props(emulator, openbao, path)
    first = p.create(news).outs
    emulator.faults.add("api_clients", status=400, method="POST", times=1)  # the query before it passes
    with pytest.raises(CredentialsError) as err:
        p.update("id", first, {**news, "rotation_request": "r-1"})
    assert str(err.value) == (
        "connector 'patchworks': rotation step create failed: create API client: HTTP 400 InvalidInput: Bad "
        f"Request. The store still holds the previous client {first['client_id']}, which keeps working. Fix the "
        "cause and rerun `pulumi up`"
    )


def test_the_old_client_retires_in_the_update_at_the_end_of_its_grace(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, admin: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = ApiClientProvider()
    news = {**props(emulator, openbao, path, grace_hours=1), "rotation_request": "r-1"}
    first = p.create(props(emulator, openbao, path, grace_hours=1)).outs
    second = p.update("id", first, news).outs
    monkeypatch.setattr(api_client, "now", lambda: float(second["retire_after_ts"]))
    before = emulator.count("token")
    third = p.update("id", second, news).outs
    assert third["previous_client_id"] is None and managed_clients(emulator) == {second["client_id"]}
    assert emulator.count("token") - before == 1  # one admin token for the retirement


@pytest.mark.parametrize("first_create", [False, True], ids=["rotation", "first-create"])
def test_a_crashed_run_whose_write_landed_is_finished_with_the_stores_version(
    emulator: CommercetoolsEmulator, store: Store, admin: str, first_create: bool
) -> None:
    """The run died after the store took the new client, before Pulumi saved state: the rerun adopts that
    client (found by name, held by the store under the connector's own key names) and the store's version."""
    p = ApiClientProvider()
    news = store.props(emulator, secret_keys={"clientId": "id", "clientSecret": "key"})
    if first_create:  # the crashed run is a whole create whose state was never saved
        made = p.create(news).outs["client_id"]
        before = store.version()
        outs = p.create(news).outs
        # Taking the value over: Vault's create writes it once more; Secrets Manager keeps an equal value as is.
        assert (store.version() == before + 1) if store.kind == "vault" else (store.version() == before)
    else:
        first = p.create(news).outs
        name = client_name(api_client.ApiClientProps.model_validate(news), 2)
        made = emulator.backend.add_client(PK, [f"view_orders:{PK}"], name=name, secret="landed-secret").id
        store.put({**store.stored(), "id": made, "key": "landed-secret"})
        before = store.version()
        outs = p.update("id", first, {**news, "rotation_request": "r-1"}).outs
        assert store.version() == before  # no write of its own
    assert outs["client_id"] == made and outs["store_state"][store.version_key] == store.version()
    assert store.stored()["id"] == made and managed_clients(emulator) == {made}
