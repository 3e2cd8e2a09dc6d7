"""End-to-end: the real Pulumi CLI on a temporary file backend, against OpenBao and the emulator."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from ctp_credentials.automation.engine import copy_program, pulumi_env
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.moto import MotoServer
from ctp_credentials.testing.openbao import OpenBaoServer

SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value in state and on the wire


def is_secret(value: Any) -> bool:
    """A value `stack export` shows encrypted."""
    return isinstance(value, dict) and value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270"


class PulumiProject:
    """A copy of the program in a temp dir (so stacks never touch the checkout) driven through the CLI."""

    def __init__(self, root: Path, env_extra: dict[str, str]) -> None:
        self.dir = root / "project"
        self.state = root / "state"
        self.dir.mkdir()
        self.state.mkdir()
        copy_program(self.dir)
        self.env = pulumi_env(self.state, passphrase="e2e-passphrase", extra=env_extra)
        self.stack = "test"
        # OpenBao is shared by the session: tests that write use paths under this prefix.
        self.uid = uuid.uuid4().hex[:12]

    def run(self, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        flags = ["--non-interactive"] if args[:2] == ("stack", "init") else ["--non-interactive", "--stack", self.stack]
        # flags go before a `--`, after which everything is a value (client IDs may start with '-')
        cut = args.index("--") if "--" in args else len(args)
        proc = subprocess.run(
            ["pulumi", *args[:cut], *flags, *args[cut:]],
            check=False,
            cwd=self.dir,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def run_with_events(
        self, *args: str, check: bool = True
    ) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
        """Run a command with the engine's event log (the data the Automation API reads): assert on events, not on
        console text, which changes with every CLI release."""
        log = self.dir.parent / f"events-{uuid.uuid4().hex[:8]}.jsonl"
        self.env["PULUMI_DEBUG_COMMANDS"] = "true"  # shows --event-log, as the Automation API does
        proc = self.run(*args, "--event-log", str(log), check=check)
        events = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []
        return proc, events

    def init(self, stack: str = "test") -> None:
        self.stack = stack
        self.run("stack", "init", stack)

    def connector(self, name: str, secret: str, **settings: Any) -> None:
        """Set a connector through `pulumi config set --path`, which stores exactly `true`/`false` as booleans
        and digits as integers, everything else as text (so a bool goes as json.dumps, and 1.5 cannot go)."""
        for key, value in settings.items():
            if isinstance(value, float):
                raise TypeError(f"{key}: pulumi config set --path stores {value} as text; use write_config")
            if isinstance(value, list):
                for i, item in enumerate(value):
                    self.run("config", "set", "--path", "--", f"connectors.{name}.{key}[{i}]", str(item))
            else:
                self.run(
                    "config",
                    "set",
                    "--path",
                    "--",  # values such as client IDs may start with '-'
                    f"connectors.{name}.{key}",
                    json.dumps(value) if isinstance(value, bool) else str(value),
                )
        self.run("config", "set", "--secret", f"clientSecret-{name}", stdin=secret)

    @property
    def config_file(self) -> Path:
        return self.dir / f"Pulumi.{self.stack}.yaml"

    def write_config(self, values: dict[str, Any]) -> None:
        """Replace the plaintext config (keys without namespace) and keep the encrypted secrets as they are:
        much faster than one `pulumi config set` per key."""
        doc = yaml.safe_load(self.config_file.read_text()) if self.config_file.exists() else None
        doc = doc or {}
        kept = {k: v for k, v in (doc.get("config") or {}).items() if isinstance(v, dict) and "secure" in v}
        doc["config"] = {**kept, **{f"commercetools-credentials:{k}": v for k, v in values.items()}}
        self.config_file.write_text(yaml.safe_dump(doc))

    def outputs(self) -> dict[str, Any]:
        return dict(json.loads(self.run("stack", "output", "--json").stdout))

    def resource_outputs(self, type_suffix: str) -> list[dict[str, Any]]:
        """The outputs in state of every resource whose type ends with `type_suffix`, as `stack export` gives
        them (secrets encrypted). Which outputs are secret is decided by the engine (additional_secret_outputs of
        the resource classes), so only an export shows it."""
        deployment = json.loads(self.run("stack", "export").stdout)["deployment"]
        found = [dict(r.get("outputs", {})) for r in deployment["resources"] if r["type"].endswith(type_suffix)]
        assert found, f"no {type_suffix} in state"
        return found

    def state_text(self) -> str:
        """Every byte the backend keeps (checkpoints, backups, history), plus a fresh export."""
        files = [p.read_text(errors="replace") for p in self.state.rglob("*") if p.is_file()]
        return "\n".join(files) + self.run("stack", "export").stdout


@pytest.fixture
def project(tmp_path: Path, openbao: OpenBaoServer, emulator: CommercetoolsEmulator) -> PulumiProject:
    return PulumiProject(tmp_path, openbao.env())


@pytest.fixture
def aws_project(tmp_path: Path, moto_server: MotoServer, emulator: CommercetoolsEmulator) -> PulumiProject:
    """A project whose runs reach moto (and nothing of the developer's AWS setup)."""
    extra = {
        **moto_server.env(),
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return PulumiProject(tmp_path, extra)


def policy_results(events: list[dict[str, Any]]) -> tuple[set[str], set[tuple[str, str]], list[str]]:
    """(the policy packs that ran, {(enforcement level, policy name)} of each violation, their messages)."""
    packs: set[str] = set()
    for e in events:
        summary = e.get("summaryEvent") or {}
        packs |= set(summary.get("PolicyPacks") or summary.get("policyPacks") or {})  # the engine writes `PolicyPacks`
    violations = [e["policyEvent"] for e in events if "policyEvent" in e]
    return (
        packs,
        {(v["enforcementLevel"].lower(), v["policyName"]) for v in violations},
        [v["message"] for v in violations],
    )


def change_counts(events: list[dict[str, Any]]) -> dict[str, int]:
    """The engine's own count of changes in its summary event, without `same`."""
    (summary,) = [e["summaryEvent"] for e in events if "summaryEvent" in e]
    return {op: n for op, n in (summary.get("resourceChanges") or {}).items() if op != "same" and n}
