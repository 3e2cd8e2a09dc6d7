"""The HTTP server: one loopback listener for both the auth host and the API host paths, like moto's
`ThreadedMotoServer`. It binds port 0 by default and reports the URL it got, so parallel tests never collide."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import parse_qs, unquote, urlsplit

from .exceptions import CommercetoolsError
from .faults import Fault, FaultInjector
from .models import CommercetoolsBackend
from .requestlog import RequestLog, RequestLogEntry
from .responses import (
    ApiClientsResponses,
    AuthResponses,
    ControlResponses,
    Request,
    Response,
    error_response,
    fault_response,
)
from .urls import Route, resolve

MAX_BODY_BYTES = 1 << 20
_FAULTABLE = frozenset({"token", "introspect", "api_clients"})


def _requested_scope(request: Request) -> str | None:
    found = parse_qs(request.body.decode("utf-8", errors="replace")).get("scope")
    return found[0] if found else None


def _altered(body: dict[str, Any], fault: Fault) -> dict[str, Any]:
    """A served answer as the fault changes it (grant_scope, token_key, omit)."""
    if fault.grant_scope is not None:
        body = {**body, "scope": fault.grant_scope}
    if fault.token_key is not None and "access_token" in body:
        body = {k: v for k, v in body.items() if k != "access_token"} | {fault.token_key: body["access_token"]}
    if fault.omit:
        body = {k: v for k, v in body.items() if k not in fault.omit}
        if isinstance(body.get("results"), list):
            body["results"] = [
                {k: v for k, v in r.items() if k not in fault.omit} if isinstance(r, dict) else r
                for r in body["results"]
            ]
    return body


def _lower_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names lower-cased; the first of repeated headers wins, as with `Message.get`."""
    headers: dict[str, str] = {}
    for name, value in items:
        headers.setdefault(name.lower(), value)
    return headers


class _Server(ThreadingHTTPServer):
    """Carries the emulator to its handlers."""

    daemon_threads = True
    request_queue_size = 128  # the default 5 drops bursts of parallel connections (a 1 s SYN retry each)

    def __init__(self, address: tuple[str, int], emulator: CommercetoolsEmulator) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: a client hanging up mid-request is routine in fault tests."""


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, applies faults, dispatches through the route table and writes JSON."""

    server_version = "commercetools-emulator"
    sys_version = ""
    # A client that connects and never sends must not hold a handler thread (and so stop()) for long.
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: per-request lines on stderr would drown test output (the request log has them)."""

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def _read_body(self) -> bytes | Response:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return error_response(CommercetoolsError(411, "InvalidInput", "Chunked request bodies are not supported."))
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not raw.isdigit():
            return error_response(CommercetoolsError(400, "InvalidInput", "Invalid Content-Length header."))
        length = int(raw)
        if length > MAX_BODY_BYTES:
            return error_response(CommercetoolsError(413, "InvalidInput", "The request body is too large."))
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        emulator = cast(_Server, self.server).emulator
        self.close_connection = True
        split = urlsplit(self.path)
        path = split.path or "/"
        matched = resolve(path)
        endpoint = matched[0].endpoint if matched else "unknown"
        request = Request(
            method=self.command,
            path=path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=_lower_headers(self.headers.items()),
            body=b"",
        )
        response: Response | None = None
        try:
            response = self._respond(emulator, request, endpoint, matched)
        finally:
            # Recorded before the answer goes out, so a client that got its response sees it counted.
            if endpoint != "control":
                emulator.request_log.record(
                    RequestLogEntry(
                        self.command,
                        path,
                        endpoint,
                        response.status if response is not None else None,
                        time.time(),
                        request.client_id,
                        request.headers.get("user-agent"),
                        request.headers.get("accept"),
                    )
                )
        if response is not None:
            self._write(response)

    def _respond(
        self,
        emulator: CommercetoolsEmulator,
        request: Request,
        endpoint: str,
        matched: tuple[Route, dict[str, str]] | None,
    ) -> Response | None:
        """The answer, or None to hang up without one (an injected drop)."""
        body = self._read_body()
        if isinstance(body, Response):
            return body
        request.body = body
        fault = (
            emulator.faults.take(endpoint, request.method, _requested_scope(request) if endpoint == "token" else None)
            if endpoint in _FAULTABLE
            else None
        )
        if fault is None:
            return emulator.dispatch(request, matched)
        if fault.latency:
            emulator.stopping.wait(fault.latency)
        if fault.drop:
            return None  # no status line at all: the client sees the connection close
        if fault.answer is not None:
            return Response(fault.status or 200, fault.answer)
        if fault.status is not None:
            return fault_response(fault, endpoint)
        response = emulator.dispatch(request, matched)
        if 200 <= response.status < 300 and isinstance(response.body, dict):  # a refusal stays a refusal
            response.body = _altered(response.body, fault)
        return response

    def _write(self, response: Response) -> None:
        payload = b""
        html = isinstance(response.body, str)  # an injected non-JSON answer (Fault.answer)
        if response.body is not None and self.command != "HEAD":
            text = response.body if html else json.dumps(response.body, separators=(",", ":"))
            payload = text.encode()
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.body is not None:
                self.send_header("Content-Type", "text/html" if html else "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if payload:
                self.wfile.write(payload)
        except OSError:
            pass  # the client went away; nothing to tell it


class CommercetoolsEmulator:
    """A commercetools auth + API Clients emulator on 127.0.0.1.

    Use as `with CommercetoolsEmulator() as emu:` or `emu = CommercetoolsEmulator().start()` /
    `emu.stop()`. Point both the auth URL and the API URL of a client at `emu.url`.
    """

    host = "127.0.0.1"

    def __init__(self, *, port: int = 0, backend: CommercetoolsBackend | None = None) -> None:
        self.backend = backend if backend is not None else CommercetoolsBackend()
        self.faults = FaultInjector()
        self.request_log = RequestLog()
        self.stopping = threading.Event()
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._handlers: dict[type, object] = {
            AuthResponses: AuthResponses(self.backend),
            ApiClientsResponses: ApiClientsResponses(self.backend),
            ControlResponses: ControlResponses(self.backend, self.faults, self.request_log),
        }

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns self so `emu = CommercetoolsEmulator().start()` works."""
        if self._server is not None or self.stopping.is_set():
            raise RuntimeError("an emulator can be started once")
        self._server = _Server((self.host, self._port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"commercetools-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join every thread; safe to call twice."""
        self.stopping.set()  # wakes handlers sleeping on injected latency
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()  # also joins the handler threads
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
        """The bound port (known once started)."""
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL for both the auth host and the API host, e.g. `http://127.0.0.1:54321`."""
        return f"http://{self.host}:{self.port}"

    # -- observation ---------------------------------------------------------------------------------

    def count(self, endpoint: str | None = None, *, status: int | None = None) -> int:
        """Requests seen for `endpoint` ("token", "introspect", "api_clients", "unknown"; None: all),
        optionally only those answered with `status`. Control API calls are not counted."""
        return self.request_log.count(endpoint, status=status)

    @property
    def requests(self) -> list[RequestLogEntry]:
        """The request log (no secrets, tokens, Authorization values or bodies)."""
        return self.request_log.entries()

    def reset(self) -> None:
        """Forget clients, tokens, faults and the request log."""
        self.backend.reset()
        self.faults.clear()
        self.request_log.clear()

    # -- dispatch ------------------------------------------------------------------------------------

    def dispatch(self, request: Request, matched: tuple[Route, dict[str, str]] | None) -> Response:
        """Run the routed handler; unknown path → 404, wrong method → 405, any error → its JSON body."""
        if matched is None:
            return error_response(
                CommercetoolsError(404, "ResourceNotFound", f"The endpoint '{request.path}' does not exist.")
            )
        route, params = matched
        handler = route.methods.get(request.method)
        if handler is None:
            allowed = ", ".join(sorted(route.methods))
            response = error_response(
                CommercetoolsError(405, "MethodNotAllowed", f"Method {request.method} is not allowed here.")
            )
            response.headers["Allow"] = allowed
            return response
        request.params = {k: unquote(v) for k, v in params.items()}
        try:
            result: Response = handler(self._handlers[route.handler_cls], request)
        except CommercetoolsError as error:
            return error_response(error)
        except Exception:  # an emulator bug must still answer like the service would
            return error_response(CommercetoolsError(500, "General", "Internal Server Error"))
        return result
