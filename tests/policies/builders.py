"""Builders for the policy tests: the arguments the analyzer would pass, and what a policy reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import unknown_checking_proxy

PROJECT = "commercetools-credentials"
PK = "product-patchworks"


def urn(type_: str, name: str, stack: str = "dev") -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{type_}::{name}"


def _opts() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def resource_args(
    type_: str,
    props: Mapping[str, Any],
    *,
    name: str = "r",
    stack: str = "dev",
    config: Mapping[str, Any] | None = None,
) -> ResourceValidationArgs:
    """What the analyzer passes a resource policy: props behind the SDK's unknown-checking proxy."""
    return ResourceValidationArgs(
        type_, unknown_checking_proxy(dict(props)), urn(type_, name, stack), name, _opts(), None, config
    )


def stack_args(
    resources: Sequence[tuple[str, str, Mapping[str, Any]]],
    *,
    stack: str = "dev",
    config: Mapping[str, Any] | None = None,
) -> StackValidationArgs:
    """(type, name, outputs) per resource, as the analyzer passes them to a stack policy."""
    built = [
        PolicyResource(t, unknown_checking_proxy(dict(p)), urn(t, n, stack), n, _opts(), None, None, [], {})
        for t, n, p in resources
    ]
    return StackValidationArgs(built, config)


def reports(policy: Policy, args: ResourceValidationArgs | StackValidationArgs) -> list[tuple[str, str | None]]:
    """(message without the description line, URN) for everything the policy reports."""
    seen: list[tuple[str, str | None]] = []
    result = policy.validate(args, lambda message, urn=None: seen.append((message, urn)))  # type: ignore[attr-defined]
    assert result is None  # our validations are synchronous
    return seen


def connector(name: str = "patchworks", **overrides: Any) -> dict[str, Any]:
    """One CredentialCheck entry as the program builds it (connector.py `check_inputs`)."""
    entry: dict[str, Any] = {
        "connector": name,
        "project_key": PK,
        "region": "europe-west1.gcp",
        "auth_url": "https://auth.europe-west1.gcp.commercetools.com",
        "api_url": "https://api.europe-west1.gcp.commercetools.com",
        "scopes": [f"view_orders:{PK}", f"view_products:{PK}"],
        "client_id": "AbCdEfGhIjKlMnOpQrStUvWx",
        "client_secret": "s3cr3t-s3cr3t-s3cr3t-s3cr3t-0123",
        "token_key": "access_token",
        "enabled": True,
    }
    entry.update(overrides)
    return entry
