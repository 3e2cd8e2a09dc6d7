"""Shared fixtures: each external system behind a fixture that starts the real server on loopback."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.moto import MotoServer
from ctp_credentials.testing.openbao import OpenBaoServer

CANARY = "CANARY-s3cr3t-5f1e2d3c4b5a69788796a5b4"  # a secret that must never show up where it should not


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With CTP_SECURITY_COUNTS=<file>, write how many tests each `security` category has: SECURITY.md's table
    is checked against these numbers (tests/hardening/test_security_md.py)."""
    target = os.environ.get("CTP_SECURITY_COUNTS")
    if not target:
        return
    counts: dict[str, int] = {}
    for item in items:
        for mark in item.iter_markers("security"):
            counts[mark.args[0]] = counts.get(mark.args[0], 0) + 1
    Path(target).write_text(json.dumps(counts, sort_keys=True))


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's own cloud, Vault or Pulumi credentials."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "VAULT_", "BAO_", "PULUMI_", "CTP_")) and key != "CTP_PULUMI_BIN":
            monkeypatch.delenv(key, raising=False)


# The servers come from the fixtures users get (ctp_credentials.testing.pytest_plugin); these are the suite's
# short names for them.
pytest_plugins = ["ctp_credentials.testing.pytest_plugin"]


@pytest.fixture(scope="session")
def openbao(ctp_openbao: OpenBaoServer) -> OpenBaoServer:
    return ctp_openbao


@pytest.fixture
def vault_env(openbao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch) -> OpenBaoServer:
    for key, value in openbao.env().items():
        monkeypatch.setenv(key, value)
    return openbao


@pytest.fixture
def emulator(ctp_emulator: CommercetoolsEmulator) -> CommercetoolsEmulator:
    return ctp_emulator


@pytest.fixture(scope="session")
def moto_server(ctp_moto: MotoServer) -> MotoServer:
    return ctp_moto


@pytest.fixture
def aws_env(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[MotoServer]:
    """moto's endpoints and dummy credentials in the environment; the developer's ~/.aws is out of reach. The
    server is shared by the session: a fault a test left unused is cleared, or it would fail a later test."""
    for key, value in moto_server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield moto_server
    moto_server.faults.clear()


@pytest.fixture
def event_loop_for_mocks() -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh current event loop for `pulumi.runtime.set_mocks`, closed at teardown: on Python >= 3.12 the SDK
    asking for a current loop when there is none is a DeprecationWarning, an error under filterwarnings."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()
