"""The typed store of one secret (VaultKvStore, SecretsManagerStore): the provider inputs it stands for, what it
reads, where consumers find it, and the provider that writes it, against real OpenBao and moto."""

from __future__ import annotations

import uuid

import hvac
import pytest

from ctp_credentials.components.clients.secretsmanager import SecretsManagerClient
from ctp_credentials.components.clients.vault import VaultClient
from ctp_credentials.components.errors import CredentialsError
from ctp_credentials.components.providers import stores
from ctp_credentials.components.providers.secretsmanager_secret import SecretsManagerSecretProvider
from ctp_credentials.components.providers.vault_secret import VaultKvSecretProvider
from ctp_credentials.components.secret_store import SecretsManagerStore, VaultKvStore, store
from ctp_credentials.testing.moto import MotoServer
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY

OWNER = "commercetools-credentials/test"


def test_settings_are_the_providers_inputs_by_their_state_names() -> None:
    kv = VaultKvStore(address="https://v.example", namespace="ns", mount="kv", path="a/b", kv_version=1)
    assert kv.settings() == {
        "address": "https://v.example",
        "namespace": "ns",
        "mount": "kv",
        "path": "a/b",
        "kv_version": 1,
    }
    assert list(kv.settings()) == ["address", "namespace", "mount", "path", "kv_version"]  # as state holds them
    sm = SecretsManagerStore(name="n", region="eu-west-1", endpoint_url="https://e.example")
    assert sm.settings() == {"name": "n", "region": "eu-west-1", "endpoint_url": "https://e.example"}
    # from state (which holds more keys: owner, digest, ...) and back, unchanged
    assert store("vault", {**kv.settings(), "owner": OWNER, "digest": "d"}) == kv
    assert store("secretsManager", {**sm.settings(), "arn": "arn:x"}) == sm
    assert (kv.kind, sm.kind) == ("vault", "secretsManager")


def test_state_from_before_a_setting_was_recorded_means_its_default() -> None:
    old = store("vault", {"path": "a/b"})
    assert old == VaultKvStore(address=None, namespace=None, mount="secret", path="a/b", kv_version=2)
    assert store("vault", {"path": "a/b", "mount": None, "kv_version": None}) == old
    assert store("vault", {"path": "a/b", "kv_version": "1"}) == VaultKvStore(None, None, "secret", "a/b", 1)
    assert store("secretsManager", {"name": "n"}) == SecretsManagerStore(name="n", region=None, endpoint_url=None)


def test_secret_refs_name_the_store_and_the_version_state_records() -> None:
    kv = VaultKvStore(address="https://v.example", namespace=None, mount="secret", path="a/b")
    assert kv.secret_ref({"version": 3, "digest": "d"}) == {
        "store": "vault",
        "address": "https://v.example",
        "namespace": None,
        "mount": "secret",
        "path": "a/b",
        "kvVersion": 2,
        "version": 3,
    }
    assert kv.secret_ref({})["version"] is None
    sm = SecretsManagerStore(name="n", region="eu-west-1")
    assert sm.secret_ref({"arn": "arn:x", "version_id": "v1", "version": 9}) == {
        "store": "secretsManager",
        "arn": "arn:x",
        "name": "n",
        "region": "eu-west-1",
        "versionId": "v1",
    }
    assert sm.secret_ref({}) == {
        "store": "secretsManager",
        "arn": None,
        "name": "n",
        "region": "eu-west-1",
        "versionId": None,
    }


def test_each_store_has_its_provider() -> None:
    assert type(store("vault", {"path": "p"}).provider()) is VaultKvSecretProvider
    assert type(store("secretsManager", {"name": "n"}).provider()) is SecretsManagerSecretProvider


def test_a_vault_store_reads_kv_v2_and_kv_v1_where_they_were_written(vault_env: OpenBaoServer) -> None:
    path = f"store/{uuid.uuid4().hex}"
    kv2 = VaultKvStore(address=vault_env.url, namespace=None, mount="secret", path=path)
    assert kv2.read() is None
    written = stores.write(
        "vault", {**kv2.settings(), "connector": "patchworks", "owner": OWNER}, {"clientSecret": CANARY}, None
    )
    assert kv2.read() == {"clientSecret": CANARY}
    assert VaultClient().read_secret_version(path).custom_metadata["writer"] == written["id"]  # type: ignore[union-attr]
    admin = hvac.Client(url=vault_env.url, token=vault_env.root_token)
    mount = f"kv1-{uuid.uuid4().hex[:6]}"
    admin.sys.enable_secrets_engine("kv", path=mount, options={"version": "1"})
    admin.secrets.kv.v1.create_or_update_secret("a/b", {"clientSecret": "v1"}, mount_point=mount)
    kv1 = VaultKvStore(address=vault_env.url, namespace=None, mount=mount, path="a/b", kv_version=1)
    assert kv1.client().kv_version == 1 and kv1.read() == {"clientSecret": "v1"}
    # the same path read as KV v2 is another API (data/a/b): it finds nothing there
    assert VaultKvStore(address=vault_env.url, namespace=None, mount=mount, path="a/b", kv_version=2).read() is None


def test_a_secrets_manager_store_reads_its_json_document(aws_env: MotoServer) -> None:
    name = f"store/{uuid.uuid4().hex}"
    sm = SecretsManagerStore(name=name, region="eu-central-1", endpoint_url=aws_env.url)
    assert sm.client().region == "eu-central-1" and sm.client().endpoint_url == aws_env.url
    assert sm.read() is None
    client = SecretsManagerClient(region="eu-central-1", endpoint_url=aws_env.url)
    client.create_secret(name, '["not", "an object"]', client_request_token=str(uuid.uuid4()))
    assert sm.read() is None
    client.put_secret_value(name, "not json", client_request_token=str(uuid.uuid4()))
    with pytest.raises(CredentialsError) as err:
        sm.read()
    assert str(err.value) == (
        f"{client.where(name)} does not hold a JSON document (changed outside Pulumi?): run `pulumi refresh`, "
        "then `pulumi up` writes it again"
    )
    client.put_secret_value(name, '{"clientSecret": "x"}', client_request_token=str(uuid.uuid4()))
    assert sm.read() == {"clientSecret": "x"}


def test_the_stores_helper_writes_refreshes_and_deletes_a_secrets_manager_secret(aws_env: MotoServer) -> None:
    """The managed client's way in (components/providers/stores.py): each call goes to the store kind's provider."""
    name = f"store/{uuid.uuid4().hex}"
    sm = SecretsManagerStore(name=name, region="eu-central-1", endpoint_url=aws_env.url)
    settings = {**sm.settings(), "connector": "patchworks", "owner": OWNER, "force_delete": True}
    state = stores.write("secretsManager", settings, {"clientSecret": CANARY}, None)
    assert stores.read_current("secretsManager", state) == {"clientSecret": CANARY}
    refreshed = stores.refresh("secretsManager", state)
    assert refreshed is not None and refreshed["version_id"] == state["version_id"]
    stores.delete("secretsManager", state)
    assert sm.read() is None and stores.refresh("secretsManager", state) is None


def test_a_secrets_manager_store_refuses_a_vault_connectors_settings() -> None:
    from ctp_credentials.components.config import ConnectorConfig
    from ctp_credentials.components.errors import CredentialsError
    from ctp_credentials.components.secret_store import SecretsManagerStore

    c = ConnectorConfig.model_validate(
        {
            "name": "v",
            "projectKey": "shop-eu",
            "scopes": ["view_orders:shop-eu"],
            "clientId": "abc",
            "clientSecret": "s",
        }
    )
    with pytest.raises(CredentialsError, match="connector 'v' keeps its secret in Vault, not in Secrets Manager"):
        SecretsManagerStore(name="x").keeping(c)


@pytest.mark.parametrize(("kind", "missing"), [("vault", "path"), ("secretsManager", "secret name")])
def test_a_record_without_its_name_is_no_store(kind: str, missing: str) -> None:
    from ctp_credentials.components.errors import CredentialsError
    from ctp_credentials.components.secret_store import store

    for settings in ({}, {"path": None, "name": None}, {"path": "", "name": ""}):
        with pytest.raises(CredentialsError, match=f"this {kind} location has no {missing}: run `pulumi refresh`"):
            store(kind, settings)  # type: ignore[arg-type]
