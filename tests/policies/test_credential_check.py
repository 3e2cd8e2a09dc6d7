"""The credential check: switched off (advisory everywhere, mandatory on production stacks) or not covered."""

from __future__ import annotations

from typing import Any

from ctp_credentials.policies import credential_check as cc
from ctp_credentials.policies import resource_types as t
from ctp_credentials.policies.credential_check import ProductionConfig, switched_off, uncovered
from ctp_credentials.policies.resources import UNKNOWN
from tests.policies.builders import connector, reports, resource_args, stack_args


def test_switched_off_and_uncovered() -> None:
    checks = {"a": connector("a"), "b": connector("b", enabled=False), "c": connector("c", enabled=UNKNOWN)}
    assert switched_off(checks) == ["b"]
    assert switched_off({"x": {"connector": "x"}, "y": UNKNOWN}) == []  # no `enabled`: the provider's default
    assert uncovered(["a", "b", "d"], ["a", "b", "c"]) == ["d"]


def check(*, enabled: bool = True) -> dict[str, Any]:
    return {"connectors": {"patchworks": connector(enabled=enabled), "other": connector("other")}}


def test_check_on_reports_nothing() -> None:
    assert reports(cc.ENABLED_POLICY, resource_args(t.CREDENTIAL_CHECK, check(), stack="prod")) == []
    assert reports(cc.PRODUCTION_POLICY, resource_args(t.CREDENTIAL_CHECK, check(), stack="prod")) == []


def test_check_off_is_advised_on_any_stack_with_the_fix() -> None:
    ((msg, _),) = reports(cc.ENABLED_POLICY, resource_args(t.CREDENTIAL_CHECK, check(enabled=False), stack="dev"))
    assert "connector 'patchworks': the credential check is switched off" in msg
    assert "remove connectors.patchworks.checkCredentials (check_credentials in your own program) so" in msg
    assert reports(cc.PRODUCTION_POLICY, resource_args(t.CREDENTIAL_CHECK, check(enabled=False), stack="dev")) == []


def test_check_off_on_a_production_stack_names_the_matching_pattern() -> None:
    args = resource_args(t.CREDENTIAL_CHECK, check(enabled=False), stack="shop-prod")
    ((msg, _),) = reports(cc.PRODUCTION_POLICY, args)
    assert msg.startswith("connector 'patchworks': the credential check is switched off")
    assert "stack 'shop-prod' is production: it matches '*-prod' in productionStacks" in msg


def test_production_stacks_match_whatever_the_case() -> None:
    """Stack names may have capitals: `Prod` is as much production as `prod` (the stricter reading)."""
    off = check(enabled=False)
    for stack in ("Prod", "PROD", "Shop-Prod"):
        assert len(reports(cc.PRODUCTION_POLICY, resource_args(t.CREDENTIAL_CHECK, off, stack=stack))) == 1


def test_production_stacks_are_configurable() -> None:
    cfg = {"productionStacks": ["live"]}
    off = check(enabled=False)
    assert len(reports(cc.PRODUCTION_POLICY, resource_args(t.CREDENTIAL_CHECK, off, stack="live", config=cfg))) == 1
    assert reports(cc.PRODUCTION_POLICY, resource_args(t.CREDENTIAL_CHECK, off, stack="prod", config=cfg)) == []
    assert ProductionConfig().production_stacks[0] == "prod"


def test_a_check_without_a_connectors_map_reports_nothing() -> None:
    """A CredentialCheck whose `connectors` is missing or not a map (a pending value) has nothing switched off."""
    for props in ({}, {"connectors": UNKNOWN}, {"connectors": "x"}):
        assert reports(cc.ENABLED_POLICY, resource_args(t.CREDENTIAL_CHECK, props, stack="prod")) == []
        assert reports(cc.PRODUCTION_POLICY, resource_args(t.CREDENTIAL_CHECK, props, stack="prod")) == []


def test_only_the_credential_check_is_matched() -> None:
    assert reports(cc.ENABLED_POLICY, resource_args(t.API_CLIENT, check(enabled=False))) == []


def stack(*, checked: tuple[str, ...] = ("patchworks",)) -> list[tuple[str, str, dict[str, Any]]]:
    """A stack's resources (outputs) as the analyzer hands them to a stack policy."""
    return [
        (t.STACK, "commercetools-credentials-dev", {"connectors": {"patchworks": UNKNOWN}}),
        (t.CONNECTOR, "patchworks", {"config": UNKNOWN}),
        (t.VAULT_KV_SECRET, "patchworks-secret", {"connector": "patchworks", "mount": "secret"}),
        (t.API_CLIENT, "managed-client", {"connector": "managed"}),
        (t.AWS_SECRET, "third-secret", {"connector": "third"}),
        (t.CONNECTOR, "fourth", {"config": UNKNOWN}),
        (t.AWS_SECRET, "fourth-secret", {"connector": "fourth"}),
        (t.CREDENTIAL_CHECK, "credential-check", {"connectors": {n: connector(n) for n in checked}}),
    ]


def test_every_connector_is_covered_by_a_check() -> None:
    assert reports(cc.COVERAGE_POLICY, stack_args(stack(checked=("patchworks", "third", "fourth")))) == []
    found = reports(cc.COVERAGE_POLICY, stack_args(stack()))
    # the managed connector is covered by its ApiClient, which tests a new client before storing it
    assert [m.split(":")[0] for m, _ in found] == ["connector 'fourth'", "connector 'third'"]
    msg, urn = found[1]
    assert msg == (
        "connector 'third': no CredentialCheck checks this connector's credentials. A CommercetoolsConnector "
        "registers its connector in one by itself, so these resources were declared without it (e.g. a "
        "VaultKvSecret used directly); declare the connector with CommercetoolsConnector, or add it to a "
        "CredentialCheck's connectors, so a wrong credential fails preview instead of being stored"
    )
    # reported at the connector's component where there is one, else at the resource that holds its secret
    assert found[0][1] is not None and found[0][1].endswith(f"{t.CONNECTOR}::fourth")
    assert urn is not None and urn.endswith("::third-secret")
