"""`migrate-state`: providers pickled under the old `components.*` names, pickled again under today's, where no
`components` can be imported (an installed copy); nothing else in the state changes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pulumi.dynamic.dynamic import serialize_provider

from ctp_credentials.automation import migrate
from ctp_credentials.automation.engine import ROOT
from ctp_credentials.components.providers.vault_secret import VaultKvSecretProvider
from tests.test_layout import OLD_PICKLES

PROBE = """
import json, sys
from pulumi.dynamic.dynamic import serialize_provider
from ctp_credentials.automation import migrate
import ctp_credentials.components.providers.api_client, ctp_credentials.components.providers.credential_check
import ctp_credentials.components.providers.publications, ctp_credentials.components.providers.secretsmanager_secret
import ctp_credentials.components.providers.vault_secret
providers = {name: getattr(m, name) for m in list(sys.modules.values()) if getattr(m, "__name__", "").startswith(
    "ctp_credentials.components.providers.") for name in dir(m) if name.endswith("Provider")}
old = json.loads(sys.argv[1])
print(json.dumps({
    "same": {name: migrate.repickled(p) == serialize_provider(providers[name]()) for name, p in old.items()},
    "again": [migrate.repickled(serialize_provider(providers[name]())) for name in old],
    "legacy_imported": "components" in sys.modules,
}))
"""


def test_old_pickles_become_todays_without_the_old_names_importable(tmp_path: Path) -> None:
    (tmp_path / "ctp_credentials").symlink_to(ROOT / "ctp_credentials")  # ctp_credentials alone, as installed
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(tmp_path)!r}); exec({PROBE!r})",
            json.dumps(OLD_PICKLES),
        ],
        # -I leaves the working directory off sys.path (-P), so `components` stays unimportable; the checkout as
        # working directory lets mutmut's instrumented copy find its configuration there
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(proc.stdout)
    assert result["same"] == dict.fromkeys(OLD_PICKLES, True)  # byte for byte what the program writes today
    assert result["again"] == [None] * len(OLD_PICKLES)  # today's pickles are left alone: rerunning is a no-op
    assert result["legacy_imported"] is False


def test_only_old_pickles_change_in_a_deployment() -> None:
    old = OLD_PICKLES["VaultKvSecretProvider"]
    resources = [
        {"urn": "urn:a", "inputs": {"__provider": old, "path": "p"}, "outputs": {"__provider": old, "version": 2}},
        {"urn": "urn:b", "inputs": {"x": 1}},  # no provider (a component)
        {"urn": "urn:c", "inputs": {"__provider": {"4dabf18193072939515e22adb298388d": "x"}}},  # encrypted: kept
    ]
    deployment = {"manifest": {"time": "t"}, "resources": resources}
    migrated, changed = migrate.migrate(deployment)
    assert changed == ["urn:a"]
    (a, b, c) = migrated["resources"]
    # today's pickle of the same provider, byte for byte (not merely another one)
    assert a["inputs"]["__provider"] == a["outputs"]["__provider"] == serialize_provider(VaultKvSecretProvider())
    assert (a["inputs"]["path"], a["outputs"]["version"]) == ("p", 2)
    assert (b, c) == (resources[1], resources[2]) and migrated["manifest"] == deployment["manifest"]
    assert migrate.migrate(migrated)[1] == []
