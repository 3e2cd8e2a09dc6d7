"""A stack nobody touched is quiet, for every kind of connector, through the real engine.

After `up`, a `preview` reports no change (the engine's own summary event), a second `up` runs no step but
`same` and writes nothing anywhere (Vault's audit log, Secrets Manager and SSM versions, the file, the webhook
receiver and the emulator's API-clients endpoint), and `pr-summary` says "no changes". Every kind publishes to
the file, Vault, SSM and a webhook. A preview that always says "update" teaches reviewers to ignore it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import hvac
import pytest

from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.moto import MotoServer
from ctp_credentials.testing.openbao import OpenBaoServer
from ctp_credentials.testing.webhook import WebhookReceiver
from tests.conftest import CANARY
from tests.e2e.conftest import PulumiProject, change_counts
from tests.e2e.test_pr_summary import LOCAL, summarise

pytestmark = pytest.mark.engine
PK = "shop-eu"
HOOK_KEY = "hook-key-0123456789abcdef"
ADMIN_SECRET = "admin-secret-for-unchanged"
WRITES = {"create", "update", "delete", "patch"}


@dataclass(frozen=True)
class Kind:
    name: str
    store: str  # "kv2", "kv1" or "sm"
    managed: str | None  # None (credentials provided), "env" or "vault": where the admin credentials come from


KINDS = [
    Kind("provided-vault-kv2", "kv2", None),
    Kind("provided-vault-kv1", "kv1", None),
    Kind("provided-secrets-manager", "sm", None),
    Kind("managed-vault-admin-env", "kv2", "env"),
    Kind("managed-vault-admin-vault", "kv2", "vault"),
    Kind("managed-secrets-manager-admin-env", "sm", "env"),
    Kind("managed-secrets-manager-admin-vault", "sm", "vault"),
]


class VaultAudit:
    """An OpenBao server with a file audit device: every request the stack's runs make, with operation and path."""

    def __init__(self, log: Path) -> None:
        self.server = OpenBaoServer(audit_log=log)
        self.log = log

    def writes(self, marker: str) -> list[tuple[str, str]]:
        """(operation, path) of every write request to a path containing `marker`."""
        found = []
        for line in self.log.read_text().splitlines():
            entry = json.loads(line)
            request = entry.get("request") or {}
            if entry.get("type") == "request" and request.get("operation") in WRITES and marker in request["path"]:
                found.append((request["operation"], request["path"]))
        return found


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VaultAudit]:
    audited = VaultAudit(tmp_path_factory.mktemp("audit") / "audit.log")
    with audited.server:
        yield audited


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(HOOK_KEY) as hook:
        yield hook


def aws(server: MotoServer, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="eu-central-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def settings(kind: Kind, project: PulumiProject, emu: CommercetoolsEmulator, hook: str, out: Path) -> dict[str, Any]:
    uid = project.uid
    connector: dict[str, Any] = {
        "projectKey": PK,
        "scopes": [f"view_orders:{PK}", f"view_products:{PK}"],
        "authUrl": emu.url,
        "apiUrl": emu.url,
        "publish": {
            "file": {"path": str(out)},
            "vault": {"path": f"commercetools/{uid}/config"},
            "ssm": {"name": f"/ctp/{uid}/patchworks"},
            "webhooks": [{"url": hook}],
        },
    }
    if kind.store == "sm":
        connector["secretsManager"] = {
            "name": f"commercetools/{uid}/patchworks",
            "region": "eu-central-1",
            "kmsKeyId": "alias/commerce",
        }
    else:
        connector["vault"] = {
            "path": f"commercetools/{uid}/patchworks",
            **({"mount": f"kv1-{uid}", "kvVersion": 1} if kind.store == "kv1" else {}),
        }
    if kind.managed == "env":
        connector["managed"] = {"rotateAfterDays": 30, "graceHours": 1, "deleteDaysAfterCreation": 60}
    elif kind.managed == "vault":
        connector["managed"] = {
            "rotateAfterDays": 30,
            "graceHours": 1,
            "deleteDaysAfterCreation": 60,
            "adminVaultPath": f"commercetools/{uid}/admin",
        }
    else:
        client = emu.backend.add_client(PK, connector["scopes"], secret=CANARY)
        connector["clientId"] = client.id
    return {"connectors": {"patchworks": connector}}


@dataclass(frozen=True)
class Remote:
    """Everything outside the engine that a write would change."""

    vault_writes: int
    sm_versions: tuple[str, ...]
    ssm_version: int
    file: tuple[str, int]
    deliveries: int
    client_calls: int  # requests to the API-clients endpoint that change something


def remote(
    kind: Kind,
    project: PulumiProject,
    audit: VaultAudit,
    moto: MotoServer,
    hook: WebhookReceiver,
    emu: CommercetoolsEmulator,
    out: Path,
) -> Remote:
    sm_versions: tuple[str, ...] = ()
    if kind.store == "sm":
        listed = aws(moto, "secretsmanager").list_secret_version_ids(SecretId=f"commercetools/{project.uid}/patchworks")
        sm_versions = tuple(sorted(v["VersionId"] for v in listed["Versions"]))
    param = aws(moto, "ssm").get_parameter(Name=f"/ctp/{project.uid}/patchworks")["Parameter"]
    calls = [r for r in emu.requests if r.endpoint == "api_clients" and r.method in ("POST", "DELETE")]
    return Remote(
        vault_writes=len(audit.writes(project.uid)),
        sm_versions=sm_versions,
        ssm_version=int(param["Version"]),
        file=(out.read_text(), out.stat().st_mtime_ns),
        deliveries=len(hook.deliveries),
        client_calls=len(calls),
    )


def engine_events(project: PulumiProject, *args: str) -> list[dict[str, Any]]:
    return project.run_with_events(*args)[1]


def step_ops(events: list[dict[str, Any]]) -> dict[str, str]:
    """URN -> the operation the engine chose for it (from its step events)."""
    ops = {}
    for e in events:
        step = e.get("resourcePreEvent") or {}
        metadata = step.get("metadata") or {}
        if metadata.get("urn"):
            ops[metadata["urn"]] = metadata["op"]
    return ops


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_an_untouched_stack_previews_and_updates_as_unchanged(
    kind: Kind,
    tmp_path: Path,
    moto_server: MotoServer,
    emulator: CommercetoolsEmulator,
    receiver: WebhookReceiver,
    audit: VaultAudit,
) -> None:
    openbao = audit.server
    project = PulumiProject(
        tmp_path,
        {
            **openbao.env(),
            **moto_server.env(),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_EC2_METADATA_DISABLED": "true",
        },
    )
    project.init()
    bao = hvac.Client(url=openbao.url, token=openbao.root_token)
    if kind.store == "kv1":
        bao.sys.enable_secrets_engine("kv", path=f"kv1-{project.uid}", options={"version": "1"})
    if kind.managed is not None:
        admin = emulator.backend.add_client(PK, [f"manage_api_clients:{PK}"], name="admin", secret=ADMIN_SECRET)
        if kind.managed == "env":
            project.env.update(CTP_ADMIN_CLIENT_ID=admin.id, CTP_ADMIN_CLIENT_SECRET=ADMIN_SECRET)
        else:
            bao.secrets.kv.v2.create_or_update_secret(
                path=f"commercetools/{project.uid}/admin", secret={"clientId": admin.id, "clientSecret": ADMIN_SECRET}
            )
    else:
        project.run("config", "set", "--secret", "clientSecret-patchworks", stdin=CANARY)
    project.run("config", "set", "--secret", "webhookSigningKey-patchworks", stdin=HOOK_KEY)
    out = tmp_path / "artifacts" / "patchworks.json"
    project.write_config(settings(kind, project, emulator, receiver.url, out))

    first = engine_events(project, "up", "--yes", "--skip-preview")
    assert change_counts(first).get("create", 0) >= 7, change_counts(
        first
    )  # component, store/client, four publishers, check
    assert len(receiver.deliveries) == 1
    before = remote(kind, project, audit, moto_server, receiver, emulator, out)

    preview = engine_events(project, "preview")
    assert change_counts(preview) == {}, {u: op for u, op in step_ops(preview).items() if op != "same"}

    again = engine_events(project, "up", "--yes", "--skip-preview")
    assert change_counts(again) == {}
    assert {u: op for u, op in step_ops(again).items() if op != "same"} == {}
    assert remote(kind, project, audit, moto_server, receiver, emulator, out) == before

    # The pack's own settings for the test stack, plus the KV v1 mount of that kind
    policy_config = json.loads(Path(LOCAL).read_text())
    policy_config["vault-kv-location"] = {
        "allowedLocations": [
            {"mount": "secret", "pathPrefix": "commercetools"},
            {"mount": f"kv1-{project.uid}", "pathPrefix": "commercetools", "kvVersion": 1},
        ]
    }
    config_file = tmp_path / "policy-config.json"
    config_file.write_text(json.dumps(policy_config))
    _comment, stdout = summarise(project, 0, policy_config=str(config_file))
    summary = json.loads(stdout)
    assert summary["changes"] == {} or set(summary["changes"]) == {"same"}, summary["changes"]
    assert [(c["name"], c["op"], c["rotation"]) for c in summary["connectors"]] == [("patchworks", "same", None)]
    assert "no changes" in summary["verdict"]
    assert remote(kind, project, audit, moto_server, receiver, emulator, out) == before
