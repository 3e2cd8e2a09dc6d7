"""The base of our dynamic resources and providers: one rule for maps, a plain pickled provider, plain errors.

- `engine_form`/`comparable`: how maps look through the engine (no null inside), applied to every resource's
  inputs and to both sides of every provider's diff.
- `PlainProvider.serialize_as_secret_always = False` (SDK >= 3.128, the supported way): the pickled provider goes
  into state unencrypted instead of wrapped as a secret on every step, 454 bytes and a few ms per resource
  (bench/RESULTS.md, pulumi/pulumi#15538). Safe only because our providers capture no credentials: they read
  them inside each method (environment, store). tests/hardening/test_canary.py decodes every pickled provider in
  state to prove it.
- `report_plainly`: our own errors reach the user as their message alone (see there).
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, Resource, ResourceProvider
from pydantic import BaseModel, ValidationError

from ..errors import CredentialsError


class PlainProvider(ResourceProvider):
    """A provider that holds no credentials, so its pickle in state needs no encryption."""

    serialize_as_secret_always = False


class ProviderResource(Resource):
    """A dynamic resource whose inputs go through the engine in engine form."""

    def __init__(
        self, provider: PlainProvider, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Top-level nulls stay: they declare outputs the provider fills in (the engine keeps them as such).
        super().__init__(provider, name, {k: engine_form(v) for k, v in props.items()}, opts)


class _PlainTraceback(ModuleType):
    """`traceback` as the dynamic-provider server sees it: for our own errors the message alone."""

    def __init__(self) -> None:
        super().__init__("traceback")
        # everything of the real module but format_exc, which would shadow ours
        self.__dict__.update({k: v for k, v in traceback.__dict__.items() if k != "format_exc"})

    @staticmethod
    def format_exc(limit: int | None = None, chain: bool = True) -> str:
        exc = sys.exc_info()[1]
        if isinstance(exc, CredentialsError):
            return str(exc)
        return traceback.format_exc(limit=limit, chain=chain)  # a bug: keep everything that helps find it


def report_plainly() -> None:
    """Make the dynamic-provider server report our errors as their message alone.

    SDK 3.272's server (`python -m pulumi.dynamic`) answers every exception a provider raises with
    `context.abort(UNKNOWN, traceback.format_exc())`: ~15 lines of traceback in front of a message written for
    the user (it names the key, the remote error and the fix). The SDK offers no hook for this, so the server
    module's `traceback` is replaced by one whose `format_exc` gives the message alone for a CredentialsError
    (anything else keeps its traceback). This touches an SDK internal: tests/e2e/test_provider_errors.py fails
    if a new SDK changes how the server reports errors. Runs when a provider is unpickled in that process."""
    server = sys.modules.get("__main__")
    serving = server is not None and hasattr(server, "DynamicResourceProviderServicer")
    if serving and not isinstance(getattr(server, "traceback", None), _PlainTraceback):
        setattr(server, "traceback", _PlainTraceback())  # noqa: B010  # a module we do not own


report_plainly()


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
