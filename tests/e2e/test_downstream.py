"""Downstream emission through the real engine: the document in outputs, a file, Vault, SSM and a signed webhook;
exactly one delivery per change, none on an unchanged up, a clear failure when the receiver keeps failing, and
a consumer stack reading the document with a StackReference. Every document validates against the published
schema and none carries the secret."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import hvac
import jsonschema
import pytest

from ctp_credentials.automation.engine import ROOT
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.moto import MotoServer
from ctp_credentials.testing.openbao import OpenBaoServer
from ctp_credentials.testing.webhook import WebhookReceiver
from tests.conftest import CANARY
from tests.e2e.conftest import PulumiProject

pytestmark = pytest.mark.engine
PK = "shop-eu"
HOOK_KEY = "hook-key-0123456789abcdef"
SCHEMA = json.loads((ROOT / "schemas" / "connector-config.v1.json").read_text())


def valid(doc: dict[str, Any]) -> dict[str, Any]:
    jsonschema.validate(doc, SCHEMA)
    assert CANARY not in json.dumps(doc)
    return doc


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(HOOK_KEY) as hook:
        yield hook


@pytest.fixture
def stack(
    tmp_path: Path,
    openbao: OpenBaoServer,
    moto_server: MotoServer,
    emulator: CommercetoolsEmulator,
    receiver: WebhookReceiver,
) -> PulumiProject:
    project = PulumiProject(
        tmp_path,
        {
            **openbao.env(),
            **moto_server.env(),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
        },
    )
    project.init()
    project.run("config", "set", "--secret", "clientSecret-patchworks", stdin=CANARY)
    project.run("config", "set", "--secret", "webhookSigningKey-patchworks", stdin=HOOK_KEY)
    return project


def configure(project: PulumiProject, emu: CommercetoolsEmulator, client_id: str, out: Path, hook: str) -> None:
    project.write_config(
        {
            "connectors": {
                "patchworks": {
                    "projectKey": PK,
                    "scopes": [f"view_orders:{PK}"],
                    "clientId": client_id,
                    "authUrl": emu.url,
                    "apiUrl": emu.url,
                    "vault": {"path": f"{project.uid}/secret"},
                    "publish": {
                        "file": {"path": str(out)},
                        "vault": {"path": f"{project.uid}/config"},
                        "ssm": {"name": f"/ctp/{project.uid}/patchworks"},
                        "webhooks": [{"url": hook}],
                    },
                }
            }
        }
    )


def test_publishers_deliver_once_per_change(
    stack: PulumiProject,
    emulator: CommercetoolsEmulator,
    openbao: OpenBaoServer,
    moto_server: MotoServer,
    receiver: WebhookReceiver,
    tmp_path: Path,
) -> None:
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    out = tmp_path / "artifacts" / "patchworks.json"
    configure(stack, emulator, client.id, out, receiver.url)
    stack.run("up", "--yes", "--skip-preview")

    doc = valid(stack.outputs()["connectors"]["patchworks"])
    assert doc["secretRef"]["version"] == 1
    on_disk = valid(json.loads(out.read_text()))  # the file, marker included, is valid under the schema
    assert {k: v for k, v in on_disk.items() if k != "_publishedBy"} == doc
    kv = hvac.Client(url=openbao.url, token=openbao.root_token).secrets.kv.v2
    assert (
        valid(kv.read_secret_version(path=f"{stack.uid}/config", raise_on_deleted_version=True)["data"]["data"]) == doc
    )
    ssm = boto3.client(
        "ssm",
        endpoint_url=moto_server.url,
        region_name="eu-central-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    param = ssm.get_parameter(Name=f"/ctp/{stack.uid}/patchworks")["Parameter"]
    assert valid(json.loads(param["Value"])) == doc
    # publish.ssm.region is unset: the region it was written to is recorded, so a destroy run from a job with
    # another AWS_REGION still deletes it where it is
    deployment = json.loads(stack.run("stack", "export").stdout)["deployment"]
    (published,) = [r for r in deployment["resources"] if r["type"].endswith("publish:SsmParameter")]
    assert published["outputs"]["region"] == "eu-central-1"
    (delivery,) = receiver.accepted()
    assert delivery.verified and delivery.event == "connector.config.changed" and valid(delivery.body) == doc
    assert CANARY not in delivery.raw.decode() and HOOK_KEY not in delivery.raw.decode()

    stack.run("up", "--yes", "--skip-preview")  # unchanged: nothing is written or sent
    assert len(receiver.deliveries) == 1
    assert ssm.get_parameter(Name=f"/ctp/{stack.uid}/patchworks")["Parameter"]["Version"] == param["Version"]

    # a new client (as after a rotation): the secret's version changes and every publisher delivers once
    other = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret="second-secret")
    stack.run("config", "set", "--secret", "clientSecret-patchworks", stdin="second-secret")
    configure(stack, emulator, other.id, out, receiver.url)
    stack.run("up", "--yes", "--skip-preview")
    new = valid(stack.outputs()["connectors"]["patchworks"])
    assert new["secretRef"]["version"] == 2 and new["clientId"] == other.id
    assert [d.body["secretRef"]["version"] for d in receiver.accepted()] == [1, 2]
    assert json.loads(ssm.get_parameter(Name=f"/ctp/{stack.uid}/patchworks")["Parameter"]["Value"]) == new
    for text in (stack.state_text(), out.read_text()):
        assert CANARY not in text and "second-secret" not in text and HOOK_KEY not in text

    # the receiver keeps failing: up fails clearly; the next up delivers
    receiver.fail_next(50, status=503)
    third = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret="third-secret")
    stack.run("config", "set", "--secret", "clientSecret-patchworks", stdin="third-secret")
    configure(stack, emulator, third.id, out, receiver.url)
    failed = stack.run("up", "--yes", "--skip-preview", check=False)
    text = failed.stdout + failed.stderr
    assert failed.returncode != 0 and "503" in text and receiver.url.split("?")[0] in text
    assert HOOK_KEY not in text and "third-secret" not in text
    receiver.fail_next(0)
    receiver.reset()
    stack.run("up", "--yes", "--skip-preview")
    (redelivered,) = receiver.accepted()
    assert redelivered.body["clientId"] == third.id


def test_consumer_reads_the_document_with_a_stack_reference(
    project: PulumiProject, emulator: CommercetoolsEmulator, tmp_path: Path
) -> None:
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    project.init()
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
                    "vault": {"path": f"{project.uid}/patchworks"},
                }
            }
        }
    )
    project.run("up", "--yes", "--skip-preview")

    consumer = PulumiProject.__new__(PulumiProject)
    consumer.dir, consumer.state, consumer.env, consumer.uid = tmp_path / "consumer", project.state, project.env, "c"
    shutil.copytree(ROOT / "examples" / "consumer", consumer.dir)
    (consumer.dir / "Pulumi.yaml").write_text(
        (consumer.dir / "Pulumi.yaml").read_text().replace("../../.venv", str(ROOT / ".venv"))
    )
    consumer.init("consumer")
    consumer.run("config", "set", "credentialsStack", "organization/commercetools-credentials/test")
    consumer.run("config", "set", "connector", "patchworks")
    consumer.run("up", "--yes", "--skip-preview")
    outputs = consumer.outputs()
    assert outputs["projectKey"] == PK and outputs["authUrl"] == emulator.url
    assert outputs["secretRef"]["path"] == f"{project.uid}/patchworks"
    assert CANARY not in json.dumps(outputs) and CANARY not in consumer.run("stack", "export").stdout


def test_removing_one_of_two_webhooks_tells_that_receiver_only(
    stack: PulumiProject, emulator: CommercetoolsEmulator, receiver: WebhookReceiver
) -> None:
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)

    def hooks(*urls: str) -> None:
        settings: dict[str, Any] = {"projectKey": PK, "scopes": [f"view_orders:{PK}"], "clientId": client.id}
        settings |= {"authUrl": emulator.url, "apiUrl": emulator.url, "vault": {"path": f"{stack.uid}/secret"}}
        stack.write_config(
            {"connectors": {"patchworks": {**settings, "publish": {"webhooks": [{"url": u} for u in urls]}}}}
        )

    with WebhookReceiver(HOOK_KEY) as first:
        hooks(first.url, receiver.url)
        stack.run("up", "--yes", "--skip-preview")
        assert (
            [d.event for d in first.accepted()]
            == [d.event for d in receiver.accepted()]
            == ["connector.config.changed"]
        )
        first.reset()
        receiver.reset()
        hooks(receiver.url)  # the first receiver goes; the document is unchanged
        stack.run("up", "--yes", "--skip-preview")
        assert [d.event for d in first.accepted()] == ["connector.config.deleted"]
        assert receiver.accepted() == []  # still configured: nothing to tell it


def test_a_stack_whose_webhooks_were_named_by_position_upgrades_without_a_delivery(
    stack: PulumiProject, emulator: CommercetoolsEmulator, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """Webhook resources used to be named `<connector>-webhook-<index>`; the alias must carry them over, or
    the upgrade would create the new one (a delivery) and delete the old one (a "deleted" to a live receiver)."""
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    configure(stack, emulator, client.id, tmp_path / "doc.json", receiver.url)
    program = stack.dir / "components" / "connector.py"
    current = program.read_text()
    named_now = 'f"{name}-webhook-{hashlib.sha256(hook.url.encode()).hexdigest()[:12]}"'
    assert named_now in current
    program.write_text(current.replace(named_now, 'f"{name}-webhook-{i}"'))  # the program as it was
    stack.run("up", "--yes", "--skip-preview")
    assert [d.event for d in receiver.accepted()] == ["connector.config.changed"]
    receiver.reset()

    program.write_text(current)
    up = stack.run("up", "--yes", "--skip-preview")
    assert up.stdout.split("Resources:")[1].split()[:2] == ["8", "unchanged"]  # nothing created or deleted
    assert receiver.deliveries == []
