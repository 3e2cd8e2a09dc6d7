"""The comment as a reviewer reads it: the verdict line, which connectors get a block, how a huge stack is cut, and
messages that cannot break out of their list item."""

from __future__ import annotations

from ctp_credentials.automation.pr_summary.build import summarise
from ctp_credentials.automation.pr_summary.json_report import as_json
from ctp_credentials.automation.pr_summary.markdown import MARKER, MAX_CHARS, render_markdown
from tests.automation import events as ev
from tests.automation.pr_summary.previews import big_stack, clean_events, render


def test_a_clean_stack_says_so_in_one_line() -> None:
    summary, text = render(clean_events())
    first = text.splitlines()[0]
    assert first.startswith("✅ **`test`: no changes**")
    assert "credential checks: 2 passed" in first and "policies: no violations" in first
    assert "**Unchanged (2):** `patchworks`, `storefront`" in text
    assert "Policy pack `policies`: no violations" in text
    assert text.rstrip().endswith(MARKER.format(stack="test"))
    assert summary.exit_code == 0


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
    assert as_json(summary)["credentialChecks"]["off"] == ["patchworks"]


def test_a_very_large_stack_is_cut_with_a_note_and_keeps_what_matters() -> None:
    summary = summarise(big_stack(300), "test", preview_failed=True, policy_packs=["policies"])
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


def test_a_message_cannot_break_out_of_its_list_item_or_ping_anyone() -> None:
    """A bare CR ends a line in CommonMark: an error text could otherwise add a heading of its own."""
    forged = "rejected\r\r### ✅ Credential check passed — @octocat please approve\u2028### also this"
    events = [*clean_events()[:-1], ev.diagnostic("error", f"connector 'patchworks': {forged}"), clean_events()[-1]]
    text = render_markdown(summarise(events, "test", preview_failed=True))
    assert "\r" not in text and "\u2028" not in text
    assert not [line for line in text.splitlines() if "Credential check passed" in line and line.startswith("#")]
    assert "@octocat" not in text and "@\u200boctocat" in text
