"""CredentialCheck: requests a token for every connector in `check()`, so a wrong client ID, secret or scope
fails `pulumi preview` before anything is written.

One resource checks all of a stack's connectors at once. The engine calls providers' `check()` one resource at a
time, so one check per connector would cost N x the token endpoint's latency on every preview; here the
requests run concurrently and a preview costs about one latency (bench/RESULTS.md, section 2).

It creates nothing remotely. Its outputs are the inputs (so `read`, i.e. `pulumi refresh`, can check again;
the secrets are secret outputs, encrypted in state) plus the verdict per connector.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from ..clients.commercetools import CommercetoolsClient
from ..errors import CommercetoolsError, InvalidClientError, InvalidScopeError, UnreachableError
from ..naming import setting
from ..scopes import granted_covers, holds_manage_project, parse_scope
from .base import PlainProvider, ProviderResource, engine_form

# Concurrent token requests. commercetools documents no limit on the token endpoint (unconfirmed, so bounded):
# 32 keeps a preview of up to 32 connectors to one round trip (bench/RESULTS.md, section 2); 16 made 20 take two.
MAX_PARALLEL = 32
# A check that passed is reused by the same provider process for this long: `up` calls check() and then
# create(), and commercetools advises reusing tokens rather than asking again. Failures are never reused.
REUSE_SECONDS = 300.0
_PROCESS_KEY = secrets.token_bytes(32)  # fingerprints are keyed per process: nothing to learn from one
_PASSED: dict[bytes, float] = {}


class ConnectorCheck(BaseModel):
    """One connector's inputs to the check, validated at the top of every provider method."""

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
    """Public inputs: connector name -> that connector's check inputs (see `ConnectorCheck`)."""

    def __init__(self, connectors: dict[str, dict[str, pulumi.Input[Any]]]) -> None:
        self.props: dict[str, Any] = {
            "connectors": {
                name: {**inputs, "client_secret": pulumi.Output.secret(inputs["client_secret"])}
                for name, inputs in connectors.items()
            }
        }


def _fingerprint(props: ConnectorCheck) -> bytes:
    fields = {**props.model_dump(exclude={"client_secret"}), "secret": props.client_secret.get_secret_value()}
    return hmac.new(_PROCESS_KEY, json.dumps(fields, sort_keys=True).encode(), hashlib.sha256).digest()


def verify(props: ConnectorCheck, *, reuse: bool = True) -> str | None:
    """Request a token for exactly the configured scopes (or reuse a pass of this run, see REUSE_SECONDS).

    Returns None on success, or a reason that names the connector, the project, the region and the fix.
    Never raises for remote failures; never includes the secret or the token.
    """
    fingerprint = _fingerprint(props)
    if reuse and time.monotonic() - _PASSED.get(fingerprint, float("-inf")) < REUSE_SECONDS:
        return None
    reason = _request(props)
    if reason is None:
        _PASSED[fingerprint] = time.monotonic()
    return reason


def _request(props: ConnectorCheck) -> str | None:
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
            f"pulumi config set --secret clientSecret-{props.connector} <secret> (client_id and client_secret in "
            "your own program)"
        )
    except InvalidScopeError as exc:
        return (
            f"{who}: scopes refused ({exc}). The client does not hold every scope in "
            f"{setting(props.connector, 'scopes')}: remove the ones it lacks, or create an API client with them"
        )
    except UnreachableError as exc:
        return f"{who}: {exc}. Check region/authUrl and the network, then rerun"
    except CommercetoolsError as exc:
        return f"{who}: {exc}"
    if token.token_type.lower() != "bearer":
        return f"{who}: the token endpoint returned token_type {token.token_type!r}, expected Bearer"
    missing = granted_covers(token.scope, [parse_scope(s) for s in props.scopes])
    if missing and holds_manage_project(token.scope):
        return (
            f"{who}: the client holds manage_project (all of the project), and commercetools gives such a client "
            f"no narrower token. Create an API client with exactly {setting(props.connector, 'scopes')} "
            "(least privilege: never manage_project in production) and use its ID and secret"
        )
    if missing:
        return (
            f"{who}: token granted without {' '.join(map(str, missing))}. The client does not hold these "
            f"scopes: remove them from {setting(props.connector, 'scopes')} or use a client that has them"
        )
    return None


def verify_all(checks: list[ConnectorCheck], *, reuse: bool = True) -> dict[str, str | None]:
    """Verify concurrently; connector name -> reason (None = passed). Disabled checks are skipped."""
    enabled = [c for c in checks if c.enabled]
    if not enabled:
        return {}
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(enabled))) as pool:
        reasons = pool.map(lambda c: verify(c, reuse=reuse), enabled)
        return dict(zip([c.connector for c in enabled], reasons, strict=True))


def _parse(raw: Any) -> list[ConnectorCheck]:
    return [ConnectorCheck.model_validate(v) for v in (raw.get("connectors") or {}).values()]


class CredentialCheckProvider(PlainProvider):
    """Holds no state and no credentials: safe to pickle into the resource."""

    def check(self, _olds: Any, news: Any) -> CheckResult:
        connectors = news.get("connectors") or {}
        # Values from resources not yet created (a managed client's secret) are checked in `up`, before
        # anything that depends on this resource is written.
        known = {n: c for n, c in connectors.items() if not pulumi.contains_unknowns(c)}
        failures = []
        checks = []
        for name, raw in known.items():
            try:
                checks.append(ConnectorCheck.model_validate(raw))
            except ValidationError as exc:
                failures += [CheckFailure("", f"connector {name!r}: {e['loc'][0]}: {e['msg']}") for e in exc.errors()]
        for reason in verify_all(checks).values():
            if reason:
                failures.append(CheckFailure("", reason))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: Any, news: Any) -> DiffResult:
        changed = engine_form(olds.get("connectors")) != engine_form(news.get("connectors"))
        # refresh found a credential rejected: `up` must check again (and fail) rather than look unchanged
        rejected = any(v is False for v in (olds.get("verified") or {}).values())
        return DiffResult(changes=changed or rejected, replaces=[], stables=[])

    def create(self, props: Any) -> CreateResult:
        return CreateResult(f"checks-{uuid.uuid4().hex}", self._outs(props, strict=True))

    def update(self, _id: str, _olds: Any, news: Any) -> UpdateResult:
        return UpdateResult(self._outs(news, strict=True))

    def read(self, id_: str, props: Any) -> ReadResult:
        """`pulumi refresh` checks again, for real: a revoked or deleted client shows up as drift."""
        return ReadResult(id_, self._outs(props, strict=False, reuse=False))

    @staticmethod
    def _outs(raw: Any, *, strict: bool, reuse: bool = True) -> dict[str, Any]:
        reasons = verify_all(_parse(raw), reuse=reuse)
        failed = [r for r in reasons.values() if r]
        if failed and strict:
            raise CommercetoolsError("; ".join(failed))
        return {"connectors": raw.get("connectors") or {}, "verified": {n: r is None for n, r in reasons.items()}}


class CredentialCheck(ProviderResource, module="commercetools", name="CredentialCheck"):
    """Fails preview and up when any connector's client credentials do not obtain a token."""

    verified: pulumi.Output[dict[str, bool]]

    def __init__(self, name: str, args: CredentialCheckArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            CredentialCheckProvider(),
            name,
            {**args.props, "verified": None},
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["connectors"])),
        )
