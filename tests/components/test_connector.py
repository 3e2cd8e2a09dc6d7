"""The component's wiring under Pulumi mocks (dynamic providers are never called by mocks: they are
tested directly in tests/components/providers and through the real engine in tests/e2e)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dill  # type: ignore[import-untyped]  # what the SDK unpickles providers with
import pulumi
import pytest
from pulumi.runtime.mocks import MockMonitor

from ctp_credentials.components.config import PAYLOAD_FIELDS
from tests.conftest import CANARY

if TYPE_CHECKING:
    from ctp_credentials.components.config import ConnectorConfig
    from ctp_credentials.components.connector import CommercetoolsConnector

PK = "product-patchworks"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker for a secret value on the wire
SECRET = "1b47061264138c4ac30d75fd1eb44270"  # the marker's value for a secret
# A child's URN as the mock monitor makes it: the parent's type in front of the child's.
IN_CONNECTOR = "urn:pulumi:test::commercetools-credentials::ctp:index:CommercetoolsConnector$pulumi-python:dynamic/"


class Monitor(MockMonitor):
    """Pulumi's mock monitor, keeping every registration request whole: besides the inputs it carries what
    MockResourceArgs leaves out (parent, dependencies, additional secret outputs), as the SDK sends it to the
    engine."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.requests: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method's name
        self.requests[request.name] = request
        return super().RegisterResource(request)


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: dict[str, tuple[str, dict[str, Any]]] = {}
        self.monitor = Monitor(self)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.created[args.name] = (args.typ, dict(args.inputs))
        outs = dict(args.inputs)
        if args.typ.endswith("vault:KvSecret"):
            outs["version"] = 1
        if args.typ.endswith("aws:SecretsManagerSecret"):
            outs.update(arn="arn:aws:secretsmanager:eu-central-1:1:secret:x", version_id="v-1")
        if args.typ.endswith("commercetools:ApiClient"):
            outs.update(client_id="managed-1", store_state={"version": 3})
        if args.typ.endswith("commercetools:CredentialCheck"):
            outs["verified"] = {"patchworks": True}  # the provider's verdict on the `config()` connector
        return f"{args.name}-id", outs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def mocks(monkeypatch: pytest.MonkeyPatch, event_loop_for_mocks: Any) -> Mocks:
    monkeypatch.setenv("VAULT_ADDR", "https://vault.example.com")
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="commercetools-credentials", stack="test", preview=False, monitor=m.monitor)
    return m


@dataclass(frozen=True)
class Registration:
    """One resource as the engine would get it."""

    typ: str
    urn: str  # names the parent's type: <parent's type>$<type>::<name>
    parent: str  # the parent's URN
    inputs: dict[str, Any]  # nulls dropped, without the pickled provider
    provider: Any  # the pickled provider, unpickled
    dependencies: list[str]  # the URNs of depends_on
    secret_outputs: list[str]  # additional_secret_outputs


def registered(mocks: Mocks, name: str) -> Registration:
    typ, sent = mocks.created[name]
    request = mocks.monitor.requests[name]
    inputs = dict(sent)
    pickled = inputs.pop("__provider")
    # Plain, not a secret: our providers hold no credentials (components/providers/base.py). A provider that is
    # missing or not a PlainProvider would be wrapped as a secret.
    assert isinstance(pickled, str), pickled
    return Registration(
        typ=typ,
        urn=mocks.monitor.make_urn(request.parent, request.type, request.name),
        parent=request.parent,
        inputs=inputs,
        provider=dill.loads(base64.b64decode(pickled)),  # noqa: S301  # a pickle this test just made
        dependencies=list(request.dependencies),
        secret_outputs=list(request.additionalSecretOutputs),
    )


# The check a connector joins is registered at the stack root (the mock monitor names the stack in its URN, which
# the engine leaves out for the stack's children).
CHECK_URN = (
    "urn:pulumi:test::commercetools-credentials::pulumi:pulumi:Stack$"
    "pulumi-python:dynamic/commercetools:CredentialCheck::"
)


def program(c: ConnectorConfig) -> tuple[pulumi.Output[str], CommercetoolsConnector]:
    """What __main__.py builds for one connector, and the URN of the credential check the component joined."""
    from ctp_credentials import CommercetoolsConnector, ConnectorArgs

    connector = CommercetoolsConnector(c.name, ConnectorArgs.from_config(c))
    # the program's first (only) batch: named as the stack program has always named its check, at the stack root
    return pulumi.Output.from_input(CHECK_URN + "credential-check"), connector


def config() -> Any:
    from ctp_credentials.components.config import load_stack_config

    raw = {"patchworks": {"projectKey": PK, "scopes": [f"view_orders:{PK}"], "clientId": "abcdefghijkl"}}
    return load_stack_config(raw, lambda _k: (CANARY, True)).connectors[0]


def payload(client_id: str) -> dict[str, Any]:
    """What the store is given for the `config()`-like connectors below: the secret with everything beside it."""
    return {
        "clientId": client_id,
        "clientSecret": CANARY,
        "projectKey": PK,
        "region": "europe-west1.gcp",
        "scopes": f"view_orders:{PK}",
        "authUrl": "https://auth.europe-west1.gcp.commercetools.com",
        "apiUrl": "https://api.europe-west1.gcp.commercetools.com",
    }


@pulumi.runtime.test
def test_connector_children_and_document(mocks: Mocks) -> Any:
    from ctp_credentials import CommercetoolsConnector, ConnectorArgs

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
def test_a_vault_connector_registers_every_setting_and_a_secret_payload_after_the_check(mocks: Mocks) -> Any:
    """Every setting reaches the provider under the name it validates (a misnamed one fails there, or for the
    namespace silently falls back to VAULT_NAMESPACE); the secret is a child of the connector, written only
    after the credential check, and its value and digest are kept as secrets."""
    from ctp_credentials.components.config import load_stack_config
    from ctp_credentials.components.providers.vault_secret import VaultKvSecretProvider

    # every setting off its default, the address other than VAULT_ADDR's
    vault: dict[str, Any] = {"address": "https://bao.internal.example.com", "namespace": "team-a", "mount": "kv"}
    vault |= {"path": "ct/pw", "kvVersion": 1, "deletePolicy": "destroy", "adopt": True}
    raw = {"patchworks": {"projectKey": PK, "scopes": [f"view_orders:{PK}"], "clientId": "id-1", "vault": vault}}
    check_urn, connector = program(load_stack_config(raw, lambda _k: (CANARY, True)).connectors[0])

    def verify(urns: list[str]) -> None:
        secret = registered(mocks, "patchworks-secret")
        assert secret.typ == "pulumi-python:dynamic/vault:KvSecret"
        assert secret.inputs == {
            "connector": "patchworks",
            "owner": "commercetools-credentials/test",
            "address": "https://bao.internal.example.com",
            "namespace": "team-a",
            "mount": "kv",
            "path": "ct/pw",
            "data": {SECRET_SIG: SECRET, "value": payload("id-1")},
            "delete_policy": "destroy",
            "kv_version": 1,
            "adopt": True,
        }
        assert isinstance(secret.provider, VaultKvSecretProvider)
        assert (secret.urn, secret.parent) == (f"{IN_CONNECTOR}vault:KvSecret::patchworks-secret", urns[0])
        assert secret.dependencies == [urns[1]]  # the credential check
        assert secret.secret_outputs == ["data", "digest"]

    return pulumi.Output.all(connector.urn, check_urn, connector.config).apply(verify)


@pulumi.runtime.test
def test_check_inputs_cover_the_form(mocks: Mocks) -> Any:
    from ctp_credentials import CommercetoolsConnector, ConnectorArgs
    from ctp_credentials.components.providers.credential_check import CredentialCheckProvider

    connector = CommercetoolsConnector("patchworks", ConnectorArgs.from_config(config()))

    def verify(_: Any) -> None:
        reg = registered(mocks, "credential-check")
        assert reg.typ == "pulumi-python:dynamic/commercetools:CredentialCheck"
        assert isinstance(reg.provider, CredentialCheckProvider)
        # The map holds every client secret: kept as a secret output too, not only as an input.
        assert reg.secret_outputs == ["connectors"]
        # A map holding a secret is sent as one secret value: the whole entry is encrypted in state.
        wrapped = reg.inputs["connectors"]
        assert wrapped[SECRET_SIG] == SECRET
        entry = wrapped["value"]["patchworks"]
        assert set(entry) == {
            "connector",
            "project_key",
            "region",
            "auth_url",
            "api_url",
            "scopes",
            "client_id",
            "client_secret",
            "token_key",
            "enabled",
        }
        assert entry["client_secret"] == CANARY
        assert entry["scopes"] == [f"view_orders:{PK}"]
        assert entry["auth_url"] == "https://auth.europe-west1.gcp.commercetools.com"
        assert (entry["token_key"], entry["enabled"]) == ("access_token", True)
        assert reg.urn == CHECK_URN + "credential-check"  # at the stack root, as the stack program always had it

    return connector.config.apply(verify)


@pulumi.runtime.test
def test_the_check_keeps_its_callers_options_and_exposes_its_verdicts(mocks: Mocks) -> Any:
    """Options given to the check add to its own (the secret `connectors`), and `verified`, the per-connector
    verdict it declares, is readable on it."""
    from ctp_credentials import ConnectorArgs
    from ctp_credentials.components.args import resolve
    from ctp_credentials.components.connector import check_inputs
    from ctp_credentials.components.providers.credential_check import CredentialCheck, CredentialCheckArgs

    resolved = resolve("CommercetoolsConnector", "patchworks", ConnectorArgs.from_config(config()))
    args = CredentialCheckArgs({"patchworks": check_inputs(resolved)})
    check = CredentialCheck("credential-check", args, opts=pulumi.ResourceOptions(protect=True))

    def verify(verified: dict[str, bool]) -> None:
        assert verified == {"patchworks": True}
        assert mocks.monitor.requests["credential-check"].protect
        assert registered(mocks, "credential-check").secret_outputs == ["connectors"]

    return check.verified.apply(verify)


@pulumi.runtime.test
def test_client_secret_input_is_marked_secret(mocks: Mocks) -> Any:
    from ctp_credentials import ConnectorArgs

    secret = pulumi.Output.from_input(ConnectorArgs.from_config(config()).client_secret)

    async def check() -> None:
        assert await secret.is_secret()

    return pulumi.Output.from_input(check())


def test_openbao_variables_reach_the_recorded_store_and_the_published_ref(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Vault client reads BAO_* as well as VAULT_*; what the program records must agree, or the document
    would send consumers to the root namespace while the secret sits in another."""
    from ctp_credentials.components.config import ConnectorConfig
    from ctp_credentials.components.connector import secret_ref, store_settings

    monkeypatch.setenv("BAO_ADDR", "https://bao.example.com")
    monkeypatch.setenv("BAO_NAMESPACE", "team-a")
    c = ConnectorConfig.model_validate(
        {"name": "patchworks", "projectKey": PK, "scopes": [f"view_orders:{PK}"], "clientId": "id", "clientSecret": "s"}
    )
    settings = store_settings(c, "commercetools-credentials/test")
    assert (settings["address"], settings["namespace"]) == ("https://bao.example.com", "team-a")
    assert secret_ref(c, settings, {"version": 1})["namespace"] == "team-a"


@pulumi.runtime.test
def test_a_secrets_manager_connector_registers_every_setting_and_a_secret_payload(mocks: Mocks) -> Any:
    from ctp_credentials.components.config import load_stack_config
    from ctp_credentials.components.providers.secretsmanager_secret import SecretsManagerSecretProvider

    sm: dict[str, Any] = {"region": "eu-central-1", "endpointUrl": "https://vpce.example.com", "kmsKeyId": "alias/k"}
    sm |= {"tags": {"team": "a"}, "recoveryWindowDays": 7, "restoreIfDeleted": True}
    raw = {"patchworks": {"projectKey": PK, "scopes": [f"view_orders:{PK}"], "clientId": "id-1", "secretsManager": sm}}
    check_urn, connector = program(load_stack_config(raw, lambda _k: (CANARY, True)).connectors[0])

    def verify(v: list[Any]) -> None:
        urn, check_urn, doc = v
        secret = registered(mocks, "patchworks-secret")
        assert secret.typ == "pulumi-python:dynamic/aws:SecretsManagerSecret"
        assert secret.inputs == {
            "connector": "patchworks",
            "owner": "commercetools-credentials/test",
            "name": "commercetools/patchworks",
            "region": "eu-central-1",
            "endpoint_url": "https://vpce.example.com",
            "kms_key_id": "alias/k",
            "data": {SECRET_SIG: SECRET, "value": payload("id-1")},
            "description": "commercetools API client credentials for connector patchworks",
            "tags": {"team": "a"},
            "recovery_window_days": 7,
            "force_delete": False,
            "restore_if_deleted": True,
        }
        assert isinstance(secret.provider, SecretsManagerSecretProvider)
        # a child of the connector, stored only after the credential check, its value and digest kept secret
        assert (secret.urn, secret.parent) == (f"{IN_CONNECTOR}aws:SecretsManagerSecret::patchworks-secret", urn)
        assert secret.dependencies == [check_urn]
        assert secret.secret_outputs == ["data", "digest"]
        assert doc["secretRef"] == {
            "store": "secretsManager",
            "arn": "arn:aws:secretsmanager:eu-central-1:1:secret:x",
            "name": "commercetools/patchworks",
            "region": "eu-central-1",
            "versionId": "v-1",
        }

    return pulumi.Output.all(connector.urn, check_urn, connector.config).apply(verify)


@pulumi.runtime.test
def test_a_managed_connector_registers_its_client_with_every_setting(mocks: Mocks) -> Any:
    from ctp_credentials.components.config import load_stack_config
    from ctp_credentials.components.providers.api_client import ApiClientProvider

    raw = {"m": {"projectKey": PK, "scopes": [f"view_orders:{PK}"], "managed": {"rotateAfterDays": 30}}}
    check_urn, connector = program(load_stack_config(raw, lambda _k: (None, False)).connectors[0])

    def verify(v: list[Any]) -> None:
        urn, check_urn, doc = v
        client = registered(mocks, "m-client")
        assert client.typ == "pulumi-python:dynamic/commercetools:ApiClient"
        assert client.inputs == {
            "connector": "m",
            "owner": "commercetools-credentials/test",
            "project_key": PK,
            "region": "europe-west1.gcp",
            "auth_url": "https://auth.europe-west1.gcp.commercetools.com",
            "api_url": "https://api.europe-west1.gcp.commercetools.com",
            "scopes": [f"view_orders:{PK}"],
            "token_key": "access_token",
            "admin": {"env_prefix": "CTP_ADMIN", "vault_mount": "secret", "vault_address": "https://vault.example.com"},
            "rotate_after_days": 30,
            "grace_hours": 24,
            "rotation_request": "",
            "store_kind": "vault",
            "store": {
                "connector": "m",
                "owner": "commercetools-credentials/test",
                "address": "https://vault.example.com",
                "mount": "secret",
                "path": "commercetools/m",
                "kv_version": 2,
                "delete_policy": "delete",
                "adopt": False,
            },
            "secret_keys": {},
        }
        assert isinstance(client.provider, ApiClientProvider)
        # a child of the connector, made after the stack's credential check, the stored document's HMAC secret
        assert (client.urn, client.parent) == (f"{IN_CONNECTOR}commercetools:ApiClient::m-client", urn)
        assert client.dependencies == [check_urn]
        assert client.secret_outputs == ["store_digest"]
        assert (doc["clientId"], doc["managed"], doc["secretRef"]["version"]) == ("managed-1", True, 3)

    return pulumi.Output.all(connector.urn, check_urn, connector.config).apply(verify)


@pulumi.runtime.test
def test_the_store_arguments_default_to_the_safe_choices(mocks: Mocks) -> Any:
    """Soft delete, KV v2 and no adoption for Vault; a 30-day recovery window and neither force nor restore
    for Secrets Manager: what a program that leaves them out gets."""
    from ctp_credentials.components.providers.secretsmanager_secret import SecretsManagerSecretArgs
    from ctp_credentials.components.providers.vault_secret import VaultKvSecretArgs

    vault = VaultKvSecretArgs(connector="c", owner="o", address="https://v", mount="secret", path="p", data={})
    sm = SecretsManagerSecretArgs(connector="c", owner="o", name="n", data={})
    assert {k: vault.props[k] for k in ("delete_policy", "kv_version", "adopt")} == {
        "delete_policy": "delete",
        "kv_version": 2,
        "adopt": False,
    }
    assert {k: sm.props[k] for k in ("recovery_window_days", "force_delete", "restore_if_deleted")} == {
        "recovery_window_days": 30,
        "force_delete": False,
        "restore_if_deleted": False,
    }
    return pulumi.Output.all(vault.props["data"], sm.props["data"])  # awaited by the test runner
