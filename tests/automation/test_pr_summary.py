"""The PR summary from built engine events: what a reviewer reads, what never appears, and how it is cut.

The golden files from real previews are in tests/e2e/test_pr_summary.py; these tests pin each rule on its own.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from ctp_credentials.automation import __main__ as cli
from ctp_credentials.automation import pr_summary as prs
from ctp_credentials.automation.engine import ROOT
from ctp_credentials.automation.pr_summary import MARKER, MAX_CHARS, render_markdown, summarise
from ctp_credentials.automation.redaction import Redactor, secret_env_values, secret_values
from tests.automation import events as ev
from tests.conftest import CANARY

NOW = 1_800_000_000.0
CHECK_FAILED = (
    "pulumi-python:dynamic/commercetools:CredentialCheck resource 'credential-check' has a problem: connector "
    "'storefront' (project shop-eu, region europe-west1.gcp, http://127.0.0.1:41234): client ID or secret "
    "rejected (token request: HTTP 401 invalid_client). Copy both from the API client in the Merchant Center "
    "again: pulumi config set --path 'connectors.storefront.clientId' <id> and pulumi config set --secret "
    "clientSecret-storefront <secret>"
)


def clean_events(port: int = 56989) -> list[auto.EngineEvent]:
    url = f"http://127.0.0.1:{port}"
    out = [ev.prelude({"patchworks": {"projectKey": "shop-eu"}, "storefront": {"projectKey": "shop-eu"}})]
    for name in ("storefront", "patchworks"):  # engine order is not sorted; the summary is
        out += ev.step("same", ev.component_urn(name), ev.COMPONENT, old_outputs={"config": ev.document(name)})
        out += ev.step(
            "same",
            ev.child_urn(ev.KV, f"{name}-secret"),
            ev.KV,
            old=ev.kv_inputs(name, address=url),
            new=ev.kv_inputs(name, address=url),
            parent=ev.component_urn(name),
        )
    entries = {n: ev.check_entry(n, auth_url=url) for n in ("patchworks", "storefront")}
    out += ev.step("same", ev.CHECK_URN, ev.CHECK, old={"connectors": entries}, new={"connectors": entries})
    out.append(ev.summary({"same": 6}))
    return out


def render(events: list[auto.EngineEvent], **kw: Any) -> tuple[prs.Summary, str]:
    summary = summarise(events, "test", policy_packs=["policies"], now=NOW, **kw)
    return summary, render_markdown(summary)


def test_a_clean_stack_says_so_in_one_line() -> None:
    summary, text = render(clean_events())
    first = text.splitlines()[0]
    assert first.startswith("✅ **`test`: no changes**")
    assert "credential checks: 2 passed" in first and "policies: no violations" in first
    assert "**Unchanged (2):** `patchworks`, `storefront`" in text
    assert "Policy pack `policies`: no violations" in text
    assert text.rstrip().endswith(MARKER.format(stack="test"))
    assert summary.exit_code == 0


def test_changes_per_connector_with_the_replacement_called_out() -> None:
    pw_old = ev.check_entry("patchworks", scopes=["view_orders:shop-eu", "view_products:shop-eu"])
    pw_new = ev.check_entry(
        "patchworks", scopes=["view_orders:shop-eu", "manage_orders:shop-eu"], region="us-central1.gcp"
    )
    sf = ev.check_entry("storefront")
    events = [ev.prelude({"patchworks": {}, "storefront": {}, "orders": {"scopes": "view_orders:shop-eu"}})]
    events += ev.step("same", ev.component_urn("storefront"), ev.COMPONENT, old_outputs={"config": {}})
    events += ev.step(
        "replace",
        ev.child_urn(ev.KV, "storefront-secret"),
        ev.KV,
        old=ev.kv_inputs("storefront"),
        new=ev.kv_inputs("storefront", path="commercetools/storefront-v2"),
        keys=["path"],
        parent=ev.component_urn("storefront"),
    )
    events += ev.step("same", ev.component_urn("patchworks"), ev.COMPONENT, old_outputs={"config": {}})
    events += ev.step(
        "update",
        ev.child_urn(ev.KV, "patchworks-secret"),
        ev.KV,
        old=ev.kv_inputs("patchworks"),
        new=ev.kv_inputs("patchworks"),
        parent=ev.component_urn("patchworks"),
    )
    events += ev.step("create", ev.component_urn("orders"), ev.COMPONENT)
    events += ev.step(
        "create",
        ev.child_urn(ev.KV, "orders-secret"),
        ev.KV,
        new=ev.kv_inputs("orders"),
        parent=ev.component_urn("orders"),
    )
    new_entries = {"patchworks": pw_new, "storefront": sf, "orders": ev.check_entry("orders")}
    events += ev.step(
        "update",
        ev.CHECK_URN,
        ev.CHECK,
        old={"connectors": {"patchworks": pw_old, "storefront": sf}},
        new={"connectors": new_entries},
    )
    events.append(ev.summary({"create": 2, "update": 2, "replace": 1, "same": 3}))
    summary, text = render(events)

    first = text.splitlines()[0]
    assert first.startswith("⚠️ **`test`: changes**")
    assert "resources: 2 to create, 2 to update, 1 to replace" in first
    assert [c.name for c in summary.connectors] == ["orders", "patchworks", "storefront"]
    assert [c.op for c in summary.connectors] == ["create", "update", "replace"]
    blocks = text.split("#### ")
    orders, patchworks, storefront = blocks[1], blocks[2], blocks[3]
    assert orders.startswith("🆕 `orders`: new connector") and "- scopes: `view_orders:shop-eu`" in orders
    assert "- scopes: +`manage_orders:shop-eu`; -`view_products:shop-eu`" in patchworks
    assert "- region: `europe-west1.gcp` → `us-central1.gcp`" in patchworks
    assert "`patchworks-secret`: update (a new version of the stored value)" in patchworks
    assert storefront.startswith("⚠️ `storefront`: **REPLACEMENT**")
    assert "⚠️ **`storefront-secret` is REPLACED** because `path` changed" in storefront
    assert (
        "- store: Vault `secret/commercetools/storefront` at `http://127.0.0.1:<port>` → "
        "Vault `secret/commercetools/storefront-v2` at `http://127.0.0.1:<port>`"
    ) in storefront
    assert summary.exit_code == 0


def test_an_event_log_cut_short_fails_the_summary_instead_of_passing_part_of_it() -> None:
    events = clean_events()[:3]  # the reader lost the rest: no check step, no summary event
    summary, text = render(events, log_complete=False)
    assert summary.exit_code == 1
    assert text.splitlines()[0].startswith("❌ **`test`: preview failed**")
    assert "event log ended before its last event" in text and "rerun the job" in text
    assert render(events)[0].exit_code == 0  # the same events, read whole, are a passing preview


def test_a_failed_credential_check_fails_and_names_the_connector() -> None:
    events = [ev.prelude({"patchworks": {}, "storefront": {"clientId": "sf-2"}})]
    for name in ("patchworks", "storefront"):
        events += ev.step("same", ev.component_urn(name), ev.COMPONENT, old_outputs={"config": ev.document(name)})
    events.append(ev.diagnostic("error", CHECK_FAILED, ev.CHECK_URN))
    events.append(ev.diagnostic("error", CHECK_FAILED, ev.CHECK_URN))  # the CLI repeats it; shown once
    events.append(ev.summary({"same": 3}))
    summary = summarise(events, "test", preview_failed=True, failure="preview failed", policy_packs=["policies"])
    text = render_markdown(summary)

    assert summary.exit_code == 1
    assert text.splitlines()[0].startswith("❌ **`test`: preview failed** · resources: no changes before it stopped")
    assert "credential checks: 1 failed, 1 passed" in text.splitlines()[0]
    block = text.split("#### ")[1]
    assert block.startswith("❌ `storefront`: update")
    assert "- client ID: `storefront-1` → `sf-2`" in block
    assert "- credential check: **failed**" in block
    assert "clientId' &lt;id&gt; and" in block  # would vanish as an HTML tag otherwise
    assert "has a problem" not in text and text.count("client ID or secret rejected") == 1
    assert "### Errors" not in text  # "preview failed" is only the consequence of what is listed
    assert "**Unchanged (1):** `patchworks` · credential checks: 1 passed" in text


def test_a_connector_whose_check_is_off_is_listed_by_name_even_when_unchanged() -> None:
    """Not only counted in the unchanged line: the reviewer sees which connector stores unchecked credentials."""
    events = [ev.prelude({"patchworks": {"checkCredentials": False}, "storefront": {}})]
    for name in ("storefront", "patchworks"):
        events += ev.step("same", ev.component_urn(name), ev.COMPONENT, old_outputs={"config": ev.document(name)})
    entries = {"patchworks": ev.check_entry("patchworks", enabled=False), "storefront": ev.check_entry("storefront")}
    events += ev.step("same", ev.CHECK_URN, ev.CHECK, old={"connectors": entries}, new={"connectors": entries})
    events.append(ev.summary({"same": 3}))
    summary, text = render(events)

    assert summary.checks("off") == ["patchworks"] and summary.exit_code == 0
    block = text.split("#### ")[1]
    assert block.startswith("`patchworks`\n")
    assert "- credential check: **off** (`checkCredentials: false`)" in block
    assert "**Unchanged (1):** `storefront` · credential checks: 1 passed" in text
    assert prs.as_json(summary)["credentialChecks"]["off"] == ["patchworks"]


def test_policy_violations_mandatory_blocks_and_advisory_warns() -> None:
    base = clean_events()
    advisory = ev.policy(
        "credential-check-enabled", "advisory", "connector 'patchworks': the credential check is switched off"
    )
    summary, text = render([*base[:-1], advisory, base[-1]])
    assert summary.exit_code == 0 and text.startswith("⚠️ **`test`: no changes**")
    assert "- ⚠️ advisory `credential-check-enabled` · `patchworks`: connector 'patchworks'" in text

    mandatory = ev.policy(
        "commercetools-least-privilege",
        "mandatory",
        "connector 'storefront': scope 'manage_api_clients:shop-eu' lets the connector's own client create API clients",
    )
    events = [*base[:-1], advisory, mandatory, ev.diagnostic("error", "preview failed"), base[-1]]
    summary = summarise(events, "test", preview_failed=True, policy_packs=["policies"], now=NOW)
    text = render_markdown(summary)
    assert summary.exit_code == 1
    assert text.startswith("❌ **`test`: blocked by policy** · resources: no changes ·")
    assert "policies: 1 mandatory, 1 advisory violations" in text.splitlines()[0]
    listed = [line for line in text.splitlines() if line.startswith(("- ❌", "- ⚠️"))]
    assert listed[0].startswith("- ❌ **mandatory** `commercetools-least-privilege` · `storefront`:")
    assert listed[1].startswith("- ⚠️ advisory `credential-check-enabled` · `patchworks`:")
    assert "What the policy protects." not in text  # the description line; the violation says what to fix
    assert "preview failed" not in text


def test_managed_rotation_due_requested_and_removed_connectors() -> None:
    client_in = {
        "connector": "managed1",
        "scopes": ["view_orders:shop-eu"],
        "region": "europe-west1.gcp",
        "rotation_request": "",
        "store_kind": "vault",
        "store": {"address": "http://127.0.0.1:56989", "mount": "secret", "path": "commercetools/managed1"},
    }
    state = {**client_in, "client_id": "m-1", "created_ts": NOW - 8 * 86400, "rotate_after_days": 7}
    events = [ev.prelude({"managed1": {"managed": {"rotateAfterDays": 7}}})]
    events += ev.step("same", ev.component_urn("managed1"), ev.COMPONENT, old_outputs={"config": {}})
    events += ev.step(
        "update",
        ev.child_urn(ev.CLIENT, "managed1-client"),
        ev.CLIENT,
        old=client_in,
        old_outputs=state,
        new=client_in,
        parent=ev.component_urn("managed1"),
    )
    events += ev.step("delete", ev.component_urn("old"), ev.COMPONENT, old_outputs={"config": ev.document("old")})
    events += ev.step(
        "delete", ev.child_urn(ev.KV, "old-secret"), ev.KV, old=ev.kv_inputs("old"), parent=ev.component_urn("old")
    )
    events.append(ev.summary({"update": 1, "delete": 2}))
    summary, text = render(events)
    managed, old = summary.connectors
    assert managed.rotation == "due" and managed.check == "at-up" and managed.op == "update"
    assert "**rotation due** (`managed.rotateAfterDays`)" in text
    assert old.op == "delete" and old.check == "none"
    assert "#### 🗑️ `old`: **removed**" in text
    assert "credential checks: 1 at up ·" in text.splitlines()[0]  # a removed connector is not counted

    requested = {**client_in, "rotation_request": "rot-20250101:managed1"}
    events[3:5] = ev.step(
        "update",
        ev.child_urn(ev.CLIENT, "managed1-client"),
        ev.CLIENT,
        old=client_in,
        old_outputs={**state, "created_ts": NOW},
        new=requested,
        parent=ev.component_urn("managed1"),
    )
    summary, text = render(events)
    assert summary.connectors[0].rotation == "requested" and "**rotation requested**" in text


def test_secrets_never_appear_in_markdown_or_json() -> None:
    """The canary is a secret config value; it also sits where the engine cannot know it is secret."""
    events = [
        ev.prelude({"patchworks": {"clientId": CANARY, "scopes": ["view_orders:shop-eu"]}}),
        *ev.step("create", ev.component_urn("patchworks"), ev.COMPONENT),
        *ev.step(
            "create",
            ev.child_urn(ev.KV, "patchworks-secret"),
            ev.KV,
            new=ev.kv_inputs("patchworks", path=f"commercetools/{CANARY}"),
            parent=ev.component_urn("patchworks"),
        ),
        *ev.step(
            "create",
            ev.CHECK_URN,
            ev.CHECK,
            new={"connectors": {"patchworks": ev.check_entry("patchworks", client_id=CANARY)}},
        ),
        ev.diagnostic("warning", f"connector 'patchworks': a value {json.dumps(CANARY)} looked odd"),
        ev.diagnostic("error", f'unexpected: {{"secret": "{CANARY}\\"x"}}'),
        ev.policy("no-secret-in-outputs", "mandatory", f"stack output 'dsn' contains {CANARY}"),
        ev.summary({"create": 3}),
    ]
    redact = Redactor([CANARY, f'{CANARY}"x', "ab"])
    summary = summarise(events, "test", preview_failed=True, redact=redact, policy_packs=["policies"])
    text = render_markdown(summary) + render_markdown(summary, limit=None)
    blob = text + json.dumps(prs.as_json(summary)) + json.dumps(prs.as_json(summary), ensure_ascii=False)
    assert CANARY not in blob and CANARY[:20] not in blob
    assert "- client ID: `[secret]`" in text and "commercetools/[secret]" in text
    assert "[secret]" in json.dumps(prs.as_json(summary)["policies"])
    # the last pass over what is rendered: even a connector's name, were it a secret value
    named = summarise(clean_events(), "test", redact=Redactor(["storefront"]))
    assert "storefront" not in render_markdown(named) + json.dumps(prs.as_json(named))
    # a short secret is masked only where it stands alone, so words keep their letters
    assert Redactor(["ab"])("ab and about") == "[secret] and about"


def test_secret_values_come_from_every_secret_config_value() -> None:
    config = {
        "commercetools-credentials:clientSecret-a": auto.ConfigValue("s3cret-a", secret=True),
        "commercetools-credentials:nested": auto.ConfigValue(json.dumps({"x": ["leaf-1", 7]}), secret=True),
        "commercetools-credentials:connectors": auto.ConfigValue(json.dumps({"a": {"clientId": "id"}})),
    }
    found = secret_values(config)
    assert {"s3cret-a", "leaf-1", "7"} <= found and "id" not in found


def test_output_is_deterministic() -> None:
    """Ports, temp paths, the project directory and event timing change nothing."""
    one = render_markdown(summarise(clean_events(56989), "test", policy_packs=["policies"]))
    shuffled = clean_events(40001)
    middle = shuffled[-2:0:-1]  # the engine's order varies between runs
    two = render_markdown(summarise([shuffled[0], *middle, shuffled[-1]], "test", policy_packs=["policies"]))
    assert one == two
    redact = Redactor(paths=[Path("/work/main")], home=Path("/home/ci"))
    assert redact("at /work/main/policies, /tmp/pytest-of-root/x/project/Pulumi.yaml, /home/ci/.cache/bin") == (
        "at <dir>/policies, <tmp>, ~/.cache/bin"
    )
    assert redact("http://localhost:8200/v1 https://[::1]:443 https://auth.eu.commercetools.com") == (
        "http://localhost:<port>/v1 https://[::1]:<port> https://auth.eu.commercetools.com"
    )


def _big(n: int, with_failure: bool = True) -> list[auto.EngineEvent]:
    scopes = [f"view_thing_{i:02d}:shop-eu" for i in range(20)]
    events = [ev.prelude({f"conn-{i:03d}": {} for i in range(n)})]
    for i in range(n):
        name = f"conn-{i:03d}"
        events += ev.step("create", ev.component_urn(name), ev.COMPONENT)
        events += ev.step(
            "create",
            ev.child_urn(ev.KV, f"{name}-secret"),
            ev.KV,
            new=ev.kv_inputs(name),
            parent=ev.component_urn(name),
        )
    entries = {f"conn-{i:03d}": ev.check_entry(f"conn-{i:03d}", scopes=scopes) for i in range(n)}
    events += ev.step("create", ev.CHECK_URN, ev.CHECK, new={"connectors": entries})
    if with_failure:
        events.append(ev.diagnostic("error", CHECK_FAILED.replace("storefront", f"conn-{n - 1:03d}"), ev.CHECK_URN))
    events.append(ev.policy("commercetools-least-privilege", "mandatory", "connector 'conn-000': scope 'x'"))
    events.append(ev.summary({"create": 2 * n + 1}))
    return events


def test_a_very_large_stack_is_cut_with_a_note_and_keeps_what_matters() -> None:
    summary = summarise(_big(300), "test", preview_failed=True, policy_packs=["policies"])
    whole = render_markdown(summary, limit=None)
    text = render_markdown(summary)
    assert len(whole) > MAX_CHARS >= len(text) > MAX_CHARS - 3000
    assert text.splitlines()[0] == whole.splitlines()[0]  # the verdict counts everything
    assert "> ✂️ **Cut to fit a comment of 65,536 characters:**" in text
    shown = text.count("#### ")
    assert f"{300 - shown} changed connectors not shown" in text
    assert "❌ 🆕 `conn-299`" in text  # the failing connector comes first, though it sorts last
    assert "- ❌ **mandatory** `commercetools-least-privilege`" in text
    assert text.rstrip().endswith(MARKER.format(stack="test"))
    assert render_markdown(summary) == text  # and deterministic
    assert len(render_markdown(summary, limit=5000)) <= 5000


def test_unknown_values_are_not_printed() -> None:
    events = [
        ev.prelude({"patchworks": {}}),
        *ev.step("create", ev.component_urn("patchworks"), ev.COMPONENT),
        *ev.step(
            "create",
            ev.child_urn(ev.KV, "patchworks-secret"),
            ev.KV,
            new=ev.kv_inputs("patchworks", address=ev.UNKNOWN),
            parent=ev.component_urn("patchworks"),
        ),
        ev.summary({"create": 2}),
    ]
    text = render_markdown(summarise(events, "test"))
    assert ev.UNKNOWN not in text
    assert "- store: Vault `secret/commercetools/patchworks`\n" in text
    assert "No policy pack ran." in text and "policies: not run" in text


class _FakeStack:
    name = "test"


def test_command_writes_the_comment_and_prints_the_summary(tmp_path: Path) -> None:
    summary = summarise(_big(300), "test", preview_failed=True, policy_packs=["policies"])
    out, stdout = tmp_path / "sub" / "comment.md", io.StringIO()
    code = prs.command(
        _FakeStack(),  # type: ignore[arg-type]
        policy_pack=None,
        policy_pack_config=None,
        out=out,
        as_json_output=False,
        stdout=stdout,
        preview=lambda *_a, **_k: summary,
    )
    assert code == 1
    assert len(out.read_text()) <= MAX_CHARS < len(stdout.getvalue())  # the log gets it uncut
    stdout = io.StringIO()
    prs.command(
        _FakeStack(),  # type: ignore[arg-type]
        policy_pack=None,
        policy_pack_config=None,
        out=None,
        as_json_output=True,
        stdout=stdout,
        preview=lambda *_a, **_k: summary,
    )
    data = json.loads(stdout.getvalue())
    assert data["exitCode"] == 1 and data["ok"] is False and len(data["connectors"]) == 300
    assert data["credentialChecks"]["failed"] == ["conn-299"]


@pytest.mark.parametrize(
    "argv",
    [
        ["pr-summary"],
        ["pr-summary", "--stack", "x", "--policy-pack", "/nonexistent"],
        ["pr-summary", "--stack", "x", "--policy-pack-config", "/nonexistent.json"],
        ["pr-summary", "--stack", "x", "--unknown"],
        ["--cwd", "/nonexistent", "status", "--stack", "x"],
        ["pr-summary", "--stack", "x", "--out", str(ROOT / "tests")],  # a directory: refused before the preview
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_no_engine_is_a_clear_exit_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """No engine and none to point at: one line with the build script's reason and the fix, no traceback."""
    from ctp_credentials.automation import engine

    engine.engine_bin.cache_clear()
    monkeypatch.setenv("CTP_PULUMI_BIN", "/nonexistent")
    try:
        assert cli.main(["status", "--stack", "x"]) == 2
    finally:
        engine.engine_bin.cache_clear()
    err = capsys.readouterr().err
    assert "the Pulumi engine is not available: pulumi-engine: no pulumi in CTP_PULUMI_BIN=/nonexistent" in err
    assert "make setup" in err and "Traceback" not in err


def test_credentials_from_the_jobs_environment_are_masked_too() -> None:
    """An admin secret is not stack config, yet a remote error message could carry it into the comment."""
    env = {
        "CTP_ADMIN_CLIENT_SECRET": "admin-secret-manage-api-clients",
        "VAULT_TOKEN": "hvs.0123456789abcdef",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG",
        "WEBHOOK_KEY": "0123456789abcdef",
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",  # an identifier, not a secret
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:5000",  # where secrets are, not one
        "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/token",  # a path
        "SOME_TOKEN": "short",  # too short to mask safely
        "PATH": "/usr/bin",
    }
    found = secret_env_values(env)
    assert found == {env[k] for k in ("CTP_ADMIN_CLIENT_SECRET", "VAULT_TOKEN", "AWS_SECRET_ACCESS_KEY", "WEBHOOK_KEY")}
    leak = f"token request: HTTP 401 invalid_client: bad credentials admin-id:{env['CTP_ADMIN_CLIENT_SECRET']}"
    events = [*clean_events()[:-1], ev.diagnostic("error", f"connector 'patchworks': {leak}"), clean_events()[-1]]
    summary = summarise(events, "test", preview_failed=True, redact=Redactor(found))
    text = render_markdown(summary) + json.dumps(prs.as_json(summary))
    assert env["CTP_ADMIN_CLIENT_SECRET"] not in text and "admin-id:[secret]" in text


def test_a_message_cannot_break_out_of_its_list_item_or_ping_anyone() -> None:
    """A bare CR ends a line in CommonMark: an error text could otherwise add a heading of its own."""
    forged = "rejected\r\r### ✅ Credential check passed — @octocat please approve\u2028### also this"
    events = [*clean_events()[:-1], ev.diagnostic("error", f"connector 'patchworks': {forged}"), clean_events()[-1]]
    text = render_markdown(summarise(events, "test", preview_failed=True))
    assert "\r" not in text and "\u2028" not in text
    assert not [line for line in text.splitlines() if "Credential check passed" in line and line.startswith("#")]
    assert "@octocat" not in text and "@\u200boctocat" in text
