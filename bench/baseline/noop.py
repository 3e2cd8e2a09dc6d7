"""A dynamic provider that does nothing, and the two ways to register it.

`Noop` is an ordinary `pulumi.dynamic.Resource` with the SDK's default: its pickled provider (`__provider`) is
wrapped in `Output.secret`, so the engine encrypts it into state on every step. `PlainNoop` is the same provider
with `serialize_as_secret_always = False`, as our providers are (`__provider` a plain string): the difference
between the two is what the secret wrapping costs.

The provider lives in this importable module, not in `__main__`, so dill pickles the class by reference, like
the credentials program's providers in `components/providers/`.
"""

from __future__ import annotations

import uuid
from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

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


class PlainNoopProvider(NoopProvider):
    serialize_as_secret_always = False


class PlainNoop(Resource, module="bench", name="PlainNoop"):
    """The same no-op resource with its provider in state as plain text (not wrapped in `Output.secret`)."""

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(PlainNoopProvider(), name, dict(props), opts)
