"""Secret canaries across every flow: no secret in state (pickled providers included), output (with the engine's
most verbose logging), Pulumi's log files, stack outputs, published documents, webhook bodies, exception
messages or the emulator's request log. Secrets may be only where they must be: the token request and the store.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import hvac
import pytest

from ctp_credentials.automation.engine import ROOT
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.openbao import OpenBaoServer
from ctp_credentials.testing.webhook import WebhookReceiver
from tests.e2e.conftest import PulumiProject

pytestmark = [pytest.mark.engine, pytest.mark.security("canary")]
PK = "shop-eu"
CLIENT = "CANARY-client-4f1d9c2e7b8a6d5c3e1f0a9b"
WRONG = "CANARY-wrong-8c7b6a5d4e3f2a1b0c9d8e7f"
ADMIN = "CANARY-admin-1a2b3c4d5e6f7a8b9c0d1e2f"
HOOK = "CANARY-hook-key-9f8e7d6c5b4a3f2e1d0c"
VERBOSE = ("-v=9", "--logtostderr", "--logflow")


def everything_written(root: Path) -> str:
    """Every file under a directory (state, backups, history, Pulumi home, temp logs), as text."""
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


def test_no_secret_anywhere_across_every_flow(
    tmp_path: Path, emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    admin = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], name="admin", secret=ADMIN)
    provided = emulator.backend.add_client(PK, [f"view_orders:{PK}"], name="provided", secret=CLIENT)
    receiver = WebhookReceiver(HOOK).start()
    project = PulumiProject(
        tmp_path,
        {**openbao.env(), "TMPDIR": str(tmp), "CTP_ADMIN_CLIENT_ID": admin.id, "CTP_ADMIN_CLIENT_SECRET": ADMIN},
    )
    outputs: list[str] = []
    managed_secrets: list[str] = []
    published: list[str] = []  # the published file, read while it exists (destroy deletes it)
    published_file = tmp_path / "provided.json"
    kv = hvac.Client(url=openbao.url, token=openbao.root_token).secrets.kv.v2

    def managed_secret() -> None:  # made by commercetools for the managed connector: canaries too
        data = kv.read_secret_version(path=f"{project.uid}/m", raise_on_deleted_version=True)["data"]["data"]
        managed_secrets.append(str(data["clientSecret"]))

    def run(*args: str, check: bool = True) -> None:
        proc = project.run(*args, check=check)
        outputs.append(proc.stdout + proc.stderr)

    def automation(*args: str, ok: tuple[int, ...] = (0,)) -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "ctp_credentials", "--cwd", str(project.dir), *args],
            cwd=ROOT,
            env=project.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        outputs.append(proc.stdout + proc.stderr)
        assert proc.returncode in ok, proc.stderr

    try:
        project.init()
        project.run("config", "set", "--secret", "clientSecret-provided", stdin=CLIENT)
        project.run("config", "set", "--secret", "webhookSigningKey-provided", stdin=HOOK)
        project.write_config(
            {
                "connectors": {
                    "provided": {
                        "projectKey": PK,
                        "scopes": [f"view_orders:{PK}"],
                        "clientId": provided.id,
                        "authUrl": emulator.url,
                        "apiUrl": emulator.url,
                        "vault": {"path": f"{project.uid}/p"},
                        "publish": {
                            "file": {"path": str(published_file)},
                            "webhooks": [{"url": receiver.url}],
                        },
                    },
                    "managed": {
                        "projectKey": PK,
                        "scopes": [f"view_orders:{PK}"],
                        "authUrl": emulator.url,
                        "apiUrl": emulator.url,
                        "vault": {"path": f"{project.uid}/m"},
                        "managed": {"graceHours": 0, "rotateAfterDays": 30, "deleteDaysAfterCreation": 60},
                    },
                }
            }
        )
        run("preview", *VERBOSE)
        run("up", "--yes", "--skip-preview", *VERBOSE)
        published.append(published_file.read_text())
        managed_secret()
        run("refresh", "--yes", "--skip-preview", "--debug")
        automation("status", "--stack", "test", "--json")
        # exit 1: the pack rightly refuses these test Vault paths; the summary must still hold no secret
        local = str(ROOT / "policies" / "local.json")
        automation(
            "pr-summary", "--stack", "test", "--policy-pack-config", local, "--out", str(tmp / "pr.md"), ok=(0, 1)
        )
        automation("rotate", "--stack", "test", "--json")
        managed_secret()
        run("up", "--yes", "--skip-preview", "--debug")
        published.append(published_file.read_text())  # after the rotation: the new client's document
        outputs.append(json.dumps(project.outputs()))
        # failure paths: a wrong secret at preview, a webhook receiver that keeps failing at up
        project.run("config", "set", "--secret", "clientSecret-provided", stdin=WRONG)
        run("preview", *VERBOSE, check=False)
        project.run("config", "set", "--secret", "clientSecret-provided", stdin=CLIENT)
        receiver.fail_next(100)
        run("up", "--yes", "--skip-preview", "--target-dependents", check=False)
        delivered = list(receiver.deliveries)
        receiver.reset()  # the receiver recovers
        run("destroy", "--yes", "--skip-preview", *VERBOSE)
        delivered += receiver.deliveries
    finally:
        receiver.stop()

    secrets = [CLIENT, WRONG, ADMIN, HOOK, openbao.root_token, *managed_secrets]
    assert len(set(secrets)) == 7  # both managed secrets were found, so the search below means something

    places: dict[str, str] = {
        "command output": "\n".join(outputs),
        "backend (state, backups, history)": everything_written(project.state),
        "temp dir (Pulumi log files)": everything_written(tmp),
        "published file": "\n".join(published),
        "webhook bodies": "\n".join(d.raw.decode(errors="replace") for d in delivered),
        "emulator request log": json.dumps([e.to_json() for e in emulator.requests]),
        "stack config file": project.config_file.read_text(),
    }
    assert len(outputs) >= 10 and len(delivered) >= 3 and places["backend (state, backups, history)"]
    # the published file was read while it held the documents (the rotated client's too), and destroy removed it
    assert len(published) == 2 and all(json.loads(doc)["projectKey"] == PK for doc in published)
    assert json.loads(published[0])["clientId"] == provided.id != json.loads(published[1])["clientId"]
    assert not published_file.exists()
    leaks = {f"{name}: secret #{i}" for name, text in places.items() for i, s in enumerate(secrets) if s in text}
    assert not leaks, leaks
    # The pickled providers are stored unencrypted (components/providers/base.py) and base64-encoded, where a
    # plain search cannot see inside: decode every one and search the bytes.
    pickles = {
        m for m in re.findall(r'"__provider":\s*"([A-Za-z0-9+/=]{40,})"', places["backend (state, backups, history)"])
    }
    assert pickles, "no plain pickled provider found in state"
    decoded = [base64.b64decode(p) for p in pickles]
    assert not [i for i, s in enumerate(secrets) for raw in decoded if s.encode() in raw]


def test_demo_output_and_files_hold_no_secret(tmp_path: Path) -> None:
    """The README's promise: grep for CTP_DEMO_CLIENT_SECRET over .demo/ and the demo's output finds nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "PULUMI_"))}
    env.update(CTP_DEMO_CLIENT_SECRET=CLIENT, CTP_DEMO_DIR=str(tmp_path / "demo"))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "OK: OpenBao secret/commercetools/patchworks holds this client's ID and secret" in proc.stdout
    assert "OK: the wrong secret was refused during preview" in proc.stdout
    assert CLIENT not in proc.stdout + proc.stderr
    assert CLIENT not in everything_written(tmp_path / "demo")
    assert not list(ROOT.glob("Pulumi.demo*.yaml"))  # the demo keeps everything under its directory
