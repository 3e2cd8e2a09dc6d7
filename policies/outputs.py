"""No secret in outputs: the stack's outputs and the connector documents never contain a client secret.

Outputs are what other people and stacks read (`pulumi stack output`, StackReferences, the integration
platform's form). The secret lives in one place, the store its `secretRef` names. The analyzer sees secrets
in plaintext and without their secret marker (see resources.py), so the rule compares values: every string in
the public outputs against every client secret found in the inputs of our secret-holding resources. An output
marked secret is flagged too: encrypted in state, it is still handed to every reader of the stack who asks.

At preview the connector documents are unknown (they wait for the Vault write); unknowns are skipped, and the
same policy runs on the final outputs at the end of `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel

from . import resource_types as t
from .adapters import stack_policy
from .resources import Stack
from .settings import PolicyConfig

NAME = "no-secret-in-outputs"
SECRET_KEYS = frozenset({"client_secret", "clientSecret", "secret", "secret_string", "secretString"})
# Shorter values are not credentials we hold (and would match by accident, e.g. inside a URL).
MIN_SECRET_LENGTH = 8


class OutputsConfig(PolicyConfig):
    """No settings: only the enforcement level is configurable."""


def collect_secrets(props: Mapping[str, Any], connector: str = "?") -> dict[str, str]:
    """secret value -> connector name, from one resource's inputs. An object's `connector` key names the
    connector for everything inside it (each CredentialCheck entry has one, as do the per-connector resources)."""
    out: dict[str, str] = {}
    here = props.get("connector")
    owner = here if isinstance(here, str) else connector
    for key, value in props.items():
        if key in SECRET_KEYS and isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
            out[value] = owner
        elif isinstance(value, Mapping):
            out.update(collect_secrets(value, owner))
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    out.update(collect_secrets(item, owner))
    return out


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, string) for every string in a JSON-like value; paths look like `connectors.a.secretRef.path`."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from strings(item, f"{path}[{i}]")


def leaks(outputs: Mapping[str, Any], secrets: Mapping[str, str]) -> list[tuple[str, str]]:
    """(output path, connector) for every output string that contains one of `secrets`."""
    return [
        (path, connector) for path, text in strings(outputs) for secret, connector in secrets.items() if secret in text
    ]


def validate(stack: Stack, _cfg: OutputsConfig) -> list[tuple[str, str | None]]:
    secrets: dict[str, str] = {}
    for r in stack.of_type(*t.SECRET_HOLDERS):
        secrets.update(collect_secrets(r.props))
    if not secrets:
        return []
    out: list[tuple[str, str | None]] = []
    for r in stack.of_type(*t.PUBLIC_OUTPUTS):
        for path, connector in leaks(r.props, secrets):
            where = f"stack output '{path}'" if r.type == t.STACK else f"output '{path}' of {r.type} '{r.name}'"
            out.append(
                (
                    f"{where} contains the client secret of connector '{connector}'; remove it from the outputs "
                    "(what the program passes to pulumi.export, or a component to register_outputs). Consumers "
                    "read the secret from the store that secretRef names in the connector's document "
                    "(CommercetoolsConnector's config output)",
                    r.urn,
                )
            )
    return out


POLICY = stack_policy(
    name=NAME,
    description="Stack outputs and connector documents never contain a client secret.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config=OutputsConfig,
    rule=validate,
)
