"""The summary as JSON (`pr-summary --json`): the contract pipelines parse, documented in
examples/pipelines/README.md and stable within SCHEMA_VERSION."""

from __future__ import annotations

from typing import Any

from .markdown import verdict
from .model import Summary

SCHEMA_VERSION = 1


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
