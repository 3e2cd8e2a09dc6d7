"""The pull request comment in Markdown: the verdict line, a block per changed connector, the policies, the other
errors and warnings; cut to a comment's size with a note of what was left out, and every message made safe to
put in Markdown (no HTML, no headings of its own, no @mentions)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .model import CHECK_STATES, ConnectorSummary, Summary, Violation, same_place

MAX_CHARS = 65_536  # GitHub's limit for a comment body (GitLab's for a note is larger)
MARKER = "<!-- ctp-pr-summary stack={stack} -->"  # how a pipeline finds its comment again, to update it
NOTE_MAX = 700  # the note on what a cut comment leaves out
ITEM_MAX = 4_000  # one message in the Markdown; longer ones are cut (the JSON keeps them whole)
OP_ORDER = ("create", "update", "replace", "delete")


def _code(value: Any) -> str:
    text = " ".join(str(value).splitlines())  # a line break would end the span and the list item
    return f"`` {text} ``" if "`" in text else f"`{text}`"


MENTION_RE = re.compile(r"@(?=[A-Za-z0-9])")


def _text(message: str) -> str:
    """A message as Markdown: no HTML (a `<id>` would vanish), continuation lines indented, bounded.

    Messages come from remote servers and the program: every kind of line break (CommonMark also ends a line at
    a bare CR) is indented, so none can start a heading or a fake verdict outside its list item, and @mentions
    are broken with a zero-width space so a message cannot ping anyone."""
    text = "\n".join(message.splitlines()).replace("<", "&lt;").replace(">", "&gt;")
    text = MENTION_RE.sub("@\u200b", text)
    if len(text) > ITEM_MAX:
        text = text[: ITEM_MAX - 1] + "…"
    return text.replace("\n", "\n  ")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _store_text(store: Any) -> str:
    if not isinstance(store, dict):
        return "unknown"
    if store.get("store") == "secretsManager":
        where = f" in {_code(store['region'])}" if store.get("region") else ""
        return f"Secrets Manager {_code(store.get('name', '?'))}{where}"
    location = f"{store.get('mount', '?')}/{store.get('path', '?')}"
    text = f"Vault {_code(location)}"
    if store.get("kvVersion") == 1:
        text += " (KV v1)"
    if store.get("namespace"):
        text += f", namespace {_code(store['namespace'])}"
    if store.get("address"):
        text += f" at {_code(store['address'])}"
    return text


def verdict(s: Summary) -> str:
    """The one line a reviewer reads first: the outcome, the changes, the credential checks, the policies."""
    stopped = _stopped(s)
    if s.failed:
        icon, state = "❌", "preview failed" if stopped else "blocked by policy"
    else:
        risky = any(c.op in ("replace", "delete") for c in s.connectors) or bool(s.violations)
        icon, state = ("⚠️" if risky else "✅"), "changes" if _changed(s) else "no changes"
    changes = ", ".join(f"{s.changes[op]} to {op}" for op in OP_ORDER if s.changes.get(op)) or "no changes"
    if stopped:
        changes += " before it stopped"
    checks = ", ".join(f"{len(s.checks(st))} {st.replace('-', ' ')}" for st in CHECK_STATES if s.checks(st))
    levels = [(lvl, sum(v.level == lvl for v in s.violations)) for lvl in ("mandatory", "advisory", "remediate")]
    found = ", ".join(f"{n} {lvl}" for lvl, n in levels if n)
    if found:
        policies = f"{found} {'violation' if len(s.violations) == 1 else 'violations'}"
    else:
        policies = ("none so far" if stopped else "no violations") if s.policy_packs else "not run"
    return " · ".join(
        [
            f"{icon} **{_code(s.stack)}: {state}**",
            f"resources: {changes}",
            f"credential checks: {checks or 'none'}",
            f"policies: {policies}",
        ]
    )


def _stopped(s: Summary) -> bool:
    """The preview stopped early (not just refused by a mandatory policy): what it did not reach is unknown."""
    return s.preview_failed and not (s.mandatory and not s.errors and not any(c.errors for c in s.connectors))


def _changed(s: Summary) -> bool:
    return any(s.changes.get(op) for op in OP_ORDER) or any(c.op != "same" for c in s.connectors)


def _check_line(c: ConnectorSummary) -> str:
    return {
        "passed": "credential check: passed",
        "failed": "credential check: **failed** (see below)",
        "off": "credential check: **off** (`checkCredentials: false`)",
        "at-up": "credential check: during `pulumi up` (managed client)",
        "not-run": "credential check: not run",
    }[c.check]


ROTATION_TEXT = {
    "requested": "**rotation requested**: a new API client replaces the current one in this `up`",
    "due": "**rotation due** (`managed.rotateAfterDays`): a new API client replaces the current one in this `up`",
    "retiring-previous": "the previous API client's grace period is over: it is deleted in this `up`",
    "new-client": "**new API client**: its settings changed and commercetools clients cannot be updated",
    "settings": "rotation settings change",
}


def _connector_block(c: ConnectorSummary) -> str:
    title = {
        "create": f"#### 🆕 {_code(c.name)}: new connector",
        "delete": f"#### 🗑️ {_code(c.name)}: **removed**",
        "replace": f"#### ⚠️ {_code(c.name)}: **REPLACEMENT**",
        "update": f"#### {_code(c.name)}: update",
        "same": f"#### {_code(c.name)}",
    }[c.op]
    if c.errors:
        title = title.replace("#### ", "#### ❌ ", 1)
    lines = [title]
    for r in c.replacements:
        why = f" because {', '.join(_code(k) for k in r.keys)} changed" if r.keys else ""
        lines.append(
            f"- ⚠️ **{_code(r.name)} is REPLACED**{why}: Pulumi creates the new one first, then deletes the old one "
            "(its delete policy applies to the old value)"
        )
    if c.op == "delete":
        lines.append("- its resources are deleted; the stored value follows the store's delete policy")
    if c.op == "create":
        lines.append(f"- scopes: {', '.join(_code(x) for x in c.scopes.after or []) or 'unknown'}")
    elif c.scopes.changed:
        added = ", ".join(f"+{_code(x)}" for x in c.scopes_added)
        removed = ", ".join(f"-{_code(x)}" for x in c.scopes_removed)
        lines.append(f"- scopes: {'; '.join(p for p in (added, removed) if p)}")
    if c.region.changed:
        lines.append(f"- region: {_code(c.region.before)} → {_code(c.region.after)}")
    elif c.op == "create" and c.region.after:
        lines.append(f"- region: {_code(c.region.after)}")
    if c.client_id.changed:
        lines.append(f"- client ID: {_code(c.client_id.before)} → {_code(c.client_id.after)}")
    elif c.op == "create" and c.client_id.after:
        lines.append(f"- client ID: {_code(c.client_id.after)}")
    if c.store.before and c.store.after and not same_place(c.store.before, c.store.after):
        lines.append(f"- store: {_store_text(c.store.before)} → {_store_text(c.store.after)}")
    elif c.store.after or c.store.before:
        lines.append(f"- store: {_store_text(c.store.after or c.store.before)}")
    if c.rotation:
        lines.append(f"- {ROTATION_TEXT[c.rotation]}")
    for r in c.resources:
        if r.op == "replace":
            continue
        if r.name == f"{c.name}-client" and c.rotation:
            what = ""  # the rotation line says why
        elif r.keys:
            what = f" ({', '.join(_code(k) for k in r.keys)})"
        elif r.op == "update":
            what = " (a new version of the stored value)" if r.name == f"{c.name}-secret" else " (secret inputs)"
        else:
            what = ""
        lines.append(f"- {_code(r.name)}: {r.op}{what}")
    if c.op != "delete":
        lines.append(f"- {_check_line(c)}")
    lines += [f"- ❌ {_text(e)}" for e in c.errors]
    lines += [f"- ⚠️ {_text(w)}" for w in c.warnings]
    return "\n".join(lines)


def _violation_line(v: Violation) -> str:
    level = "❌ **mandatory**" if v.level == "mandatory" else f"⚠️ {v.level}"
    who = f" · {_code(v.connector)}" if v.connector else ""
    return f"- {level} {_code(v.policy)}{who}: {_text(v.message)}"


def _unchanged_line(names: list[str], rest: int) -> str:
    more = f" and {rest} more" if rest else ""
    return f"**Unchanged ({len(names) + rest}):** {', '.join(_code(n) for n in names)}{more}"


def _unchanged_checks(cs: list[ConnectorSummary]) -> str:
    states = [(st, sum(c.check == st for c in cs)) for st in CHECK_STATES]
    return "credential checks: " + ", ".join(f"{n} {st.replace('-', ' ')}" for st, n in states if n)


@dataclass
class _Item:
    section: str  # connectors | unchanged | policies | errors | warnings
    text: str
    priority: int  # lower: kept first when the comment has to be cut
    order: int
    key: str = ""  # the connector's name


def render_markdown(s: Summary, limit: int | None = MAX_CHARS) -> str:
    """The comment body: verdict, connectors, policies, other diagnostics; cut to `limit` characters (None: no
    limit) with a note of what was left out (policy results and failures are the last to go)."""
    changed = [c for c in s.connectors if c.noteworthy]
    unchanged = [c for c in s.connectors if not c.noteworthy]
    items: list[_Item] = []
    for i, c in enumerate(changed):
        rank = 2 if (c.errors or c.check == "failed") else 3 if c.op in ("replace", "delete") else 4
        items.append(_Item("connectors", _connector_block(c), rank, i, c.name))
    for i, v in enumerate(s.violations):
        items.append(_Item("policies", _violation_line(v), 0 if v.level == "mandatory" else 1, i))
    items += [_Item("errors", f"- ❌ {_text(e)}", 0, i) for i, e in enumerate(s.errors)]
    items += [_Item("warnings", f"- ⚠️ {_text(w)}", 5, i) for i, w in enumerate(s.warnings)]
    items += [_Item("unchanged", c.name, 6, i, c.name) for i, c in enumerate(unchanged)]

    text = _assemble(s, items, unchanged, note="")
    if limit is None or len(text) <= limit:
        return text
    # Keep the most important items that fit, with room for the note and the section headings; then render the
    # kept ones in their usual order. Costs are added up rather than re-rendered, so a huge stack stays fast.
    budget = limit - len(_assemble(s, [], unchanged, note="x" * NOTE_MAX)) - 200
    kept: set[int] = set()
    for index in sorted(range(len(items)), key=lambda i: (items[i].priority, items[i].section, items[i].order)):
        cost = len(items[index].text) + (6 if items[index].section == "unchanged" else 2)
        if cost <= budget:
            kept.add(index)
            budget -= cost
    while True:
        note = _cut_note([it for i, it in enumerate(items) if i not in kept], limit)
        text = _assemble(s, [it for i, it in enumerate(items) if i in kept], unchanged, note=note)
        if len(text) <= limit or not kept:
            return text if len(text) <= limit else text[: limit - 60] + "\n\n_(cut at the comment size limit)_\n"
        kept.discard(max(kept, key=lambda i: (items[i].priority, items[i].section, items[i].order)))


def _cut_note(cut: list[_Item], limit: int) -> str:
    counts = {
        sec: sum(it.section == sec for it in cut)
        for sec in ("connectors", "unchanged", "policies", "errors", "warnings")
    }
    words = {
        "connectors": "changed connector",
        "unchanged": "unchanged connector",
        "policies": "policy violation",
        "errors": "error",
        "warnings": "warning",
    }
    parts = [_plural(n, words[sec]) for sec, n in counts.items() if n]
    shown = ""
    for name in sorted(it.key for it in cut if it.section == "connectors"):
        if len(shown) + len(name) > 250:
            shown += ", …"
            break
        shown += (", " if shown else "") + _code(name)
    listing = f" (changed: {shown})" if shown else ""
    return (
        f"> ✂️ **Cut to fit a comment of {limit:,} characters:** {', '.join(parts)} not shown{listing}. "
        "The job's log has the whole summary: `pr-summary` prints it uncut (and `--json` gives all of it)."
    )


def _assemble(s: Summary, items: list[_Item], unchanged: list[ConnectorSummary], note: str) -> str:
    def of(section: str) -> list[str]:
        return [it.text for it in sorted((it for it in items if it.section == section), key=lambda it: it.order)]

    out = [verdict(s), ""]
    if note:
        out += [note, ""]
    blocks = of("connectors")
    names = of("unchanged")
    if blocks or names:
        out += ["### Connectors", ""]
        for block in blocks:
            out += [block, ""]
        if names:
            line = _unchanged_line(names, len(unchanged) - len(names))
            shown = set(names)
            kept = [c for c in unchanged if c.name in shown]
            out += [f"{line} · {_unchanged_checks(kept)}", ""]
    elif not s.connectors:
        out += ["No connectors in this stack's config.", ""]
    out += ["### Policies", ""]
    if s.policy_packs:
        n = len(s.violations)
        if n:
            summary = _plural(n, "violation")
        else:
            summary = (
                "no violations in what the preview reached before it stopped" if _stopped(s) else "no violations ✅"
            )
        out += [f"Policy pack {', '.join(_code(p) for p in s.policy_packs)}: {summary}.", ""]
    else:
        out += ["No policy pack ran.", ""]
    out += [*of("policies"), ""] if of("policies") else []
    for section, title in (("errors", "### Errors"), ("warnings", "### Warnings")):
        if of(section):
            out += [title, "", *of(section), ""]
    out.append(MARKER.format(stack=s.stack))
    return s.redact("\n".join(out) + "\n")
