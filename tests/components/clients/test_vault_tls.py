"""Vault over TLS, as in production: OpenBao serving https with a certificate from its own CA. The CA comes
from VAULT_CACERT; an untrusted certificate or a wrong CA path is a clear error, and nothing is sent."""

from __future__ import annotations

from collections.abc import Iterator

import hvac
import pytest

from ctp_credentials.components.clients.vault import VaultClient
from ctp_credentials.components.errors import VaultError
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY

pytestmark = pytest.mark.security("faults")


@pytest.fixture(scope="module")
def tls_bao() -> Iterator[OpenBaoServer]:
    with OpenBaoServer(tls=True) as server:
        yield server


def stored(server: OpenBaoServer, path: str) -> dict[str, str]:
    kv = hvac.Client(url=server.url, token=server.root_token, verify=server.verify).secrets.kv.v2
    return dict(kv.read_secret_version(path=path, raise_on_deleted_version=True)["data"]["data"])


def test_vault_cacert_verifies_the_server(tls_bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in tls_bao.env().items():
        monkeypatch.setenv(key, value)
    assert tls_bao.url.startswith("https://")
    VaultClient().create_or_update_secret("tls/patchworks", {"clientSecret": CANARY}, cas=0)
    assert stored(tls_bao, "tls/patchworks") == {"clientSecret": CANARY}


def test_an_untrusted_certificate_is_refused_with_the_fix(
    tls_bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_ADDR", tls_bao.url)
    monkeypatch.setenv("VAULT_TOKEN", tls_bao.root_token)
    monkeypatch.setenv("VAULT_SKIP_VERIFY", "true")  # what the vault CLI would honour; we do not
    with pytest.raises(VaultError) as caught:
        VaultClient().create_or_update_secret("tls/untrusted", {"clientSecret": CANARY}, cas=0)
    assert str(caught.value) == (
        f"cannot write Vault {tls_bao.url} secret/tls/untrusted: its TLS certificate is not trusted. Set "
        "VAULT_CACERT to the PEM file of the CA that signed it (VAULT_SKIP_VERIFY is not honoured)"
    )
    with pytest.raises(hvac.exceptions.InvalidPath):
        stored(tls_bao, "tls/untrusted")


def test_a_cacert_that_is_not_a_file_is_named(tls_bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_ADDR", tls_bao.url)
    monkeypatch.setenv("VAULT_TOKEN", tls_bao.root_token)
    monkeypatch.setenv("VAULT_CACERT", "/nonexistent/ca.pem")
    with pytest.raises(VaultError, match=r"VAULT_CACERT is /nonexistent/ca.pem, which is not a file"):
        VaultClient()
