"""The pack through the real engine: `pulumi preview --policy-pack policies`, as the pipeline runs it.

The pack directory is copied into the test project beside the program, so the relative `--policy-pack policies`
and PulumiPolicy.yaml's `virtualenv: ../.venv` are exercised exactly as in a checkout. A compliant stack
previews clean; each violating stack breaks one rule and shows that policy's name, level and fix. A stand-in
program (tests/policies/programs/standins.py) covers what the program's config model refuses before anything
is registered (a managed client out of bounds, an unknown region, a connector without a credential check).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ctp_credentials.automation.engine import ROOT
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY
from tests.e2e.conftest import PulumiProject, policy_results

pytestmark = [pytest.mark.engine, pytest.mark.official]

PK = "product-patchworks"
SCOPES = [f"view_orders:{PK}", f"view_products:{PK}"]
LOCAL = "policies/local.json"  # the shipped config for demo and test stacks (allow-lists their endpoints)
# Appended to the program: exports a string that contains the connector's secret (marked secret, even).
LEAK = """
pulumi.export(
    "debugDsn",
    pulumi.Config().require_secret("clientSecret-patchworks").apply(lambda s: f"ctp://patchworks:{s}@auth"),
)
"""


@dataclass(frozen=True)
class Case:
    stack: str = "test"
    settings: dict[str, Any] = field(default_factory=dict)  # connector settings over the compliant ones
    client_scopes: tuple[str, ...] = tuple(SCOPES)  # what the emulator's API client holds
    pack_config: str | dict[str, Any] | None = LOCAL
    program: str | None = None  # None: the project's own __main__.py; "leak"; "standins"
    expected: frozenset[tuple[str, str]] = frozenset()
    fixes: tuple[str, ...] = ()


CASES = {
    "compliant": Case(),
    "official-endpoints": Case(
        stack="staging",
        pack_config=None,
        expected=frozenset({("mandatory", "commercetools-official-endpoints")}),
        fixes=("add 'staging' to allowedStacks in the commercetools-official-endpoints policy config",),
    ),
    "least-privilege": Case(
        settings={"scopes": [f"view_orders:{PK}", f"manage_api_clients:{PK}"]},
        client_scopes=(f"view_orders:{PK}", f"manage_api_clients:{PK}"),
        expected=frozenset({("mandatory", "commercetools-least-privilege")}),
        fixes=(
            f"scope 'manage_api_clients:{PK}'",
            "remove it from connectors.patchworks.scopes (scopes in your own program)",
        ),
    ),
    "vault-kv-location": Case(
        settings={"vault.path": "team-x/patchworks"},
        expected=frozenset({("mandatory", "vault-kv-location")}),
        fixes=(
            "Vault location secret/team-x/patchworks is outside the allowed locations",
            "set connectors.patchworks.vault.mount and connectors.patchworks.vault.path (store.mount and store.path in "
            "your own program)",
        ),
    ),
    "credential-check-production": Case(
        settings={"checkCredentials": False},
        pack_config={
            "commercetools-official-endpoints": {"allowedStacks": ["test"]},
            "credential-check-production": {"productionStacks": ["test"]},
        },
        expected=frozenset({("mandatory", "credential-check-production"), ("advisory", "credential-check-enabled")}),
        fixes=(
            "remove connectors.patchworks.checkCredentials (check_credentials in your own program)",
            "stack 'test' is production: it matches 'test' in productionStacks",
        ),
    ),
    "credential-check-enabled": Case(
        settings={"checkCredentials": False},
        expected=frozenset({("advisory", "credential-check-enabled")}),
        fixes=("remove connectors.patchworks.checkCredentials (check_credentials in your own program)",),
    ),
    "deprecated-region": Case(
        # The check is off: with it on, preview would request a token from the real legacy host.
        settings={"authUrl": "https://auth.sphere.io", "apiUrl": "https://api.sphere.io", "checkCredentials": False},
        expected=frozenset({("advisory", "commercetools-deprecated-region"), ("advisory", "credential-check-enabled")}),
        fixes=(
            "authUrl https://auth.sphere.io is a deprecated commercetools host",
            "set connectors.patchworks.region (region in your own program)",
        ),
    ),
    "aws-secret-protection": Case(
        # Preview only runs the provider's offline check: no AWS credentials or endpoint needed.
        settings={"secretsManager.region": "eu-west-1", "secretsManager.forceDelete": True},
        expected=frozenset({("mandatory", "aws-secret-protection")}),
        fixes=(
            "uses the AWS-managed default key aws/secretsmanager; set connectors.patchworks.secretsManager.kmsKeyId "
            "(store.kms_key_id in your own program)",
            "force_delete removes the secret without a recovery window; remove "
            "connectors.patchworks.secretsManager.forceDelete (store.force_delete in your own program)",
        ),
    ),
    "no-secret-in-outputs": Case(
        program="leak",
        expected=frozenset({("mandatory", "no-secret-in-outputs")}),
        fixes=("stack output 'debugDsn' contains the client secret of connector 'patchworks'; remove it",),
    ),
    "standins": Case(
        program="standins",
        expected=frozenset(
            {
                ("mandatory", "commercetools-known-region"),
                ("mandatory", "commercetools-least-privilege"),
                ("mandatory", "api-client-rotation"),
                ("mandatory", "credential-check-coverage"),
            }
        ),
        fixes=(
            "region 'mars-west1.gcp' is not a commercetools region; set connectors.standin.region (region in your "
            "own program)",
            "rotation period 365 days is outside 1-90",
            "exceeds 180; set connectors.standin.managed.deleteDaysAfterCreation (managed.delete_days_after_creation "
            "in your own program)",
            f"scope 'manage_api_clients:{PK}'",
            "connector 'orphan': no CredentialCheck checks this connector's credentials. A CommercetoolsConnector "
            "registers its connector in one by itself",
        ),
    ),
}


@pytest.fixture
def project(tmp_path: Path, openbao: OpenBaoServer, emulator: CommercetoolsEmulator) -> PulumiProject:
    project = PulumiProject(tmp_path, openbao.env())
    shutil.copytree(ROOT / "policies", project.dir / "policies", ignore=shutil.ignore_patterns("__pycache__"))
    return project


def configure(project: PulumiProject, emulator: CommercetoolsEmulator, case: Case) -> None:
    client = emulator.backend.add_client(PK, list(case.client_scopes), secret=CANARY)
    project.init(case.stack)
    if case.program == "standins":
        shutil.copy(Path(__file__).parent / "programs" / "standins.py", project.dir / "__main__.py")
        project.connector("standin", CANARY, projectKey=PK, clientId=client.id, authUrl=emulator.url)
        return
    if case.program == "leak":
        main = project.dir / "__main__.py"
        main.write_text(main.read_text() + LEAK)
    settings: dict[str, Any] = {
        "projectKey": PK,
        "scopes": SCOPES,
        "clientId": client.id,
        "authUrl": emulator.url,
        "apiUrl": emulator.url,
        **case.settings,
    }
    project.connector("patchworks", CANARY, **settings)


def preview(project: PulumiProject, pack_config: str | dict[str, Any] | None) -> tuple[int, str, list[dict[str, Any]]]:
    args = ["preview", "--policy-pack", "policies"]
    if isinstance(pack_config, dict):
        path = project.dir.parent / "pack-config.json"
        path.write_text(json.dumps(pack_config))
        args += ["--policy-pack-config", str(path)]
    elif pack_config is not None:
        args += ["--policy-pack-config", pack_config]
    proc, events = project.run_with_events(*args, check=False)
    return proc.returncode, proc.stdout + proc.stderr, events


@pytest.mark.parametrize("name", list(CASES))
def test_preview_with_the_pack(name: str, project: PulumiProject, emulator: CommercetoolsEmulator) -> None:
    case = CASES[name]
    configure(project, emulator, case)
    code, out, events = preview(project, case.pack_config)

    packs, found, messages = policy_results(events)  # what the engine reports as data, not its console text
    assert packs, out  # the pack ran
    assert found == case.expected, out
    assert (code == 0) == all(level == "advisory" for level, _ in case.expected), out
    for fix in case.fixes:
        assert any(fix in m for m in messages), messages
    assert "can't run policy" not in out, out  # no policy fell over an unknown value
    assert "Traceback" not in out, out
    assert CANARY not in out + json.dumps(events)
