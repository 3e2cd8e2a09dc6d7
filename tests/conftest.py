"""Shared fixtures: each external system behind a fixture that starts the real server on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from testservers.commercetools import CommercetoolsEmulator
from testservers.openbao import OpenBaoServer

CANARY = "CANARY-s3cr3t-5f1e2d3c4b5a69788796a5b4"  # a secret that must never show up where it should not


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's own cloud, Vault or Pulumi credentials."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "VAULT_", "BAO_", "PULUMI_", "CTP_")) and key != "CTP_PULUMI_BIN":
            monkeypatch.delenv(key, raising=False)


@pytest.fixture(scope="session")
def openbao() -> Iterator[OpenBaoServer]:
    with OpenBaoServer() as server:
        yield server


@pytest.fixture
def vault_env(openbao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch) -> OpenBaoServer:
    for key, value in openbao.env().items():
        monkeypatch.setenv(key, value)
    return openbao


@pytest.fixture
def emulator() -> Iterator[CommercetoolsEmulator]:
    with CommercetoolsEmulator() as emu:
        yield emu
