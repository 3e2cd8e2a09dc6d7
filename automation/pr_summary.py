"""`python -m ctp_credentials pr-summary`: one real preview of a stack, summarised for a pull request comment.

The preview runs through the Automation API with the policy pack (`Stack.preview(policy_packs=...,
policy_pack_configs=...)`, which SDK 3.79 passes to the CLI as `--policy-pack`/`--policy-pack-config`). The
summary is built from its engine events only:

- steps (`resourcePreEvent`): each resource's op; a connector's resources are the children of its
  `CommercetoolsConnector` component (`<connector>-secret`, `<connector>-client`, publications) and its entry in
  the stack's `credential-check`. What changed is computed from a step's old and new inputs: 3.79's dynamic
  providers report no changed keys (`diffs` stays empty) and the 3.79 SDK reads `detailed_diff` under a key
  the engine never writes, so neither can be relied on (both are used when present);
- diagnostics: errors and warnings, given to the connector they name ("connector 'patchworks' (project ...");
- policy events: the 3.79 SDK reads their resource URN under a key the engine never writes (`resource_urn`, the
  engine sends `resourceUrn`), so a violation goes to the connector its message names;
- the prelude's stack config and the component's previous document (its `config` output) fill in what a
  failed preview never got to (a failed credential check stops it before the store resources are registered).

Secrets: the engine blinds every value Pulumi marks secret; on top of that every string equal to a secret
config value of the stack is replaced by `[secret]` wherever it appears (a secret pasted into a plaintext
field, a message quoting it). Output is deterministic: sorted, no timestamps, resource IDs or temporary paths,
and loopback URLs (local emulators, proxies) lose their port.
"""

from __future__ import annotations

import io
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pulumi import automation as auto

from ctp_credentials.components.config import DEFAULT_REGION

from .engine import ROOT
from .redaction import MASK, Redactor, redact_summary, secret_env_values, secret_values
from .workspace import ProjectStack, StackError

MAX_CHARS = 65_536  # GitHub's limit for a comment body (GitLab's for a note is larger)
SCHEMA_VERSION = 1
MARKER = "<!-- ctp-pr-summary stack={stack} -->"  # how a pipeline finds its comment again, to update it
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the key Pulumi puts on a (blinded) secret value
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # a value known only after `up`
COMPONENT = "ctp:index:CommercetoolsConnector"
CHECK_NAME = "credential-check"
CONFIG_KEY = "commercetools-credentials:connectors"
DAY = 86400.0
NOTE_MAX = 700  # the note on what a cut comment leaves out
INCOMPLETE_LOG = (
    "the engine's event log ended before its last event, so this summary may miss changes and failures: "
    "rerun the job, and report it with the job log if it happens again"
)
ITEM_MAX = 4_000  # one message in the Markdown; longer ones are cut (the JSON keeps them whole)

CONNECTOR_RE = re.compile(r"connector '([a-z0-9][a-z0-9-]{0,47})'")
PROBLEM_PREFIX_RE = re.compile(r"^\S+ resource '[^']*' has a problem: ")
REPLACE_OPS = {"replace", "create-replacement", "delete-replaced", "discard-replaced", "read-replacement"}
STORE_KEYS = ("store", "mount", "path", "kvVersion", "namespace", "address", "name", "region")
CHECK_STATES = ("failed", "passed", "off", "at-up", "not-run")
OP_ORDER = ("create", "update", "replace", "delete")


# --- the summary's data ---------------------------------------------------------------------------------------
@dataclass
class Violation:
    policy: str
    level: str  # mandatory | advisory (| remediate)
    connector: str | None
    message: str


@dataclass
class Change:
    """A value before and after the change; None: absent or not known before `up`."""

    before: Any = None
    after: Any = None

    @property
    def changed(self) -> bool:
        return self.before is not None and self.after is not None and self.before != self.after


@dataclass
class ResourceChange:
    name: str
    op: str
    keys: list[str]  # the inputs that change (for a replacement: those that force it); [] when only secrets do


@dataclass
class ConnectorSummary:
    name: str
    op: str = "same"  # create | update | replace | delete | same
    check: str = "not-run"  # one of CHECK_STATES, or "none" for a connector being removed
    managed: bool = False
    scopes: Change = field(default_factory=Change)  # sorted lists
    region: Change = field(default_factory=Change)
    client_id: Change = field(default_factory=Change)
    store: Change = field(default_factory=Change)  # dicts with STORE_KEYS
    rotation: str | None = None  # requested | due | retiring-previous | new-client | settings
    resources: list[ResourceChange] = field(default_factory=list)  # the changed ones
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def replacements(self) -> list[ResourceChange]:
        return [r for r in self.resources if r.op == "replace"]

    @property
    def scopes_added(self) -> list[str]:
        return sorted(set(self.scopes.after or []) - set(self.scopes.before or [])) if self.scopes.changed else []

    @property
    def scopes_removed(self) -> list[str]:
        return sorted(set(self.scopes.before or []) - set(self.scopes.after or [])) if self.scopes.changed else []

    @property
    def noteworthy(self) -> bool:
        """Shown with its own block. A check that is off is, even on an unchanged connector: in the unchanged
        line it would be a count, and the reviewer would not learn which connector stores unchecked credentials."""
        return self.op != "same" or bool(self.errors or self.warnings) or self.check in ("failed", "off")


@dataclass
class Summary:
    stack: str
    preview_failed: bool
    changes: dict[str, int]  # op -> resources, as the engine counts them
    connectors: list[ConnectorSummary]
    violations: list[Violation]
    policy_packs: list[str]  # the packs that ran, as given (relative paths)
    errors: list[str]  # not tied to a connector
    warnings: list[str]
    # applied once more to everything rendered: a secret never shows, even where nothing expected it
    redact: Redactor = field(default_factory=Redactor, repr=False, compare=False)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def failed(self) -> bool:
        return self.preview_failed or bool(self.mandatory)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def checks(self, state: str) -> list[str]:
        return [c.name for c in self.connectors if c.check == state]


def _plain(value: Any) -> Any:
    """An event value without Pulumi's wrappers: a secret becomes MASK, a value known only after `up` None."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return MASK
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return None if value == UNKNOWN else value


# --- from engine events to a summary --------------------------------------------------------------------------
@dataclass
class _Step:
    urn: str
    name: str
    type: str
    parent: str = ""
    ops: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)  # keys the engine says force a replacement
    diffs: set[str] = field(default_factory=set)
    old_inputs: dict[str, Any] = field(default_factory=dict)
    new_inputs: dict[str, Any] = field(default_factory=dict)
    old_outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def op(self) -> str:
        if self.ops & REPLACE_OPS:
            return "replace"
        for op in ("create", "delete", "update"):
            if op in self.ops:
                return op
        return "delete" if "discard" in self.ops else "same"

    def changed_keys(self) -> list[str]:
        keys = {k for k in set(self.old_inputs) | set(self.new_inputs) if k != "__provider"}
        if not self.old_inputs or not self.new_inputs:
            return sorted(self.diffs)
        return sorted({k for k in keys if self.old_inputs.get(k) != self.new_inputs.get(k)} | self.diffs)

    def inputs(self, which: str) -> dict[str, Any]:
        return self.old_inputs if which == "before" else self.new_inputs


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _urn_type(urn: str) -> str:
    parts = urn.split("::")
    return parts[-2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def _owner(step: _Step) -> str | None:
    """The connector a resource belongs to (its component), or None for stack-level resources."""
    if step.type == COMPONENT:
        return step.name
    if step.parent and _urn_type(step.parent) == COMPONENT:
        return _urn_name(step.parent)
    for suffix in ("-secret", "-client"):
        if step.name.endswith(suffix):
            return step.name.removesuffix(suffix)
    return None


# What the engine says after a failure it has already reported: dropped when the cause is listed (the current
# CLI adds the resource monitor's line, 3.79 did not).
CONSEQUENCES = frozenset({"preview failed", "update failed", "Resource monitor has terminated, shutting down"})


class _Builder:
    def __init__(self, now: float) -> None:
        self.now = now
        self.steps: dict[str, _Step] = {}
        self.config: dict[str, Any] = {}
        self.diagnostics: list[tuple[str, str, str]] = []  # severity, urn, message
        self.violations: list[Violation] = []
        self.changes: dict[str, int] | None = None
        self.packs_ran = False

    def add(self, event: auto.EngineEvent) -> None:
        if event.prelude_event is not None:
            raw = event.prelude_event.config.get(CONFIG_KEY)
            try:
                parsed = json.loads(raw) if isinstance(raw, str) else raw
            except ValueError:
                parsed = None
            self.config = {k: v for k, v in parsed.items() if isinstance(v, dict)} if isinstance(parsed, dict) else {}
        elif event.resource_pre_event is not None:
            self._step(event.resource_pre_event.metadata)
        elif event.diagnostic_event is not None:
            d = event.diagnostic_event
            if d.severity in ("error", "warning"):
                self.diagnostics.append((d.severity, d.urn or "", d.message))
        elif event.policy_event is not None:
            p = event.policy_event
            lines = [line.rstrip() for line in p.message.strip().splitlines() if line.strip()]
            detail = "\n".join(lines[1:] or lines)  # the first line is the policy's description
            found = CONNECTOR_RE.search(detail)
            connector = found.group(1) if found else None
            if connector is None and p.resource_urn:
                connector = _urn_name(p.resource_urn)
            self.violations.append(Violation(p.policy_name, p.enforcement_level, connector, detail))
        elif event.summary_event is not None:
            self.changes = {str(k): int(v) for k, v in event.summary_event.resource_changes.items()}
            self.packs_ran = bool(event.summary_event.policy_packs)

    def _step(self, md: auto.events.StepEventMetadata) -> None:
        if md.type == "pulumi:pulumi:Stack" or md.type.startswith("pulumi:providers:"):
            return
        step = self.steps.setdefault(md.urn, _Step(md.urn, _urn_name(md.urn), md.type))
        step.ops.add(str(getattr(md.op, "value", md.op)))
        step.keys |= set(md.keys or [])
        step.diffs |= {str(k).split(".", 1)[0].split("[", 1)[0] for k in (md.diffs or [])}
        step.diffs |= {str(k).split(".", 1)[0].split("[", 1)[0] for k in (md.detailed_diff or {})}
        if md.old is not None:
            step.parent = step.parent or md.old.parent
            step.old_inputs = dict(_plain(dict(md.old.inputs or {})))
            step.old_outputs = dict(_plain(dict(md.old.outputs or {})))
        if md.new is not None:
            step.parent = md.new.parent or step.parent
            step.new_inputs = dict(_plain(dict(md.new.inputs or {})))

    # -- assembling ------------------------------------------------------------------------------------------
    def build(self, stack: str, *, preview_failed: bool, failure: str | None, packs: list[str]) -> Summary:
        connectors: dict[str, ConnectorSummary] = {name: ConnectorSummary(name) for name in self.config}
        check = next((s for s in self.steps.values() if s.name == CHECK_NAME and _owner(s) is None), None)
        if check is not None:
            for which in ("before", "after"):
                for name in check.inputs(which).get("connectors") or {}:
                    connectors.setdefault(name, ConnectorSummary(name))
        warnings: list[str] = []
        for step in sorted(self.steps.values(), key=lambda s: s.urn):
            owner = _owner(step)
            if owner is None:
                if step is not check and step.op != "same":
                    warnings.append(f"resource {step.name!r} ({step.type}) outside any connector: {step.op}")
                continue
            c = connectors.setdefault(owner, ConnectorSummary(owner))
            if step.type == COMPONENT:
                c.op = step.op if step.op in ("create", "delete") else c.op
            elif step.op != "same":
                keys = sorted(step.keys) if step.op == "replace" and step.keys else step.changed_keys()
                c.resources.append(ResourceChange(step.name, step.op, keys))

        errors, more_warnings = self._attribute(connectors)
        warnings += more_warnings
        check_ran = check is not None or any(
            sev == "error" and _urn_name(urn) == CHECK_NAME for sev, urn, _ in self.diagnostics if urn
        )
        for c in connectors.values():
            self._fill(c, check)
            c.check = self._check_state(c, check, check_ran)
        explained = bool(self.violations or errors or any(c.errors for c in connectors.values()))
        if preview_failed and not explained and failure:
            errors.append(failure)  # the CLI failed before any event said why
        if len(errors) > 1 or self.violations or any(c.errors for c in connectors.values()):
            errors = [e for e in errors if e not in CONSEQUENCES]  # only the consequence of what is listed
        changes = self.changes if self.changes is not None else self._count()
        return Summary(
            stack=stack,
            preview_failed=preview_failed,
            changes={op: n for op, n in sorted(changes.items()) if n},
            connectors=sorted(connectors.values(), key=lambda c: c.name),
            violations=sorted(
                _dedupe(self.violations),
                key=lambda v: (v.level != "mandatory", v.level, v.policy, v.connector or "", v.message),
            ),
            policy_packs=packs if self.packs_ran or self.violations else [],
            errors=sorted(set(errors)),
            warnings=sorted(set(warnings)),
        )

    def _count(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for step in self.steps.values():
            counts[step.op] = counts.get(step.op, 0) + 1
        return counts

    def _attribute(self, connectors: dict[str, ConnectorSummary]) -> tuple[list[str], list[str]]:
        errors: list[str] = []
        warnings: list[str] = []
        seen: set[tuple[str, str]] = set()
        for severity, urn, message in self.diagnostics:
            text = PROBLEM_PREFIX_RE.sub("", message.strip())
            if not text or (severity, text) in seen:
                continue
            seen.add((severity, text))
            found = CONNECTOR_RE.search(text)
            owner = found.group(1) if found else None
            if owner is None and urn in self.steps:
                owner = _owner(self.steps[urn])
            if owner is None:
                (errors if severity == "error" else warnings).append(text)
                continue
            c = connectors.setdefault(owner, ConnectorSummary(owner))
            (c.errors if severity == "error" else c.warnings).append(text)
        return errors, warnings

    def _child(self, connector: str, suffix: str) -> _Step | None:
        return next(
            (s for s in self.steps.values() if s.name == f"{connector}{suffix}" and _owner(s) == connector), None
        )

    def _fill(self, c: ConnectorSummary, check: _Step | None) -> None:
        raw = self.config.get(c.name)
        component = next((s for s in self.steps.values() if s.type == COMPONENT and s.name == c.name), None)
        doc = component.old_outputs.get("config") if component is not None else None
        doc = doc if isinstance(doc, dict) else {}
        client, secret = self._child(c.name, "-client"), self._child(c.name, "-secret")
        entries = {
            w: ((check.inputs(w).get("connectors") or {}) if check else {}).get(c.name) or {}
            for w in ("before", "after")
        }
        c.managed = (
            client is not None or (raw is not None and raw.get("managed") is not None) or doc.get("managed") is True
        )
        gone = c.op == "delete"

        def source(which: str) -> dict[str, Any]:
            if client is not None and client.inputs(which):
                return client.inputs(which)
            return dict(entries[which])

        before, after = source("before"), source("after")
        c.scopes = Change(_scopes(before.get("scopes")) or _scopes(doc.get("scope")))
        c.region = Change(before.get("region") or doc.get("region"))
        c.client_id = Change((client.old_outputs.get("client_id") if client else None) or before.get("client_id"))
        c.client_id.before = c.client_id.before or doc.get("clientId")
        c.store = Change(_step_store(secret, "before") or _client_store(client, "before") or _ref_store(doc))
        if not gone:
            c.scopes.after = _scopes(after.get("scopes")) or _scopes((raw or {}).get("scopes"))
            c.region.after = after.get("region") or _config_region(raw)
            if not c.managed:
                c.client_id.after = after.get("client_id") or (raw or {}).get("clientId")
            c.store.after = _step_store(secret, "after") or _client_store(client, "after") or _config_store(c.name, raw)
        if client is not None and client.op in ("update", "replace"):
            c.rotation = self._rotation(client)
        if check is not None and entries["before"] != entries["after"] and c.op == "same":
            c.op = "update"
        moved = bool(c.store.before and c.store.after and not _same_place(c.store.before, c.store.after))
        if c.op == "same" and (c.resources or moved or any(ch.changed for ch in (c.scopes, c.region, c.client_id))):
            c.op = "update"
        if c.replacements and c.op not in ("create", "delete"):
            c.op = "replace"

    def _rotation(self, client: _Step) -> str:
        changed = set(client.changed_keys())
        if "rotation_request" in changed and client.new_inputs.get("rotation_request"):
            return "requested"
        if changed - {"rotation_request", "grace_hours", "rotate_after_days", "admin", "store"}:
            return "new-client"
        outs = client.old_outputs
        created, every = _number(outs.get("created_ts")), _number(outs.get("rotate_after_days"))
        if created is not None and every is not None and self.now >= created + every * DAY:
            return "due"
        retire = _number(outs.get("retire_after_ts"))
        if outs.get("previous_client_id") and retire is not None and self.now >= retire:
            return "retiring-previous"
        return "settings"

    @staticmethod
    def _check_state(c: ConnectorSummary, check: _Step | None, check_ran: bool) -> str:
        if c.op == "delete":
            return "none"
        if check_ran and any(f"connector '{c.name}'" in e for e in c.errors):
            return "failed"
        if c.managed:
            return "at-up"
        entry = ((check.new_inputs.get("connectors") or {}) if check else {}).get(c.name)
        if isinstance(entry, dict) and entry.get("enabled") is False:
            return "off"
        return "passed" if check_ran else "not-run"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _config_region(raw: dict[str, Any] | None) -> str | None:
    if raw is None:
        return None
    return str(raw.get("region") or DEFAULT_REGION)


def _scopes(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return sorted(set(value.split())) or None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sorted(set(value)) or None
    return None


def _trim(store: Mapping[str, Any]) -> dict[str, Any] | None:
    out = {k: store[k] for k in STORE_KEYS if store.get(k) not in (None, "")}
    return out if out.get("store") else None


def _same_place(a: Any, b: Any) -> bool:
    """Stores compared on what both sides know (a failed preview knows less than state)."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return bool(a == b)
    return all(bool(a[k] == b[k]) for k in set(a) & set(b))


def _step_store(step: _Step | None, which: str) -> dict[str, Any] | None:
    inputs = step.inputs(which) if step is not None else {}
    if step is None or not inputs:
        return None
    if step.type.endswith("vault:KvSecret"):
        return _trim({**inputs, "store": "vault", "kvVersion": inputs.get("kv_version")})
    if step.type.endswith("aws:SecretsManagerSecret"):
        return _trim({"store": "secretsManager", "name": inputs.get("name"), "region": inputs.get("region")})
    return None


def _client_store(step: _Step | None, which: str) -> dict[str, Any] | None:
    inputs = step.inputs(which) if step is not None else {}
    settings = inputs.get("store")
    if not isinstance(settings, dict) or not inputs.get("store_kind"):
        return None
    return _trim({**settings, "kvVersion": settings.get("kv_version"), "store": inputs["store_kind"]})


def _ref_store(doc: Mapping[str, Any]) -> dict[str, Any] | None:
    ref = doc.get("secretRef")
    return _trim(ref) if isinstance(ref, dict) else None


def _config_store(name: str, raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    sm = raw.get("secretsManager")
    if isinstance(sm, dict):
        return _trim(
            {"store": "secretsManager", "name": sm.get("name") or f"commercetools/{name}", "region": sm.get("region")}
        )
    found = raw.get("vault")
    vault: dict[str, Any] = found if isinstance(found, dict) else {}
    return _trim(
        {
            "store": "vault",
            "address": vault.get("address"),
            "namespace": vault.get("namespace"),
            "mount": vault.get("mount") or "secret",
            "path": vault.get("path") or f"commercetools/{name}",
            "kvVersion": vault.get("kvVersion") or 2,
        }
    )


def _dedupe(violations: list[Violation]) -> list[Violation]:
    seen: dict[tuple[str, str, str | None, str], Violation] = {}
    for v in violations:
        seen.setdefault((v.policy, v.level, v.connector, v.message), v)
    return list(seen.values())


def summarise(
    events: Iterable[auto.EngineEvent],
    stack: str,
    *,
    preview_failed: bool = False,
    failure: str | None = None,
    policy_packs: Iterable[str] = (),
    redact: Redactor | None = None,
    now: float | None = None,
    log_complete: bool = True,
) -> Summary:
    """The summary of one preview's engine events. `failure`: what the CLI said when it failed.
    `log_complete=False`: the event log ended before the engine's last event; the summary fails (exit 1)."""
    builder = _Builder(time.time() if now is None else now)
    for event in events:
        builder.add(event)
    summary = builder.build(stack, preview_failed=preview_failed, failure=failure, packs=list(policy_packs))
    if not log_complete:
        # Safe side: from part of the events a failing check reads as "not run" and changes go missing.
        summary.preview_failed = True
        summary.errors.append(INCOMPLETE_LOG)
    summary.redact = redact or Redactor()
    return redact_summary(summary, summary.redact)


# --- Markdown ---------------------------------------------------------------------------------------------------
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
    if c.store.before and c.store.after and not _same_place(c.store.before, c.store.after):
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


# --- JSON -----------------------------------------------------------------------------------------------------
def as_json(s: Summary) -> dict[str, Any]:
    """The machine-readable summary (documented in examples/pipelines/README.md; stable within schemaVersion)."""
    data = {
        "schemaVersion": SCHEMA_VERSION,
        "stack": s.stack,
        "ok": not s.failed,
        "exitCode": s.exit_code,
        "previewFailed": s.preview_failed,
        "verdict": verdict(s),
        "changes": dict(s.changes),
        "credentialChecks": {
            "passed": s.checks("passed"),
            "failed": s.checks("failed"),
            "off": s.checks("off"),
            "atUp": s.checks("at-up"),
            "notRun": s.checks("not-run"),
        },
        "policies": {
            "packs": list(s.policy_packs),
            "mandatory": len(s.mandatory),
            "advisory": sum(v.level != "mandatory" for v in s.violations),
            "violations": [
                {"policy": v.policy, "level": v.level, "connector": v.connector, "message": v.message}
                for v in s.violations
            ],
        },
        "connectors": [
            {
                "name": c.name,
                "op": c.op,
                "check": c.check,
                "managed": c.managed,
                "scopes": {
                    "before": c.scopes.before,
                    "after": c.scopes.after,
                    "added": c.scopes_added,
                    "removed": c.scopes_removed,
                },
                "region": {"before": c.region.before, "after": c.region.after},
                "clientId": {"before": c.client_id.before, "after": c.client_id.after},
                "store": {"before": c.store.before, "after": c.store.after},
                "rotation": c.rotation,
                "replaced": [r.name for r in c.replacements],
                "resources": [{"name": r.name, "op": r.op, "keys": r.keys} for r in c.resources],
                "errors": c.errors,
                "warnings": c.warnings,
            }
            for c in s.connectors
        ],
        "errors": s.errors,
        "warnings": s.warnings,
    }
    return dict(s.redact.deep(data))


# --- the command ----------------------------------------------------------------------------------------------
def display_path(path: Path, base: Path | None = None) -> str:
    """A path as the user would type it in the repository: relative, never a temp or home path."""
    resolved = path.resolve()
    for root in (base or Path.cwd(), ROOT):
        try:
            return resolved.relative_to(root.resolve()).as_posix() or "."
        except ValueError:
            continue
    return resolved.name


def run_preview(
    stack: ProjectStack,
    *,
    policy_pack: Path | None,
    policy_pack_config: Path | None = None,
    now: float | None = None,
) -> Summary:
    """Preview `stack` through the Automation API (with the policy pack) and summarise its events."""
    try:
        secrets = secret_values(stack.stack.get_all_config())
    except auto.errors.CommandError as exc:
        raise StackError(f"cannot read the config of stack {stack.name!r}: {_first_error(str(exc))}") from None
    events: list[auto.EngineEvent] = []
    failure: str | None = None
    try:
        stack.stack.preview(
            on_event=events.append,
            color="never",
            policy_packs=[str(policy_pack.resolve())] if policy_pack else None,
            policy_pack_configs=[str(policy_pack_config.resolve())] if policy_pack_config else None,
        )
    except auto.errors.CommandError as exc:
        failure = _first_error(str(exc))
    except RuntimeError as exc:  # the CLI exited 0 without a summary event
        failure = str(exc)
    redact = Redactor(secrets | secret_env_values(stack.env), [stack.work_dir.resolve(), ROOT], home=Path.home())
    packs = [display_path(policy_pack)] if policy_pack else []
    return summarise(
        events,
        stack.name,
        preview_failed=failure is not None,
        failure=failure,
        policy_packs=packs,
        redact=redact,
        now=now,
        log_complete=bool(events) and events[-1].cancel_event is not None,  # the engine always ends with it
    )


def _first_error(text: str) -> str:
    for line in text.splitlines():
        if "error:" in line:
            return line.split("error:", 1)[1].strip()
    lines = text.strip().splitlines()
    return lines[-1].strip() if lines else "no output"


def command(
    stack: ProjectStack,
    *,
    policy_pack: Path | None,
    policy_pack_config: Path | None,
    out: Path | None,
    as_json_output: bool,
    stdout: TextIO | None = None,
    preview: Callable[..., Summary] = run_preview,
) -> int:
    """Run the preview; write the comment (Markdown cut to MAX_CHARS) to `out`, and the whole summary to stdout
    (Markdown, or JSON with `as_json_output`). Returns the exit code."""
    summary = preview(stack, policy_pack=policy_pack, policy_pack_config=policy_pack_config)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_markdown(summary), encoding="utf-8")
    stream = stdout or sys.stdout
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(encoding="utf-8")  # the verdict's emoji, whatever the job's locale
    if as_json_output:
        stream.write(json.dumps(as_json(summary), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    else:
        stream.write(render_markdown(summary, limit=None))
    return summary.exit_code
