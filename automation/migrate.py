"""`ctp-credentials migrate-state`: rewrite a stack's pickled providers from the old module names.

Before the one import root (CHANGELOG, 0.1.0), the stack program's providers were pickled as `components.*`, and
the engine keeps each resource's pickle in state until the resource changes: `refresh` and `destroy` unpickle
it. A checkout still resolves those names (components/__init__.py); an installed copy has no top-level
`components` and fails with "No module named 'components'". This command loads each such pickle with the
old names mapped to `ctp_credentials.*` and pickles the provider again exactly as the program does today, then
imports the state back: one command, idempotent, nothing else in the state touched. Secrets stay encrypted: the
pickles hold no credentials, and the export is never asked to show secrets.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Any

import dill  # type: ignore[import-untyped]  # what the SDK pickles providers with
from pulumi.dynamic.dynamic import serialize_provider

from .workspace import ProjectStack

PROVIDER_KEY = "__provider"
LEGACY = "components"


class _LegacyNames(dill.Unpickler):  # type: ignore[misc]
    def find_class(self, module: str, name: str) -> Any:
        if module == LEGACY or module.startswith(f"{LEGACY}."):
            module = f"ctp_credentials.{module}"
        return super().find_class(module, name)


def repickled(pickled: str) -> str | None:
    """The provider pickled under today's names, or None when `pickled` names no old module."""
    raw = base64.b64decode(pickled)
    if f"{LEGACY}.".encode() not in raw.replace(f"ctp_credentials.{LEGACY}.".encode(), b""):
        return None
    provider = _LegacyNames(io.BytesIO(raw)).load()
    return str(serialize_provider(provider))


def migrate(deployment: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(the deployment with every old pickle rewritten, the URNs of the resources changed)."""
    changed = []
    resources = []
    for found in deployment.get("resources") or []:
        resource = dict(found)
        touched = False
        for part in ("inputs", "outputs"):
            values = resource.get(part)
            old = values.get(PROVIDER_KEY) if isinstance(values, Mapping) else None
            new = repickled(old) if isinstance(old, str) else None
            if new is not None:
                resource[part] = {**values, PROVIDER_KEY: new}  # type: ignore[dict-item]
                touched = True
        if touched:
            changed.append(str(resource.get("urn")))
        resources.append(resource)
    return {**deployment, "resources": resources}, changed


def command(stack: ProjectStack) -> int:
    deployment, changed = migrate(stack.export())
    if not changed:
        print(f"stack {stack.name!r}: nothing to migrate (no provider pickled under the old module names)")
        return 0
    stack.import_deployment(deployment)
    print(f"stack {stack.name!r}: {len(changed)} resources' providers now use the ctp_credentials module names")
    for urn in changed:
        print(f"  {urn}")
    return 0
