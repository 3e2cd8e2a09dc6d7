"""Our own messages, where they are made, hold no secret: each failure path of each client and provider is run
with a canary secret, and the whole exception (chain, args, repr) or check failure is searched (tests/leaks.py).

Every scenario also runs with a leak *planted* in the function that builds its messages: the same search must
then find the canary. That is what shows the search looks at our text, not at text Pulumi has already masked.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from ctp_credentials.components import config
from ctp_credentials.components.clients import commercetools, webhook
from ctp_credentials.components.clients.commercetools import CommercetoolsClient, RetryPolicy
from ctp_credentials.components.clients.secretsmanager import SecretsManagerClient
from ctp_credentials.components.clients.vault import VaultClient
from ctp_credentials.components.clients.webhook import WebhookClient
from ctp_credentials.components.config import load_stack_config, secret_config_key
from ctp_credentials.components.errors import CredentialsError
from ctp_credentials.components.providers.credential_check import CredentialCheckProvider
from ctp_credentials.components.providers.secretsmanager_secret import payload
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
from ctp_credentials.testing.moto import MotoServer
from ctp_credentials.testing.openbao import OpenBaoServer
from ctp_credentials.testing.webhook import WebhookReceiver
from tests.leaks import assert_no_leak, leaks

pytestmark = pytest.mark.security("canary")

SECRET = "CANARY-leak-7d3f9a1c5e2b8d4f6a0c"  # the client secret, or the Vault token, of each scenario
PK = "leak-shop"
FAST = RetryPolicy(attempts=2, backoff=0.0, max_backoff=0.0, max_retry_after=0.0)
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused at once


@dataclass
class Servers:
    emulator: CommercetoolsEmulator
    openbao: OpenBaoServer
    moto: MotoServer
    monkeypatch: pytest.MonkeyPatch


def caught(call: Callable[[], object]) -> BaseException:
    try:
        call()
    except CredentialsError as exc:
        return exc
    raise AssertionError("the scenario was meant to fail")


# --- commercetools: the client and the credential check ------------------------------------------------------
def ct(s: Servers, url: str | None = None, **kw: Any) -> CommercetoolsClient:
    return CommercetoolsClient(url or s.emulator.url, url or s.emulator.url, retry=FAST, sleep=lambda _: None, **kw)


def ct_timeout(s: Servers) -> list[object]:
    c = s.emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=SECRET)
    s.emulator.faults.add("token", latency=0.5)
    return [caught(lambda: ct(s, timeout=(1.0, 0.1)).request_token(c.id, SECRET, [f"view_orders:{PK}"]))]


def ct_refused(s: Servers) -> list[object]:
    return [caught(lambda: ct(s, CLOSED).request_token("some-client", SECRET))]


def ct_dropped(s: Servers) -> list[object]:
    c = s.emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=SECRET)
    s.emulator.faults.add("token", drop=True)
    return [caught(lambda: ct(s).request_token(c.id, SECRET))]


def ct_rejected(s: Servers) -> list[object]:
    c = s.emulator.backend.add_client(PK, [f"view_orders:{PK}"])
    return [caught(lambda: ct(s).request_token(c.id, SECRET))]


def ct_gave_up(s: Servers) -> list[object]:
    c = s.emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=SECRET)
    s.emulator.faults.add("token", status=503)
    return [caught(lambda: ct(s).request_token(c.id, SECRET))]


def check_reasons(s: Servers) -> list[object]:
    """The provider's check failures and up's error, for each way a token request fails."""
    held = s.emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=SECRET)
    other = s.emulator.backend.add_client(PK, [f"view_orders:{PK}"])

    def entry(name: str, client_id: str, scopes: list[str]) -> dict[str, Any]:
        url = s.emulator.url
        return {
            "connector": name,
            "project_key": PK,
            "region": "europe-west1.gcp",
            "auth_url": url,
            "api_url": url,
            "scopes": scopes,
            "client_id": client_id,
            "client_secret": SECRET,
        }

    props = {
        "connectors": {
            e["connector"]: e
            for e in [
                entry("rejected", other.id, [f"view_orders:{PK}"]),
                entry("scope", held.id, [f"manage_orders:{PK}"]),
            ]
        }
    }
    failures = CredentialCheckProvider().check({}, props).failures
    assert len(failures) == 2  # (a refused connection is the client's scenario: here it would retry for seconds)
    return [*(f.reason for f in failures), caught(lambda: CredentialCheckProvider().create(props))]


# --- Vault: the token is the secret ------------------------------------------------------------------------
def vault(s: Servers, address: str) -> VaultClient:
    s.monkeypatch.setenv("VAULT_TOKEN", SECRET)
    return VaultClient(address=address)


def vault_rejected_token(s: Servers) -> list[object]:
    client = vault(s, s.openbao.url)
    return [caught(lambda: client.read_secret_version("leaks/a")), client]


def vault_down(s: Servers) -> list[object]:
    client = vault(s, CLOSED)
    return [caught(lambda: client.read_secret_version("leaks/a")), client]


def vault_conflict(s: Servers) -> list[object]:
    """A check-and-set refusal of a write whose data is the secret (the root token writes)."""
    s.monkeypatch.setenv("VAULT_TOKEN", s.openbao.root_token)
    client = VaultClient(address=s.openbao.url)
    path = f"leaks/{uuid.uuid4().hex}"
    client.create_or_update_secret(path, {"clientSecret": "first"}, cas=0)
    return [caught(lambda: client.create_or_update_secret(path, {"clientSecret": SECRET}, cas=0))]


# --- Secrets Manager: the payload holds the secret -----------------------------------------------------------
def sm(s: Servers) -> SecretsManagerClient:
    for key, value in s.moto.env().items():
        s.monkeypatch.setenv(key, value)
    return SecretsManagerClient(endpoint_url=s.moto.url)


def sm_echoed_value(s: Servers) -> list[object]:
    """AWS's ValidationException quotes the value it refused; our message must not pass that on."""
    client = sm(s)
    name = f"leaks/{uuid.uuid4().hex}"
    client.create_secret(name, payload({"clientSecret": "first"}), client_request_token=str(uuid.uuid4()))
    value = payload({"clientId": "abc", "clientSecret": SECRET})
    s.moto.faults.add(
        "PutSecretValue",
        status=400,
        code="ValidationException",
        message=f"1 validation error detected: Value '{value}' at 'secretString' failed to satisfy constraint",
        times=1,
    )
    return [caught(lambda: client.put_secret_value(name, value, client_request_token=str(uuid.uuid4())))]


def sm_denied(s: Servers) -> list[object]:
    client = sm(s)
    s.moto.faults.add("CreateSecret", status=400, code="AccessDeniedException", message="not allowed", times=1)
    value = payload({"clientSecret": SECRET})
    return [caught(lambda: client.create_secret(f"leaks/{uuid.uuid4().hex}", value, client_request_token="t" * 32))]


# --- webhooks: the signing key is the secret ---------------------------------------------------------------------
def webhook_refused(s: Servers) -> list[object]:
    """A receiver that checks signatures with another key (401), and one that is not there."""
    with WebhookReceiver("another-key-entirely-0123456789") as receiver:
        client = WebhookClient(receiver.url, retry=RetryPolicy(attempts=1), sleep=lambda _: None)
        refused = caught(lambda: client.deliver("changed", b"{}", signing_key=SECRET))
    down = WebhookClient(CLOSED, retry=RetryPolicy(attempts=2), sleep=lambda _: None)
    return [refused, caught(lambda: down.deliver("changed", b"{}", signing_key=SECRET)), client, down]


# --- stack config ----------------------------------------------------------------------------------------
def config_errors(s: Servers) -> list[object]:
    """The secret pasted into the settings, into a URL's userinfo, and given as plaintext config. (Messages do
    quote a wrong region, projectKey or scope, to show the typo: those are plain settings, already in plaintext
    in the stack's file; SECURITY.md, "Known limits".) The pydantic path runs too: `in-url`, `bad-type`."""
    base = {"projectKey": PK, "scopes": [f"view_orders:{PK}"], "clientId": "abc"}
    raw = {
        "pasted": {**base, "clientSecret": SECRET},
        "plaintext": base,
        "bad-type": {**base, "clientId": {"value": SECRET}},
        "in-url": {**base, "authUrl": f"https://user:{SECRET}@auth.europe-west1.gcp.commercetools.com"},
    }
    table = {secret_config_key(n): (SECRET, n != "plaintext") for n in raw}
    return [caught(lambda: load_stack_config(raw, lambda key: table.get(key, (None, False))))]


# --- where a leak is planted: the one function each family's messages go through ---------------------------------
def plant_host(s: Servers) -> None:
    s.monkeypatch.setattr(commercetools, "_host", lambda url: f"{urlsplit(url).netloc} (as {SECRET})")


def plant_error(s: Servers) -> None:
    original = commercetools._error
    s.monkeypatch.setattr(
        commercetools, "_error", lambda resp, what, sent=(): original(resp, f"{what} for {SECRET}", sent)
    )


def plant_vault_where(s: Servers) -> None:
    original = VaultClient.where
    s.monkeypatch.setattr(VaultClient, "where", lambda self, path: f"{original(self, path)} with {SECRET}")


def plant_sm_where(s: Servers) -> None:
    original = SecretsManagerClient.where
    s.monkeypatch.setattr(SecretsManagerClient, "where", lambda self, sid: f"{original(self, sid)} [{SECRET}]")


def plant_webhook_where(s: Servers) -> None:
    s.monkeypatch.setattr(webhook, "public_url", lambda url: f"{url}#{SECRET}")


def plant_pydantic_text(s: Servers) -> None:
    """The realistic slip: reporting pydantic's own error text, which quotes input values."""
    s.monkeypatch.setattr(config, "_explain", lambda exc, raw: [str(exc)])


SCENARIOS: dict[str, tuple[Callable[[Servers], list[object]], Callable[[Servers], None]]] = {
    "commercetools-timeout": (ct_timeout, plant_host),
    "commercetools-refused": (ct_refused, plant_host),
    "commercetools-dropped": (ct_dropped, plant_host),
    "commercetools-rejected": (ct_rejected, plant_error),
    "commercetools-gave-up": (ct_gave_up, plant_error),
    "credential-check": (check_reasons, plant_error),
    "vault-rejected-token": (vault_rejected_token, plant_vault_where),
    "vault-down": (vault_down, plant_vault_where),
    "vault-check-and-set": (vault_conflict, plant_vault_where),
    "secrets-manager-echoed-value": (sm_echoed_value, plant_sm_where),
    "secrets-manager-denied": (sm_denied, plant_sm_where),
    "webhook": (webhook_refused, plant_webhook_where),
    "config": (config_errors, plant_pydantic_text),
}


@pytest.fixture
def servers(
    emulator: CommercetoolsEmulator, openbao: OpenBaoServer, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Servers]:
    yield Servers(emulator, openbao, moto_server, monkeypatch)
    moto_server.faults.clear()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_secret_in_our_messages(servers: Servers, scenario: str) -> None:
    run, _ = SCENARIOS[scenario]
    assert_no_leak([SECRET], *run(servers))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_check_finds_a_planted_leak(servers: Servers, scenario: str) -> None:
    run, plant = SCENARIOS[scenario]
    plant(servers)
    made = run(servers)
    assert leaks([SECRET], *made), "the planted secret was not found: this check cannot see our own leaks"
    with pytest.raises(AssertionError):
        assert_no_leak([SECRET], *made)
