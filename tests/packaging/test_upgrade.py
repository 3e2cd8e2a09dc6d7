"""A stack written by the release before the library (the stack program at RELEASED, its providers pickled as
`components.*`) keeps working after the upgrade: from a checkout with no hand edit, and from an installed copy
after the one documented command, `ctp-credentials migrate-state`. Through the real engine."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ctp_credentials.automation.engine import ROOT, copy_program, engine_bin
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY
from tests.e2e.conftest import PulumiProject, change_counts
from tests.packaging.conftest import UV

pytestmark = pytest.mark.engine

RELEASED = "bf4ce10ec4a55bd5644ca0aee62c46d8ad94a123"  # the last commit before the ctp_credentials import root
PK = "shop-eu"


def released_stack(tmp_path: Path, openbao: OpenBaoServer, emulator: CommercetoolsEmulator) -> PulumiProject:
    """A stack deployed by the released stack program: one connector, its check and its Vault secret."""
    project = PulumiProject(tmp_path, openbao.env())
    for name in ("__main__.py", "Pulumi.yaml", "components", "ctp_credentials"):
        path = project.dir / name
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", RELEASED, "Pulumi.yaml", "__main__.py", "components"],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(project.dir)], input=archive.stdout, check=True)
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    project.init()
    project.connector(
        "patchworks",
        CANARY,
        projectKey=PK,
        scopes=[f"view_orders:{PK}"],
        clientId=client.id,
        authUrl=emulator.url,
        apiUrl=emulator.url,
        **{"vault.path": f"commercetools/upgrade-{project.uid}"},
    )
    project.run("up", "--yes")
    assert pickled_modules(project) == {"components.providers.credential_check", "components.providers.vault_secret"}
    return project


def pickled_modules(project: PulumiProject) -> set[str]:
    """The modules the state's pickled providers name (a dill pickle of a class names its module as text)."""
    found = set()
    for r in json.loads(project.run("stack", "export").stdout)["deployment"]["resources"]:
        pickled = (r.get("outputs") or {}).get("__provider")
        if isinstance(pickled, str):
            found |= set(re.findall(rb"((?:ctp_credentials\.)?components\.providers\.\w+)", base64.b64decode(pickled)))
    return {m.decode() for m in found}


def test_a_checkout_upgrades_the_released_stack_with_no_hand_edit(
    tmp_path: Path, openbao: OpenBaoServer, emulator: CommercetoolsEmulator
) -> None:
    project = released_stack(tmp_path, openbao, emulator)
    for name in ("components", ".venv"):
        path = project.dir / name
        shutil.rmtree(path) if name == "components" else path.unlink()
    copy_program(project.dir)
    _, events = project.run_with_events("preview")
    assert change_counts(events) == {}  # the same resources: the check kept its name, inputs and place
    project.run("refresh", "--yes")  # reads each resource with its old pickle
    project.run("up", "--yes")
    project.run("destroy", "--yes")
    assert project.run("stack", "export").stdout.count('"urn"') == 0


def test_an_installed_copy_upgrades_it_after_migrate_state(
    dist: Path, tmp_path: Path, openbao: OpenBaoServer, emulator: CommercetoolsEmulator
) -> None:
    project = released_stack(tmp_path, openbao, emulator)
    # the team's program now: the stack program's files, the library from the wheel, nothing of the checkout
    shutil.rmtree(project.dir / "components")
    (project.dir / ".venv").unlink()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, project.dir / name)
    venv = project.dir / ".venv"
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    (wheel,) = dist.glob("ctp_credentials-*.whl")
    subprocess.run(
        [str(UV), "pip", "install", "--offline", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel)],
        check=True,
        timeout=300,
    )
    project.env["PATH"] = os.pathsep.join([str(venv / "bin"), str(engine_bin()), "/usr/bin", "/bin"])
    project.env.pop("PYTHONPATH", None)

    stuck = project.run("refresh", "--yes", check=False)  # the old pickles name a module no installed copy has
    assert stuck.returncode != 0 and "No module named 'components'" in stuck.stdout + stuck.stderr

    def migrate_state() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(venv / "bin" / "ctp-credentials"), "migrate-state", "--stack", project.stack],
            cwd=project.dir,
            env=project.env,
            capture_output=True,
            text=True,
            check=True,
        )

    migrated = migrate_state()
    assert "2 resources' providers now use the ctp_credentials module names" in migrated.stdout, migrated.stdout
    assert pickled_modules(project) == {
        "ctp_credentials.components.providers.credential_check",
        "ctp_credentials.components.providers.vault_secret",
    }
    export = json.loads(project.run("stack", "export").stdout)
    assert CANARY not in json.dumps(export)  # the round trip kept every secret encrypted
    _, events = project.run_with_events("preview")
    assert change_counts(events) == {}
    project.run("refresh", "--yes")
    project.run("destroy", "--yes")
    again = migrate_state()
    assert "nothing to migrate" in again.stdout
