"""Bad input through the real `pulumi preview`: a clear message naming the key and the fix, no traceback,
and not one request to commercetools or Vault. (The full table of rules is tested on the model itself in
tests/components/test_config.py; these are a representative dozen end to end.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hvac
import pytest
import yaml

from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY
from tests.e2e.conftest import PulumiProject

pytestmark = [pytest.mark.engine, pytest.mark.security("bad-input")]
PK = "product-patchworks"


@pytest.fixture(scope="module")
def quiet_emulator() -> Iterator[CommercetoolsEmulator]:
    with CommercetoolsEmulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, openbao: OpenBaoServer, quiet_emulator: CommercetoolsEmulator
) -> PulumiProject:
    project = PulumiProject(Path(tmp_path_factory.mktemp("bad-input")), openbao.env())
    project.init()
    project.run("config", "set", "--secret", "clientSecret-patchworks", stdin=CANARY)
    return project


def good(emu: CommercetoolsEmulator) -> dict[str, Any]:
    return {
        "projectKey": PK,
        "scopes": [f"view_orders:{PK}"],
        "clientId": "AbCdEfGhIjKl",
        "authUrl": emu.url,
        "apiUrl": emu.url,
    }


def with_(**changes: Any) -> Any:
    def build(emu: CommercetoolsEmulator) -> dict[str, Any]:
        settings = {**good(emu), **changes}
        return {"connectors": {"patchworks": {k: v for k, v in settings.items() if v is not None}}}

    return build


CASES = [
    ("project-key", with_(projectKey="a"), "connectors.patchworks.projectKey", "2-36"),
    ("region", with_(region="mars-1.gcp"), "connectors.patchworks.region", "europe-west1.gcp"),
    ("foreign-scope", with_(scopes=["view_orders:other"]), "connectors.patchworks", f"view_orders:{PK}"),
    ("unknown-scope", with_(scopes=[f"view_unicorns:{PK}"]), "connectors.patchworks.scopes", "not a commercetools"),
    ("duplicate-scope", with_(scopes=f"view_orders:{PK} view_orders:{PK}"), "scopes", "duplicate"),
    ("grant-type", with_(grantType="password"), "connectors.patchworks.grantType", "client_credentials"),
    ("unknown-key", with_(colour="blue"), "connectors.patchworks.colour", "remove it"),
    ("http-auth", with_(authUrl="http://auth.example.com"), "connectors.patchworks.authUrl", "https"),
    ("vault-path", with_(vault={"path": "../../sys/raw"}), "connectors.patchworks.vault.path", "safe KV path"),
    ("secret-inline", with_(clientSecret="oops"), "connectors.patchworks.clientSecret", "--secret"),
    ("missing-scopes", with_(scopes=None), "connectors.patchworks.scopes", "pulumi config set"),
    ("not-a-map", lambda _emu: {"connectors": "patchworks"}, "connectors", "must be a map"),
    ("no-secret", lambda emu: {"connectors": {"other": good(emu)}}, "clientSecret-other", "--secret"),
    ("check-as-text", with_(checkCredentials="no"), "connectors.patchworks.checkCredentials", "true or false"),
    (
        "connectors-as-list",
        lambda emu: {"connectors": [{"name": "patchworks", **good(emu)}]},
        "connectors must be a map of connector name to settings, not a list",
        "patchworks:",
    ),
    ("pk-as-number", with_(projectKey=12345), "connectors.patchworks.projectKey", "must be text"),
    ("comma-scopes", with_(scopes=f"view_orders:{PK},view_products:{PK}"), "scopes", "separated by spaces"),
]


@pytest.mark.parametrize(("build", "key", "fix"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_preview_before_any_request(
    stack: PulumiProject,
    quiet_emulator: CommercetoolsEmulator,
    openbao: OpenBaoServer,
    build: Any,
    key: str,
    fix: str,
) -> None:
    stack.write_config(build(quiet_emulator))
    proc = stack.run("preview", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert key in out
    assert fix in out
    assert "Traceback" not in out
    assert CANARY not in out
    assert quiet_emulator.count() == 0
    kv = hvac.Client(url=openbao.url, token=openbao.root_token).secrets.kv.v2
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_metadata(path="commercetools/patchworks", mount_point="secret")


def _stored(stack: PulumiProject) -> dict[str, Any]:
    doc = yaml.safe_load(stack.config_file.read_text())
    return dict(doc["config"]["commercetools-credentials:connectors"]["patchworks"])


def _assert_nothing_sent(emu: CommercetoolsEmulator, bao: OpenBaoServer) -> None:
    assert emu.count() == 0
    kv = hvac.Client(url=bao.url, token=bao.root_token).secrets.kv.v2
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_metadata(path="commercetools/patchworks", mount_point="secret")


def test_what_config_set_path_stores_is_what_the_messages_say(
    stack: PulumiProject, quiet_emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    """`no` is stored as text and refused (it once switched the check off silently); digits are stored as a
    number, so a project key of digits is refused with the fix of quoting it in the stack file."""
    stack.write_config(with_()(quiet_emulator))
    stack.run("config", "set", "--path", "connectors.patchworks.checkCredentials", "no")
    assert _stored(stack)["checkCredentials"] == "no"
    proc = stack.run("preview", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in out and CANARY not in out
    assert "connectors.patchworks.checkCredentials: must be true or false (a YAML boolean, not a string)" in out
    assert "pulumi config set --path 'connectors.patchworks.checkCredentials' false" in out

    stack.write_config(with_()(quiet_emulator))
    stack.run("config", "set", "--path", "connectors.patchworks.projectKey", "12345")
    assert _stored(stack)["projectKey"] == 12345
    proc = stack.run("preview", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in out
    assert "connectors.patchworks.projectKey: must be text (a YAML string): quote it in Pulumi.<stack>.yaml" in out
    _assert_nothing_sent(quiet_emulator, openbao)


def test_a_check_switched_off_with_the_cli_warns_once_in_preview(
    stack: PulumiProject, quiet_emulator: CommercetoolsEmulator, openbao: OpenBaoServer
) -> None:
    """`false` is stored as a boolean, so the check is off: the preview says so, once, as an engine warning."""
    stack.write_config(with_()(quiet_emulator))
    stack.run("config", "set", "--path", "connectors.patchworks.checkCredentials", "false")
    assert _stored(stack)["checkCredentials"] is False
    proc = stack.run("preview", "--json")
    diagnostics = json.loads(proc.stdout).get("diagnostics") or []
    warnings = [d["message"] for d in diagnostics if d.get("severity") == "warning"]
    off = [w for w in warnings if "connector 'patchworks': the credential check is off" in w]
    assert len(off) == 1, warnings
    assert "connectors.patchworks.checkCredentials: false" in off[0] and CANARY not in off[0]
    _assert_nothing_sent(quiet_emulator, openbao)  # nothing checked, nothing written by a preview


def test_a_valid_config_in_the_same_stack_does_reach_the_emulator(
    stack: PulumiProject, quiet_emulator: CommercetoolsEmulator
) -> None:
    """The control case: the same stack with good config does send the token request (and fails on the
    client, which does not exist), so the zero counts above mean something."""
    stack.write_config(with_()(quiet_emulator))
    proc = stack.run("preview", check=False)
    assert "client ID or secret rejected" in proc.stdout + proc.stderr
    assert quiet_emulator.count("token") >= 1
