"""The Vault client against a real OpenBao server: check-and-set, metadata, errors that say what to do."""

from __future__ import annotations

import uuid
from typing import Any

import hvac
import pytest
import requests

from ctp_credentials.components.clients.vault import TIMEOUT, VaultClient, _remote
from ctp_credentials.components.errors import VaultError
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY


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


def test_a_version_is_read_as_asked_and_a_destroyed_one_counts_as_gone(vault_env: OpenBaoServer) -> None:
    v, path = VaultClient(), fresh_path()
    v.create_or_update_secret(path, {"n": "1"}, cas=0)
    v.create_or_update_secret(path, {"n": "2"}, cas=1)
    first = v.read_secret_version(path, 1)
    assert first is not None and (first.version, first.data) == (1, {"n": "1"})
    hvac.Client(url=vault_env.url, token=vault_env.root_token).secrets.kv.v2.destroy_secret_versions(
        path=path, versions=[1]
    )
    meta = v.read_secret_metadata(path)
    assert meta is not None and meta.deleted == {1: True, 2: False} and meta.current_version == 2


def test_a_mount_name_ending_like_the_strip_keeps_its_letters(vault_env: OpenBaoServer) -> None:
    assert VaultClient(mount="kvX").where("") == f"Vault {vault_env.url} kvX"


def test_each_metadata_verb_says_what_it_could_not_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_ADDR", "http://127.0.0.1:9")
    monkeypatch.setenv("VAULT_TOKEN", "x")
    fix = "cannot connect. Check VAULT_ADDR and that the server is running"
    with pytest.raises(VaultError) as read:
        VaultClient().read_secret_metadata("a/b")
    assert str(read.value) == f"cannot read metadata of Vault http://127.0.0.1:9 secret/a/b: {fix}"
    with pytest.raises(VaultError) as update:
        VaultClient().update_metadata("a/b", {"k": "v"})
    assert str(update.value) == f"cannot update metadata of Vault http://127.0.0.1:9 secret/a/b: {fix}"


def test_a_request_requests_cannot_send_and_an_unknown_mount_are_named(
    vault_env: OpenBaoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(VaultError) as schema:
        VaultClient(address="ftp://127.0.0.1:9").read_secret_version("a")
    assert str(schema.value) == "cannot read Vault ftp://127.0.0.1:9 secret/a: InvalidSchema"
    with pytest.raises(VaultError) as mount:
        VaultClient(mount="no-such-mount").create_or_update_secret("p", {"k": CANARY}, cas=0)
    assert str(mount.value) == (
        f"cannot write Vault {vault_env.url} no-such-mount/p: InvalidPath: no handler for route "
        '"no-such-mount/data/p". route entry not found.'
    )


def test_vaults_refusals_are_told_by_kind(vault_env: OpenBaoServer) -> None:
    """OpenBao gives no other 400 than check-and-set to a KV write, nor 500s on demand: hvac's own exceptions."""
    v = VaultClient()
    cas = hvac.exceptions.InvalidRequest(errors=["check-and-set parameter did not match the current version"])
    assert v._explain(cas, "p", "cannot write X") == (
        "cannot write X: someone else wrote it since our last write (check-and-set). Run `pulumi refresh` to see "
        "the change, then `pulumi up`"
    )
    other = hvac.exceptions.InvalidRequest(errors=["max_versions must be positive"])
    assert v._explain(other, "p", "cannot write X") == "cannot write X: max_versions must be positive"
    down = hvac.exceptions.InternalServerError(errors=["storage failed"])
    assert v._explain(down, "p", "cannot read X") == "cannot read X: InternalServerError: storage failed"


def test_what_vault_said_is_its_errors_joined_or_its_message_without_the_url() -> None:
    many = hvac.exceptions.InvalidRequest("a\nb", errors=["a", "b"], method="put", url="http://v/x")
    assert _remote(many) == "a; b"
    assert _remote(hvac.exceptions.InvalidRequest(errors=["e" * 400])) == "e" * 300
    bare = hvac.exceptions.InvalidPath("no handler for route, really", method="get", url="http://v/x, on y")
    assert str(bare) == "no handler for route, really, on get http://v/x, on y"
    assert _remote(bare) == "no handler for route, really"
    assert _remote(hvac.exceptions.InvalidPath("m" * 400, method="get", url="u")) == "m" * 300


class _RecordingAdapter(requests.adapters.HTTPAdapter):
    """requests' own transport, noting the timeout each request is sent with."""

    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[Any] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.timeouts.append(kwargs.get("timeout"))
        return super().send(request, **kwargs)


def test_every_request_waits_at_most_our_timeout(vault_env: OpenBaoServer) -> None:
    """hvac's default is 30 s, while a timeout is reported as `no answer within {TIMEOUT}s`: each request must
    carry TIMEOUT (a wall-clock test of a silent server would take the full 30 s to tell them apart)."""
    v = VaultClient()
    recorder = _RecordingAdapter()
    v._client.session.mount("http://", recorder)
    path = fresh_path()
    v.create_or_update_secret(path, {"k": "v"}, cas=0)
    assert v.read_secret_version(path) is not None
    assert recorder.timeouts == [TIMEOUT, TIMEOUT]
