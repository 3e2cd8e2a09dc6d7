"""A small AWS Secrets Manager client over boto3, with errors that name the secret, the IAM action and the fix.

Credentials come only from the default AWS chain (environment, shared profile, web identity, instance role),
resolved when a client is built inside each provider method: never arguments, never stack config, never kept on
a provider object. Region and endpoint come from the arguments (stack config) or else the environment
(AWS_REGION / AWS_DEFAULT_REGION; botocore itself honours AWS_ENDPOINT_URL_SECRETS_MANAGER, with an underscore
between the words of the service id "Secrets Manager", and AWS_ENDPOINT_URL).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from ..errors import SecretStoreError, remote_text

MAX_RETRIES = 5  # botocore "standard" mode: throttling, 5xx and connection errors, with jittered backoff
MAX_ATTEMPTS = MAX_RETRIES + 1  # Config's `max_attempts` counts retries; `total_max_attempts` would count all
CONNECT_TIMEOUT = 5  # seconds
READ_TIMEOUT = 10  # seconds; botocore's default of 60 makes a black-holed endpoint look like a hang
CURRENT = "AWSCURRENT"
DEFAULT_KMS_KEY = "alias/aws/secretsmanager"  # the AWS managed key Secrets Manager uses when none is given

THROTTLING = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
KMS_CODES = {"EncryptionFailure", "DecryptionFailure", "KMSInvalidStateException", "KMSAccessDeniedException"}
REJECTED_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "InvalidClientTokenId",
}
SCHEDULED_RE = re.compile(r"scheduled for deletion|marked for deletion|marked deleted", re.IGNORECASE)


class SecretsManagerError(SecretStoreError):
    """AWS Secrets Manager refused or failed an operation, or could not be reached.

    `code` is the remote error code (e.g. "AccessDeniedException") when AWS answered, else None.
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SecretDescription:
    """DescribeSecret: metadata only, no value."""

    arn: str
    name: str
    tags: dict[str, str]
    # version id -> its staging labels (AWSCURRENT, AWSPREVIOUS, AWSPENDING, custom)
    version_stages: dict[str, list[str]]
    deleted_date: datetime | None  # set while the secret is scheduled for deletion (restorable)
    kms_key_id: str | None  # None: the AWS managed key aws/secretsmanager
    description: str | None

    @property
    def scheduled_for_deletion(self) -> bool:
        return self.deleted_date is not None

    @property
    def current_version_id(self) -> str | None:
        return next((v for v, stages in self.version_stages.items() if CURRENT in stages), None)


@dataclass(frozen=True)
class SecretValue:
    """One version of a secret. The value never shows in repr."""

    value: str = field(repr=False)
    version_id: str
    version_stages: list[str]
    arn: str


class SecretsManagerClient:
    """Secrets Manager verbs in one region, named after the API actions."""

    def __init__(self, *, region: str | None = None, endpoint_url: str | None = None) -> None:
        try:
            self._client = boto_client(
                "secretsmanager", region, endpoint_url, region_setting="the connector's secretsManager.region"
            )
        except ValueError as exc:
            raise SecretsManagerError(f"Secrets Manager: {exc}") from None
        self.region: str = self._client.meta.region_name
        self.endpoint_url: str = self._client.meta.endpoint_url

    def __repr__(self) -> str:
        return f"SecretsManagerClient(region={self.region!r}, endpoint_url={self.endpoint_url!r})"

    def where(self, secret_id: str) -> str:
        return f"Secrets Manager secret {secret_id} ({self.region}, {self.endpoint_url})"

    # --- secrets ------------------------------------------------------------------------------------------
    def describe_secret(self, secret_id: str) -> SecretDescription | None:
        """Metadata of a secret (also while it is scheduled for deletion), or None when there is none."""
        with self._errors(secret_id, "describe"):
            try:
                body = self._client.describe_secret(SecretId=secret_id)
            except self._client.exceptions.ResourceNotFoundException:
                return None
        return SecretDescription(
            arn=body["ARN"],
            name=body["Name"],
            tags={t["Key"]: t["Value"] for t in body.get("Tags") or []},
            version_stages={k: list(v) for k, v in (body.get("VersionIdsToStages") or {}).items()},
            deleted_date=body.get("DeletedDate"),
            kms_key_id=body.get("KmsKeyId"),
            description=body.get("Description"),
        )

    def create_secret(
        self,
        name: str,
        value: str,
        *,
        client_request_token: str,
        kms_key_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> tuple[str, str]:
        """Create the secret with its first version (AWSCURRENT). Returns (arn, version id).

        The same token with the same value again returns the existing version instead of failing.
        """
        kwargs: dict[str, Any] = {"Name": name, "SecretString": value, "ClientRequestToken": client_request_token}
        if kms_key_id:
            kwargs["KmsKeyId"] = kms_key_id
        if description is not None:
            kwargs["Description"] = description
        if tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        try:
            with self._errors(name, "create", kms_key_id=kms_key_id, value=value):
                body = self._client.create_secret(**kwargs)
        except SecretsManagerError as exc:
            # AWS answers InvalidRequestException for a name scheduled for deletion; moto answers
            # ResourceExistsException with no hint. Look, so both read the same.
            found = self.describe_secret(name) if exc.code == "ResourceExistsException" else None
            if found is not None and found.scheduled_for_deletion:
                raise self._scheduled(name, "create", exc.code) from None
            raise
        return str(body["ARN"]), str(body["VersionId"])

    def put_secret_value(
        self, secret_id: str, value: str, *, client_request_token: str, stages: list[str] | None = None
    ) -> str:
        """Add a version (default label AWSCURRENT, which moves AWSPREVIOUS). Returns its version id.

        Idempotent per token: the same token with the same value returns that version and moves no label.
        """
        kwargs: dict[str, Any] = {
            "SecretId": secret_id,
            "SecretString": value,
            "ClientRequestToken": client_request_token,
        }
        if stages is not None:
            kwargs["VersionStages"] = stages
        with self._errors(secret_id, "write a new version of", value=value):
            body = self._client.put_secret_value(**kwargs)
        return str(body["VersionId"])

    def get_secret_value(
        self, secret_id: str, version_stage: str | None = CURRENT, *, version_id: str | None = None
    ) -> SecretValue | None:
        """The version with that label (or id), or None when the secret or that version does not exist.

        By id alone: pass version_stage=None (AWS refuses a stage that is not on that version).
        """
        kwargs: dict[str, Any] = {"SecretId": secret_id}
        if version_id:
            kwargs["VersionId"] = version_id
        if version_stage:
            kwargs["VersionStage"] = version_stage
        with self._errors(secret_id, "read"):
            try:
                body = self._client.get_secret_value(**kwargs)
            except self._client.exceptions.ResourceNotFoundException:
                return None
        if "SecretString" not in body:
            raise SecretsManagerError(
                f"{self.where(secret_id)} holds a binary value (SecretBinary), not a JSON document: "
                "it was not written by this tool. Choose another secret name"
            )
        return SecretValue(
            value=body["SecretString"],
            version_id=body["VersionId"],
            version_stages=list(body.get("VersionStages") or []),
            arn=body["ARN"],
        )

    def update_secret(self, secret_id: str, *, kms_key_id: str | None = None, description: str | None = None) -> None:
        """Change metadata only (no new version): the KMS key for new versions, the description."""
        kwargs: dict[str, Any] = {"SecretId": secret_id}
        if kms_key_id is not None:
            kwargs["KmsKeyId"] = kms_key_id
        if description is not None:
            kwargs["Description"] = description
        if len(kwargs) == 1:
            return
        with self._errors(secret_id, "update", kms_key_id=kms_key_id):
            self._client.update_secret(**kwargs)

    def update_secret_version_stage(
        self,
        secret_id: str,
        version_stage: str,
        *,
        move_to_version_id: str | None = None,
        remove_from_version_id: str | None = None,
    ) -> None:
        """Move a staging label, e.g. AWSCURRENT from the current version to the AWSPENDING one (rotation)."""
        kwargs: dict[str, Any] = {"SecretId": secret_id, "VersionStage": version_stage}
        if move_to_version_id:
            kwargs["MoveToVersionId"] = move_to_version_id
        if remove_from_version_id:
            kwargs["RemoveFromVersionId"] = remove_from_version_id
        with self._errors(secret_id, f"move label {version_stage} on"):
            self._client.update_secret_version_stage(**kwargs)

    def tag_resource(self, secret_id: str, tags: Mapping[str, str]) -> None:
        """Add or overwrite tags; other tags stay."""
        with self._errors(secret_id, "tag"):
            self._client.tag_resource(SecretId=secret_id, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])

    def untag_resource(self, secret_id: str, keys: Iterable[str]) -> None:
        keys = list(keys)
        if not keys:
            return
        with self._errors(secret_id, "untag"):
            self._client.untag_resource(SecretId=secret_id, TagKeys=keys)

    def restore_secret(self, secret_id: str) -> None:
        """Cancel a scheduled deletion: the secret and all its versions come back."""
        with self._errors(secret_id, "restore"):
            self._client.restore_secret(SecretId=secret_id)

    def delete_secret(
        self, secret_id: str, *, recovery_window_days: int | None = None, force: bool = False
    ) -> datetime | None:
        """Schedule deletion after the recovery window (restorable until then), or with force delete now.

        Returns the deletion date AWS reports.
        """
        if force == (recovery_window_days is not None):
            raise ValueError("give exactly one of recovery_window_days and force=True")
        kwargs: dict[str, Any] = {"SecretId": secret_id}
        if force:
            kwargs["ForceDeleteWithoutRecovery"] = True
        else:
            kwargs["RecoveryWindowInDays"] = recovery_window_days
        with self._errors(secret_id, "delete"):
            body = self._client.delete_secret(**kwargs)
        deleted: datetime | None = body.get("DeletionDate")
        return deleted

    # --- errors -------------------------------------------------------------------------------------------
    def _scheduled(self, secret_id: str, verb: str, code: str | None) -> SecretsManagerError:
        return SecretsManagerError(
            f"cannot {verb} {self.where(secret_id)}: a secret with this name is scheduled for deletion. Restore it "
            f"(aws secretsmanager restore-secret --secret-id {secret_id}) or set restoreIfDeleted so that pulumi "
            "restores it, or choose another secret name",
            code=code,
        )

    def _iam_resource(self, secret_id: str) -> str:
        if secret_id.startswith("arn:"):
            return secret_id
        return f"arn:aws:secretsmanager:{self.region}:<account-id>:secret:{secret_id}-*"

    @contextmanager
    def _errors(
        self, secret_id: str, verb: str, *, kms_key_id: str | None = None, value: str | None = None
    ) -> Iterator[None]:
        """Map botocore errors to SecretsManagerError: which secret, what AWS said, what to do.

        `value` is only used to scrub it from remote text; no message is built from it.
        """
        where = self.where(secret_id)
        try:
            yield
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code") or "Unknown")
            text = remote_text(str(error.get("Message") or ""), value)
            action = f"secretsmanager:{exc.operation_name}"
            key = kms_key_id or f"{DEFAULT_KMS_KEY} (or the key the secret already uses)"
            if code in THROTTLING:
                raise SecretsManagerError(
                    f"cannot {verb} {where}: throttled by AWS ({code}) on {action}, still after {MAX_ATTEMPTS} "
                    "attempts with backoff. Retry later, or lower the parallelism (pulumi up --parallel 4)",
                    code=code,
                ) from None
            if (
                code in KMS_CODES
                or code.startswith("KMS")
                or (code == "AccessDeniedException" and "kms" in text.lower())
            ):
                raise SecretsManagerError(
                    f"cannot {verb} {where}: the KMS key {key} cannot be used ({code}: {text}). Check that the key "
                    f"exists in {self.region}, is enabled, and that its key policy lets the identity running pulumi "
                    "use kms:GenerateDataKey and kms:Decrypt through Secrets Manager",
                    code=code,
                ) from None
            if code == "AccessDeniedException":
                raise SecretsManagerError(
                    f"cannot {verb} {where}: access denied to {action} ({text}). Grant the identity running pulumi "
                    f"{action} on {self._iam_resource(secret_id)} (IAM policy, and the secret's resource policy)",
                    code=code,
                ) from None
            if code in REJECTED_CREDENTIALS:
                raise SecretsManagerError(
                    f"cannot {verb} {where}: AWS rejected the credentials ({code}). Refresh them (aws sso login, "
                    "a new session token) in the environment that runs pulumi",
                    code=code,
                ) from None
            if code in ("InvalidRequestException", "ResourceExistsException") and SCHEDULED_RE.search(text):
                raise self._scheduled(secret_id, verb, code) from None
            if code == "ResourceNotFoundException":
                if kms_key_id and "key" in text.lower():
                    raise SecretsManagerError(
                        f"cannot {verb} {where}: the KMS key {kms_key_id} was not found in {self.region} ({text}). "
                        "Fix the connector's kmsKeyId",
                        code=code,
                    ) from None
                raise SecretsManagerError(
                    f"cannot {verb} {where}: it does not exist ({text}). If it was deleted outside Pulumi, run "
                    "`pulumi refresh`, then `pulumi up` creates it again",
                    code=code,
                ) from None
            if code == "ResourceExistsException":
                raise SecretsManagerError(
                    f"cannot {verb} {where}: it already exists ({text}). Someone created it meanwhile; run "
                    "`pulumi refresh`, then `pulumi up`",
                    code=code,
                ) from None
            raise SecretsManagerError(f"cannot {verb} {where}: {code}: {text}", code=code) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise SecretsManagerError(
                transport_message(
                    exc, f"cannot {verb} {where}", self.endpoint_url, "Secrets Manager", "SECRETS_MANAGER"
                )
            ) from None


def transport_message(exc: Exception, what: str, endpoint: str | None, service: str, env_suffix: str) -> str:
    """The message for botocore's own errors (credentials, parameters, network), shared by every AWS client:
    what failed, why, and which setting fixes it. Never built from request values."""
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return (
            f"{what}: no AWS credentials found. Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a "
            "web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE) in the environment that runs pulumi "
            "(credentials are never read from stack config)"
        )
    if isinstance(exc, botocore.exceptions.PartialCredentialsError | botocore.exceptions.CredentialRetrievalError):
        return (
            f"{what}: the AWS credentials are incomplete or could not be loaded ({type(exc).__name__}). Check "
            "AWS_PROFILE / AWS_* variables in the environment that runs pulumi"
        )
    if isinstance(exc, botocore.exceptions.ParamValidationError):
        params = sorted(set(re.findall(r"parameter ([\w.\[\]]+)", str(exc))))
        return f"{what}: invalid request parameters {', '.join(params) or '(see botocore)'}"
    if isinstance(exc, botocore.exceptions.ConnectTimeoutError | botocore.exceptions.ReadTimeoutError):
        return (
            f"{what}: no answer from {endpoint} within {CONNECT_TIMEOUT}s/{READ_TIMEOUT}s after {MAX_ATTEMPTS} "
            f"attempts. Check network access to {service} (proxy, VPC endpoint)"
        )
    if isinstance(exc, botocore.exceptions.ConnectionError | botocore.exceptions.HTTPClientError):
        return (
            f"{what}: cannot connect to {endpoint} after {MAX_ATTEMPTS} attempts. Check the region, endpoint_url / "
            f"AWS_ENDPOINT_URL_{env_suffix} and network access"
        )
    return f"{what}: {type(exc).__name__}"


def boto_client(service: str, region: str | None, endpoint_url: str | None, *, region_setting: str) -> Any:
    """A boto3 client with our timeouts and botocore's standard retry mode, credentials from the default chain
    only. ValueError says what is missing (region, profile) and how to fix it; `region_setting` names where the
    caller's region is configured (only a missing region points there, not a profile typo)."""
    config = Config(
        retries={"mode": "standard", "max_attempts": MAX_RETRIES},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
    )
    region = region or os.environ.get("AWS_REGION") or None  # else boto3: AWS_DEFAULT_REGION, the profile
    try:
        return boto3.session.Session().client(
            service, region_name=region, endpoint_url=endpoint_url or None, config=config
        )
    except botocore.exceptions.NoRegionError:
        raise ValueError(f"no AWS region: set {region_setting}, or AWS_REGION where pulumi runs") from None
    except botocore.exceptions.ProfileNotFound as exc:
        raise ValueError(
            f"AWS profile {exc.kwargs.get('profile')!r} (AWS_PROFILE) is not in the AWS config files: "
            "fix AWS_PROFILE or ~/.aws/config"
        ) from None
