"""Both secret stores through the real engine: one write, no write when unchanged, drift found by refresh and
repaired by up, a foreign value refused, replacement keeping the value, destroy following the policy, and
no plaintext secret in state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import hvac
import pytest

from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.moto import MotoServer
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY
from tests.e2e.conftest import PulumiProject, is_secret

pytestmark = pytest.mark.engine
PK = "shop-eu"


def connector(emu: CommercetoolsEmulator, client_id: str, **store: Any) -> dict[str, Any]:
    return {
        "connectors": {
            "patchworks": {
                "projectKey": PK,
                "scopes": [f"view_orders:{PK}"],
                "clientId": client_id,
                "authUrl": emu.url,
                "apiUrl": emu.url,
                **store,
            }
        }
    }


def setup(project: PulumiProject, emu: CommercetoolsEmulator, **store: Any) -> str:
    client = emu.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    project.init()
    project.run("config", "set", "--secret", "clientSecret-patchworks", stdin=CANARY)
    project.write_config(connector(emu, client.id, **store))
    return client.id


# --- Vault ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def openbao_tls() -> Iterator[OpenBaoServer]:
    with OpenBaoServer(tls=True) as server:
        yield server


def kv(bao: OpenBaoServer) -> Any:
    return hvac.Client(url=bao.url, token=bao.root_token).secrets.kv.v2


def test_vault_drift_is_found_by_refresh_and_repaired_by_up(
    project: PulumiProject, emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    path = f"{project.uid}/patchworks"
    setup(project, emulator, vault={"path": path})
    project.run("up", "--yes", "--skip-preview")
    kv(openbao).create_or_update_secret(path=path, secret={"clientSecret": "changed by hand"}, cas=1)

    assert "no changes" not in project.run("refresh", "--yes", "--skip-preview").stdout.lower()
    preview = project.run("preview", "--diff")
    assert "patchworks-secret" in preview.stdout and "update" in preview.stdout
    project.run("up", "--yes", "--skip-preview")
    stored = kv(openbao).read_secret_version(path=path, raise_on_deleted_version=True)["data"]
    assert stored["data"]["clientSecret"] == CANARY and stored["metadata"]["version"] == 3
    assert CANARY not in project.state_text()


def test_vault_over_tls_trusts_only_the_ca_in_vault_cacert(
    tmp_path: Path, emulator: CommercetoolsEmulator, openbao_tls: OpenBaoServer
) -> None:
    """A production Vault speaks https: the providers verify it against VAULT_CACERT, and without it the run
    stops at the store step with the fix, before a byte of the secret is sent."""
    without_ca = {k: v for k, v in openbao_tls.env().items() if k != "VAULT_CACERT"}
    project = PulumiProject(tmp_path, {**without_ca, "VAULT_SKIP_VERIFY": "true"})  # not honoured, on purpose
    setup(project, emulator, vault={"path": "tls/patchworks", "address": openbao_tls.url})
    refused = project.run("up", "--yes", "--skip-preview", check=False)
    out = refused.stdout + refused.stderr
    assert refused.returncode != 0 and "TLS certificate is not trusted" in out and "Set VAULT_CACERT" in out
    assert "Traceback" not in out and CANARY not in out

    project.env["VAULT_CACERT"] = openbao_tls.ca_file
    up = project.run("up", "--yes", "--skip-preview")
    kv2 = hvac.Client(url=openbao_tls.url, token=openbao_tls.root_token, verify=openbao_tls.verify).secrets.kv.v2
    assert (
        kv2.read_secret_version(path="tls/patchworks", raise_on_deleted_version=True)["data"]["data"]["clientSecret"]
        == CANARY
    )
    assert CANARY not in up.stdout + up.stderr + project.state_text()


def test_vault_foreign_path_is_refused_and_untouched(
    project: PulumiProject, emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    path = f"{project.uid}/taken"
    kv(openbao).create_or_update_secret(path=path, secret={"owner": "another team"})
    setup(project, emulator, vault={"path": path})
    up = project.run("up", "--yes", "--skip-preview", check=False)
    assert up.returncode != 0
    assert (
        "belongs to another tool" in up.stdout + up.stderr
        and "vault.adopt (store.adopt in your own program): true" in up.stdout + up.stderr
    )
    assert kv(openbao).read_secret_version(path=path, raise_on_deleted_version=True)["data"]["data"] == {
        "owner": "another team"
    }
    assert CANARY not in up.stdout + up.stderr


def test_vault_replacement_keeps_the_value_and_destroy_follows_the_policy(
    project: PulumiProject, emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    path = f"{project.uid}/patchworks"
    client_id = setup(project, emulator, vault={"path": path, "address": openbao.url})
    project.run("up", "--yes", "--skip-preview")
    # Same server and path under another name: the engine replaces the resource (create, then delete the
    # old one). The old one's delete must not remove what the new one wrote.
    same_server = openbao.url.replace("127.0.0.1", "localhost")
    project.write_config(
        connector(emulator, client_id, vault={"path": path, "address": same_server, "deletePolicy": "destroy"})
    )
    up = project.run("up", "--yes", "--skip-preview")
    assert "replaced" in up.stdout
    stored = kv(openbao).read_secret_version(path=path, raise_on_deleted_version=True)["data"]
    assert stored["data"]["clientSecret"] == CANARY

    project.run("destroy", "--yes", "--skip-preview")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv(openbao).read_secret_metadata(path=path)  # deletePolicy destroy: versions and metadata gone


# --- AWS Secrets Manager -------------------------------------------------------------------------------------
def sm(server: MotoServer) -> Any:
    return boto3.client(
        "secretsmanager",
        endpoint_url=server.url,
        region_name="eu-central-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


# Reads name the stage: moto answers a bare GetSecretValue from a default version that UpdateSecretVersionStage
# does not move (AWS answers from AWSCURRENT).


def versions(server: MotoServer, name: str) -> list[str]:
    return [v["VersionId"] for v in sm(server).list_secret_version_ids(SecretId=name)["Versions"]]


def test_secrets_manager_lifecycle(
    aws_project: PulumiProject, emulator: CommercetoolsEmulator, moto_server: MotoServer
) -> None:
    name = f"e2e/{aws_project.uid}/patchworks"
    client_id = setup(
        aws_project, emulator, secretsManager={"name": name, "kmsKeyId": "alias/commerce", "tags": {"team": "platform"}}
    )
    aws_project.run("up", "--yes", "--skip-preview")
    described = sm(moto_server).describe_secret(SecretId=name)
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert tags["managed-by"] == "ctp-credentials" and tags["team"] == "platform"
    assert described["KmsKeyId"] == "alias/commerce"
    assert len(versions(moto_server, name)) == 1
    doc = aws_project.outputs()["connectors"]["patchworks"]
    assert doc["secretRef"]["store"] == "secretsManager" and doc["secretRef"]["arn"] == described["ARN"]

    again = aws_project.run("up", "--yes", "--skip-preview")
    assert "4 unchanged" in again.stdout
    assert len(versions(moto_server, name)) == 1  # no new version
    (stored,) = aws_project.resource_outputs(":SecretsManagerSecret")
    assert "data" not in stored and is_secret(stored["digest"])  # the HMAC of the payload is a secret too

    sm(moto_server).put_secret_value(SecretId=name, SecretString='{"clientSecret": "changed by hand"}')
    aws_project.run("refresh", "--yes", "--skip-preview")
    aws_project.run("up", "--yes", "--skip-preview")
    current = sm(moto_server).get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"]
    assert CANARY in current

    # replacement (same endpoint under another name) keeps the value
    same = moto_server.url.replace("127.0.0.1", "localhost")
    aws_project.write_config(
        connector(
            emulator,
            client_id,
            secretsManager={
                "name": name,
                "endpointUrl": same,
                "kmsKeyId": "alias/commerce",
                "tags": {"team": "platform"},
            },
        )
    )
    assert "replaced" in aws_project.run("up", "--yes", "--skip-preview").stdout
    assert CANARY in sm(moto_server).get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"]
    assert CANARY not in aws_project.state_text()

    aws_project.run("destroy", "--yes", "--skip-preview")
    gone = sm(moto_server).describe_secret(SecretId=name)
    assert "DeletedDate" in gone  # scheduled for deletion with a recovery window, restorable


def test_secrets_manager_foreign_secret_refused(
    aws_project: PulumiProject, emulator: CommercetoolsEmulator, moto_server: MotoServer
) -> None:
    name = f"e2e/{aws_project.uid}/taken"
    sm(moto_server).create_secret(Name=name, SecretString='{"owner": "another team"}')
    setup(aws_project, emulator, secretsManager={"name": name})
    up = aws_project.run("up", "--yes", "--skip-preview", check=False)
    assert up.returncode != 0
    assert name in up.stdout + up.stderr
    assert (
        sm(moto_server).get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"]
        == '{"owner": "another team"}'
    )
