"""Where a connector's secret lives, as one record that every reader goes through.

The program builds it from the connector's config (`SecretLocation.of`) and hands its fields to the store
providers as inputs, so they are in state; the providers open their clients from those fields, and rotation
reads the secret back through the same record built from the same config. One place decides the address,
namespace, mount, path and KV version of a Vault secret, and the name, region and endpoint URL of a Secrets
Manager one: a reader cannot go to another server, region or endpoint than the writer did.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import secret_store
from .clients.vault import env_setting
from .secret_store import StoreKind
from .urls import canonical_url

if TYPE_CHECKING:
    from .config import ConnectorConfig

__all__ = ["SECRETS_MANAGER_KEYS", "VAULT_KEYS", "SecretLocation", "StoreKind", "aws_region"]
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
        return cls(store, **secret_store.store(store, settings).settings())

    def as_store(self) -> secret_store.VaultKvStore | secret_store.SecretsManagerStore:
        """The typed store this record names (components/secret_store.py): it reads, refers and writes."""
        return secret_store.store(self.store, {k: getattr(self, k) for k in (*VAULT_KEYS, *SECRETS_MANAGER_KEYS)})

    def settings(self) -> dict[str, Any]:
        """The fields the store's provider takes as inputs."""
        return self.as_store().settings()

    def read(self) -> dict[str, Any] | None:
        """The document stored here now, or None. It holds the secret: keep it in memory only."""
        return self.as_store().read()
