"""VaultKvSecret: the connector's credentials as one KV v2 secret, written with check-and-set.

Ownership lives in the path's custom_metadata (managed-by, stack, connector, writer). A path that another
stack or tool owns is never overwritten. `writer` is this resource's ID: on a replacement the new resource
claims the path first, so the old one's delete sees it is no longer the writer and leaves the value alone.
State keeps the version and a salted HMAC of the payload, never the payload (the input is a secret input).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from typing import Any, Literal

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)
from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import VaultError
from ..vault import VaultClient

MANAGED_BY = "ctp-credentials"
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
        }


def digest(salt: str, data: dict[str, Any]) -> str:
    """Salted HMAC of the canonical payload: tells 'changed or not' without keeping the secret."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(bytes.fromhex(salt), canonical, hashlib.sha256).hexdigest()


def _client(p: VaultKvSecretProps) -> VaultClient:
    return VaultClient(address=p.address, namespace=p.namespace, mount=p.mount)


class VaultKvSecretProvider(ResourceProvider):
    """Holds no credentials: the Vault token is read from the environment inside each method."""

    IDENTITY = ("address", "namespace", "mount", "path")

    def check(self, _olds: Any, news: Any) -> CheckResult:
        if pulumi.contains_unknowns(news):
            return CheckResult(news, [])
        try:
            VaultKvSecretProps.model_validate(news)
        except ValidationError as exc:
            return CheckResult(news, [CheckFailure(str(e["loc"][0]), e["msg"]) for e in exc.errors()])
        return CheckResult(news, [])

    def diff(self, _id: str, olds: Any, news: Any) -> DiffResult:
        replaces = [k for k in self.IDENTITY if olds.get(k) != news.get(k)]
        changed = list(replaces)
        if olds.get("delete_policy") != news.get("delete_policy") or olds.get("connector") != news.get("connector"):
            changed.append("delete_policy")
        if pulumi.contains_unknowns(news.get("data")) or olds.get("digest") != digest(olds["salt"], news["data"]):
            changed.append("data")
        return DiffResult(changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False)

    def create(self, props: Any) -> CreateResult:
        p = VaultKvSecretProps.model_validate(props)
        writer = uuid.uuid4().hex
        vault = _client(p)
        meta = vault.read_secret_metadata(p.path)
        if meta is not None:
            self._require_owner(vault, p, meta.custom_metadata)
        # Claim first: a crash between the two calls leaves a path we own and a rerun continues from it.
        vault.update_metadata(p.path, self._ownership(p, writer))
        version = vault.create_or_update_secret(p.path, p.data, cas=meta.current_version if meta else 0)
        salt = secrets.token_hex(16)
        return CreateResult(writer, self._outs(p, version=version, salt=salt, digest=digest(salt, p.data)))

    def update(self, id_: str, olds: Any, news: Any) -> UpdateResult:
        p = VaultKvSecretProps.model_validate(news)
        vault = _client(p)
        meta = vault.read_secret_metadata(p.path)
        if meta is not None:
            self._require_owner(vault, p, meta.custom_metadata)
        salt = olds["salt"]
        version = int(olds["version"])
        if olds.get("digest") != digest(salt, p.data):
            # cas = the version we last wrote (or saw at refresh): a concurrent writer makes this fail loudly.
            version = vault.create_or_update_secret(p.path, p.data, cas=version)
        vault.update_metadata(p.path, self._ownership(p, id_))
        return UpdateResult(self._outs(p, version=version, salt=salt, digest=digest(salt, p.data)))

    def read(self, id_: str, props: Any) -> ReadResult:
        """Refresh: report the remote version and a digest of the remote value; gone means gone."""
        vault = VaultClient(address=props["address"], namespace=props.get("namespace"), mount=props["mount"])
        current = vault.read_secret_version(props["path"])
        if current is None:
            return ReadResult(None, {})  # deleted out of band: the next `up` writes it again
        return ReadResult(id_, {**props, "version": current.version, "digest": digest(props["salt"], current.data)})

    def delete(self, id_: str, props: Any) -> None:
        policy = props.get("delete_policy", "delete")
        if policy == "keep":
            return
        vault = VaultClient(address=props["address"], namespace=props.get("namespace"), mount=props["mount"])
        meta = vault.read_secret_metadata(props["path"])
        if meta is None or meta.custom_metadata.get("writer") != id_:
            return  # someone else (e.g. our replacement) owns the value now: leave it
        if policy == "destroy":
            vault.delete_metadata_and_all_versions(props["path"])
        elif meta.current_version and not meta.deleted.get(meta.current_version, False):
            vault.delete_secret_versions(props["path"], [meta.current_version])

    @staticmethod
    def _ownership(p: VaultKvSecretProps, writer: str) -> dict[str, str]:
        return {"managed-by": MANAGED_BY, "pulumi-stack": p.owner, "connector": p.connector, "writer": writer}

    @staticmethod
    def _require_owner(vault: VaultClient, p: VaultKvSecretProps, found: dict[str, str]) -> None:
        mine = found.get("managed-by") == MANAGED_BY and found.get("pulumi-stack") == p.owner
        if not (mine and found.get("connector") == p.connector):
            owner = (
                f"{found.get('pulumi-stack')}/{found.get('connector')}" if found.get("managed-by") else "another tool"
            )
            raise VaultError(
                f"{vault.where(p.path)} already exists and belongs to {owner}, not to connector "
                f"{p.connector!r} of {p.owner}; it is left untouched. Choose another "
                f"connectors.{p.connector}.vault.path"
            )

    @staticmethod
    def _outs(p: VaultKvSecretProps, *, version: int, salt: str, digest: str) -> dict[str, Any]:
        outs = p.model_dump(exclude={"data"})
        return {**outs, "version": version, "salt": salt, "digest": digest}


class VaultKvSecret(Resource, module="vault", name="KvSecret"):
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
