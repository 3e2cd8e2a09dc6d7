"""Plain data from what the analyzer passes: unknowns, secrets, URNs, numbers."""

from __future__ import annotations

import pytest
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from ctp_credentials.policies.resources import (
    UNKNOWN,
    Resource,
    as_int,
    contains_unknown,
    matches_any,
    plain,
    shown,
    stack_from_urn,
)


def test_plain_turns_proxies_into_dicts_with_unknowns_marked() -> None:
    props = unknown_checking_proxy(
        {"a": UNKNOWN_STRING_VALUE, "b": [1, UNKNOWN_NUMBER_VALUE, {"c": "x"}], "d": {"e": UNKNOWN_STRING_VALUE}}
    )
    with pytest.raises(UnknownValueError):
        props["a"]  # what a rule would hit without plain()
    assert plain(props) == {"a": UNKNOWN, "b": [1, UNKNOWN, {"c": "x"}], "d": {"e": UNKNOWN}}
    assert contains_unknown(plain(props)) and not contains_unknown({"a": [1, "x"]})


def test_plain_unwraps_wire_secrets() -> None:
    wrapped = {"s": {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": {"client_secret": "v"}}}
    assert plain(wrapped) == {"s": {"client_secret": "v"}}


def test_unknown_is_a_falsy_singleton() -> None:
    assert not UNKNOWN
    assert repr(UNKNOWN) == "UNKNOWN"
    assert type(UNKNOWN)() is UNKNOWN


def test_stack_from_urn() -> None:
    assert stack_from_urn("urn:pulumi:prod-eu::commercetools-credentials::pulumi:pulumi:Stack::x") == "prod-eu"
    assert Resource("t", "n", "urn:pulumi:dev::p::t::n").stack == "dev"
    assert stack_from_urn("not-a-urn") == ""


def test_matches_any_returns_the_pattern() -> None:
    assert matches_any("prod-eu", ["test", "prod-*"]) == "prod-*"
    assert matches_any("Prod", ["prod"]) is None  # case-sensitive, like stack names
    assert matches_any("dev", []) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(7, 7), (7.0, 7), ("7", 7), (7.5, None), (True, None), (None, None), (UNKNOWN, None), ("x", None)],
)
def test_as_int(value: object, expected: int | None) -> None:
    assert as_int(value) == expected


def test_shown_drops_credentials() -> None:
    assert shown("https://u:p@host:1/x") == "https://host:1/x"
    assert shown("https://host") == "https://host"
    assert shown("http://[::1") == "<unparsable URL>"
