"""From a preview's events to the summary: each connector's row (its op, what changes in scopes, region, client
ID and store, a rotation and why, its credential check), diagnostics and violations given to the connector they
name, what a failed preview never reached filled in from the stack config and the previous document."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi import automation as auto

from ctp_credentials.components.config import DEFAULT_REGION
from ctp_credentials.policies import resource_types as t

from ..redaction import Redactor, redact_summary
from .events import CHECK, COMPONENT, CONNECTOR_RE, PreviewEvents, Step, owner_of, urn_type
from .model import STORE_KEYS, Change, ConnectorSummary, ResourceChange, Summary, Violation, same_place

DAY = 86400.0
INCOMPLETE_LOG = (
    "the engine's event log ended before its last event, so this summary may miss changes and failures: "
    "rerun the job, and report it with the job log if it happens again"
)
PROBLEM_PREFIX_RE = re.compile(r"^\S+ resource '[^']*' has a problem: ")

# What the engine says after a failure it has already reported: dropped when the cause is listed (the current
# CLI adds the resource monitor's line, 3.79 did not).
CONSEQUENCES = frozenset({"preview failed", "update failed", "Resource monitor has terminated, shutting down"})


class _Builder(PreviewEvents):
    """The events as they are read (PreviewEvents), then the summary built from all of them (`build`)."""

    def __init__(self, now: float) -> None:
        super().__init__()
        self.now = now

    def build(self, stack: str, *, preview_failed: bool, failure: str | None, packs: list[str]) -> Summary:
        connectors: dict[str, ConnectorSummary] = {name: ConnectorSummary(name) for name in self.config}
        # A program's connectors share one CredentialCheck per batch (components/connector.py): found by type.
        checks = [s for s in self.steps.values() if s.type == CHECK and owner_of(s) is None]
        for batch in checks:
            for which in ("before", "after"):
                for name in batch.inputs(which).get("connectors") or {}:
                    connectors.setdefault(name, ConnectorSummary(name))
        warnings: list[str] = []
        for step in sorted(self.steps.values(), key=lambda s: s.urn):
            owner = owner_of(step)
            if owner is None:
                if step not in checks and step.op != "same":
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
        check_ran = bool(checks) or any(
            sev == "error" and urn_type(urn) == CHECK for sev, urn, _ in self.diagnostics if urn
        )
        for c in connectors.values():
            check = _check_of(c.name, checks)
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
                owner = owner_of(self.steps[urn])
            if owner is None:
                (errors if severity == "error" else warnings).append(text)
                continue
            c = connectors.setdefault(owner, ConnectorSummary(owner))
            (c.errors if severity == "error" else c.warnings).append(text)
        return errors, warnings

    def _children(self, connector: str, type_: str) -> list[Step]:
        return [s for s in self.steps.values() if s.type == type_ and owner_of(s) == connector]

    def _store_secret(self, connector: str, *places: dict[str, Any] | None) -> Step | None:
        """A provided connector's store secret, found by type: its Secrets Manager secret, or its Vault KV secret.
        A publication of the document to Vault has the same type, so when there are two the one at a place the
        document or the stack config names is the store; with neither known, the summary leaves the store out
        rather than guess."""
        aws = self._children(connector, t.AWS_SECRET)
        if aws:
            return aws[0]
        kv = self._children(connector, t.VAULT_KV_SECRET)
        if len(kv) == 1:
            return kv[0]  # a provided connector has exactly one store secret
        for place in (p for p in places if p and p.get("store") == "vault"):
            for step in kv:
                for which in ("before", "after"):
                    mine = _step_store(step, which) or {}
                    if (mine.get("mount"), mine.get("path")) == (place.get("mount"), place.get("path")):
                        return step
        return None

    def _fill(self, c: ConnectorSummary, check: Step | None) -> None:
        raw = self.config.get(c.name)
        component = next((s for s in self.steps.values() if s.type == COMPONENT and s.name == c.name), None)
        doc = component.old_outputs.get("config") if component is not None else None
        doc = doc if isinstance(doc, dict) else {}
        client = next(iter(self._children(c.name, t.API_CLIENT)), None)
        secret = None if client else self._store_secret(c.name, _ref_store(doc), _config_store(c.name, raw))
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
        moved = bool(c.store.before and c.store.after and not same_place(c.store.before, c.store.after))
        if c.op == "same" and (c.resources or moved or any(ch.changed for ch in (c.scopes, c.region, c.client_id))):
            c.op = "update"
        if c.replacements and c.op not in ("create", "delete"):
            c.op = "replace"

    def _rotation(self, client: Step) -> str:
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
    def _check_state(c: ConnectorSummary, check: Step | None, check_ran: bool) -> str:
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


def _step_store(step: Step | None, which: str) -> dict[str, Any] | None:
    inputs = step.inputs(which) if step is not None else {}
    if step is None or not inputs:
        return None
    if step.type == t.VAULT_KV_SECRET:
        return _trim({**inputs, "store": "vault", "kvVersion": inputs.get("kv_version")})
    if step.type == t.AWS_SECRET:
        return _trim({"store": "secretsManager", "name": inputs.get("name"), "region": inputs.get("region")})
    return None


def _client_store(step: Step | None, which: str) -> dict[str, Any] | None:
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


def _check_of(connector: str, checks: list[Step]) -> Step | None:
    """The CredentialCheck whose entries name `connector` (before or after), else the first (none names it)."""
    for check in checks:
        if any(connector in (check.inputs(w).get("connectors") or {}) for w in ("before", "after")):
            return check
    return checks[0] if checks else None
