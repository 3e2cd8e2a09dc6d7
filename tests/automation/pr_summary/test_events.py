"""Reading the engine events: values known only after `up` are not printed, and a policy violation goes to the
connector its message names, without the policy's description line."""

from __future__ import annotations

from ctp_credentials.automation.pr_summary.build import summarise
from ctp_credentials.automation.pr_summary.markdown import render_markdown
from tests.automation import events as ev
from tests.automation.pr_summary.previews import NOW, clean_events, render


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
