"""The project's stacks through the Pulumi Automation API, with two calls done by hand for secrecy.

`LocalWorkspace.set_config` passes a secret value on the command line (visible to every process on the machine)
and `export_stack` asks for `--show-secrets`; for those two we run the CLI ourselves: the secret goes on stdin
and exports stay encrypted.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from ctp_credentials.components.config import capacity_problem, encoded_config_size
from ctp_credentials.components.errors import CredentialsError

from . import eventlog
from .engine import EngineUnavailable, engine_bin

eventlog.install()  # every preview/up below reads its events whole (see eventlog.py)


class StackError(CredentialsError):
    """The stack could not be opened or a Pulumi command failed; the message says which and why."""


class ProjectStack:
    """One stack of this project, in the project directory `work_dir`."""

    def __init__(self, name: str, work_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.work_dir = work_dir
        # our engine first on PATH: the Automation API runs whatever `pulumi` it finds there
        self.env = {**os.environ, **(env or {})}
        try:
            engine = engine_bin()
        except EngineUnavailable as exc:
            raise StackError(str(exc)) from None
        self.env["PATH"] = f"{engine}{os.pathsep}{self.env.get('PATH', '')}"
        self.env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
        try:
            # The Automation API looks for `pulumi` under `root`/bin or on this process's PATH, not on the
            # workspace's: name our engine, or `pulumi` missing from the caller's PATH is a FileNotFoundError.
            command = auto.PulumiCommand(root=str(engine.parent)) if engine.name == "bin" else None
            ws = auto.LocalWorkspace(work_dir=str(work_dir), env_vars=self.env, pulumi_command=command)
            self.stack = auto.Stack.select(name, ws)
        except auto.errors.CommandError as exc:
            raise StackError(f"cannot open stack {name!r} in {work_dir}: {_first_error(str(exc))}") from None
        except OSError as exc:  # an engine directory without `pulumi` (CTP_PULUMI_BIN), or none on PATH
            raise StackError(f"cannot run the Pulumi CLI to open stack {name!r}: {exc.strerror}") from None

    def with_env(self, extra: dict[str, str]) -> ProjectStack:
        return ProjectStack(self.name, self.work_dir, {**self.env, **extra})

    def config(self) -> dict[str, Any]:
        """Stack config without secret values (they come back as '[secret]')."""
        out = self._cli("config", "--json")
        return {k.split(":", 1)[1]: v.get("value") for k, v in json.loads(out).items() if not v.get("secret")}

    def capacity_problem(self) -> str | None:
        """Why this stack's config cannot go through the engine (components/config.py, "Capacity"), or None.
        Checked before a command runs the engine, which would otherwise fail naming neither a key nor the limit."""
        try:
            values = {k: v.value for k, v in self.stack.get_all_config().items()}  # decrypted, in this process only
        except auto.errors.CommandError as exc:
            raise StackError(f"cannot read the config of stack {self.name!r}: {_first_error(str(exc))}") from None
        return capacity_problem(encoded_config_size(values))

    def set_config(self, key: str, value: str, *, secret: bool = False, path: bool = False) -> None:
        args = ["config", "set", *(["--path"] if path else []), "--secret" if secret else "--plaintext", "--", key]
        if secret:
            self._cli(*args, stdin=value)  # on stdin: never in a process list
        else:
            self._cli(*args, value)

    def secret_config(self, key: str) -> str | None:
        """One secret config value, decrypted into this process only (captured, never printed)."""
        try:
            return self._cli("config", "get", "--", key).rstrip("\n")
        except StackError:
            return None  # not set

    def export(self) -> dict[str, Any]:
        """The state with secrets still encrypted."""
        deployment = json.loads(self._cli("stack", "export")).get("deployment") or {}
        return dict(deployment)

    def import_deployment(self, deployment: dict[str, Any]) -> None:
        """Replace the state with `deployment` (as `export` returns it: secrets still encrypted)."""
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=self.work_dir, delete=True) as f:
            json.dump({"version": 3, "deployment": deployment}, f)
            f.flush()
            self._cli("stack", "import", "--file", f.name)

    def outputs(self) -> dict[str, Any]:
        return {k: v.value for k, v in self.stack.outputs().items()}

    def _cli(self, *args: str, stdin: str | None = None) -> str:
        cut = args.index("--") if "--" in args else len(args)
        cmd = ["pulumi", *args[:cut], "--stack", self.name, "--non-interactive", *args[cut:]]
        proc = subprocess.run(
            cmd, cwd=self.work_dir, env=self.env, input=stdin, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise StackError(
                f"`pulumi {args[0]} {args[1] if len(args) > 1 else ''}` failed: {_first_error(proc.stderr)}"
            )
        return proc.stdout


def _first_error(text: str) -> str:
    for line in text.splitlines():
        if "error:" in line:
            return line.split("error:", 1)[1].strip()
    return text.strip().splitlines()[-1] if text.strip() else "no output"
