"""A stack made with the oldest Pulumi CLI the project supports (the official v3.79.0 binaries: CLI and
language host, nothing of ours in between) keeps working on the current engine: it previews as unchanged,
updates, refreshes and is destroyed with no hand edit. Run in both CI legs: it picks its two engines itself."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import hvac
import pytest

from ctp_credentials.automation.engine import ROOT
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY
from tests.e2e.conftest import PulumiProject

pytestmark = [pytest.mark.engine, pytest.mark.official]
PK = "shop-eu"
OLDEST = "3.79.0"


def engine(version: str | None = None) -> Path:
    """The bin directory of an engine built (or cached) by scripts/pulumi-engine.sh, whatever CTP_PULUMI_BIN says."""
    env = {k: v for k, v in os.environ.items() if k != "CTP_PULUMI_BIN"}
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "pulumi-engine.sh"), *([version] if version else [])],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip().splitlines()[-1])


def on(project: PulumiProject, bin_dir: Path) -> str:
    """Put `bin_dir`'s engine first for the project's commands; returns the version it reports."""
    project.env["PATH"] = f"{bin_dir}{os.pathsep}{project.env['PATH']}"
    found = subprocess.run(["pulumi", "version"], env=project.env, capture_output=True, text=True, check=True)
    return found.stdout.strip()


def changes(project: PulumiProject) -> dict[str, Any]:
    summary = json.loads(project.run("preview", "--json").stdout)["changeSummary"]
    return {op: n for op, n in summary.items() if op != "same" and n}


def test_a_stack_made_on_the_oldest_supported_cli_upgrades_to_the_current_one(
    project: PulumiProject, emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    oldest, current = engine(OLDEST), engine()
    assert (oldest / "pulumi-language-python").is_file()  # the official host, built with that CLI
    path = project.env["PATH"]
    assert on(project, oldest) == f"v{OLDEST}"
    project.init()
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    project.write_config(
        {
            "connectors": {
                "patchworks": {
                    "projectKey": PK,
                    "scopes": [f"view_orders:{PK}"],
                    "clientId": client.id,
                    "authUrl": emulator.url,
                    "apiUrl": emulator.url,
                    "vault": {"path": f"commercetools/{project.uid}/patchworks", "deletePolicy": "destroy"},
                }
            }
        }
    )
    project.run("config", "set", "--secret", "clientSecret-patchworks", stdin=CANARY)
    project.run("up", "--yes", "--skip-preview")
    made = project.outputs()["connectors"]["patchworks"]

    project.env["PATH"] = path
    assert on(project, current) == current.parent.name  # .../pulumi/v<version>/bin
    assert changes(project) == {}
    up = project.run("up", "--yes", "--skip-preview")
    assert project.outputs()["connectors"]["patchworks"] == made
    project.run("refresh", "--yes", "--skip-preview")
    assert changes(project) == {}
    kv = hvac.Client(url=openbao.url, token=openbao.root_token).secrets.kv.v2
    assert kv.read_secret_version(path=f"commercetools/{project.uid}/patchworks", raise_on_deleted_version=True)
    project.run("destroy", "--yes", "--skip-preview")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_metadata(path=f"commercetools/{project.uid}/patchworks")
    assert CANARY not in project.state_text() + up.stdout + up.stderr
