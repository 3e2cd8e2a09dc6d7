"""A dynamic provider that does nothing, and the two ways to register it.

`Noop` is an ordinary `pulumi.dynamic.Resource`: SDK 3.79 wraps its pickled provider (`__provider`) in
`Output.secret`, so the engine encrypts it into state on every step, as it does for our providers.
`PlainNoop` registers the same provider under the same kind of type with `__provider` as a plain string: the
difference between the two is what the secret wrapping costs (a later SDK's `serialize_as_secret_always = False`).

The provider lives in this importable module, not in `__main__`, so dill pickles the class by reference, like
the credentials program's providers in `components/providers/`.
"""

from __future__ import annotations

import uuid
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult
from pulumi.dynamic.dynamic import serialize_provider

PROVIDER_KEY = "__provider"


class NoopProvider(ResourceProvider):
    """Every method returns at once; nothing remote, nothing validated."""

    def check(self, _olds: Any, news: Any) -> CheckResult:
        return CheckResult(news, [])

    def diff(self, _id: str, olds: Any, news: Any) -> DiffResult:
        changed = {k: v for k, v in olds.items() if k != PROVIDER_KEY} != {
            k: v for k, v in news.items() if k != PROVIDER_KEY
        }
        return DiffResult(changes=changed, replaces=[], stables=[])

    def create(self, props: Any) -> CreateResult:
        return CreateResult(f"noop-{uuid.uuid4().hex}", props)

    def update(self, _id: str, _olds: Any, news: Any) -> UpdateResult:
        return UpdateResult(news)

    def read(self, id_: str, props: Any) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, _id: str, _props: Any) -> None:
        return None


class Noop(Resource, module="bench", name="Noop"):
    """A no-op dynamic resource, registered as the SDK registers ours (provider wrapped as a secret)."""

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(NoopProvider(), name, dict(props), opts)


class PlainNoop(pulumi.CustomResource):
    """The same no-op resource with its provider in state as plain text (not wrapped in `Output.secret`)."""

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        inputs = {**props, PROVIDER_KEY: serialize_provider(NoopProvider())}
        super().__init__("pulumi-python:dynamic/bench:PlainNoop", name, inputs, opts)
