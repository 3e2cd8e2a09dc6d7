"""moto in server mode on loopback, for tests and the demo: real HTTP through boto3 with an endpoint URL.

moto's WSGI app is served here (as moto's `ThreadedMotoServer` does) behind a thin layer of our own: a log of
the AWS actions called, in order, and fault injection, so tests can see *how* a store was written (staged,
read back, promoted) and what a caller does when AWS fails or answers wrongly. Port 0: the OS picks a free one
and the bound port is read back, so there is no race to retry. The backends live in this process: every
server started here shares moto's in-memory state, so tests use unique secret names.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import requests
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

REGION = "eu-central-1"
# Parameters that carry a secret value: the call log keeps only that they were there.
SECRET_PARAMS = frozenset({"SecretString", "SecretBinary", "Value"})
HIDDEN = "<hidden>"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class AwsCall:
    """One AWS JSON-protocol call as the server saw it: `Secrets Manager.PutSecretValue` is
    (service="secretsmanager", action="PutSecretValue"); secret values are replaced by HIDDEN."""

    service: str
    action: str
    params: dict[str, Any]


@dataclass
class AwsFault:
    """What to do to matching calls (the oldest matching fault applies; `times=None` keeps it until cleared).

    `status`/`code` answer with an AWS JSON error instead of calling moto; `corrupt` lets moto answer and then
    replaces the SecretString in the answer with another value (a store that returns what was not written).
    `when` narrows the match to calls whose parameters include these keys (e.g. `("VersionId",)`).
    """

    action: str
    status: int | None = None
    code: str = "InternalServiceError"
    message: str = "injected fault"
    corrupt: bool = False
    when: tuple[str, ...] = ()
    times: int | None = None

    def matches(self, call: AwsCall) -> bool:
        return call.action == self.action and all(k in call.params for k in self.when)


@dataclass
class AwsFaults:
    """The active faults and the log of calls; thread-safe (werkzeug serves each request on a thread)."""

    _faults: list[AwsFault] = field(default_factory=list)
    _calls: list[AwsCall] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, action: str, **kw: Any) -> AwsFault:
        fault = AwsFault(action, **kw)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Forget the faults and the log of calls."""
        with self._lock:
            self._faults.clear()
            self._calls.clear()

    def calls(self, action: str | None = None) -> list[AwsCall]:
        with self._lock:
            return [c for c in self._calls if action is None or c.action == action]

    def record(self, call: AwsCall) -> AwsFault | None:
        with self._lock:
            self._calls.append(call)
            for fault in self._faults:
                if fault.matches(call):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    return fault
        return None


def _call(environ: dict[str, Any], body: bytes) -> AwsCall | None:
    """The call in a request of AWS's JSON protocol (X-Amz-Target: `secretsmanager.GetSecretValue`)."""
    target = environ.get("HTTP_X_AMZ_TARGET") or ""
    if "." not in target:
        return None
    service, action = target.rsplit(".", 1)
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        params = {}
    if not isinstance(params, dict):
        params = {}
    return AwsCall(service.lower(), action, {k: HIDDEN if k in SECRET_PARAMS else v for k, v in params.items()})


def _with_faults(app: WsgiApp, faults: AwsFaults) -> WsgiApp:
    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("CONTENT_LENGTH"):  # no body, or a streamed one (S3): not a JSON-protocol call
            return app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        environ["wsgi.input"] = io.BytesIO(body)
        call = _call(environ, body)
        fault = faults.record(call) if call is not None else None
        if fault is None:
            return app(environ, start_response)
        if fault.status is not None:
            answer = json.dumps({"__type": fault.code, "message": fault.message}).encode()
            start_response(
                f"{fault.status} Injected",
                [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(answer)))],
            )
            return [answer]
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            seen["status"], seen["headers"] = status, headers

        answer_parts = app(environ, capture)
        try:
            raw = b"".join(answer_parts)
        finally:
            close = getattr(answer_parts, "close", None)  # the WSGI contract: close what the app returned
            if close is not None:
                close()
        if fault.corrupt and seen["status"].startswith("200"):
            answer = json.loads(raw)
            answer["SecretString"] = json.dumps({"corrupted": True})
            raw = json.dumps(answer).encode()
        headers = [(k, v) for k, v in seen["headers"] if k.lower() != "content-length"]
        start_response(seen["status"], [*headers, ("Content-Length", str(len(raw)))])
        return [raw]

    return wrapped


class MotoServer:
    """moto's AWS APIs (Secrets Manager, SSM, KMS, ...) on 127.0.0.1, on a port the OS picks."""

    def __init__(self) -> None:
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.faults = AwsFaults()

    def __repr__(self) -> str:
        return f"MotoServer(url={self.url!r})"

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("MotoServer is not running: call start() first")
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """What boto3 in another process needs: moto's endpoints and dummy credentials (moto accepts any).

        botocore reads AWS_ENDPOINT_URL_<service id>, and the service id of Secrets Manager is "Secrets Manager":
        the variable it honours is AWS_ENDPOINT_URL_SECRETS_MANAGER (not ..._SECRETSMANAGER).
        """
        return {
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.url,
            "AWS_ENDPOINT_URL_SSM": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }

    def start(self) -> MotoServer:
        if self._server is not None:
            return self
        quiet = logging.getLogger("werkzeug")
        if quiet.level == logging.NOTSET:
            quiet.setLevel(logging.WARNING)  # one access-log line per request drowns a test run's output
        app = _with_faults(DomainDispatcherApplication(create_backend_app), self.faults)
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
        self._server = server  # bound from here on: requests queue until serve_forever runs
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever, name="moto", daemon=True)
        self._thread.start()
        return self

    def reset(self) -> None:
        """Forget every resource in every backend (moto's own reset endpoint)."""
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()
        self.faults.clear()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server, self._thread = None, None
        self.port = 0

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
