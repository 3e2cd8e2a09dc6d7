"""One entry point to the secret-store providers, for providers that write a secret themselves.

A managed API client's secret exists only in commercetools' create response, so ApiClientProvider writes it
to the store directly instead of passing it through a Pulumi output (where it would land in state). It
reuses the store providers' create/update/delete, and so their ownership, check-and-set and digest rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..secret_store import StoreKind, store

if TYPE_CHECKING:
    from .secretsmanager_secret import SecretsManagerSecretProvider
    from .vault_secret import VaultKvSecretProvider


def _provider(kind: StoreKind, settings: dict[str, Any]) -> VaultKvSecretProvider | SecretsManagerSecretProvider:
    return store(kind, settings).provider()


def write(
    kind: StoreKind, settings: dict[str, Any], data: dict[str, Any], state: dict[str, Any] | None
) -> dict[str, Any]:
    """Create or update the store's value; returns the store resource's state (`id` + outputs, no secret)."""
    provider = _provider(kind, settings)
    props = {**settings, "data": data}
    if state is None:
        created = provider.create(props)
        return {"id": created.id, **(created.outs or {})}
    updated = provider.update(state["id"], state, props)
    return {"id": state["id"], **(updated.outs or {})}


def read_current(kind: StoreKind, state: dict[str, Any]) -> dict[str, Any] | None:
    """The document the store holds now (it contains the secret: keep it in memory only)."""
    return store(kind, state).read()


def refresh(kind: StoreKind, state: dict[str, Any]) -> dict[str, Any] | None:
    """The store resource's state as refresh sees it, or None when the value is gone."""
    found = _provider(kind, state).read(state["id"], state)
    return None if found.id is None else {"id": state["id"], **(found.outs or {})}


def delete(kind: StoreKind, state: dict[str, Any]) -> None:
    _provider(kind, state).delete(state["id"], state)
