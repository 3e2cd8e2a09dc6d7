"""A small AWS Systems Manager Parameter Store client over boto3, with errors that name the parameter, the IAM
action and the fix.

Credentials come only from the default AWS chain (environment, shared profile, web identity, instance role),
resolved when a client is built inside each provider method: never arguments, never stack config, never kept on
a provider object. Region and endpoint come from the arguments (stack config) or else the environment
(AWS_REGION / AWS_DEFAULT_REGION; botocore itself honours AWS_ENDPOINT_URL_SSM and AWS_ENDPOINT_URL).

Only plain `String` parameters: the values published here are non-secret documents.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import botocore.exceptions

from ..publishing import PublicationError
from .secretsmanager import (
    MAX_ATTEMPTS,
    REJECTED_CREDENTIALS,
    THROTTLING,
    boto_client,
    transport_message,
)

Tier = Literal["Standard", "Advanced", "Intelligent-Tiering"]
# Value size limits in bytes: Standard 4 KB; Advanced (and Intelligent-Tiering, which picks Advanced) 8 KB.
MAX_VALUE_BYTES: dict[str, int] = {"Standard": 4096, "Advanced": 8192, "Intelligent-Tiering": 8192}
ACTIONS = {
    "read": "ssm:GetParameter",
    "write": "ssm:PutParameter",
    "delete": "ssm:DeleteParameter",
    "list tags of": "ssm:ListTagsForResource",
    "tag": "ssm:AddTagsToResource",
}


class SsmError(PublicationError):
    """Parameter Store refused or failed an operation, or could not be reached.

    `code` is the remote error code (e.g. "AccessDeniedException") when AWS answered, else None.
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Parameter:
    """GetParameter: the latest version of a parameter."""

    name: str
    value: str
    type: str  # String, StringList or SecureString
    version: int
    arn: str | None
    last_modified: datetime | None


class SsmClient:
    """Parameter Store verbs in one region, named after the API actions."""

    def __init__(self, *, region: str | None = None, endpoint_url: str | None = None) -> None:
        try:
            self._client = boto_client("ssm", region, endpoint_url, region_setting="the connector's publish.ssm.region")
        except ValueError as exc:
            raise SsmError(f"SSM Parameter Store: {exc}") from None
        self.region: str = self._client.meta.region_name
        self.endpoint_url: str = self._client.meta.endpoint_url

    def __repr__(self) -> str:
        return f"SsmClient(region={self.region!r}, endpoint_url={self.endpoint_url!r})"

    def where(self, name: str) -> str:
        return f"SSM parameter {name} ({self.region}, {self.endpoint_url})"

    # --- parameters ---------------------------------------------------------------------------------------
    def get_parameter(self, name: str) -> Parameter | None:
        """The latest version, or None when there is no such parameter."""
        with self._errors(name, "read"):
            try:
                body = self._client.get_parameter(Name=name)
            except self._client.exceptions.ParameterNotFound:
                return None
        found = body["Parameter"]
        return Parameter(
            name=found["Name"],
            value=found["Value"],
            type=found["Type"],
            version=int(found["Version"]),
            arn=found.get("ARN"),
            last_modified=found.get("LastModifiedDate"),
        )

    def put_parameter(
        self,
        name: str,
        value: str,
        *,
        overwrite: bool,
        tier: Tier = "Standard",
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> int:
        """Write a String parameter. Returns the new version.

        overwrite=False creates only (ParameterAlreadyExists otherwise) and may carry tags; overwrite=True adds a
        version to an existing parameter, and AWS refuses tags with it (use add_tags_to_resource).
        """
        if overwrite and tags:
            raise ValueError("tags can only be set on create; use add_tags_to_resource on an existing parameter")
        kwargs: dict[str, Any] = {"Name": name, "Value": value, "Type": "String", "Tier": tier}
        if overwrite:
            kwargs["Overwrite"] = True
        if description is not None:
            kwargs["Description"] = description
        if tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        with self._errors(name, "write"):
            body = self._client.put_parameter(**kwargs)
        return int(body["Version"])

    def delete_parameter(self, name: str) -> bool:
        """Delete every version. False when it was already gone, so a rerun after a crash converges."""
        with self._errors(name, "delete"):
            try:
                self._client.delete_parameter(Name=name)
            except self._client.exceptions.ParameterNotFound:
                return False
        return True

    def list_tags_for_resource(self, name: str) -> dict[str, str] | None:
        """The parameter's tags, or None when there is no such parameter."""
        with self._errors(name, "list tags of"):
            try:
                body = self._client.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)
            except self._client.exceptions.InvalidResourceId:
                return None
        return {t["Key"]: t["Value"] for t in body.get("TagList") or []}

    def add_tags_to_resource(self, name: str, tags: Mapping[str, str]) -> None:
        """Add or overwrite tags; other tags stay."""
        with self._errors(name, "tag"):
            self._client.add_tags_to_resource(
                ResourceType="Parameter", ResourceId=name, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
            )

    # --- errors -------------------------------------------------------------------------------------------
    def _iam_resource(self, name: str) -> str:
        return f"arn:aws:ssm:{self.region}:<account-id>:parameter/{name.lstrip('/')}"

    @contextmanager
    def _errors(self, name: str, verb: str) -> Iterator[None]:
        """Map botocore errors to SsmError: which parameter, what AWS said, what to do."""
        where = self.where(name)
        action = ACTIONS[verb]
        try:
            yield
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error") or {}
            code = str(error.get("Code") or "Unknown")
            text = " ".join(str(error.get("Message") or "").split())[:300]
            if code in THROTTLING or code == "TooManyUpdates":
                raise SsmError(
                    f"cannot {verb} {where}: AWS throttled the requests ({code}) after {MAX_ATTEMPTS} attempts. "
                    "Something else is writing this parameter or the account's Parameter Store quota is used up; "
                    "rerun later",
                    code=code,
                ) from None
            if code in ("AccessDeniedException", "AccessDenied"):
                raise SsmError(
                    f"cannot {verb} {where}: access denied to {action} ({text}). Grant the identity running pulumi "
                    f"{action} on {self._iam_resource(name)}",
                    code=code,
                ) from None
            if code in REJECTED_CREDENTIALS:
                raise SsmError(
                    f"cannot {verb} {where}: AWS rejected the credentials ({code}). Refresh them (aws sso login, "
                    "a new session token) in the environment that runs pulumi",
                    code=code,
                ) from None
            if code in ("ParameterNotFound", "InvalidResourceId"):
                raise SsmError(
                    f"cannot {verb} {where}: it does not exist ({code}). If it was deleted outside Pulumi, run "
                    "`pulumi refresh`, then `pulumi up` creates it again",
                    code=code,
                ) from None
            if code == "ParameterAlreadyExists":
                raise SsmError(
                    f"cannot {verb} {where}: it already exists. Someone created it meanwhile; run "
                    "`pulumi refresh`, then `pulumi up`",
                    code=code,
                ) from None
            if code in ("ParameterLimitExceeded", "HierarchyLevelLimitExceededException"):
                raise SsmError(
                    f"cannot {verb} {where}: a Parameter Store quota is reached ({code}: {text}). Delete unused "
                    "parameters, use a shorter hierarchy, or raise the quota",
                    code=code,
                ) from None
            if code == "ParameterMaxVersionLimitExceeded":
                raise SsmError(
                    f"cannot {verb} {where}: it has 100 versions and the oldest carries a label ({text}). "
                    "Remove that label (aws ssm unlabel-parameter-version), then rerun",
                    code=code,
                ) from None
            raise SsmError(f"cannot {verb} {where}: {code}: {text}", code=code) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise SsmError(transport_message(exc, f"cannot {verb} {where}", self.endpoint_url, "SSM", "SSM")) from None
