"""Least privilege: a connector's scopes grant no more than its integration needs, in its own project only.

Applies to every connector entry of a CredentialCheck and to managed API clients (ApiClient), both
of which carry `connector`, `project_key` and `scopes` ("name:projectKey[:storeKey]", a list or one
space-separated string).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel
from pydantic import Field

from ctp_credentials.components.naming import setting
from ctp_credentials.components.scopes import PRIVILEGED, Scope, parse_scope, split_scopes

from . import resource_types as t
from .adapters import resource_policy
from .resources import UNKNOWN, Resource, matches_any
from .settings import PolicyConfig

NAME = "commercetools-least-privilege"

# Why each privileged scope (components.scopes.PRIVILEGED) is refused; a test keeps the two in step.
_WHY = {
    "manage_project": "controls the whole project (settings, every resource and every API client)",
    "manage_api_clients": "lets the connector's own client create and delete API clients, including new "
    "ones for itself",
}


class LeastPrivilegeConfig(PolicyConfig):
    allowed_scopes: tuple[str, ...] = Field(
        default=(),
        description="Scopes every connector may hold, as scope names (view_orders) or exact scopes "
        "(view_orders:my-project:my-store). Empty: no stack-wide allow-list.",
    )
    allowed_scopes_by_stack: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Stack name pattern (prod-*) -> scopes connectors of matching stacks may hold.",
    )
    allowed_scopes_by_connector: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Connector name -> scopes that connector may hold.",
    )


def check_least_privilege(connector: Mapping[str, Any], stack: str, cfg: LeastPrivilegeConfig) -> list[str]:
    """Violations for one connector: `{connector, project_key, scopes}`. A scope must pass every allow-list
    that applies (stack-wide, the stack's, the connector's): lists narrow, they never widen each other."""
    name = str(connector.get("connector") or "?")
    project_key = connector.get("project_key")
    raw_scopes = connector.get("scopes")
    if raw_scopes is UNKNOWN or raw_scopes is None:
        return []  # not known during preview: checked again at `up`, before the resource is created
    key = setting(name, "scopes")
    texts = split_scopes(raw_scopes if isinstance(raw_scopes, str) else [s for s in raw_scopes if s is not UNKNOWN])
    lists = list(_allow_lists(name, stack, cfg))
    out: list[str] = []
    for text in texts:
        try:
            scope = parse_scope(text)
        except ValueError as exc:
            out.append(f"connector '{name}': {exc}; fix {key}")
            continue
        if scope.name in PRIVILEGED:
            why = _WHY.get(scope.name, "is privileged")
            out.append(
                f"connector '{name}': scope '{scope}' {why}; remove it from {key} and give the connector an API "
                f"client without it"
            )
        if isinstance(project_key, str) and scope.project_key != project_key:
            store = f":{scope.store_key}" if scope.store_key else ""
            out.append(
                f"connector '{name}': scope '{scope}' is for project '{scope.project_key}', not the connector's "
                f"project '{project_key}'; write it as {scope.name}:{project_key}{store} in {key}"
            )
        for where, allowed in lists:
            if not _allowed(scope, allowed):
                out.append(
                    f"connector '{name}': scope '{scope}' is not on the allow-list {where} "
                    f"({', '.join(allowed) or 'empty'}); remove it from {key}, or add '{scope.name}' to {where} "
                    f"in the {NAME} policy config"
                )
    return out


def _allow_lists(connector: str, stack: str, cfg: LeastPrivilegeConfig) -> Iterator[tuple[str, tuple[str, ...]]]:
    if cfg.allowed_scopes:
        yield "allowedScopes", cfg.allowed_scopes
    for pattern, allowed in cfg.allowed_scopes_by_stack.items():
        if matches_any(stack, [pattern]):
            yield f"allowedScopesByStack['{pattern}']", allowed
    if connector in cfg.allowed_scopes_by_connector:
        yield f"allowedScopesByConnector['{connector}']", cfg.allowed_scopes_by_connector[connector]


def _allowed(scope: Scope, allowed: tuple[str, ...]) -> bool:
    return scope.name in allowed or str(scope) in allowed


def validate(resource: Resource, cfg: LeastPrivilegeConfig) -> list[str]:
    if resource.type == t.CREDENTIAL_CHECK:
        connectors = resource.props.get("connectors")
        if not isinstance(connectors, Mapping):
            return []
        return [
            message
            for entry in connectors.values()
            if isinstance(entry, Mapping)
            for message in check_least_privilege(entry, resource.stack, cfg)
        ]
    return check_least_privilege(resource.props, resource.stack, cfg)


POLICY = resource_policy(
    name=NAME,
    description="A connector's scopes are limited to its own project, never manage_project or "
    "manage_api_clients, and on the configured allow-lists.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config=LeastPrivilegeConfig,
    types={t.CREDENTIAL_CHECK, t.API_CLIENT},
    rule=validate,
)
