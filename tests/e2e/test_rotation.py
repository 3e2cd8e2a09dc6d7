"""Managed clients and rotation end to end: the real engine, the Automation API commands, the emulator and
OpenBao. After every step the store's secret gets a token and the emulator holds exactly the expected clients;
the secret is never in state or output."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import hvac
import pytest

from ctp_credentials.automation.engine import ROOT
from ctp_credentials.components.clients.commercetools import CommercetoolsClient
from ctp_credentials.components.clients.secretsmanager import SecretsManagerClient
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.moto import REGION, MotoServer
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.e2e.conftest import PulumiProject, change_counts

pytestmark = pytest.mark.engine
PK = "shop-eu"


@pytest.fixture
def managed(project: PulumiProject, emulator: CommercetoolsEmulator) -> PulumiProject:
    admin = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], name="admin", secret="admin-secret")
    project.env.update(CTP_ADMIN_CLIENT_ID=admin.id, CTP_ADMIN_CLIENT_SECRET="admin-secret")
    project.init()
    project.write_config(
        {
            "connectors": {
                "patchworks": {
                    "projectKey": PK,
                    "scopes": [f"view_orders:{PK}"],
                    "authUrl": emulator.url,
                    "apiUrl": emulator.url,
                    "vault": {"path": f"{project.uid}/patchworks"},
                    "managed": {"graceHours": 0, "deleteDaysAfterCreation": 30, "rotateAfterDays": 7},
                }
            }
        }
    )
    return project


def managed_export(project: PulumiProject) -> dict[str, Any]:
    """The deployment as `pulumi stack export` gives it: secrets encrypted."""
    return dict(json.loads(project.run("stack", "export").stdout)["deployment"])


def automation(project: PulumiProject, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "ctp_credentials", "--cwd", str(project.dir), *args],
        cwd=ROOT,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"automation {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def stored(bao: OpenBaoServer, project: PulumiProject) -> dict[str, Any]:
    kv = hvac.Client(url=bao.url, token=bao.root_token).secrets.kv.v2
    return dict(kv.read_secret_version(path=f"{project.uid}/patchworks", raise_on_deleted_version=True)["data"]["data"])


def assert_working(emu: CommercetoolsEmulator, bao: OpenBaoServer, project: PulumiProject) -> str:
    doc = stored(bao, project)
    CommercetoolsClient(emu.url, emu.url).request_token(doc["clientId"], doc["clientSecret"], None)
    return str(doc["clientId"])


def kill_session(sid: int) -> None:
    """SIGKILL every process of a session, as a CI runner cancelling a job does. Killing `pulumi` alone is not
    enough: its plugins (our dynamic providers) run in process groups of their own and would finish the step."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # field 6 of /proc/<pid>/stat: the session ID
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(stat.parent.name), signal.SIGKILL)


def clients(emu: CommercetoolsEmulator) -> set[str]:
    return {c.id for c in emu.backend.clients(PK) if c.name != "admin"}


def test_managed_create_status_dry_run_and_rotate(
    managed: PulumiProject, emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    preview = managed.run("preview")
    assert "is managed: its API client is created" in preview.stdout
    managed.run("up", "--yes", "--skip-preview")
    first = assert_working(emulator, openbao, managed)
    assert clients(emulator) == {first}
    secret = stored(openbao, managed)["clientSecret"]
    assert managed.outputs()["connectors"]["patchworks"]["clientId"] == first

    status = json.loads(automation(managed, "status", "--stack", "test", "--json").stdout)
    assert status[0]["mode"] == "managed" and status[0]["client_id"] == first
    assert status[0]["next_rotation"] and status[0]["expires_at"] and not status[0]["rotation_due"]
    assert "patchworks" in automation(managed, "status", "--stack", "test").stdout

    dry = json.loads(automation(managed, "rotate", "--stack", "test", "--dry-run", "--json").stdout)
    assert dry["connectors"][0]["notes"] == ["would rotate"]
    assert clients(emulator) == {first}  # a dry run changes nothing

    done = json.loads(automation(managed, "rotate", "--stack", "test", "--json").stdout)
    row = done["connectors"][0]
    assert done["ok"] and row["verified"] and row["old_client_id"] == first
    second = assert_working(emulator, openbao, managed)
    assert row["new_client_id"] == second != first
    assert clients(emulator) == {second}  # grace 0: the old client is retired

    again = managed.run("up", "--yes", "--skip-preview")  # the request is not repeated by a plain up
    assert "unchanged" in again.stdout and assert_working(emulator, openbao, managed) == second
    # The store's digest (an HMAC of the stored document, secret included, with its salt beside it) is secret
    # in state, as on the store resources; the version consumers read stays plain.
    (client,) = [r for r in managed_export(managed)["resources"] if r["type"].endswith(":ApiClient")]
    assert "digest" not in client["outputs"]["store_state"] and client["outputs"]["store_state"]["version"] == 2
    assert (
        client["outputs"]["store_digest"].get("4dabf18193072939515e22adb298388d") == "1b47061264138c4ac30d75fd1eb44270"
    )
    for text in (managed.state_text(), preview.stdout, again.stdout):
        assert secret not in text and stored(openbao, managed)["clientSecret"] not in text


def test_scheduled_rotation_at_up(
    managed: PulumiProject, emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    config = json.loads(managed.run("config", "--json").stdout)
    connectors = config["commercetools-credentials:connectors"]["objectValue"]
    connectors["patchworks"]["managed"] = {"graceHours": 0, "rotateAfterDays": 0.00003}  # about 2.6 s
    managed.write_config({"connectors": connectors})
    managed.run("up", "--yes", "--skip-preview")
    first = assert_working(emulator, openbao, managed)
    (client,) = [r for r in managed_export(managed)["resources"] if r["type"].endswith(":ApiClient")]
    due = client["outputs"]["created_ts"] + 0.00003 * 86400
    while time.time() <= due:  # the period runs on the provider's real clock: wait until it has passed
        time.sleep(0.05)
    _, events = managed.run_with_events("up", "--yes", "--skip-preview")
    assert change_counts(events) == {"update": 1}, change_counts(events)  # the client, rotated; nothing else
    second = assert_working(emulator, openbao, managed)
    assert second != first and clients(emulator) == {second}


def provided(
    project: PulumiProject, emulator: CommercetoolsEmulator, store: dict[str, Any] | None = None
) -> tuple[Any, Any]:
    """A stack with a client made by hand (secret `old-secret`), up; returns (admin client, that client).
    `store`: the connector's store settings (default: Vault at <uid>/patchworks)."""
    admin = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], name="admin", secret="admin-secret")
    old = emulator.backend.add_client(PK, [f"view_orders:{PK}"], name="by-hand", secret="old-secret")
    project.init()
    project.run("config", "set", "--secret", "clientSecret-patchworks", stdin="old-secret")
    project.write_config(
        {
            "connectors": {
                "patchworks": {
                    "projectKey": PK,
                    "scopes": [f"view_orders:{PK}"],
                    "clientId": old.id,
                    "authUrl": emulator.url,
                    "apiUrl": emulator.url,
                    **(store or {"vault": {"path": f"{project.uid}/patchworks"}}),
                }
            }
        }
    )
    project.run("up", "--yes", "--skip-preview")
    return admin, old


def test_rotation_of_provided_credentials(
    project: PulumiProject, emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    admin, old = provided(project, emulator)
    no_admin = automation(project, "rotate", "--stack", "test", check=False)
    assert no_admin.returncode == 1 and "CTP_ADMIN_CLIENT_ID" in no_admin.stderr
    assert clients(emulator) == {old.id}

    project.env.update(CTP_ADMIN_CLIENT_ID=admin.id, CTP_ADMIN_CLIENT_SECRET="admin-secret")
    out = automation(project, "rotate", "--stack", "test", "--json")
    row = json.loads(out.stdout)["connectors"][0]
    new = assert_working(emulator, openbao, project)
    assert row["verified"] and row["new_client_id"] == new != old.id
    assert clients(emulator) == {new}
    new_secret = stored(openbao, project)["clientSecret"]
    assert new_secret not in out.stdout + out.stderr and new_secret not in project.state_text()
    assert "secure" in project.config_file.read_text() and new_secret not in project.config_file.read_text()


def test_rotation_checks_secrets_manager_through_the_connectors_endpoint(
    aws_project: PulumiProject, emulator: CommercetoolsEmulator, aws_env: MotoServer
) -> None:
    """A connector whose secret is written through its own `endpointUrl` (a VPC endpoint) while the job's
    default endpoint is another: rotation's check must read where `up` wrote, or it fails after the new client
    is in use (it used the job's default and failed here)."""
    project = aws_project
    project.env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = "http://127.0.0.1:9"  # the job's default: nothing answers
    name = f"e2e/{project.uid}/patchworks"
    store = {"secretsManager": {"name": name, "region": REGION, "endpointUrl": aws_env.url}}
    admin, old = provided(project, emulator, store)
    project.env.update(CTP_ADMIN_CLIENT_ID=admin.id, CTP_ADMIN_CLIENT_SECRET="admin-secret")
    row = json.loads(automation(project, "rotate", "--stack", "test", "--json").stdout)["connectors"][0]
    assert (row["step"], row["verified"], row["error"]) == ("done", True, None)
    held = SecretsManagerClient(region=REGION, endpoint_url=aws_env.url).get_secret_value(name)
    assert held is not None and json.loads(held.value)["clientId"] == row["new_client_id"] != old.id
    assert clients(emulator) == {row["new_client_id"]}  # the old client was deleted only after the check


def test_a_rotation_stopped_with_the_new_id_but_not_its_secret_is_redone(
    project: PulumiProject, emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    """What a run stopped between its two `config set` calls (in the order before the fix) left: the new
    client's ID in config, the old secret beside it. Resuming would run `up` with a pair that never works;
    the rerun must see that, delete the client whose secret is lost, and rotate the old client again."""
    admin, old = provided(project, emulator)
    lost = emulator.backend.add_client(PK, [f"view_orders:{PK}"], name=f"test-patchworks-from-{old.id}")
    project.run("config", "set", "--path", "--", "connectors.patchworks.clientId", lost.id)
    project.env.update(CTP_ADMIN_CLIENT_ID=admin.id, CTP_ADMIN_CLIENT_SECRET="admin-secret")

    out = automation(project, "rotate", "--stack", "test", "--json")
    row = json.loads(out.stdout)["connectors"][0]
    new = assert_working(emulator, openbao, project)
    assert row["verified"] and row["old_client_id"] == old.id and new not in (old.id, lost.id)
    assert clients(emulator) == {new}  # neither the lost client nor the old one is left


def test_killed_during_rotation_then_rerun_converges(
    managed: PulumiProject, emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    """SIGKILL the engine right after commercetools made the new client, before its secret reached the store:
    the rerun must delete that orphan (its secret died with the process) and finish the rotation."""
    managed.run("up", "--yes", "--skip-preview")
    first = assert_working(emulator, openbao, managed)

    def creates() -> int:
        return sum(r.method == "POST" and r.endpoint == "api_clients" for r in emulator.requests)

    made_before = creates()
    # answers come late, so the kill lands after the create but before the new client's test and store write
    emulator.faults.add("api_clients", latency=1.5)
    emulator.faults.add("token", latency=1.5)
    env = {**managed.env, "CTP_ROTATE": "kill-test:patchworks"}
    proc = subprocess.Popen(
        ["pulumi", "up", "--yes", "--skip-preview", "--non-interactive", "--stack", "test"],
        cwd=managed.dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while creates() == made_before:
        assert time.monotonic() < deadline, "the rotation never created its client"
        time.sleep(0.01)
    kill_session(proc.pid)  # the create was answered (logged) but nobody stored the secret
    proc.wait()
    emulator.faults.clear()
    orphans = clients(emulator) - {first}
    assert len(orphans) == 1
    assert assert_working(emulator, openbao, managed) == first  # the store never lost its working secret

    managed.env["CTP_ROTATE"] = "kill-test:patchworks"
    locked = managed.run("up", "--yes", "--skip-preview", check=False)
    # The file backend keeps the killed run's lock: the documented recovery is `pulumi cancel`, then rerun.
    assert locked.returncode != 0 and "pulumi cancel" in locked.stdout + locked.stderr
    managed.run("cancel", "--yes")
    managed.run("up", "--yes", "--skip-preview")
    del managed.env["CTP_ROTATE"]
    second = assert_working(emulator, openbao, managed)
    assert second != first and second not in orphans
    assert clients(emulator) == {second}  # the orphan is gone, and so is the retired client


def test_rotate_names_a_missing_setting_instead_of_a_traceback(project: PulumiProject) -> None:
    project.init()
    project.write_config({"connectors": {"patchworks": {"region": "europe-west1.gcp", "clientId": "abc"}}})
    out = automation(project, "rotate", "--stack", "test", check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "connectors.patchworks.projectKey is not set. Nothing changed" in out.stderr


def test_rotate_sends_admin_credentials_only_where_a_preview_would(project: PulumiProject) -> None:
    """rotate reads raw stack config: it must apply the program's host rule, or a merged authUrl on a foreign
    host would receive the admin client (manage_api_clients) at the next scheduled run."""
    project.init()
    settings = {"projectKey": PK, "scopes": [f"view_orders:{PK}"], "clientId": "abc"}
    settings |= {"authUrl": "https://collector.attacker.example", "apiUrl": "https://collector.attacker.example"}
    project.write_config({"connectors": {"patchworks": settings}})
    project.env.update(CTP_ADMIN_CLIENT_ID="admin-id", CTP_ADMIN_CLIENT_SECRET="admin-secret-value")
    out = automation(project, "rotate", "--stack", "test", check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "collector.attacker.example is not a commercetools auth host" in out.stderr
    assert "CTP_ALLOWED_HOSTS" in out.stderr and "admin-secret-value" not in out.stdout + out.stderr


def test_managed_null_is_rotated_as_a_client_you_provide(
    project: PulumiProject, emulator: CommercetoolsEmulator
) -> None:
    """The program reads `managed: null` as not managed; rotate must agree, or it would run an `up` that rotates
    nothing and report success."""
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret="by-hand")
    project.init()
    settings = {"projectKey": PK, "scopes": [f"view_orders:{PK}"], "clientId": client.id, "managed": None}
    project.write_config({"connectors": {"patchworks": {**settings, "authUrl": emulator.url, "apiUrl": emulator.url}}})
    out = automation(project, "rotate", "--stack", "test", "--dry-run", "--json")
    (row,) = json.loads(out.stdout)["connectors"]
    assert row["mode"] == "provided"
