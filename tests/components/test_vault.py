"""The Vault client against a real OpenBao server: check-and-set, metadata, errors that say what to do."""

from __future__ import annotations

import uuid

import pytest

from components.errors import VaultError
from components.vault import VaultClient
from tests.conftest import CANARY
from testservers.openbao import OpenBaoServer


def fresh_path() -> str:
    return f"tests/{uuid.uuid4().hex}"


def test_write_read_with_cas(vault_env: OpenBaoServer) -> None:
    v = VaultClient()
    path = fresh_path()
    assert v.read_secret_version(path) is None
    assert v.create_or_update_secret(path, {"clientSecret": CANARY}, cas=0) == 1
    got = v.read_secret_version(path)
    assert got is not None and got.version == 1 and got.data == {"clientSecret": CANARY}
    assert CANARY not in repr(got)
    assert v.create_or_update_secret(path, {"clientSecret": "two"}, cas=1) == 2


def test_cas_conflict_is_explained(vault_env: OpenBaoServer) -> None:
    v = VaultClient()
    path = fresh_path()
    v.create_or_update_secret(path, {"a": "1"}, cas=0)
    with pytest.raises(VaultError, match=r"check-and-set.*pulumi refresh") as err:
        v.create_or_update_secret(path, {"a": CANARY}, cas=0)
    assert CANARY not in str(err.value)


def test_metadata_and_soft_delete(vault_env: OpenBaoServer) -> None:
    v = VaultClient()
    path = fresh_path()
    v.update_metadata(path, {"managed-by": "ctp-credentials"})
    meta = v.read_secret_metadata(path)
    assert meta is not None and meta.current_version == 0 and meta.custom_metadata == {"managed-by": "ctp-credentials"}
    v.create_or_update_secret(path, {"a": "1"}, cas=0)
    v.delete_secret_versions(path, [1])
    assert v.read_secret_version(path) is None
    meta = v.read_secret_metadata(path)
    assert meta is not None and meta.deleted == {1: True}
    v.delete_metadata_and_all_versions(path)
    assert v.read_secret_metadata(path) is None


def test_missing_token_says_where_to_put_it(vault_env: OpenBaoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULT_TOKEN")
    with pytest.raises(VaultError, match="set VAULT_TOKEN"):
        VaultClient()


def test_missing_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_TOKEN", "x")
    with pytest.raises(VaultError, match="VAULT_ADDR"):
        VaultClient()


def test_bad_token_rejected(vault_env: OpenBaoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_TOKEN", "not-a-token")
    with pytest.raises(VaultError, match=r"permission denied|token was rejected"):
        VaultClient().read_secret_version(fresh_path())


def test_server_down_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_ADDR", "http://127.0.0.1:9")
    monkeypatch.setenv("VAULT_TOKEN", "x")
    with pytest.raises(VaultError, match=r"cannot connect.*VAULT_ADDR"):
        VaultClient().read_secret_version("a")


def test_repr_has_no_token(vault_env: OpenBaoServer) -> None:
    assert vault_env.root_token not in repr(VaultClient())


def test_where_names_server_namespace_mount_and_path(vault_env: OpenBaoServer) -> None:
    assert VaultClient(mount="kv").where("a/b") == f"Vault {vault_env.url} kv/a/b"
    assert VaultClient(namespace="team-a").where("a/b") == f"Vault {vault_env.url} namespace team-a secret/a/b"
    assert VaultClient().where("") == f"Vault {vault_env.url} secret"  # a login: no path
