"""`make bench`: what the credentials program costs on top of the Pulumi engine, measured on this machine.

Every figure is a median of several runs, and every comparison is a ratio of two figures measured in the same
repetition, back to back (ours, then the baseline, or the other way round on odd repetitions), so load from other
work on the machine touches both sides of a ratio alike. Scenarios (bench/README.md says why each is built so):

1. scaling: `pulumi preview` and `pulumi up` on a fresh stack, then both again unchanged, for N connectors, against
   the baseline program (bench/baseline) with the same resource graph made of no-op dynamic resources; the cost
   per no-op dynamic resource, with its provider wrapped as a secret and plain; and a state-size diagnostic (the
   baseline padded to our state size);
2. parallel checks: preview of 20 connectors with 200 ms injected into every token request, minus 0 ms;
3. unchanged re-`up`: store writes, new versions, API-client calls and token requests (Vault audit log, Secrets
   Manager calls counted at a counting moto, the emulator's counters) and the steps the engine recorded for the
   update (`pulumi stack history --json`: anything but `same` is a change);
4. state size: checkpoint bytes per connector against the baseline's unit and its single resource;
5. rotation: `python -m ctp_credentials rotate` of 1 and of 100 managed connectors.

`python bench/run.py` writes bench/results.json and bench/RESULTS.md; `--quick` runs small N once (a smoke test,
written under bench/work/quick/); `--profile` profiles one `up` (Go pprof of the engine, py-spy of the Python
processes when installed) and writes bench/PROFILE.md; `--render` rewrites RESULTS.md from results.json (with
bench/ANALYSIS.md, the hand-written causes and recommendations, appended).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import hvac  # noqa: E402
import yaml  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from ctp_credentials.automation.engine import PROGRAM as PROGRAM_FILES  # noqa: E402
from ctp_credentials.automation.engine import engine_bin, pulumi_env  # noqa: E402
from ctp_credentials.testing.commercetools import CommercetoolsEmulator  # noqa: E402
from ctp_credentials.testing.openbao import OpenBaoServer, bao_binary, free_port  # noqa: E402

PROGRAM = [ROOT / name for name in PROGRAM_FILES]
BASELINE = [BENCH / "baseline" / name for name in ("Pulumi.yaml", "__main__.py", "noop.py")]
PROJECT_KEY = "bench"
SCOPES = [f"view_orders:{PROJECT_KEY}"]
PASSPHRASE = "ctp-bench-passphrase"  # protects throwaway benchmark state only
LATENCY = 0.2  # seconds injected into every token request in the parallel-check scenario
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


# --- plan -----------------------------------------------------------------------------------------------------
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


# --- small helpers --------------------------------------------------------------------------------------------
def median(values: Iterable[float]) -> float:
    data = list(values)
    return float(statistics.median(data)) if data else float("nan")


def ratios(ours: list[float], base: list[float]) -> list[float]:
    """Per-repetition ratios: each pair was measured back to back."""
    return [o / b for o, b in zip(ours, base, strict=True) if b > 0]


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x (bytes or seconds per connector)."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else float("nan")


def clean_environ() -> dict[str, str]:
    """The runs never see the developer's own cloud, Vault or Pulumi settings (as the tests' `clean_environ`)."""
    keep = ("CTP_PULUMI_BIN", "CTP_CACHE_DIR")
    prefixes = ("AWS_", "VAULT_", "BAO_", "PULUMI_", "CTP_")
    return {k: v for k, v in os.environ.items() if k in keep or not k.startswith(prefixes)}


class Clock:
    """Progress lines with the time since the start of the run."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.start:6.0f}s] {text}", flush=True)


class LoadSampler:
    """/proc/loadavg every few seconds, in the background: other work (tests) may share the 2 cores."""

    def __init__(self, every: float = 5.0) -> None:
        self.samples: list[float] = []
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(self._every)

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float]:
        s = self.samples or [os.getloadavg()[0]]
        return {"min": min(s), "median": median(s), "max": max(s), "samples": len(s)}


# --- servers --------------------------------------------------------------------------------------------------
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


# --- projects and stacks --------------------------------------------------------------------------------------
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


# --- scenario 1 (and 3, 4): scaling ---------------------------------------------------------------------------
def cycle(bench: Bench, kind: str, n: int, rep: int, *, full: bool = True, pad: int = 0) -> dict[str, Any]:
    """One fresh stack: preview, up, [preview and up again, unchanged], state size; then the stack is removed.

    `kind`: ours, baseline (the mirror), baseline-bare, baseline-plain, or baseline-padded (the mirror with `pad`
    bytes of plain input per unit)."""
    tag = {"ours": "o", "baseline": "b", "baseline-bare": "bb", "baseline-plain": "bp", "baseline-padded": "bx"}[kind]
    stack = bench.stack_name(f"{tag}{n}r{rep}")
    if kind == "ours":
        project = bench.ours
        config, secrets = bench.connectors(stack, n)
    else:
        project = bench.base
        shape = {"baseline-bare": "bare", "baseline-plain": "plain"}.get(kind, "mirror")
        config, secrets = {"units": n, "shape": shape, "pad": pad}, {}
    project.new_stack(stack, config, secrets)
    out: dict[str, Any] = {"preview": project.pulumi(stack, "preview").seconds}
    out["up"] = project.pulumi(stack, "up", "--yes", "--skip-preview").seconds
    out["state_bytes"] = project.checkpoint(stack).stat().st_size
    if full:
        out["preview_unchanged"] = project.pulumi(stack, "preview").seconds
        paths = [f"bench/{stack}/c{i:03d}" for i in range(n)] if kind == "ours" else []
        with bench.counting(stack, paths, []) as counts:
            reup = project.pulumi(stack, "up", "--yes", "--skip-preview")
        out["up_unchanged"] = reup.seconds
        if kind == "ours":
            out["reup"] = {**counts, "changed_steps": changed_steps(project.last_update_steps(stack))}
        if kind == "ours" and rep == 0:
            out["breakdown"] = breakdown(project.checkpoint(stack), n)
    project.remove(stack)
    return out


def changed_steps(steps: dict[str, int]) -> int:
    return sum(n for kind, n in steps.items() if kind != "same")


def file_bytes(value: Any, depth: int, *, indented: bool) -> int:
    """Bytes `value` takes in the backend's checkpoint file at nesting `depth`. CLI v3.79 indented the file by 4
    spaces a level (its JSON, every line indented, the first line's indent and the separator); current CLIs write
    it compact (the JSON and a separator)."""
    if not indented:
        return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()) + 1
    text = json.dumps(value, indent=4, ensure_ascii=False)
    return len(text.encode()) + (text.count("\n") + 1) * 4 * depth + 2


def breakdown(checkpoint: Path, n: int) -> dict[str, Any]:
    """Where a checkpoint's bytes go, per connector: by resource type (inputs, outputs, the rest: URN, parent,
    dependencies, provider reference, property dependencies, timestamps) and by the largest properties."""
    total = checkpoint.stat().st_size
    raw = checkpoint.read_text()
    indented = "\n    " in raw[:4096]
    resources = json.loads(raw)["checkpoint"]["latest"]["resources"]
    by_type: dict[str, Counter[str]] = {}
    by_prop: Counter[str] = Counter()
    for r in resources:
        kind = r["type"].rsplit(":", 1)[-1]
        row = by_type.setdefault(kind, Counter())
        row["count"] += 1
        whole = file_bytes(r, 4, indented=indented)
        row["total"] += whole
        rest = whole
        for section in ("inputs", "outputs"):
            props = r.get(section) or {}
            size = file_bytes(props, 5, indented=indented) + len(section) + (4 if indented else 3) if props else 0
            row[section] += size
            rest -= size
            for key, value in props.items():
                by_prop[f"{kind}.{section}.{key}"] += (
                    file_bytes(value, 6, indented=indented) + len(key) + (4 if indented else 3)
                )
        row["rest"] += rest
    accounted = sum(row["total"] for row in by_type.values())
    return {
        "n": n,
        "file_bytes": total,
        "accounted_bytes": accounted,
        "by_type_per_connector": {
            kind: {k: round(v / n, 2) if k == "count" else round(v / n) for k, v in row.items()}
            for kind, row in sorted(by_type.items(), key=lambda kv: -kv[1]["total"])
        },
        "top_properties_per_connector": {k: round(v / n) for k, v in by_prop.most_common(14)},
    }


def scaling(bench: Bench) -> dict[str, Any]:
    plan = bench.plan
    samples: dict[int, dict[str, list[dict[str, Any]]]] = {n: {"ours": [], "baseline": []} for n in plan.ns}
    for rep in range(max(plan.reps.values())):
        for n in plan.ns:
            if rep >= plan.reps[n]:
                continue
            for kind in ("ours", "baseline") if rep % 2 == 0 else ("baseline", "ours"):
                s = cycle(bench, kind, n, rep)
                samples[n][kind].append(s)
                bench.clock.say(
                    f"scaling N={n:<3} rep {rep + 1}/{plan.reps[n]} {kind:8} preview {s['preview']:5.2f}s "
                    f"up {s['up']:5.2f}s unchanged: preview {s['preview_unchanged']:5.2f}s "
                    f"up {s['up_unchanged']:5.2f}s "
                    f"state {s['state_bytes']} B"
                )
    out: dict[str, Any] = {}
    for n, by_kind in samples.items():
        row: dict[str, Any] = {"runs": len(by_kind["ours"])}
        for metric in ("preview", "up", "preview_unchanged", "up_unchanged", "state_bytes"):
            ours = [float(s[metric]) for s in by_kind["ours"]]
            base = [float(s[metric]) for s in by_kind["baseline"]]
            row[metric] = {
                "ours": median(ours),
                "baseline": median(base),
                "ratio": median(ratios(ours, base)),
                "ours_runs": ours,
                "baseline_runs": base,
            }
        row["reup"] = [s["reup"] for s in by_kind["ours"]]
        row["breakdown"] = next((s["breakdown"] for s in by_kind["ours"] if "breakdown" in s), None)
        out[str(n)] = row
    return out


def per_resource(bench: Bench) -> dict[str, Any]:
    """The engine's own cost per no-op dynamic resource, with the provider wrapped as a secret (the SDK's default)
    and plain (as ours): the slope between the two sizes, measured in the same repetition."""
    plan = bench.plan
    lo, hi = plan.per_resource_ns
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "plain": []}
    for rep in range(plan.per_resource_reps):
        for shape in ("bare", "plain") if rep % 2 == 0 else ("plain", "bare"):
            a = cycle(bench, f"baseline-{shape}", lo, rep, full=False)
            b = cycle(bench, f"baseline-{shape}", hi, rep, full=False)
            per = {k: (b[k] - a[k]) / (hi - lo) for k in ("preview", "up", "state_bytes")}
            runs[shape].append(per)
            bench.clock.say(
                f"per-resource rep {rep + 1}/{plan.per_resource_reps} {shape:5}: "
                f"preview {per['preview'] * 1000:5.1f} ms "
                f"up {per['up'] * 1000:5.1f} ms state {per['state_bytes']:.0f} B per resource"
            )
    out: dict[str, Any] = {"sizes": [lo, hi], "runs": plan.per_resource_reps}
    for shape, rs in runs.items():
        out[shape] = {k: median(r[k] for r in rs) for k in ("preview", "up", "state_bytes")}
    out["secret_wrap_cost"] = {
        k: median(b[k] - p[k] for b, p in zip(runs["bare"], runs["plain"], strict=True))
        for k in ("preview", "up", "state_bytes")
    }
    return out


def padded(bench: Bench, scaling_rows: dict[str, Any]) -> dict[str, Any]:
    """Diagnostic: is it the size of our state that makes our `up` slower? The engine saves the whole checkpoint
    before and after every step, one save at a time, so a step waits for saves whose cost grows with the state.
    The mirror padded with plain bytes to our state size has our graph, our state size and none of our work: if
    ours / padded is near 1, state size is the cause."""
    n = bench.plan.target_n
    row = scaling_rows[str(n)]["state_bytes"]
    pad = max(0, round((row["ours"] - row["baseline"]) / n))
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "baseline-padded": [], "baseline": []}
    for rep in range(bench.plan.padded_reps):
        kinds = list(runs) if rep % 2 == 0 else list(reversed(runs))
        for kind in kinds:
            runs[kind].append(cycle(bench, kind, n, 100 + rep, full=False, pad=pad if kind == "baseline-padded" else 0))
        bench.clock.say(
            f"padded N={n} rep {rep + 1}/{bench.plan.padded_reps}: up ours {runs['ours'][-1]['up']:5.2f}s, "
            f"padded baseline {runs['baseline-padded'][-1]['up']:5.2f}s, baseline {runs['baseline'][-1]['up']:5.2f}s"
        )
    out: dict[str, Any] = {"n": n, "pad_bytes_per_unit": pad, "runs": bench.plan.padded_reps}
    for metric in ("preview", "up", "state_bytes"):
        ours = [float(r[metric]) for r in runs["ours"]]
        pads = [float(r[metric]) for r in runs["baseline-padded"]]
        base = [float(r[metric]) for r in runs["baseline"]]
        out[metric] = {
            "ours": median(ours),
            "padded": median(pads),
            "baseline": median(base),
            "ours_over_padded": median(ratios(ours, pads)),
            "padded_over_baseline": median(ratios(pads, base)),
            "ours_over_baseline": median(ratios(ours, base)),
        }
    return out


# --- scenario 2: parallel checks ------------------------------------------------------------------------------
def parallel_checks(bench: Bench) -> dict[str, Any]:
    n = bench.plan.parallel_n
    stack = bench.stack_name(f"par{n}")
    config, secrets = bench.connectors(stack, n)
    bench.ours.new_stack(stack, config, secrets)
    bench.ours.pulumi(stack, "up", "--yes", "--skip-preview")
    slow: list[float] = []
    fast: list[float] = []
    tokens: list[int] = []
    try:
        for rep in range(bench.plan.parallel_reps):
            for latency in (0.0, LATENCY) if rep % 2 == 0 else (LATENCY, 0.0):
                bench.emu.faults.clear()
                if latency:
                    bench.emu.faults.add("token", latency=latency)
                before = bench.emu.count("token")
                seconds = bench.ours.pulumi(stack, "preview").seconds
                tokens.append(bench.emu.count("token") - before)
                (slow if latency else fast).append(seconds)
            bench.clock.say(
                f"parallel N={n} rep {rep + 1}/{bench.plan.parallel_reps}: preview {fast[-1]:5.2f}s at 0 ms, "
                f"{slow[-1]:5.2f}s at {LATENCY * 1000:.0f} ms"
            )
    finally:
        bench.emu.faults.clear()
    bench.ours.remove(stack)
    extra = [s - f for s, f in zip(slow, fast, strict=True)]
    return {
        "n": n,
        "latency": LATENCY,
        "preview_0ms": median(fast),
        "preview_latency": median(slow),
        "added": median(extra),
        "added_runs": extra,
        "token_requests_per_preview": median(tokens),
        "serial_would_add": n * LATENCY,
    }


# --- scenario 3: unchanged re-up on both stores ---------------------------------------------------------------
def stores_reup(bench: Bench) -> dict[str, Any]:
    """A stack with half its connectors on Vault and half on Secrets Manager: up, then `up` unchanged twice,
    with `--skip-preview` and without (a pipeline's plain `pulumi up --yes` previews first)."""
    n = bench.plan.stores_n
    half = n // 2
    stack = bench.stack_name(f"mix{n}")
    config, secrets = bench.connectors(stack, n, sm_from=half)
    bench.ours.new_stack(stack, config, secrets)
    vault_paths = [f"bench/{stack}/c{i:03d}" for i in range(half)]
    sm_names = [f"bench/{stack}/c{i:03d}" for i in range(half, n)]
    with bench.counting(stack, vault_paths, sm_names) as first:
        bench.ours.pulumi(stack, "up", "--yes", "--skip-preview")
    with bench.counting(stack, vault_paths, sm_names) as skip:
        bench.ours.pulumi(stack, "up", "--yes", "--skip-preview")
    skip["changed_steps"] = changed_steps(bench.ours.last_update_steps(stack))
    with bench.counting(stack, vault_paths, sm_names) as with_preview:
        bench.ours.pulumi(stack, "up", "--yes")
    with_preview["changed_steps"] = changed_steps(bench.ours.last_update_steps(stack))
    bench.ours.remove(stack)
    bench.clock.say(f"stores: first up {first}; unchanged up {skip}; unchanged up with preview {with_preview}")
    return {
        "n": n,
        "vault_connectors": half,
        "secrets_manager_connectors": n - half,
        "first_up": first,
        "unchanged_up": skip,
        "unchanged_up_with_preview": with_preview,
    }


# --- scenario 5: rotation -------------------------------------------------------------------------------------
def rotation(bench: Bench) -> dict[str, Any]:
    sizes = bench.plan.rotation_ns
    env = {**bench.ours.env, **bench.admin_env}
    stacks = {}
    for k in sizes:
        stack = bench.stack_name(f"rot{k}")
        bench.ours.new_stack(stack, bench.managed(stack, k))
        bench.ours.pulumi(stack, "up", "--yes", "--skip-preview", env=bench.admin_env)
        stacks[k] = stack
    times: dict[int, list[float]] = {k: [] for k in sizes}
    calls: dict[int, list[dict[str, int]]] = {k: [] for k in sizes}
    for rep in range(bench.plan.rotation_reps):
        for k in sizes if rep % 2 == 0 else tuple(reversed(sizes)):
            tok0, api0 = bench.emu.count("token"), bench.emu.count("api_clients")
            start = time.perf_counter()
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "automation",
                    "--cwd",
                    str(bench.ours.dir),
                    "rotate",
                    "--stack",
                    stacks[k],
                    "--json",
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            seconds = time.perf_counter() - start
            report = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
            if proc.returncode != 0 or not report.get("ok") or len(report.get("connectors", [])) != k:
                raise RuntimeError(f"rotation of {k} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
            if not all(c["verified"] for c in report["connectors"]):
                raise RuntimeError(f"rotation of {k}: a rotated connector was not verified: {proc.stdout}")
            times[k].append(seconds)
            calls[k].append(
                {"token": bench.emu.count("token") - tok0, "api_clients": bench.emu.count("api_clients") - api0}
            )
        bench.clock.say(
            f"rotation rep {rep + 1}/{bench.plan.rotation_reps}: "
            + ", ".join(f"{k} connector(s) {times[k][-1]:5.2f}s" for k in sizes)
        )
    for stack in stacks.values():
        bench.ours.remove(stack)
    one, many = sizes
    return {
        "sizes": list(sizes),
        "seconds": {str(k): median(v) for k, v in times.items()},
        "runs": {str(k): v for k, v in times.items()},
        "ratio": median(ratios(times[many], times[one])),
        "calls_per_rotation": {
            str(k): {c: median(r[c] for r in v) for c in ("token", "api_clients")} for k, v in calls.items()
        },
    }


# --- machine --------------------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    pulumi = subprocess.run(
        [str(engine_bin() / "pulumi"), "version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    bao = subprocess.run([bao_binary(), "version"], capture_output=True, text=True, check=False).stdout.split("(")[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "pulumi_cli": pulumi,
        "pulumi_sdk": version("pulumi"),
        "openbao": bao.strip(),
        "loadavg_start": list(os.getloadavg()),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


# --- targets and report ---------------------------------------------------------------------------------------
def targets(results: dict[str, Any], plan: Plan) -> list[dict[str, Any]]:
    at = results["scaling"][str(plan.target_n)]
    par = results["parallel"]
    reups = [c for row in results["scaling"].values() for c in row["reup"]]
    stores = results["stores"]
    reups += [stores["unchanged_up"], stores["unchanged_up_with_preview"]]
    writes = sum(c["vault_writes"] + c["sm_writes"] for c in reups)
    versions = sum(c["vault_new_versions"] + c["sm_new_versions"] for c in reups)
    api_calls = sum(c["api_client_calls"] for c in reups)
    steps = sum(c["changed_steps"] for c in reups)
    state = results["state"]
    rot = results["rotation"]
    return [
        {
            "id": "1",
            "what": f"preview ours / baseline at N={plan.target_n}",
            "value": at["preview"]["ratio"],
            "limit": 1.3,
            "met": at["preview"]["ratio"] <= 1.3,
        },
        {
            "id": "1",
            "what": f"up ours / baseline at N={plan.target_n}",
            "value": at["up"]["ratio"],
            "limit": 1.3,
            "met": at["up"]["ratio"] <= 1.3,
        },
        {
            "id": "2",
            "what": f"preview time added by {LATENCY * 1000:.0f} ms per token request, {par['n']} connectors (s)",
            "value": par["added"],
            "limit": 1.5 * LATENCY,
            "met": par["added"] <= 1.5 * LATENCY,
        },
        {
            "id": "3",
            "what": f"store writes + new versions in {len(reups)} unchanged re-ups",
            "value": writes + versions,
            "limit": 0,
            "met": writes == 0 and versions == 0,
        },
        {
            "id": "3",
            "what": f"API-client calls in {len(reups)} unchanged re-ups",
            "value": api_calls,
            "limit": 0,
            "met": api_calls == 0,
        },
        {
            "id": "3",
            "what": f"steps other than `same` in {len(reups)} unchanged re-ups (engine history)",
            "value": steps,
            "limit": 0,
            "met": steps == 0,
        },
        {
            "id": "4",
            "what": "state bytes per connector / per baseline unit",
            "value": state["ratio_to_unit"],
            "limit": 1.5,
            "met": state["ratio_to_unit"] <= 1.5,
        },
        {
            "id": "5",
            "what": f"rotate {rot['sizes'][1]} / rotate {rot['sizes'][0]}",
            "value": rot["ratio"],
            "limit": 2.0,
            "met": rot["ratio"] <= 2.0,
        },
    ]


def state_summary(results: dict[str, Any]) -> dict[str, Any]:
    rows = results["scaling"]
    ours = [(float(n), v) for n, row in rows.items() for v in row["state_bytes"]["ours_runs"]]
    base = [(float(n), v) for n, row in rows.items() for v in row["state_bytes"]["baseline_runs"]]
    per_connector, per_unit = slope(ours), slope(base)
    single = results["per_resource"]["bare"]["state_bytes"]
    biggest = max(rows, key=int)
    return {
        "per_connector": per_connector,
        "per_baseline_unit": per_unit,
        "per_baseline_resource": single,
        "ratio_to_unit": per_connector / per_unit,
        "ratio_to_resource": per_connector / single,
        "breakdown": rows[biggest]["breakdown"]
        or next((r["breakdown"] for r in rows.values() if r["breakdown"]), None),
    }


def calls(c: dict[str, float]) -> str:
    return f"{c['token']:.0f} token requests, {c['api_clients']:.0f} API-client calls"


def fmt(x: float, unit: str = "") -> str:
    if unit == "s":
        return f"{x:.2f} s"
    if unit == "ms":
        return f"{x * 1000:.0f} ms"
    if unit == "B":
        return f"{x:,.0f} B"
    return f"{x:.2f}"


def render(results: dict[str, Any], *, quick: bool = False) -> str:
    m = results["machine"]
    load = results["load"]
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python bench/run.py`); how each figure is measured: [README.md](README.md).",
        "Every time is the median of the runs shown; every ratio is the median of per-repetition ratios, each",
        "pair measured back to back on the same machine.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {m['cpu']}, {m['cores']} cores |",
        f"| memory | {m['memory_gib']} GiB |",
        f"| OS | {m['os']} |",
        f"| Python | {m['python']} |",
        f"| Pulumi | CLI {m['pulumi_cli']}, SDK {m['pulumi_sdk']} |",
        f"| OpenBao | {m['openbao']} |",
        f"| date | {m['date']} |",
        f"| load average (1 min) | start {m['loadavg_start'][0]:.2f}; during the run min {load['min']:.2f}, "
        f"median {load['median']:.2f}, max {load['max']:.2f} ({load['samples']} samples); end "
        f"{results['loadavg_end'][0]:.2f} |",
        f"| duration | {results['duration_s']:.0f} s |",
        "",
        "## Targets",
        "",
        "| # | what | value | target | |",
        "|---|---|---|---|---|",
    ]
    for t in results["targets"]:
        verdict = "met" if t["met"] else "**not met**"
        lines.append(f"| {t['id']} | {t['what']} | {t['value']:.2f} | ≤ {t['limit']:g} | {verdict} |")
    lines += [
        "",
        "## 1. Engine scaling: ours / baseline",
        "",
        "Fresh stack: `preview`, then `up --yes --skip-preview`; then both again with nothing changed. Baseline:",
        "`bench/baseline`, shape `mirror` (per connector a component and one no-op dynamic resource, plus one",
        "stack-level no-op resource and one stack output per unit: our graph without our work).",
        "",
        "| N | runs | preview ours | baseline | ratio | up ours | baseline | ratio "
        "| unchanged preview ratio | unchanged up ours | baseline | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, row in results["scaling"].items():
        p, u, p2, u2 = row["preview"], row["up"], row["preview_unchanged"], row["up_unchanged"]
        lines.append(
            f"| {n} | {row['runs']} | {fmt(p['ours'], 's')} | {fmt(p['baseline'], 's')} | {fmt(p['ratio'])} "
            f"| {fmt(u['ours'], 's')} | {fmt(u['baseline'], 's')} | {fmt(u['ratio'])} | {fmt(p2['ratio'])} "
            f"| {fmt(u2['ours'], 's')} | {fmt(u2['baseline'], 's')} | {fmt(u2['ratio'])} |"
        )
    pr = results["per_resource"]
    lines += [
        "",
        f"Engine cost per no-op dynamic resource (slope between N={pr['sizes'][0]} and N={pr['sizes'][1]}, "
        f"{pr['runs']} runs):",
        "",
        "| provider in state | preview | up | state |",
        "|---|---|---|---|",
        f"| wrapped as a secret (the SDK's default) | {fmt(pr['bare']['preview'], 'ms')} "
        f"| {fmt(pr['bare']['up'], 'ms')} | {fmt(pr['bare']['state_bytes'], 'B')} |",
        f"| plain (`serialize_as_secret_always = False`, as ours) | {fmt(pr['plain']['preview'], 'ms')} "
        f"| {fmt(pr['plain']['up'], 'ms')} "
        f"| {fmt(pr['plain']['state_bytes'], 'B')} |",
        f"| cost of the secret wrapping | {fmt(pr['secret_wrap_cost']['preview'], 'ms')} "
        f"| {fmt(pr['secret_wrap_cost']['up'], 'ms')} | {fmt(pr['secret_wrap_cost']['state_bytes'], 'B')} |",
    ]
    pd = results["padded"]
    lines += [
        "",
        f"Diagnostic, state size: the mirror padded with {pd['pad_bytes_per_unit']:,} B of plain input per unit (our "
        f"state size, none of our work), N={pd['n']}, {pd['runs']} runs, fresh stacks:",
        "",
        "| | ours | padded baseline | baseline | ours / padded | padded / baseline | ours / baseline |",
        "|---|---|---|---|---|---|---|",
    ]
    for metric, unit in (("preview", "s"), ("up", "s"), ("state_bytes", "B")):
        m = pd[metric]
        lines.append(
            f"| {metric.replace('_', ' ')} | {fmt(m['ours'], unit)} | {fmt(m['padded'], unit)} "
            f"| {fmt(m['baseline'], unit)} | {fmt(m['ours_over_padded'])} | {fmt(m['padded_over_baseline'])} "
            f"| {fmt(m['ours_over_baseline'])} |"
        )
    par = results["parallel"]
    lines += [
        "",
        "## 2. Parallel credential checks",
        "",
        f"`preview` of {par['n']} connectors (stack already up), {par['latency'] * 1000:.0f} ms injected into every "
        "token request vs 0 ms, alternating:",
        "",
        "| preview at 0 ms | at 200 ms | added (median of paired differences) | physical limit | serial would add "
        "| token requests per preview |",
        "|---|---|---|---|---|---|",
        f"| {fmt(par['preview_0ms'], 's')} | {fmt(par['preview_latency'], 's')} | {fmt(par['added'], 'ms')} "
        f"| {fmt(par['latency'], 'ms')} | {fmt(par['serial_would_add'], 's')} "
        f"| {par['token_requests_per_preview']:.0f} |",
        "",
        "## 3. Unchanged re-`up`: remote calls",
        "",
        "| stack | Vault requests | Vault writes | new Vault versions | Secrets Manager calls | SM writes "
        "| new SM versions | API-client calls | token requests | steps other than `same` |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def calls_row(label: str, c: dict[str, Any]) -> str:
        return (
            f"| {label} | {c['vault_requests']} | {c['vault_writes']} | {c['vault_new_versions']} | {c['sm_requests']} "
            f"| {c['sm_writes']} | {c['sm_new_versions']} | {c['api_client_calls']} | {c['token_requests']} "
            f"| {c.get('changed_steps', '')} |"
        )

    for n, row in results["scaling"].items():
        worst = max(row["reup"], key=lambda c: c["vault_writes"] + c["vault_new_versions"] + c["token_requests"])
        lines.append(calls_row(f"N={n} Vault, `up --skip-preview` (max of {len(row['reup'])})", worst))
    st = results["stores"]
    lines += [
        calls_row(
            f"{st['vault_connectors']} Vault + {st['secrets_manager_connectors']} SM, `up --skip-preview`",
            st["unchanged_up"],
        ),
        calls_row(
            f"{st['vault_connectors']} Vault + {st['secrets_manager_connectors']} SM, `up --yes` (with its preview)",
            st["unchanged_up_with_preview"],
        ),
        calls_row(f"(for scale: that stack's first `up`, {st['n']} connectors)", st["first_up"]),
    ]
    s = results["state"]
    lines += [
        "",
        "## 4. State size",
        "",
        "Bytes of the backend's checkpoint file, least-squares slope over N:",
        "",
        "| per connector (ours) | per baseline unit | ratio | per single no-op dynamic resource | ratio |",
        "|---|---|---|---|---|",
        f"| {fmt(s['per_connector'], 'B')} | {fmt(s['per_baseline_unit'], 'B')} | {fmt(s['ratio_to_unit'])} "
        f"| {fmt(s['per_baseline_resource'], 'B')} | {fmt(s['ratio_to_resource'])} |",
    ]
    if s["breakdown"]:
        b = s["breakdown"]
        lines += [
            "",
            f"Where our bytes go, per connector (the N={b['n']} checkpoint, {b['file_bytes']:,} B; resources account "
            f"for {b['accounted_bytes']:,} B):",
            "",
            "| resource | per connector | bytes | inputs | outputs | the rest (URN, parent, dependencies, ...) |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {k} | {v['count']:g} | {v['total']:,} | {v['inputs']:,} | {v['outputs']:,} | {v['rest']:,} |"
            for k, v in b["by_type_per_connector"].items()
        ]
        lines += ["", "| largest properties | bytes per connector |", "|---|---|"]
        lines += [f"| {k} | {v:,} |" for k, v in b["top_properties_per_connector"].items()]
    rot = results["rotation"]
    one, many = (str(k) for k in rot["sizes"])
    lines += [
        "",
        "## 5. Rotation",
        "",
        "`python -m ctp_credentials rotate --stack NAME --json` on managed connectors (`graceHours: 0`):",
        "",
        f"| {one} connector | {many} connectors | ratio | calls per rotation ({one}) | ({many}) |",
        "|---|---|---|---|---|",
        f"| {fmt(rot['seconds'][one], 's')} | {fmt(rot['seconds'][many], 's')} | {fmt(rot['ratio'])} "
        f"| {calls(rot['calls_per_rotation'][one])} | {calls(rot['calls_per_rotation'][many])} |",
        "",
    ]
    analysis = BENCH / "ANALYSIS.md"
    if analysis.exists() and not quick:
        lines += [analysis.read_text().rstrip(), ""]
    return "\n".join(lines)


# --- profile --------------------------------------------------------------------------------------------------
def descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == pid]
        found += kids
        frontier += kids
    return found


def profiled_up(project: Project, stack: str, out: Path, py_spy: str | None) -> tuple[float, list[Path]]:
    """`up` with the engine's own CPU profile (`--profiling`) and py-spy attached to each Python process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [
            "pulumi",
            "up",
            "--yes",
            "--skip-preview",
            "--non-interactive",
            "--stack",
            stack,
            "--profiling",
            str(out / "engine"),
        ],
        cwd=project.dir,
        env=project.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    spies: list[subprocess.Popen[bytes]] = []
    outputs: list[Path] = []
    seen: set[int] = set()
    while proc.poll() is None and py_spy:
        for pid in descendants(proc.pid):
            if pid in seen:
                continue
            try:
                exe = os.readlink(f"/proc/{pid}/exe")
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            seen.add(pid)
            if "python" not in Path(exe).name:
                continue
            role = (
                "provider"
                if "pulumi.dynamic" in cmd
                else "host"  # the stand-in language host (users' official host is Go)
                if "languagehost.py" in cmd
                else "pip"
                if " pip " in f" {cmd} "
                else "program"
            )
            path = out / f"pyspy-{role}-{pid}.txt"
            outputs.append(path)
            spies.append(
                subprocess.Popen(
                    [
                        py_spy,
                        "record",
                        "--pid",
                        str(pid),
                        "--rate",
                        "200",
                        "--gil",
                        "--format",
                        "raw",
                        "--output",
                        str(path),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(0.01)
    proc.wait()
    seconds = time.perf_counter() - start
    for spy in spies:
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
    return seconds, [p for p in outputs if p.exists()]


def summarize_pyspy(path: Path, rate: int = 200, top: int = 12) -> tuple[float, list[str]]:
    """Seconds holding the GIL, and the busiest frames (self and inclusive) of one py-spy raw profile."""
    self_t: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [re.sub(r"\s*\(.*?/site-packages/", " (", f) for f in stack.split(";")]
        frames = [re.sub(r"\(/.*?/(components|project)/", r"(\1/", f) for f in frames]
        self_t[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    out = [f"{path.name}: {total / rate:.2f} s holding the GIL ({total} samples at {rate} Hz)", ""]
    out += ["self time:", *[f"  {n / rate:6.2f} s  {f or '(native code)'}" for f, n in self_t.most_common(top)], ""]
    busy = [(f, n) for f, n in incl.most_common() if f and not re.match(r"(<module>|_bootstrap|run |main |Thread)", f)]
    out += ["inclusive time, busiest frames:", *[f"  {n / rate:6.2f} s  {f}" for f, n in busy[:top]], ""]
    ours = [(f, n) for f, n in incl.most_common() if "components/" in f][:top]
    out += ["inclusive time in the program's own code:", *[f"  {n / rate:6.2f} s  {f}" for f, n in ours]]
    return total / rate, out


def engine_profile(go: str, cpu: Path) -> tuple[float, float, list[str]]:
    """The engine's CPU seconds, the part spent saving checkpoints, and `pprof -top -cum`."""
    top = subprocess.run(
        [go, "tool", "pprof", "-top", "-cum", "-nodecount=22", str(cpu)], capture_output=True, text=True, check=False
    ).stdout

    def seconds(text: str) -> float:
        value = float(re.sub(r"[a-z]+$", "", text))
        return value / 1000 if text.endswith("ms") else value

    total = re.search(r"Total samples = ([\d.]+m?s)", top)
    save = re.search(r"([\d.]+m?s)\s+[\d.]+%\s+\S+SnapshotManager\)\.saveSnapshot", top)
    return (
        seconds(total.group(1)) if total else float("nan"),
        seconds(save.group(1)) if save else 0.0,
        top.strip().splitlines()[3:],
    )


def import_times(project: Project, module: str, top: int = 14) -> list[str]:
    """`python -X importtime` of one module of the program, after `pulumi` (which the baseline imports too):
    the import cost every program run and every provider process pays before doing anything."""
    code = (
        f"import pulumi, pulumi.dynamic, time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    )
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-X", "importtime", "-c", code],
        cwd=project.dir,
        capture_output=True,
        text=True,
        check=False,
    )
    rows: list[tuple[float, str, int]] = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            depth = (len(name) - len(name.lstrip())) // 2
            if depth == 0 and name.strip() != module:
                rows = []  # a finished top-level import before ours (pulumi, time): not part of its tree
            elif depth <= 3:
                rows.append((int(parts[1]) / 1e6, name.strip(), depth))
    seconds = float(proc.stdout.strip() or "nan")
    out = [f"import {module}: {seconds:.3f} s (after pulumi); largest imports in its tree (cumulative):"]
    for cum, name, depth in sorted(rows, reverse=True)[:top]:
        out.append(f"  {cum:6.3f} s  {'  ' * depth}{name}")
    return out


def profile(bench: Bench, n: int) -> str:
    out = bench.work / "profile"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    spy_path = ROOT / ".venv" / "bin" / "py-spy"
    py_spy = str(spy_path) if spy_path.exists() else shutil.which("py-spy")
    spy_version = (
        subprocess.run([py_spy, "--version"], capture_output=True, text=True, check=False).stdout.strip()
        if py_spy
        else "py-spy (not installed: `.venv/bin/pip install py-spy==0.4.3`)"
    )
    go = shutil.which("go")
    summary = [
        "| | wall | engine CPU (Go) | of it saving checkpoints | program (GIL) | providers (GIL) "
        "| stand-in language host (GIL) | state |"
    ]
    summary.append("|---|---|---|---|---|---|---|---|")
    details: list[str] = []
    for kind, project in (("ours", bench.ours), ("baseline", bench.base)):
        stack = bench.stack_name(f"prof-{kind}{n}")
        if kind == "ours":
            config, secrets = bench.connectors(stack, n)
            project.new_stack(stack, config, secrets)
        else:
            project.new_stack(stack, {"units": n, "shape": "mirror"})
        project.pulumi(stack, "preview")
        kind_out = out / kind
        kind_out.mkdir()
        seconds, spies = profiled_up(project, stack, kind_out, py_spy)
        state = project.checkpoint(stack).stat().st_size
        bench.clock.say(f"profile {kind}: up {seconds:.2f}s, state {state} B")
        details += [f"## {kind}: `up` of N={n}, {seconds:.2f} s wall, final state {state:,} B", ""]
        engine_cpu, saving = float("nan"), float("nan")
        cpu = next(kind_out.glob("engine.*.cpu"), None)
        if go and cpu:
            engine_cpu, saving, top = engine_profile(go, cpu)
            details += ["Engine (Go), cumulative:", "", "```", *top, "```", ""]
        gil = {"program": 0.0, "provider": 0.0, "host": 0.0}
        for spy in sorted(spies):
            held, lines = summarize_pyspy(spy)
            role = spy.name.split("-")[1]
            gil[role] = gil.get(role, 0.0) + held
            details += ["```", *lines, "```", ""]
        summary.append(
            f"| {kind} | {seconds:.2f} s | {engine_cpu:.2f} s | {saving:.2f} s | {gil['program']:.2f} s "
            f"| {gil['provider']:.2f} s | {gil['host']:.2f} s | {state:,} B |"
        )
        project.remove(stack)
    imports = ["## Import time", "", "```"]
    for module in (
        "ctp_credentials.components.connector",
        "ctp_credentials.components.providers.credential_check",
        "ctp_credentials.components.providers.vault_secret",
    ):
        imports += [*import_times(bench.ours, module), ""]
    imports += ["```", ""]
    head = [
        "# Profile of one `up`",
        "",
        f"Written by `python bench/run.py --profile` (N={n}, fresh stacks, after a `preview`). Engine: the CLI's own "
        f"`--profiling` CPU profile, read with `go tool pprof`. Python: {spy_version}, attached to every Python "
        "process of the run with `--gil` (samples only while a thread holds the GIL: Python CPU, not waiting).",
        f"Load average at the start: {os.getloadavg()[0]:.2f} (2 cores).",
        "",
    ]
    return "\n".join([*head, *summary, "", *imports, *details])


# --- main -----------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small N, one run each: a smoke test (bench/work/quick)")
    parser.add_argument("--profile", action="store_true", help="profile one `up` and write bench/PROFILE.md")
    parser.add_argument("--profile-n", type=int, default=50, help="connectors in the profiled stack (default 50)")
    parser.add_argument("--out", type=Path, help="where results.json and RESULTS.md go (default: bench/)")
    parser.add_argument("--render", action="store_true", help="only rewrite RESULTS.md from results.json")
    args = parser.parse_args(argv)
    if args.render:
        out = args.out or BENCH
        (out / "RESULTS.md").write_text(render(json.loads((out / "results.json").read_text()), quick=args.quick))
        return 0

    # A SIGTERM unwinds like Ctrl-C, so OpenBao and the emulator are stopped and no server is left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    plan = Plan.quick() if args.quick else Plan()
    work = BENCH / "work" / ("quick" if args.quick else "full")
    out_dir = args.out or (work if args.quick else BENCH)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    clock = Clock()
    bench = Bench(work, plan, clock)
    with bench.running():
        if args.profile:
            text = profile(bench, 3 if args.quick else args.profile_n)
            target = (out_dir if args.quick else BENCH) / "PROFILE.md"
            target.write_text(text + "\n")
            clock.say(f"wrote {target}")
            return 0
        results: dict[str, Any] = {"machine": machine(), "plan": {"ns": plan.ns, "reps": plan.reps}}
        clock.say(
            f"machine: {results['machine']['cpu']}, {results['machine']['cores']} cores, load {os.getloadavg()[0]:.2f}"
        )
        with LoadSampler() as load:
            results["scaling"] = scaling(bench)
            results["per_resource"] = per_resource(bench)
            results["padded"] = padded(bench, results["scaling"])
            results["parallel"] = parallel_checks(bench)
            results["stores"] = stores_reup(bench)
            results["rotation"] = rotation(bench)
        results["load"] = load.summary()
        results["loadavg_end"] = list(os.getloadavg())
        results["duration_s"] = time.monotonic() - clock.start
        results["state"] = state_summary(results)
        results["targets"] = targets(results, plan)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    (out_dir / "RESULTS.md").write_text(render(results, quick=args.quick))
    for t in results["targets"]:
        print(f"target {t['id']}: {t['what']}: {t['value']:.2f} (≤ {t['limit']:g}) {'met' if t['met'] else 'NOT MET'}")
    clock.say(f"wrote {out_dir / 'results.json'} and {out_dir / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
