"""Typed policy config: one pydantic model per policy, and the JSON schema the CLI validates config against.

The model is the single source of truth: its JSON schema (with defaults) becomes the policy's `config_schema`,
so the CLI fills in defaults and rejects wrong types before the pack runs; the model parses what arrives.
The CLI cannot reject an unknown key (the SDK's schema root allows any), so the model does, and the adapter
reports it as a violation of that policy: a typo in a mandatory policy's config fails closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pulumi_policy import PolicyConfigSchema
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

# Stack names treated as production unless a policy's config says otherwise (shell-style patterns).
DEFAULT_PRODUCTION_STACKS = ("prod", "prod-*", "*-prod", "production", "production-*", "*-production")


class PolicyConfig(BaseModel):
    """Base for every policy's config: camelCase keys as in the pack config file, unknown keys refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


C = TypeVar("C", bound=PolicyConfig)


def config_schema(model: type[PolicyConfig]) -> PolicyConfigSchema | None:
    """The model's JSON schema as pulumi-policy wants it: properties only, `$ref`s inlined (the CLI validates
    each policy's properties against a root it builds itself, so references to `$defs` would not resolve)."""
    raw = model.model_json_schema(by_alias=True)
    defs = raw.get("$defs", {})
    properties = {key: _inline(value, defs) for key, value in raw.get("properties", {}).items()}
    return PolicyConfigSchema(properties) if properties else None


def _inline(node: Any, defs: Mapping[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "title"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def load_config(model: type[C], raw: Mapping[str, Any] | None, policy: str) -> tuple[C | None, list[str]]:
    """Parse a policy's config; on failure, messages that name the key and the fix (never a value)."""
    try:
        return model.model_validate(dict(raw or {})), []
    except ValidationError as exc:
        keys = ", ".join(sorted(f.alias or n for n, f in model.model_fields.items())) or "none"
        problems = []
        for err in exc.errors(include_url=False, include_input=False):
            where = ".".join(str(p) for p in err["loc"]) or "(config)"
            if err["type"] == "extra_forbidden":
                fix = f"unknown key; remove it (the keys of {policy} are: {keys})"
            else:
                fix = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"policy pack config {policy}.{where}: {fix}")
        return None, problems
