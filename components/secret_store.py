"""One stored secret, whichever store keeps it: Vault KV (v1 or v2) or AWS Secrets Manager, with typed settings.

`store(kind, settings)` builds one from a store provider's inputs or state (the keys of `settings()`, exactly
as they are in state); `SecretLocation.store()` from the connector's resolved record. Every caller that needs
"which store" goes through it: what a store provider takes as inputs (`settings`), the document it holds now
(`read`), where consumers find it (`secret_ref`), its provider (`provider`, which writes it with the ownership
rule of components/ownership.py) and the resource that declares it (`declare`). The store kind and the KV
version are told apart here and in the store providers' own write paths (KV v1 has no metadata to record an
owner in, nor check-and-set), nowhere else.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import pulumi

from .clients.vault import VaultClient
from .errors import CredentialsError

if TYPE_CHECKING:
    from .clients.secretsmanager import SecretsManagerClient
    from .config import ConnectorConfig
    from .providers.secretsmanager_secret import SecretsManagerSecretProvider
    from .providers.vault_secret import VaultKvSecretProvider

StoreKind = Literal["vault", "secretsManager"]


class SecretStore(ABC):
    """Where one connector's secret is kept. Its fields are the store provider's location inputs."""

    kind: ClassVar[StoreKind]

    def settings(self) -> dict[str, Any]:
        """The fields the store's provider takes as inputs (and keeps in state), by their input names."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    @abstractmethod
    def keeping(self, c: ConnectorConfig) -> dict[str, Any]:
        """The provider's other inputs but the value and the owner: how connector `c`'s config keeps it."""

    @abstractmethod
    def read(self) -> dict[str, Any] | None:
        """The document stored here now, or None. It holds the secret: keep it in memory only."""

    @abstractmethod
    def secret_ref(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """Where a consumer finds the secret, with the version the store resource's `state` records."""

    @abstractmethod
    def provider(self) -> VaultKvSecretProvider | SecretsManagerSecretProvider:
        """The store's provider: create/update/read/delete with its ownership, check-and-set and digest rules."""

    @abstractmethod
    def declare(
        self, name: str, settings: dict[str, Any], data: pulumi.Input[dict[str, Any]], opts: pulumi.ResourceOptions
    ) -> pulumi.Output[dict[str, Any]]:
        """Declare the store resource holding `data` (`settings`: its other inputs); the state `secret_ref` reads."""


@dataclass(frozen=True)
class VaultKvStore(SecretStore):
    kind: ClassVar[StoreKind] = "vault"

    address: str | None
    namespace: str | None
    mount: str
    path: str
    kv_version: Literal[1, 2] = 2

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> VaultKvStore:
        """From the Vault provider's inputs or state; state written before a key existed means its default
        (mount `secret`, KV version 2)."""
        return cls(
            address=settings.get("address"),
            namespace=settings.get("namespace"),
            mount=str(settings.get("mount") or "secret"),
            path=settings["path"],
            kv_version=1 if int(settings.get("kv_version") or 2) == 1 else 2,
        )

    def client(self) -> VaultClient:
        """A client of this Vault mount (token and login from VAULT_* in the environment)."""
        return VaultClient(address=self.address, namespace=self.namespace, mount=self.mount, kv_version=self.kv_version)

    def keeping(self, c: ConnectorConfig) -> dict[str, Any]:
        return {"delete_policy": c.vault.delete_policy, "adopt": c.vault.adopt}

    def read(self) -> dict[str, Any] | None:
        vault = self.client()
        found = vault.read_secret(self.path) if self.kv_version == 1 else vault.read_secret_version(self.path)
        return None if found is None else found.data

    def secret_ref(self, state: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "store": self.kind,
            "address": self.address,
            "namespace": self.namespace,
            "mount": self.mount,
            "path": self.path,
            "kvVersion": self.kv_version,
            "version": state.get("version"),
        }

    def provider(self) -> VaultKvSecretProvider:
        from .providers.vault_secret import VaultKvSecretProvider

        return VaultKvSecretProvider()

    def declare(
        self, name: str, settings: dict[str, Any], data: pulumi.Input[dict[str, Any]], opts: pulumi.ResourceOptions
    ) -> pulumi.Output[dict[str, Any]]:
        from .providers.vault_secret import VaultKvSecret, VaultKvSecretArgs

        kv = VaultKvSecret(name, VaultKvSecretArgs(data=data, **settings), opts=opts)
        return kv.version.apply(lambda version: {"version": version})


@dataclass(frozen=True)
class SecretsManagerStore(SecretStore):
    kind: ClassVar[StoreKind] = "secretsManager"

    name: str
    region: str | None = None
    endpoint_url: str | None = None

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> SecretsManagerStore:
        """From the Secrets Manager provider's inputs or state."""
        return cls(name=settings["name"], region=settings.get("region"), endpoint_url=settings.get("endpoint_url"))

    def client(self) -> SecretsManagerClient:
        """A client of this region and endpoint (credentials from the default AWS chain)."""
        from .clients.secretsmanager import SecretsManagerClient  # boto3 only when a connector uses AWS

        return SecretsManagerClient(region=self.region, endpoint_url=self.endpoint_url)

    def keeping(self, c: ConnectorConfig) -> dict[str, Any]:
        sm = c.secrets_manager
        if sm is None:  # made only for a connector that configures one: a caller's mistake, said as such
            raise CredentialsError(f"connector {c.name!r} keeps its secret in Vault, not in Secrets Manager")
        return {
            "kms_key_id": sm.kms_key_id,
            "description": sm.description or f"commercetools API client credentials for connector {c.name}",
            "tags": sm.tags,
            "recovery_window_days": sm.recovery_window_days,
            "force_delete": sm.force_delete,
            "restore_if_deleted": sm.restore_if_deleted,
        }

    def read(self) -> dict[str, Any] | None:
        sm = self.client()
        value = sm.get_secret_value(self.name)
        if value is None:
            return None
        try:
            loaded = json.loads(value.value)
        except ValueError:
            raise CredentialsError(
                f"{sm.where(self.name)} does not hold a JSON document (changed outside Pulumi?): run "
                "`pulumi refresh`, then `pulumi up` writes it again"
            ) from None
        return loaded if isinstance(loaded, dict) else None

    def secret_ref(self, state: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "store": self.kind,
            "arn": state.get("arn"),
            "name": self.name,
            "region": self.region,
            "versionId": state.get("version_id"),
        }

    def provider(self) -> SecretsManagerSecretProvider:
        from .providers.secretsmanager_secret import SecretsManagerSecretProvider  # boto3 only when used

        return SecretsManagerSecretProvider()

    def declare(
        self, name: str, settings: dict[str, Any], data: pulumi.Input[dict[str, Any]], opts: pulumi.ResourceOptions
    ) -> pulumi.Output[dict[str, Any]]:
        from .providers.secretsmanager_secret import SecretsManagerSecret, SecretsManagerSecretArgs

        sm = SecretsManagerSecret(name, SecretsManagerSecretArgs(data=data, **settings), opts=opts)
        return pulumi.Output.all(sm.arn, sm.version_id).apply(lambda v: {"arn": v[0], "version_id": v[1]})


def store(kind: StoreKind, settings: Mapping[str, Any]) -> VaultKvStore | SecretsManagerStore:
    """From a store provider's inputs or state (the keys of `settings()`). A record without the secret's name
    (state that lost it) is refused here, rather than read or written at the mount's root or as ''."""
    key, what = ("name", "secret name") if kind == "secretsManager" else ("path", "path")
    if not settings.get(key):
        raise CredentialsError(f"this {kind} location has no {what}: run `pulumi refresh`, then rerun")
    return SecretsManagerStore.of(settings) if kind == "secretsManager" else VaultKvStore.of(settings)
