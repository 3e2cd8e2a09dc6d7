"""From engine events to the summary: each connector's changes, its check, a rotation and why, the failures given
to their connector, a log cut short, determinism, and no secret in anything built from it.

The golden files from real previews are in tests/e2e/test_pr_summary.py; these tests pin each rule on its own.
"""

from __future__ import annotations

import json
from pathlib import Path

from ctp_credentials.automation.pr_summary.build import summarise
from ctp_credentials.automation.pr_summary.json_report import as_json
from ctp_credentials.automation.pr_summary.markdown import render_markdown
from ctp_credentials.automation.redaction import Redactor
from tests.automation import events as ev
from tests.automation.pr_summary.previews import CHECK_FAILED, NOW, clean_events, render
from tests.conftest import CANARY


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
    blob = text + json.dumps(as_json(summary)) + json.dumps(as_json(summary), ensure_ascii=False)
    assert CANARY not in blob and CANARY[:20] not in blob
    assert "- client ID: `[secret]`" in text and "commercetools/[secret]" in text
    assert "[secret]" in json.dumps(as_json(summary)["policies"])
    # the last pass over what is rendered: even a connector's name, were it a secret value
    named = summarise(clean_events(), "test", redact=Redactor(["storefront"]))
    assert "storefront" not in render_markdown(named) + json.dumps(as_json(named))
    # a short secret is masked only where it stands alone, so words keep their letters
    assert Redactor(["ab"])("ab and about") == "[secret] and about"


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


def test_another_programs_preview_is_read_from_its_resources_types_and_inputs() -> None:
    """No stack-program config in the prelude; two check batches (a connector declared inside an apply gets the
    second); a store secret declared without the component is given to the connector its input names."""
    late_check = ev.CHECK_URN.replace("::credential-check", "::credential-check-2")
    events = [ev.event(preludeEvent={"config": {"their-program:erpProjectKey": "erp"}})]
    events += ev.step("create", ev.component_urn("erp-sync"), ev.COMPONENT)
    events += ev.step("create", ev.component_urn("late"), ev.COMPONENT)
    events += ev.step("create", ev.CHECK_URN, ev.CHECK, new={"connectors": {"erp-sync": ev.check_entry("erp-sync")}})
    events += ev.step(
        "create", late_check, ev.CHECK, new={"connectors": {"late": ev.check_entry("late", enabled=False)}}
    )
    events += ev.step("create", f"{ev.PREFIX}{ev.KV}::anything", ev.KV, new=ev.kv_inputs("loose"))
    summary = summarise(events, "dev", now=NOW)
    got = {c.name: c for c in summary.connectors}
    assert sorted(got) == ["erp-sync", "late", "loose"]
    assert (got["erp-sync"].op, got["erp-sync"].check) == ("create", "passed")
    assert got["late"].check == "off"  # read from its own batch, not the first check
    assert [r.name for r in got["loose"].resources] == ["anything"]
    assert not summary.warnings  # nothing left "outside any connector"


def test_the_store_secret_is_found_by_type_and_place_never_by_its_name() -> None:
    """A Vault publication of the document has the store secret's type: the one at the place the previous
    document names is the store, and its move is the store's change (the publication comes first, so the first
    of the type would be wrong); a Secrets Manager secret is the store beside a Vault publication, and so is a
    lone Vault secret. No child here has the component's usual names."""
    erp, shop, new = ev.component_urn("erp"), ev.component_urn("shop"), ev.component_urn("new")
    events = [ev.event(preludeEvent={"config": {}})]  # a program of its own: no stack-program config
    events += ev.step("same", erp, ev.COMPONENT, old={}, old_outputs={"config": ev.document("erp")})
    published = ev.kv_inputs("erp", path="published/erp")
    events += ev.step("same", ev.child_urn(ev.KV, "b"), ev.KV, old=published, new=published, parent=erp)
    moved = ev.kv_inputs("erp", path="commercetools/erp-v2")
    events += ev.step("update", ev.child_urn(ev.KV, "a"), ev.KV, old=ev.kv_inputs("erp"), new=moved, parent=erp)
    sm = {"name": "commercetools/shop", "region": "eu-central-1", "connector": "shop"}
    events += ev.step("create", shop, ev.COMPONENT)
    events += ev.step("create", ev.child_urn(ev.KV, "c"), ev.KV, new=ev.kv_inputs("shop", path="pub"), parent=shop)
    events += ev.step("create", ev.child_urn(ev.SM, "d"), ev.SM, new=sm, parent=shop)
    events += ev.step("create", new, ev.COMPONENT)
    events += ev.step("create", ev.child_urn(ev.KV, "e"), ev.KV, new=ev.kv_inputs("new"), parent=new)
    got = {c.name: c for c in summarise(events, "dev", now=NOW).connectors}
    erp_store = got["erp"].store
    assert erp_store.before is not None and erp_store.after is not None
    assert (erp_store.before["path"], erp_store.after["path"]) == ("commercetools/erp", "commercetools/erp-v2")
    assert got["shop"].store.after == {
        "store": "secretsManager",
        "name": "commercetools/shop",
        "region": "eu-central-1",
    }
    assert got["new"].store.after is not None and got["new"].store.after["path"] == "commercetools/new"
