"""Thin adapters from plain rule functions to pulumi-policy `Policy` objects.

An adapter filters by type token, parses the policy's config, makes the props plain (resources.plain) and
reports each message the rule returns. Rules never see the SDK, so tests call them with dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .resources import Resource, Stack, plain, stack_from_urn
from .settings import C, config_schema, load_config

ResourceRule = Callable[[Resource, C], Iterable[str]]
# A stack rule returns (message, URN of the resource it is about, or None for the stack as a whole).
StackRule = Callable[[Stack, C], Iterable[tuple[str, str | None]]]


def resource_policy(
    *,
    name: str,
    description: str,
    enforcement_level: EnforcementLevel,
    config: type[C],
    types: Collection[str],
    rule: ResourceRule[C],
) -> ResourceValidationPolicy:
    """Run `rule` on the inputs of every resource whose type is in `types`, before it is created or updated."""

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        cfg, problems = load_config(config, args.get_config(), name)
        for problem in problems:
            report(problem, None)
        if cfg is None:
            return
        resource = Resource(args.resource_type, args.name, args.urn, plain(args.props))
        for message in rule(resource, cfg):
            report(message, None)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement_level,
        config_schema=config_schema(config),
    )


def stack_policy(
    *,
    name: str,
    description: str,
    enforcement_level: EnforcementLevel,
    config: type[C],
    rule: StackRule[C],
) -> StackValidationPolicy:
    """Run `rule` once on every resource's outputs, at the end of a preview or an update."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        cfg, problems = load_config(config, args.get_config(), name)
        for problem in problems:
            report(problem, None)
        if cfg is None:
            return
        resources = [Resource(r.resource_type, r.name, r.urn, plain(r.props)) for r in args.resources]
        stack_name = next((stack_from_urn(r.urn) for r in resources if stack_from_urn(r.urn)), "")
        for message, urn in rule(Stack(stack_name, resources), cfg):
            report(message, urn)

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement_level,
        config_schema=config_schema(config),
    )
