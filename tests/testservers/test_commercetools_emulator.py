"""The commercetools emulator behaves like the reference says the real service does, and its test hooks
(faults, counters, request log, control API, entry point) work. Every test gets its own emulator on port 0."""

from __future__ import annotations

import base64
import json
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from ctp_credentials.testing.commercetools import ApiClientRecord, CommercetoolsBackend, CommercetoolsEmulator, Fault
from ctp_credentials.testing.commercetools.models import TokenRecord

PK = "my-project"
OTHER_PK = "other-project"
CANARY = "CANARY-emulator-9d8c7b6a5f4e3d2c1b0a"
TIMEOUT = 5
REPO_ROOT = Path(__file__).resolve().parents[2]

INVALID_CLIENT = {
    "statusCode": 401,
    "message": "Please provide valid client credentials using HTTP Basic Authentication.",
    "errors": [
        {
            "code": "invalid_client",
            "message": "Please provide valid client credentials using HTTP Basic Authentication.",
        }
    ],
    "error": "invalid_client",
    "error_description": "Please provide valid client credentials using HTTP Basic Authentication.",
}
INVALID_TOKEN = {
    "statusCode": 401,
    "message": "invalid_token",
    "errors": [{"code": "invalid_token", "message": "invalid_token"}],
    "error": "invalid_token",
    "error_description": "invalid_token",
}


def oauth_error(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "message": message,
        "errors": [{"code": code, "message": message}],
        "error": code,
        "error_description": message,
    }


MALFORMED_SCOPE = oauth_error(400, "invalid_scope", "Malformed parameter: scope: Invalid scope.")
MISSING_WRITE_SCOPE = oauth_error(
    403, "insufficient_scope", "Insufficient scope. One of the following scopes is missing: manage_api_clients."
)
MISSING_READ_SCOPE = oauth_error(
    403,
    "insufficient_scope",
    "Insufficient scope. One of the following scopes is missing: view_api_clients, manage_api_clients.",
)


# -- fixtures and helpers -------------------------------------------------------------------------------


@pytest.fixture
def emu() -> Iterator[CommercetoolsEmulator]:
    with CommercetoolsEmulator() as emulator:
        yield emulator


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def admin(emu: CommercetoolsEmulator) -> ApiClientRecord:
    """The first client, "made by hand in the Merchant Center"."""
    return emu.backend.add_client(PK, ["manage_api_clients"], name="admin")


def request_token(
    emu: CommercetoolsEmulator,
    http: requests.Session,
    client_id: str,
    secret: str,
    scope: str | None = None,
) -> requests.Response:
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return http.post(f"{emu.url}/oauth/token", auth=(client_id, secret), data=data, timeout=TIMEOUT)


def token_for(
    emu: CommercetoolsEmulator, http: requests.Session, client: ApiClientRecord, scope: str | None = None
) -> str:
    response = request_token(emu, http, client.id, client.secret, scope)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def clients_url(emu: CommercetoolsEmulator, project_key: str = PK, client_id: str | None = None) -> str:
    base = f"{emu.url}/{project_key}/api-clients"
    return base if client_id is None else f"{base}/{client_id}"


def create_client(
    emu: CommercetoolsEmulator, http: requests.Session, token: str, draft: dict[str, Any]
) -> requests.Response:
    return http.post(clients_url(emu), headers=bearer(token), json=draft, timeout=TIMEOUT)


# -- token endpoint -------------------------------------------------------------------------------------


def test_token_without_credentials_is_invalid_client(emu: CommercetoolsEmulator, http: requests.Session) -> None:
    response = http.post(f"{emu.url}/oauth/token", data={"grant_type": "client_credentials"}, timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT


@pytest.mark.parametrize("case", ["wrong secret", "unknown client", "empty secret", "not base64", "bearer"])
def test_token_with_bad_credentials_is_invalid_client(
    emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord, case: str
) -> None:
    headers = {
        "wrong secret": {"Authorization": "Basic " + base64.b64encode(f"{admin.id}:nope".encode()).decode()},
        "unknown client": {"Authorization": "Basic " + base64.b64encode(f"nobody:{admin.secret}".encode()).decode()},
        "empty secret": {"Authorization": "Basic " + base64.b64encode(f"{admin.id}:".encode()).decode()},
        "not base64": {"Authorization": "Basic %%%not-base64%%%"},
        "bearer": {"Authorization": f"Bearer {admin.secret}"},
    }[case]
    response = http.post(
        f"{emu.url}/oauth/token", headers=headers, data={"grant_type": "client_credentials"}, timeout=TIMEOUT
    )
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT


def test_token_grant_type_errors(emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord) -> None:
    missing = http.post(f"{emu.url}/oauth/token", auth=(admin.id, admin.secret), data={}, timeout=TIMEOUT)
    assert missing.status_code == 400
    assert missing.json() == oauth_error(400, "invalid_request", "Missing required parameter: grant_type.")

    password = http.post(
        f"{emu.url}/oauth/token", auth=(admin.id, admin.secret), data={"grant_type": "password"}, timeout=TIMEOUT
    )
    assert password.status_code == 400
    assert password.json() == oauth_error(
        400, "unsupported_grant_type", "Invalid parameter: grant_type: Invalid grant type: 'password'"
    )


def test_token_success_has_implied_view_scopes_and_default_lifetime(
    emu: CommercetoolsEmulator, http: requests.Session
) -> None:
    client = emu.backend.add_client(PK, ["manage_orders", "manage_api_clients", "view_products"])
    assert client.last_used_at is None
    response = request_token(emu, http, client.id, client.secret)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "scope", "token_type"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 172800
    assert body["scope"].split() == sorted(
        f"{name}:{PK}"
        for name in ("manage_orders", "view_orders", "manage_api_clients", "view_api_clients", "view_products")
    )
    assert len(body["access_token"]) >= 32
    (seeded,) = emu.backend.clients(PK)
    assert seeded.last_used_at == datetime.fromtimestamp(emu.backend.now(), tz=UTC).date()


def test_token_lifetime_follows_client_validity(emu: CommercetoolsEmulator, http: requests.Session) -> None:
    client = emu.backend.add_client(PK, ["view_orders"], access_token_validity_seconds=3600)
    assert request_token(emu, http, client.id, client.secret).json()["expires_in"] == 3600


@pytest.mark.parametrize(
    "scope",
    [
        "manage_orders",  # no project key
        "manage_orders:",  # empty project key
        "bogus_scope:my-project",  # unknown name
        "manage_orders:x",  # project key too short
        "manage_orders:local",  # reserved project key
        "manage_orders:my project",  # whitespace splits into two bad scopes
        "manage_api_clients:my-project:store-a",  # not store-scopable
        "manage_orders:my-project:store-a:extra",
        "view_orders:my-project manage_orders",  # one good, one bad
    ],
)
def test_malformed_scope(emu: CommercetoolsEmulator, http: requests.Session, scope: str) -> None:
    client = emu.backend.add_client(PK, ["manage_orders"])
    response = request_token(emu, http, client.id, client.secret, scope)
    assert response.status_code == 400
    assert response.json() == MALFORMED_SCOPE


@pytest.mark.parametrize(
    "scope", ["view_products:my-project", "manage_orders:other-project", "view_orders:my-project:store-a"]
)
def test_scope_not_held_is_permissions_exceeded(emu: CommercetoolsEmulator, http: requests.Session, scope: str) -> None:
    client = emu.backend.add_client(PK, ["manage_orders"])
    response = request_token(emu, http, client.id, client.secret, scope)
    assert response.status_code == 400
    assert response.json() == oauth_error(
        400,
        "invalid_scope",
        "Permissions exceeded. Only the following permissions can be requested: manage_orders, view_orders",
    )


def test_scope_narrowing(emu: CommercetoolsEmulator, http: requests.Session) -> None:
    client = emu.backend.add_client(PK, ["manage_orders", "manage_api_clients"])
    narrow = request_token(emu, http, client.id, client.secret, f"view_orders:{PK}").json()
    assert narrow["scope"] == f"view_orders:{PK}"
    manage = request_token(emu, http, client.id, client.secret, f"manage_orders:{PK}").json()
    assert manage["scope"] == f"manage_orders:{PK} view_orders:{PK}"
    empty = request_token(emu, http, client.id, client.secret, "   ").json()
    assert len(empty["scope"].split()) == 4  # blank scope = no scope = everything


def test_manage_project_cannot_narrow(emu: CommercetoolsEmulator, http: requests.Session) -> None:
    client = emu.backend.add_client(PK, ["manage_project"])
    body = request_token(emu, http, client.id, client.secret, f"view_orders:{PK}").json()
    assert body["scope"] == f"manage_project:{PK}"
    other = request_token(emu, http, client.id, client.secret, f"view_orders:{OTHER_PK}")
    assert other.status_code == 400
    assert other.json()["message"].startswith("Permissions exceeded.")


def test_store_scopes(emu: CommercetoolsEmulator, http: requests.Session) -> None:
    client = emu.backend.add_client(PK, [f"manage_orders:{PK}:store-a", "view_discount_codes:my-project:store-a"])
    full = request_token(emu, http, client.id, client.secret).json()
    assert full["scope"].split() == sorted(
        [f"manage_orders:{PK}:store-a", f"view_orders:{PK}:store-a", f"view_discount_codes:{PK}:store-a"]
    )
    narrow = request_token(emu, http, client.id, client.secret, f"view_orders:{PK}:store-a").json()
    assert narrow["scope"] == f"view_orders:{PK}:store-a"
    for scope in (f"manage_orders:{PK}:store-b", f"manage_orders:{PK}"):
        refused = request_token(emu, http, client.id, client.secret, scope)
        assert refused.status_code == 400
        assert refused.json()["message"] == (
            "Permissions exceeded. Only the following permissions can be requested: "
            "manage_orders, view_discount_codes, view_orders"
        )
    with pytest.raises(ValueError, match="invalid scope"):
        emu.backend.add_client(PK, [f"manage_api_clients:{PK}:store-a"])
    with pytest.raises(ValueError, match="invalid scope"):
        emu.backend.add_client(PK, [f"manage_discount_codes:{PK}:store-a"])


def test_token_parameters_come_from_the_form_body_only(
    emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord
) -> None:
    """The reference documents a form body; a client that drifts to the query string must fail here too."""
    response = http.post(
        f"{emu.url}/oauth/token?grant_type=client_credentials", auth=(admin.id, admin.secret), timeout=TIMEOUT
    )
    assert response.status_code == 400 and response.json()["error_description"] == (
        "Missing required parameter: grant_type."
    )


# -- introspection --------------------------------------------------------------------------------------


def introspect(
    emu: CommercetoolsEmulator, http: requests.Session, client: ApiClientRecord, token: str | None
) -> requests.Response:
    data = {} if token is None else {"token": token}
    return http.post(f"{emu.url}/oauth/introspect", auth=(client.id, client.secret), data=data, timeout=TIMEOUT)


def test_introspection(emu: CommercetoolsEmulator, http: requests.Session) -> None:
    owner = emu.backend.add_client(PK, ["manage_orders"])
    stranger = emu.backend.add_client(PK, ["view_products"])
    inspector = emu.backend.add_client(PK, ["introspect_oauth_tokens"])
    foreign_inspector = emu.backend.add_client(OTHER_PK, ["introspect_oauth_tokens"])
    token = token_for(emu, http, owner)

    own = introspect(emu, http, owner, token)
    assert own.status_code == 200
    body = own.json()
    assert body["active"] is True
    assert body["scope"] == f"manage_orders:{PK} view_orders:{PK}"
    assert body["client_id"] == owner.id
    assert abs(body["exp"] - (emu.backend.now() + 172800)) < 5

    assert introspect(emu, http, inspector, token).json()["active"] is True
    for outsider in (stranger, foreign_inspector):
        refused = introspect(emu, http, outsider, token)
        assert refused.status_code == 403
        assert refused.json() == oauth_error(
            403,
            "insufficient_scope",
            "Insufficient scope. One of the following scopes is missing: introspect_oauth_tokens.",
        )

    assert introspect(emu, http, stranger, "no-such-token").json() == {"active": False}
    missing = introspect(emu, http, owner, None)
    assert missing.status_code == 400
    assert missing.json() == oauth_error(400, "invalid_request", "Missing required parameter: token.")

    bad = http.post(f"{emu.url}/oauth/introspect", auth=(owner.id, "nope"), data={"token": token}, timeout=TIMEOUT)
    assert bad.status_code == 401
    assert bad.json() == INVALID_CLIENT

    emu.backend.advance_clock(172801)
    assert introspect(emu, http, owner, token).json() == {"active": False}


# -- API clients: authorization -------------------------------------------------------------------------


def test_api_without_valid_token_is_invalid_token(
    emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord
) -> None:
    token = token_for(emu, http, admin)
    for headers in ({}, bearer("nope"), {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}):
        response = http.get(clients_url(emu), headers=headers, timeout=TIMEOUT)
        assert response.status_code == 401
        assert response.json() == INVALID_TOKEN
    assert http.get(clients_url(emu), headers=bearer(token), timeout=TIMEOUT).status_code == 200
    emu.backend.advance_clock(172800)
    expired = http.get(clients_url(emu), headers=bearer(token), timeout=TIMEOUT)
    assert expired.status_code == 401
    assert expired.json() == INVALID_TOKEN


def test_api_scopes(emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord) -> None:
    viewer = token_for(emu, http, emu.backend.add_client(PK, ["view_api_clients"]))
    owner = token_for(emu, http, emu.backend.add_client(PK, ["manage_project"]))
    other_project = token_for(emu, http, emu.backend.add_client(OTHER_PK, ["manage_api_clients"]))
    draft = {"name": "new", "scope": f"view_orders:{PK}"}

    assert http.get(clients_url(emu), headers=bearer(viewer), timeout=TIMEOUT).status_code == 200
    assert http.get(clients_url(emu, client_id=admin.id), headers=bearer(viewer), timeout=TIMEOUT).status_code == 200
    write = create_client(emu, http, viewer, draft)
    assert write.status_code == 403
    assert write.json() == MISSING_WRITE_SCOPE
    delete = http.delete(clients_url(emu, client_id=admin.id), headers=bearer(viewer), timeout=TIMEOUT)
    assert delete.json() == MISSING_WRITE_SCOPE

    for token in (owner, other_project):  # manage_project does not grant this API; nor does another project
        read = http.get(clients_url(emu), headers=bearer(token), timeout=TIMEOUT)
        assert read.status_code == 403
        assert read.json() == MISSING_READ_SCOPE
        assert create_client(emu, http, token, draft).json() == MISSING_WRITE_SCOPE
        head = http.head(clients_url(emu), headers=bearer(token), timeout=TIMEOUT)
        assert head.status_code == 403
        assert head.content == b""


# -- API clients: CRUD ----------------------------------------------------------------------------------


def test_create_query_get_head_delete(
    emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord
) -> None:
    token = token_for(emu, http, admin)
    created = create_client(
        emu,
        http,
        token,
        {
            "name": "checkout",
            "scope": f"manage_orders:{PK} view_products:{PK}",
            "accessTokenValiditySeconds": 3600,
            "refreshTokenValiditySeconds": 30,
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "name", "scope", "createdAt", "secret"} | {
        "accessTokenValiditySeconds",
        "refreshTokenValiditySeconds",
    }
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", body["id"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", body["secret"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["createdAt"])
    assert body["scope"] == f"manage_orders:{PK} view_products:{PK}"
    assert (body["accessTokenValiditySeconds"], body["refreshTokenValiditySeconds"]) == (3600, 30)

    # The new client is a real OAuth client: its id and secret get a token with its own lifetime.
    issued = request_token(emu, http, body["id"], body["secret"])
    assert issued.status_code == 200
    assert issued.json()["expires_in"] == 3600

    fetched = http.get(clients_url(emu, client_id=body["id"]), headers=bearer(token), timeout=TIMEOUT).json()
    assert "secret" not in fetched
    assert fetched["lastUsedAt"] == body["createdAt"][:10]
    assert {k: v for k, v in fetched.items() if k != "lastUsedAt"} == {k: v for k, v in body.items() if k != "secret"}

    page = http.get(clients_url(emu), headers=bearer(token), timeout=TIMEOUT).json()
    assert (page["limit"], page["offset"], page["count"], page["total"]) == (20, 0, 2, 2)
    assert [c["id"] for c in page["results"]] == [admin.id, body["id"]]
    assert all("secret" not in c for c in page["results"])
    assert admin.secret not in json.dumps(page)
    assert body["secret"] not in json.dumps(page)

    head = http.head(clients_url(emu, client_id=body["id"]), headers=bearer(token), timeout=TIMEOUT)
    assert (head.status_code, head.content) == (200, b"")
    assert http.head(clients_url(emu), headers=bearer(token), timeout=TIMEOUT).status_code == 200

    deleted = http.delete(clients_url(emu, client_id=body["id"]), headers=bearer(token), timeout=TIMEOUT)
    assert deleted.status_code == 200
    assert deleted.json()["id"] == body["id"]
    assert "secret" not in deleted.json()

    missing = http.get(clients_url(emu, client_id=body["id"]), headers=bearer(token), timeout=TIMEOUT)
    message = f"The Resource with ID '{body['id']}' was not found."
    assert missing.status_code == 404
    assert missing.json() == {
        "statusCode": 404,
        "message": message,
        "errors": [{"code": "ResourceNotFound", "message": message}],
    }
    head = http.head(clients_url(emu, client_id=body["id"]), headers=bearer(token), timeout=TIMEOUT)
    assert (head.status_code, head.content) == (404, b"")
    again = http.delete(clients_url(emu, client_id=body["id"]), headers=bearer(token), timeout=TIMEOUT)
    assert again.status_code == 404
    assert request_token(emu, http, body["id"], body["secret"]).json() == INVALID_CLIENT


def test_client_of_another_project_is_not_found(
    emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord
) -> None:
    foreign = emu.backend.add_client(OTHER_PK, ["view_orders"])
    token = token_for(emu, http, admin)
    assert http.get(clients_url(emu, client_id=foreign.id), headers=bearer(token), timeout=TIMEOUT).status_code == 404


def test_tokens_die_with_their_client(
    emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord
) -> None:
    admin_token = token_for(emu, http, admin)
    body = create_client(emu, http, admin_token, {"name": "temp", "scope": f"manage_api_clients:{PK}"}).json()
    temp = request_token(emu, http, body["id"], body["secret"]).json()["access_token"]
    assert http.get(clients_url(emu), headers=bearer(temp), timeout=TIMEOUT).status_code == 200
    assert http.delete(clients_url(emu, client_id=body["id"]), headers=bearer(admin_token), timeout=TIMEOUT).ok
    after = http.get(clients_url(emu), headers=bearer(temp), timeout=TIMEOUT)
    assert after.status_code == 401
    assert after.json() == INVALID_TOKEN
    assert introspect(emu, http, admin, temp).json() == {"active": False}
    assert all(t.client_id != body["id"] for t in emu.backend.tokens())


DRAFT_ERRORS = [
    ({"scope": f"view_orders:{PK}"}, "InvalidJsonInput", "name: Missing required value"),
    ({"name": "x"}, "InvalidJsonInput", "scope: Missing required value"),
    ({"name": 5, "scope": f"view_orders:{PK}"}, "InvalidJsonInput", "name: JSON string expected."),
    ({"name": "x", "scope": ["view_orders"]}, "InvalidJsonInput", "scope: JSON string expected."),
    ({"name": "x", "scope": f"view_orders:{PK}", "key": "k"}, "InvalidJsonInput", "key: Unknown field."),
    ({"name": " ", "scope": f"view_orders:{PK}"}, "InvalidInput", "name:"),
    ({"name": "x", "scope": ""}, "InvalidInput", "scope:"),
    ({"name": "x", "scope": "view_orders"}, "InvalidInput", "scope: Invalid scope 'view_orders'."),
    ({"name": "x", "scope": "nonsense:my-project"}, "InvalidInput", "scope: Invalid scope"),
    ({"name": "x", "scope": f"view_orders:{OTHER_PK}"}, "InvalidInput", "not for the project"),
    (
        {"name": "x", "scope": f"view_orders:{PK}", "accessTokenValiditySeconds": 3599},
        "InvalidInput",
        "accessTokenValiditySeconds:",
    ),
    (
        {"name": "x", "scope": f"view_orders:{PK}", "accessTokenValiditySeconds": 604801},
        "InvalidInput",
        "accessTokenValiditySeconds:",
    ),
    (
        {"name": "x", "scope": f"view_orders:{PK}", "accessTokenValiditySeconds": "3600"},
        "InvalidJsonInput",
        "accessTokenValiditySeconds:",
    ),
    (
        {"name": "x", "scope": f"view_orders:{PK}", "refreshTokenValiditySeconds": 29},
        "InvalidInput",
        "refreshTokenValiditySeconds:",
    ),
    (
        {"name": "x", "scope": f"view_orders:{PK}", "refreshTokenValiditySeconds": 31536001},
        "InvalidInput",
        "refreshTokenValiditySeconds:",
    ),
    (
        {"name": "x", "scope": f"view_orders:{PK}", "deleteDaysAfterCreation": 0},
        "InvalidInput",
        "deleteDaysAfterCreation:",
    ),
    (
        {"name": "x", "scope": f"view_orders:{PK}", "deleteDaysAfterCreation": True},
        "InvalidJsonInput",
        "deleteDaysAfterCreation:",
    ),
]


@pytest.mark.parametrize("case", DRAFT_ERRORS)
def test_invalid_drafts(
    emu: CommercetoolsEmulator,
    http: requests.Session,
    admin: ApiClientRecord,
    case: tuple[dict[str, Any], str, str],
) -> None:
    draft, code, field_message = case
    response = create_client(emu, http, token_for(emu, http, admin), draft)
    assert response.status_code == 400
    body = response.json()
    assert body["statusCode"] == 400
    (error,) = body["errors"]
    assert error["code"] == code
    if code == "InvalidJsonInput":  # the real API names the field in detailedErrorMessage
        assert body["message"] == error["message"] == "Request body does not contain valid JSON."
        assert error["detailedErrorMessage"].startswith(field_message)
    else:
        assert body["message"] == error["message"]
        assert field_message in error["message"]
    assert len(emu.backend.clients(PK)) == 1


@pytest.mark.parametrize("payload", [b"", b"{", b"[]", b"\xff\xfe", b"null", b"[" * 5000])
def test_body_that_is_not_a_json_object(
    emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord, payload: bytes
) -> None:
    headers = {**bearer(token_for(emu, http, admin)), "Content-Type": "application/json"}
    response = http.post(clients_url(emu), headers=headers, data=payload, timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "InvalidJsonInput"


def test_validity_bounds_are_inclusive(
    emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord
) -> None:
    token = token_for(emu, http, admin)
    for i, (access, refresh) in enumerate([(3600, 30), (604800, 31536000)]):
        draft = {
            "name": f"bound-{i}",
            "scope": f"view_orders:{PK}",
            "accessTokenValiditySeconds": access,
            "refreshTokenValiditySeconds": refresh,
        }
        assert create_client(emu, http, token, draft).status_code == 201


def test_duplicate_names(emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord) -> None:
    token = token_for(emu, http, admin)
    draft = {"name": "twin", "scope": f"view_orders:{PK}"}
    assert create_client(emu, http, token, draft).status_code == 201
    duplicate = create_client(emu, http, token, draft)
    assert duplicate.status_code == 400
    error = duplicate.json()["errors"][0]
    assert (error["code"], error["field"], error["duplicateValue"]) == ("DuplicateField", "name", "twin")
    emu.backend.unique_names = False
    assert create_client(emu, http, token, draft).status_code == 201


def test_delete_days_after_creation(emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord) -> None:
    token = token_for(emu, http, admin)
    body = create_client(
        emu, http, token, {"name": "short", "scope": f"view_orders:{PK}", "deleteDaysAfterCreation": 2}
    ).json()
    created = datetime.fromisoformat(body["createdAt"])
    assert datetime.fromisoformat(body["deleteAt"]) - created == timedelta(days=2)
    short_token = request_token(emu, http, body["id"], body["secret"]).json()["access_token"]

    emu.backend.advance_clock(2 * 86400 - 60)
    token = token_for(emu, http, admin)  # the admin's first token has expired by now
    assert http.get(clients_url(emu, client_id=body["id"]), headers=bearer(token), timeout=TIMEOUT).status_code == 200

    emu.backend.advance_clock(61)
    assert http.get(clients_url(emu, client_id=body["id"]), headers=bearer(token), timeout=TIMEOUT).status_code == 404
    page = http.get(clients_url(emu), headers=bearer(token), timeout=TIMEOUT).json()
    assert [c["id"] for c in page["results"]] == [admin.id]
    assert request_token(emu, http, body["id"], body["secret"]).json() == INVALID_CLIENT
    assert introspect(emu, http, admin, short_token).json() == {"active": False}
    assert [c.id for c in emu.backend.clients()] == [admin.id]


def test_query_paging_and_where(emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord) -> None:
    token = token_for(emu, http, admin)
    ids = [
        create_client(emu, http, token, {"name": f'app "{i}"', "scope": f"view_orders:{PK}"}).json()["id"]
        for i in range(5)
    ]

    def query(**params: str) -> requests.Response:
        return http.get(clients_url(emu), headers=bearer(token), params=params, timeout=TIMEOUT)

    page = query(limit="2", offset="1").json()
    assert (page["limit"], page["offset"], page["count"], page["total"]) == (2, 1, 2, 6)
    assert [c["id"] for c in page["results"]] == ids[0:2]
    assert "total" not in query(withTotal="false").json()
    assert query(limit="500").status_code == 200
    by_id = query(where=f'id="{ids[3]}"').json()
    assert [c["id"] for c in by_id["results"]] == [ids[3]]
    by_name = query(where='name = "app \\"2\\""').json()
    assert [c["id"] for c in by_name["results"]] == [ids[2]]
    both = query(where=f'name="app \\"2\\"" and id="{ids[3]}"').json()
    assert both["results"] == []
    assert both["total"] == 0
    head = http.head(clients_url(emu), headers=bearer(token), params={"where": 'name="nope"'}, timeout=TIMEOUT)
    assert head.status_code == 404

    for params in ({"limit": "501"}, {"limit": "-1"}, {"limit": "ten"}, {"offset": "x"}, {"withTotal": "maybe"}):
        bad = query(**params)
        assert bad.status_code == 400
        assert bad.json()["errors"][0]["code"] == "InvalidInput"
    for where in ('createdAt > "2020-01-01"', "name=unquoted", 'name="x" or id="y"', 'name="x" and'):
        bad = query(where=where)
        assert bad.status_code == 400
        assert bad.json()["errors"][0]["code"] == "InvalidInput"
        assert bad.json()["message"].startswith("Malformed parameter: where:")


# -- routing --------------------------------------------------------------------------------------------


def test_unknown_path_and_wrong_method(
    emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord
) -> None:
    unknown = http.get(f"{emu.url}/{PK}/products", timeout=TIMEOUT)
    assert unknown.status_code == 404
    assert unknown.json()["statusCode"] == 404
    assert unknown.headers["Content-Type"].startswith("application/json")

    wrong = http.get(f"{emu.url}/oauth/token", timeout=TIMEOUT)
    assert wrong.status_code == 405
    assert wrong.json()["statusCode"] == 405
    assert wrong.headers["Allow"] == "POST"
    put = http.put(clients_url(emu, client_id=admin.id), json={}, timeout=TIMEOUT)  # there is no update
    assert put.status_code == 405
    assert put.headers["Allow"] == "DELETE, GET, HEAD"
    assert emu.count("unknown") == 1


# -- faults ---------------------------------------------------------------------------------------------


def test_fault_429_with_retry_after_is_used_up(
    emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord
) -> None:
    emu.faults.add("token", status=429, retry_after=7, times=2)
    for _ in range(2):
        limited = request_token(emu, http, admin.id, admin.secret)
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "7"
        body = limited.json()
        assert body["statusCode"] == 429
        assert body["errors"][0]["code"] == "TooManyRequests"
        assert body["error"] == "TooManyRequests"
    assert request_token(emu, http, admin.id, admin.secret).status_code == 200
    assert emu.faults.active() == []
    assert emu.count("token") == 3
    assert emu.count("token", status=429) == 2
    assert emu.count("token", status=200) == 1


def test_fault_503_until_cleared(emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord) -> None:
    token = token_for(emu, http, admin)
    emu.faults.add("api_clients", status=503)
    for _ in range(3):
        response = http.get(clients_url(emu), headers=bearer(token), timeout=TIMEOUT)
        assert response.status_code == 503
        assert response.json() == {
            "statusCode": 503,
            "message": "Service Unavailable",
            "errors": [{"code": "ServiceUnavailable", "message": "Service Unavailable"}],
        }
    assert request_token(emu, http, admin.id, admin.secret).status_code == 200  # other endpoints unaffected
    emu.faults.add("*", status=500, times=1)
    general = http.get(clients_url(emu), headers=bearer(token), timeout=TIMEOUT)
    assert general.status_code == 503  # the oldest matching fault applies
    emu.faults.clear()
    assert http.get(clients_url(emu), headers=bearer(token), timeout=TIMEOUT).status_code == 200
    emu.faults.add("*", status=500, times=1)
    general = http.get(clients_url(emu), headers=bearer(token), timeout=TIMEOUT)
    assert general.status_code == 500
    assert general.json()["errors"][0]["code"] == "General"


def test_injected_auth_faults_answer_as_the_reference_documents(
    emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord
) -> None:
    """An injected 401 on the token endpoint is the documented invalid_client (so tests of it exercise the
    client's wrong-credentials path); on the API, 401 and 403 are invalid_token and insufficient_scope."""
    token = token_for(emu, http, admin)
    emu.faults.add("token", status=401, times=1)
    body = request_token(emu, http, admin.id, admin.secret).json()
    assert body["error"] == "invalid_client"
    assert body["error_description"] == "Please provide valid client credentials using HTTP Basic Authentication."
    emu.faults.add("api_clients", status=401, times=1)
    emu.faults.add("api_clients", status=403, times=1)
    first = http.get(clients_url(emu), headers=bearer(token), timeout=TIMEOUT).json()
    second = http.get(clients_url(emu), headers=bearer(token), timeout=TIMEOUT).json()
    assert (first["statusCode"], first["error"]) == (401, "invalid_token")
    assert (second["statusCode"], second["error"]) == (403, "insufficient_scope")


def test_fault_latency(emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord) -> None:
    """A delay can only make a request slower: the lower bound is safe to assert; how fast the next one is
    would be a timing claim on a shared machine, so the test checks that the fault was used up instead."""
    emu.faults.add("token", latency=0.3, times=1)
    started = time.monotonic()
    assert request_token(emu, http, admin.id, admin.secret).status_code == 200
    assert time.monotonic() - started >= 0.3
    assert emu.faults.active() == []
    assert request_token(emu, http, admin.id, admin.secret).status_code == 200


def test_fault_drop(emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord) -> None:
    emu.faults.add("token", drop=True, times=1)
    with pytest.raises(requests.ConnectionError):
        request_token(emu, http, admin.id, admin.secret)
    assert request_token(emu, http, admin.id, admin.secret).status_code == 200
    assert [e.status for e in emu.requests] == [None, 200]


def test_fault_grant_scope_answers_a_narrower_grant(
    emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord
) -> None:
    emu.faults.add("token", grant_scope=f"view_orders:{PK}", times=1)
    narrowed = request_token(emu, http, admin.id, admin.secret)
    assert narrowed.status_code == 200 and narrowed.json()["scope"] == f"view_orders:{PK}"
    assert narrowed.json()["token_type"] == "Bearer" and narrowed.json()["access_token"]
    assert f"manage_api_clients:{PK}" in request_token(emu, http, admin.id, admin.secret).json()["scope"].split()
    emu.faults.add("token", grant_scope="x", times=1)
    assert request_token(emu, http, admin.id, "wrong").status_code == 401  # a refusal stays a refusal


def test_fault_answer_replaces_the_answer_without_serving_the_request(
    emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord
) -> None:
    emu.faults.add("token", answer="<html>proxy login</html>", times=1)
    page = request_token(emu, http, admin.id, "wrong")  # not served: no credential check either
    assert (page.status_code, page.text, page.headers["Content-Type"]) == (200, "<html>proxy login</html>", "text/html")
    emu.faults.add("token", answer={"access_token": "t"}, times=1)
    bare = request_token(emu, http, admin.id, admin.secret)
    assert bare.json() == {"access_token": "t"} and bare.headers["Content-Type"].startswith("application/json")
    assert request_token(emu, http, admin.id, admin.secret).json()["token_type"] == "Bearer"  # used up
    emu.faults.add("token", answer={"error": "proxy_error", "message": "x"}, status=502, times=1)
    odd = request_token(emu, http, admin.id, admin.secret)  # an error body of a proxy's making, with its status
    assert (odd.status_code, odd.json()) == (502, {"error": "proxy_error", "message": "x"})


def test_fault_method_targets_one_http_method(emu: CommercetoolsEmulator, http: requests.Session) -> None:
    admin = emu.backend.add_client(PK, [f"manage_api_clients:{PK}"], secret="s")
    token = request_token(emu, http, admin.id, "s").json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    emu.faults.add("api_clients", status=503, method="POST", times=1)
    assert http.get(f"{emu.url}/{PK}/api-clients", headers=bearer).status_code == 200  # not a POST: served
    draft = {"name": "x", "scope": f"view_orders:{PK}"}
    assert http.post(f"{emu.url}/{PK}/api-clients", json=draft, headers=bearer).status_code == 503
    assert http.post(f"{emu.url}/{PK}/api-clients", json=draft, headers=bearer).status_code == 201


def test_fault_omit_serves_the_request_without_the_named_fields(
    emu: CommercetoolsEmulator, http: requests.Session
) -> None:
    admin = emu.backend.add_client(PK, [f"manage_api_clients:{PK}"], secret="s")
    headers = bearer(token_for(emu, http, admin))
    emu.faults.add("api_clients", omit=("createdAt",), method="POST", times=1)
    draft = {"name": "x", "scope": f"view_orders:{PK}"}
    made = http.post(f"{emu.url}/{PK}/api-clients", json=draft, headers=headers)
    assert made.status_code == 201 and "createdAt" not in made.json() and made.json()["name"] == "x"
    assert made.json()["id"] in {c.id for c in emu.backend.clients(PK)}  # served: the client exists
    emu.faults.add("api_clients", omit=("createdAt",), times=1)
    listed = http.get(f"{emu.url}/{PK}/api-clients", headers=headers).json()
    assert listed["results"] and all("createdAt" not in c and "id" in c for c in listed["results"])
    assert "createdAt" in http.get(f"{emu.url}/{PK}/api-clients", headers=headers).json()["results"][0]  # used up


def test_fault_token_key_and_scope_answer_one_token_request_under_another_key(
    emu: CommercetoolsEmulator, http: requests.Session
) -> None:
    client = emu.backend.add_client(PK, [f"view_orders:{PK}", f"view_products:{PK}"], secret="s")
    emu.faults.add("token", token_key="token", scope=f"view_orders:{PK}")
    other = request_token(emu, http, client.id, "s", f"view_products:{PK}").json()  # another scope: not this fault's
    assert "access_token" in other and "token" not in other
    keyed = request_token(emu, http, client.id, "s", f"view_orders:{PK}").json()
    assert "access_token" not in keyed and keyed["token"] and keyed["scope"] == f"view_orders:{PK}"
    assert request_token(emu, http, client.id, "wrong", f"view_orders:{PK}").status_code == 401  # still checked


def test_request_log_records_how_the_caller_identifies_itself(
    emu: CommercetoolsEmulator, http: requests.Session, admin: ApiClientRecord
) -> None:
    http.get(f"{emu.url}/{PK}/api-clients", headers={"User-Agent": "probe/1", "Accept": "application/json"})
    entry = emu.requests[-1]
    assert (entry.user_agent, entry.accept) == ("probe/1", "application/json")
    assert entry.to_json()["userAgent"] == "probe/1" and entry.to_json()["accept"] == "application/json"


def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        Fault("nope")
    with pytest.raises(ValueError, match="status"):
        Fault("token", status=200)
    with pytest.raises(ValueError, match="times"):
        Fault("token", times=0)
    with pytest.raises(ValueError, match="latency"):
        Fault("token", latency=-1)
    with pytest.raises(ValueError, match="grant_scope"):
        Fault("api_clients", grant_scope=f"view_orders:{PK}")
    assert Fault.from_json({"endpoint": "token", "grantScope": "a:b"}).grant_scope == "a:b"
    with pytest.raises(ValueError, match="answer is a JSON object"):
        Fault("token", answer=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot go with drop"):
        Fault("token", answer="x", drop=True)
    assert Fault.from_json({"endpoint": "token", "answer": [1]}).to_json()["answer"] == [1]
    with pytest.raises(ValueError, match="token_key is a non-empty string, for the token endpoint only"):
        Fault("api_clients", token_key="token")
    with pytest.raises(ValueError, match="scope is a non-empty string"):
        Fault("token", scope="")
    with pytest.raises(ValueError, match="omit is a list of field names"):
        Fault("token", omit="createdAt")  # type: ignore[arg-type]
    restored = Fault.from_json({"endpoint": "token", "tokenKey": "t", "scope": "a:b", "omit": ["x"]})
    assert (restored.token_key, restored.scope, restored.omit) == ("t", "a:b", ("x",))
    assert restored.to_json()["tokenKey"] == "t" and restored.to_json()["omit"] == ["x"]
    with pytest.raises(ValueError, match="method is GET"):
        Fault("api_clients", method="PUT")


def test_stop_interrupts_latency(http: requests.Session) -> None:
    emulator = CommercetoolsEmulator().start()
    client = emulator.backend.add_client(PK, ["view_orders"])
    emulator.faults.add("token", latency=600, times=1)  # far beyond any wait below
    statuses: list[int] = []
    worker = threading.Thread(
        target=lambda: statuses.append(request_token(emulator, http, client.id, client.secret).status_code)
    )
    worker.start()
    deadline = time.monotonic() + TIMEOUT
    while emulator.faults.active():  # taken: the request is now in the server's delay
        assert time.monotonic() < deadline, "the request never reached the server"
        time.sleep(0.01)
    emulator.stop()
    worker.join(60)  # a stop that waited out the delay would leave the worker running for 10 minutes
    assert not worker.is_alive() and statuses == [200]


# -- observation and the control API --------------------------------------------------------------------


def test_control_api_from_another_session(emu: CommercetoolsEmulator) -> None:
    with requests.Session() as control, requests.Session() as app:
        seeded = control.post(
            f"{emu.url}/_emulator/clients",
            json={"projectKey": PK, "scopes": ["manage_api_clients"], "name": "admin", "secret": CANARY},
            timeout=TIMEOUT,
        )
        assert seeded.status_code == 201
        client = seeded.json()
        assert (client["secret"], client["projectKey"], client["scope"]) == (CANARY, PK, f"manage_api_clients:{PK}")
        assert app.post(
            f"{emu.url}/oauth/token",
            auth=(client["id"], CANARY),
            data={"grant_type": "client_credentials"},
            timeout=TIMEOUT,
        ).ok

        listed = control.get(f"{emu.url}/_emulator/clients", timeout=TIMEOUT).json()["results"]
        assert [c["id"] for c in listed] == [client["id"]]
        assert CANARY not in json.dumps(listed)

        bad_seed = control.post(
            f"{emu.url}/_emulator/clients", json={"projectKey": "local", "scopes": "view_orders"}, timeout=TIMEOUT
        )
        assert bad_seed.status_code == 400

        fault = control.post(
            f"{emu.url}/_emulator/faults",
            json={"endpoint": "token", "status": 429, "retryAfter": 3, "times": 1},
            timeout=TIMEOUT,
        )
        assert fault.status_code == 201
        assert control.get(f"{emu.url}/_emulator/faults", timeout=TIMEOUT).json()["results"][0]["status"] == 429
        limited = app.post(
            f"{emu.url}/oauth/token",
            auth=(client["id"], CANARY),
            data={"grant_type": "client_credentials"},
            timeout=TIMEOUT,
        )
        assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
        assert (
            control.post(
                f"{emu.url}/_emulator/faults", json={"endpoint": "token", "status": 200}, timeout=TIMEOUT
            ).status_code
            == 400
        )
        assert (
            control.post(
                f"{emu.url}/_emulator/faults", json={"endpoint": "*", "drop": True}, timeout=TIMEOUT
            ).status_code
            == 201
        )
        assert control.delete(f"{emu.url}/_emulator/faults", timeout=TIMEOUT).ok
        assert emu.faults.active() == []

        observed = control.get(f"{emu.url}/_emulator/requests", timeout=TIMEOUT).json()
        assert observed["counts"] == {"token": 2}
        assert observed["countsByStatus"] == {"token": {"200": 1, "429": 1}}
        assert [(e["endpoint"], e["status"], e["clientId"]) for e in observed["log"]] == [
            ("token", 200, client["id"]),
            ("token", 429, None),
        ]

        config = control.post(
            f"{emu.url}/_emulator/config",
            json={"uniqueNames": False, "newClientTokenDelaySeconds": 0.5},
            timeout=TIMEOUT,
        )
        assert config.json() == {"uniqueNames": False, "newClientTokenDelaySeconds": 0.5}
        assert emu.backend.unique_names is False
        before = emu.backend.now()
        assert control.post(f"{emu.url}/_emulator/clock", json={"seconds": 100}, timeout=TIMEOUT).ok
        assert emu.backend.now() - before >= 100

        assert control.post(f"{emu.url}/_emulator/reset", timeout=TIMEOUT).ok
        assert emu.backend.clients() == []
        assert control.get(f"{emu.url}/_emulator/requests", timeout=TIMEOUT).json() == {
            "counts": {},
            "countsByStatus": {},
            "log": [],
        }


def test_new_client_token_delay(emu: CommercetoolsEmulator, http: requests.Session) -> None:
    emu.backend.new_client_token_delay = 60
    client = emu.backend.add_client(PK, ["view_orders"])
    assert request_token(emu, http, client.id, client.secret).json() == INVALID_CLIENT
    emu.backend.advance_clock(60)
    assert request_token(emu, http, client.id, client.secret).status_code == 200


def test_request_log_never_holds_secrets_or_tokens(emu: CommercetoolsEmulator, http: requests.Session) -> None:
    admin = emu.backend.add_client(PK, ["manage_api_clients", "introspect_oauth_tokens"], secret=CANARY)
    token = token_for(emu, http, admin)
    created = create_client(emu, http, token, {"name": CANARY, "scope": f"view_orders:{PK}"}).json()
    request_token(emu, http, admin.id, CANARY + "-wrong")
    request_token(emu, http, CANARY, CANARY)  # a secret pasted as the client ID is not logged either
    http.post(f"{emu.url}/oauth/token?client_secret={CANARY}", data={"client_secret": CANARY}, timeout=TIMEOUT)
    introspect(emu, http, admin, token)
    http.get(clients_url(emu), headers=bearer(token), params={"where": f'name="{CANARY}"'}, timeout=TIMEOUT)
    http.get(clients_url(emu), headers={"Authorization": f"Bearer {CANARY}"}, timeout=TIMEOUT)
    emu.faults.add("token", drop=True, times=1)
    with pytest.raises(requests.ConnectionError):
        request_token(emu, http, admin.id, CANARY)

    with requests.Session() as control:
        dumped = control.get(f"{emu.url}/_emulator/requests", timeout=TIMEOUT).text
    logged = dumped + repr(emu.requests)
    assert emu.count() == 9
    for secret in (CANARY, token, created["secret"], base64.b64encode(f"{admin.id}:{CANARY}".encode()).decode()):
        assert secret not in logged
    assert admin.id in logged  # the log is useful: it names the authenticated client


def test_reprs_hide_secrets(emu: CommercetoolsEmulator, http: requests.Session) -> None:
    client = emu.backend.add_client(PK, ["view_orders"], secret=CANARY)
    token = token_for(emu, http, client)
    assert CANARY not in repr(client)
    assert CANARY not in str(emu.backend.clients())
    (record,) = emu.backend.tokens()
    assert isinstance(record, TokenRecord)
    assert token not in repr(record)


def test_backend_seeding_rules() -> None:
    backend = CommercetoolsBackend()
    client = backend.add_client(PK, f"manage_orders:{PK} view_products", client_id="fixed-id", secret="s")
    assert (client.id, client.secret, client.scope) == ("fixed-id", "s", (f"manage_orders:{PK}", f"view_products:{PK}"))
    bad: list[tuple[str, list[str], dict[str, Any]]] = [
        ("local", ["view_orders"], {}),
        ("x", ["view_orders"], {}),
        (PK, [], {}),
        (PK, [f"view_orders:{OTHER_PK}"], {}),
        (PK, ["view_orders"], {"client_id": "fixed-id"}),
        (PK, ["view_orders"], {"client_id": "a:b"}),
        (PK, ["view_orders"], {"access_token_validity_seconds": 60}),
    ]
    for project_key, scopes, kwargs in bad:
        with pytest.raises(ValueError):
            backend.add_client(project_key, scopes, **kwargs)
    backend.add_client(OTHER_PK, ["view_orders"])
    assert [c.id for c in backend.clients(PK)] == ["fixed-id"]
    assert len(backend.clients()) == 2
    backend.reset()
    assert backend.clients() == []


def test_concurrent_requests(emu: CommercetoolsEmulator, admin: ApiClientRecord) -> None:
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        with requests.Session() as session:
            for _ in range(5):
                status = request_token(emu, session, admin.id, admin.secret).status_code
                with lock:
                    statuses.append(status)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
    assert statuses == [200] * 40
    assert emu.count("token", status=200) == 40
    assert len({t.token for t in emu.backend.tokens()}) == 40


# -- lifecycle and entry point --------------------------------------------------------------------------


def test_stop_closes_the_port_and_joins_threads() -> None:
    emulator = CommercetoolsEmulator()
    with pytest.raises(RuntimeError):
        _ = emulator.url
    emulator.start()
    port = emulator.port
    assert emulator.url == f"http://127.0.0.1:{port}"
    assert requests.get(f"{emulator.url}/nothing", timeout=TIMEOUT).status_code == 404
    emulator.stop()
    emulator.stop()  # idempotent
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    assert not [t for t in threading.enumerate() if t.name.startswith("commercetools-emulator")]
    with pytest.raises(RuntimeError):
        emulator.start()


def test_module_entry_point(http: requests.Session) -> None:
    command = [
        sys.executable,
        "-m",
        "ctp_credentials.testing.commercetools",
        "--seed",
        f"{PK}:manage_api_clients,view_orders",
    ]
    with subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], 15)
            assert ready, "the emulator printed nothing"
            line = json.loads(proc.stdout.readline())
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", line["url"])
            (seeded,) = line["clients"]
            assert seeded["projectKey"] == PK
            assert seeded["scope"] == f"manage_api_clients:{PK} view_orders:{PK}"
            response = http.post(
                f"{line['url']}/oauth/token",
                auth=(seeded["clientId"], seeded["clientSecret"]),
                data={"grant_type": "client_credentials"},
                timeout=TIMEOUT,
            )
            assert response.status_code == 200
        finally:
            proc.terminate()
            _, stderr = proc.communicate(timeout=10)
        assert proc.returncode == 0, stderr
        assert stderr == ""


# -- robustness -----------------------------------------------------------------------------------------

_header_bytes = st.binary(max_size=80).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"").lstrip())
authorization_headers = st.one_of(
    _header_bytes,
    st.tuples(st.sampled_from([b"Basic ", b"Bearer ", b"basic ", b"BEARER "]), _header_bytes).map(b"".join),
    st.binary(max_size=60).map(lambda b: b"Basic " + base64.b64encode(b)),
)
FORM_KEYS = ["grant_type", "scope", "token", "client_id", "limit", "offset", "where", "withTotal"]


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[CommercetoolsEmulator, ApiClientRecord, str]]:
    """One emulator for the property tests below (a fresh one per example would dominate the run time)."""
    with CommercetoolsEmulator() as emulator, requests.Session() as session:
        client = emulator.backend.add_client(PK, ["manage_api_clients", "introspect_oauth_tokens"])
        yield emulator, client, token_for(emulator, session, client)


@settings(max_examples=150, deadline=None, database=None)
@given(
    authorization=authorization_headers,
    body=st.binary(max_size=200),
    target=st.sampled_from(["token", "introspect", "query", "create", "get", "delete"]),
)
def test_garbage_credentials_and_bodies_get_4xx_json(
    shared: tuple[CommercetoolsEmulator, ApiClientRecord, str], authorization: bytes, body: bytes, target: str
) -> None:
    emulator, client, _ = shared
    method, path = {
        "token": ("POST", "/oauth/token"),
        "introspect": ("POST", "/oauth/introspect"),
        "query": ("GET", f"/{PK}/api-clients"),
        "create": ("POST", f"/{PK}/api-clients"),
        "get": ("GET", f"/{PK}/api-clients/{client.id}"),
        "delete": ("DELETE", f"/{PK}/api-clients/{client.id}"),
    }[target]
    with requests.Session() as session:
        response = session.request(
            method,
            emulator.url + path,
            headers={"Authorization": authorization, "Content-Type": "application/x-www-form-urlencoded"},
            data=body,
            timeout=TIMEOUT,
        )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["statusCode"] == response.status_code


@settings(max_examples=150, deadline=None, database=None)
@given(
    form=st.dictionaries(st.sampled_from(FORM_KEYS), st.text(max_size=40), max_size=4),
    raw=st.binary(max_size=200),
    target=st.sampled_from(["token", "introspect", "create", "query"]),
)
def test_garbage_with_valid_credentials_never_breaks_the_server(
    shared: tuple[CommercetoolsEmulator, ApiClientRecord, str], form: dict[str, str], raw: bytes, target: str
) -> None:
    emulator, client, token = shared
    with requests.Session() as session:
        if target in ("token", "introspect"):
            for data in (urlencode(form).encode(), raw):
                response = session.post(
                    f"{emulator.url}/oauth/{target}", auth=(client.id, client.secret), data=data, timeout=TIMEOUT
                )
                assert response.status_code in (200, 400, 403), response.text
                assert isinstance(response.json(), dict)
        elif target == "create":
            response = session.post(clients_url(emulator), headers=bearer(token), data=raw, timeout=TIMEOUT)
            assert response.status_code == 400, response.text
            assert response.json()["errors"][0]["code"] == "InvalidJsonInput"
        else:
            response = session.get(clients_url(emulator), headers=bearer(token), params=form, timeout=TIMEOUT)
            assert response.status_code in (200, 400), response.text
            assert isinstance(response.json(), dict)
