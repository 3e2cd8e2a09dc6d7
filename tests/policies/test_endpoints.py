"""Official endpoints, known regions and the deprecated hosts."""

from __future__ import annotations

import pytest

from ctp_credentials.components.config import REGIONS
from ctp_credentials.policies import endpoints as ep
from ctp_credentials.policies import resource_types as t
from ctp_credentials.policies.endpoints import (
    OfficialEndpointsConfig,
    check_deprecated_region,
    check_known_region,
    check_official_endpoints,
    official_region,
)
from ctp_credentials.policies.resources import UNKNOWN
from tests.policies.builders import connector, reports, resource_args

NONE = OfficialEndpointsConfig()
EMULATOR = "http://127.0.0.1:4444"
# How the fixes name the settings: the stack config keys, then the library arguments.
URLS = "connectors.patchworks.authUrl and connectors.patchworks.apiUrl (auth_url and api_url in your own program)"
REG = "connectors.patchworks.region (region in your own program)"


@pytest.mark.parametrize("region", REGIONS)
def test_official_hosts_of_every_region_pass(region: str) -> None:
    entry = connector(
        region=region,
        auth_url=f"https://auth.{region}.commercetools.com",
        api_url=f"https://api.{region}.commercetools.com/",
    )
    assert check_official_endpoints(entry, "prod", NONE) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://auth.europe-west1.gcp.commercetools.com",  # not https
        "https://auth.europe-west1.gcp.commercetools.com.evil.example",
        "https://auth.europe-west1.gcp.commercetools.com:8443",
        "https://auth.europe-west1.gcp.commercetools.com/proxy",
        "https://auth.europe-west1.gcp.commercetools.com?x=1",
        "https://user:pw@auth.europe-west1.gcp.commercetools.com",
        "https://api.europe-west1.gcp.commercetools.com",  # the API host is not the auth host
        "not a url",
    ],
)
def test_lookalike_auth_urls_are_not_official(url: str) -> None:
    assert official_region(url, "auth") is None


def test_custom_endpoints_fail_with_both_fixes_in_one_message() -> None:
    (msg,) = check_official_endpoints(connector(auth_url=EMULATOR, api_url=EMULATOR), "staging", NONE)
    assert f"authUrl {EMULATOR} and apiUrl {EMULATOR} are not the official hosts" in msg
    assert "https://auth.europe-west1.gcp.commercetools.com and https://api.europe-west1.gcp.commercetools.com" in msg
    assert f"remove {URLS} (the region then decides both)" in msg
    assert "add 'staging' to allowedStacks in the commercetools-official-endpoints policy config" in msg


def test_credentials_in_a_url_never_reach_the_message() -> None:
    (msg,) = check_official_endpoints(connector(auth_url="https://u:hunter22@evil.example"), "dev", NONE)
    assert "hunter22" not in msg and "https://evil.example" in msg


def test_allow_listed_stacks_may_use_custom_endpoints() -> None:
    cfg = OfficialEndpointsConfig(allowed_stacks=("test", "demo-*"))
    for stack in ("test", "demo-eu"):
        assert check_official_endpoints(connector(auth_url=EMULATOR, api_url=EMULATOR), stack, cfg) == []
    assert check_official_endpoints(connector(auth_url=EMULATOR), "prod", cfg) != []


def test_official_host_of_another_region_is_refused_even_when_allow_listed() -> None:
    cfg = OfficialEndpointsConfig(allowed_stacks=("*",))
    entry = connector(auth_url="https://auth.us-east-2.aws.commercetools.com")
    (msg,) = check_official_endpoints(entry, "dev", cfg)
    assert "serves region us-east-2.aws, but the connector's region is europe-west1.gcp" in msg
    assert f"remove {URLS}, or set {REG} to us-east-2.aws" in msg


def test_deprecated_hosts_count_as_official_for_their_region() -> None:
    entry = connector(auth_url="https://auth.sphere.io", api_url="https://api.sphere.io")
    assert check_official_endpoints(entry, "prod", NONE) == []
    entry = connector(
        region="us-central1.gcp",
        auth_url="https://auth.sphere.io",
        api_url="https://api.us-central1.gcp.commercetools.com",
    )
    (msg,) = check_official_endpoints(entry, "prod", NONE)
    assert "authUrl https://auth.sphere.io serves region europe-west1.gcp" in msg


def test_without_a_known_region_the_message_shows_the_official_host_pattern() -> None:
    """With an unknown (or pending) region there is no one official host to name: the pattern is named instead."""
    for region in ("mars-west1.gcp", UNKNOWN, None):
        (msg,) = check_official_endpoints(connector(auth_url=EMULATOR, region=region), "dev", NONE)
        expected = "https://auth.<region>.commercetools.com"
        assert f"authUrl {EMULATOR} is not the official commercetools host {expected};" in msg


def test_an_entry_without_a_connector_name_is_reported_as_unnamed() -> None:
    entry = connector(auth_url=EMULATOR)
    del entry["connector"]
    (msg,) = check_official_endpoints(entry, "dev", NONE)
    assert msg.startswith("connector '?': authUrl ")


def test_unknown_urls_are_left_for_up() -> None:
    assert check_official_endpoints(connector(auth_url=UNKNOWN, api_url=UNKNOWN), "prod", NONE) == []


def test_known_region() -> None:
    assert check_known_region(connector()) == []
    assert check_known_region(connector(region="sphere.io")) == []  # deprecated, but known: advisory only
    assert check_known_region(connector(region=UNKNOWN)) == []
    (msg,) = check_known_region(connector(region="mars-west1.gcp"))
    assert "region 'mars-west1.gcp' is not a commercetools region" in msg
    assert f"set {REG} to one of europe-west1.gcp" in msg


def test_deprecated_region_and_hosts_are_advised_with_the_canonical_region() -> None:
    assert check_deprecated_region(connector()) == []
    (msg,) = check_deprecated_region(connector(region="commercetools.co"))
    assert f"set {REG} to us-central1.gcp" in msg
    msgs = check_deprecated_region(connector(auth_url="https://auth.sphere.io", api_url="https://api.sphere.io"))
    assert len(msgs) == 2
    assert f"remove {URLS} and set {REG} to europe-west1.gcp" in msgs[0]
    assert "the official host is https://auth.europe-west1.gcp.commercetools.com" in msgs[0]
    assert "the official host is https://api.europe-west1.gcp.commercetools.com" in msgs[1]


def test_policies_match_the_credential_check_and_managed_clients() -> None:
    bad = {"connectors": {"a": connector("a", region="mars", auth_url=EMULATOR, api_url=EMULATOR)}}
    assert len(reports(ep.OFFICIAL_ENDPOINTS_POLICY, resource_args(t.CREDENTIAL_CHECK, bad))) == 1
    assert len(reports(ep.KNOWN_REGION_POLICY, resource_args(t.CREDENTIAL_CHECK, bad))) == 1
    allowed = {"allowedStacks": ["dev"]}
    assert reports(ep.OFFICIAL_ENDPOINTS_POLICY, resource_args(t.CREDENTIAL_CHECK, bad, config=allowed)) == []
    # A managed connector is not in the CredentialCheck: its ApiClient sends the admin client's secret to authUrl.
    managed = connector("m", auth_url="https://auth.attacker.example", api_url="https://api.attacker.example")
    ((msg, _urn),) = reports(ep.OFFICIAL_ENDPOINTS_POLICY, resource_args(t.API_CLIENT, managed))
    assert "connector 'm': authUrl https://auth.attacker.example and apiUrl" in msg
    assert reports(ep.OFFICIAL_ENDPOINTS_POLICY, resource_args(t.API_CLIENT, connector("m"))) == []
    old = {"connectors": {"a": connector("a", region="sphere.io")}}
    assert len(reports(ep.DEPRECATED_REGION_POLICY, resource_args(t.CREDENTIAL_CHECK, old))) == 1
