"""SecretLocation: one record of where a secret lives, the same for the writer (the store providers) and the
readers (rotation's check, the managed client's read-back), against real OpenBao and moto."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from ctp_credentials.automation.steps import connector_config, verify_stored
from ctp_credentials.components.clients.secretsmanager import SecretsManagerClient, SecretsManagerError
from ctp_credentials.components.config import ConnectorConfig, load_stack_config
from ctp_credentials.components.connector import store_settings
from ctp_credentials.components.errors import CredentialsError, VaultError
from ctp_credentials.components.location import SecretLocation
from ctp_credentials.components.providers import stores
from ctp_credentials.components.providers.secretsmanager_secret import SecretsManagerSecretProvider
from ctp_credentials.components.providers.vault_secret import VaultKvSecretProvider
from ctp_credentials.components.secret_store import SecretsManagerStore
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.moto import MotoServer
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY

PK = "shop-eu"


def sm_client(loc: SecretLocation) -> SecretsManagerClient:
    store = loc.as_store()
    assert isinstance(store, SecretsManagerStore)
    return store.client()


OWNER = "commercetools-credentials/test"
CLOSED = "http://127.0.0.1:9"  # nothing listens: a reader sent here instead of the writer's endpoint fails


def connector(**settings: Any) -> ConnectorConfig:
    raw = {"patchworks": {"projectKey": PK, "scopes": [f"view_orders:{PK}"], "clientId": "abc", **settings}}
    return load_stack_config(raw, lambda _k: (CANARY, True)).connectors[0]


def test_vault_location_resolves_what_config_leaves_open_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VAULT_ADDR", "HTTPS://Vault.Example.com/")
    monkeypatch.setenv("VAULT_NAMESPACE", "team-a")
    loc = SecretLocation.of(connector(vault={"mount": "kv", "kvVersion": 1}))
    assert loc.settings() == {
        "address": "https://vault.example.com",
        "namespace": "team-a",
        "mount": "kv",
        "path": "commercetools/patchworks",
        "kv_version": 1,
    }
    explicit = SecretLocation.of(connector(vault={"address": "https://other.example.com", "namespace": "b"}))
    assert (explicit.address, explicit.namespace) == ("https://other.example.com", "b")


def test_secrets_manager_location_keeps_the_endpoint_and_resolves_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    loc = SecretLocation.of(connector(secretsManager={"endpointUrl": "https://vpce-1.example.com"}))
    assert loc.settings() == {
        "name": "commercetools/patchworks",
        "region": "eu-west-1",
        "endpoint_url": "https://vpce-1.example.com",
    }
    monkeypatch.setenv("AWS_REGION", "us-east-2")  # boto3's order: AWS_REGION first
    assert SecretLocation.of(connector(secretsManager={})).region == "us-east-2"
    assert SecretLocation.of(connector(secretsManager={"region": "eu-central-1"})).region == "eu-central-1"


def test_the_providers_inputs_are_the_location(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_ADDR", "https://vault.example.com")
    for c in (connector(), connector(secretsManager={"region": "eu-central-1", "endpointUrl": "https://e.example"})):
        loc = SecretLocation.of(c)
        settings = store_settings(c, OWNER)
        assert {k: settings[k] for k in loc.settings()} == loc.settings()
        assert SecretLocation.from_settings(loc.store, settings) == loc


def test_rotation_reads_secrets_manager_through_the_connectors_endpoint(
    aws_env: MotoServer, emulator: CommercetoolsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer uses the connector's `endpointUrl` (a VPC endpoint); rotation's check used to open its client
    without it, and so read through another endpoint (here: AWS_ENDPOINT_URL_SECRETS_MANAGER, where nothing
    answers)."""
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    name = f"loc/{uuid.uuid4().hex}"
    c = connector(
        clientId=client.id,
        authUrl=emulator.url,
        apiUrl=emulator.url,
        secretsManager={"name": name, "region": "eu-central-1", "endpointUrl": aws_env.url},
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", CLOSED)
    SecretsManagerSecretProvider().create(
        {**store_settings(c, OWNER), "data": {"clientId": client.id, "clientSecret": CANARY}}
    )
    document = {"name": "patchworks", "authUrl": emulator.url, "apiUrl": emulator.url, "scope": f"view_orders:{PK}"}
    assert verify_stored(document, SecretLocation.of(c)) == client.id
    # the same document read as the old check did, without the endpoint: it goes where nothing answers
    with pytest.raises(SecretsManagerError, match="cannot connect to"):
        SecretLocation("secretsManager", name=name, region="eu-central-1").read()


def test_rotation_and_the_managed_client_read_vault_where_it_was_written(
    vault_env: OpenBaoServer, emulator: CommercetoolsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    c = connector(
        clientId=client.id, authUrl=emulator.url, apiUrl=emulator.url, vault={"path": f"loc/{uuid.uuid4().hex}"}
    )
    settings = store_settings(c, OWNER)
    created = VaultKvSecretProvider().create({**settings, "data": {"clientId": client.id, "clientSecret": CANARY}})
    document = {"name": "patchworks", "authUrl": emulator.url, "apiUrl": emulator.url, "scope": f"view_orders:{PK}"}
    assert verify_stored(document, SecretLocation.of(c)) == client.id
    assert stores.read_current("vault", {"id": created.id, **(created.outs or {})}) == {
        "clientId": client.id,
        "clientSecret": CANARY,
    }
    # the record keeps the address the writer used (VAULT_ADDR then), whatever the environment says later
    monkeypatch.setenv("VAULT_ADDR", CLOSED)
    assert SecretLocation.from_settings("vault", settings).read() == {"clientId": client.id, "clientSecret": CANARY}
    emptied = SecretLocation.from_settings("vault", {**settings, "path": f"loc/{uuid.uuid4().hex}"})
    with pytest.raises(CredentialsError, match="holds no secret for connector 'patchworks'"):
        verify_stored(document, emptied)


def test_rotation_reads_a_managed_connectors_config_without_a_client_id() -> None:
    managed = connector_config("m", {"projectKey": PK, "scopes": [f"view_orders:{PK}"], "managed": {}})
    assert isinstance(managed, ConnectorConfig) and SecretLocation.of(managed).path == "commercetools/m"
    assert (
        connector_config("p", {"projectKey": PK, "scopes": [f"view_orders:{PK}"]}) == "connectors.p.clientId is not set"
    )


def test_a_secrets_manager_value_that_is_not_json_is_a_clear_error(aws_env: MotoServer) -> None:
    name = f"loc/{uuid.uuid4().hex}"
    loc = SecretLocation("secretsManager", name=name, region="eu-central-1", endpoint_url=aws_env.url)
    assert loc.read() is None  # nothing there yet
    sm_client(loc).create_secret(name, "not json", client_request_token=str(uuid.uuid4()))
    with pytest.raises(CredentialsError) as err:
        loc.read()
    assert str(err.value) == (
        f"Secrets Manager secret {name} (eu-central-1, {aws_env.url}) does not hold a JSON document (changed "
        "outside Pulumi?): run `pulumi refresh`, then `pulumi up` writes it again"
    )


def test_a_secrets_manager_location_reads_in_its_own_region_whatever_aws_region_says(
    aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The region in state is where the writer put the value; a job with another AWS_REGION still reads there."""
    name = f"loc/{uuid.uuid4().hex}"
    loc = SecretLocation("secretsManager", name=name, region="eu-west-1", endpoint_url=aws_env.url)
    SecretsManagerClient(region="eu-west-1", endpoint_url=aws_env.url).create_secret(
        name, '{"clientSecret": "x"}', client_request_token=str(uuid.uuid4())
    )
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    assert sm_client(loc).region == "eu-west-1"
    assert loc.read() == {"clientSecret": "x"}


def test_kv_v1_and_state_from_before_a_setting_was_recorded(
    vault_env: OpenBaoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KV v1 is read as KV v1; state without a mount or KV version means `secret` and 2 (their defaults)."""
    import hvac

    admin = hvac.Client(url=vault_env.url, token=vault_env.root_token)
    admin.sys.enable_secrets_engine("kv", path=f"kv1-{uuid.uuid4().hex[:6]}", options={"version": "1"})
    mount = [m for m in admin.sys.list_mounted_secrets_engines()["data"] if m.startswith("kv1-")][-1].rstrip("/")
    admin.secrets.kv.v1.create_or_update_secret("a/b", {"clientSecret": CANARY}, mount_point=mount)
    v1 = SecretLocation.from_settings(
        "vault", {"address": vault_env.url, "mount": mount, "path": "a/b", "kv_version": 1}
    )
    assert (v1.store, v1.kv_version, v1.read()) == ("vault", 1, {"clientSecret": CANARY})
    # a KV v1 location's client explains a refusal with KV v1's grant (no data/ and metadata/ paths)
    reader = admin.auth.token.create(policies=["default"], ttl="10m")["auth"]["client_token"]
    monkeypatch.setenv("VAULT_TOKEN", reader)
    with pytest.raises(VaultError) as denied:
        v1.read()
    assert str(denied.value).endswith(f"Grant the token's policy read/create/update/delete on {mount}/a/b")
    monkeypatch.setenv("VAULT_TOKEN", vault_env.root_token)
    old = SecretLocation.from_settings("vault", {"address": vault_env.url, "path": "a/b"})
    assert (old.mount, old.kv_version, old.namespace) == ("secret", 2, None)
    assert SecretLocation.of(connector()).store == "vault"


def test_a_vault_address_left_to_the_environment_is_recorded_empty_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULT_ADDR", raising=False)
    monkeypatch.delenv("BAO_ADDR", raising=False)
    assert SecretLocation.of(connector()).address == ""  # VaultClient then says where to set it


def test_a_secrets_manager_value_that_is_json_but_not_an_object_is_no_document(aws_env: MotoServer) -> None:
    name = f"loc/{uuid.uuid4().hex}"
    loc = SecretLocation("secretsManager", name=name, region="eu-central-1", endpoint_url=aws_env.url)
    sm_client(loc).create_secret(name, '["a", "list"]', client_request_token=str(uuid.uuid4()))
    assert loc.read() is None


def test_stores_refresh_reports_the_state_or_none(vault_env: OpenBaoServer) -> None:
    settings = {
        "connector": "p",
        "owner": OWNER,
        "address": vault_env.url,
        "namespace": None,
        "mount": "secret",
        "path": f"loc/{uuid.uuid4().hex}",
        "kv_version": 2,
        "delete_policy": "delete",
        "adopt": False,
    }
    state = stores.write("vault", settings, {"clientId": "abc", "clientSecret": CANARY}, None)
    refreshed = stores.refresh("vault", state)
    assert refreshed is not None and refreshed["id"] == state["id"] and refreshed["version"] == 1
    stores.delete("vault", state)
    assert stores.refresh("vault", state) is None


@pytest.mark.parametrize(
    ("location", "missing"),
    [
        (
            SecretLocation("secretsManager", name=None, endpoint_url=CLOSED),
            "secretsManager location has no secret name",
        ),
        (SecretLocation("secretsManager", name="", endpoint_url=CLOSED), "secretsManager location has no secret name"),
        (SecretLocation("vault", address=CLOSED, path=None), "vault location has no path"),
        (SecretLocation("vault", address=CLOSED, path=""), "vault location has no path"),
    ],
)
def test_a_location_without_its_name_is_refused_before_any_request(location: SecretLocation, missing: str) -> None:
    """Nothing is read from a store's root or a secret named ''; CLOSED would fail any request that was sent."""
    with pytest.raises(CredentialsError) as err:
        location.read()
    assert str(err.value) == f"this {missing}: run `pulumi refresh`, then rerun"
