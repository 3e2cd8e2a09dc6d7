"""rotate's helpers that need no engine: reading a connector's config as the program does, and reading the
secret back where it was written (the engine-driven steps are tested end to end in tests/e2e/test_rotation.py)."""

from __future__ import annotations

import uuid

import pytest

from automation.rotate import connector_config, verify_stored
from components.config import ConnectorConfig
from components.errors import CommercetoolsError
from components.location import SecretLocation
from components.vault import VaultClient
from tests.conftest import CANARY
from testservers.commercetools import CommercetoolsEmulator
from testservers.openbao import OpenBaoServer

PK = "shop-eu"
BASE = {"projectKey": PK, "scopes": [f"view_orders:{PK}"], "clientId": "abc"}


def test_a_setting_the_model_refuses_is_named_with_its_key() -> None:
    assert connector_config("p", {**BASE, "region": "mars-1"}) == (
        "connectors.p.region: 'mars-1' is not a commercetools region; use one of europe-west1.gcp, eu-central-1.aws, "
        "us-central1.gcp, us-east-2.aws, australia-southeast1.gcp"
    )
    whole = connector_config("p", {**BASE, "managed": {"deleteDaysAfterCreation": 30}})
    assert isinstance(whole, str) and whole.startswith("connectors.p.")
    assert "Value error" not in whole


def test_publishing_is_left_to_the_program_and_a_provided_connector_needs_no_secret_here() -> None:
    c = connector_config("p", {**BASE, "publish": {"file": {"path": "relative/not/allowed.json"}}})
    assert isinstance(c, ConnectorConfig) and c.client_secret is not None
    assert c.client_secret.get_secret_value() == "not-read-here"  # never sent: rotation reads the real one
    managed = connector_config("m", {"projectKey": PK, "scopes": [f"view_orders:{PK}"], "managed": {}})
    assert isinstance(managed, ConnectorConfig) and managed.client_secret is None


def test_the_stored_document_is_read_under_the_connectors_key_names(
    vault_env: OpenBaoServer, emulator: CommercetoolsEmulator
) -> None:
    client = emulator.backend.add_client(PK, [f"view_orders:{PK}"], secret=CANARY)
    path = f"rotate/{uuid.uuid4().hex}"
    VaultClient().create_or_update_secret(path, {"id": client.id, "secret": CANARY}, cas=0)
    document = {
        "name": "p",
        "authUrl": emulator.url,
        "apiUrl": emulator.url,
        "scope": f"view_orders:{PK}",
        "tokenKey": "access_token",
        "secretKeys": {"clientId": "id", "clientSecret": "secret"},
    }
    location = SecretLocation("vault", address=vault_env.url, path=path)
    assert verify_stored(document, location) == client.id
    with pytest.raises(CommercetoolsError, match="without a 'token' field"):  # the connector's token key is used
        verify_stored({**document, "tokenKey": "token"}, location)
