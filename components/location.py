"""Where a connector's secret lives, as one record that every reader goes through.

The program builds it from the connector's config (`SecretLocation.of`) and hands its fields to the store
providers as inputs, so they are in state; the providers open their clients from those fields, and rotation
reads the secret back through the same record built from the same config. One place decides the address,
namespace, mount, path and KV version of a Vault secret, and the name, region and endpoint URL of a Secrets
Manager one: a reader cannot go to another server, region or endpoint than the writer did.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .errors import CredentialsError
from .urls import canonical_url
from .vault import VaultClient, env_setting

if TYPE_CHECKING:
    from .aws import SecretsManagerClient
    from .config import ConnectorConfig

StoreKind = Literal["vault", "secretsManager"]
# The record's fields as the providers' inputs and state name them, per store.
VAULT_KEYS = ("address", "namespace", "mount", "path", "kv_version")
SECRETS_MANAGER_KEYS = ("name", "region", "endpoint_url")


def aws_region(explicit: str | None) -> str | None:
    """The region as boto3 will use it, resolved now: it goes into state, so a later run (a destroy from a job
    with another AWS_REGION) acts where the value is, and a changed region shows as a replacement."""
    return explicit or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


@dataclass(frozen=True)
class SecretLocation:
    store: StoreKind
    # Vault
    address: str | None = None
    namespace: str | None = None
    mount: str = "secret"
    path: str | None = None
    kv_version: int = 2
    # Secrets Manager
    name: str | None = None
    region: str | None = None
    endpoint_url: str | None = None

    @classmethod
    def of(cls, c: ConnectorConfig) -> SecretLocation:
        """The connector's store, with what config leaves open resolved from the environment now (VAULT_ADDR,
        VAULT_NAMESPACE, AWS_REGION), as the program does before anything is written."""
        if c.secrets_manager is not None:
            sm = c.secrets_manager
            return cls("secretsManager", name=c.secret_name, region=aws_region(sm.region), endpoint_url=sm.endpoint_url)
        v = c.vault
        return cls(
            "vault",
            address=canonical_url(v.address or env_setting("ADDR")) or "",  # as config's: one spelling
            namespace=v.namespace or env_setting("NAMESPACE"),
            mount=v.mount,
            path=c.vault_path,
            kv_version=v.kv_version,
        )

    @classmethod
    def from_settings(cls, store: StoreKind, settings: Mapping[str, Any]) -> SecretLocation:
        """From a store provider's inputs or state (the keys of `settings()`)."""
        if store == "secretsManager":
            return cls(
                store, name=settings["name"], region=settings.get("region"), endpoint_url=settings.get("endpoint_url")
            )
        return cls(
            store,
            address=settings.get("address"),
            namespace=settings.get("namespace"),
            mount=str(settings.get("mount") or "secret"),
            path=settings["path"],
            kv_version=int(settings.get("kv_version") or 2),
        )

    def settings(self) -> dict[str, Any]:
        """The fields the store's provider takes as inputs."""
        keys = SECRETS_MANAGER_KEYS if self.store == "secretsManager" else VAULT_KEYS
        return {k: getattr(self, k) for k in keys}

    def vault(self) -> VaultClient:
        """A client of this Vault mount (token and login from VAULT_* in the environment)."""
        return VaultClient(address=self.address, namespace=self.namespace, mount=self.mount, kv_version=self.kv_version)

    def secrets_manager(self) -> SecretsManagerClient:
        """A client of this region and endpoint (credentials from the default AWS chain)."""
        from .aws import SecretsManagerClient  # boto3 only when a connector uses AWS

        return SecretsManagerClient(region=self.region, endpoint_url=self.endpoint_url)

    def read(self) -> dict[str, Any] | None:
        """The document stored here now, or None. It holds the secret: keep it in memory only."""
        if self.store == "secretsManager":
            name = self._named(self.name, "secret name")
            sm = self.secrets_manager()
            value = sm.get_secret_value(name)
            if value is None:
                return None
            try:
                loaded = json.loads(value.value)
            except ValueError:
                raise CredentialsError(
                    f"{sm.where(name)} does not hold a JSON document (changed outside Pulumi?): run "
                    "`pulumi refresh`, then `pulumi up` writes it again"
                ) from None
            return loaded if isinstance(loaded, dict) else None
        path = self._named(self.path, "path")
        vault = self.vault()
        found = vault.read_secret(path) if self.kv_version == 1 else vault.read_secret_version(path)
        return None if found is None else found.data

    def _named(self, value: str | None, what: str) -> str:
        if not value:  # a location read from state that lost its name: say so instead of reading the root
            raise CredentialsError(f"this {self.store} location has no {what}: run `pulumi refresh`, then rerun")
        return value
