"""The runtime requirements install beside the Pulumi providers platform teams use today.

Our components sit in users' own programs next to pulumi-aws, pulumi-vault and pulumi-kubernetes: a pin that
cannot resolve beside them (as pulumi==3.79 could not beside pulumi-aws 7) locks users out. pip resolves against
the package index this machine and CI reach; nothing is installed (`--dry-run`), and provider plugins are not
needed for the resolution.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ctp_credentials.automation.engine import ROOT

pytestmark = pytest.mark.registry
PROVIDERS = ["pulumi-aws==7.51.0", "pulumi-vault==7.14.0", "pulumi-kubernetes==4.34.0"]


def test_the_runtime_requirements_resolve_beside_current_providers(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--disable-pip-version-check",
            "--report",
            str(report),
            "-r",
            str(ROOT / "requirements.txt"),
            *PROVIDERS,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    chosen = {_name(i["metadata"]["name"]): i["metadata"]["version"] for i in json.loads(report.read_text())["install"]}
    pinned = dict(
        line.split("==", 1)
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    for name, version in pinned.items():
        assert chosen[_name(name)] == version.strip()  # our pins, unchanged by the providers
    for requirement in PROVIDERS:
        name, version = requirement.split("==")
        assert chosen[_name(name)] == version


def _name(project: str) -> str:
    return project.strip().lower().replace("_", "-")
