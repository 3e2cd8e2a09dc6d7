"""CredentialCheck: requests a token in `check()`, so a wrong ID, secret or scope fails `pulumi preview`.

It creates nothing remotely: its state is the non-secret facts of the last successful check. The secret is an
input only (encrypted in state as a secret input) and never an output.
"""

from __future__ import annotations

import uuid
from typing import Any

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
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from ..commercetools import CommercetoolsClient
from ..errors import CommercetoolsError, InvalidClientError, InvalidScopeError, UnreachableError
from ..scopes import granted_covers, parse_scope


class CredentialCheckProps(BaseModel):
    """The provider's inputs, validated at the top of every method."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    connector: str
    project_key: str
    region: str
    auth_url: str
    api_url: str
    scopes: list[str]
    client_id: str
    client_secret: SecretStr
    token_key: str = "access_token"
    enabled: bool = True


class CredentialCheckArgs:
    """Public inputs of a CredentialCheck."""

    def __init__(
        self,
        *,
        connector: pulumi.Input[str],
        project_key: pulumi.Input[str],
        region: pulumi.Input[str],
        auth_url: pulumi.Input[str],
        api_url: pulumi.Input[str],
        scopes: pulumi.Input[list[str]],
        client_id: pulumi.Input[str],
        client_secret: pulumi.Input[str],
        token_key: pulumi.Input[str] = "access_token",
        enabled: pulumi.Input[bool] = True,
    ) -> None:
        self.props: dict[str, Any] = {
            "connector": connector,
            "project_key": project_key,
            "region": region,
            "auth_url": auth_url,
            "api_url": api_url,
            "scopes": scopes,
            "client_id": client_id,
            "client_secret": pulumi.Output.secret(client_secret),
            "token_key": token_key,
            "enabled": enabled,
        }


def verify(props: CredentialCheckProps) -> tuple[str | None, str]:
    """Request a token for exactly the configured scopes.

    Returns (None, granted scope) on success, or (reason, "") with a message that names the connector, the
    project, the region and the fix. Never raises for remote failures; never includes the secret or token.
    """
    who = f"connector {props.connector!r} (project {props.project_key}, region {props.region}, {props.auth_url})"
    client = CommercetoolsClient(props.auth_url, props.api_url)
    try:
        token = client.request_token(
            props.client_id, props.client_secret.get_secret_value(), props.scopes, token_key=props.token_key
        )
    except InvalidClientError as exc:
        return (
            f"{who}: client ID or secret rejected ({exc}). Copy both from the API client in the Merchant "
            f"Center again: pulumi config set --path 'connectors.{props.connector}.clientId' <id> and "
            f"pulumi config set --secret clientSecret-{props.connector} <secret>",
            "",
        )
    except InvalidScopeError as exc:
        return (
            f"{who}: scopes refused ({exc}). The client does not hold every scope in connectors."
            f"{props.connector}.scopes: remove the ones it lacks, or create an API client with them",
            "",
        )
    except UnreachableError as exc:
        return f"{who}: {exc}. Check region/authUrl and the network, then rerun", ""
    except CommercetoolsError as exc:
        return f"{who}: {exc}", ""
    if token.token_type.lower() != "bearer":
        return f"{who}: the token endpoint returned token_type {token.token_type!r}, expected Bearer", ""
    wanted = [parse_scope(s) for s in props.scopes]
    missing = granted_covers(token.scope, wanted)
    if missing:
        return (
            f"{who}: token granted without {' '.join(map(str, missing))}. The client does not hold these "
            f"scopes: remove them from connectors.{props.connector}.scopes or use a client that has them",
            "",
        )
    return None, token.scope


class CredentialCheckProvider(ResourceProvider):
    """Holds no state and no credentials: safe to pickle into every resource."""

    def check(self, _olds: Any, news: Any) -> CheckResult:
        if pulumi.contains_unknowns(news):
            # Values that come from resources not yet created: checked in `up`, before anything is written.
            return CheckResult(news, [])
        try:
            props = CredentialCheckProps.model_validate(news)
        except ValidationError as exc:
            return CheckResult(news, [CheckFailure(str(e["loc"][0]), e["msg"]) for e in exc.errors()])
        if not props.enabled:
            return CheckResult(news, [])
        reason, _ = verify(props)
        return CheckResult(news, [CheckFailure("", reason)] if reason else [])

    def diff(self, _id: str, olds: Any, news: Any) -> DiffResult:
        keys = CredentialCheckProps.model_fields.keys()
        changed = [k for k in keys if olds.get(k) != news.get(k)]
        if olds.get("verified") is False:
            changed.append("verified")  # refresh found the credential rejected: `up` must check again
        return DiffResult(changes=bool(changed), replaces=[], stables=[])

    def create(self, props: Any) -> CreateResult:
        return CreateResult(f"check-{uuid.uuid4().hex}", self._outs(props, strict=True))

    def update(self, _id: str, _olds: Any, news: Any) -> UpdateResult:
        return UpdateResult(self._outs(news, strict=True))

    def read(self, id_: str, props: Any) -> ReadResult:
        """`pulumi refresh` checks again: a revoked or deleted client shows up as drift (verified: false)."""
        return ReadResult(id_, self._outs(props, strict=False))

    @staticmethod
    def _outs(raw: Any, *, strict: bool) -> dict[str, Any]:
        """Outputs = the inputs (so `read` can check again; the secret is a secret output) + the result."""
        p = CredentialCheckProps.model_validate(raw)
        outs = {k: raw[k] for k in CredentialCheckProps.model_fields if k in raw}
        if not p.enabled:
            return {**outs, "verified": None, "granted_scope": ""}
        reason, granted = verify(p)
        if reason and strict:
            raise CommercetoolsError(reason)
        return {**outs, "verified": reason is None, "granted_scope": granted}


class CredentialCheck(Resource, module="commercetools", name="CredentialCheck"):
    """Fails preview and up when the connector's client credentials do not obtain a token."""

    verified: pulumi.Output[bool]
    granted_scope: pulumi.Output[str]

    def __init__(self, name: str, args: CredentialCheckArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {**args.props, "verified": None, "granted_scope": None}
        super().__init__(
            CredentialCheckProvider(),
            name,
            props,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["client_secret"])),
        )
