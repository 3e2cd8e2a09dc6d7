"""The servers the benchmark counts calls at: OpenBao with a file audit device, and moto counting Secrets Manager
calls by operation."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import hvac
from botocore.exceptions import ClientError
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from ctp_credentials.testing.openbao import OpenBaoServer, bao_binary, free_port


class AuditedOpenBao(OpenBaoServer):
    """The tests' OpenBao dev server plus a file audit device: one JSON line per request, so the benchmark counts
    every write. OpenBao refuses `bao audit enable` through the API; its audit devices are declared in config."""

    def __init__(self, audit_log: Path) -> None:
        super().__init__()
        self.audit_log = audit_log
        self._config = audit_log.with_suffix(".hcl")

    def start(self, timeout: float = 20.0) -> AuditedOpenBao:
        self._config.write_text(
            f'audit "file" "bench" {{\n  options {{\n    file_path = "{self.audit_log}"\n  }}\n}}\n'
        )
        for _ in range(3):
            self.port = free_port()
            self._log = tempfile.NamedTemporaryFile(prefix="openbao-", suffix=".log")  # noqa: SIM115
            self._proc = subprocess.Popen(
                [
                    bao_binary(),
                    "server",
                    "-dev",
                    f"-dev-root-token-id={self.root_token}",
                    f"-dev-listen-address=127.0.0.1:{self.port}",
                    f"-config={self._config}",
                ],
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env={k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))},
            )
            if self._wait_ready(timeout):
                return self
            self.stop()
        raise RuntimeError("OpenBao dev server did not become ready")

    def mark(self) -> int:
        return self.audit_log.stat().st_size if self.audit_log.exists() else 0

    def requests_since(self, mark: int, path_part: str) -> Counter[str]:
        """Requests (by operation) on KV paths containing `path_part` since `mark`."""
        ops: Counter[str] = Counter()
        with self.audit_log.open("rb") as f:
            f.seek(mark)
            for line in f:
                entry = json.loads(line)
                request = entry.get("request") or {}
                if entry.get("type") == "request" and path_part in str(request.get("path", "")):
                    ops[str(request.get("operation"))] += 1
        return ops

    def versions(self, paths: list[str]) -> dict[str, int]:
        kv = hvac.Client(url=self.url, token=self.root_token).secrets.kv.v2
        found = {}
        for path in paths:
            try:
                found[path] = int(kv.read_secret_metadata(path=path, mount_point="secret")["data"]["current_version"])
            except hvac.exceptions.InvalidPath:
                found[path] = 0
        return found


class CountingMoto:
    """moto's AWS APIs on loopback, counting Secrets Manager calls by operation (the X-Amz-Target header)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> CountingMoto:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        app = DomainDispatcherApplication(create_backend_app)

        def counting(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            target = str(environ.get("HTTP_X_AMZ_TARGET") or "")
            if target.startswith("secretsmanager."):
                with self._lock:
                    self.calls[target.split(".", 1)[1]] += 1
            return app(environ, start_response)

        self._server = make_server("127.0.0.1", 0, counting, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.calls)

    def env(self, work: Path) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-central-1",
            "AWS_CONFIG_FILE": str(work / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(work / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def versions(self, names: list[str]) -> dict[str, int]:
        sm = boto3.client(
            "secretsmanager",
            endpoint_url=self.url,
            region_name="eu-central-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        found = {}
        for name in names:
            try:
                sm.describe_secret(SecretId=name)
            except ClientError:
                found[name] = 0  # not created yet
                continue
            found[name] = len(sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"])
        return found
