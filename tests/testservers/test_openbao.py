"""The OpenBao test server leaves the user's own Vault login alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from ctp_credentials.testing.openbao import OpenBaoServer


def test_the_dev_server_does_not_write_a_token_into_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`bao server -dev` stores its root token in ~/.vault-token unless told not to: the demo and every test
    session would replace the developer's own login with a token of a server that is gone a minute later."""
    monkeypatch.setenv("HOME", str(tmp_path))
    with OpenBaoServer() as server:
        health = requests.get(f"{server.url}/v1/sys/health", timeout=5)
        assert health.status_code == 200
    assert not (tmp_path / ".vault-token").exists()
