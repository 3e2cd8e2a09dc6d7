"""The commercetools client against the emulator: typed errors, retries, timeouts, no secret in messages."""

from __future__ import annotations

import pytest
import requests

from components.commercetools import CommercetoolsClient, RetryPolicy
from components.errors import CommercetoolsError, InvalidClientError, InvalidScopeError, UnreachableError
from tests.conftest import CANARY
from testservers.commercetools import CommercetoolsEmulator

PK = "product-patchworks"
FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02, max_retry_after=0.05)


def client_for(emu: CommercetoolsEmulator, **kw: object) -> CommercetoolsClient:
    return CommercetoolsClient(emu.url, emu.url, retry=FAST, **kw)  # type: ignore[arg-type]


def test_token_for_configured_scopes(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"manage_orders:{PK}"], secret=CANARY)
    token = client_for(emulator).request_token(c.id, CANARY, [f"manage_orders:{PK}"])
    assert token.token_type == "Bearer"
    assert f"view_orders:{PK}" in token.scope.split()  # implied scope granted too
    assert token.access_token not in repr(token)
    assert token.access_token not in str(token)


def test_wrong_secret_is_invalid_client_without_the_secret(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"])
    with pytest.raises(InvalidClientError) as err:
        client_for(emulator).request_token(c.id, CANARY, None)
    assert err.value.status == 401
    assert "invalid_client" in str(err.value)
    assert CANARY not in str(err.value)


def test_scope_not_held_is_invalid_scope(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    with pytest.raises(InvalidScopeError, match="Permissions exceeded"):
        client_for(emulator).request_token(c.id, CANARY, [f"manage_customers:{PK}"])


def test_missing_token_key_is_explained(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    with pytest.raises(CommercetoolsError, match="without a 'token'"):
        client_for(emulator).request_token(c.id, CANARY, None, token_key="token")


def test_429_retried_honouring_retry_after(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    emulator.faults.add("token", status=429, retry_after=1, times=2)
    slept: list[float] = []
    token = client_for(emulator, sleep=slept.append).request_token(c.id, CANARY, None)
    assert token.token_type == "Bearer"
    assert slept == [0.05, 0.05]  # Retry-After: 1, capped by the policy's max_retry_after
    assert emulator.count("token") == 3


def test_5xx_gives_up_after_bounded_attempts(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    emulator.faults.add("token", status=503)
    with pytest.raises(CommercetoolsError, match=r"HTTP 503.*gave up after 3 attempts") as err:
        client_for(emulator, sleep=lambda _s: None).request_token(c.id, CANARY, None)
    assert err.value.status == 503
    assert emulator.count("token") == 3


def test_dropped_connection_is_unreachable(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    emulator.faults.add("token", drop=True)
    with pytest.raises(UnreachableError, match=r"dropped|connect"):
        client_for(emulator, sleep=lambda _s: None).request_token(c.id, CANARY, None)


def test_timeout_is_unreachable(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    emulator.faults.add("token", latency=0.5)
    with pytest.raises(UnreachableError, match="did not answer within"):
        client_for(emulator, timeout=(1.0, 0.1), sleep=lambda _s: None).request_token(c.id, CANARY, None)


def test_connection_refused() -> None:
    client = CommercetoolsClient("http://127.0.0.1:9", "http://127.0.0.1:9", retry=FAST, sleep=lambda _s: None)
    with pytest.raises(UnreachableError, match="connection refused"):
        client.request_token("id", CANARY, None)


def test_api_clients_lifecycle(emulator: CommercetoolsEmulator) -> None:
    admin = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], secret="admin-secret")
    ct = client_for(emulator)
    token = ct.request_token(admin.id, "admin-secret", None)
    made = ct.create_api_client(token, PK, {"name": "rot-1", "scope": f"view_orders:{PK}"})
    assert made["secret"]
    got = ct.get_api_client(token, PK, made["id"])
    assert got is not None and "secret" not in got
    assert [r["id"] for r in ct.query_api_clients(token, PK, where='name="rot-1"')["results"]] == [made["id"]]
    ct.delete_api_client(token, PK, made["id"])
    ct.delete_api_client(token, PK, made["id"])  # already gone: still done
    assert ct.get_api_client(token, PK, made["id"]) is None


def test_create_not_retried_on_dropped_connection(emulator: CommercetoolsEmulator) -> None:
    admin = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], secret="admin-secret")
    ct = client_for(emulator, sleep=lambda _s: None)
    token = ct.request_token(admin.id, "admin-secret", None)
    emulator.faults.add("api_clients", drop=True, times=1)
    with pytest.raises(UnreachableError):
        ct.create_api_client(token, PK, {"name": "x", "scope": f"view_orders:{PK}"})
    assert emulator.count("api_clients") == 1


def test_client_repr_has_no_session_secrets(emulator: CommercetoolsEmulator) -> None:
    s = requests.Session()
    s.auth = ("user", CANARY)
    assert CANARY not in repr(CommercetoolsClient(emulator.url, emulator.url, session=s))


def test_permissions_exceeded_is_a_scope_error_whatever_its_code() -> None:
    """The reference marks that answer's code unconfirmed; its documented message is enough for scope advice."""
    import json

    from components.commercetools import _error

    answer = requests.Response()
    answer.status_code = 400
    message = "Permissions exceeded. Only the following permissions can be requested: view_orders"
    answer._content = json.dumps(
        {"statusCode": 400, "message": message, "errors": [{"code": "invalid_request", "message": message}]}
    ).encode()
    assert isinstance(_error(answer, "token request"), InvalidScopeError)
    answer._content = json.dumps({"statusCode": 400, "message": "Bad", "error": "invalid_request"}).encode()
    assert type(_error(answer, "token request")) is CommercetoolsError
