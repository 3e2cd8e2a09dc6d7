"""A small Vault (KV v2) client over hvac, with errors that name the path, the remote error and the fix.

Credentials are read from the environment when a client is built (inside each provider method), never
passed through config or kept on a provider object: VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, VAULT_CACERT
(the `BAO_*` names OpenBao uses are accepted too).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import hvac
import hvac.exceptions
import requests

from .errors import VaultError

TIMEOUT = 10  # seconds; hvac's default of 30 makes a down server look like a hang in a pipeline


def _env(name: str) -> str | None:
    return os.environ.get(f"VAULT_{name}") or os.environ.get(f"BAO_{name}") or None


@dataclass(frozen=True)
class KvSecret:
    """One version of a KV v2 secret. The data never shows in repr."""

    data: dict[str, Any] = field(repr=False)
    version: int
    custom_metadata: dict[str, str]


@dataclass(frozen=True)
class KvMetadata:
    current_version: int
    custom_metadata: dict[str, str]
    # version -> True when that version is deleted or destroyed
    deleted: dict[int, bool]


class VaultClient:
    """KV v2 verbs on one mount of one Vault server."""

    def __init__(self, *, address: str | None = None, namespace: str | None = None, mount: str = "secret") -> None:
        self.address = (address or _env("ADDR") or "").rstrip("/")
        self.namespace = namespace or _env("NAMESPACE")
        self.mount = mount
        if not self.address:
            raise VaultError("no Vault address: set VAULT_ADDR, or vault.address in the connector's config")
        token = _env("TOKEN")
        if not token:
            raise VaultError(
                f"no Vault token for {self.address}: set VAULT_TOKEN in the environment that runs pulumi "
                "(the token is never read from stack config)"
            )
        cacert = _env("CACERT")
        self._client = hvac.Client(
            url=self.address, token=token, namespace=self.namespace, verify=cacert or True, timeout=TIMEOUT
        )

    def __repr__(self) -> str:
        return f"VaultClient(address={self.address!r}, namespace={self.namespace!r}, mount={self.mount!r})"

    def where(self, path: str) -> str:
        ns = f" namespace {self.namespace}" if self.namespace else ""
        return f"Vault {self.address}{ns} {self.mount}/{path}"

    # --- KV v2 --------------------------------------------------------------------------------------------
    def read_secret_metadata(self, path: str) -> KvMetadata | None:
        with self._errors(path, "read metadata of"):
            try:
                body = self._client.secrets.kv.v2.read_secret_metadata(path=path, mount_point=self.mount)
            except hvac.exceptions.InvalidPath:
                return None
        d = body["data"]
        versions = {
            int(k): bool(v.get("deletion_time")) or bool(v.get("destroyed"))
            for k, v in (d.get("versions") or {}).items()
        }
        return KvMetadata(int(d.get("current_version") or 0), dict(d.get("custom_metadata") or {}), versions)

    def read_secret_version(self, path: str, version: int | None = None) -> KvSecret | None:
        """The given (default: latest) version, or None when the path or that version is gone."""
        with self._errors(path, "read"):
            try:
                body = self._client.secrets.kv.v2.read_secret_version(
                    path=path, version=version, mount_point=self.mount, raise_on_deleted_version=True
                )
            except hvac.exceptions.InvalidPath:
                return None
        meta = body["data"]["metadata"]
        return KvSecret(
            data=dict(body["data"]["data"] or {}),
            version=int(meta["version"]),
            custom_metadata=dict(meta.get("custom_metadata") or {}),
        )

    def create_or_update_secret(self, path: str, data: Mapping[str, Any], *, cas: int) -> int:
        """Write with check-and-set: cas=0 creates only; cas=N updates only if N is still the latest."""
        with self._errors(path, "write"):
            body = self._client.secrets.kv.v2.create_or_update_secret(
                path=path, secret=dict(data), cas=cas, mount_point=self.mount
            )
        return int(body["data"]["version"])

    def update_metadata(self, path: str, custom_metadata: Mapping[str, str]) -> None:
        with self._errors(path, "update metadata of"):
            self._client.secrets.kv.v2.update_metadata(
                path=path, custom_metadata=dict(custom_metadata), mount_point=self.mount
            )

    def delete_secret_versions(self, path: str, versions: list[int]) -> None:
        """Soft delete: recoverable with `undelete` until destroyed."""
        with self._errors(path, "delete versions of"):
            try:
                self._client.secrets.kv.v2.delete_secret_versions(path=path, versions=versions, mount_point=self.mount)
            except hvac.exceptions.InvalidPath:
                return

    def delete_metadata_and_all_versions(self, path: str) -> None:
        with self._errors(path, "destroy"):
            try:
                self._client.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=self.mount)
            except hvac.exceptions.InvalidPath:
                return

    # --- errors -------------------------------------------------------------------------------------------
    @contextmanager
    def _errors(self, path: str, verb: str) -> Iterator[None]:
        """Map hvac and transport errors to VaultError: which server and path, what it said, what to do."""
        where = self.where(path)
        try:
            yield
        except hvac.exceptions.VaultDown:
            raise VaultError(
                f"cannot {verb} {where}: Vault is sealed. Unseal it (bao/vault operator unseal), then rerun"
            ) from None
        except hvac.exceptions.Forbidden as exc:
            raise VaultError(
                f"cannot {verb} {where}: permission denied ({_remote(exc)}). Grant the token's policy "
                f"read/create/update on {self.mount}/data/{path} and {self.mount}/metadata/{path}"
            ) from None
        except hvac.exceptions.Unauthorized:
            raise VaultError(f"cannot {verb} {where}: the token was rejected. Set a valid VAULT_TOKEN") from None
        except hvac.exceptions.InvalidRequest as exc:
            text = _remote(exc)
            if "check-and-set" in text:
                raise VaultError(
                    f"cannot {verb} {where}: someone else wrote it since our last write (check-and-set). "
                    "Run `pulumi refresh` to see the change, then `pulumi up`"
                ) from None
            raise VaultError(f"cannot {verb} {where}: {text}") from None
        except hvac.exceptions.VaultError as exc:
            raise VaultError(f"cannot {verb} {where}: {type(exc).__name__}: {_remote(exc)}") from None
        except requests.Timeout:
            raise VaultError(f"cannot {verb} {where}: no answer within {TIMEOUT}s. Check that Vault is up") from None
        except requests.ConnectionError:
            raise VaultError(
                f"cannot {verb} {where}: cannot connect. Check VAULT_ADDR and that the server is running"
            ) from None


def _remote(exc: hvac.exceptions.VaultError) -> str:
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list) and errors:
        return "; ".join(str(e) for e in errors)[:300]
    return str(exc).split(", on ")[0][:300]
