"""A small Vault (KV v2 and v1) client over hvac, with errors that name the path, the remote error and the fix.

Credentials are read from the environment when a client is built (inside each provider method), never
passed through config or kept on a provider object (the `BAO_*` names OpenBao uses are accepted too):

- address and TLS: VAULT_ADDR, VAULT_NAMESPACE, VAULT_CACERT;
- one of three logins, first match wins: VAULT_TOKEN; AppRole with VAULT_ROLE_ID + VAULT_SECRET_ID
  (mount VAULT_APPROLE_MOUNT, default `approle`); JWT/OIDC for CI jobs with VAULT_JWT_ROLE + VAULT_JWT or
  VAULT_JWT_FILE (mount VAULT_JWT_MOUNT, default `jwt`), e.g. a GitHub Actions or GitLab ID token.
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

from ..errors import VaultError, remote_text

TIMEOUT = 10  # seconds; hvac's default of 30 makes a down server look like a hang in a pipeline


def env_setting(name: str) -> str | None:
    """VAULT_<name>, or OpenBao's BAO_<name>: one reading for the clients and for what the program records."""
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

    def __init__(
        self, *, address: str | None = None, namespace: str | None = None, mount: str = "secret", kv_version: int = 2
    ) -> None:
        self.address = (address or env_setting("ADDR") or "").rstrip("/")
        self.namespace = namespace or env_setting("NAMESPACE")
        self.mount = mount
        self.kv_version = kv_version
        if not self.address:
            raise VaultError("no Vault address: set VAULT_ADDR, or vault.address in the connector's config")
        cacert = env_setting("CACERT")
        if cacert and not os.path.isfile(cacert):
            raise VaultError(f"VAULT_CACERT is {cacert}, which is not a file: point it at the PEM file of the CA")
        # VAULT_SKIP_VERIFY is not honoured on purpose: the client secret must not go to an unverified server.
        self._client = hvac.Client(url=self.address, namespace=self.namespace, verify=cacert or True, timeout=TIMEOUT)
        self._login()

    def _login(self) -> None:
        token = env_setting("TOKEN")
        if token:
            self._client.token = token
            return
        role_id, secret_id = env_setting("ROLE_ID"), env_setting("SECRET_ID")
        jwt_role = env_setting("JWT_ROLE")
        if role_id and secret_id:
            mount = env_setting("APPROLE_MOUNT") or "approle"
            with self._errors("", f"log in with AppRole (auth/{mount}) to"):
                self._client.auth.approle.login(role_id=role_id, secret_id=secret_id, mount_point=mount)
            return
        if jwt_role:
            jwt = env_setting("JWT")
            jwt_file = env_setting("JWT_FILE")
            if not jwt and jwt_file:
                try:
                    with open(jwt_file) as f:
                        jwt = f.read().strip()
                except OSError as exc:
                    raise VaultError(f"cannot read VAULT_JWT_FILE {jwt_file}: {exc.strerror}") from None
            if not jwt:
                raise VaultError("VAULT_JWT_ROLE is set but neither VAULT_JWT nor VAULT_JWT_FILE gives a token")
            mount = env_setting("JWT_MOUNT") or "jwt"
            with self._errors("", f"log in with JWT role {jwt_role!r} (auth/{mount}) to"):
                self._client.auth.jwt.jwt_login(role=jwt_role, jwt=jwt, path=mount)
            return
        raise VaultError(
            f"no Vault credentials for {self.address}: set VAULT_TOKEN, or VAULT_ROLE_ID + VAULT_SECRET_ID "
            "(AppRole), or VAULT_JWT_ROLE + VAULT_JWT/VAULT_JWT_FILE (JWT/OIDC) in the environment that runs "
            "pulumi (credentials are never read from stack config)"
        )

    def __repr__(self) -> str:
        return f"VaultClient(address={self.address!r}, namespace={self.namespace!r}, mount={self.mount!r})"

    def where(self, path: str) -> str:
        ns = f" namespace {self.namespace}" if self.namespace else ""
        return f"Vault {self.address}{ns} {self.mount}/{path}".rstrip("/")

    # --- KV v1: no versions, no metadata, no check-and-set ----------------------------------------------
    def read_secret(self, path: str) -> KvSecret | None:
        with self._errors(path, "read"):
            try:
                body = self._client.secrets.kv.v1.read_secret(path=path, mount_point=self.mount)
            except hvac.exceptions.InvalidPath:
                return None
        return KvSecret(data=dict(body.get("data") or {}), version=0, custom_metadata={})

    def write_secret(self, path: str, data: Mapping[str, Any]) -> None:
        with self._errors(path, "write"):
            self._client.secrets.kv.v1.create_or_update_secret(path=path, secret=dict(data), mount_point=self.mount)

    def delete_secret(self, path: str) -> None:
        with self._errors(path, "delete"):
            try:
                self._client.secrets.kv.v1.delete_secret(path=path, mount_point=self.mount)
            except hvac.exceptions.InvalidPath:
                return

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
        try:
            yield
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            raise VaultError(self._explain(exc, path, f"cannot {verb} {self.where(path)}")) from None

    def _explain(self, exc: hvac.exceptions.VaultError | requests.RequestException, path: str, what: str) -> str:
        if isinstance(exc, hvac.exceptions.VaultDown):
            return f"{what}: Vault is sealed. Unseal it (bao/vault operator unseal), then rerun"
        if isinstance(exc, requests.exceptions.SSLError):
            return (
                f"{what}: its TLS certificate is not trusted. Set VAULT_CACERT to the PEM file of the CA that "
                "signed it (VAULT_SKIP_VERIFY is not honoured)"
            )
        if isinstance(exc, requests.Timeout):
            return f"{what}: no answer within {TIMEOUT}s. Check that Vault is up"
        if isinstance(exc, requests.ConnectionError):
            return f"{what}: cannot connect. Check VAULT_ADDR and that the server is running"
        if isinstance(exc, requests.RequestException):
            return f"{what}: {type(exc).__name__}"
        remote = _remote(exc)
        if not path:  # a login: the role or its credentials are wrong
            return f"{what}: {remote}. Check the role and its credentials"
        if isinstance(exc, hvac.exceptions.Forbidden):
            if self.kv_version == 1:
                grant = f"read/create/update/delete on {self.mount}/{path}"
            elif what.startswith("cannot delete versions of"):  # deletePolicy delete (the default)
                grant = f"update on {self.mount}/delete/{path}"
            elif what.startswith("cannot destroy"):  # deletePolicy destroy
                grant = f"delete on {self.mount}/metadata/{path}"
            else:
                grant = f"read/create/update on {self.mount}/data/{path} and {self.mount}/metadata/{path}"
            return f"{what}: permission denied ({remote}). Grant the token's policy {grant}"
        if isinstance(exc, hvac.exceptions.Unauthorized):
            return f"{what}: the credentials were rejected. Check VAULT_TOKEN or the login settings"
        if isinstance(exc, hvac.exceptions.InvalidRequest) and "check-and-set" in remote:
            return (
                f"{what}: someone else wrote it since our last write (check-and-set). "
                "Run `pulumi refresh` to see the change, then `pulumi up`"
            )
        if isinstance(exc, hvac.exceptions.InvalidRequest):
            return f"{what}: {remote}"
        return f"{what}: {type(exc).__name__}: {remote}"


def _remote(exc: hvac.exceptions.VaultError) -> str:
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list) and errors:
        return remote_text("; ".join(str(e) for e in errors))
    return remote_text(str(exc).split(", on ")[0])
