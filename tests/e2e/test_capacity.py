"""How big a stack may be, through the real engine (README, "Capacity").

The engine passes the whole stack config to the program and to the policy pack in one environment variable,
which Linux caps at 128 KiB. The config model accepts at most MAX_CONFIG_BYTES of it (and MAX_CONNECTORS,
MAX_SCOPES): a stack at that size previews cleanly with the policy pack, one just above gets a config error
naming the limit and the fix, and pr-summary, rotate and status say so before they run the engine, even for a
config so big the engine could not start the program at all.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from ctp_credentials.automation.engine import ROOT
from ctp_credentials.components.config import (
    ENGINE_CONFIG_LIMIT,
    MAX_CONFIG_BYTES,
    MAX_CONNECTORS,
    NAMESPACE,
    encoded_config_size,
)
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from tests.conftest import CANARY
from tests.e2e.conftest import PulumiProject
from tests.e2e.test_pr_summary import automation

pytestmark = [pytest.mark.engine, pytest.mark.security("bad-input")]
PK = "product-patchworks"
LOCAL = str(ROOT / "policies" / "local.json")


def settings(project: PulumiProject, emu: CommercetoolsEmulator, i: int, scopes: int) -> dict[str, Any]:
    return {
        "projectKey": PK,
        "scopes": [f"view_orders:{PK}:store-{i:03d}-{s:04d}" for s in range(scopes)],
        "clientId": f"capacity-client-{i:03d}",
        "authUrl": emu.url,
        "apiUrl": emu.url,
        "vault": {"path": f"commercetools/{project.uid}/{i:03d}"},
    }


def size_of(connectors: dict[str, Any]) -> int:
    """The config's size as the engine encodes it: the connectors and one secret per connector."""
    values: dict[str, Any] = {f"{NAMESPACE}:connectors": connectors}
    values |= {f"{NAMESPACE}:clientSecret-{name}": CANARY for name in connectors}
    return encoded_config_size(values)


def fleet(project: PulumiProject, emu: CommercetoolsEmulator, sizes: list[int]) -> dict[str, Any]:
    """One connector per entry of `sizes`, with that many store scopes and a real client in the emulator; every
    connector's secret is the canary (copied as ciphertext: one `pulumi config set` for the whole fleet)."""
    connectors = {f"connector-{i:03d}": settings(project, emu, i, n) for i, n in enumerate(sizes)}
    for c in connectors.values():
        emu.backend.add_client(PK, c["scopes"], client_id=c["clientId"], secret=CANARY)
    project.run("config", "set", "--secret", "clientSecret-connector-000", stdin=CANARY)
    doc = yaml.safe_load(project.config_file.read_text())
    cipher = doc["config"][f"{NAMESPACE}:clientSecret-connector-000"]
    doc["config"].update({f"{NAMESPACE}:clientSecret-{name}": cipher for name in connectors})
    project.config_file.write_text(yaml.safe_dump(doc))
    project.write_config({"connectors": connectors})
    return connectors


def at_capacity(project: PulumiProject, emu: CommercetoolsEmulator) -> list[int]:
    """Scopes per connector for MAX_CONNECTORS connectors whose config is as big as the bound accepts."""

    def size(sizes: list[int]) -> int:
        return size_of({f"connector-{i:03d}": settings(project, emu, i, n) for i, n in enumerate(sizes)})

    sizes = [1] * MAX_CONNECTORS
    while size([n + 1 for n in sizes]) <= MAX_CONFIG_BYTES:
        sizes = [n + 1 for n in sizes]
    for i in range(MAX_CONNECTORS):
        bigger = [*sizes[:i], sizes[i] + 1, *sizes[i + 1 :]]
        if size(bigger) > MAX_CONFIG_BYTES:
            break
        sizes = bigger
    return sizes


def test_a_stack_at_capacity_previews_with_the_policy_pack_and_one_above_is_refused(
    project: PulumiProject, emulator: CommercetoolsEmulator
) -> None:
    project.init()
    connectors = fleet(project, emulator, at_capacity(project, emulator))
    config = json.loads(project.run("config", "--json", "--show-secrets").stdout)
    size = encoded_config_size({k: v["value"] for k, v in config.items()})  # as pr-summary measures it
    assert MAX_CONFIG_BYTES - 100 < size <= MAX_CONFIG_BYTES, size
    preview = project.run("preview", "--policy-pack", str(ROOT / "policies"), "--policy-pack-config", LOCAL)
    assert CANARY not in preview.stdout + preview.stderr
    assert emulator.count("token") >= MAX_CONNECTORS  # every connector's credential was checked

    # A few more scopes on one connector: over the bound, still far below what the engine can pass on
    first = next(iter(connectors.values()))
    first["scopes"] += [f"view_orders:{PK}:store-extra-{s:04d}" for s in range(30)]
    project.write_config({"connectors": connectors})
    before = emulator.count()
    refused = project.run("preview", check=False)
    out = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert f"at most {MAX_CONFIG_BYTES:,}" in out and "Split the connectors across stacks" in out
    assert "Traceback" not in out and CANARY not in out
    assert emulator.count() == before  # refused before any request


def test_commands_say_a_stack_is_too_big_before_they_run_the_engine(
    project: PulumiProject, emulator: CommercetoolsEmulator
) -> None:
    project.init()
    fleet(project, emulator, [3000])  # the size that made the engine fail with "argument list too long"
    config = json.loads(project.run("config", "--json", "--show-secrets").stdout)
    assert encoded_config_size({k: v["value"] for k, v in config.items()}) > ENGINE_CONFIG_LIMIT

    engine = project.run("preview", check=False)  # what the engine itself says: no key, no limit
    assert engine.returncode != 0 and "argument list too long" in (engine.stdout + engine.stderr).lower()

    for command in (["pr-summary", "--policy-pack-config", LOCAL], ["rotate"], ["rotate", "--dry-run"]):
        proc = automation(project, *command, "--stack", "test")
        assert proc.returncode == 2, (command, proc.stdout, proc.stderr)
        assert proc.stderr.startswith("error: the stack config is") and "Split the connectors" in proc.stderr
        assert "argument list too long" not in (proc.stdout + proc.stderr).lower()  # the engine never ran
        assert CANARY not in proc.stdout + proc.stderr
    status = automation(project, "status", "--stack", "test")
    assert status.returncode == 0 and status.stderr.startswith("warning: the stack config is")
    assert emulator.count() == 0
