"""The connectors of a stack, found in its state: any program that declares CommercetoolsConnector components.

Found by resource type, never by the stack program's config or by name suffixes: each CommercetoolsConnector
component is one connector (named as the component); its document is the component's `config` output (stacks
written before components registered it: the stack program's `connectors` output); a child ApiClient makes it
managed, and its state says where the secret is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ctp_credentials.components.location import SecretLocation
from ctp_credentials.policies import resource_types as t


@dataclass(frozen=True)
class Connector:
    name: str
    mode: Literal["managed", "provided"]
    document: Mapping[str, Any] | None  # the non-secret document, as consumers read it
    client: Mapping[str, Any] | None  # a managed connector's ApiClient outputs (no secret: they are encrypted)
    location: SecretLocation | None  # where the secret is, as its writer recorded it


def connectors(deployment: Mapping[str, Any], outputs: Mapping[str, Any]) -> dict[str, Connector]:
    """Connector name -> Connector, from a stack export (`deployment`, secrets still encrypted) and its outputs."""
    resources = [
        r
        for r in deployment.get("resources") or []
        # not one pending deletion: after a failed replacement the old resource is still in state, marked so
        if isinstance(r, Mapping) and not r.get("delete")
    ]
    children: dict[str, list[Mapping[str, Any]]] = {}
    for r in resources:
        children.setdefault(str(r.get("parent") or ""), []).append(r)
    exported = outputs.get("connectors")
    legacy: Mapping[str, Any] = exported if isinstance(exported, Mapping) else {}
    found = {}
    for component in (r for r in resources if r.get("type") == t.CONNECTOR):
        name = str(component["urn"]).rsplit("::", 1)[-1]
        kids = children.get(str(component["urn"]), [])
        document = (component.get("outputs") or {}).get("config") or legacy.get(name)
        client = next((k.get("outputs") for k in kids if k.get("type") == t.API_CLIENT and k.get("outputs")), None)
        found[name] = Connector(
            name=name,
            mode="managed" if client is not None else "provided",
            document=document if isinstance(document, Mapping) else None,
            client=client,
            location=_location(client, kids, document if isinstance(document, Mapping) else None),
        )
    return found


def _location(
    client: Mapping[str, Any] | None, kids: list[Mapping[str, Any]], document: Mapping[str, Any] | None
) -> SecretLocation | None:
    if client is not None:
        kind, store = client.get("store_kind"), client.get("store")
        if kind not in ("vault", "secretsManager") or not isinstance(store, Mapping):
            return None
        return SecretLocation.from_settings(kind, store) if store.get("path") or store.get("name") else None
    ref = (document or {}).get("secretRef") or {}
    for kid in kids:
        state = kid.get("outputs") or {}
        if (
            kid.get("type") == t.AWS_SECRET
            and ref.get("store") == "secretsManager"
            and state.get("name") == ref.get("name")
        ):
            return SecretLocation.from_settings("secretsManager", state)
        # the connector's store, not a publication of its document to Vault (another path)
        if (
            kid.get("type") == t.VAULT_KV_SECRET
            and ref.get("store") == "vault"
            and (state.get("mount"), state.get("path")) == (ref.get("mount"), ref.get("path"))
        ):
            return SecretLocation.from_settings("vault", state)
    return None
