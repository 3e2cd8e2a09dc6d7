"""Reading one preview's engine events (`Stack.preview(on_event=...)`): the steps per resource with their old and
new inputs, the stack config from the prelude, diagnostics, policy violations and the engine's counts. Which
connector a resource belongs to is decided here (`owner_of`); build.py turns what was read into the summary."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pulumi import automation as auto

from ctp_credentials.policies import resource_types as t

from ..redaction import MASK
from .model import Violation

SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the key Pulumi puts on a (blinded) secret value
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # a value known only after `up`
COMPONENT = t.CONNECTOR
CHECK = t.CREDENTIAL_CHECK
CONFIG_KEY = "commercetools-credentials:connectors"
CONNECTOR_RE = re.compile(r"connector '([a-z0-9][a-z0-9-]{0,47})'")
REPLACE_OPS = {"replace", "create-replacement", "delete-replaced", "discard-replaced", "read-replacement"}


def _plain(value: Any) -> Any:
    """An event value without Pulumi's wrappers: a secret becomes MASK, a value known only after `up` None."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return MASK
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return None if value == UNKNOWN else value


@dataclass
class Step:
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


def urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def urn_type(urn: str) -> str:
    parts = urn.split("::")
    return parts[-2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def owner_of(step: Step) -> str | None:
    """The connector a resource belongs to (its component), or None for stack-level resources."""
    if step.type == COMPONENT:
        return step.name
    if step.parent and urn_type(step.parent) == COMPONENT:
        return urn_name(step.parent)
    # a resource of ours outside a component (declared directly): its `connector` input names it
    named = step.new_inputs.get("connector") or step.old_inputs.get("connector")
    return named if isinstance(named, str) else None


class PreviewEvents:
    """What the events of one preview said, read one event at a time (`add`)."""

    def __init__(self) -> None:
        self.steps: dict[str, Step] = {}
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
                connector = urn_name(p.resource_urn)
            self.violations.append(Violation(p.policy_name, p.enforcement_level, connector, detail))
        elif event.summary_event is not None:
            self.changes = {str(k): int(v) for k, v in event.summary_event.resource_changes.items()}
            self.packs_ran = bool(event.summary_event.policy_packs)

    def _step(self, md: auto.events.StepEventMetadata) -> None:
        if md.type == "pulumi:pulumi:Stack" or md.type.startswith("pulumi:providers:"):
            return
        step = self.steps.setdefault(md.urn, Step(md.urn, urn_name(md.urn), md.type))
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
