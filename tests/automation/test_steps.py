"""The steps of a rotation, without an engine: against the commercetools emulator and a real OpenBao, with plain
data where `Rotation` would pass the stack's config and outputs (the engine-driven sequence around them is tested
end to end in tests/e2e/test_rotation.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ctp_credentials.automation import steps
from ctp_credentials.automation.steps import ConnectorRotation, connector_config, verify_stored
from ctp_credentials.automation.workspace import StackError
from ctp_credentials.components.clients import admin as admin_api
from ctp_credentials.components.clients.commercetools import CommercetoolsClient, RetryPolicy, Token
from ctp_credentials.components.clients.vault import VaultClient
from ctp_credentials.components.config import ConnectorConfig
from ctp_credentials.components.errors import (
    CommercetoolsError,
    CredentialsError,
    InvalidScopeError,
)
from ctp_credentials.components.location import SecretLocation
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY

from . import events as ev

PK = "shop-eu"
BASE = {"projectKey": PK, "scopes": [f"view_orders:{PK}"], "clientId": "abc"}


def test_a_setting_the_model_refuses_is_named_with_its_key() -> None:
    assert connector_config("p", {**BASE, "region": "mars-1"}) == (
        "connectors.p.region: 'mars-1' is not a commercetools region; use one of europe-west1.gcp, eu-central-1.aws, "
        "us-central1.gcp, us-east-2.aws, australia-southeast1.gcp"
    )
    whole = connector_config("p", {**BASE, "managed": {"deleteDaysAfterCreation": 30}})
    assert isinstance(whole, str) and whole.startswith("connectors.p.")
    assert "Value error" not in whole
    # a nested setting is named by its dotted path; a rule of the whole connector by the connector alone
    assert (
        connector_config("p", {**BASE, "vault": {"kvVersion": 3}})
        == "connectors.p.vault.kvVersion: Input should be 1 or 2"
    )
    assert connector_config("p", {**BASE, "authUrl": "https://auth.europe-west1.gcp.commercetools.com"}) == (
        "connectors.p: set both authUrl and apiUrl, or neither (the region then decides both)"
    )


def test_publishing_is_left_to_the_program_and_a_provided_connector_needs_no_secret_here() -> None:
    # webhooks need webhookSigningKey-p, a secret rotation never reads: publish is not validated here
    publish = {"file": {"path": "out.json"}, "webhooks": [{"url": "https://hooks.example.com/a"}]}
    c = connector_config("p", {**BASE, "publish": publish})
    assert isinstance(c, ConnectorConfig) and c.client_secret is not None
    assert c.publish.webhooks == () and c.publish.file is None
    assert c.client_secret.get_secret_value() == "not-read-here"  # never sent: rotation reads the real one
    managed = connector_config("m", {"projectKey": PK, "scopes": [f"view_orders:{PK}"], "managed": {}})
    assert isinstance(managed, ConnectorConfig) and managed.client_secret is None


def test_the_stored_document_is_read_under_the_connectors_key_names(
    vault_env: OpenBaoServer, emulator: CommercetoolsEmulator
) -> None:
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    path = f"rotate/{uuid.uuid4().hex}"
    VaultClient().create_or_update_secret(path, {"id": client.id, "secret": CANARY}, cas=0)
    document = {
        "name": "p",
        "authUrl": emulator.url,
        "apiUrl": emulator.url,
        "scope": f"view_orders:{PK}",
        "tokenKey": "access_token",
        "secretKeys": {"clientId": "id", "clientSecret": "secret"},
    }
    location = SecretLocation("vault", address=vault_env.url, path=path)
    assert verify_stored(document, location) == client.id
    with pytest.raises(CommercetoolsError, match="without a 'token' field"):  # the connector's token key is used
        verify_stored({**document, "tokenKey": "token"}, location)


# --- which connectors -------------------------------------------------------------------------------------------
def test_the_connectors_map_is_read_from_json_or_a_mapping_and_its_absence_is_named() -> None:
    assert steps.connectors({"connectors": '{"a": {"projectKey": "p"}}'}, "prod") == {"a": {"projectKey": "p"}}
    assert steps.connectors({"connectors": {"a": {}}}, "prod") == {"a": {}}
    for config in ({}, {"connectors": "[1]"}, {"connectors": None}):
        with pytest.raises(StackError) as err:
            steps.connectors(config, "prod")
        assert str(err.value) == "stack 'prod' has no connectors config"


def test_selection_splits_managed_from_provided_and_refuses_unknown_names() -> None:
    modes = {"b": "managed", "a": "provided", "c": "provided", "d": "managed"}
    assert steps.select(modes, None, "prod") == (["b", "d"], ["a", "c"])  # all, sorted
    assert steps.select(modes, ["d", "a"], "prod") == (["d"], ["a"])  # the wanted ones, in the order asked
    with pytest.raises(StackError) as err:
        steps.select(modes, ["zz", "a", "yy"], "prod")
    assert str(err.value) == "no connector yy, zz in stack 'prod'; it has a, b, c, d"
    with pytest.raises(StackError, match=r"it has none \(run `pulumi up` first"):
        steps.select({}, ["a"], "new")


def test_another_programs_stack_has_no_connectors_config_and_that_is_not_an_error_when_optional() -> None:
    assert steps.connectors({"other:key": "x"}, "prod", required=False) == {}
    with pytest.raises(StackError):
        steps.connectors({"connectors": "[1]"}, "prod", required=False)  # there, but not a map: still named


# --- managed --------------------------------------------------------------------------------------------------
def test_a_rotation_request_is_unique_to_the_microsecond_and_names_the_connectors() -> None:
    now = datetime(2026, 12, 2, 5, 6, 7, 89, tzinfo=UTC)
    assert steps.rotation_request(["a", "b"], now) == "rot-20261202T050607000089Z:a,b"


def test_a_dry_run_reads_the_planned_operation_of_each_managed_client() -> None:
    # named by its `connector` input, not by the resource's name (another program may call it anything)
    client = f"{ev.PREFIX}{ev.COMPONENT}${ev.CLIENT}::anything"
    mine = {"connector": "patchworks"}
    update = ev.step("update", client, ev.CLIENT, old=mine, new=mine)
    assert [steps.client_op(e) for e in update] == [("patchworks", "update"), None]  # pre event only
    assert steps.client_op(ev.step("create", client, ev.CLIENT, new=mine)[0]) == ("patchworks", "create")
    assert steps.client_op(ev.step("delete", client, ev.CLIENT, old=mine)[0]) == ("patchworks", "delete")
    assert steps.client_op(ev.step("update", client, ev.CLIENT, old={}, new={})[0]) is None  # no connector named
    assert steps.client_op(ev.step("update", ev.component_urn("patchworks"), ev.COMPONENT)[0]) is None
    kv = ev.step("update", f"{ev.PREFIX}{ev.COMPONENT}${ev.KV}::patchworks-client", ev.KV, old=mine, new=mine)
    assert steps.client_op(kv[0]) is None  # a name ending in -client is not a client
    replaced = {op for e in ev.step("replace", client, ev.CLIENT, old=mine, new=mine) if (op := steps.client_op(e))}
    assert steps.dry_run_note({op for _, op in replaced}) == "would rotate"  # its last step is delete-replaced
    assert [steps.dry_run_note({op}) for op in ("create", "update", "replace", "create-replacement")] == [
        "would rotate"
    ] * 4
    assert steps.dry_run_note(set()) == "would not rotate (same)"
    assert steps.dry_run_note({"same"}) == "would not rotate (same)"
    assert steps.dry_run_note({"delete", "same"}) == "would not rotate (delete, same)"


def test_a_failed_up_marks_every_connector_with_the_engines_reason() -> None:
    reports = [ConnectorRotation("a", "managed"), ConnectorRotation("b", "managed")]
    steps.up_failed(
        ["a", "b"], RuntimeError("noise\n  error: the store is down\nmore"), {r.connector: r for r in reports}
    )
    assert [(r.step, r.error) for r in reports] == [
        (
            "up",
            "`pulumi up` with the rotation failed: the store is down. Each connector's store still holds a working "
            "secret; fix the cause and rerun",
        )
    ] * 2


def _stored(vault_env: OpenBaoServer, client_id: str, secret: str) -> SecretLocation:
    """A Vault path that holds `client_id`/`secret`, as a managed client's state records it."""
    path = f"steps/{uuid.uuid4().hex}"
    VaultClient().create_or_update_secret(path, {"clientId": client_id, "clientSecret": secret}, cas=0)
    return SecretLocation("vault", address=vault_env.url, path=path)


def _document(emulator: CommercetoolsEmulator, name: str, client_id: str) -> dict[str, Any]:
    scope = f"view_orders:{PK}"
    return {"name": name, "authUrl": emulator.url, "apiUrl": emulator.url, "scope": scope, "clientId": client_id}


def test_after_a_managed_rotation_the_store_must_hand_out_the_new_client(
    vault_env: OpenBaoServer, emulator: CommercetoolsEmulator
) -> None:
    old = emulator.backend.add_client(PK, [f"view_orders:{PK}"])
    new = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    locations: dict[str, SecretLocation | None] = {
        "good": _stored(vault_env, new.id, CANARY),
        "stale": _stored(vault_env, old.id, old.secret),  # the store still holds the old client
        "broken": _stored(vault_env, new.id, "not-the-secret"),
        "unpublished": _stored(vault_env, new.id, CANARY),
        "unlocated": None,  # its state does not say where the secret is
    }
    before = {n: _document(emulator, n, old.id) for n in locations}
    after = {n: _document(emulator, n, new.id) for n in locations if n != "unpublished"}
    reports = [ConnectorRotation(n, "managed") for n in locations]
    steps.verify_all(reports, locations, before, after)
    got = {r.connector: r for r in reports}
    assert (got["good"].old_client_id, got["good"].new_client_id) == (old.id, new.id)
    assert (got["good"].step, got["good"].verified, got["good"].error) == ("done", True, None)
    assert (got["stale"].step, got["stale"].verified, got["stale"].error) == ("done", False, None)
    assert got["broken"].step == "test" and not got["broken"].verified
    assert str(got["broken"].error).startswith("step test failed: token request: HTTP 401 invalid_client")
    assert got["unpublished"].error == "step test failed: the stack publishes no document for connector 'unpublished'"
    assert got["unlocated"].error == (
        "step test failed: the stack's state does not say where connector 'unlocated' keeps its secret"
    )
    assert CANARY not in repr(reports)


def test_the_stored_client_must_hold_every_scope_the_document_names(
    vault_env: OpenBaoServer, emulator: CommercetoolsEmulator
) -> None:
    """The document tells consumers which scopes the client holds: a client lacking one does not verify."""
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    location = _stored(vault_env, client.id, CANARY)
    document = {**_document(emulator, "p", client.id), "scope": f"view_orders:{PK} view_products:{PK}"}
    with pytest.raises(InvalidScopeError):
        verify_stored(document, location)


def test_an_empty_store_is_named_in_the_verification(vault_env: OpenBaoServer, emulator: CommercetoolsEmulator) -> None:
    location = SecretLocation("vault", address=vault_env.url, path=f"steps/{uuid.uuid4().hex}")
    with pytest.raises(CredentialsError) as err:
        verify_stored(_document(emulator, "p", "x"), location)
    assert str(err.value) == "the store holds no secret for connector 'p'"


# --- provided -------------------------------------------------------------------------------------------------
FAST = RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.01, max_retry_after=0.01)


def _ct(emulator: CommercetoolsEmulator) -> CommercetoolsClient:
    return CommercetoolsClient(emulator.url, emulator.url, retry=FAST, sleep=lambda _s: None)


def _admin(emulator: CommercetoolsEmulator) -> Token:
    admin = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], secret="admin-secret")
    return _ct(emulator).request_token(admin.id, "admin-secret", None)


def test_a_new_clients_name_says_which_client_it_replaces() -> None:
    assert steps.client_name("org/prod.eu", "erp sync", "abc_D-1") == "org-prod-eu-erp-sync-from-abc_D-1"
    assert steps.client_name("Prod", "web", "x") == "Prod-web-from-x"  # stack names may hold capitals
    assert steps.client_name("prod", "p", "") == "prod-p-from-"


def _clients(emulator: CommercetoolsEmulator) -> dict[str, str]:
    return {c.id: c.name for c in emulator.backend.clients(PK)}


def _recorded(asked: list[str]) -> Callable[[], str | None]:
    """A stack secret that is not set; each read is recorded (a fresh rotation must not read it)."""

    def read() -> str | None:
        asked.append("read")
        return None

    return read


def _scopes(emulator: CommercetoolsEmulator, client_id: str) -> list[str]:
    return sorted(next(c.scope for c in emulator.backend.clients(PK) if c.id == client_id))


def test_a_fresh_rotation_makes_a_client_with_the_same_scopes_named_after_the_old_one(
    emulator: CommercetoolsEmulator,
) -> None:
    admin = _admin(emulator)
    old = emulator.backend.add_client(PK, [f"view_orders:{PK}"], name="by-hand")
    leftover = emulator.backend.add_client(PK, [f"view_orders:{PK}"], name=f"prod-p-from-{old.id}")  # a crash's
    asked: list[str] = []
    scopes = [f"view_orders:{PK}", f"view_products:{PK}"]
    new_id, secret, replaced = steps.new_client(
        _ct(emulator), admin, PK, "prod-p-from-", scopes, old.id, _recorded(asked)
    )
    assert replaced == old.id and secret and asked == []  # nothing to resume: the stack's secret is not read
    assert _clients(emulator)[new_id] == f"prod-p-from-{old.id}" and _scopes(emulator, new_id) == sorted(scopes)
    assert leftover.id not in _clients(emulator) and old.id in _clients(emulator)
    admin_api.wait_until_usable(_ct(emulator), new_id, secret, scopes)


def test_a_rotation_stopped_after_set_resumes_with_the_configured_pair(emulator: CommercetoolsEmulator) -> None:
    admin = _admin(emulator)
    old = emulator.backend.add_client(PK, [f"view_orders:{PK}"], name="by-hand")
    new = emulator.backend.add_client(PK, [f"view_orders:{PK}"], name=f"prod-p-from-{old.id}", secret=CANARY)
    before = set(_clients(emulator))
    result = steps.new_client(_ct(emulator), admin, PK, "prod-p-from-", [f"view_orders:{PK}"], new.id, lambda: CANARY)
    assert result == (new.id, None, old.id) and set(_clients(emulator)) == before


def test_a_resumed_pair_must_hold_the_configured_scopes(emulator: CommercetoolsEmulator) -> None:
    """A configured client lacking a configured scope is not taken over as the rotation's result: the token
    request names the scopes, so commercetools refuses it and the rotation stops with that error."""
    admin = _admin(emulator)
    old = emulator.backend.add_client(PK, [f"view_orders:{PK}"], name="by-hand")
    new = emulator.backend.add_client(PK, [f"view_orders:{PK}"], name=f"prod-p-from-{old.id}", secret=CANARY)
    before = set(_clients(emulator))
    scopes = [f"view_orders:{PK}", f"view_products:{PK}"]
    with pytest.raises(InvalidScopeError):
        steps.new_client(_ct(emulator), admin, PK, "prod-p-from-", scopes, new.id, lambda: CANARY)
    assert set(_clients(emulator)) == before


def test_a_configured_new_client_whose_secret_was_lost_rotates_the_old_client_again(
    emulator: CommercetoolsEmulator,
) -> None:
    admin = _admin(emulator)
    old = emulator.backend.add_client(PK, [f"view_orders:{PK}"], name="by-hand")
    new = emulator.backend.add_client(PK, [f"view_orders:{PK}"], name=f"prod-p-from-{old.id}", secret=CANARY)
    for lost in (lambda: None, lambda: "not-its-secret"):
        new_id, secret, replaced = steps.new_client(
            _ct(emulator), admin, PK, "prod-p-from-", [f"view_orders:{PK}"], new.id, lost
        )
        assert replaced == old.id and secret is not None and new_id not in (new.id, old.id)
        assert new.id not in _clients(emulator)  # the same name: the unusable one was deleted and made again
        assert _clients(emulator)[new_id] == f"prod-p-from-{old.id}"
        new = next(c for c in emulator.backend.clients(PK) if c.id == new_id)


def test_a_configured_rotation_client_whose_predecessor_is_gone_is_rotated_like_any_other(
    emulator: CommercetoolsEmulator,
) -> None:
    admin = _admin(emulator)
    current = emulator.backend.add_client(PK, [f"view_orders:{PK}"], name="prod-p-from-long-gone")
    asked: list[str] = []
    new_id, secret, replaced = steps.new_client(
        _ct(emulator), admin, PK, "prod-p-from-", [f"view_orders:{PK}"], current.id, _recorded(asked)
    )
    assert (replaced, asked) == (current.id, []) and secret is not None
    assert _clients(emulator)[new_id] == f"prod-p-from-{current.id}"


def test_a_pair_works_only_with_a_secret_commercetools_accepts(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    ct, scopes = _ct(emulator), [f"view_orders:{PK}"]
    assert steps.pair_works(ct, c.id, CANARY, scopes)
    assert not steps.pair_works(ct, c.id, "wrong", scopes)
    assert not steps.pair_works(ct, c.id, None, scopes) and not steps.pair_works(ct, c.id, "", scopes)
    with pytest.raises(InvalidScopeError):  # not a lost secret: an error to show, never a reason to rotate
        steps.pair_works(ct, c.id, CANARY, [f"manage_orders:{PK}"])


def test_the_advice_depends_on_how_far_the_rotation_got() -> None:
    nothing = "Nothing changed; the old client is still in use. Fix the cause and rerun"
    resume = (
        "The new client exists and may already be in config; the store keeps a working secret. Rerun "
        "`python -m ctp_credentials rotate`: it resumes where this stopped"
    )
    done = "The new client is in use; delete the old one by hand or rerun to retry"
    assert [steps.advice(s) for s in ("pending", "create", "set", "up", "test", "finish")] == [
        nothing,
        nothing,
        resume,
        resume,
        resume,
        done,
    ]


# --- reporting ------------------------------------------------------------------------------------------------
def test_a_failure_is_summarised_by_its_error_line_cut_to_500() -> None:
    assert steps.summary(RuntimeError("Updating\n  error: boom: the cause\nerror: second")) == "boom: the cause"
    assert steps.summary(RuntimeError("\n first line\nsecond")) == "first line"
    assert steps.summary(RuntimeError("   ")) == "RuntimeError"
    assert steps.summary(RuntimeError("error:\n  error: the cause")) == "the cause"  # a bare `error:` says nothing
    assert steps.summary(RuntimeError("error:  ")) == "error:"  # nothing better: the line itself, never ""
    assert steps.summary(RuntimeError("x" * 600)) == "x" * 500
    assert steps.summary(RuntimeError("error: " + "y" * 600)) == "y" * 500
    # the reason starts after the first `error:` (not at the first blank) and runs to the end of the line
    assert steps.summary(RuntimeError(" stderr: error: boom")) == "boom"
    assert steps.summary(RuntimeError("error: a failed: error: b")) == "a failed: error: b"


def test_each_connector_gets_one_line_of_what_happened() -> None:
    assert steps.render(ConnectorRotation("p", "provided", "a", "b", "done", True)) == "p (provided): a -> b, verified"
    assert (
        steps.render(ConnectorRotation("p", "managed", error="step up failed: x")) == "p (managed): step up failed: x"
    )
    noted = ConnectorRotation("p", "managed", notes=["would rotate", "twice"])
    assert steps.render(noted) == "p (managed): would rotate; twice"
    assert steps.render(ConnectorRotation("p", "managed", step="test")) == "p (managed): test"
    report = [ConnectorRotation("p", "managed", "a")]
    assert steps.as_json(report, ok=False, dry_run=True) == {
        "ok": False,
        "dryRun": True,
        "connectors": [
            {
                "connector": "p",
                "mode": "managed",
                "old_client_id": "a",
                "new_client_id": None,
                "step": "pending",
                "verified": False,
                "error": None,
                "notes": [],
            }
        ],
    }
