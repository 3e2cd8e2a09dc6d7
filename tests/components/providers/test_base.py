"""The one rule for how maps look on their way through the engine, and the diffs that rely on it.

The engine drops a null inside a map when it stores inputs or outputs, and hands back lists for tuples: a
diff that compares the model's dump (with its nulls) against state sees a change on every preview. Each
provider's diff is fed state exactly as the engine keeps it and must find nothing to do. (Through the real
engine, for every kind of connector: tests/e2e/test_unchanged.py.)"""

from __future__ import annotations

from typing import Any

import pulumi
from pydantic import BaseModel

from ctp_credentials.components.digests import digest
from ctp_credentials.components.providers.api_client import ApiClientProvider
from ctp_credentials.components.providers.base import comparable, engine_form
from ctp_credentials.components.providers.credential_check import CredentialCheckProvider
from ctp_credentials.components.providers.publications import SsmParameterPublicationProvider
from ctp_credentials.components.providers.secretsmanager_secret import SecretsManagerSecretProvider
from ctp_credentials.components.providers.vault_secret import VaultKvSecretProvider
from ctp_credentials.components.publishing import document_digest


class _Inner(BaseModel):
    a: str | None = None
    b: int = 1


class _Outer(BaseModel):
    kept: str
    inner: _Inner = _Inner()
    names: tuple[str, ...] = ()


def test_engine_form_drops_nulls_in_maps_at_any_depth_and_keeps_everything_else(event_loop_for_mocks: Any) -> None:
    value = {"x": None, "y": {"z": None, "w": [1, {"v": None, "u": 0}]}, "t": ("a", "b"), "f": False, "e": ""}
    assert engine_form(value) == {"y": {"w": [1, {"u": 0}]}, "t": ["a", "b"], "f": False, "e": ""}
    assert engine_form(_Inner()) == {"b": 1}
    unknown = pulumi.Output.from_input("later")
    assert engine_form({"o": unknown})["o"] is unknown


def test_comparable_fills_defaults_for_what_the_engine_dropped() -> None:
    stored = {"kept": "k", "inner": {"b": 1}, "names": ["n"]}  # as state holds it: no null, a list
    new = _Outer(kept="k", names=("n",)).model_dump()  # as the model dumps it: nulls, a tuple
    assert comparable(_Outer, stored) == comparable(_Outer, new)
    assert comparable(_Outer, {"kept": "k"}) == comparable(_Outer, {"kept": "k", "inner": None, "names": None})
    assert comparable(_Outer, {"kept": "k", "inner": {"a": "x"}}) != comparable(_Outer, {"kept": "k"})


def as_stored(props: dict[str, Any]) -> dict[str, Any]:
    return dict(engine_form(props))


def managed(store: dict[str, Any], store_kind: str, **admin: Any) -> dict[str, Any]:
    return {
        "connector": "patchworks",
        "owner": "p/s",
        "project_key": "shop-eu",
        "region": "europe-west1.gcp",
        "auth_url": "http://127.0.0.1:1",
        "api_url": "http://127.0.0.1:1",
        "scopes": ["view_orders:shop-eu"],
        "token_key": "access_token",
        "admin": {
            "env_prefix": "CTP_ADMIN",
            "vault_path": None,
            "vault_mount": "secret",
            "vault_address": None,
            **admin,
        },
        "delete_days_after_creation": None,
        "access_token_validity_seconds": None,
        "rotate_after_days": 30.0,
        "grace_hours": 1.0,
        "rotation_request": "",
        "store_kind": store_kind,
        "store": store,
        "secret_keys": {},
    }


SM_STORE: dict[str, Any] = {
    "name": "commercetools/p",
    "region": "eu-central-1",
    "endpoint_url": None,
    "kms_key_id": None,
    "tags": {},
}
VAULT_STORE: dict[str, Any] = {
    "address": "http://127.0.0.1:8200",
    "namespace": None,
    "mount": "secret",
    "path": "commercetools/p",
}


def test_an_unchanged_managed_client_has_no_diff_whatever_its_store_or_admin_source() -> None:
    provider = ApiClientProvider()
    for news in (managed(SM_STORE, "secretsManager"), managed(VAULT_STORE, "vault", vault_path="ct/admin")):
        state = {**as_stored(news), "created_ts": 4e9, "store_state": {"version": 1}, "generation": 1}
        diff = provider.diff("id", state, news)
        assert (diff.changes, diff.replaces) == (False, [])
        moved = provider.diff("id", state, {**news, "store": {**news["store"], "mount": "other", "name": "other"}})
        assert moved.changes and moved.replaces == ["store"]


def test_unchanged_store_and_publication_inputs_have_no_diff() -> None:
    salt, data = "00" * 16, {"clientId": "id"}
    vault = {"connector": "p", "owner": "p/s", **VAULT_STORE, "kv_version": 2, "delete_policy": "delete", "data": data}
    diff = VaultKvSecretProvider().diff("id", {**as_stored(vault), "salt": salt, "digest": digest(salt, data)}, vault)
    assert diff.changes is False
    sm = {"connector": "p", "owner": "p/s", **SM_STORE, "description": None, "data": data}
    diff = SecretsManagerSecretProvider().diff("id", {**as_stored(sm), "salt": salt, "digest": digest(salt, data)}, sm)
    assert diff.changes is False
    ssm = {"connector": "p", "owner": "p/s", "name": "/ctp/p", "region": "eu-central-1", "endpoint_url": None}
    provider = SsmParameterPublicationProvider()
    document = {"name": "p"}
    old = {**as_stored(ssm), "digest": document_digest(document)}
    assert provider.diff("id", old, {**ssm, "document": document}).changes is False
    checks = {"connectors": {"p": {"connector": "p", "client_id": "id", "scopes": ("a",), "extra": None}}}
    assert CredentialCheckProvider().diff("id", as_stored(checks), checks).changes is False


def test_the_provider_server_reports_our_errors_as_their_message_and_bugs_with_their_traceback(
    monkeypatch: Any,
) -> None:
    import sys
    import types

    from ctp_credentials.components.errors import VaultError
    from ctp_credentials.components.providers import base

    server = types.ModuleType("__main__")
    server.DynamicResourceProviderServicer = object  # type: ignore[attr-defined]  # what the SDK's server has
    server.traceback = __import__("traceback")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "__main__", server)
    base.report_plainly()
    plain = server.traceback
    try:
        raise VaultError("cannot write Vault secret/x: permission denied; grant create on secret/data/x")
    except VaultError:
        assert plain.format_exc() == "cannot write Vault secret/x: permission denied; grant create on secret/data/x"
    try:
        raise KeyError("a bug")
    except KeyError:
        text = plain.format_exc()
        assert text.startswith("Traceback (most recent call last):") and "KeyError: 'a bug'" in text
