"""Vault: allowed KV v2 mounts and prefixes, KV version, addresses."""

from __future__ import annotations

from typing import Any

import pytest

from ctp_credentials.policies import resource_types as t
from ctp_credentials.policies import vault_store as vs
from ctp_credentials.policies.resources import UNKNOWN
from ctp_credentials.policies.vault_store import VaultKvConfig, VaultLocation, check_vault_secret
from tests.policies.builders import reports, resource_args

DEFAULT = VaultKvConfig()


def secret(**overrides: Any) -> dict[str, Any]:
    """A KvSecret's inputs as the component builds them."""
    props: dict[str, Any] = {
        "connector": "patchworks",
        "owner": "commercetools-credentials/dev",
        "address": "https://vault.example.com:8200",
        "namespace": None,
        "mount": "secret",
        "path": "commercetools/patchworks",
        "data": {"clientSecret": "x" * 32},
        "delete_policy": "delete",
    }
    props.update(overrides)
    return props


@pytest.mark.parametrize("path", ["commercetools/patchworks", "/commercetools/team/a/", "commercetools"])
def test_paths_under_the_default_location_pass(path: str) -> None:
    assert check_vault_secret(secret(path=path), DEFAULT) == []


@pytest.mark.parametrize(
    ("mount", "path"),
    [("secret", "commercetools-old/patchworks"), ("secret", "team-x/patchworks"), ("kv", "commercetools/patchworks")],
)
def test_paths_outside_the_allowed_locations_fail_with_the_fix(mount: str, path: str) -> None:
    (msg,) = check_vault_secret(secret(mount=mount, path=path), DEFAULT)
    assert f"Vault location {mount}/{path} is outside the allowed locations (secret/commercetools/…)" in msg
    assert (
        "set connectors.patchworks.vault.mount and connectors.patchworks.vault.path (store.mount and store.path "
        "in your own program) to a place under one of them"
    ) in msg
    assert "allowedLocations in the vault-kv-location policy config" in msg


def test_dot_segments_are_refused() -> None:
    (msg,) = check_vault_secret(secret(path="commercetools/../other/x"), DEFAULT)
    assert "contains '.' or '..'" in msg


def test_configured_locations_replace_the_default() -> None:
    cfg = VaultKvConfig.model_validate(
        {"allowedLocations": [{"mount": "kv/team-a", "pathPrefix": "ctp"}, {"mount": "secret"}]}
    )
    assert check_vault_secret(secret(mount="kv/team-a", path="ctp/x"), cfg) == []
    assert check_vault_secret(secret(mount="secret", path="anything/at/all"), cfg) == []
    assert check_vault_secret(secret(mount="kv/team-a", path="other/x"), cfg) != []
    assert str(VaultLocation(mount="secret")) == "secret/…"


def test_locations_are_compared_segment_by_segment_blanks_included() -> None:
    """Only slashes around a mount or prefix are ignored; a blank is part of a Vault path segment, so a config
    typo (a leading blank) matches nothing and fails closed."""
    assert VaultLocation(mount="/secret/", path_prefix="/commercetools/").holds("secret", "commercetools/x")
    assert not VaultLocation(mount="secret", path_prefix=" commercetools").holds("secret", "commercetools/x")
    assert not VaultLocation(mount=" secret", path_prefix="commercetools").holds("secret", "commercetools/x")


def test_kv_v2_unless_a_location_is_listed_as_v1() -> None:
    assert check_vault_secret(secret(kv_version=2.0), DEFAULT) == []
    assert check_vault_secret(secret(kv_version=None), DEFAULT) == []
    assert check_vault_secret(secret(kv_version=UNKNOWN), DEFAULT) == []
    (msg,) = check_vault_secret(secret(kv_version=1.0), DEFAULT)
    assert "written as KV v1 to secret/commercetools/patchworks, where KV v2 is allowed" in msg
    assert "remove connectors.patchworks.vault.kvVersion (store.kv_version in your own program) to write KV v2" in msg
    legacy = VaultKvConfig.model_validate(
        {"allowedLocations": [{"mount": "legacy", "pathPrefix": "ctp", "kvVersion": 1}]}
    )
    assert check_vault_secret(secret(mount="legacy", path="ctp/x", kv_version=1), legacy) == []
    assert "(KV v1)" in str(legacy.allowed_locations[0])
    # the engine sends numbers as floats: the fix names kvVersion 2, not 2.0
    (msg,) = check_vault_secret(secret(mount="legacy", path="ctp/x", kv_version=2.0), legacy)
    assert "written as KV v2 to legacy/ctp/x, where KV v1 is allowed" in msg
    assert "or list the location with kvVersion 2 in allowedLocations of the vault-kv-location policy" in msg


def test_a_location_listed_as_both_versions_names_both() -> None:
    both = VaultKvConfig.model_validate(
        {"allowedLocations": [{"mount": "secret", "kvVersion": 1}, {"mount": "secret", "kvVersion": 2}]}
    )
    assert check_vault_secret(secret(kv_version=1), both) == check_vault_secret(secret(kv_version=2), both) == []
    (msg,) = check_vault_secret(secret(kv_version=3), both)
    assert "written as KV v3 to secret/commercetools/patchworks, where KV v1 or KV v2 is allowed;" in msg


def test_allowed_addresses() -> None:
    cfg = VaultKvConfig(allowed_addresses=("https://vault.example.com:8200/",))
    assert check_vault_secret(secret(), cfg) == []
    (msg,) = check_vault_secret(secret(address="http://127.0.0.1:8200"), cfg)
    assert "Vault address http://127.0.0.1:8200 is not an allowed Vault (https://vault.example.com:8200/);" in msg
    assert "allowedAddresses" in msg


def test_allowed_addresses_are_compared_exactly_but_for_a_trailing_slash() -> None:
    cfg = VaultKvConfig(allowed_addresses=("https://VAULTX/", "https://vault.example.com"))
    for address in ("https://VAULTX", "https://VAULTX/", "https://vault.example.com/"):
        assert check_vault_secret(secret(address=address), cfg) == []
    (msg,) = check_vault_secret(secret(address="https://VAULT"), cfg)
    assert "is not an allowed Vault (https://VAULTX/, https://vault.example.com);" in msg


def test_unknown_location_is_left_for_up() -> None:
    assert check_vault_secret(secret(path=UNKNOWN), DEFAULT) == []


def test_policy_matches_kv_secrets() -> None:
    assert len(reports(vs.POLICY, resource_args(t.VAULT_KV_SECRET, secret(path="x/y")))) == 1
    assert reports(vs.POLICY, resource_args(t.AWS_SECRET, secret(path="x/y"))) == []


def test_a_managed_clients_store_is_held_to_the_same_locations() -> None:
    """A managed connector has no KvSecret: its ApiClient writes to the `store` in its own inputs."""
    store = {k: v for k, v in secret(mount="other", path="anywhere").items() if k != "data"}
    client = {"connector": "patchworks", "store_kind": "vault", "store": store}
    ((msg, _urn),) = reports(vs.POLICY, resource_args(t.API_CLIENT, client))
    assert "Vault location other/anywhere is outside the allowed locations" in msg
    assert reports(vs.POLICY, resource_args(t.API_CLIENT, {**client, "store": secret()})) == []
    assert reports(vs.POLICY, resource_args(t.API_CLIENT, {**client, "store_kind": "secretsManager"})) == []
