"""What every scenario shares: the plan (sizes and repetitions), a Pulumi project driven through the CLI (ours or
the baseline), and the Bench (servers, both projects, the emulator's clients, stack configs, call counting)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.measure import Clock
from bench.servers import AuditedOpenBao, CountingMoto
from ctp_credentials.automation.engine import PROGRAM as PROGRAM_FILES
from ctp_credentials.automation.engine import engine_bin, pulumi_env
from ctp_credentials.testing.commercetools import CommercetoolsEmulator

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PROGRAM = [ROOT / name for name in PROGRAM_FILES]
BASELINE = [BENCH / "baseline" / name for name in ("Pulumi.yaml", "__main__.py", "noop.py")]
PROJECT_KEY = "bench"
SCOPES = [f"view_orders:{PROJECT_KEY}"]
PASSPHRASE = "ctp-bench-passphrase"  # protects throwaway benchmark state only
VAULT_WRITES = frozenset({"create", "update", "delete", "patch"})
SM_WRITES = frozenset(
    {
        "CreateSecret",
        "PutSecretValue",
        "UpdateSecret",
        "UpdateSecretVersionStage",
        "TagResource",
        "UntagResource",
        "DeleteSecret",
        "RestoreSecret",
    }
)


@dataclass(frozen=True)
class Plan:
    """Sizes and repetitions. The full plan takes about 16 minutes on 2 cores (CLI v3.274.1)."""

    ns: tuple[int, ...] = (1, 10, 50, 100)
    reps: dict[int, int] = field(default_factory=lambda: {1: 5, 10: 5, 50: 5, 100: 3})
    target_n: int = 50
    parallel_n: int = 20
    parallel_reps: int = 11
    rotation_ns: tuple[int, int] = (1, 100)
    rotation_reps: int = 3
    per_resource_ns: tuple[int, int] = (1, 100)
    per_resource_reps: int = 3
    stores_n: int = 10  # the mixed Vault + Secrets Manager stack of the re-up scenario
    padded_reps: int = 3

    @staticmethod
    def quick() -> Plan:
        return Plan(
            ns=(1, 3),
            reps={1: 1, 3: 1},
            target_n=3,
            parallel_n=4,
            parallel_reps=1,
            rotation_ns=(1, 3),
            rotation_reps=1,
            per_resource_ns=(1, 5),
            per_resource_reps=1,
            stores_n=2,
            padded_reps=1,
        )


def clean_environ() -> dict[str, str]:
    """The runs never see the developer's own cloud, Vault or Pulumi settings (as the tests' `clean_environ`)."""
    keep = ("CTP_PULUMI_BIN", "CTP_CACHE_DIR")
    prefixes = ("AWS_", "VAULT_", "BAO_", "PULUMI_", "CTP_")
    return {k: v for k, v in os.environ.items() if k in keep or not k.startswith(prefixes)}


@dataclass
class Run:
    seconds: float
    stdout: str
    stderr: str
    returncode: int


class Project:
    """A copy of a Pulumi program (ours or the baseline) in the work dir, with its own file backend, driven
    through the CLI like tests/e2e's PulumiProject. Many stacks share it; each is removed after its cycle."""

    def __init__(self, work: Path, kind: str, sources: list[Path], env_extra: dict[str, str]) -> None:
        self.dir = work / kind / "project"
        self.state = work / kind / "state"
        shutil.rmtree(work / kind, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.state.mkdir()
        for src in sources:
            if src.is_dir():
                shutil.copytree(src, self.dir / src.name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(src, self.dir / src.name)
        (self.dir / ".venv").symlink_to(ROOT / ".venv")
        self.name = str(yaml.safe_load((self.dir / "Pulumi.yaml").read_text())["name"])
        self.env = pulumi_env(self.state, passphrase=PASSPHRASE, extra=env_extra, base=clean_environ())

    def pulumi(self, stack: str, *args: str, env: dict[str, str] | None = None, check: bool = True) -> Run:
        flags = ["--non-interactive"] if args[:2] == ("stack", "init") else ["--non-interactive", "--stack", stack]
        start = time.perf_counter()
        proc = subprocess.run(
            ["pulumi", *args, *flags],
            cwd=self.dir,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        run = Run(time.perf_counter() - start, proc.stdout, proc.stderr, proc.returncode)
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"pulumi {' '.join(args)} ({stack}) failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        return run

    def new_stack(self, stack: str, config: dict[str, Any], secrets: dict[str, str] | None = None) -> None:
        """Init, set every secret in one `config set-all`, then write the plaintext config into the stack file
        (the secure values `set-all` wrote are kept)."""
        self.pulumi(stack, "stack", "init", stack)
        if secrets:
            args = [a for key, value in secrets.items() for a in ("--secret", f"{key}={value}")]
            self.pulumi(stack, "config", "set-all", *args)
        path = self.dir / f"Pulumi.{stack}.yaml"
        doc = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
        doc["config"] = {**(doc.get("config") or {}), **{f"{self.name}:{k}": v for k, v in config.items()}}
        path.write_text(yaml.safe_dump(doc))

    def checkpoint(self, stack: str) -> Path:
        return next(self.state.glob(f".pulumi/stacks/**/{stack}.json"))

    def last_update_steps(self, stack: str) -> dict[str, int]:
        """The engine's own count of the last update's steps by kind (`same`, `update`, `create`, ...)."""
        history = json.loads(self.pulumi(stack, "stack", "history", "--json", "--page-size", "1").stdout)
        return {str(k): int(v) for k, v in (history[0].get("resourceChanges") or {}).items()}

    def remove(self, stack: str) -> None:
        self.pulumi(stack, "stack", "rm", "--yes", "--force")


class Bench:
    """Servers, the two projects and the emulator's clients, shared by every scenario."""

    def __init__(self, work: Path, plan: Plan, clock: Clock) -> None:
        self.work = work
        self.plan = plan
        self.clock = clock
        self.uid = uuid.uuid4().hex[:6]
        self.bao = AuditedOpenBao(work / "vault-audit.log")
        self.emu = CommercetoolsEmulator()
        self.moto = CountingMoto()
        self.ours: Project
        self.base: Project
        self.secrets: list[str] = []
        self.client_ids: list[str] = []
        self.admin_env: dict[str, str] = {}

    @contextmanager
    def running(self) -> Iterator[Bench]:
        try:
            self.bao.start()
            self.emu.start()
            self.moto.start()
            env = {**self.bao.env(), **self.moto.env(self.work), "CTP_PULUMI_BIN": str(engine_bin())}
            self.ours = Project(self.work, "ours", PROGRAM, env)
            self.base = Project(self.work, "baseline", BASELINE, env)
            count = max([*self.plan.ns, self.plan.parallel_n, self.plan.stores_n])
            for i in range(count):
                secret = f"bench-secret-{self.uid}-{i:03d}"
                self.client_ids.append(self.emu.backend.add_client(PROJECT_KEY, SCOPES, secret=secret).id)
                self.secrets.append(secret)
            admin = self.emu.backend.add_client(
                PROJECT_KEY, [f"manage_api_clients:{PROJECT_KEY}"], name="bench-admin", secret="bench-admin-secret"
            )
            self.admin_env = {"CTP_ADMIN_CLIENT_ID": admin.id, "CTP_ADMIN_CLIENT_SECRET": "bench-admin-secret"}
            yield self
        finally:
            self.moto.stop()
            self.emu.stop()
            self.bao.stop()

    # --- stack contents -----------------------------------------------------------------------------------
    def connectors(self, stack: str, n: int, *, sm_from: int | None = None) -> tuple[dict[str, Any], dict[str, str]]:
        """Config and secrets of `n` connectors; from index `sm_from` on they use Secrets Manager."""
        conns: dict[str, Any] = {}
        secrets: dict[str, str] = {}
        for i in range(n):
            name = f"c{i:03d}"
            store: dict[str, Any] = {"vault": {"path": f"bench/{stack}/{name}"}}
            if sm_from is not None and i >= sm_from:
                store = {"secretsManager": {"name": f"bench/{stack}/{name}", "region": "eu-central-1"}}
            conns[name] = {
                "projectKey": PROJECT_KEY,
                "scopes": SCOPES,
                "clientId": self.client_ids[i],
                "authUrl": self.emu.url,
                "apiUrl": self.emu.url,
                **store,
            }
            secrets[f"clientSecret-{name}"] = self.secrets[i]
        return {"connectors": conns}, secrets

    def managed(self, stack: str, n: int) -> dict[str, Any]:
        return {
            "connectors": {
                f"m{i:03d}": {
                    "projectKey": PROJECT_KEY,
                    "scopes": SCOPES,
                    "authUrl": self.emu.url,
                    "apiUrl": self.emu.url,
                    "vault": {"path": f"bench/{stack}/m{i:03d}"},
                    "managed": {"graceHours": 0},
                }
                for i in range(n)
            }
        }

    def stack_name(self, tag: str) -> str:
        return f"{tag}-{self.uid}"

    # --- counting -----------------------------------------------------------------------------------------
    @contextmanager
    def counting(self, stack: str, vault_paths: list[str], sm_names: list[str]) -> Iterator[dict[str, Any]]:
        """Remote calls made inside the block: store requests and writes, new versions, emulator calls."""
        found: dict[str, Any] = {}
        v0, s0 = self.bao.versions(vault_paths), self.moto.versions(sm_names)
        mark = self.bao.mark()  # after our own reads above
        sm0, tok0, api0 = self.moto.snapshot(), self.emu.count("token"), self.emu.count("api_clients")
        yield found
        vault_ops = self.bao.requests_since(mark, f"/{stack}/")
        sm_ops = self.moto.snapshot() - sm0
        v1, s1 = self.bao.versions(vault_paths), self.moto.versions(sm_names)
        found.update(
            vault_requests=sum(vault_ops.values()),
            vault_writes=sum(n for op, n in vault_ops.items() if op in VAULT_WRITES),
            vault_new_versions=sum(v1[p] - v0[p] for p in vault_paths),
            sm_requests=sum(sm_ops.values()),
            sm_writes=sum(n for op, n in sm_ops.items() if op in SM_WRITES),
            sm_new_versions=sum(s1[n] - s0[n] for n in sm_names),
            token_requests=self.emu.count("token") - tok0,
            api_client_calls=self.emu.count("api_clients") - api0,
        )
