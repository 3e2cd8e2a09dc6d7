"""Plain data for the rules: what the analyzer hands a policy, with the SDK's wrappers taken off.

What pulumi-policy 1.7.0 under CLI 3.79 gives a policy (checked through the engine, see
tests/policies/test_engine.py):

- `props` are proxies that raise `UnknownValueError` on reading a value not known during preview (an output of
  a resource not created yet). `plain()` turns them into dicts and lists with `UNKNOWN` in those places, so a
  rule decides what an unknown means instead of the SDK downgrading the whole policy to an advisory
  "can't run policy during preview".
- Secrets arrive *unwrapped*: the engine sends them with `KeepSecrets` and the SDK's deserializer drops the
  secret marker, so a policy sees the plaintext and cannot tell a secret from a plain value. `plain()` also
  unwraps the wire form (`{"4dabf…": "1b47…", "value": …}`) in case a caller passes undeserialized data.
- Numbers arrive as floats (`7.0`), also the ones the program wrote as ints.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

from .resource_types import API_CLIENT


class _Unknown:
    """A value the engine does not know yet (preview). Falsy, so `if value:` treats it as absent."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Final = _Unknown()
_SENTINELS = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


def plain(value: Any) -> Any:
    """A deep copy of `value` as dicts, lists and scalars; unknowns become `UNKNOWN`, secrets their value."""
    if isinstance(value, str):
        return UNKNOWN if value in _SENTINELS else value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                out[str(key)] = plain(value[key])
            except UnknownValueError:
                out[str(key)] = UNKNOWN
        if out.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG:
            return out.get("value")
        return out
    if isinstance(value, Sequence):
        items: list[Any] = []
        for i in range(len(value)):
            try:
                items.append(plain(value[i]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


def stack_from_urn(urn: str) -> str:
    """`urn:pulumi:<stack>::<project>::<type>::<name>` -> `<stack>` ("" if the URN is not of that form).

    The URN is the one place a policy learns the stack name that works in both the analyzer and unit tests
    (the analyzer also gets PULUMI_STACK in its environment, a test does not).
    """
    head = urn.split("::", 1)[0]
    parts = head.split(":", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "urn" and parts[1] == "pulumi" else ""


def matches_any(name: str, patterns: Iterable[str], *, ignore_case: bool = False) -> str | None:
    """The first shell-style pattern (`prod`, `prod-*`) that matches `name`, or None.

    `ignore_case` for lists that make a rule stricter (production stacks: `Prod` is production too); lists
    that relax a rule match exactly, so a look-alike stack name gets no exemption."""
    for pattern in patterns:
        if fnmatch.fnmatchcase(name.lower() if ignore_case else name, pattern.lower() if ignore_case else pattern):
            return pattern
    return None


def shown(url: str) -> str:
    """The URL for a message, without any `user:password@` (a URL can carry credentials; messages never do)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.username is None and parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


def as_number(value: Any) -> float | None:
    """A number from what the engine sends (ints arrive as floats; numeric strings); None if it is not one."""
    if isinstance(value, bool) or value is None or value is UNKNOWN:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def as_int(value: Any) -> int | None:
    """A whole number from what the engine sends (floats, ints, numeric strings); None if it is not one."""
    if isinstance(value, bool) or value is None or value is UNKNOWN:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


@dataclass(frozen=True)
class Resource:
    """One resource as a rule sees it: inputs (resource policies) or outputs (stack policies), plain."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any] = field(default_factory=dict)

    @property
    def stack(self) -> str:
        return stack_from_urn(self.urn)

    def store_settings(self, kind: str) -> Mapping[str, Any] | None:
        """Where this resource writes a secret to a store of `kind` ("vault", "secretsManager"): a store
        resource's own inputs, or a managed ApiClient's `store` input (it writes its secret itself)."""
        if self.type != API_CLIENT:
            return self.props
        store = self.props.get("store")
        return store if self.props.get("store_kind") == kind and isinstance(store, Mapping) else None


@dataclass(frozen=True)
class Stack:
    """Every resource of a stack at the end of a preview or update, for stack policies."""

    name: str
    resources: Sequence[Resource]

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources if r.type in types]
