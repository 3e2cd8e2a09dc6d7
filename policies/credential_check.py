"""The credential check stays on: every connector's credentials obtain a token before they are stored.

Three policies, because the SDK gives a policy one enforcement level and one kind:

- credential-check-production (mandatory, resource): on stacks matching `productionStacks`, no CredentialCheck
  entry has `enabled: false`. A wrong secret stored there breaks a live integration at its next token request,
  long after the change that caused it. A resource policy, so `pulumi up --policy-pack` stops at the
  CredentialCheck, before anything that depends on it is written.
- credential-check-enabled (advisory, resource): the same on every stack. A developer may switch the check off
  on purpose (working offline), but should be told. On a production stack both report.
- credential-check-coverage (mandatory, stack): every connector that has a store or a managed client is an
  entry of a CredentialCheck. CommercetoolsConnector registers each connector in one by itself, so only a
  program that declares a connector's resources without it (a VaultKvSecret used directly) breaks this, and
  only the whole stack shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel
from pydantic import Field

from ctp_credentials.components.naming import setting

from . import resource_types as t
from .adapters import resource_policy, stack_policy
from .resources import Resource, Stack, matches_any
from .settings import DEFAULT_PRODUCTION_STACKS, PolicyConfig

PRODUCTION = "credential-check-production"
ENABLED = "credential-check-enabled"
COVERAGE = "credential-check-coverage"

# Resources that belong to one connector (input `connector`), besides the CommercetoolsConnector component.
_CONNECTOR_RESOURCES = (t.VAULT_KV_SECRET, t.AWS_SECRET, t.API_CLIENT)


class ProductionConfig(PolicyConfig):
    production_stacks: tuple[str, ...] = Field(
        default=DEFAULT_PRODUCTION_STACKS,
        description="Stack name patterns treated as production (shell-style: prod, prod-*, *-prod).",
    )


class NoConfig(PolicyConfig):
    """No settings: only the enforcement level is configurable."""


def switched_off(checks: Mapping[str, Any]) -> list[str]:
    """Connectors whose entry in a CredentialCheck's `connectors` map has `enabled: false`. A missing or
    unknown `enabled` counts as on (the provider's default; unknown only while a managed client is pending)."""
    return sorted(
        name for name, entry in checks.items() if isinstance(entry, Mapping) and entry.get("enabled") is False
    )


def uncovered(connectors: Iterable[str], checked: Iterable[str]) -> list[str]:
    return sorted(set(connectors) - set(checked))


def _off_message(name: str) -> str:
    return (
        f"connector '{name}': the credential check is switched off; remove {setting(name, 'checkCredentials')} "
        "so preview proves the credential obtains a token before it is stored"
    )


def _entries(resource: Resource) -> Mapping[str, Any]:
    entries = resource.props.get("connectors")
    return entries if isinstance(entries, Mapping) else {}


def validate_production(resource: Resource, cfg: ProductionConfig) -> list[str]:
    pattern = matches_any(resource.stack, cfg.production_stacks, ignore_case=True)
    if pattern is None:
        return []
    why = f" (stack '{resource.stack}' is production: it matches '{pattern}' in productionStacks of {PRODUCTION})"
    return [_off_message(name) + why for name in switched_off(_entries(resource))]


def validate_enabled(resource: Resource, _cfg: NoConfig) -> list[str]:
    return [_off_message(name) for name in switched_off(_entries(resource))]


def validate_coverage(stack: Stack, _cfg: NoConfig) -> list[tuple[str, str | None]]:
    owners: dict[str, str] = {r.name: r.urn for r in stack.of_type(t.CONNECTOR)}
    for r in stack.of_type(*_CONNECTOR_RESOURCES):
        connector = r.props.get("connector")
        if isinstance(connector, str):
            owners.setdefault(connector, r.urn)
    checked = [name for r in stack.of_type(t.CREDENTIAL_CHECK) for name in _entries(r)]
    # A managed connector's client is tested by its ApiClient provider (step `test`) before its secret is stored.
    checked += [str(r.props.get("connector")) for r in stack.of_type(t.API_CLIENT)]
    return [
        (
            f"connector '{name}': no CredentialCheck checks this connector's credentials. A CommercetoolsConnector "
            f"registers its connector in one by itself, so these resources were declared without it (e.g. a "
            f"VaultKvSecret used directly); declare the connector with CommercetoolsConnector, or add it to a "
            f"CredentialCheck's connectors, so a wrong credential fails preview instead of being stored",
            owners[name],
        )
        for name in uncovered(owners, checked)
    ]


PRODUCTION_POLICY = resource_policy(
    name=PRODUCTION,
    description="On production stacks every connector's credential is checked for a token before it is stored.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config=ProductionConfig,
    types={t.CREDENTIAL_CHECK},
    rule=validate_production,
)
ENABLED_POLICY = resource_policy(
    name=ENABLED,
    description="Every connector's credential is checked for a token before it is stored.",
    enforcement_level=EnforcementLevel.ADVISORY,
    config=NoConfig,
    types={t.CREDENTIAL_CHECK},
    rule=validate_enabled,
)
COVERAGE_POLICY = stack_policy(
    name=COVERAGE,
    description="Every connector with a stored secret or a managed client is covered by a CredentialCheck.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config=NoConfig,
    rule=validate_coverage,
)
