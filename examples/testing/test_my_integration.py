"""Your own integration test against the commercetools emulator, with the fixtures of `ctp-credentials[testing]`
(installed, they are there: no conftest needed). `fetch_token` stands for your service's code."""

from __future__ import annotations

import requests

from ctp_credentials.testing.commercetools import CommercetoolsEmulator

PROJECT = "my-project"


def fetch_token(auth_url: str, client_id: str, secret: str, scope: str) -> str:
    answer = requests.post(
        f"{auth_url}/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(client_id, secret),
        timeout=5,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def test_my_service_gets_a_token(ctp_emulator: CommercetoolsEmulator) -> None:
    client = ctp_emulator.backend.add_client(PROJECT, [f"view_orders:{PROJECT}"])
    assert fetch_token(ctp_emulator.url, client.id, client.secret, f"view_orders:{PROJECT}")
    assert ctp_emulator.count("token") == 1  # the emulator's request log: what your code sent


def test_my_service_is_refused_a_scope_its_client_lacks(ctp_emulator: CommercetoolsEmulator) -> None:
    client = ctp_emulator.backend.add_client(PROJECT, [f"view_orders:{PROJECT}"])
    try:
        fetch_token(ctp_emulator.url, client.id, client.secret, f"manage_orders:{PROJECT}")
    except requests.HTTPError as refused:
        assert refused.response.status_code == 400
        assert refused.response.json()["error"] == "invalid_scope"
    else:
        raise AssertionError("a scope the client does not hold was granted")


def test_my_service_gets_through_a_brief_outage(ctp_emulator: CommercetoolsEmulator) -> None:
    client = ctp_emulator.backend.add_client(PROJECT, [f"view_orders:{PROJECT}"])
    ctp_emulator.faults.add("token", status=503, times=1)  # injected: the next token request fails once
    try:
        fetch_token(ctp_emulator.url, client.id, client.secret, f"view_orders:{PROJECT}")
    except requests.HTTPError as outage:
        assert outage.response.status_code == 503
    assert fetch_token(ctp_emulator.url, client.id, client.secret, f"view_orders:{PROJECT}")  # your retry
