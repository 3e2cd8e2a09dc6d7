"""examples/own-program, run as a platform team runs it: the wheel installed into a fresh virtualenv in a directory
outside the checkout (no PYTHONPATH, nothing of the checkout on any path), then preview, up, an unchanged preview,
`ctp-credentials status` and `rotate`, refresh and destroy through the real engine, with the installed policy
pack, against the emulator, OpenBao and moto."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import hvac
import pytest

from ctp_credentials.automation.engine import ROOT, engine_bin, pulumi_env
from ctp_credentials.components.clients.commercetools import CommercetoolsClient
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.moto import MotoServer
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY
from tests.e2e.conftest import change_counts, is_secret, policy_results
from tests.packaging.conftest import UV

pytestmark = pytest.mark.engine

ERP, PIM = "erp-shop", "pim-shop"
EXAMPLE = ROOT / "examples" / "own-program"
PIM_SECRET = "shop/pim-feed/commercetools"


class OwnProgram:
    """The example copied to a temp dir with its own virtualenv, driven through the CLI and the installed command."""

    def __init__(self, root: Path, wheel: Path, servers: dict[str, str]) -> None:
        self.dir = root / "shop-platform"
        shutil.copytree(EXAMPLE, self.dir, ignore=shutil.ignore_patterns("__pycache__"))
        venv = self.dir / "venv"
        subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
        # offline: from the cache `make setup` filled, as a mirror or a lock file would serve a pipeline
        subprocess.run(
            [str(UV), "pip", "install", "--offline", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel)],
            check=True,
            timeout=300,
        )
        self.bin = venv / "bin"
        self.seen: list[str] = []  # everything the engine and the commands printed or logged
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        # the user's PATH: their virtualenv activated, the Pulumi CLI installed; nothing of the checkout
        base["PATH"] = os.pathsep.join([str(self.bin), str(engine_bin()), "/usr/local/bin", "/usr/bin", "/bin"])
        self.env = pulumi_env(root / "state", passphrase="own-program", base=base, extra=servers)
        self.env["PATH"] = base["PATH"]  # pulumi_env adds the checkout's virtualenv: a user has none
        self.env["PULUMI_DEBUG_COMMANDS"] = "true"  # shows --event-log, the data the Automation API reads
        self.pack = self.command("policy-pack").stdout.strip()
        self.pack_config = root / "policy-config.json"
        # loopback test servers (emulator, moto) are not official endpoints: allowed on this test stack only
        self.pack_config.write_text(json.dumps({"commercetools-official-endpoints": {"allowedStacks": ["dev"]}}))

    def pulumi(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        stack = [] if args[:2] == ("stack", "init") else ["--stack", "dev"]
        return self._run(["pulumi", *args, "--non-interactive", *stack], stdin)

    def command(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run([str(self.bin / "ctp-credentials"), *args], None, check=check)

    def with_pack(self, *args: str) -> list[dict[str, Any]]:
        log = self.dir.parent / f"events-{uuid.uuid4().hex[:8]}.jsonl"
        self.pulumi(
            *args, "--policy-pack", self.pack, "--policy-pack-config", str(self.pack_config), "--event-log", str(log)
        )
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]

    def _run(self, cmd: list[str], stdin: str | None, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            cmd, cwd=self.dir, env=self.env, input=stdin, capture_output=True, text=True, check=False, timeout=300
        )
        self.seen += [proc.stdout, proc.stderr]
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd[:3])} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc


def current(sm: Any) -> dict[str, Any]:
    """The AWSCURRENT version, named: moto, unlike AWS, answers a read without a stage with the version a secret
    was created with after a rotation has moved the label (our client always names the stage)."""
    return dict(json.loads(sm.get_secret_value(SecretId=PIM_SECRET, VersionStage="AWSCURRENT")["SecretString"]))


def test_a_platform_teams_own_program_from_the_wheel(
    dist: Path,
    tmp_path_factory: pytest.TempPathFactory,
    emulator: CommercetoolsEmulator,
    openbao: OpenBaoServer,
    moto_server: MotoServer,
) -> None:
    (wheel,) = dist.glob("ctp_credentials-*.whl")
    root = tmp_path_factory.mktemp("outside-the-checkout")
    assert ROOT not in root.parents
    erp = emulator.backend.add_client(ERP, [f"view_orders:{ERP}", f"manage_orders:{ERP}"], secret=CANARY)
    admin = emulator.backend.add_client(PIM, [f"manage_api_clients:{PIM}"], name="admin", secret="admin-secret")
    aws = {
        **moto_server.env(),
        "AWS_CONFIG_FILE": str(root / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(root / "none"),
    }
    servers = {**openbao.env(), **aws, "CTP_ADMIN_CLIENT_ID": admin.id, "CTP_ADMIN_CLIENT_SECRET": "admin-secret"}
    shop = OwnProgram(root, wheel, servers)
    assert Path(shop.pack).is_relative_to(shop.bin.parent)  # the pack inside the installed package

    shop.pulumi("stack", "init", "dev")
    for key, value in {
        "erpProjectKey": ERP,
        "erpClientId": erp.id,
        "pimProjectKey": PIM,
        "kmsKeyId": "alias/ct",
    }.items():
        shop.pulumi("config", "set", key, value)
    shop.pulumi("config", "set", "--secret", "erpClientSecret", stdin=CANARY)
    for key in ("auth_url", "api_url"):
        shop.pulumi("config", "set", "--path", f"commercetoolsUrls.{key}", emulator.url)

    preview = shop.with_pack("preview")
    packs, violations, messages = policy_results(preview)
    assert packs and not violations, messages  # the installed pack ran, and the program passes it
    # the stack, 2 connectors, their shared check, a Vault secret, a managed client, the program's own service
    assert change_counts(preview) == {"create": 7}

    shop.with_pack("up", "--yes")
    env = json.loads(shop.pulumi("stack", "output", "orderSyncEnv", "--json").stdout)
    assert env["CTP_ERP_SYNC_CLIENT_ID"] == erp.id and env["CTP_ERP_SYNC_PROJECT_KEY"] == ERP
    pim_client = env["CTP_PIM_FEED_CLIENT_ID"]
    assert json.loads(env["CTP_PIM_FEED_SECRET_REF"])["name"] == "shop/pim-feed/commercetools"
    stored = hvac.Client(url=openbao.url, token=openbao.root_token).secrets.kv.v2.read_secret_version(
        path="commercetools/shop/erp-sync", mount_point="secret", raise_on_deleted_version=True
    )["data"]["data"]
    assert (stored["clientId"], stored["clientSecret"]) == (erp.id, CANARY)
    sm = boto3.client(
        "secretsmanager",
        endpoint_url=moto_server.url,
        region_name=aws["AWS_DEFAULT_REGION"],
        aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
    )
    held = current(sm)
    made = [held["clientSecret"]]  # made by commercetools, in no config: Pulumi masks nothing of it
    assert held["clientId"] == pim_client
    CommercetoolsClient(emulator.url, emulator.url).request_token(
        pim_client, held["clientSecret"], [f"view_products:{PIM}"]
    )
    deployment = json.loads(shop.pulumi("stack", "export").stdout)["deployment"]
    assert CANARY not in json.dumps(deployment) and held["clientSecret"] not in json.dumps(deployment)
    check = next(r for r in deployment["resources"] if r["type"].endswith("CredentialCheck"))
    assert is_secret(check["outputs"]["connectors"])

    assert change_counts(shop.with_pack("preview")) == {}  # unchanged: reviewers see no noise
    summary = json.loads(
        shop.command("pr-summary", "--stack", "dev", "--policy-pack-config", str(shop.pack_config), "--json").stdout
    )
    rows = {c["name"]: c for c in summary["connectors"]}  # found in this program's preview, by type
    assert sorted(rows) == ["erp-sync", "pim-feed"] and not summary["errors"], summary
    assert (rows["erp-sync"]["op"], rows["erp-sync"]["check"], rows["pim-feed"]["managed"]) == ("same", "passed", True)

    status = {row["connector"]: row for row in json.loads(shop.command("status", "--stack", "dev", "--json").stdout)}
    assert (status["erp-sync"]["mode"], status["erp-sync"]["client_id"]) == ("provided", erp.id)
    assert (status["pim-feed"]["mode"], status["pim-feed"]["client_id"]) == ("managed", pim_client)

    rotated = json.loads(shop.command("rotate", "--stack", "dev", "--connector", "pim-feed", "--json").stdout)
    (row,) = rotated["connectors"]
    assert row["verified"] and row["old_client_id"] == pim_client and row["new_client_id"] != pim_client
    held = current(sm)
    made.append(held["clientSecret"])
    assert held["clientId"] == row["new_client_id"]
    # credentials the program passes in are its own: rotate says so instead of writing config it does not read
    refused = shop.command("rotate", "--stack", "dev", "--connector", "erp-sync", "--json", check=False)
    assert refused.returncode == 1 and "client_secret" in refused.stdout + refused.stderr

    shop.pulumi("refresh", "--yes")
    assert change_counts(shop.with_pack("preview")) == {}
    shop.pulumi("destroy", "--yes")
    # the secrets went through preview, up, the checks, status and rotate: in no output, log or event. Pulumi masks
    # the config secret (CANARY) itself; the managed clients' secrets only we can keep out
    secrets = [CANARY, "admin-secret", *made]
    assert not [text for text in shop.seen if any(secret in text for secret in secrets)]
    assert json.loads(shop.pulumi("stack", "export").stdout)["deployment"].get("resources") in (None, [])
    assert "shop/pim-feed/commercetools" not in {s["Name"] for s in sm.list_secrets()["SecretList"]} or (
        sm.describe_secret(SecretId="shop/pim-feed/commercetools").get("DeletedDate") is not None
    )
