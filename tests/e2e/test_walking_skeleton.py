"""The walking skeleton through the real engine: preview checks the credential, up stores it in Vault,
a second up changes nothing, destroy cleans up, and the secret is never in state in plaintext."""

from __future__ import annotations

import hvac
import pytest

from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY
from tests.e2e.conftest import PulumiProject, is_secret

pytestmark = [pytest.mark.engine, pytest.mark.official]
PK = "product-patchworks"


def settings(emu: CommercetoolsEmulator, client_id: str) -> dict[str, object]:
    return {
        "projectKey": PK,
        "scopes": [f"view_orders:{PK}", f"view_products:{PK}"],
        "clientId": client_id,
        "authUrl": emu.url,
        "apiUrl": emu.url,
    }


def vault_read(bao: OpenBaoServer, path: str) -> hvac.v1.Client:
    return hvac.Client(url=bao.url, token=bao.root_token).secrets.kv.v2.read_secret_version(
        path=path, mount_point="secret", raise_on_deleted_version=True
    )


def test_preview_fails_on_wrong_secret_and_writes_nothing(
    project: PulumiProject, emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}", f"view_products:{PK}"])  # its secret != CANARY
    project.init()
    project.connector("patchworks", CANARY, **settings(emulator, client.id))
    proc = project.run("preview", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "connector 'patchworks'" in out and "client ID or secret rejected" in out
    assert "pulumi config set --secret clientSecret-patchworks" in out
    assert "Traceback" not in out
    assert CANARY not in out
    assert emulator.count("token") >= 1
    meta = hvac.Client(url=openbao.url, token=openbao.root_token).secrets.kv.v2
    with pytest.raises(hvac.exceptions.InvalidPath):
        meta.read_secret_metadata(path="commercetools/patchworks", mount_point="secret")


def test_up_stores_secret_second_up_is_noop_destroy_cleans_up(
    project: PulumiProject, emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    # an ID that starts with "-" must reach the config as a value, not as a CLI flag
    client = emulator.backend.add_client(
        PK, [f"view_orders:{PK}", f"view_products:{PK}"], secret=CANARY, client_id="-dash-first-client-id"
    )
    project.init()
    project.connector("patchworks", CANARY, **settings(emulator, client.id))
    project.run("config", "set", "--path", "connectors.patchworks.vault.path", f"{project.uid}/patchworks")

    preview = project.run("preview")
    assert CANARY not in preview.stdout + preview.stderr

    up = project.run("up", "--yes", "--skip-preview")
    assert CANARY not in up.stdout + up.stderr
    stored = vault_read(openbao, f"{project.uid}/patchworks")["data"]
    assert stored["data"]["clientSecret"] == CANARY
    assert stored["data"]["clientId"] == client.id
    assert stored["metadata"]["version"] == 1
    assert stored["metadata"]["custom_metadata"]["pulumi-stack"] == "commercetools-credentials/test"

    doc = project.outputs()["connectors"]["patchworks"]
    assert doc["clientId"] == client.id and doc["projectKey"] == PK
    assert (doc["grantType"], doc["tokenKey"], doc["clientType"]) == (
        "client_credentials",
        "access_token",
        "confidential",
    )
    assert doc["secretRef"] == {
        "store": "vault",
        "address": openbao.url,
        "mount": "secret",
        "path": f"{project.uid}/patchworks",
        "kvVersion": 2,
        "version": 1,
    }

    again = project.run("up", "--yes", "--skip-preview")
    assert "4 unchanged" in again.stdout
    assert vault_read(openbao, f"{project.uid}/patchworks")["data"]["metadata"]["version"] == 1  # no new version

    state = project.state_text()
    assert "ciphertext" in state  # the secret inputs are there, encrypted
    assert CANARY not in state
    # the payload, its HMAC and the check's map of credentials are secrets in state (encrypted), not plain
    (kv,) = project.resource_outputs(":KvSecret")
    assert "data" not in kv and is_secret(kv["digest"]) and kv["version"] == 1  # the payload never, its HMAC secret
    (check,) = project.resource_outputs(":CredentialCheck")
    assert is_secret(check["connectors"])

    project.run("destroy", "--yes", "--skip-preview")
    with pytest.raises(hvac.exceptions.InvalidPath):
        vault_read(openbao, f"{project.uid}/patchworks")  # soft-deleted: the default delete policy
    assert CANARY not in project.state_text()


def test_plaintext_secret_is_a_clear_config_error(project: PulumiProject, emulator: CommercetoolsEmulator) -> None:
    project.init()
    project.connector("patchworks", CANARY, **settings(emulator, "some-client"))
    project.run("config", "set", "clientSecret-patchworks", CANARY)  # forgot --secret
    proc = project.run("preview", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "clientSecret-patchworks: stored in plaintext" in out
    assert "pulumi config set --secret clientSecret-patchworks" in out
    assert "Traceback" not in out
    assert CANARY not in out
    assert emulator.count("token") == 0  # rejected before any request
