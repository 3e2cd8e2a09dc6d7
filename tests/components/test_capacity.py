"""The config model's capacity bounds (README, "Capacity"): connectors per stack, scopes per connector and the
stack config's size as the engine passes it, each refused with a config error that names the limit and the fix.
Through the real engine, at and just above the bound: tests/e2e/test_capacity.py."""

from __future__ import annotations

from typing import Any

import pytest

from ctp_credentials.components.config import (
    ENGINE_CONFIG_LIMIT,
    MAX_CONFIG_BYTES,
    MAX_CONNECTORS,
    MAX_SCOPES,
    capacity_problem,
    encoded_config_size,
    load_stack_config,
    secret_config_key,
)
from ctp_credentials.components.errors import ConfigError
from tests.conftest import CANARY

pytestmark = pytest.mark.security("bad-input")
PK = "product-patchworks"


def connector(scopes: int) -> dict[str, Any]:
    return {
        "projectKey": PK,
        "scopes": [f"view_orders:{PK}:store-{i:05d}" for i in range(scopes)],
        "clientId": "AbCdEfGhIjKl",
    }


def lookup(key: str) -> tuple[str | None, bool]:
    return (CANARY, True) if key.startswith(secret_config_key("")) else (None, False)


def test_the_size_is_counted_as_the_engine_encodes_the_config() -> None:
    # Inner quotes are escaped: the structured value travels as a JSON string inside the JSON object.
    assert encoded_config_size({"ns:k": {"a": "b"}}) == len('{"ns:k":"{\\"a\\":\\"b\\"}"}')
    assert encoded_config_size({"ns:k": '{"a":"b"}'}) == encoded_config_size({"ns:k": {"a": "b"}})
    # the figure measured on the engine: 2,760 store scopes on one connector encode to 129,991 bytes and ran,
    # 2,800 encode to 131,871 and failed with "argument list too long"
    for scopes, size in ((2760, 129_991), (2800, 131_871)):
        config = {
            "connectors": {
                "connector-000": {
                    "projectKey": PK,
                    "clientId": "client000abcdefghijkl",
                    "checkCredentials": False,
                    "scopes": [f"view_orders:{PK}:store-{s:05d}" for s in range(scopes)],
                }
            }
        }
        values: dict[str, Any] = {f"commercetools-credentials:{k}": v for k, v in config.items()}
        values["commercetools-credentials:clientSecret-connector-000"] = "s" * 32
        assert encoded_config_size(values) == size
    assert 129_991 < ENGINE_CONFIG_LIMIT < 131_871
    assert MAX_CONFIG_BYTES < ENGINE_CONFIG_LIMIT * 0.8  # a margin for the engine's own encoding


def test_a_config_above_the_bound_is_refused_before_anything_else_is_read() -> None:
    assert capacity_problem(MAX_CONFIG_BYTES) is None
    problem = capacity_problem(MAX_CONFIG_BYTES + 1)
    assert problem is not None and f"at most {MAX_CONFIG_BYTES:,}" in problem and "Split the connectors" in problem
    with pytest.raises(ConfigError) as refused:
        load_stack_config({"x": connector(1)}, lookup, config_bytes=MAX_CONFIG_BYTES + 1)
    assert str(refused.value) == problem
    assert load_stack_config({"x": connector(1)}, lookup, config_bytes=MAX_CONFIG_BYTES).connectors


def test_scopes_per_connector_are_bounded() -> None:
    assert len(load_stack_config({"x": connector(MAX_SCOPES)}, lookup).connectors[0].scopes) == MAX_SCOPES
    with pytest.raises(ConfigError) as refused:
        load_stack_config({"x": connector(MAX_SCOPES + 1)}, lookup)
    message = str(refused.value)
    assert f"connectors.x.scopes: {MAX_SCOPES + 1} scopes; a connector has at most {MAX_SCOPES}" in message
    assert CANARY not in message


def test_connectors_per_stack_are_bounded() -> None:
    assert len(load_stack_config({f"c{i}": connector(1) for i in range(MAX_CONNECTORS)}, lookup).connectors) == 100
    with pytest.raises(ConfigError) as refused:
        load_stack_config({f"c{i}": connector(1) for i in range(MAX_CONNECTORS + 1)}, lookup)
    assert str(refused.value) == (
        f"connectors: {MAX_CONNECTORS + 1} connectors; a stack holds at most {MAX_CONNECTORS} (README, 'Capacity'). "
        "Split them across stacks, e.g. one stack per commercetools project or per team"
    )
