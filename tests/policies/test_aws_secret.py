"""Secrets Manager: customer-managed KMS key, recovery window where required, ownership tags."""

from __future__ import annotations

from typing import Any

import pytest

from ctp_credentials.policies import aws_secret as aws
from ctp_credentials.policies import resource_types as t
from ctp_credentials.policies.aws_secret import AwsSecretConfig, check_aws_secret
from ctp_credentials.policies.resources import UNKNOWN
from tests.policies.builders import reports, resource_args

DEFAULT = AwsSecretConfig()
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def secret(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "connector": "patchworks",
        "owner": "commercetools-credentials/prod",
        "name": "commercetools/patchworks",
        "region": "eu-west-1",
        "kms_key_id": KEY,
        "description": "commercetools credentials of connector patchworks",
        "tags": {"cost-center": "42"},
        "recovery_window_days": 30.0,
        "force_delete": False,
    }
    props.update(overrides)
    return props


def test_compliant_secret_passes() -> None:
    assert check_aws_secret(secret(), "prod", DEFAULT) == []
    assert (
        check_aws_secret(secret(recovery_window_days=None, kms_key_id="alias/ctp-credentials"), "prod", DEFAULT) == []
    )


@pytest.mark.parametrize(
    "key", [None, "", "alias/aws/secretsmanager", "arn:aws:kms:eu-west-1:1:alias/aws/secretsmanager"]
)
def test_default_or_aws_managed_key_is_refused(key: str | None) -> None:
    (msg,) = check_aws_secret(secret(kms_key_id=key), "prod", DEFAULT)
    assert (
        "set connectors.patchworks.secretsManager.kmsKeyId (store.kms_key_id in your own program) to a "
        "customer-managed KMS key"
    ) in msg


def test_allowed_kms_keys() -> None:
    cfg = AwsSecretConfig(allowed_kms_keys=("alias/ctp",))
    (msg,) = check_aws_secret(secret(), "prod", cfg)
    assert "is not an allowed key (alias/ctp)" in msg and "allowedKmsKeys" in msg


def test_recovery_window() -> None:
    (msg,) = check_aws_secret(secret(recovery_window_days=3), "prod", DEFAULT)
    assert (
        "recovery window of 3 days is below 7" in msg
        and "connectors.patchworks.secretsManager.recoveryWindowDays (store.recovery_window_days in" in msg
    )
    (msg,) = check_aws_secret(secret(force_delete=True), "prod", DEFAULT)
    assert "force_delete removes the secret without a recovery window" in msg
    assert "add 'prod' to recoveryWindowExemptStacks" in msg
    strict = AwsSecretConfig(min_recovery_window_days=14)
    assert check_aws_secret(secret(recovery_window_days=10), "prod", strict) != []


def test_exempt_stacks_may_delete_at_once() -> None:
    cfg = AwsSecretConfig(recovery_window_exempt_stacks=("test-*",))
    assert check_aws_secret(secret(force_delete=True, recovery_window_days=0), "test-1", cfg) == []
    assert check_aws_secret(secret(force_delete=True), "prod", cfg) != []


def test_ownership_inputs_the_provider_tags_with() -> None:
    (msg,) = check_aws_secret(secret(owner=""), "prod", DEFAULT)
    assert "has no 'owner', so it cannot carry its ownership tags (managed-by, pulumi-stack, connector)" in msg
    assert check_aws_secret(secret(owner=UNKNOWN), "prod", DEFAULT) == []


def test_required_tags_as_map_or_aws_list() -> None:
    cfg = AwsSecretConfig(required_tags=("cost-center", "team"))
    (msg,) = check_aws_secret(secret(), "prod", cfg)
    assert "lacks the tags team; set them in connectors.patchworks.secretsManager.tags (store.tags in your" in msg
    as_list = [{"Key": "cost-center", "Value": "42"}, {"key": "team", "value": "integrations"}]
    assert check_aws_secret(secret(tags=as_list), "prod", cfg) == []
    assert check_aws_secret(secret(tags=None), "prod", cfg) != []
    assert check_aws_secret(secret(tags=UNKNOWN, kms_key_id=UNKNOWN), "prod", cfg) == []
    assert check_aws_secret(secret(tags=None), "prod", DEFAULT) == []  # nothing required by default


def test_config_bounds_follow_aws() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 7"):
        AwsSecretConfig(min_recovery_window_days=3)


def test_policy_matches_secrets_manager_secrets() -> None:
    assert len(reports(aws.POLICY, resource_args(t.AWS_SECRET, secret(kms_key_id=None), stack="prod"))) == 1
    assert reports(aws.POLICY, resource_args(t.VAULT_KV_SECRET, secret(kms_key_id=None))) == []


def test_a_managed_clients_store_is_held_to_the_same_rules() -> None:
    client = {"connector": "patchworks", "store_kind": "secretsManager", "store": secret(kms_key_id=None)}
    ((msg, _urn),) = reports(aws.POLICY, resource_args(t.API_CLIENT, client, stack="prod"))
    assert "connector 'patchworks'" in msg and "kmsKeyId" in msg
    assert reports(aws.POLICY, resource_args(t.API_CLIENT, {**client, "store": secret()}, stack="prod")) == []
    assert reports(aws.POLICY, resource_args(t.API_CLIENT, {**client, "store_kind": "vault"}, stack="prod")) == []
