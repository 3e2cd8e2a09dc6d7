"""Vault: a connector's secret is written only to an agreed KV v2 mount and path prefix.

Vault grants access by path, so a secret outside the agreed prefix is readable by whoever owns that other path
(or by no consumer at all). KV v2 keeps versions and lets the provider write with check-and-set; a KvSecret
written as KV v1 (`kv_version: 1`: stack config `vault.kvVersion`, or `VaultStore(kv_version=1)` in a program of
your own) is refused unless the location is listed as a KV v1 mount. The allowed locations state what the
platform team runs (the policy cannot ask Vault).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pulumi_policy import EnforcementLevel
from pydantic import Field

from ctp_credentials.components.naming import setting

from . import resource_types as t
from .adapters import resource_policy
from .resources import UNKNOWN, Resource, as_int, shown
from .settings import PolicyConfig

NAME = "vault-kv-location"


class VaultLocation(PolicyConfig):
    mount: str = Field(description="A KV mount, e.g. secret.")
    path_prefix: str = Field(
        default="", description="Path prefix under the mount, e.g. commercetools ('' = the whole mount)."
    )
    kv_version: Literal[1, 2] = Field(
        default=2, description="The mount's KV engine version; list a KV v1 mount explicitly to allow it."
    )

    def holds(self, mount: str, path: str) -> bool:
        prefix = _segments(self.path_prefix)
        return _segments(mount) == _segments(self.mount) and _segments(path)[: len(prefix)] == prefix

    def __str__(self) -> str:
        return "/".join([*_segments(self.mount), *_segments(self.path_prefix)]) + (
            "/…" if self.kv_version == 2 else "/… (KV v1)"
        )


class VaultKvConfig(PolicyConfig):
    allowed_locations: tuple[VaultLocation, ...] = Field(
        default=(VaultLocation(mount="secret", path_prefix="commercetools"),),
        description="KV mounts and path prefixes connectors may write to (KV v2 unless an entry says 1).",
    )
    allowed_addresses: tuple[str, ...] = Field(
        default=(),
        description="Vault addresses (https://vault.example.com:8200) secrets may be sent to. Empty: any.",
    )


def _segments(path: str) -> list[str]:
    return [s for s in path.strip("/").split("/") if s]


def check_vault_secret(secret: Mapping[str, Any], cfg: VaultKvConfig) -> list[str]:
    """Violations for one KvSecret's inputs (`connector`, `address`, `mount`, `path`, optional `kv_version`)."""
    name = str(secret.get("connector") or "?")
    mount, path, address = secret.get("mount"), secret.get("path"), secret.get("address")
    out: list[str] = []
    raw_version = secret.get("kv_version")
    version = 2 if raw_version is None else as_int(raw_version)
    if isinstance(mount, str) and isinstance(path, str):
        holding = [loc for loc in cfg.allowed_locations if loc.holds(mount, path)]
        allowed = ", ".join(str(loc) for loc in cfg.allowed_locations) or "none"
        if any(s in (".", "..") for s in _segments(path)):
            out.append(
                f"connector '{name}': Vault path {path!r} contains '.' or '..'; set {setting(name, 'vault.path')} "
                f"to a plain path such as commercetools/{name}"
            )
        elif not holding:
            out.append(
                f"connector '{name}': Vault location {mount}/{path} is outside the allowed locations ({allowed}); "
                f"set {setting(name, 'vault.mount', 'vault.path')} to a place under one of them (the defaults are "
                f"secret and commercetools/{name}), or add the location to allowedLocations in the {NAME} policy "
                "config"
            )
        elif raw_version is not UNKNOWN and not any(loc.kv_version == version for loc in holding):
            kinds = " or ".join(sorted({f"KV v{loc.kv_version}" for loc in holding}))
            out.append(
                f"connector '{name}': the secret is written as KV v{version or raw_version} to {mount}/{path}, "
                f"where {kinds} is allowed; remove {setting(name, 'vault.kvVersion')} to write KV v2 (it keeps "
                f"versions and check-and-set), or list the location with kvVersion {version or raw_version} in "
                f"allowedLocations of the {NAME} policy config"
            )
    allowed_addresses = [a.rstrip("/") for a in cfg.allowed_addresses]
    if allowed_addresses and isinstance(address, str) and address.rstrip("/") not in allowed_addresses:
        out.append(
            f"connector '{name}': Vault address {shown(address)} is not an allowed Vault "
            f"({', '.join(cfg.allowed_addresses)}); set {setting(name, 'vault.address')} or VAULT_ADDR to "
            f"one of them, or add it to allowedAddresses in the {NAME} policy config"
        )
    return out


def validate(resource: Resource, cfg: VaultKvConfig) -> list[str]:
    store = resource.store_settings("vault")
    return [] if store is None else check_vault_secret(store, cfg)


POLICY = resource_policy(
    name=NAME,
    description="Connector secrets are written only under the allowed Vault KV v2 mounts and path prefixes.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config=VaultKvConfig,
    types={t.VAULT_KV_SECRET, t.API_CLIENT},
    rule=validate,
)
