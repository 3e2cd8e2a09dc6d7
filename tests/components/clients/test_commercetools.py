"""The commercetools client against the emulator: typed errors, retries, timeouts, no secret in messages."""

from __future__ import annotations

import json

import pytest
import requests

from ctp_credentials.components.clients import commercetools
from ctp_credentials.components.clients.commercetools import CommercetoolsClient, RetryPolicy
from ctp_credentials.components.errors import (
    CommercetoolsError,
    InvalidClientError,
    InvalidScopeError,
    UnreachableError,
)
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from tests.conftest import CANARY

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

    from ctp_credentials.components.clients.commercetools import _error

    answer = requests.Response()
    answer.status_code = 400
    message = "Permissions exceeded. Only the following permissions can be requested: view_orders"
    answer._content = json.dumps(
        {"statusCode": 400, "message": message, "errors": [{"code": "invalid_request", "message": message}]}
    ).encode()
    assert isinstance(_error(answer, "token request"), InvalidScopeError)
    answer._content = json.dumps({"statusCode": 400, "message": "Bad", "error": "invalid_request"}).encode()
    assert type(_error(answer, "token request")) is CommercetoolsError


# --- the error mapping, on answers as commercetools (or a proxy in front of it) gives them -------------------------
def answer(status: int, body: object = None, *, reason: str | None = "Reason") -> requests.Response:
    resp = requests.Response()
    resp.status_code, resp.url = status, "https://auth.example.com/oauth/token"
    resp.reason = reason  # type: ignore[assignment]  # a proxy may send none: the mapping must cope
    resp._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return resp


ERRORS = [
    # (answer, expected type, code, text after "token request: ")
    (
        answer(401, {"message": "m", "error": "invalid_client", "errors": [{"code": "other", "message": "x"}]}),
        InvalidClientError,
        "invalid_client",
        "HTTP 401 invalid_client: m",
    ),
    (
        answer(400, {"errors": [{"code": "invalid_scope", "message": "from errors"}]}),
        InvalidScopeError,
        "invalid_scope",
        "HTTP 400 invalid_scope: from errors",
    ),
    (
        answer(400, {"message": "Permissions exceeded. Only view_orders", "error": "insufficient_x"}),
        InvalidScopeError,
        "insufficient_x",
        "HTTP 400 insufficient_x: Permissions exceeded. Only view_orders",
    ),
    (
        answer(403, {"message": "m", "error": "invalid_scope"}),
        CommercetoolsError,
        "invalid_scope",
        "HTTP 403 invalid_scope: m",
    ),
    (
        answer(400, {"message": "m", "error": "invalid_client"}),
        CommercetoolsError,
        "invalid_client",
        "HTTP 400 invalid_client: m",
    ),
    (
        answer(401, {"message": "expired", "error": "invalid_token"}),
        CommercetoolsError,
        "invalid_token",
        "HTTP 401 invalid_token: expired",
    ),
    (
        answer(502, b"<html>bad gateway</html>", reason="Bad Gateway"),
        CommercetoolsError,
        "http_502",
        "HTTP 502 http_502: Bad Gateway",
    ),
    (answer(500, ["not", "an", "object"], reason=None), CommercetoolsError, "http_500", "HTTP 500 http_500: "),
    (answer(500, {"errors": {"code": "x"}}, reason="R"), CommercetoolsError, "http_500", "HTTP 500 http_500: R"),
    (answer(500, {"errors": ["x"]}, reason="R"), CommercetoolsError, "http_500", "HTTP 500 http_500: R"),
    (answer(500, {"message": "y" * 400}), CommercetoolsError, "http_500", "HTTP 500 http_500: " + "y" * 300),
]


@pytest.mark.parametrize(("resp", "kind", "code", "text"), ERRORS)
def test_error_answers_become_typed_errors(resp: requests.Response, kind: type, code: str, text: str) -> None:
    error = commercetools._error(resp, "token request")
    assert type(error) is kind and str(error) == f"token request: {text}"
    assert (error.status, error.code) == (resp.status_code, code)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Failed to resolve 'auth.x' ([Errno -2] Name or service not known)", "DNS lookup failed"),
        ("NameResolutionError(...)", "DNS lookup failed"),
        ("nodename nor servname provided, or not known", "DNS lookup failed"),
        ("[Errno 111] Connection refused", "connection refused"),
        ("RemoteDisconnected('Remote end closed connection')", "connection dropped before an answer"),
        ("('Connection aborted.', ...)", "connection dropped before an answer"),
        ("[Errno 104] Connection reset by peer", "connection dropped before an answer"),
        ("SSLError(...)", "TLS handshake failed"),
        ("certificate verify failed", "TLS handshake failed"),
        ("something else entirely", "connection failed"),
    ],
)
def test_connection_problems_in_a_few_words(text: str, problem: str) -> None:
    assert commercetools.connection_problem(requests.ConnectionError(text)) == problem


def test_only_a_dns_failure_points_at_the_region() -> None:
    assert commercetools._dns_hint("DNS lookup failed") == "DNS lookup failed: check region / authUrl"
    assert commercetools._dns_hint("connection refused") == "connection refused"


def test_unreachable_messages_name_the_host() -> None:
    client = CommercetoolsClient("http://127.0.0.1:9", "http://127.0.0.1:9", retry=FAST, sleep=lambda _s: None)
    with pytest.raises(UnreachableError) as err:
        client.request_token("id", CANARY, None)
    assert (
        str(err.value) == "token request: cannot connect to 127.0.0.1:9 (connection refused) (gave up after 3 attempts)"
    )


def test_retry_after_is_bounded_and_never_negative() -> None:
    policy = RetryPolicy(attempts=4, backoff=0.5, max_backoff=8.0, max_retry_after=30.0)
    assert [policy.delay(0, "0"), policy.delay(0, "-5"), policy.delay(0, "7"), policy.delay(0, "900")] == [0, 0, 7, 30]
    assert [policy.delay(n, None) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert policy.delay(2, "Wed, 21 Oct 2015 07:28:00 GMT") == 2.0  # an HTTP date: our own backoff


def test_get_and_delete_of_a_missing_client(emulator: CommercetoolsEmulator) -> None:
    """404 is an answer ("no such client"), other failures are errors: a delete must not pass on a 500."""
    admin = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], secret=CANARY)
    ct = client_for(emulator, sleep=lambda _s: None)
    token = ct.request_token(admin.id, CANARY, None)
    assert ct.get_api_client(token, PK, "no-such-client") is None
    ct.delete_api_client(token, PK, "no-such-client")
    emulator.faults.add("api_clients", status=500)
    with pytest.raises(CommercetoolsError, match=r"get API client: HTTP 500") as got:
        ct.get_api_client(token, PK, admin.id)
    with pytest.raises(CommercetoolsError, match=r"delete API client: HTTP 500") as deleted:
        ct.delete_api_client(token, PK, admin.id)
    assert got.value.status == deleted.value.status == 500


def test_a_token_carries_what_commercetools_answered(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    token = client_for(emulator).request_token(c.id, CANARY, [f"view_orders:{PK}"])
    assert (token.scope, token.expires_in, token.token_type) == (f"view_orders:{PK}", 172800, "Bearer")


def test_a_token_key_that_holds_no_string_is_refused_with_the_fix(emulator: CommercetoolsEmulator) -> None:
    """tokenKey pointing at another field of the answer (here the lifetime, a number) is not a token."""
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    with pytest.raises(CommercetoolsError) as err:
        client_for(emulator).request_token(c.id, CANARY, None, token_key="expires_in")
    assert err.value.status == 200 and str(err.value) == (
        "the token endpoint answered 200 without a 'expires_in' field; check tokenKey (commercetools uses "
        "access_token) and that authUrl points at a commercetools auth host"
    )


def test_api_client_calls_name_themselves_in_errors_and_page(emulator: CommercetoolsEmulator) -> None:
    admin = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], secret="admin-secret")
    ct = client_for(emulator, sleep=lambda _s: None)
    token = ct.request_token(admin.id, "admin-secret", None)
    made = [
        ct.create_api_client(token, PK, {"name": f"page-{i}", "scope": f"view_orders:{PK}"})["id"] for i in range(3)
    ]
    everyone = ct.query_api_clients(token, PK)["results"]
    page = ct.query_api_clients(token, PK, limit=1, offset=1)
    assert (page["limit"], page["offset"], len(page["results"])) == (1, 1, 1)
    assert (
        page["results"][0]["id"] == everyone[1]["id"] and len(everyone) == 4 and set(made) < {c["id"] for c in everyone}
    )
    emulator.faults.add("api_clients", status=403, times=2)
    with pytest.raises(CommercetoolsError, match=r"^create API client: HTTP 403 "):
        ct.create_api_client(token, PK, {"name": "x", "scope": f"view_orders:{PK}"})
    with pytest.raises(CommercetoolsError, match=r"^query API clients: HTTP 403 "):
        ct.query_api_clients(token, PK)


def test_base_urls_lose_only_their_trailing_slash(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    ct = CommercetoolsClient(emulator.url + "/", emulator.url + "/", retry=FAST)
    ct.request_token(c.id, CANARY, None)
    assert emulator.requests[-1].path == "/oauth/token"
    assert (
        CommercetoolsClient("https://auth.example/PX/", "https://api.example/X/").auth_url == "https://auth.example/PX"
    )
    assert CommercetoolsClient("https://auth.example/PX/", "https://api.example/X/").api_url == "https://api.example/X"


def test_every_request_identifies_the_tool_and_asks_for_json(emulator: CommercetoolsEmulator) -> None:
    """commercetools support finds a tool's calls by User-Agent; Accept keeps proxies from answering HTML."""
    admin = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], secret=CANARY)
    ct = client_for(emulator)
    ct.query_api_clients(ct.request_token(admin.id, CANARY, None), PK)
    assert [(e.endpoint, e.user_agent, e.accept) for e in emulator.requests] == [
        ("token", "ctp-credentials", "application/json"),
        ("api_clients", "ctp-credentials", "application/json"),
    ]


def test_a_token_answer_without_optional_fields_reads_as_empty(emulator: CommercetoolsEmulator) -> None:
    """The reference lists scope, expires_in and token_type; an answer without them must not invent any (an
    empty scope then fails the credential check's grant comparison, the safe side)."""
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    emulator.faults.add("token", answer={"access_token": "t"}, times=1)
    token = client_for(emulator).request_token(c.id, CANARY, None)
    assert (token.scope, token.expires_in, token.token_type) == ("", 0, "")
    emulator.faults.add("token", answer={"access_token": "t", "expires_in": None}, times=1)
    assert client_for(emulator).request_token(c.id, CANARY, None).expires_in == 0


def test_an_answer_that_is_not_a_json_object_is_an_error_naming_the_host(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    host = emulator.url.removeprefix("http://")
    emulator.faults.add("token", answer="<html>sign in to the proxy</html>", times=1)
    with pytest.raises(CommercetoolsError) as page:
        client_for(emulator).request_token(c.id, CANARY, None)
    assert (str(page.value), page.value.status) == (f"token request: answer from {host} is not JSON", 200)
    emulator.faults.add("token", answer=["not", "an", "object"], times=1)
    with pytest.raises(CommercetoolsError) as array:
        client_for(emulator).request_token(c.id, CANARY, None)
    assert (str(array.value), array.value.status) == ("token request: answer is not a JSON object", 200)


def test_a_create_is_retried_on_429_only(emulator: CommercetoolsEmulator) -> None:
    """429 means commercetools did not take the request, so a create may be repeated; after a 503 the client
    may exist, and a second create would make a second client."""
    admin = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], secret=CANARY)
    ct = client_for(emulator, sleep=lambda _s: None)
    token = ct.request_token(admin.id, CANARY, None)
    emulator.faults.add("api_clients", status=429, times=1)
    made = ct.create_api_client(token, PK, {"name": "after-429", "scope": f"view_orders:{PK}"})
    assert made["name"] == "after-429" and emulator.count("api_clients") == 2
    emulator.faults.add("api_clients", status=503, times=1)
    with pytest.raises(CommercetoolsError) as err:
        ct.create_api_client(token, PK, {"name": "after-503", "scope": f"view_orders:{PK}"})
    assert (err.value.status, err.value.code, emulator.count("api_clients")) == (503, "ServiceUnavailable", 3)
    assert "gave up" not in str(err.value)


def test_no_wait_after_the_last_attempt(emulator: CommercetoolsEmulator) -> None:
    """Backoff between attempts only: a wait after the last one delays the error for nothing."""
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    emulator.faults.add("token", status=503)
    slept: list[float] = []
    with pytest.raises(CommercetoolsError) as err:
        client_for(emulator, sleep=slept.append).request_token(c.id, CANARY, None)
    assert slept == [0.01, 0.02]  # FAST's backoff, twice for three attempts
    assert (err.value.status, err.value.code) == (503, "ServiceUnavailable")  # kept when giving up
    refused: list[float] = []
    client = CommercetoolsClient("http://127.0.0.1:9", "http://127.0.0.1:9", retry=FAST, sleep=refused.append)
    with pytest.raises(UnreachableError):
        client.request_token("id", CANARY, None)
    assert refused == [0.01, 0.02]


def test_a_timeout_message_names_the_host_and_the_wait(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    emulator.faults.add("token", latency=0.5)
    with pytest.raises(UnreachableError) as err:
        client_for(emulator, timeout=(1.0, 0.1), sleep=lambda _s: None).request_token(c.id, CANARY, None)
    host = emulator.url.removeprefix("http://")
    assert str(err.value) == f"token request: {host} did not answer within 0.1s (gave up after 3 attempts)"


def test_a_request_requests_cannot_send_names_the_problem_and_the_host() -> None:
    client = CommercetoolsClient("ftp://127.0.0.1:9", "ftp://127.0.0.1:9", retry=FAST, sleep=lambda _s: None)
    with pytest.raises(UnreachableError) as err:
        client.request_token("id", CANARY, None)
    assert str(err.value) == "token request: InvalidSchema talking to 127.0.0.1:9"


def test_a_policy_of_no_attempts_sends_nothing_and_says_so() -> None:
    client = CommercetoolsClient("http://127.0.0.1:9", "http://127.0.0.1:9", retry=RetryPolicy(attempts=0))
    with pytest.raises(UnreachableError) as err:
        client.request_token("id", CANARY, [f"view_orders:{PK}"])
    assert str(err.value) == "token request: not sent (RetryPolicy.attempts is 0; use 1 or more)"


def test_remote_error_text_never_carries_what_was_sent_and_stays_one_line(emulator: CommercetoolsEmulator) -> None:
    """A proxy (or a server) that echoes the request: neither the client secret nor the bearer token reaches
    the message, which stays one bounded line (a PR comment or a log line of its own)."""
    admin = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], secret=CANARY)
    client = client_for(emulator)
    echo = {"error": "invalid_request", "message": f"bad request:\nAuthorization: Basic {CANARY}\n" + "x" * 500}
    emulator.faults.add("token", status=400, answer=echo, times=1)
    with pytest.raises(CommercetoolsError) as refused:
        client.request_token(admin.id, CANARY, [f"manage_api_clients:{PK}"])
    text = str(refused.value)
    assert CANARY not in text and "<redacted>" in text and "\n" not in text
    assert text.startswith("token request: HTTP 400 invalid_request: bad request: Authorization: Basic <redacted> x")
    assert len(text) <= len("token request: HTTP 400 invalid_request: ") + 300
    token = client.request_token(admin.id, CANARY, [f"manage_api_clients:{PK}"])
    emulator.faults.add("api_clients", status=400, answer={"message": f"token {token.access_token}"}, times=1)
    with pytest.raises(CommercetoolsError) as listed:
        client.query_api_clients(token, PK)
    assert token.access_token not in str(listed.value) and "token <redacted>" in str(listed.value)


def test_an_error_code_that_echoes_the_secret_is_scrubbed_too(emulator: CommercetoolsEmulator) -> None:
    """The code goes into the message and onto the exception (`code`): neither may carry what was sent."""
    admin = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], secret=CANARY)
    emulator.faults.add("token", status=400, answer={"error": f"bad_{CANARY}", "message": "m"}, times=1)
    with pytest.raises(CommercetoolsError) as refused:
        client_for(emulator).request_token(admin.id, CANARY, [f"manage_api_clients:{PK}"])
    assert str(refused.value) == "token request: HTTP 400 bad_<redacted>: m"
    assert refused.value.code == "bad_<redacted>"
