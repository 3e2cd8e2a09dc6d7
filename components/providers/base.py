"""The base of our dynamic resources: the pickled provider goes into state as plain text, not as a secret.

SDK 3.79's `pulumi.dynamic.Resource` always wraps the pickled provider (`__provider`) in `Output.secret`, so the
engine encrypts it into every resource's inputs and outputs on every step: 454 bytes and a few ms per resource
(bench/RESULTS.md), a known slowness (pulumi/pulumi#15538) that later SDKs let providers turn off with
`serialize_as_secret_always = False`. That is safe only for providers that capture no credentials, which is
true of all of ours: credentials are read inside each method (environment, store), never kept on the provider.
tests/hardening/test_canary.py decodes every pickled provider in state to prove it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, Resource, ResourceProvider
from pulumi.dynamic.dynamic import PROVIDER_KEY, serialize_provider
from pydantic import BaseModel, ValidationError


class PlainProviderResource(Resource):
    """A dynamic resource whose (credential-free) provider is stored unencrypted."""

    def __init__(
        self, provider: ResourceProvider, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if PROVIDER_KEY in props:
            raise ValueError("a dynamic resource must not define the __provider key")
        # Top-level nulls stay: they declare outputs the provider fills in (the engine keeps them as such).
        props = {**{k: engine_form(v) for k, v in props.items()}, PROVIDER_KEY: serialize_provider(provider)}
        # CustomResource's constructor, as Resource's own does, minus the Output.secret around the provider.
        pulumi.CustomResource.__init__(self, f"pulumi-python:{self._resource_type_name}", name, props, opts)


def check_inputs(model: type[BaseModel], news: Any) -> CheckResult:
    """The `check()` of a provider whose only check is its props model: one failure per invalid field.
    Inputs still unknown (from resources not created yet) are checked in `up`, when they are known."""
    if pulumi.contains_unknowns(news):
        return CheckResult(news, [])
    try:
        model.model_validate(news)
    except ValidationError as exc:
        # The field goes into the message, not the failure's property: the engine prints a named property's value
        # beside the reason, and for a secret input (a webhook signing key) that value is the secret.
        failures = [CheckFailure("", f"{'.'.join(map(str, e['loc'])) or 'inputs'}: {e['msg']}") for e in exc.errors()]
        return CheckResult(news, failures)
    return CheckResult(news, [])


def engine_form(value: Any) -> Any:
    """`value` as the engine hands it back: no null inside a map (the engine drops them on the way into state),
    lists for tuples, models as their dumps. Outputs and unknowns pass through untouched.

    The one rule for how maps look, applied to inputs before they go through the engine and to both sides of
    every diff: a null the model dumps and the engine never stores would otherwise read as a change forever."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, Mapping):
        return {k: engine_form(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [engine_form(v) for v in value]
    return value


def comparable(model: type[BaseModel], props: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of `model` in `props` (new inputs, or old state) as a diff compares them: absent or null at the
    field's default, then in engine form. State written before a field existed then equals today's inputs."""
    out: dict[str, Any] = {}
    for key, info in model.model_fields.items():
        value = props.get(key)
        if value is None and not info.is_required():
            value = info.get_default(call_default_factory=True)
        out[key] = engine_form(value)
    return out
