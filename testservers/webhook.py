"""A webhook receiver for tests and the demo: verifies signatures like a real receiver, records deliveries.

Binds 127.0.0.1 port 0 and reports its URL, so parallel tests never collide. Faults are queued per request:
`fail_next(n, status)` answers the next n requests with that status (Retry-After optional), `slow_next(n, s)`
answers them s seconds late, `drop_next(n)` closes the connection without an answer. A request whose
signature does not verify (wrong key, tampered body, stale timestamp) is answered 401 and recorded with
`verified=False`.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self, cast

from ctp_credentials.components.clients.webhook import (
    HEADER_DELIVERY,
    HEADER_EVENT,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    TOLERANCE,
    verify_signature,
)

MAX_BODY_BYTES = 1 << 20


@dataclass(frozen=True)
class ReceivedDelivery:
    """One request as the receiver saw it. `headers` has lower-case names."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # the parsed JSON body, or None when it was not JSON
    raw: bytes = field(repr=False)
    verified: bool
    status: int  # what the receiver answered (or, when slow, will answer); 0 when it dropped the connection

    @property
    def event(self) -> str | None:
        return self.headers.get("x-ctp-event")

    @property
    def delivery_id(self) -> str | None:
        return self.headers.get("x-ctp-delivery")


@dataclass
class _Fault:
    kind: Literal["fail", "slow", "drop"]
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], receiver: WebhookReceiver) -> None:
        self.receiver = receiver
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: a client giving up on a slow answer is routine in fault tests."""


class _Handler(BaseHTTPRequestHandler):
    server_version = "webhook-receiver"
    sys_version = ""
    timeout = 10  # a client that connects and never sends must not hold a handler thread for long

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the deliveries list has everything a test needs."""

    def do_POST(self) -> None:
        receiver = cast(_Server, self.server).receiver
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(length, MAX_BODY_BYTES)) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        verified = verify_signature(
            receiver._key,
            headers.get(HEADER_TIMESTAMP.lower()),
            raw,
            headers.get(HEADER_SIGNATURE.lower()),
            event=headers.get(HEADER_EVENT.lower()),
            delivery_id=headers.get(HEADER_DELIVERY.lower()),
            tolerance=receiver.tolerance,
        )
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        fault = receiver._next_fault()
        if fault is not None and fault.kind == "drop":
            receiver._record(ReceivedDelivery("POST", self.path, headers, body, raw, verified, 0))
            self.close_connection = True
            return  # no answer at all: the client sees the connection closed
        if fault is not None and fault.kind == "fail":
            status, extra = fault.status, {"Retry-After": fault.retry_after} if fault.retry_after else {}
        elif not verified:
            status, extra = 401, {}
        else:
            status, extra = receiver.status, {}
        # recorded on arrival: a slow answer's client may have given up (and retried) long before it is sent
        receiver._record(ReceivedDelivery("POST", self.path, headers, body, raw, verified, status))
        if fault is not None and fault.kind == "slow":
            receiver.stopping.wait(fault.seconds)
        payload = b'{"ok":true}' if status < 300 else json.dumps({"error": f"HTTP {status}"}).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up (its timeout); nothing to tell it


class WebhookReceiver:
    """A webhook endpoint on 127.0.0.1 that checks signatures with `key` and records every request.

    Use as `with WebhookReceiver(key) as hook:` or `hook = WebhookReceiver(key).start()` / `hook.stop()`;
    deliver to `hook.url`. The key is kept only to verify and never shows in repr.
    """

    host = "127.0.0.1"

    def __init__(self, key: str | bytes, *, path: str = "/hooks/ctp", tolerance: int = TOLERANCE) -> None:
        self._key = key
        self.path = path
        self.tolerance = tolerance
        self.status = 204  # the answer to a verified request when no fault is queued
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._faults: deque[_Fault] = deque()
        self._deliveries: list[ReceivedDelivery] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = self.url if self._server is not None else "stopped"
        return f"WebhookReceiver({state})"

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> Self:
        if self._server is not None or self.stopping.is_set():
            raise RuntimeError("a receiver can be started once")
        self._server = _Server((self.host, 0), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"webhook-receiver:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join every thread; safe to call twice."""
        self.stopping.set()  # wakes handlers sleeping on a slow answer
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join()
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    # -- faults --------------------------------------------------------------------------------------
    def fail_next(self, n: int, status: int = 503, *, retry_after: str | None = None) -> None:
        with self._lock:
            self._faults.extend(_Fault("fail", status=status, retry_after=retry_after) for _ in range(n))

    def slow_next(self, n: int, seconds: float) -> None:
        with self._lock:
            self._faults.extend(_Fault("slow", seconds=seconds) for _ in range(n))

    def drop_next(self, n: int) -> None:
        with self._lock:
            self._faults.extend(_Fault("drop") for _ in range(n))

    def _next_fault(self) -> _Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    # -- observation ---------------------------------------------------------------------------------
    def _record(self, delivery: ReceivedDelivery) -> None:
        with self._lock:
            self._deliveries.append(delivery)

    @property
    def deliveries(self) -> list[ReceivedDelivery]:
        """Every request received, in order (failed and dropped attempts included)."""
        with self._lock:
            return list(self._deliveries)

    def accepted(self) -> list[ReceivedDelivery]:
        """Requests answered 2xx."""
        return [d for d in self.deliveries if 200 <= d.status < 300]

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._deliveries.clear()
