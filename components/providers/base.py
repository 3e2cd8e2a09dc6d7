"""The base of our dynamic resources: the pickled provider goes into state as plain text, not as a secret.

SDK 3.79's `pulumi.dynamic.Resource` always wraps the pickled provider (`__provider`) in `Output.secret`, so the
engine encrypts it into every resource's inputs and outputs on every step: 454 bytes and a few ms per resource
(bench/RESULTS.md), a known slowness (pulumi/pulumi#15538) that later SDKs let providers turn off with
`serialize_as_secret_always = False`. That is safe only for providers that capture no credentials, which is
true of all of ours: credentials are read inside each method (environment, store), never kept on the provider.
tests/hardening/test_canary.py decodes every pickled provider in state to prove it.
"""

from __future__ import annotations

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
        props = {**props, PROVIDER_KEY: serialize_provider(provider)}
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
