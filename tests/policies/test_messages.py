"""Each rule's messages whole, as a reviewer reads them in a pull request, and the bounds each rule draws.

The other policy tests match the part of a message that matters to them; mutation testing showed that left
which config key a fix names, how lists are joined and which stack a rule judges unchecked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctp_credentials.policies import aws_secret, least_privilege, rotation, vault_store
from ctp_credentials.policies import resource_types as t
from ctp_credentials.policies.aws_secret import AwsSecretConfig, check_aws_secret
from ctp_credentials.policies.least_privilege import LeastPrivilegeConfig, check_least_privilege
from ctp_credentials.policies.outputs import MIN_SECRET_LENGTH, collect_secrets
from ctp_credentials.policies.resources import UNKNOWN, Resource
from ctp_credentials.policies.rotation import RotationConfig, check_rotation
from ctp_credentials.policies.vault_store import VaultKvConfig, VaultLocation, check_vault_secret
from tests.policies.builders import PK, connector, urn
from tests.policies.test_aws_secret import secret as aws_secret_props
from tests.policies.test_rotation import client
from tests.policies.test_vault_store import secret as vault_secret_props

AWS_NAME = "aws-secret-protection"
URLS = "connectors.patchworks.authUrl and connectors.patchworks.apiUrl (auth_url and api_url in your own program)"
REG = "connectors.patchworks.region (region in your own program)"


def resource(type_: str, props: Mapping[str, Any], stack: str) -> Resource:
    return Resource(type_, "r", urn(type_, "r", stack), props)


def test_aws_secret_messages_name_the_key_and_the_policy_config() -> None:
    cfg = AwsSecretConfig(allowed_kms_keys=("alias/a", "alias/b"), required_tags=("team", "cost-center"))
    props = aws_secret_props(recovery_window_days=7.0, force_delete=True, tags={"team": ""})
    key = props["kms_key_id"]
    sm = "connectors.patchworks.secretsManager"
    assert check_aws_secret(props, "prod", cfg) == [
        f"connector 'patchworks': KMS key {key} is not an allowed key (alias/a, alias/b); set {sm}.kmsKeyId "
        f"(store.kms_key_id in your own program) to one of them, or add it to allowedKmsKeys in the {AWS_NAME} "
        "policy config",
        f"connector 'patchworks': force_delete removes the secret without a recovery window; remove "
        f"{sm}.forceDelete (store.force_delete in your own program), or, for a throwaway stack, add 'prod' to "
        f"recoveryWindowExemptStacks in the {AWS_NAME} policy config",
        f"connector 'patchworks': the secret lacks the tags team, cost-center; set them in {sm}.tags (store.tags "
        f"in your own program), or change requiredTags in the {AWS_NAME} policy config",
    ]


def test_aws_managed_key_message_whole() -> None:
    (msg,) = check_aws_secret(aws_secret_props(kms_key_id="alias/aws/secretsmanager"), "prod", AwsSecretConfig())
    assert msg == (
        "connector 'patchworks': KMS key alias/aws/secretsmanager is AWS-managed; set "
        "connectors.patchworks.secretsManager.kmsKeyId (store.kms_key_id in your own program) to a customer-managed "
        "KMS key (key ARN or alias/<name>)"
    )


def test_aws_secret_bounds_and_the_stack_it_judges() -> None:
    """7 days is the minimum itself (allowed); the exemption is by the stack of the resource being judged."""
    assert check_aws_secret(aws_secret_props(recovery_window_days=7.0), "prod", AwsSecretConfig()) == []
    (below,) = check_aws_secret(aws_secret_props(recovery_window_days=6.0), "prod", AwsSecretConfig())
    assert below == (
        "connector 'patchworks': recovery window of 6 days is below 7; set "
        "connectors.patchworks.secretsManager.recoveryWindowDays (store.recovery_window_days in your own program) "
        "to 7-30 (or remove it: AWS defaults to 30)"
    )
    exempt = AwsSecretConfig(recovery_window_exempt_stacks=("scratch",))
    forced = aws_secret_props(force_delete=True)
    assert aws_secret.validate(resource(t.AWS_SECRET, forced, "scratch"), exempt) == []
    assert len(aws_secret.validate(resource(t.AWS_SECRET, forced, "prod"), exempt)) == 1
    (nameless,) = [
        m for m in check_aws_secret(aws_secret_props(connector=None), "prod", AwsSecretConfig()) if "'?'" in m
    ]
    assert nameless.startswith("connector '?': the secret has no 'connector'")


def test_least_privilege_allow_list_messages_and_the_stack_they_apply_to() -> None:
    cfg = LeastPrivilegeConfig(allowed_scopes=("view_orders", "view_products"), allowed_scopes_by_stack={"dev": ()})
    name = "commercetools-least-privilege"
    c = connector(scopes=[f"manage_orders:{PK}", f"view_orders:{PK}:store-eu"])
    assert check_least_privilege(c, "prod", cfg) == [
        f"connector 'patchworks': scope 'manage_orders:{PK}' is not on the allow-list allowedScopes "
        "(view_orders, view_products); remove it from connectors.patchworks.scopes (scopes in your own program), "
        "or add 'manage_orders' to "
        f"allowedScopes in the {name} policy config"
    ]
    # dev has a list of its own, empty: nothing passes it, and the message says so
    dev = check_least_privilege(connector(scopes=[f"view_orders:{PK}"]), "dev", cfg)
    assert dev == [
        f"connector 'patchworks': scope 'view_orders:{PK}' is not on the allow-list allowedScopesByStack['dev'] "
        "(empty); remove it from connectors.patchworks.scopes (scopes in your own program), or add 'view_orders' to "
        f"allowedScopesByStack['dev'] in the {name} policy config"
    ]
    check = {"connectors": {"patchworks": connector(scopes=[f"view_orders:{PK}"])}}
    assert least_privilege.validate(resource(t.CREDENTIAL_CHECK, check, "dev"), cfg) == dev
    assert least_privilege.validate(resource(t.CREDENTIAL_CHECK, check, "prod"), cfg) == []
    assert least_privilege.validate(resource(t.API_CLIENT, connector(scopes=[f"view_orders:{PK}"]), "dev"), cfg) == dev


def test_least_privilege_reports_every_privileged_scope_with_its_reason() -> None:
    c = connector(scopes=[f"manage_api_clients:{PK}", f"manage_project:{PK}", f"view_orders:{PK}"])
    messages = check_least_privilege(c, "dev", LeastPrivilegeConfig())
    assert [m.split("'")[3] for m in messages] == [f"manage_api_clients:{PK}", f"manage_project:{PK}"]
    assert all(least_privilege._WHY[m.split("'")[3].split(":")[0]] in m for m in messages)


def test_vault_location_messages() -> None:
    cfg = VaultKvConfig(
        allowed_locations=(
            VaultLocation(mount="secret", path_prefix="commercetools"),
            VaultLocation(mount="kv1", path_prefix="legacy", kv_version=1),
        ),
        allowed_addresses=("https://vault.example.com:8200",),
    )
    props = vault_secret_props(mount="other", path="x/y", address="https://evil.example.com")
    name = "vault-kv-location"
    assert check_vault_secret(props, cfg) == [
        "connector 'patchworks': Vault location other/x/y is outside the allowed locations (secret/commercetools/…, "
        "kv1/legacy/… (KV v1)); set connectors.patchworks.vault.mount and connectors.patchworks.vault.path "
        "(store.mount and store.path in your own program) to a place under one of them (the defaults are secret "
        f"and commercetools/patchworks), or add the location to allowedLocations in the {name} policy config",
        "connector 'patchworks': Vault address https://evil.example.com is not an allowed Vault "
        "(https://vault.example.com:8200); set connectors.patchworks.vault.address (store.address in your own "
        f"program) or VAULT_ADDR to one of them, or add it to allowedAddresses in the {name} policy config",
    ]
    (none,) = check_vault_secret(vault_secret_props(), VaultKvConfig(allowed_locations=()))
    assert "is outside the allowed locations (none);" in none
    assert vault_store.validate(resource(t.VAULT_KV_SECRET, vault_secret_props(), "dev"), VaultKvConfig()) == []


def test_rotation_bounds_are_inclusive() -> None:
    cfg = RotationConfig()
    assert check_rotation(client(rotate_after_days=1.0, delete_days_after_creation=8), cfg) == []
    (short,) = check_rotation(client(connector="c", rotate_after_days=0.5), cfg)
    assert short == (
        "connector 'c': rotation period 0.5 days is outside 1-90; set connectors.c.managed.rotateAfterDays "
        "(managed.rotate_after_days in your own program) within it (or change min/maxRotateAfterDays in the "
        "api-client-rotation policy config)"
    )
    assert rotation.validate(resource(t.API_CLIENT, client(rotate_after_days=0.5), "dev"), cfg) != []


def test_secrets_are_collected_from_nested_lists_with_their_owner() -> None:
    secret = "s" * MIN_SECRET_LENGTH  # exactly the shortest length that counts
    props = {
        "connector": "outer",
        "items": [{"connector": "inner", "clientSecret": secret}, {"secret": "t" * 20}, "not-a-map"],
        "clientSecret": "short",
    }
    assert collect_secrets(props) == {secret: "inner", "t" * 20: "outer"}


def test_endpoint_messages_whole() -> None:
    from ctp_credentials.policies.endpoints import (
        OfficialEndpointsConfig,
        check_deprecated_region,
        check_known_region,
        check_official_endpoints,
    )

    off = "commercetools-official-endpoints"
    both = connector(region="europe-west1.gcp", auth_url="https://proxy.example.com", api_url="https://x.example")
    assert check_official_endpoints(both, "prod", OfficialEndpointsConfig()) == [
        "connector 'patchworks': authUrl https://proxy.example.com and apiUrl https://x.example are not the "
        "official hosts https://auth.europe-west1.gcp.commercetools.com and "
        f"https://api.europe-west1.gcp.commercetools.com; remove {URLS} (the region then decides both), or, for a "
        f"test or demo stack only, add 'prod' to allowedStacks in the {off} policy config"
    ]
    # a custom host first, then a region mismatch: the custom one is reported first (inserted at 0)
    mixed = connector(
        region="europe-west1.gcp",
        auth_url="https://auth.us-east-2.aws.commercetools.com",
        api_url="https://proxy.example.com",
    )
    first, second = check_official_endpoints(mixed, "prod", OfficialEndpointsConfig())
    assert first.startswith("connector 'patchworks': apiUrl https://proxy.example.com is not the official ")
    assert second == (
        "connector 'patchworks': authUrl https://auth.us-east-2.aws.commercetools.com serves region us-east-2.aws, "
        f"but the connector's region is europe-west1.gcp; remove {URLS}, or set {REG} to us-east-2.aws"
    )
    # an unknown URL (known only after up) is skipped, the other one still judged
    later = connector(region="europe-west1.gcp", auth_url=UNKNOWN, api_url="https://proxy.example.com")
    (only,) = check_official_endpoints(later, "prod", OfficialEndpointsConfig())
    assert "apiUrl https://proxy.example.com is not the official commercetools host" in only
    (unknown_region,) = check_known_region(connector(connector=None, region="mars-1"))
    assert unknown_region == (
        "connector '?': region 'mars-1' is not a commercetools region; set connectors.?.region (region in your own "
        "program) to one of "
        "europe-west1.gcp, eu-central-1.aws, us-central1.gcp, us-east-2.aws, australia-southeast1.gcp (the "
        "Merchant Center URL of the project shows it)"
    )
    old = connector(region="europe-west1.gcp", auth_url="https://auth.sphere.io", api_url="https://api.sphere.io")
    assert check_deprecated_region(old) == [
        f"connector 'patchworks': {key} https://{kind}.sphere.io is a deprecated commercetools host; remove "
        f"{URLS} and set {REG} to europe-west1.gcp (the official host is "
        f"https://{kind}.europe-west1.gcp.commercetools.com)"
        for kind, key in (("auth", "authUrl"), ("api", "apiUrl"))
    ]
    no_auth = connector(region="europe-west1.gcp", auth_url=None, api_url="https://api.commercetools.co")
    (api_only,) = check_deprecated_region(no_auth)
    assert "apiUrl https://api.commercetools.co is a deprecated" in api_only and "us-central1.gcp" in api_only


def test_what_counts_as_an_official_url() -> None:
    from ctp_credentials.policies.endpoints import official_region

    host = "auth.europe-west1.gcp.commercetools.com"
    assert official_region(f"https://{host}", "auth") == ("europe-west1.gcp", False)
    assert official_region(f"https://{host.upper()}:443/", "auth") == ("europe-west1.gcp", False)
    assert official_region("https://auth.sphere.io", "auth") == ("europe-west1.gcp", True)
    assert official_region("https://api.commercetools.co", "api") == ("us-central1.gcp", True)
    for url in (f"https://{host}:444", f"https://user@{host}", f"https://:pw@{host}", f"http://{host}", "https://"):
        assert official_region(url, "auth") is None, url


def test_least_privilege_judges_every_scope_and_names_stores() -> None:
    cfg = LeastPrivilegeConfig(allowed_scopes_by_connector={"patchworks": ("view_orders",)})
    c = connector(scopes=["fly_to_moon:x", f"manage_api_clients:{PK}", f"view_products:{PK}:store-eu"])
    unparsable, privileged, *listed = check_least_privilege(c, "dev", cfg)
    assert "'fly_to_moon' is not a commercetools scope name" in unparsable  # and the scopes after it judged too
    assert privileged.startswith(f"connector 'patchworks': scope 'manage_api_clients:{PK}' lets ")
    assert [m.split("'")[3] for m in listed] == [f"manage_api_clients:{PK}", f"view_products:{PK}:store-eu"]
    assert all("allowedScopesByConnector['patchworks']" in m for m in listed)
    assert check_least_privilege(connector("other", scopes=[f"view_products:{PK}"]), "dev", cfg) == []  # no list


def test_a_connector_without_a_name_is_named_as_such() -> None:
    from ctp_credentials.policies.endpoints import check_deprecated_region

    (lp,) = check_least_privilege(
        connector(connector=None, scopes=[f"manage_project:{PK}"]), "dev", LeastPrivilegeConfig()
    )
    assert lp.startswith("connector '?': scope")
    (dep,) = check_deprecated_region(connector(connector=None, region="sphere.io"))
    assert dep.startswith("connector '?': region 'sphere.io' is a deprecated")
    rot, _expiry = check_rotation(client(connector=None, rotate_after_days=500.0), RotationConfig())
    assert rot.startswith("connector '?': rotation period 500 days")
    (vault,) = check_vault_secret(vault_secret_props(connector=None, path="elsewhere/x"), VaultKvConfig())
    assert vault.startswith("connector '?': Vault location secret/elsewhere/x is outside")


def test_vault_locations_match_by_segment_and_addresses_without_a_trailing_slash() -> None:
    cfg = VaultKvConfig(allowed_addresses=("https://vault.example.com:8200/",))
    assert check_vault_secret(vault_secret_props(address="https://vault.example.com:8200/"), cfg) == []
    assert check_vault_secret(vault_secret_props(address="https://vault.example.com:8200"), cfg) == []
    (outside,) = check_vault_secret(vault_secret_props(path="X/commercetools/a"), VaultKvConfig())
    assert "Vault location secret/X/commercetools/a is outside" in outside
    (dot,) = check_vault_secret(vault_secret_props(path="commercetools/./a"), VaultKvConfig())
    assert dot == (
        "connector 'patchworks': Vault path 'commercetools/./a' contains '.' or '..'; set "
        "connectors.patchworks.vault.path (store.path in your own program) to a plain path such as "
        "commercetools/patchworks"
    )
