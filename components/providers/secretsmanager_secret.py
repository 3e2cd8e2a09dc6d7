"""SecretsManagerSecret: the connector's credentials as one AWS Secrets Manager secret (a JSON document).

Ownership lives in the secret's tags (managed-by, pulumi-stack, connector, writer). A secret that another stack
or tool owns is never overwritten. `writer` is this resource's ID: on a replacement the new resource claims the
secret first, so the old one's delete sees it is no longer the writer and leaves the value alone. State keeps
the version id and a salted HMAC of the payload, never the payload (the input is a secret input).

Every write carries a ClientRequestToken derived from (resource ID, payload digest, version the write is based
on): a retried call, or a rerun after a crash, returns the version already written instead of adding one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
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
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .. import ownership
from ..clients.secretsmanager import DEFAULT_KMS_KEY, SecretDescription, SecretsManagerClient, SecretsManagerError
from ..digests import digest
from ..ownership import KEYS as OWNERSHIP_KEYS
from ..secret_store import SecretsManagerStore
from ..urls import check_http_url
from .base import PlainProvider, ProviderResource, check_inputs, comparable

MAX_TAGS = 50  # per secret, AWS quota
NAME_RE = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
# Fixed namespace for ClientRequestTokens (uuid5 of writer/digest/base version): stable across runs and hosts.
TOKEN_NAMESPACE = uuid.UUID("8a0c5d2e-3f5b-4c0e-9a51-6b7f4e2d1c90")


class _SecretSettings(BaseModel):
    """Inputs that go to state as they are (everything but the payload)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    connector: str
    owner: str  # "<project>/<stack>": who may write this secret
    name: str
    region: str | None = None
    endpoint_url: str | None = None
    kms_key_id: str | None = None
    description: str | None = Field(default=None, max_length=2048)
    tags: dict[str, str] = Field(default_factory=dict)
    recovery_window_days: int = Field(default=30, ge=7, le=30)
    force_delete: bool = False
    restore_if_deleted: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(f"{value!r} is not a Secrets Manager secret name: use 1-512 letters, digits and /_+=.@-")
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return check_http_url(value).rstrip("/")

    @field_validator("tags", mode="before")
    @classmethod
    def _no_tags(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = sorted(k for k in value if k in OWNERSHIP_KEYS or k.lower().startswith("aws:"))
        if reserved:
            raise ValueError(f"tag keys {reserved} are reserved (ownership tags, aws: prefix)")
        if len(value) > MAX_TAGS - len(OWNERSHIP_KEYS):
            raise ValueError(f"at most {MAX_TAGS - len(OWNERSHIP_KEYS)} tags: AWS allows {MAX_TAGS} per secret")
        too_long = sorted(k for k, v in value.items() if not 1 <= len(k) <= 128 or len(v) > 256)
        if too_long:
            raise ValueError(f"tags {too_long}: keys must be 1-128 characters, values at most 256")
        return value


class SecretsManagerSecretProps(_SecretSettings):
    """What create/update receive: the settings plus the payload."""

    data: dict[str, Any]


class SecretsManagerSecretState(_SecretSettings):
    """What state holds (create/update outputs): the settings, where the value is, and its digest."""

    arn: str | None = None
    version_id: str | None = None
    salt: str
    digest: str


class SecretsManagerSecretArgs:
    def __init__(
        self,
        *,
        connector: pulumi.Input[str],
        owner: pulumi.Input[str],
        name: pulumi.Input[str],
        data: pulumi.Input[dict[str, Any]],
        region: pulumi.Input[str] | None = None,
        endpoint_url: pulumi.Input[str] | None = None,
        kms_key_id: pulumi.Input[str] | None = None,
        description: pulumi.Input[str] | None = None,
        tags: pulumi.Input[dict[str, str]] | None = None,
        recovery_window_days: pulumi.Input[int] = 30,
        force_delete: pulumi.Input[bool] = False,
        restore_if_deleted: pulumi.Input[bool] = False,
    ) -> None:
        self.props: dict[str, Any] = {
            "connector": connector,
            "owner": owner,
            "name": name,
            "region": region,
            "endpoint_url": endpoint_url,
            "kms_key_id": kms_key_id,
            "description": description,
            "tags": tags or {},
            "data": pulumi.Output.secret(data),
            "recovery_window_days": recovery_window_days,
            "force_delete": force_delete,
            "restore_if_deleted": restore_if_deleted,
        }


def payload(data: dict[str, Any]) -> str:
    """The SecretString: canonical JSON, so the same data is the same string (and the same token replays)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def remote_digest(salt: str, value: str) -> str:
    """Digest of a value read back: equal to `digest` for any JSON spelling of the same object."""
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return digest(salt, parsed)
    return hmac.new(bytes.fromhex(salt), value.encode(), hashlib.sha256).hexdigest()


def request_token(writer: str, data_digest: str, base_version: str | None) -> str:
    """ClientRequestToken (becomes the VersionId): a replay of the same write returns the same version.

    The version the write is based on is part of it, so writing a value back after someone changed it (drift
    repair) is a new version rather than a replay of our earlier one, which would move no label.
    """
    return str(uuid.uuid5(TOKEN_NAMESPACE, f"{writer}/{data_digest}/{base_version or ''}"))


def _client(p: _SecretSettings) -> SecretsManagerClient:
    return SecretsManagerStore(name=p.name, region=p.region, endpoint_url=p.endpoint_url).client()


class SecretsManagerSecretProvider(PlainProvider):
    """Holds no credentials: boto3 resolves them from the environment inside each method."""

    IDENTITY = ("name", "region", "endpoint_url")
    REMOTE = ("connector", "owner", "kms_key_id", "description", "tags")  # change tags or metadata remotely
    STATE_ONLY = ("recovery_window_days", "force_delete", "restore_if_deleted")  # used by later calls only

    def check(self, _olds: Any, news: Any) -> CheckResult:
        return check_inputs(SecretsManagerSecretProps, news)

    def diff(self, _id: str, olds: Any, news: Any) -> DiffResult:
        old, new = comparable(_SecretSettings, olds), comparable(_SecretSettings, news)
        replaces = [k for k in self.IDENTITY if old[k] != new[k]]
        changed = replaces + [k for k in (*self.REMOTE, *self.STATE_ONLY) if old[k] != new[k]]
        if pulumi.contains_unknowns(news.get("data")) or olds.get("digest") != digest(olds["salt"], news["data"]):
            changed.append("data")
        return DiffResult(changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False)

    def create(self, props: Any) -> CreateResult:
        p = SecretsManagerSecretProps.model_validate(props)
        writer = uuid.uuid4().hex
        salt = secrets.token_hex(16)
        data_digest = digest(salt, p.data)
        sm = _client(p)
        found = sm.describe_secret(p.name)
        if found is None:
            arn, version = sm.create_secret(
                p.name,
                payload(p.data),
                client_request_token=request_token(writer, data_digest, None),
                kms_key_id=p.kms_key_id,
                description=p.description,
                tags=self._tags(p, writer),
            )
        else:
            arn, version = found.arn, self._adopt(sm, p, found, writer, salt)
        return CreateResult(writer, self._outs(p, arn=arn, version_id=version, salt=salt, digest=data_digest))

    def update(self, id_: str, olds: Any, news: Any) -> UpdateResult:
        p = SecretsManagerSecretProps.model_validate(news)
        old = SecretsManagerSecretState.model_validate(olds)
        data_digest = digest(old.salt, p.data)
        remote = [k for k in self.REMOTE if getattr(old, k) != getattr(p, k)]
        if not remote and old.digest == data_digest:
            # only settings that later calls read (delete policy, restore): no API call
            return UpdateResult(
                self._outs(p, arn=old.arn, version_id=old.version_id, salt=old.salt, digest=data_digest)
            )
        sm = _client(p)
        found = sm.describe_secret(p.name)
        if found is None:
            raise SecretsManagerError(
                f"{sm.where(p.name)} no longer exists (deleted outside Pulumi?). Run `pulumi refresh`, then "
                "`pulumi up` creates it again"
            )
        self._require_owner(sm, p, found, writer=id_)
        token = request_token(id_, data_digest, old.version_id)
        if old.digest != data_digest and found.current_version_id not in (old.version_id, token):
            # Vault's check-and-set, by hand: AWSCURRENT moved since our last write (or refresh), and not to the
            # version a crashed run of this very write made. Overwriting would bury someone's change silently.
            raise SecretsManagerError(
                f"{sm.where(p.name)} was changed outside Pulumi since our last write (AWSCURRENT is version "
                f"{found.current_version_id}, not {old.version_id}). Run `pulumi refresh` to see the change, "
                "then `pulumi up`"
            )
        if found.scheduled_for_deletion:
            self._restore_or_refuse(sm, p, found)
        sm.tag_resource(found.arn, self._tags(p, id_))
        sm.untag_resource(found.arn, [k for k in old.tags if k not in p.tags])
        sm.update_secret(
            found.arn,
            kms_key_id=(p.kms_key_id or DEFAULT_KMS_KEY) if p.kms_key_id != old.kms_key_id else None,
            description=(p.description or "") if p.description != old.description else None,
        )
        version = old.version_id
        if old.digest != data_digest:
            version = self._stage_then_promote(sm, found, payload(p.data), token, old.salt, data_digest)
        return UpdateResult(self._outs(p, arn=found.arn, version_id=version, salt=old.salt, digest=data_digest))

    @staticmethod
    def _stage_then_promote(
        sm: SecretsManagerClient, found: SecretDescription, value: str, token: str, salt: str, data_digest: str
    ) -> str:
        """AWS's rotation order: the new value goes in as AWSPENDING, is read back, then AWSCURRENT moves to it
        (AWS keeps the one it leaves as AWSPREVIOUS). Consumers never read a version that did not read back.
        A rerun after a crash replays the same ClientRequestToken and continues with the same version."""
        version = sm.put_secret_value(found.arn, value, client_request_token=token, stages=["AWSPENDING"])
        staged = sm.get_secret_value(found.arn, version_stage=None, version_id=version)
        if staged is None or not hmac.compare_digest(remote_digest(salt, staged.value), data_digest):
            raise SecretsManagerError(
                f"{sm.where(found.arn)}: the new version {version} (AWSPENDING) did not read back as written; "
                "AWSCURRENT was left on the previous version. Rerun `pulumi up`"
            )
        current = found.current_version_id
        if current != version:
            sm.update_secret_version_stage(
                found.arn, "AWSCURRENT", move_to_version_id=version, remove_from_version_id=current
            )
        # AWSPENDING stays on the version until removed; remove it only if it is still there, so a rerun that
        # finds it already gone goes on
        after = sm.describe_secret(found.arn)
        if after is not None and "AWSPENDING" in after.version_stages.get(version, []):
            sm.update_secret_version_stage(found.arn, "AWSPENDING", remove_from_version_id=version)
        return version

    def read(self, id_: str, props: Any) -> ReadResult:
        """Refresh: report the remote AWSCURRENT version and a digest of its value; gone means gone."""
        s = SecretsManagerSecretState.model_validate(props)
        sm = _client(s)
        found = sm.describe_secret(s.name)
        if found is None or found.scheduled_for_deletion:
            return ReadResult(None, {})  # deleted out of band: the next `up` creates (or restores) it again
        current = sm.get_secret_value(found.arn)
        if current is None:
            return ReadResult(None, {})
        outs = {**props, "arn": found.arn, "version_id": current.version_id}
        return ReadResult(id_, {**outs, "digest": remote_digest(s.salt, current.value)})

    def delete(self, id_: str, props: Any) -> None:
        s = SecretsManagerSecretState.model_validate(props)
        sm = _client(s)
        found = sm.describe_secret(s.name)
        if found is None or found.scheduled_for_deletion or not ownership.Claim.of(found.tags).written_by(id_):
            return  # gone already, or someone else (e.g. our replacement) owns the value now: leave it
        if s.force_delete:
            sm.delete_secret(found.arn, force=True)
        else:
            sm.delete_secret(found.arn, recovery_window_days=s.recovery_window_days)

    # --- helpers ------------------------------------------------------------------------------------------
    def _adopt(
        self, sm: SecretsManagerClient, p: SecretsManagerSecretProps, found: SecretDescription, writer: str, salt: str
    ) -> str:
        """Take over a secret this stack's connector already owns (replacement, rerun after a crash, restore)."""
        self._require_owner(sm, p, found)
        if found.scheduled_for_deletion:
            self._restore_or_refuse(sm, p, found)
        # Claim first: from here the previous resource's delete leaves the secret alone.
        sm.tag_resource(found.arn, self._tags(p, writer))
        sm.update_secret(
            found.arn,
            kms_key_id=p.kms_key_id if p.kms_key_id and p.kms_key_id != found.kms_key_id else None,
            description=p.description if p.description is not None and p.description != found.description else None,
        )
        data_digest = digest(salt, p.data)
        current = sm.get_secret_value(found.arn)
        if current is not None and hmac.compare_digest(remote_digest(salt, current.value), data_digest):
            return current.version_id  # same value already current: no new version
        return sm.put_secret_value(
            found.arn,
            payload(p.data),
            client_request_token=request_token(writer, data_digest, found.current_version_id),
        )

    @staticmethod
    def _restore_or_refuse(sm: SecretsManagerClient, p: _SecretSettings, found: SecretDescription) -> None:
        if not p.restore_if_deleted:
            raise SecretsManagerError(
                f"{sm.where(p.name)} is scheduled for deletion (on {found.deleted_date:%Y-%m-%d}). Restore it "
                f"(aws secretsmanager restore-secret --secret-id {p.name} --region {sm.region}), or set "
                f"restoreIfDeleted for connector {p.connector!r} so that pulumi restores it, or choose another "
                "secret name",
                code="InvalidRequestException",
            )
        sm.restore_secret(found.arn)

    @staticmethod
    def _tags(p: _SecretSettings, writer: str) -> dict[str, str]:
        return {**p.tags, **ownership.tags(p.owner, p.connector, writer)}

    @staticmethod
    def _require_owner(
        sm: SecretsManagerClient, p: _SecretSettings, found: SecretDescription, writer: str | None = None
    ) -> None:
        claim = ownership.Claim.of(found.tags)
        if ownership.decide(claim, owner=p.owner, connector=p.connector, writer=writer).allowed:
            return  # ours: this resource wrote it (a renamed stack or project), or this stack's connector
        raise SecretsManagerError(
            ownership.refusal(
                sm.where(p.name),
                claim,
                owner=p.owner,
                connector=p.connector,
                choose=f"secret name for connector {p.connector!r}",
                note=" (it is scheduled for deletion)" if found.scheduled_for_deletion else "",
            )
        )

    @staticmethod
    def _outs(
        p: SecretsManagerSecretProps, *, arn: str | None, version_id: str | None, salt: str, digest: str
    ) -> dict[str, Any]:
        outs = p.model_dump(exclude={"data"})
        return {**outs, "arn": arn, "version_id": version_id, "salt": salt, "digest": digest}


class SecretsManagerSecret(ProviderResource, module="aws", name="SecretsManagerSecret"):
    """One Secrets Manager secret holding a connector's credentials as JSON."""

    arn: pulumi.Output[str]
    version_id: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, name: str, args: SecretsManagerSecretArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {**args.props, "arn": None, "version_id": None, "salt": None, "digest": None}
        super().__init__(
            SecretsManagerSecretProvider(),
            name,
            props,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["data", "digest"])),
        )
