"""VaultKvSecret: the connector's credentials as one KV v2 secret, written with check-and-set.

Ownership lives in the path's custom_metadata (managed-by, stack, connector, writer). A path that another
stack or tool owns is never overwritten. `writer` is this resource's ID: on a replacement the new resource
claims the path first, so the old one's delete sees it is no longer the writer and leaves the value alone.
State keeps the version and a salted HMAC of the payload, never the payload (the input is a secret input).
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from typing import Any, Literal

import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)
from pydantic import BaseModel, ConfigDict

from .. import ownership
from ..clients.vault import VaultClient
from ..digests import digest
from ..errors import VaultError
from ..location import VAULT_KEYS
from ..naming import setting
from ..secret_store import VaultKvStore
from ..urls import canonical_url
from .base import PlainProvider, ProviderResource, check_inputs, comparable

DeletePolicy = Literal["keep", "delete", "destroy"]


class VaultKvSecretProps(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    connector: str
    owner: str  # "<project>/<stack>": who may write this path
    address: str
    namespace: str | None = None
    mount: str
    path: str
    data: dict[str, Any]
    delete_policy: DeletePolicy = "delete"
    kv_version: Literal[1, 2] = 2
    adopt: bool = False


class VaultKvSecretArgs:
    def __init__(
        self,
        *,
        connector: pulumi.Input[str],
        owner: pulumi.Input[str],
        address: pulumi.Input[str],
        mount: pulumi.Input[str],
        path: pulumi.Input[str],
        data: pulumi.Input[dict[str, Any]],
        namespace: pulumi.Input[str] | None = None,
        delete_policy: pulumi.Input[str] = "delete",
        kv_version: pulumi.Input[int] = 2,
        adopt: pulumi.Input[bool] = False,
    ) -> None:
        self.props: dict[str, Any] = {
            "connector": connector,
            "owner": owner,
            "address": address,
            "namespace": namespace,
            "mount": mount,
            "path": path,
            "data": pulumi.Output.secret(data),
            "delete_policy": delete_policy,
            "kv_version": kv_version,
            "adopt": adopt,
        }


def _client(p: Any) -> VaultClient:
    """Works on validated props and on raw state (read/delete get outputs, which carry the same keys)."""
    settings = p if isinstance(p, dict) else {k: getattr(p, k, None) for k in VAULT_KEYS}
    return VaultKvStore.of(settings).client()


class VaultKvSecretProvider(PlainProvider):
    """Holds no credentials: the Vault token is read from the environment inside each method."""

    IDENTITY = ("address", "namespace", "mount", "path", "kv_version")

    def check(self, _olds: Any, news: Any) -> CheckResult:
        return check_inputs(VaultKvSecretProps, news)

    def diff(self, _id: str, olds: Any, news: Any) -> DiffResult:
        old, new = comparable(VaultKvSecretProps, olds), comparable(VaultKvSecretProps, news)
        moved = [k for k in self.IDENTITY if old[k] != new[k]]
        if "address" in moved and canonical_url(old["address"]) == canonical_url(new["address"]):
            moved.remove("address")  # the same server spelled another way (older state recorded it as typed)
        replaces = moved
        if int(new["kv_version"]) == 1 and set(moved) <= {"address", "namespace"}:
            # KV v1 records no owner: replacing would let the old resource's delete remove the value the new
            # one found in place when both names reach one server (a trailing '/', localhost vs 127.0.0.1).
            # An update writes at the new address and leaves the old one alone.
            replaces = []
        # owner too: after a stack or project rename the ownership metadata must follow (see _require_owner)
        changed = moved + [k for k in ("delete_policy", "connector", "adopt", "owner") if old[k] != new[k]]
        if pulumi.contains_unknowns(news.get("data")) or olds.get("digest") != digest(olds["salt"], news["data"]):
            changed.append("data")
        return DiffResult(changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False)

    def create(self, props: Any) -> CreateResult:
        p = VaultKvSecretProps.model_validate(props)
        writer = uuid.uuid4().hex
        salt = secrets.token_hex(16)
        vault = _client(p)
        if p.kv_version == 1:
            return CreateResult(
                writer, self._outs(p, version=self._create_v1(vault, p), salt=salt, digest=digest(salt, p.data))
            )
        meta = vault.read_secret_metadata(p.path)
        if meta is not None:
            self._require_owner(vault, p, meta.custom_metadata)
        # Claim first: a crash between the two calls leaves a path we own and a rerun continues from it.
        vault.update_metadata(p.path, self._ownership(p, writer))
        try:
            version = vault.create_or_update_secret(p.path, p.data, cas=meta.current_version if meta else 0)
        except VaultError:
            if meta is not None:  # a failed replacement: hand the value back to the resource still in state
                with contextlib.suppress(VaultError):
                    vault.update_metadata(p.path, meta.custom_metadata)
            raise
        return CreateResult(writer, self._outs(p, version=version, salt=salt, digest=digest(salt, p.data)))

    @staticmethod
    def _create_v1(vault: VaultClient, p: VaultKvSecretProps) -> int:
        """KV v1 has no metadata: a path is ours only if it holds exactly our value (a rerun after a crash)."""
        found = vault.read_secret(p.path)
        if found is not None and found.data != p.data and not p.adopt:
            raise VaultError(
                f"{vault.where(p.path)} already holds a value, and KV v1 cannot record who owns it; it is left "
                f"untouched. Choose another {setting(p.connector, 'vault.path')}, or set "
                f"{setting(p.connector, 'vault.adopt')}: true to take it over"
            )
        if found is None or found.data != p.data:
            vault.write_secret(p.path, p.data)
        return 0

    def update(self, id_: str, olds: Any, news: Any) -> UpdateResult:
        p = VaultKvSecretProps.model_validate(news)
        vault = _client(p)
        salt = olds["salt"]
        version = int(olds["version"])
        changed = olds.get("digest") != digest(salt, p.data)
        if p.kv_version == 1:
            if any(olds.get(k) != getattr(p, k) for k in ("address", "namespace")):
                self._create_v1(vault, p)  # another server (or the same by another name): as a create does
                return UpdateResult(self._outs(p, version=0, salt=salt, digest=digest(salt, p.data)))
            if changed:
                found = vault.read_secret(p.path)
                if found is not None and digest(salt, found.data) != olds.get("digest"):
                    # v1 has no check-and-set: compare with what we last wrote or saw before overwriting
                    raise VaultError(
                        f"{vault.where(p.path)} was changed since our last write. Run `pulumi refresh` to see "
                        "the change, then `pulumi up`"
                    )
                vault.write_secret(p.path, p.data)
            return UpdateResult(self._outs(p, version=0, salt=salt, digest=digest(salt, p.data)))
        meta = vault.read_secret_metadata(p.path)
        if meta is not None:
            self._require_owner(vault, p, meta.custom_metadata, writer=id_)
        if changed:
            # cas = the version we last wrote (or saw at refresh): a concurrent writer makes this fail loudly.
            version = vault.create_or_update_secret(p.path, p.data, cas=version)
        vault.update_metadata(p.path, self._ownership(p, id_))
        return UpdateResult(self._outs(p, version=version, salt=salt, digest=digest(salt, p.data)))

    def read(self, id_: str, props: Any) -> ReadResult:
        """Refresh: report the remote version and a digest of the remote value; gone means gone."""
        vault = _client(props)
        v1 = int(props.get("kv_version", 2)) == 1
        current = vault.read_secret(props["path"]) if v1 else vault.read_secret_version(props["path"])
        if current is None:
            return ReadResult(None, {})  # deleted out of band: the next `up` writes it again
        return ReadResult(id_, {**props, "version": current.version, "digest": digest(props["salt"], current.data)})

    def delete(self, id_: str, props: Any) -> None:
        policy = props.get("delete_policy", "delete")
        if policy == "keep":
            return
        vault = _client(props)
        if int(props.get("kv_version", 2)) == 1:
            found = vault.read_secret(props["path"])
            if found is not None and digest(props["salt"], found.data) == props.get("digest"):
                vault.delete_secret(props["path"])  # only while it still holds what we wrote
            return
        meta = vault.read_secret_metadata(props["path"])
        if meta is None or not ownership.Claim.of(meta.custom_metadata).written_by(id_):
            return  # someone else (e.g. our replacement) owns the value now: leave it
        if policy == "destroy":
            vault.delete_metadata_and_all_versions(props["path"])
        elif meta.current_version and not meta.deleted.get(meta.current_version, False):
            vault.delete_secret_versions(props["path"], [meta.current_version])

    @staticmethod
    def _ownership(p: VaultKvSecretProps, writer: str) -> dict[str, str]:
        return ownership.tags(p.owner, p.connector, writer)

    @staticmethod
    def _require_owner(
        vault: VaultClient, p: VaultKvSecretProps, found: dict[str, str], writer: str | None = None
    ) -> None:
        claim = ownership.Claim.of(found)
        verdict = ownership.decide(claim, owner=p.owner, connector=p.connector, writer=writer, adopt=p.adopt)
        if verdict.allowed:
            return  # ours (this resource, or this stack's connector), or a value nobody claimed, adopted
        adopt = (
            f", or set {setting(p.connector, 'vault.adopt')}: true to take it over"
            if verdict is ownership.Verdict.UNCLAIMED
            else ""
        )
        raise VaultError(
            ownership.refusal(
                vault.where(p.path),
                claim,
                owner=p.owner,
                connector=p.connector,
                choose=setting(p.connector, "vault.path"),
            )
            + adopt
        )

    @staticmethod
    def _outs(p: VaultKvSecretProps, *, version: int, salt: str, digest: str) -> dict[str, Any]:
        outs = p.model_dump(exclude={"data"})
        return {**outs, "version": version, "salt": salt, "digest": digest}


class VaultKvSecret(ProviderResource, module="vault", name="KvSecret"):
    """One KV v2 secret holding a connector's credentials."""

    version: pulumi.Output[int]
    path: pulumi.Output[str]

    def __init__(self, name: str, args: VaultKvSecretArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {**args.props, "version": None, "salt": None, "digest": None}
        super().__init__(
            VaultKvSecretProvider(),
            name,
            props,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["data", "digest"])),
        )
