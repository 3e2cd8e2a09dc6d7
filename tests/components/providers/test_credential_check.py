"""CredentialCheckProvider called directly: check() passes and fails as preview would see it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pulumi
import pytest

from ctp_credentials.components.errors import CommercetoolsError
from ctp_credentials.components.providers import credential_check
from ctp_credentials.components.providers.credential_check import CredentialCheckProvider
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from tests.conftest import CANARY

PK = "product-patchworks"


def entry(emu: CommercetoolsEmulator, name: str, client_id: str, secret: str, scopes: list[str]) -> dict[str, Any]:
    return {
        "connector": name,
        "project_key": PK,
        "region": "europe-west1.gcp",
        "auth_url": emu.url,
        "api_url": emu.url,
        "scopes": scopes,
        "client_id": client_id,
        "client_secret": secret,
        "token_key": "access_token",
        "enabled": True,
    }


def props(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"connectors": {e["connector"]: e for e in entries}}


def test_check_passes_for_a_valid_client(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"manage_orders:{PK}"], secret=CANARY)
    result = CredentialCheckProvider().check({}, props(entry(emulator, "a", c.id, CANARY, [f"view_orders:{PK}"])))
    assert result.failures == []
    assert emulator.count("token") == 1


def test_check_fails_on_wrong_secret_naming_connector_and_fix(emulator: CommercetoolsEmulator) -> None:
    good = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret="good-secret")
    bad = emulator.backend.add_client(PK, [f"view_orders:{PK}"])
    result = CredentialCheckProvider().check(
        {},
        props(
            entry(emulator, "fine", good.id, "good-secret", [f"view_orders:{PK}"]),
            entry(emulator, "patchworks", bad.id, CANARY, [f"view_orders:{PK}"]),
        ),
    )
    (failure,) = result.failures
    for part in ("connector 'patchworks'", PK, "europe-west1.gcp", "client ID or secret rejected", "--secret"):
        assert part in failure.reason
    assert failure.reason.endswith(  # both ways to fix it: the stack program's keys and the library's arguments
        "Copy both from the API client in the Merchant Center again: pulumi config set --path "
        "'connectors.patchworks.clientId' <id> and pulumi config set --secret clientSecret-patchworks <secret> "
        "(client_id and client_secret in your own program)"
    )
    assert CANARY not in failure.reason


def test_check_fails_on_scope_not_held(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    result = CredentialCheckProvider().check({}, props(entry(emulator, "a", c.id, CANARY, [f"manage_customers:{PK}"])))
    (failure,) = result.failures
    assert "scopes refused" in failure.reason and "Permissions exceeded" in failure.reason
    assert failure.reason.endswith(
        "The client does not hold every scope in connectors.a.scopes (scopes in your own program): remove the ones "
        "it lacks, or create an API client with them"
    )


def test_check_fails_when_the_token_lacks_a_requested_scope(emulator: CommercetoolsEmulator) -> None:
    """commercetools is not documented to grant less than asked; if it ever does, the token would fail at the
    first call the connector makes, so the check compares the grant with what was asked."""
    wanted = [f"view_orders:{PK}", f"view_products:{PK}"]
    c = emulator.backend.add_client(PK, wanted, secret=CANARY)
    emulator.faults.add("token", grant_scope=f"view_orders:{PK}")
    result = CredentialCheckProvider().check({}, props(entry(emulator, "a", c.id, CANARY, wanted)))
    (failure,) = result.failures
    assert f"connector 'a' (project {PK}" in failure.reason
    assert f"token granted without view_products:{PK}. The client does not hold these scopes" in failure.reason
    emulator.faults.clear()
    three = [*wanted, f"view_customers:{PK}"]
    c3 = emulator.backend.add_client(PK, three, secret=CANARY)
    emulator.faults.add("token", grant_scope=f"view_orders:{PK}")
    (two_missing,) = CredentialCheckProvider().check({}, props(entry(emulator, "a", c3.id, CANARY, three))).failures
    assert f"token granted without view_products:{PK} view_customers:{PK}." in two_missing.reason  # as asked
    assert "remove them from connectors.a.scopes" in failure.reason and f"view_orders:{PK}" not in failure.reason
    assert CANARY not in failure.reason


def test_a_grant_with_implied_scopes_passes(emulator: CommercetoolsEmulator) -> None:
    """manage_X implies view_X: granted ⊇ requested is a pass, though the strings differ."""
    c = emulator.backend.add_client(PK, [f"manage_orders:{PK}"], secret=CANARY)
    emulator.faults.add("token", grant_scope=f"manage_orders:{PK}")
    result = CredentialCheckProvider().check({}, props(entry(emulator, "a", c.id, CANARY, [f"view_orders:{PK}"])))
    assert result.failures == []


def test_a_manage_project_client_is_named_as_the_cause(emulator: CommercetoolsEmulator) -> None:
    """Such a client gets no narrower token, so "the client lacks view_orders" would be wrong advice."""
    c = emulator.backend.add_client(PK, [f"manage_project:{PK}"], secret=CANARY)
    result = CredentialCheckProvider().check({}, props(entry(emulator, "a", c.id, CANARY, [f"view_orders:{PK}"])))
    (failure,) = result.failures
    assert "holds manage_project" in failure.reason and "exactly connectors.a.scopes" in failure.reason
    assert "does not hold these scopes" not in failure.reason


def test_checks_run_concurrently(emulator: CommercetoolsEmulator) -> None:
    entries = []
    for i in range(8):
        c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=f"s{i}")
        entries.append(entry(emulator, f"c{i}", c.id, f"s{i}", [f"view_orders:{PK}"]))
    emulator.faults.add("token", latency=1.0)
    assert CredentialCheckProvider().check({}, props(*entries)).failures == []
    # Each answer is held 1 s. One after another, they would be answered at least 1 s apart (7 s from first to
    # last); together, all eight within one such delay of each other. A behaviour read through the clock, with a
    # margin of 7: how fast a check is belongs to the benchmark (bench/RESULTS.md, section 2).
    answered = sorted(r.time for r in emulator.requests if r.endpoint == "token")
    assert len(answered) == 8
    assert answered[-1] - answered[0] < 1.0


def test_unknown_inputs_are_not_checked(emulator: CommercetoolsEmulator) -> None:
    e = entry(emulator, "a", "id", CANARY, [f"view_orders:{PK}"])
    e["client_secret"] = pulumi.output.Unknown()
    assert CredentialCheckProvider().check({}, props(e)).failures == []
    assert emulator.count("token") == 0


def test_disabled_check_sends_nothing(emulator: CommercetoolsEmulator) -> None:
    e = {**entry(emulator, "a", "id", CANARY, [f"view_orders:{PK}"]), "enabled": False}
    assert CredentialCheckProvider().check({}, props(e)).failures == []
    assert emulator.count("token") == 0


def test_read_reports_a_revoked_client_as_drift(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    p = props(entry(emulator, "a", c.id, CANARY, [f"view_orders:{PK}"]))
    provider = CredentialCheckProvider()
    created = provider.create(p)
    assert created.outs["verified"] == {"a": True}
    emulator.backend.delete_api_client(PK, c.id)
    refreshed = provider.read(created.id, created.outs)
    assert refreshed.outs["verified"] == {"a": False}
    assert provider.diff(created.id, refreshed.outs, p).changes is True


def test_diff_unchanged_is_no_change(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    p = props(entry(emulator, "a", c.id, CANARY, [f"view_orders:{PK}"]))
    outs = CredentialCheckProvider().create(p).outs
    assert CredentialCheckProvider().diff("id", outs, p).changes is False
    rotated = props(entry(emulator, "a", c.id, "rotated", [f"view_orders:{PK}"]))
    assert CredentialCheckProvider().diff("id", outs, rotated).changes is True


def test_a_pass_is_reused_within_the_run_but_a_failure_and_refresh_are_not(emulator: CommercetoolsEmulator) -> None:
    """`up` calls check() then create(): the second asks commercetools nothing (tokens should be reused)."""
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    p = props(entry(emulator, "a", c.id, CANARY, [f"view_orders:{PK}"]))
    provider = CredentialCheckProvider()
    assert provider.check({}, p).failures == []
    created = provider.create(p)
    assert emulator.count("token") == 1
    assert provider.check({}, p).failures == []  # a preview's check reuses it too
    assert emulator.count("token") == 1
    provider.read(created.id, created.outs)  # refresh always asks again
    assert emulator.count("token") == 2
    wrong = props(entry(emulator, "a", c.id, "not-the-secret", [f"view_orders:{PK}"]))
    assert provider.check({}, wrong).failures and provider.check({}, wrong).failures
    assert emulator.count("token") == 4  # failures are never reused


def test_up_refuses_failing_credentials_with_every_reason(emulator: CommercetoolsEmulator) -> None:
    """create() (the `up` after a preview that could not check yet) raises, naming each failing connector."""
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret="good")
    p = props(
        entry(emulator, "fine", c.id, "good", [f"view_orders:{PK}"]),
        entry(emulator, "one", c.id, CANARY, [f"view_orders:{PK}"]),
        entry(emulator, "two", c.id, CANARY, [f"view_orders:{PK}"]),
    )
    with pytest.raises(CommercetoolsError) as err:
        CredentialCheckProvider().create(p)
    one, two = str(err.value).split("; ")
    assert one.startswith("connector 'one' (") and two.startswith("connector 'two' (")
    assert "client ID or secret rejected" in one and CANARY not in str(err.value)
    created = CredentialCheckProvider().create(props(entry(emulator, "fine", c.id, "good", [f"view_orders:{PK}"])))
    assert created.id.startswith("checks-") and created.outs["verified"] == {"fine": True}
    refreshed = CredentialCheckProvider().read(created.id, created.outs)
    assert refreshed.id == created.id


def test_every_invalid_connector_is_reported_without_a_property(emulator: CommercetoolsEmulator) -> None:
    """The property stays empty: the engine prints a named property's value beside the reason (a secret too)."""
    bad = {"connector": "x", "project_key": PK}
    news = {"connectors": {"x": bad, "y": {**bad, "connector": "y"}}}
    result = CredentialCheckProvider().check({}, news)
    assert result.inputs == news
    reasons = [f.reason for f in result.failures]
    assert all(f.property == "" for f in result.failures)
    assert "connector 'x': region: Field required" in reasons and "connector 'y': region: Field required" in reasons
    assert len([r for r in reasons if r.startswith("connector 'x'")]) == 6  # every missing field, not just one


def test_a_failed_check_has_no_property_either(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"])
    (failure,) = (
        CredentialCheckProvider().check({}, props(entry(emulator, "a", c.id, CANARY, [f"view_orders:{PK}"]))).failures
    )
    assert failure.property == ""


def test_the_token_key_is_the_connectors(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    e = {**entry(emulator, "a", c.id, CANARY, [f"view_orders:{PK}"]), "token_key": "token"}
    (failure,) = CredentialCheckProvider().check({}, props(e)).failures
    assert "answered 200 without a 'token' field; check tokenKey" in failure.reason


def test_a_manage_project_client_asking_for_manage_project_passes(emulator: CommercetoolsEmulator) -> None:
    """The advice about manage_project is for a client that got more than asked, not for one that asked for it
    (the least-privilege policy is where asking for it is refused)."""
    c = emulator.backend.add_client(PK, [f"manage_project:{PK}"], secret=CANARY)
    e = entry(emulator, "a", c.id, CANARY, [f"manage_project:{PK}"])
    assert CredentialCheckProvider().check({}, props(e)).failures == []


def test_the_manage_project_advice_says_what_to_do(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"manage_project:{PK}"], secret=CANARY)
    result = CredentialCheckProvider().check({}, props(entry(emulator, "a", c.id, CANARY, [f"view_orders:{PK}"])))
    (failure,) = result.failures
    assert failure.reason.endswith(
        "Create an API client with exactly connectors.a.scopes (scopes in your own program) (least privilege: "
        "never manage_project in production) and use its ID and secret"
    )


def test_update_checks_again_and_refuses_what_no_longer_works(emulator: CommercetoolsEmulator) -> None:
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    p = props(entry(emulator, "a", c.id, CANARY, [f"view_orders:{PK}"]))
    provider = CredentialCheckProvider()
    created = provider.create(p)
    updated = provider.update(created.id, created.outs, p)
    assert updated.outs == {"connectors": p["connectors"], "verified": {"a": True}}
    wrong = props(entry(emulator, "a", c.id, "not-the-secret", [f"view_orders:{PK}"]))
    with pytest.raises(CommercetoolsError, match="client ID or secret rejected"):
        provider.update(created.id, created.outs, wrong)


def test_a_pass_is_reused_for_reuse_seconds_and_not_a_moment_longer(
    emulator: CommercetoolsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(credential_check, "time", SimpleNamespace(monotonic=lambda: now[0]))  # the module's clock
    c = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    p = props(entry(emulator, "a", c.id, CANARY, [f"view_orders:{PK}"]))
    provider = CredentialCheckProvider()
    assert provider.check({}, p).failures == []
    now[0] += credential_check.REUSE_SECONDS - 0.001
    assert provider.check({}, p).failures == [] and emulator.count("token") == 1
    now[0] = 1000.0 + credential_check.REUSE_SECONDS  # the window is over: ask commercetools again
    assert provider.check({}, p).failures == [] and emulator.count("token") == 2
