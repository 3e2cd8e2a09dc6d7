"""A small webhook client over `requests`: POST a signed JSON event to one URL, with bounded retries.

The contract receivers implement (see `verify_signature`):

- body: compact JSON (`Content-Type: application/json`), exactly the bytes that were signed;
- `X-CTP-Event`: `connector.config.changed` (body: the connector's config document) or
  `connector.config.deleted` (body: `{"deleted":true,"name":...,"schemaVersion":1}`);
- `X-CTP-Delivery`: a unique id per delivery, the same on every retry of it, so receivers can deduplicate;
- `X-CTP-Timestamp`: unix seconds when this attempt was signed;
- `X-CTP-Signature`: `v2=<hex HMAC-SHA256(key, f"{timestamp}.{event}.{delivery}.{body}")>`; the timestamp is
  signed, so a captured request cannot be replayed once it is older than the receiver's tolerance (default
  300 s), and so are the event and the delivery id, so within that window a captured "changed" cannot be
  resent as "deleted", nor under a fresh delivery id past the receiver's deduplication.

The signing key is an argument of each call, never kept on the client, never logged, never in a message.
Timeouts on every request; connection errors, timeouts, 429 (honouring Retry-After, capped) and 5xx are
retried with exponential backoff; any other non-2xx answer (a redirect too) fails at once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType

import requests

from ..publishing import PublicationError, public_url
from .commercetools import RetryPolicy, connection_problem

EVENT_CHANGED = "connector.config.changed"
EVENT_DELETED = "connector.config.deleted"
SIGNATURE_SCHEME = "v2"  # v1 signed "{timestamp}.{body}" only: the event and delivery headers were forgeable
TOLERANCE = 300  # seconds a receiver accepts between X-CTP-Timestamp and its own clock
DEFAULT_TIMEOUT = (3.05, 10.0)  # (connect, read) seconds
DEFAULT_RETRY = RetryPolicy()  # 4 attempts, backoff 0.5 s doubling to 8 s, Retry-After capped at 30 s
HEADER_EVENT = "X-CTP-Event"
HEADER_DELIVERY = "X-CTP-Delivery"
HEADER_TIMESTAMP = "X-CTP-Timestamp"
HEADER_SIGNATURE = "X-CTP-Signature"


class WebhookError(PublicationError):
    """The receiver refused the delivery, kept failing, or could not be reached.

    `status` is the last HTTP status (None when no answer came back); `attempts` how many requests were sent.
    """

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = attempts


@dataclass(frozen=True)
class Delivery:
    """A delivery the receiver acknowledged with a 2xx."""

    delivery_id: str
    event: str
    status: int
    attempts: int
    delivered_at: str  # ISO 8601, UTC, seconds


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def sign(key: str | bytes, timestamp: int | str, body: str | bytes, *, event: str, delivery_id: str) -> str:
    """The X-CTP-Signature value: `v2=` and the hex HMAC-SHA256 of `{timestamp}.{event}.{delivery_id}.{body}`."""
    signed = f"{timestamp}.{event}.{delivery_id}.".encode() + _bytes(body)
    return f"{SIGNATURE_SCHEME}={hmac.new(_bytes(key), signed, hashlib.sha256).hexdigest()}"


def verify_signature(
    key: str | bytes,
    timestamp: str | int | None,
    body: str | bytes,
    signature: str | None,
    *,
    event: str | None,
    delivery_id: str | None,
    now: float | None = None,
    tolerance: int = TOLERANCE,
) -> bool:
    """For receivers: True when `signature` is a valid v2 signature of this body, event (X-CTP-Event) and
    delivery id (X-CTP-Delivery) at this timestamp, made with `key`, and the timestamp is within `tolerance`
    seconds of `now` (default: the clock).

    `signature` may list several comma-separated `v2=` values (a sender mid key rotation); one match suffices.
    Never raises on malformed input: anything unexpected is simply not verified.
    """
    if timestamp is None or not signature or not event or not delivery_id:
        return False
    try:
        ts = int(str(timestamp).strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        return False
    expected = sign(key, ts, body, event=event, delivery_id=delivery_id)
    candidates = [part.strip() for part in signature.split(",")]
    prefix = f"{SIGNATURE_SCHEME}="
    return any(hmac.compare_digest(expected.encode(), c.encode()) for c in candidates if c.startswith(prefix))


class WebhookClient:
    """Delivers events to one receiver URL."""

    def __init__(
        self,
        url: str,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self._timeout = timeout
        self._retry = retry
        self._session = session or requests.Session()
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookClient(url={public_url(self.url)!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> WebhookClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def deliver(
        self, event: str, body: bytes, *, signing_key: str, delivery_id: str | None = None, what: str = "webhook"
    ) -> Delivery:
        """POST `body` as `event`; returns once the receiver answers 2xx, or raises WebhookError.

        Each attempt is signed afresh (a new timestamp); the delivery id stays the same across attempts.
        `what` names the sender in messages (e.g. "connector 'patchworks'").
        """
        delivery_id = delivery_id or str(uuid.uuid4())
        where = f"{event} for {what} to {public_url(self.url)}"
        last_status: int | None = None
        last_problem = ""
        attempts = self._retry.attempts
        for attempt in range(1, attempts + 1):
            timestamp = int(self._clock())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "ctp-credentials",
                HEADER_EVENT: event,
                HEADER_DELIVERY: delivery_id,
                HEADER_TIMESTAMP: str(timestamp),
                HEADER_SIGNATURE: sign(signing_key, timestamp, body, event=event, delivery_id=delivery_id),
            }
            retry_after: str | None = None
            try:
                resp = self._session.post(
                    self.url, data=body, headers=headers, timeout=self._timeout, allow_redirects=False
                )
            except requests.Timeout:
                last_status, last_problem = None, f"no answer within {self._timeout[1]:g}s"
            except requests.ConnectionError as exc:
                last_status, last_problem = None, connection_problem(exc)
            except requests.RequestException as exc:
                raise WebhookError(
                    f"cannot deliver {where}: {type(exc).__name__}. Check the URL", attempts=attempt
                ) from None
            else:
                with resp:
                    status, reason = resp.status_code, (resp.reason or "").strip()
                    retry_after = resp.headers.get("Retry-After")
                if 200 <= status < 300:
                    return Delivery(
                        delivery_id=delivery_id,
                        event=event,
                        status=status,
                        attempts=attempt,
                        delivered_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
                    )
                last_status, last_problem = status, f"HTTP {status} {reason}".strip()
                if status != 429 and status < 500:
                    raise WebhookError(_refused(where, status, last_problem), status=status, attempts=attempt)
            if attempt < attempts:
                self._sleep(self._retry.delay(attempt - 1, retry_after))
        raise WebhookError(
            f"cannot deliver {where}: {last_problem} after {attempts} attempts. Check that the receiver is up and "
            "reachable from where pulumi runs, then rerun `pulumi up`: state still records the previous "
            "delivery, so this document is sent again",
            status=last_status,
            attempts=attempts,
        )


def _refused(where: str, status: int, problem: str) -> str:
    if status in (401, 403):
        fix = (
            "The receiver rejected the signature or the sender: check that it verifies X-CTP-Signature with the "
            "same signing key as this stack's secret config, and that its clock is right"
        )
    elif 300 <= status < 400:
        fix = "The receiver redirects (not followed: the signed request must not move). Set the final URL"
    elif status in (404, 405, 410):
        fix = "Check the webhook URL"
    elif status == 413:
        fix = "The receiver refuses a body this large; raise its limit"
    else:
        fix = "The receiver refused the document; see its logs"
    return f"cannot deliver {where}: {problem}, not retried. {fix}, then rerun `pulumi up`"
