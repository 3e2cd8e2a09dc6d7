"""Publications: a connector's NON-SECRET config document, published where downstream services read it.

- FilePublication: a pretty JSON file (atomic write, mode 0644);
- SsmParameterPublication: an SSM Parameter Store `String` parameter holding the compact JSON;
- WebhookPublication: an HMAC-signed POST to a receiver (see components/clients/webhook.py for the contract).

Each writes only when the document changed: state keeps the SHA-256 of the canonical JSON (not salted: the
document holds no secret), `diff` compares it with the new document's and answers "no change" without any I/O,
and a changed document (a rotated secret's new `secretRef.version`) is one write or one delivery. A failed write
or delivery raises, so state keeps the old digest and the next `pulumi up` tries again. Whole numbers are
published as ints (the engine turns every number into a float: `"version": 4.0` would otherwise go out).

Ownership, so that nothing is overwritten or removed that this resource did not write:
- SSM: tags managed-by, pulumi-stack, connector, writer, as for Secrets Manager secrets;
- file: the file carries a marker, `"_publishedBy": {"tool": "ctp-credentials", "stack": ..., "writer": ...}`,
  next to the document's own fields. An existing file is overwritten only when it carries our marker for this
  stack and its `name` is this connector (or its writer is this resource); anything else (another tool's file,
  not JSON, another stack's) is refused and left untouched. Consumers must ignore the `_publishedBy` key
  (the SSM value and the webhook body carry the document alone).
`writer` is the resource ID: on a replacement the new resource claims the target first, so the old one's
delete sees it is no longer the writer and leaves it alone. A file is deleted only while it still holds the
document we wrote (our marker and our digest).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import uuid
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator

from .. import ownership
from ..clients.ssm import MAX_VALUE_BYTES, SsmClient, SsmError, Tier
from ..clients.webhook import EVENT_CHANGED, EVENT_DELETED, Delivery, WebhookClient
from ..ownership import MANAGED_BY
from ..publishing import (
    FilePublicationError,
    canonical,
    document_digest,
    integral,
    read_file,
    remove_file,
    text_digest,
    write_file,
)
from ..urls import check_http_url
from .base import PlainProvider, ProviderResource, check_inputs, comparable

MARKER = "_publishedBy"  # the key a published file carries to say who wrote it
SCHEMA_VERSION = 1  # of the "deleted" webhook body
SSM_NAME_RE = re.compile(r"^[A-Za-z0-9_./-]{1,1011}$")
SSM_MAX_LEVELS = 15


def _document_changed(olds: Any, news: Any) -> bool:
    document = news.get("document")
    return bool(pulumi.contains_unknowns(document)) or olds.get("digest") != document_digest(document or {})


def _named(document: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
    """The document must be this connector's; whole numbers as ints (the engine sends every number as a float)."""
    connector = info.data.get("connector")
    if document.get("name") != connector:
        raise ValueError(f"the document's name {document.get('name')!r} is not the connector {connector!r}")
    normalized: dict[str, Any] = integral(document)
    return normalized


# === File ===================================================================================================
class _FileSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    connector: str = Field(min_length=1)
    owner: str = Field(min_length=1)  # "<project>/<stack>": who may write this file
    path: str  # absolute, or relative to the Pulumi project directory (the provider's working directory)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.strip() or "\0" in value:
            raise ValueError("is not a file path")
        if value.endswith(("/", os.sep)) or os.path.basename(value) in (".", ".."):
            raise ValueError("names a directory; give a file path such as out/patchworks.json")
        return value


class FilePublicationProps(_FileSettings):
    document: dict[str, Any]

    @field_validator("document")
    @classmethod
    def _document(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if MARKER in value:
            raise ValueError(f"the key {MARKER!r} is reserved for the publisher's ownership marker")
        return _named(value, info)


class FilePublicationState(_FileSettings):
    absolute_path: str | None = None
    digest: str  # of what the file holds as far as we know (refresh updates it)
    written: str | None = None  # of what we last wrote (refresh keeps it): delete compares with this


class FilePublicationArgs:
    def __init__(
        self,
        *,
        connector: pulumi.Input[str],
        owner: pulumi.Input[str],
        path: pulumi.Input[str],
        document: pulumi.Input[dict[str, Any]],
    ) -> None:
        self.props: dict[str, Any] = {"connector": connector, "owner": owner, "path": path, "document": document}


def render_file(p: FilePublicationProps, writer: str) -> str:
    """The file's text: the document and our marker, pretty, keys sorted, one trailing newline."""
    marker = {"tool": MANAGED_BY, "stack": p.owner, "writer": writer}
    return json.dumps({**p.document, MARKER: marker}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _parse_file(text: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(the document without our marker, the marker); (None, {}) when the text is not a JSON object."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return None, {}
    if not isinstance(parsed, dict):
        return None, {}
    marker = parsed.pop(MARKER, None)
    return parsed, marker if isinstance(marker, dict) and marker.get("tool") == MANAGED_BY else {}


def _file_claim(text: str) -> ownership.Claim:
    """A file's claim: our marker's stack and writer, and the document's `name` as the connector."""
    document, marker = _parse_file(text)
    if document is None or not marker:
        return ownership.Claim()
    return ownership.Claim(MANAGED_BY, marker.get("stack"), document.get("name"), marker.get("writer"))


def file_digest(text: str, writer: str) -> str:
    """The document's digest while the file is ours (our writer's marker), else a digest of the raw text:
    a file someone else took over never looks unchanged."""
    document, marker = _parse_file(text)
    if document is not None and marker.get("writer") == writer:
        return document_digest(document)
    return hashlib.sha256(text.encode()).hexdigest()


class FilePublicationProvider(PlainProvider):
    """No credentials: the file system's permissions are those of the user running pulumi."""

    IDENTITY = ("path",)

    def check(self, _olds: Any, news: Any) -> CheckResult:
        return check_inputs(FilePublicationProps, news)

    def diff(self, _id: str, olds: Any, news: Any) -> DiffResult:
        old, new = comparable(_FileSettings, olds), comparable(_FileSettings, news)
        replaces = [k for k in self.IDENTITY if old[k] != new[k]]
        changed = replaces + [k for k in ("connector", "owner") if old[k] != new[k]]
        if _document_changed(olds, news):
            changed.append("document")
        return DiffResult(changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False)

    def create(self, props: Any) -> CreateResult:
        p = FilePublicationProps.model_validate(props)
        writer = uuid.uuid4().hex
        found = read_file(p.path)
        if found is not None:
            self._require_owner(p, found, writer=None)
        write_file(p.path, render_file(p, writer))
        return CreateResult(writer, self._outs(p))

    def update(self, id_: str, olds: Any, news: Any) -> UpdateResult:
        p = FilePublicationProps.model_validate(news)
        text = render_file(p, id_)
        found = read_file(p.path)
        if found is not None:
            self._require_owner(p, found, writer=id_)
        if found != text:  # gone, hand-edited, or a new document: write; identical: nothing to do
            write_file(p.path, text)
        return UpdateResult(self._outs(p))

    def read(self, id_: str, props: Any) -> ReadResult:
        """Refresh: a digest of what the file holds now; gone means gone (the next `up` writes it again)."""
        s = FilePublicationState.model_validate(props)
        found = read_file(s.path)
        if found is None:
            return ReadResult(None, {})
        return ReadResult(id_, {**props, "digest": file_digest(found, id_)})

    def delete(self, id_: str, props: Any) -> None:
        s = FilePublicationState.model_validate(props)
        found = read_file(s.path)
        if found is None:
            return
        document, marker = _parse_file(found)
        if document is None or marker.get("writer") != id_:
            return  # someone else's now (e.g. our replacement's): leave it
        if hmac.compare_digest(document_digest(document), s.written or s.digest):
            remove_file(s.path)  # still exactly what we wrote; changed by hand since (refreshed or not): leave it

    @staticmethod
    def _require_owner(p: FilePublicationProps, found: str, *, writer: str | None) -> None:
        claim = _file_claim(found)
        if ownership.decide(claim, owner=p.owner, connector=p.connector, writer=writer).allowed:
            return  # this resource wrote it (connector or stack renamed since), or this stack's connector did
        raise FilePublicationError(
            ownership.refusal(
                f"document file {p.path}",
                claim,
                owner=p.owner,
                connector=p.connector,
                choose=f"path for connector {p.connector!r}, or remove the file",
                who="" if claim.ours else "was not written by this tool (no ctp-credentials marker)",
            )
        )

    @staticmethod
    def _outs(p: FilePublicationProps) -> dict[str, Any]:
        outs = p.model_dump(exclude={"document"})
        written = document_digest(p.document)
        return {**outs, "absolute_path": os.path.abspath(p.path), "digest": written, "written": written}


class FilePublication(ProviderResource, module="publish", name="File"):
    """A connector's config document as a JSON file."""

    path: pulumi.Output[str]
    absolute_path: pulumi.Output[str]
    digest: pulumi.Output[str]

    def __init__(self, name: str, args: FilePublicationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        outs = {"absolute_path": None, "digest": None, "written": None}
        super().__init__(FilePublicationProvider(), name, {**args.props, **outs}, opts)


# === SSM parameter ==========================================================================================
class _SsmSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    connector: str = Field(min_length=1)
    owner: str = Field(min_length=1)  # "<project>/<stack>": who may write this parameter
    name: str
    region: str | None = None
    endpoint_url: str | None = None
    tier: Tier = "Standard"

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SSM_NAME_RE.match(value):
            raise ValueError(f"{value!r} is not an SSM parameter name: use 1-1011 letters, digits and _.-/")
        if "/" in value and not value.startswith("/"):
            raise ValueError(f"{value!r}: a hierarchical parameter name must start with '/'")
        if value.strip("/").lower().startswith(("aws", "ssm")):
            raise ValueError(f"{value!r}: names starting with 'aws' or 'ssm' are reserved by AWS")
        if value.count("/") > SSM_MAX_LEVELS:
            raise ValueError(f"{value!r}: at most {SSM_MAX_LEVELS} levels of hierarchy")
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value).rstrip("/")


class SsmParameterPublicationProps(_SsmSettings):
    document: dict[str, Any]

    @field_validator("document")
    @classmethod
    def _document(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        size = len(canonical(value).encode())
        tier = info.data.get("tier") or "Standard"
        limit = MAX_VALUE_BYTES.get(tier, MAX_VALUE_BYTES["Standard"])
        if size > limit:
            bigger = (
                "set the tier to Advanced (8 KB, charged per parameter) or publish it as a file or webhook"
                if tier == "Standard"
                else "publish it as a file or webhook instead"
            )
            raise ValueError(f"the document is {size} bytes; a {tier} SSM parameter holds at most {limit}: {bigger}")
        return _named(value, info)


class SsmParameterPublicationState(_SsmSettings):
    version: int | None = None
    digest: str


class SsmParameterPublicationArgs:
    def __init__(
        self,
        *,
        connector: pulumi.Input[str],
        owner: pulumi.Input[str],
        name: pulumi.Input[str],
        document: pulumi.Input[dict[str, Any]],
        region: pulumi.Input[str] | None = None,
        endpoint_url: pulumi.Input[str] | None = None,
        tier: pulumi.Input[str] = "Standard",
    ) -> None:
        self.props: dict[str, Any] = {
            "connector": connector,
            "owner": owner,
            "name": name,
            "document": document,
            "region": region,
            "endpoint_url": endpoint_url,
            "tier": tier,
        }


def _ssm(p: _SsmSettings) -> SsmClient:
    return SsmClient(region=p.region, endpoint_url=p.endpoint_url)


class SsmParameterPublicationProvider(PlainProvider):
    """Holds no credentials: boto3 resolves them from the environment inside each method."""

    IDENTITY = ("name", "region", "endpoint_url")
    REMOTE = ("connector", "owner", "tier")

    def check(self, _olds: Any, news: Any) -> CheckResult:
        return check_inputs(SsmParameterPublicationProps, news)

    def diff(self, _id: str, olds: Any, news: Any) -> DiffResult:
        old, new = comparable(_SsmSettings, olds), comparable(_SsmSettings, news)
        # State from before the program resolved the region holds None (then: the environment's region, the
        # same one it resolves now); recording it is an update, not a move.
        unrecorded = old["region"] is None and new["region"] is not None
        replaces = [k for k in self.IDENTITY if old[k] != new[k] and not (k == "region" and unrecorded)]
        changed = replaces + [k for k in self.REMOTE if old[k] != new[k]] + (["region"] if unrecorded else [])
        if _document_changed(olds, news):
            changed.append("document")
        return DiffResult(changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False)

    def create(self, props: Any) -> CreateResult:
        p = SsmParameterPublicationProps.model_validate(props)
        writer = uuid.uuid4().hex
        ssm = _ssm(p)
        found = ssm.get_parameter(p.name)
        if found is None:
            version = ssm.put_parameter(
                p.name,
                canonical(p.document),
                overwrite=False,
                tier=p.tier,
                description=self._description(p),
                tags=self._tags(p, writer),
            )
        else:
            self._require_owner(ssm, p, ssm.list_tags_for_resource(p.name) or {}, writer=None)
            # Claim first: from here the previous resource's delete leaves the parameter alone.
            ssm.add_tags_to_resource(p.name, self._tags(p, writer))
            version = self._write(ssm, p, found.value, found.type, found.version, force=False)
        return CreateResult(writer, self._outs(p, version))

    def update(self, id_: str, olds: Any, news: Any) -> UpdateResult:
        p = SsmParameterPublicationProps.model_validate(news)
        old = SsmParameterPublicationState.model_validate(olds)
        digest = document_digest(p.document)
        if old.digest == digest and all(getattr(old, k) == getattr(p, k) for k in self.REMOTE):
            return UpdateResult(self._outs(p, old.version))  # nothing remote to change: no API call
        ssm = _ssm(p)
        found = ssm.get_parameter(p.name)
        if found is None:  # deleted out of band (and no refresh since): write it again
            version = ssm.put_parameter(
                p.name,
                canonical(p.document),
                overwrite=False,
                tier=p.tier,
                description=self._description(p),
                tags=self._tags(p, id_),
            )
            return UpdateResult(self._outs(p, version))
        tags = ssm.list_tags_for_resource(p.name) or {}
        self._require_owner(ssm, p, tags, writer=id_)
        ownership = self._tags(p, id_)
        if any(tags.get(k) != v for k, v in ownership.items()):
            ssm.add_tags_to_resource(p.name, ownership)
        version = self._write(ssm, p, found.value, found.type, found.version, force=p.tier != old.tier)
        return UpdateResult(self._outs(p, version))

    def read(self, id_: str, props: Any) -> ReadResult:
        """Refresh: the remote version and a digest of its value; gone means gone."""
        s = SsmParameterPublicationState.model_validate(props)
        found = _ssm(s).get_parameter(s.name)
        if found is None:
            return ReadResult(None, {})  # deleted out of band: the next `up` writes it again
        return ReadResult(id_, {**props, "version": found.version, "digest": text_digest(found.value)})

    def delete(self, id_: str, props: Any) -> None:
        s = SsmParameterPublicationState.model_validate(props)
        ssm = _ssm(s)
        tags = ssm.list_tags_for_resource(s.name)
        if tags is None or not ownership.Claim.of(tags).written_by(id_):
            return  # gone already, or someone else (e.g. our replacement) owns it now: leave it
        ssm.delete_parameter(s.name)

    # --- helpers ------------------------------------------------------------------------------------------
    @staticmethod
    def _write(
        ssm: SsmClient, p: SsmParameterPublicationProps, value: str, type_: str, version: int, *, force: bool
    ) -> int:
        """Overwrite unless the parameter already holds this document (a new version costs an SSM write)."""
        if not force and type_ == "String" and text_digest(value) == document_digest(p.document):
            return version
        return ssm.put_parameter(p.name, canonical(p.document), overwrite=True, tier=p.tier)

    @staticmethod
    def _description(p: _SsmSettings) -> str:
        return f"commercetools API client config of connector {p.connector} (no secret), published by {MANAGED_BY}"

    @staticmethod
    def _tags(p: _SsmSettings, writer: str) -> dict[str, str]:
        return ownership.tags(p.owner, p.connector, writer)

    @staticmethod
    def _require_owner(ssm: SsmClient, p: _SsmSettings, tags: dict[str, str], *, writer: str | None) -> None:
        claim = ownership.Claim.of(tags)
        if ownership.decide(claim, owner=p.owner, connector=p.connector, writer=writer).allowed:
            return  # this resource wrote it (connector or stack renamed since), or this stack's connector did
        raise SsmError(
            ownership.refusal(
                ssm.where(p.name),
                claim,
                owner=p.owner,
                connector=p.connector,
                choose=f"parameter name for connector {p.connector!r}",
            )
        )

    @staticmethod
    def _outs(p: SsmParameterPublicationProps, version: int | None) -> dict[str, Any]:
        outs = p.model_dump(exclude={"document"})
        return {**outs, "version": version, "digest": document_digest(p.document)}


class SsmParameterPublication(ProviderResource, module="publish", name="SsmParameter"):
    """A connector's config document as an SSM String parameter."""

    name: pulumi.Output[str]
    version: pulumi.Output[int]
    digest: pulumi.Output[str]

    def __init__(
        self, name: str, args: SsmParameterPublicationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {**args.props, "version": None, "digest": None}
        super().__init__(SsmParameterPublicationProvider(), name, props, opts)


# === Webhook ================================================================================================
class _WebhookSettings(BaseModel):
    # hide_input_in_errors: a validation error must never print the signing key
    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    connector: str = Field(min_length=1)
    url: str
    notify_on_delete: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_http_url(value)


class WebhookPublicationProps(_WebhookSettings):
    signing_key: SecretStr = Field(min_length=16)
    document: dict[str, Any]

    @field_validator("document")
    @classmethod
    def _document(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        return _named(value, info)


class WebhookPublicationState(_WebhookSettings):
    signing_key: SecretStr  # kept (as a secret output) because delete signs the "deleted" event
    digest: str
    delivery_id: str | None = None
    delivered_at: str | None = None


class WebhookPublicationArgs:
    def __init__(
        self,
        *,
        connector: pulumi.Input[str],
        url: pulumi.Input[str],
        document: pulumi.Input[dict[str, Any]],
        signing_key: pulumi.Input[str],
        notify_on_delete: pulumi.Input[bool] = True,
    ) -> None:
        self.props: dict[str, Any] = {
            "connector": connector,
            "url": url,
            "document": document,
            "signing_key": pulumi.Output.secret(signing_key),
            "notify_on_delete": notify_on_delete,
        }


def _webhook(url: str) -> WebhookClient:
    """One client per call (tests swap this for one that does not sleep)."""
    return WebhookClient(url)


def _same_key(old: Any, new: Any) -> bool:
    return hmac.compare_digest(str(old or "").encode(), str(new or "").encode())


class WebhookPublicationProvider(PlainProvider):
    """Holds no key: the signing key is a secret input, passed to each call and kept in state as a secret."""

    def check(self, _olds: Any, news: Any) -> CheckResult:
        return check_inputs(WebhookPublicationProps, news)

    def diff(self, _id: str, olds: Any, news: Any) -> DiffResult:
        old, new = comparable(_WebhookSettings, olds), comparable(_WebhookSettings, news)
        # Another connector's "deleted" event must go out for the old name: a new resource, then the old one's delete.
        replaces = ["connector"] if old["connector"] != new["connector"] else []
        changed = replaces + [k for k in ("url", "notify_on_delete") if old[k] != new[k]]
        key = news.get("signing_key")
        if pulumi.contains_unknowns(key) or not _same_key(olds.get("signing_key"), key):
            changed.append("signing_key")
        if _document_changed(olds, news):
            changed.append("document")
        return DiffResult(changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False)

    def create(self, props: Any) -> CreateResult:
        p = WebhookPublicationProps.model_validate(props)
        delivery = self._deliver(p.url, EVENT_CHANGED, canonical(p.document), p.signing_key, p.connector)
        return CreateResult(uuid.uuid4().hex, self._outs(p, delivery.delivery_id, delivery.delivered_at))

    def update(self, _id: str, olds: Any, news: Any) -> UpdateResult:
        p = WebhookPublicationProps.model_validate(news)
        old = WebhookPublicationState.model_validate(olds)
        if old.digest == document_digest(p.document) and old.url == p.url:
            # only the key or the delete setting changed: new state, nothing to send
            return UpdateResult(self._outs(p, old.delivery_id, old.delivered_at))
        # A URL change sends the document to the new receiver; the old one gets no "deleted" event (it may be
        # the same service under a new name, and would then drop the config it just received).
        delivery = self._deliver(p.url, EVENT_CHANGED, canonical(p.document), p.signing_key, p.connector)
        return UpdateResult(self._outs(p, delivery.delivery_id, delivery.delivered_at))

    def read(self, id_: str, props: Any) -> ReadResult:
        """A receiver cannot be observed: refresh keeps the state as it is."""
        return ReadResult(id_, props)

    def delete(self, _id: str, props: Any) -> None:
        s = WebhookPublicationState.model_validate(props)
        if not s.notify_on_delete:
            return
        body = canonical({"schemaVersion": SCHEMA_VERSION, "name": s.connector, "deleted": True})
        self._deliver(s.url, EVENT_DELETED, body, s.signing_key, s.connector)

    @staticmethod
    def _deliver(url: str, event: str, body: str, key: SecretStr, connector: str) -> Delivery:
        with _webhook(url) as hook:
            return hook.deliver(
                event, body.encode(), signing_key=key.get_secret_value(), what=f"connector {connector!r}"
            )

    @staticmethod
    def _outs(p: WebhookPublicationProps, delivery_id: str | None, delivered_at: str | None) -> dict[str, Any]:
        return {
            **p.model_dump(exclude={"document", "signing_key"}),
            "signing_key": p.signing_key.get_secret_value(),  # a secret output (additional_secret_outputs)
            "digest": document_digest(p.document),
            "delivery_id": delivery_id,
            "delivered_at": delivered_at,
        }


class WebhookPublication(ProviderResource, module="publish", name="Webhook"):
    """A connector's config document, POSTed (signed) to a receiver whenever it changes."""

    url: pulumi.Output[str]
    digest: pulumi.Output[str]
    delivery_id: pulumi.Output[str]
    delivered_at: pulumi.Output[str]

    def __init__(self, name: str, args: WebhookPublicationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {**args.props, "digest": None, "delivery_id": None, "delivered_at": None}
        super().__init__(
            WebhookPublicationProvider(),
            name,
            props,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["signing_key"])),
        )
