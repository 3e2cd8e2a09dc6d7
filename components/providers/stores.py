"""One entry point to the secret-store providers, for providers that write a secret themselves.

A managed API client's secret exists only in commercetools' create response, so ApiClientProvider writes it
to the store directly instead of passing it through a Pulumi output (where it would land in state). It
reuses the store providers' create/update/delete, and so their ownership, check-and-set and digest rules.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from ..vault import VaultClient
from .vault_secret import VaultKvSecretProvider

if TYPE_CHECKING:
    from .secretsmanager_secret import SecretsManagerSecretProvider

StoreKind = Literal["vault", "secretsManager"]


def _provider(kind: StoreKind) -> VaultKvSecretProvider | SecretsManagerSecretProvider:
    if kind == "vault":
        return VaultKvSecretProvider()
    from .secretsmanager_secret import SecretsManagerSecretProvider  # boto3 only when a connector uses AWS

    return SecretsManagerSecretProvider()


def write(
    kind: StoreKind, settings: dict[str, Any], data: dict[str, Any], state: dict[str, Any] | None
) -> dict[str, Any]:
    """Create or update the store's value; returns the store resource's state (`id` + outputs, no secret)."""
    provider = _provider(kind)
    props = {**settings, "data": data}
    if state is None:
        created = provider.create(props)
        return {"id": created.id, **(created.outs or {})}
    updated = provider.update(state["id"], state, props)
    return {"id": state["id"], **(updated.outs or {})}


def read_current(kind: StoreKind, state: dict[str, Any]) -> dict[str, Any] | None:
    """The document the store holds now (it contains the secret: keep it in memory only)."""
    if kind == "vault":
        vault = VaultClient(
            address=state.get("address"),
            namespace=state.get("namespace"),
            mount=str(state.get("mount")),
            kv_version=int(state.get("kv_version", 2)),
        )
        found = vault.read_secret(state["path"]) if vault.kv_version == 1 else vault.read_secret_version(state["path"])
        return None if found is None else found.data
    from ..aws import SecretsManagerClient  # boto3 only when a connector uses AWS

    sm = SecretsManagerClient(region=state.get("region"), endpoint_url=state.get("endpoint_url"))
    value = sm.get_secret_value(state["name"])
    if value is None:
        return None
    loaded = json.loads(value.value)
    return loaded if isinstance(loaded, dict) else None


def refresh(kind: StoreKind, state: dict[str, Any]) -> dict[str, Any] | None:
    """The store resource's state as refresh sees it, or None when the value is gone."""
    found = _provider(kind).read(state["id"], state)
    return None if found.id is None else {"id": state["id"], **(found.outs or {})}


def delete(kind: StoreKind, state: dict[str, Any]) -> None:
    _provider(kind).delete(state["id"], state)
