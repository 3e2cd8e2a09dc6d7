"""Faults with the real servers, through the real engine: commercetools failing in every documented way,
the process killed during `up`, two runs at once, and two stacks after one secret. After each: a clear error
that names the step and the fix, the store holding a working secret, and a stack that a rerun converges."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import boto3
import hvac
import pytest

from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.moto import REGION, MotoServer
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY
from tests.e2e.conftest import PulumiProject, change_counts
from tests.e2e.test_rotation import kill_session

PK = "shop-eu"


def configure(project: PulumiProject, emu: CommercetoolsEmulator, client_id: str, path: str, **extra: Any) -> None:
    project.write_config(
        {
            "connectors": {
                "patchworks": {
                    "projectKey": PK,
                    "scopes": [f"view_orders:{PK}"],
                    "clientId": client_id,
                    "authUrl": emu.url,
                    "apiUrl": emu.url,
                    "vault": {"path": path},
                    **extra,
                }
            }
        }
    )


@pytest.fixture
def ready(project: PulumiProject, emulator: CommercetoolsEmulator) -> tuple[PulumiProject, str]:
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    project.init()
    project.run("config", "set", "--secret", "clientSecret-patchworks", stdin=CANARY)
    configure(project, emulator, client.id, f"{project.uid}/patchworks")
    return project, client.id


FAULTS = [
    ("scope-not-held", {"scopes": [f"manage_customers:{PK}"]}, None, "scopes refused"),
    ("rate-limited", {}, {"status": 429, "retry_after": 0}, "HTTP 429"),
    ("server-error", {}, {"status": 503}, "HTTP 503"),
    ("dropped", {}, {"drop": True}, "connection dropped"),
]


@pytest.mark.engine
@pytest.mark.security("faults")
@pytest.mark.parametrize(("extra", "fault", "says"), [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_commercetools_failures_fail_preview_clearly(
    ready: tuple[PulumiProject, str],
    emulator: CommercetoolsEmulator,
    extra: dict[str, Any],
    fault: dict[str, Any] | None,
    says: str,
) -> None:
    project, client_id = ready
    configure(project, emulator, client_id, f"{project.uid}/patchworks", **extra)
    if fault:
        emulator.faults.add("token", **fault)
    proc = project.run("preview", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert says in out and "connector 'patchworks'" in out and "Traceback" not in out and CANARY not in out
    if fault and "drop" not in fault:
        assert emulator.count("token") >= 4  # retried with backoff before giving up


@pytest.mark.engine
@pytest.mark.security("faults")
def test_transient_rate_limit_is_retried_and_passes(
    ready: tuple[PulumiProject, str], emulator: CommercetoolsEmulator
) -> None:
    project, _ = ready
    emulator.faults.add("token", status=429, retry_after=1, times=2)
    assert project.run("preview").returncode == 0
    assert emulator.count("token", status=429) == 2


@pytest.mark.engine
@pytest.mark.security("faults")
def test_killed_during_up_then_rerun_converges(
    ready: tuple[PulumiProject, str], emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    """SIGKILL the whole run while the credential check is in flight (before the store write)."""
    project, _ = ready
    emulator.faults.add("token", latency=2.0, times=1)
    proc = subprocess.Popen(
        ["pulumi", "up", "--yes", "--skip-preview", "--non-interactive", "--stack", "test"],
        cwd=project.dir,
        env=project.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while emulator.faults.active():  # the delayed request has started (its fault was taken)
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    kill_session(proc.pid)  # inside the delayed token request: nothing written yet
    proc.wait()
    kv = hvac.Client(url=openbao.url, token=openbao.root_token).secrets.kv.v2
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_metadata(path=f"{project.uid}/patchworks")
    # The file backend keeps the killed run's lock: the rerun is refused with the documented recovery.
    locked = project.run("up", "--yes", "--skip-preview", check=False)
    assert locked.returncode != 0 and "pulumi cancel" in locked.stdout + locked.stderr
    project.run("cancel", "--yes")
    project.run("up", "--yes", "--skip-preview")
    stored = kv.read_secret_version(path=f"{project.uid}/patchworks", raise_on_deleted_version=True)["data"]
    assert stored["data"]["clientSecret"] == CANARY and stored["metadata"]["version"] == 1
    _, events = project.run_with_events("up", "--yes", "--skip-preview")
    assert change_counts(events) == {}  # converged: the engine reports nothing to do


@pytest.mark.engine
@pytest.mark.security("concurrency")
def test_two_ups_of_one_stack_one_is_refused_cleanly(
    ready: tuple[PulumiProject, str], emulator: CommercetoolsEmulator
) -> None:
    project, _ = ready
    emulator.faults.add("token", latency=3.0, times=1)  # keeps the first run busy
    first = subprocess.Popen(
        ["pulumi", "up", "--yes", "--skip-preview", "--non-interactive", "--stack", "test"],
        cwd=project.dir,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list((project.state / ".pulumi" / "locks").rglob("*.json")):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    second = project.run("up", "--yes", "--skip-preview", check=False)
    out, _ = first.communicate(timeout=120)
    assert first.returncode == 0, out
    assert second.returncode != 0 and "locked" in second.stdout + second.stderr
    assert "Traceback" not in second.stdout + second.stderr


@pytest.mark.engine
@pytest.mark.security("concurrency")
def test_two_stacks_after_one_vault_path(
    tmp_path: Path, emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    path = f"shared/{tmp_path.name}"
    stacks = []
    for name in ("team-a", "team-b"):
        (tmp_path / name).mkdir()
        project = PulumiProject(tmp_path / name, openbao.env())
        project.init(name)
        project.run("config", "set", "--secret", "clientSecret-patchworks", stdin=CANARY)
        configure(project, emulator, client.id, path)
        stacks.append(project)
    stacks[0].run("up", "--yes", "--skip-preview")
    second = stacks[1].run("up", "--yes", "--skip-preview", check=False)
    assert second.returncode != 0
    assert "belongs to commercetools-credentials/team-a/patchworks" in second.stdout + second.stderr
    kv = hvac.Client(url=openbao.url, token=openbao.root_token).secrets.kv.v2
    meta = kv.read_secret_metadata(path=path)["data"]
    assert (
        meta["custom_metadata"]["pulumi-stack"] == "commercetools-credentials/team-a" and meta["current_version"] == 1
    )


def described(server: MotoServer, name: str) -> dict[str, Any]:
    """A secret's current value, versions (with their labels) and tags, read straight from moto."""
    sm = boto3.client(
        "secretsmanager", endpoint_url=server.url, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
    )
    meta = sm.describe_secret(SecretId=name)
    return {
        "value": sm.get_secret_value(SecretId=name)["SecretString"],
        "versions": meta["VersionIdsToStages"],
        "tags": {t["Key"]: t["Value"] for t in meta.get("Tags", [])},
    }


@pytest.mark.engine
@pytest.mark.security("concurrency")
def test_two_stacks_after_one_secrets_manager_name(
    tmp_path: Path, emulator: CommercetoolsEmulator, moto_server: MotoServer
) -> None:
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    name = f"shared/{tmp_path.name}"
    env = {
        **moto_server.env(),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "x"),
        "AWS_CONFIG_FILE": str(tmp_path / "x"),
    }
    results = []
    for stack in ("team-a", "team-b"):
        (tmp_path / stack).mkdir()
        project = PulumiProject(tmp_path / stack, env)
        project.init(stack)
        project.run("config", "set", "--secret", "clientSecret-patchworks", stdin=CANARY)
        project.write_config(
            {
                "connectors": {
                    "patchworks": {
                        "projectKey": PK,
                        "scopes": [f"view_orders:{PK}"],
                        "clientId": client.id,
                        "authUrl": emulator.url,
                        "apiUrl": emulator.url,
                        "secretsManager": {"name": name},
                    }
                }
            }
        )
        results.append(project.run("up", "--yes", "--skip-preview", check=False))
        if stack == "team-a":
            first = described(moto_server, name)
    assert results[0].returncode == 0
    refused = results[1].stdout + results[1].stderr
    assert results[1].returncode != 0
    assert re.search(
        rf"Secrets Manager secret {re.escape(name)} \([^)]*\) already exists and belongs to "
        "commercetools-credentials/team-a/patchworks",
        refused,
    ), refused
    assert "not to connector 'patchworks' of commercetools-credentials/team-b; it is left untouched" in refused
    # what the refusal leaves: team-a's value, its one version, and its ownership, exactly as they were
    after = described(moto_server, name)
    assert after == first and len(after["versions"]) == 1 and after["tags"]["pulumi-stack"].endswith("/team-a")
    assert json.loads(after["value"])["clientSecret"] == CANARY
