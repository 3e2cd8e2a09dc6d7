"""The admin client (one check that it can manage a project's API clients) and a new client's first token (one
retry), for the managed client's provider and `rotate` alike, against the emulator and OpenBao."""

from __future__ import annotations

import uuid

import pytest

from ctp_credentials.components.clients.admin import AdminError, AdminSource, admin_token, wait_until_usable
from ctp_credentials.components.clients.commercetools import CommercetoolsClient, RetryPolicy
from ctp_credentials.components.clients.vault import VaultClient
from ctp_credentials.components.errors import InvalidClientError, InvalidScopeError
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY

PK = "shop-eu"
ENV = "the environment variables OPS_CLIENT_ID and OPS_CLIENT_SECRET"


def _ct(emulator: CommercetoolsEmulator) -> CommercetoolsClient:
    return CommercetoolsClient(emulator.url, emulator.url, retry=RetryPolicy(attempts=1))


def test_the_admin_client_comes_from_the_environment_and_must_manage_api_clients(
    emulator: CommercetoolsEmulator,
) -> None:
    ct, ops = _ct(emulator), AdminSource(env_prefix="OPS")
    for partial in ({"OPS_CLIENT_ID": "x"}, {"OPS_CLIENT_SECRET": "x"}, {"CTP_ADMIN_CLIENT_ID": "x"}):
        with pytest.raises(AdminError) as missing:
            admin_token(ct, PK, ops, partial)
        assert str(missing.value) == (
            f"no admin credentials for project {PK}: set {ENV} to an API client holding manage_api_clients:{PK} "
            "(made once by hand in the Merchant Center)"
        )
    assert emulator.count("token") == 0  # nothing sent without both
    admin = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], secret=CANARY)
    token = admin_token(ct, PK, ops, {"OPS_CLIENT_ID": admin.id, "OPS_CLIENT_SECRET": CANARY})
    assert f"manage_api_clients:{PK}" in token.scope.split()
    assert emulator.requests[-1].endpoint == "token"
    emulator.faults.add("token", grant_scope=f"view_orders:{PK}", times=1)  # granted less than asked
    with pytest.raises(AdminError) as narrow:
        admin_token(ct, PK, ops, {"OPS_CLIENT_ID": admin.id, "OPS_CLIENT_SECRET": CANARY})
    assert str(narrow.value).startswith(f"the admin client from {ENV} cannot manage API clients of {PK}: ")
    assert str(narrow.value).endswith(f". It needs manage_api_clients:{PK}") and CANARY not in str(narrow.value)
    viewer = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    with pytest.raises(AdminError) as refused:  # commercetools refuses a scope the client does not hold
        admin_token(ct, PK, ops, {"OPS_CLIENT_ID": viewer.id, "OPS_CLIENT_SECRET": CANARY})
    assert str(refused.value).startswith(f"the admin client from {ENV} cannot manage API clients of {PK}: ")
    assert "invalid_scope" in str(refused.value) and CANARY not in str(refused.value)


def test_the_admin_client_may_come_from_vault(emulator: CommercetoolsEmulator, vault_env: OpenBaoServer) -> None:
    admin = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], secret=CANARY)
    path = f"admin/{uuid.uuid4().hex}"
    source = AdminSource(vault_path=path, vault_address=vault_env.url)
    with pytest.raises(AdminError) as missing:  # nothing there yet
        admin_token(_ct(emulator), PK, source, {"CTP_ADMIN_CLIENT_ID": admin.id, "CTP_ADMIN_CLIENT_SECRET": CANARY})
    assert f"set Vault {vault_env.url} secret/{path} (keys clientId, clientSecret) to an API client" in str(
        missing.value
    )
    vault = VaultClient(address=vault_env.url)
    vault.create_or_update_secret(path, {"clientSecret": CANARY}, cas=0)  # half of it: no client ID
    with pytest.raises(AdminError) as half:
        admin_token(_ct(emulator), PK, source, {})
    assert str(half.value).startswith(f"no admin credentials for project {PK}: ")
    assert emulator.count("token") == 0  # nothing sent without both
    vault.create_or_update_secret(path, {"clientId": admin.id, "clientSecret": CANARY}, cas=1)
    assert f"manage_api_clients:{PK}" in admin_token(_ct(emulator), PK, source, {}).scope.split()


def test_a_new_client_is_retried_until_commercetools_accepts_it(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    slept: list[float] = []
    emulator.faults.add("token", status=401, times=2)
    wait_until_usable(_ct(emulator), c.id, CANARY, [f"view_orders:{PK}"], sleep=slept.append)
    assert slept == [0.25, 0.5] and emulator.count("token") == 3
    slept.clear()
    emulator.faults.add("token", status=401)
    with pytest.raises(InvalidClientError):
        wait_until_usable(_ct(emulator), c.id, CANARY, [f"view_orders:{PK}"], sleep=slept.append)
    assert slept == [0.25, 0.5, 1.0, 2.0, 4.0]  # six attempts, no wait after the last
    emulator.faults.clear()
    slept.clear()
    with pytest.raises(InvalidScopeError):
        wait_until_usable(_ct(emulator), c.id, CANARY, [f"manage_orders:{PK}"], sleep=slept.append)
    assert slept == []


def test_a_new_clients_token_is_read_under_the_connectors_token_key(emulator: CommercetoolsEmulator) -> None:
    """`rotate` of a connector whose auth server answers under another key tests it as the program does."""
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    emulator.faults.add("token", token_key="token", times=1)
    wait_until_usable(_ct(emulator), c.id, CANARY, [f"view_orders:{PK}"], token_key="token", sleep=lambda _: None)
