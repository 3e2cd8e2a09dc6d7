"""The pack as a whole: names, levels, README, type tokens, and the adapters' handling of bad config."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pulumi_policy import EnforcementLevel

from ctp_credentials.components.providers.credential_check import CredentialCheck
from ctp_credentials.components.providers.secretsmanager_secret import SecretsManagerSecret
from ctp_credentials.components.providers.vault_secret import VaultKvSecret
from ctp_credentials.policies import resource_types as t
from ctp_credentials.policies import vault_store
from ctp_credentials.policies.pack import NAME, POLICIES
from tests.policies.builders import reports, resource_args, stack_args

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"


def test_policy_names_are_unique_and_levels_explicit() -> None:
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names)) == 11
    assert all(p.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY) for p in POLICIES)


def test_readme_lists_every_policy_with_its_default_level() -> None:
    readme = (PACK_DIR / "README.md").read_text()
    for policy in POLICIES:
        assert policy.enforcement_level is not None
        row = re.search(rf"^\| `{re.escape(policy.name)}` \| (\w+) \|", readme, re.MULTILINE)
        assert row, f"README has no row for {policy.name}"
        assert row.group(1) == policy.enforcement_level.value
        schema = policy.config_schema
        for key in schema.properties if schema else []:
            assert f"`{key}`" in readme, f"README does not document {policy.name}.{key}"


def test_pulumi_policy_yaml_names_no_virtualenv_so_the_pack_runs_where_it_is_installed() -> None:
    """A `virtualenv` relative to the pack would point into site-packages once installed, where there is none:
    the engine runs the pack with python3 on PATH (`ctp-credentials policy-pack` checks that one can)."""
    spec = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert spec["runtime"] == {"name": "python"}
    assert NAME == "ctp-credentials"


def test_type_tokens_match_the_resource_classes() -> None:
    assert f"pulumi-python:{CredentialCheck._resource_type_name}" == t.CREDENTIAL_CHECK
    assert f"pulumi-python:{VaultKvSecret._resource_type_name}" == t.VAULT_KV_SECRET
    assert f"pulumi-python:{SecretsManagerSecret._resource_type_name}" == t.AWS_SECRET


def test_bad_config_of_a_policy_is_reported_as_its_violation() -> None:
    args = resource_args(t.VAULT_KV_SECRET, {"mount": "secret", "path": "x"}, config={"allowedLocatons": []})
    ((msg, _),) = reports(vault_store.POLICY, args)
    assert "vault-kv-location.allowedLocatons: unknown key" in msg


def test_bad_config_of_a_stack_policy_is_reported() -> None:
    from ctp_credentials.policies import credential_check

    found = reports(credential_check.COVERAGE_POLICY, stack_args([], config={"productionStacks": ["x"]}))
    assert [m for m, _ in found] == [
        "policy pack config credential-check-coverage.productionStacks: unknown key; remove it "
        "(the keys of credential-check-coverage are: none)"
    ]
