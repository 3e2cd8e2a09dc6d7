"""What pr-summary masks before anything reaches a pull request: secret values wherever they appear, and the
machine's traces (loopback ports, temporary and project directories) so that output is deterministic.

The engine already blinds every value Pulumi marks secret; this is the second line: a secret pasted into a
plaintext field, or a remote error message quoting one, is caught here by value.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pulumi import automation as auto

if TYPE_CHECKING:
    from .pr_summary.model import Summary

MASK = "[secret]"
LOOPBACK_RE = re.compile(r"(https?://(?:127(?:\.\d{1,3}){3}|localhost|\[::1\])):\d{1,5}")
TEMP_PATH_RE = re.compile(r"(?<![\w.-])(?:/tmp|/var/tmp|/private/var/folders|/var/folders)/[^\s'\"`)\],;]+")


class Redactor:
    """Masks secret values and makes text independent of the machine (loopback ports, temp and project dirs)."""

    def __init__(self, secrets: Iterable[str] = (), paths: Iterable[Path | str] = (), home: Path | None = None) -> None:
        found = {s for s in secrets if s.strip()}
        found |= {json.dumps(s)[1:-1] for s in found}  # as the secret appears inside JSON text
        self._long = sorted((s for s in found if len(s) >= 4), key=lambda s: (-len(s), s))
        # A very short secret is masked only where it stands alone, or it would garble every word.
        self._short = [re.compile(rf"(?<![\w.-]){re.escape(s)}(?![\w.-])") for s in sorted(found) if len(s) < 4]
        self._paths = sorted({str(p) for p in paths if len(str(p)) > 1}, key=lambda p: (-len(p), p))
        self._home = f"{home}/" if home is not None and len(str(home)) > 1 else None

    def __call__(self, text: str) -> str:
        for secret in self._long:
            text = text.replace(secret, MASK)
        for pattern in self._short:
            text = pattern.sub(MASK, text)
        text = LOOPBACK_RE.sub(r"\1:<port>", text)
        for path in self._paths:
            text = text.replace(path, "<dir>")
        if self._home:
            text = text.replace(self._home, "~/")
        return TEMP_PATH_RE.sub("<tmp>", text)

    def deep(self, value: Any) -> Any:
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {self(str(k)): self.deep(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.deep(v) for v in value]
        return value


def secret_values(config: Mapping[str, auto.ConfigValue]) -> set[str]:
    """Every string a secret config value holds: the value itself and, for structured values, each leaf (all
    of them: the CLI does not say which leaf is the secret one)."""
    found: set[str] = set()
    for value in config.values():
        if not value.secret or not isinstance(value.value, str):
            continue
        found.add(value.value)
        with contextlib.suppress(ValueError):
            found |= _leaves(json.loads(value.value))
    return found


SECRET_ENV_RE = re.compile(r"SECRET|TOKEN|PASSWORD|PASSPHRASE|PRIVATE|(^|_)KEY$|(^|_)JWT$", re.IGNORECASE)
# ... unless the name says it holds where a credential is, not the credential (AWS_ENDPOINT_URL_SECRETS_MANAGER,
# AWS_WEB_IDENTITY_TOKEN_FILE): masking those would only hide an endpoint or a path from the reader
NOT_SECRET_ENV_RE = re.compile(r"ENDPOINT|_URL|_FILE$|_PATH$|_DIR$", re.IGNORECASE)


def secret_env_values(environ: Mapping[str, str]) -> set[str]:
    """Values of the job's environment variables whose names say they are credentials (CTP_ADMIN_CLIENT_SECRET,
    VAULT_TOKEN, AWS_SECRET_ACCESS_KEY, ...): they are not stack config, yet a remote error message could
    carry one into the comment. Short values are left out (8+ characters): masking "true" would garble text."""
    return {
        v
        for k, v in environ.items()
        if SECRET_ENV_RE.search(k) and not NOT_SECRET_ENV_RE.search(k) and len(v.strip()) >= 8
    }


def _leaves(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_leaves(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_leaves(v) for v in value))
    if isinstance(value, bool) or value is None:
        return set()
    return {str(value)}


def redact_summary(summary: Summary, redact: Redactor) -> Summary:
    """The summary with every text in it passed through `redact` (in place, and returned)."""
    for c in summary.connectors:
        for attr in ("scopes", "region", "client_id", "store"):
            ch = getattr(c, attr)
            setattr(c, attr, replace(ch, before=redact.deep(ch.before), after=redact.deep(ch.after)))
        c.resources = [replace(r, name=redact(r.name), keys=[redact(k) for k in r.keys]) for r in c.resources]
        c.errors = [redact(e) for e in c.errors]
        c.warnings = [redact(w) for w in c.warnings]
    summary.violations = [replace(v, message=redact(v.message)) for v in summary.violations]
    summary.errors = [redact(e) for e in summary.errors]
    summary.warnings = [redact(w) for w in summary.warnings]
    return summary
