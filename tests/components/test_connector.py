"""The component's wiring under Pulumi mocks (dynamic providers are never called by mocks: they are
tested directly in tests/components/providers and through the real engine in tests/e2e)."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.config import PAYLOAD_FIELDS
from tests.conftest import CANARY

PK = "product-patchworks"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker for a secret value on the wire


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: dict[str, tuple[str, dict[str, Any]]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.created[args.name] = (args.typ, dict(args.inputs))
        outs = dict(args.inputs)
        if args.typ.endswith("vault:KvSecret"):
            outs["version"] = 1
        return f"{args.name}-id", outs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def mocks(monkeypatch: pytest.MonkeyPatch, event_loop_for_mocks: Any) -> Mocks:
    monkeypatch.setenv("VAULT_ADDR", "https://vault.example.com")
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="commercetools-credentials", stack="test", preview=False)
    return m


def config() -> Any:
    from components.config import load_stack_config

    raw = {"patchworks": {"projectKey": PK, "scopes": [f"view_orders:{PK}"], "clientId": "abcdefghijkl"}}
    return load_stack_config(raw, lambda _k: (CANARY, True)).connectors[0]


@pulumi.runtime.test
def test_connector_children_and_document(mocks: Mocks) -> Any:
    from components.connector import CommercetoolsConnector, ConnectorArgs

    connector = CommercetoolsConnector("patchworks", ConnectorArgs.from_config(config()))

    def verify(doc: dict[str, Any]) -> None:
        assert mocks.created["patchworks-secret"][0] == "pulumi-python:dynamic/vault:KvSecret"
        assert mocks.created["patchworks-secret"][1]["path"] == "commercetools/patchworks"
        assert doc == {
            "schemaVersion": 1,
            "name": "patchworks",
            "projectKey": PK,
            "region": "europe-west1.gcp",
            "scope": f"view_orders:{PK}",
            "clientId": "abcdefghijkl",
            "grantType": "client_credentials",
            "tokenKey": "access_token",
            "clientType": "confidential",
            "authUrl": "https://auth.europe-west1.gcp.commercetools.com",
            "apiUrl": "https://api.europe-west1.gcp.commercetools.com",
            "managed": False,
            "secretKeys": {k: k for k in PAYLOAD_FIELDS},
            "secretRef": {
                "store": "vault",
                "address": "https://vault.example.com",
                "mount": "secret",
                "path": "commercetools/patchworks",
                "kvVersion": 2,
                "version": 1,
            },
        }
        assert CANARY not in repr(doc)

    return connector.config.apply(verify)


@pulumi.runtime.test
def test_check_inputs_cover_the_form(mocks: Mocks) -> Any:
    from components.connector import ConnectorArgs
    from components.providers.credential_check import CredentialCheck, CredentialCheckArgs

    args = ConnectorArgs.from_config(config())
    check = CredentialCheck("credential-check", CredentialCheckArgs({"patchworks": args.check_inputs()}))

    def verify(_: Any) -> None:
        typ, inputs = mocks.created["credential-check"]
        assert typ == "pulumi-python:dynamic/commercetools:CredentialCheck"
        # A map holding a secret is sent as one secret value: the whole entry is encrypted in state.
        wrapped = inputs["connectors"]
        assert wrapped[SECRET_SIG] == "1b47061264138c4ac30d75fd1eb44270"
        entry = wrapped["value"]["patchworks"]
        assert entry["scopes"] == [f"view_orders:{PK}"]
        assert entry["auth_url"] == "https://auth.europe-west1.gcp.commercetools.com"
        assert (entry["token_key"], entry["enabled"]) == ("access_token", True)

    return check.urn.apply(verify)


@pulumi.runtime.test
def test_client_secret_input_is_marked_secret(mocks: Mocks) -> Any:
    from components.connector import ConnectorArgs

    secret = pulumi.Output.from_input(ConnectorArgs.from_config(config()).client_secret)

    async def check() -> None:
        assert await secret.is_secret()

    return pulumi.Output.from_input(check())


def test_openbao_variables_reach_the_recorded_store_and_the_published_ref(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Vault client reads BAO_* as well as VAULT_*; what the program records must agree, or the document
    would send consumers to the root namespace while the secret sits in another."""
    from components.config import ConnectorConfig
    from components.connector import secret_ref, store_settings

    monkeypatch.setenv("BAO_ADDR", "https://bao.example.com")
    monkeypatch.setenv("BAO_NAMESPACE", "team-a")
    c = ConnectorConfig.model_validate(
        {"name": "patchworks", "projectKey": PK, "scopes": [f"view_orders:{PK}"], "clientId": "id", "clientSecret": "s"}
    )
    settings = store_settings(c, "commercetools-credentials/test")
    assert (settings["address"], settings["namespace"]) == ("https://bao.example.com", "team-a")
    assert secret_ref(c, settings, {"version": 1})["namespace"] == "team-a"
