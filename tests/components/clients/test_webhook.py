"""The webhook client against a real receiver on loopback: the signature contract, retries, and failures that
say what to do without ever showing the signing key."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ctp_credentials.components.clients.commercetools import RetryPolicy
from ctp_credentials.components.clients.webhook import (
    EVENT_CHANGED,
    EVENT_DELETED,
    WebhookClient,
    WebhookError,
    sign,
    verify_signature,
)
from ctp_credentials.components.publishing import canonical, public_url
from ctp_credentials.testing.webhook import WebhookReceiver
from tests.conftest import CANARY

DOC = {"schemaVersion": 1, "name": "patchworks", "clientId": "abc", "secretRef": {"store": "vault", "version": 3}}
BODY = canonical(DOC).encode()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(CANARY) as hook:
        yield hook


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> Iterator[Callable[..., WebhookClient]]:
    made: list[WebhookClient] = []

    def make(url: str, **kw: object) -> WebhookClient:
        # a read timeout a loaded machine cannot miss; the slow-answer test sets its own short one
        options: dict[str, object] = {"timeout": (1.0, 5.0), "sleep": sleeps.append, **kw}
        c = WebhookClient(url, **options)  # type: ignore[arg-type]
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the signature contract ---------------------------------------------------------------------------------
def test_signature_is_hmac_sha256_of_timestamp_event_delivery_and_body() -> None:
    signed = b"1700000000.connector.config.changed.d-1." + BODY
    expected = hmac.new(CANARY.encode(), signed, hashlib.sha256).hexdigest()
    assert sign(CANARY, 1700000000, BODY, event=EVENT_CHANGED, delivery_id="d-1") == f"v2={expected}"
    assert (
        sign(CANARY.encode(), "1700000000", BODY.decode(), event=EVENT_CHANGED, delivery_id="d-1") == f"v2={expected}"
    )


def test_verify_signature_accepts_the_key_and_rejects_everything_else() -> None:
    now = 1_700_000_000
    good = sign(CANARY, now, BODY, event=EVENT_CHANGED, delivery_id="d-1")

    def ok(key: str, ts: Any, body: bytes, sig: str | None, at: float, tolerance: int = 300) -> bool:
        return verify_signature(key, ts, body, sig, event=EVENT_CHANGED, delivery_id="d-1", now=at, tolerance=tolerance)

    assert ok(CANARY, str(now), BODY, good, now)
    assert ok(CANARY, now, BODY, f"v2={'0' * 64}, {good}", now + 299)  # key rotation: any match
    assert not ok("another-key-0123456789", now, BODY, good, now)  # other key
    assert not ok(CANARY, now, BODY.replace(b"abc", b"abd"), good, now)  # tampered body
    assert not ok(CANARY, now + 1, BODY, good, now)  # timestamp is signed
    assert not ok(CANARY, now, BODY, good, now + 301)  # stale: replay refused
    assert not ok(CANARY, now, BODY, good, now - 301)  # from the future
    assert ok(CANARY, now, BODY, good, now + 1000, tolerance=1000)
    for bad_ts, bad_sig in [(None, good), ("", good), ("soon", good), (now, None), (now, ""), (now, good[3:])]:
        assert not ok(CANARY, bad_ts, BODY, bad_sig, now)
    assert not ok(CANARY, now, BODY, good.replace("v2=", "v1="), now)


def test_the_event_and_the_delivery_id_are_signed() -> None:
    """Within the replay window a captured "changed" must not pass as "deleted", nor under a fresh delivery
    id (which would get it past the receiver's deduplication)."""
    now = 1_700_000_000
    good = sign(CANARY, now, BODY, event=EVENT_CHANGED, delivery_id="d-1")
    assert not verify_signature(CANARY, now, BODY, good, event=EVENT_DELETED, delivery_id="d-1", now=now)
    assert not verify_signature(CANARY, now, BODY, good, event=EVENT_CHANGED, delivery_id="d-2", now=now)
    assert not verify_signature(CANARY, now, BODY, good, event=None, delivery_id="d-1", now=now)
    assert not verify_signature(CANARY, now, BODY, good, event=EVENT_CHANGED, delivery_id=None, now=now)
    old_v1 = "v1=" + hmac.new(CANARY.encode(), f"{now}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert not verify_signature(CANARY, now, BODY, old_v1, event=EVENT_CHANGED, delivery_id="d-1", now=now)


# --- deliveries ---------------------------------------------------------------------------------------------
def test_delivery_is_signed_and_recorded(receiver: WebhookReceiver, client: Callable[..., WebhookClient]) -> None:
    before = int(time.time())
    delivery = client(receiver.url).deliver(EVENT_CHANGED, BODY, signing_key=CANARY)
    assert delivery.status == 204 and delivery.attempts == 1 and delivery.event == EVENT_CHANGED
    (got,) = receiver.deliveries
    assert got.verified and got.body == DOC and got.raw == BODY and got.path == "/hooks/ctp"
    assert got.headers["content-type"] == "application/json"
    assert got.event == EVENT_CHANGED and got.delivery_id == delivery.delivery_id
    assert before <= int(got.headers["x-ctp-timestamp"]) <= int(time.time())
    assert got.headers["x-ctp-signature"] == sign(
        CANARY, got.headers["x-ctp-timestamp"], BODY, event=EVENT_CHANGED, delivery_id=delivery.delivery_id
    )
    assert delivery.delivered_at.endswith("+00:00")


def test_retries_then_success_with_one_delivery_id(
    receiver: WebhookReceiver, client: Callable[..., WebhookClient], sleeps: list[float]
) -> None:
    receiver.fail_next(2, 503)
    delivery = client(receiver.url).deliver(EVENT_CHANGED, BODY, signing_key=CANARY, delivery_id="d-1")
    assert delivery.attempts == 3 and delivery.delivery_id == "d-1"
    seen = receiver.deliveries
    assert [d.status for d in seen] == [503, 503, 204]
    assert {d.delivery_id for d in seen} == {"d-1"} and all(d.verified for d in seen)
    assert sleeps == [0.5, 1.0]  # exponential backoff


def test_retry_after_is_honoured_and_capped(
    receiver: WebhookReceiver, client: Callable[..., WebhookClient], sleeps: list[float]
) -> None:
    receiver.fail_next(1, 429, retry_after="2")
    receiver.fail_next(1, 429, retry_after="86400")
    receiver.fail_next(1, 500, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")  # HTTP-date: our own backoff
    c = client(receiver.url, retry=RetryPolicy(attempts=4, max_retry_after=30.0))
    assert c.deliver(EVENT_CHANGED, BODY, signing_key=CANARY).attempts == 4
    assert sleeps == [2.0, 30.0, 2.0]


def test_dropped_connections_and_slow_answers_are_retried(
    receiver: WebhookReceiver, client: Callable[..., WebhookClient]
) -> None:
    receiver.drop_next(1)
    receiver.slow_next(1, 3.0)  # ten times the client's read timeout of 0.3 s
    delivery = client(receiver.url, timeout=(1.0, 0.3)).deliver(EVENT_CHANGED, BODY, signing_key=CANARY)
    assert delivery.attempts == 3
    assert len(receiver.deliveries) == 3 and len({d.delivery_id for d in receiver.deliveries}) == 1


def test_receiver_that_keeps_failing_is_a_clear_error(
    receiver: WebhookReceiver, client: Callable[..., WebhookClient], sleeps: list[float]
) -> None:
    receiver.fail_next(10, 502)
    url = receiver.url.replace("http://", "http://") + "?token=query-secret"
    with pytest.raises(WebhookError) as err:
        client(url).deliver(EVENT_CHANGED, BODY, signing_key=CANARY, what="connector 'patchworks'")
    message = str(err.value)
    assert err.value.status == 502 and err.value.attempts == 4 and len(receiver.deliveries) == 4
    assert f"connector 'patchworks' to {receiver.url}:" in message
    assert "HTTP 502" in message and "after 4 attempts" in message and "rerun `pulumi up`" in message
    assert "query-secret" not in message and CANARY not in message and CANARY not in repr(err.value)
    assert len(sleeps) == 3


def test_unreachable_receiver_is_retried_then_explained(client: Callable[..., WebhookClient]) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    with pytest.raises(WebhookError, match="connection refused after 4 attempts") as err:
        client(url).deliver(EVENT_CHANGED, BODY, signing_key=CANARY)
    assert err.value.status is None and CANARY not in str(err.value)


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_other_4xx_fail_at_once(
    receiver: WebhookReceiver, client: Callable[..., WebhookClient], sleeps: list[float], status: int
) -> None:
    receiver.fail_next(1, status)
    with pytest.raises(WebhookError, match=f"HTTP {status} .*not retried") as err:
        client(receiver.url).deliver(EVENT_CHANGED, BODY, signing_key=CANARY)
    assert err.value.status == status and err.value.attempts == 1
    assert len(receiver.deliveries) == 1 and sleeps == [] and CANARY not in str(err.value)


def test_wrong_key_is_refused_by_the_receiver_without_retry(
    receiver: WebhookReceiver, client: Callable[..., WebhookClient]
) -> None:
    with pytest.raises(WebhookError, match=r"HTTP 401.*signing key") as err:
        client(receiver.url).deliver(EVENT_CHANGED, BODY, signing_key="another-key-0123456789")
    (got,) = receiver.deliveries
    assert not got.verified and got.status == 401
    assert "another-key" not in str(err.value)


def test_stale_timestamp_is_refused_by_the_receiver(
    receiver: WebhookReceiver, client: Callable[..., WebhookClient]
) -> None:
    late = client(receiver.url, clock=lambda: time.time() - 3600)
    with pytest.raises(WebhookError, match="HTTP 401"):
        late.deliver(EVENT_CHANGED, BODY, signing_key=CANARY)
    assert not receiver.deliveries[0].verified


def test_redirects_are_not_followed(receiver: WebhookReceiver, client: Callable[..., WebhookClient]) -> None:
    receiver.status = 307
    with pytest.raises(WebhookError, match=r"HTTP 307.*redirects"):
        client(receiver.url).deliver(EVENT_CHANGED, BODY, signing_key=CANARY)
    assert len(receiver.deliveries) == 1


def test_the_key_shows_nowhere(receiver: WebhookReceiver, client: Callable[..., WebhookClient]) -> None:
    c = client(receiver.url)
    delivery = c.deliver(EVENT_CHANGED, BODY, signing_key=CANARY)
    assert CANARY not in repr(c) and CANARY not in repr(delivery) and CANARY not in repr(receiver)
    assert CANARY not in repr(vars(c))
    for got in receiver.deliveries:
        assert CANARY.encode() not in got.raw and CANARY not in json.dumps(got.body) and CANARY not in repr(got)
        assert all(CANARY not in v for v in got.headers.values())


def test_public_url_drops_userinfo_query_and_fragment() -> None:
    assert public_url("https://user:pw@hooks.example.com:8443/a/b?code=x#frag") == "https://hooks.example.com:8443/a/b"
    assert public_url("http://[::1]:9000/h?x=1") == "http://[::1]:9000/h"
    assert (
        repr(WebhookClient("https://hooks.example.com/h?code=x")) == "WebhookClient(url='https://hooks.example.com/h')"
    )
