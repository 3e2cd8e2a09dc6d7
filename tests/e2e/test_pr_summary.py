"""`python -m ctp_credentials pr-summary` through the real engine: golden files from real previews of small stacks.

Goldens live in tests/automation/golden/. After an intended change to the summary, regenerate them and review
the diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/e2e/test_pr_summary.py

Each case checks the exit code, that the comment's parts say what the case is about (headline, each
connector's block, the policies; also when regenerating), that the comment is the golden file byte for byte
(so it is deterministic: the servers' ports, the temp dirs and the engine's timing change nothing), that it
fits a comment and that the canary secret is nowhere. The first case also checks the documented JSON of
`status` and `rotate`.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ctp_credentials.automation.engine import ROOT
from ctp_credentials.automation.pr_summary import MAX_CHARS
from ctp_credentials.components.scopes import _VIEW_MANAGE
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from tests.automation.contract import json_contracts, shape_problems
from tests.conftest import CANARY
from tests.e2e.conftest import PulumiProject

pytestmark = pytest.mark.engine
GOLDEN = ROOT / "tests" / "automation" / "golden"
PK = "shop-eu"
LOCAL = str(ROOT / "policies" / "local.json")  # allow-lists the emulator's URLs for the `test` stack


def automation(project: PulumiProject, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctp_credentials", "--cwd", str(project.dir), *args],
        cwd=ROOT,
        env=project.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def summarise(
    project: PulumiProject, expected_code: int, *, as_json: bool = True, policy_config: str = LOCAL
) -> tuple[str, str]:
    """Run pr-summary as a pipeline does; returns (the comment file, stdout)."""
    out = project.dir.parent / "comment.md"
    flags = ["--json"] if as_json else []
    proc = automation(
        project, "pr-summary", "--stack", "test", "--policy-pack-config", policy_config, "--out", str(out), *flags
    )
    everything = proc.stdout + proc.stderr
    assert proc.returncode == expected_code, everything
    comment = out.read_text()
    assert CANARY not in everything + comment
    assert len(comment) <= MAX_CHARS
    if as_json:
        data = json.loads(proc.stdout)
        assert data["exitCode"] == expected_code and data["ok"] is (expected_code == 0)
        assert shape_problems(json_contracts()["pr-summary"], data) == []
    return comment, proc.stdout


def blocks(comment: str) -> dict[str, str]:
    """The comment's parts: "headline", each connector's block by name, "unchanged", "policies"."""
    head, _, rest = comment.partition("\n")
    found = {"headline": head}
    for part in rest.split("\n#### ")[1:]:
        name = part.split("`")[1]
        found[name] = part.split("\n### ")[0]
    found["unchanged"] = next((line for line in rest.splitlines() if line.startswith("**Unchanged")), "")
    found["policies"] = rest.partition("### Policies")[2]
    return found


def assert_golden(name: str, text: str, meaning: dict[str, list[str]]) -> None:
    """The comment says what the case is about (`meaning`: lines each part must contain), and it is the golden
    file byte for byte. The meaning is checked first and also when regenerating: UPDATE_GOLDEN=1 cannot accept a
    comment that says the wrong thing."""
    parts = blocks(text)
    for part, lines in meaning.items():
        assert part in parts, f"{name}: no {part!r} in the comment:\n{text}"
        missing = [line for line in lines if line not in parts[part]]
        assert not missing, f"{name}: {part!r} does not say {missing}:\n{parts[part]}"
    path = GOLDEN / f"{name}.md"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"{path} is missing: run UPDATE_GOLDEN=1 .venv/bin/python -m pytest {__file__}"
    expected = path.read_text()
    diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), "golden", "now"))
    assert text == expected, f"{name} differs from its golden file (UPDATE_GOLDEN=1 to accept):\n{diff}"


def connector(emulator: CommercetoolsEmulator, client_id: str, path: str | None, **over: Any) -> dict[str, Any]:
    """A connector's settings; `path` None: the default Vault path, commercetools/<name>."""
    settings = {
        "projectKey": PK,
        "scopes": [f"view_orders:{PK}"],
        "clientId": client_id,
        "authUrl": emulator.url,
        "apiUrl": emulator.url,
        **over,
    }
    return settings | ({"vault": {"path": f"commercetools/pr-summary/{path}"}} if path else {})


def secrets(project: PulumiProject, values: dict[str, str]) -> None:
    """Secret config in one CLI call. Test values only: a real secret never goes on a command line."""
    args = [a for name, value in sorted(values.items()) for a in ("--secret", f"clientSecret-{name}={value}")]
    project.run("config", "set-all", *args)


def test_clean_then_changed(project: PulumiProject, emulator: CommercetoolsEmulator) -> None:
    backend = emulator.backend
    backend.add_client(PK, [f"view_orders:{PK}", f"view_products:{PK}"], client_id="patchworks-1", secret="pw-s")
    backend.add_client(PK, [f"view_orders:{PK}"], client_id="storefront-1", secret="sf-s")
    backend.add_client(PK, [f"view_orders:{PK}"], client_id="legacy-1", secret="lg-s")
    backend.add_client(PK, [f"view_orders:{PK}", f"view_products:{PK}"], client_id=CANARY, secret=CANARY)
    project.init()
    secrets(project, {"patchworks": "pw-s", "storefront": "sf-s", "legacy": "lg-s"})
    connectors = {
        "patchworks": connector(emulator, "patchworks-1", "patchworks"),
        "storefront": connector(emulator, "storefront-1", "storefront"),
        "legacy": connector(emulator, "legacy-1", "legacy"),
    }
    project.write_config({"connectors": connectors})
    project.run("up", "--yes", "--skip-preview")

    comment, _ = summarise(project, 0)
    assert_golden(
        "clean",
        comment,
        {
            "headline": ["**`test`: no changes**", "resources: no changes", "credential checks: 3 passed"],
            "unchanged": ["**Unchanged (3):** `legacy`, `patchworks`, `storefront`"],
            "policies": ["no violations"],
        },
    )

    status = json.loads(automation(project, "status", "--stack", "test", "--json").stdout)
    assert shape_problems(json_contracts()["status"], status) == [] and len(status) == 3
    rotate = automation(project, "rotate", "--stack", "test", "--connector", "legacy", "--dry-run", "--json")
    assert rotate.returncode == 0, rotate.stderr
    assert shape_problems(json_contracts()["rotate"], json.loads(rotate.stdout)) == []

    # The canary is patchworks' new secret *and* its client ID: a plaintext field the summary would print.
    secrets(project, {"patchworks": CANARY, "orders": "pw-s"})
    connectors["patchworks"] |= {"clientId": CANARY, "scopes": [f"view_orders:{PK}", f"view_products:{PK}"]}
    connectors["storefront"]["vault"]["path"] = "commercetools/pr-summary/storefront-v2"  # a replacement
    connectors["orders"] = connector(emulator, "patchworks-1", "orders")
    del connectors["legacy"]
    project.write_config({"connectors": connectors})
    comment, _ = summarise(project, 0)
    store = "store: Vault `secret/commercetools/pr-summary/{}` at `http://127.0.0.1:<port>`"
    assert_golden(
        "changed",
        comment,
        {
            "headline": ["**`test`: changes**", "1 to replace", "credential checks: 3 passed"],
            "legacy": ["**removed**", store.format("legacy"), "`legacy-secret`: delete"],
            "orders": ["new connector", "client ID: `patchworks-1`", "`orders-secret`: create"],
            # the canary is the new client ID: shown masked, never as itself
            "patchworks": ["scopes: +`view_products:shop-eu`", "client ID: `patchworks-1` → `[secret]`", "update"],
            "storefront": [
                "**REPLACEMENT**",
                "`storefront-secret` is REPLACED** because `path` changed",
                f"{store.format('storefront')} → Vault `secret/commercetools/pr-summary/storefront-v2`",
            ],
        },
    )


def test_failing_check_then_policy_violation(project: PulumiProject, emulator: CommercetoolsEmulator) -> None:
    scopes = [f"view_orders:{PK}", f"manage_api_clients:{PK}"]
    emulator.backend.add_client(PK, scopes, client_id="patchworks-1", secret="pw-s")
    emulator.backend.add_client(PK, [f"view_orders:{PK}"], client_id="storefront-1", secret="sf-s")
    project.init()
    secrets(project, {"patchworks": "pw-s", "storefront": "not-the-secret"})
    project.write_config(
        {
            "connectors": {
                "patchworks": connector(emulator, "patchworks-1", "patchworks"),
                "storefront": connector(emulator, "storefront-1", "storefront"),
            }
        }
    )
    comment, _ = summarise(project, 1)
    assert_golden(
        "failing-check",
        comment,
        {
            "headline": ["**`test`: preview failed**", "credential checks: 1 failed, 1 passed"],
            "patchworks": ["credential check: passed"],
            "storefront": [
                "❌",
                "credential check: **failed**",
                "client ID or secret rejected",
                "clientSecret-storefront",
            ],
            "policies": ["no violations in what the preview reached before it stopped"],
        },
    )

    secrets(project, {"storefront": "sf-s"})
    project.write_config(
        {
            "connectors": {
                "patchworks": connector(emulator, "patchworks-1", "patchworks", scopes=scopes),
                "storefront": connector(emulator, "storefront-1", "storefront", checkCredentials=False),
            }
        }
    )
    comment, _ = summarise(project, 1)
    assert_golden(
        "policy-violation",
        comment,
        {
            "headline": ["**`test`: blocked by policy**", "1 passed, 1 off", "1 mandatory, 1 advisory violations"],
            "storefront": ["credential check: **off** (`checkCredentials: false`)"],
            "policies": [
                "❌ **mandatory** `commercetools-least-privilege` · `patchworks`: connector 'patchworks': scope "
                "'manage_api_clients:shop-eu'",
                "⚠️ advisory `credential-check-enabled` · `storefront`",
            ],
        },
    )


def test_very_large_stack_is_cut(project: PulumiProject, emulator: CommercetoolsEmulator) -> None:
    """70 connectors with 25 scopes each and one that breaks a mandatory policy: the comment is cut with a note,
    the failing one still shows, and the job log (stdout) gets all of it. A policy violation, not a failing
    credential check, so that the preview reaches every connector: a failing check stops it wherever the engine
    happens to be, and the comment would then be as long as the engine's timing made it. (Not many more: the
    stack config must stay within the capacity bounds, README "Capacity".)"""
    scopes = [f"view_{n}:{PK}" for n in _VIEW_MANAGE if n != "api_clients"][:25]
    emulator.backend.add_client(PK, scopes, client_id="bulk-1", secret="bulk-s")
    project.init()
    names = [f"connector-{i:03d}" for i in range(70)]
    secrets(project, {n: "bulk-s" for n in [*names, "zz-broken"]})
    connectors = {n: connector(emulator, "bulk-1", None, scopes=scopes) for n in names}
    connectors["zz-broken"] = connector(emulator, "bulk-1", None, scopes=scopes) | {"vault": {"path": "elsewhere/zz"}}
    project.write_config({"connectors": connectors})
    comment, stdout = summarise(project, 1, as_json=False)
    assert len(stdout) > MAX_CHARS and "Cut to fit a comment of 65,536 characters" in comment
    assert_golden(
        "large-truncated",
        comment,
        {
            "headline": ["**`test`: blocked by policy**", "1 mandatory violation"],
            # its connector block is cut (the note names it), its violation is not
            "policies": ["**mandatory** `vault-kv-location` · `zz-broken`", "secret/elsewhere/zz is outside"],
        },
    )


def test_goldens_are_all_produced_by_these_tests() -> None:
    made = {"clean", "changed", "failing-check", "policy-violation", "large-truncated"}
    assert {p.stem for p in Path(GOLDEN).glob("*.md")} == made
