"""moto in server mode on loopback, for tests and the demo: real HTTP through boto3 with an endpoint URL.

`ThreadedMotoServer` binds the port it is given; with port 0 the OS picks a free one and the bound port is read
back from the WSGI server (`get_host_and_port`), so there is no race to retry. The backends live in this
process: every server started here shares moto's in-memory state, so tests use unique secret names.
"""

from __future__ import annotations

import logging
from types import TracebackType

import requests
from moto.server import ThreadedMotoServer

REGION = "eu-central-1"


class MotoServer:
    """moto's AWS APIs (Secrets Manager, SSM, KMS, ...) on 127.0.0.1, on a port the OS picks."""

    def __init__(self) -> None:
        self._server: ThreadedMotoServer | None = None
        self.port = 0

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
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()  # returns once the socket is bound
        self._server = server
        self.port = int(server.get_host_and_port()[1])
        return self

    def reset(self) -> None:
        """Forget every resource in every backend (moto's own reset endpoint)."""
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.stop()
        self._server = None
        self.port = 0

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
