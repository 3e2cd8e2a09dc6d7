"""`ctp-credentials policy-pack`: the pack's directory, and whether the engine's Python can run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ctp_credentials.automation import policy_pack


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctp_credentials", "policy-pack"], capture_output=True, text=True, env=env, check=False
    )


def test_it_prints_the_pack_when_the_engines_python_can_run_it() -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PULUMI_PYTHON_CMD", None)
    proc = run(env)
    assert (proc.returncode, proc.stderr) == (0, "")
    pack = Path(proc.stdout.strip())
    assert pack == policy_pack.PACK_DIR and (pack / "PulumiPolicy.yaml").is_file() and (pack / "__main__.py").is_file()


def test_a_python_that_cannot_import_the_pack_is_named_with_the_fix(tmp_path: Path) -> None:
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\nexit 1\n")  # a Python without ctp-credentials, as far as the check can tell
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PULUMI_PYTHON_CMD", None)
    proc = run(env)
    assert proc.returncode == 1
    assert proc.stdout.strip() == str(policy_pack.PACK_DIR)  # still printed: `$(...)` fails under `set -e` only
    assert f"the engine runs it with {fake}" in proc.stderr
    assert f"PULUMI_PYTHON_CMD={sys.executable}" in proc.stderr
    # PULUMI_PYTHON_CMD is what the engine runs when set: the fix works
    assert run({**env, "PULUMI_PYTHON_CMD": sys.executable}).returncode == 0


def test_no_python_at_all_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_PYTHON_CMD", "no-such-python-here")
    assert "no no-such-python-here on PATH" in str(policy_pack.problem())
