"""Every failure a user meets during `pulumi up` reads as our message alone, through the current engine.

SDK 3.272's dynamic-provider server sends a full Python traceback with every exception a provider raises;
`components/providers/base.py:report_plainly` makes it send our message alone (for our own errors: a bug keeps
its traceback). Each case below fails in a provider's create or update, not in a check, and the output must hold
the message, name the connector, and carry no traceback and no secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hvac
import pytest

from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.openbao import OpenBaoServer, free_port
from tests.conftest import CANARY
from tests.e2e.conftest import PulumiProject

pytestmark = [pytest.mark.engine, pytest.mark.security("faults")]
PK = "shop-eu"
ADMIN_SECRET = "admin-secret-provider-errors"


@pytest.fixture(scope="module")
def bao() -> Iterator[OpenBaoServer]:
    """A server of this module's own: one case seals it."""
    with OpenBaoServer() as server:
        yield server


def client(bao: OpenBaoServer, token: str | None = None) -> hvac.Client:
    return hvac.Client(url=bao.url, token=token or bao.root_token)


def stack(tmp_path: Path, bao: OpenBaoServer, emu: CommercetoolsEmulator, *, managed: bool = False) -> PulumiProject:
    project = PulumiProject(tmp_path, bao.env())
    project.init()
    connector: dict[str, Any] = {
        "projectKey": PK,
        "scopes": [f"view_orders:{PK}"],
        "authUrl": emu.url,
        "apiUrl": emu.url,
        "vault": {"path": f"commercetools/{project.uid}/patchworks"},
    }
    if managed:
        admin = emu.backend.add_client(PK, [f"manage_api_clients:{PK}"], name="admin", secret=ADMIN_SECRET)
        project.env.update(CTP_ADMIN_CLIENT_ID=admin.id, CTP_ADMIN_CLIENT_SECRET=ADMIN_SECRET)
        connector["managed"] = {"rotateAfterDays": 30, "deleteDaysAfterCreation": 60, "graceHours": 1}
    else:
        connector["clientId"] = emu.backend.add_client(PK, connector["scopes"], secret=CANARY).id
        project.run("config", "set", "--secret", "clientSecret-patchworks", stdin=CANARY)
    project.write_config({"connectors": {"patchworks": connector}})
    return project


def assert_plain(out: str, says: str) -> None:
    assert says in out, out
    assert "connector 'patchworks'" in out or "patchworks" in out, out
    assert "Traceback" not in out and 'File "' not in out, out  # the message alone
    assert CANARY not in out and ADMIN_SECRET not in out


def failing_up(project: PulumiProject) -> str:
    up = project.run("up", "--yes", "--skip-preview", check=False)
    assert up.returncode != 0
    return up.stdout + up.stderr


def test_vault_sealed(tmp_path: Path, bao: OpenBaoServer, emulator: CommercetoolsEmulator) -> None:
    project = stack(tmp_path, bao, emulator)
    client(bao).sys.seal()
    try:
        assert_plain(failing_up(project), "sealed")
    finally:
        client(bao).sys.submit_unseal_key(bao.unseal_key)


def test_vault_down(tmp_path: Path, bao: OpenBaoServer, emulator: CommercetoolsEmulator) -> None:
    project = stack(tmp_path, bao, emulator)
    project.env["VAULT_ADDR"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert_plain(failing_up(project), "VAULT_ADDR")


def test_vault_permission_denied(tmp_path: Path, bao: OpenBaoServer, emulator: CommercetoolsEmulator) -> None:
    root = client(bao)
    root.sys.create_or_update_policy(name="read-only", policy='path "secret/*" { capabilities = ["read", "list"] }')
    project = stack(tmp_path, bao, emulator)
    project.env["VAULT_TOKEN"] = root.auth.token.create(policies=["read-only"], ttl="1h")["auth"]["client_token"]
    assert_plain(failing_up(project), "permission")


def test_store_value_owned_by_someone_else(tmp_path: Path, bao: OpenBaoServer, emulator: CommercetoolsEmulator) -> None:
    project = stack(tmp_path, bao, emulator)
    path = f"commercetools/{project.uid}/patchworks"
    client(bao).secrets.kv.v2.create_or_update_secret(path=path, secret={"owner": "another team"})
    assert_plain(failing_up(project), "belongs to another tool")


def test_replacement_onto_a_path_someone_else_owns(
    tmp_path: Path, bao: OpenBaoServer, emulator: CommercetoolsEmulator
) -> None:
    project = stack(tmp_path, bao, emulator)
    project.run("up", "--yes", "--skip-preview")
    taken = f"commercetools/{project.uid}/taken"
    client(bao).secrets.kv.v2.create_or_update_secret(path=taken, secret={"owner": "another team"})
    config = project.config_file.read_text().replace(
        f"commercetools/{project.uid}/patchworks", taken
    )  # the connector moves to a path already in use
    project.config_file.write_text(config)
    assert_plain(failing_up(project), "belongs to another tool")


@pytest.mark.parametrize(("status", "says"), [(401, "401"), (403, "403"), (429, "429"), (503, "503")])
def test_commercetools_refuses_the_managed_client(
    tmp_path: Path, bao: OpenBaoServer, emulator: CommercetoolsEmulator, status: int, says: str
) -> None:
    project = stack(tmp_path, bao, emulator, managed=True)
    emulator.faults.add("api_clients", status=status, retry_after=0 if status == 429 else None)
    assert_plain(failing_up(project), says)
