"""The summary's data: per connector what changes (before and after), its credential check and problems; per stack
the engine's counts, the policy violations and what no connector owns. Built by build.py, rendered by
markdown.py and json_report.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..redaction import Redactor

STORE_KEYS = ("store", "mount", "path", "kvVersion", "namespace", "address", "name", "region")
CHECK_STATES = ("failed", "passed", "off", "at-up", "not-run")


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


def same_place(a: Any, b: Any) -> bool:
    """Stores compared on what both sides know (a failed preview knows less than state)."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return bool(a == b)
    return all(bool(a[k] == b[k]) for k in set(a) & set(b))
