"""Policy config: the schema the CLI validates with, and the messages for config it cannot catch."""

from __future__ import annotations

import jsonschema
import pytest

from ctp_credentials.policies.pack import POLICIES
from ctp_credentials.policies.settings import PolicyConfig, config_schema, load_config
from ctp_credentials.policies.vault_store import VaultKvConfig


def test_nested_models_are_inlined_and_defaults_kept() -> None:
    schema = config_schema(VaultKvConfig)
    assert schema is not None
    locations = schema.properties["allowedLocations"]
    assert "$ref" not in str(locations)
    assert locations["default"] == [{"mount": "secret", "pathPrefix": "commercetools", "kvVersion": 2}]
    assert locations["items"]["required"] == ["mount"]


def test_a_model_without_settings_has_no_schema() -> None:
    class Empty(PolicyConfig):
        pass

    assert config_schema(Empty) is None


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_every_schema_is_valid_and_accepts_its_defaults(policy: object) -> None:
    schema = getattr(policy, "config_schema", None)
    if schema is None:
        return
    root = {"type": "object", "properties": schema.properties}  # what the CLI builds around it
    jsonschema.Draft7Validator.check_schema(root)
    defaults = {k: v["default"] for k, v in schema.properties.items() if "default" in v}
    jsonschema.validate(defaults, root)


def test_unknown_key_is_named_with_the_valid_keys() -> None:
    cfg, problems = load_config(VaultKvConfig, {"allowedLocation": []}, "vault-kv-location")
    assert cfg is None
    (msg,) = problems
    assert msg.startswith("policy pack config vault-kv-location.allowedLocation: unknown key; remove it")
    assert "allowedAddresses, allowedLocations" in msg


def test_wrong_value_is_named() -> None:
    _, (msg,) = load_config(VaultKvConfig, {"allowedLocations": [{"pathPrefix": "x"}]}, "vault-kv-location")
    assert "vault-kv-location.allowedLocations.0.mount: Field required" in msg


def test_numbers_arrive_as_floats_and_are_accepted() -> None:
    from ctp_credentials.policies.rotation import RotationConfig

    cfg, problems = load_config(RotationConfig, {"maxRotateAfterDays": 30.0}, "api-client-rotation")
    assert problems == [] and cfg is not None and cfg.max_rotate_after_days == 30
