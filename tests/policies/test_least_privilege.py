"""Least privilege: privileged scopes, foreign project keys and allow-lists, per connector and per client."""

from __future__ import annotations

import pytest

from ctp_credentials.components.scopes import PRIVILEGED
from ctp_credentials.policies import least_privilege as lp
from ctp_credentials.policies import resource_types as t
from ctp_credentials.policies.least_privilege import LeastPrivilegeConfig, check_least_privilege
from ctp_credentials.policies.resources import UNKNOWN
from tests.policies.builders import PK, connector, reports, resource_args

NONE = LeastPrivilegeConfig()


def test_read_only_scopes_in_own_project_pass() -> None:
    assert check_least_privilege(connector(), "dev", NONE) == []


@pytest.mark.parametrize("name", sorted(PRIVILEGED))
def test_privileged_scope_is_refused_with_the_fix(name: str) -> None:
    (msg,) = check_least_privilege(connector(scopes=[f"view_orders:{PK}", f"{name}:{PK}"]), "dev", NONE)
    assert f"connector 'patchworks': scope '{name}:{PK}'" in msg
    assert "remove it from connectors.patchworks.scopes (scopes in your own program) and give" in msg


def test_every_privileged_scope_has_an_explanation() -> None:
    assert set(lp._WHY) == PRIVILEGED


def test_scope_of_another_project_is_refused_with_the_rewritten_scope() -> None:
    (msg,) = check_least_privilege(connector(scopes=["view_orders:other-project:store-1"]), "dev", NONE)
    assert "is for project 'other-project'" in msg
    assert f"write it as view_orders:{PK}:store-1 in connectors.patchworks.scopes (scopes in your own program)" in msg
    (unbound,) = check_least_privilege(connector(scopes=["view_orders:other-project"]), "dev", NONE)
    assert unbound.endswith(
        f"; write it as view_orders:{PK} in connectors.patchworks.scopes (scopes in your own program)"
    )


def test_unparsable_scope_is_reported() -> None:
    (msg,) = check_least_privilege(connector(scopes=["fly_to_moon:x"]), "dev", NONE)
    assert (
        "is not a commercetools scope name" in msg
        and "fix connectors.patchworks.scopes (scopes in your own program)" in msg
    )


def test_space_separated_scopes_of_a_managed_client() -> None:
    client = {"connector": "c", "project_key": PK, "scopes": f"view_orders:{PK} manage_project:{PK}"}
    (msg,) = check_least_privilege(client, "dev", NONE)
    assert "manage_project" in msg


def test_unknown_scopes_are_left_for_up() -> None:
    assert check_least_privilege(connector(scopes=UNKNOWN), "dev", NONE) == []
    assert check_least_privilege(connector(scopes=[UNKNOWN, f"view_orders:{PK}"]), "dev", NONE) == []


def test_stack_wide_allow_list_by_name_or_exact_scope() -> None:
    cfg = LeastPrivilegeConfig(allowed_scopes=("view_orders", f"view_products:{PK}"))
    assert check_least_privilege(connector(), "dev", cfg) == []
    (msg,) = check_least_privilege(connector(scopes=[f"view_orders:{PK}", f"view_customers:{PK}"]), "dev", cfg)
    assert f"scope 'view_customers:{PK}' is not on the allow-list allowedScopes" in msg
    assert "add 'view_customers' to allowedScopes in the commercetools-least-privilege policy config" in msg


def test_allow_lists_narrow_each_other() -> None:
    cfg = LeastPrivilegeConfig.model_validate(
        {
            "allowedScopesByStack": {"prod-*": ["view_orders"]},
            "allowedScopesByConnector": {"patchworks": ["view_orders", "view_products"]},
        }
    )
    assert check_least_privilege(connector(), "dev", cfg) == []  # only the connector's list applies
    (msg,) = check_least_privilege(connector(), "prod-eu", cfg)  # the stack's list refuses view_products
    assert "allowedScopesByStack['prod-*']" in msg and "view_products" in msg
    assert check_least_privilege(connector("other"), "dev", cfg) == []


def test_policy_checks_every_connector_of_the_credential_check_and_managed_clients() -> None:
    props = {"connectors": {"a": connector("a"), "b": connector("b", scopes=[f"manage_project:{PK}"])}}
    (only,) = reports(lp.POLICY, resource_args(t.CREDENTIAL_CHECK, props))
    assert "connector 'b'" in only[0]
    client = {"connector": "m", "project_key": PK, "scopes": [f"manage_api_clients:{PK}"]}
    assert len(reports(lp.POLICY, resource_args(t.API_CLIENT, client))) == 1
    assert reports(lp.POLICY, resource_args(t.VAULT_KV_SECRET, {"scopes": [f"manage_project:{PK}"]})) == []
