"""HTTP request handling per endpoint: parse the request, call the backend, turn the result or the raised
error into (status, headers, JSON body). Nothing here keeps state; that is `models`' job."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from .exceptions import (
    CommercetoolsError,
    InsufficientScope,
    InvalidClient,
    InvalidInput,
    InvalidJsonInput,
    InvalidToken,
    OAuthError,
)
from .faults import Fault
from .models import CommercetoolsBackend, QueryResult

if TYPE_CHECKING:
    from .faults import FaultInjector
    from .requestlog import RequestLog


@dataclass
class Request:
    """The parts of an HTTP request the handlers need. `client_id` is filled in by a handler once the caller
    is authenticated, for the request log."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    params: Mapping[str, str] = field(default_factory=dict)
    client_id: str | None = None


@dataclass
class Response:
    """Status, extra headers and a JSON body (None: no body, as for HEAD)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error_response(error: CommercetoolsError) -> Response:
    """The commercetools JSON body for a raised error."""
    return Response(error.status, error.body(), dict(error.headers))


def fault_response(fault: Fault, endpoint: str) -> Response:
    """The answer for an injected error status.

    Where the reference documents the answer for a status, the fault gives exactly that: on the token endpoint
    401 is `invalid_client` ("Please provide valid client credentials ..."), on the API 401 is `invalid_token`
    and 403 `insufficient_scope`, all auth errors with `error`/`error_description`. Elsewhere commercetools
    documents no body, so the emulator sends a plausible one in its usual shape: `TooManyRequests` for 429,
    `ServiceUnavailable` for 503, `General` for other 5xx, a matching code for common 4xx.
    """
    status = fault.status or 500
    codes = {
        400: "InvalidInput",
        404: "ResourceNotFound",
        409: "ConcurrentModification",
        429: "TooManyRequests",
        503: "ServiceUnavailable",
    }
    try:
        message = HTTPStatus(status).phrase
    except ValueError:
        message = "Error"
    auth = endpoint in ("token", "introspect")
    error: CommercetoolsError
    if auth and status == 401:
        error = InvalidClient()
    elif auth and status == 400:
        error = OAuthError(400, "invalid_request", message)
    elif not auth and status == 401:
        error = InvalidToken()
    elif not auth and status == 403:
        error = InsufficientScope("the endpoint's scope")
    else:
        error = (OAuthError if auth else CommercetoolsError)(status, codes.get(status, "General"), message)
    response = error_response(error)
    if fault.retry_after is not None:
        response.headers["Retry-After"] = str(fault.retry_after)
    return response


def _first(values: Mapping[str, list[str]], name: str) -> str | None:
    found = values.get(name)
    return found[0] if found else None


def _form(request: Request) -> dict[str, list[str]]:
    """The form body's parameters. Only the body: the reference documents a form body, and an emulator that
    also read the query string would let a client that drifts to `?grant_type=...` pass every test."""
    text = request.body.decode("utf-8", errors="replace")
    return {key: list(values) for key, values in parse_qs(text, keep_blank_values=True).items()}


def _basic_credentials(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(client ID, secret) from `Authorization: Basic ...`, or (None, None) when absent or unreadable."""
    scheme, _, param = (headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        raw = base64.b64decode(param.strip(), validate=True)
    except ValueError:
        return None, None
    client_id, sep, secret = raw.decode("utf-8", errors="surrogateescape").partition(":")
    return (client_id, secret) if sep else (None, None)


def _bearer_token(headers: Mapping[str, str]) -> str | None:
    scheme, _, param = (headers.get("authorization") or "").strip().partition(" ")
    return (param.strip() or None) if scheme.lower() == "bearer" else None


def _json_body(request: Request) -> Any:
    if not request.body.strip():
        raise InvalidJsonInput("The request body is empty.")
    try:
        return json.loads(request.body)
    except (ValueError, RecursionError):
        raise InvalidJsonInput("The request body is not valid JSON.") from None


class AuthResponses:
    """The auth host: `/oauth/token` and `/oauth/introspect`."""

    def __init__(self, backend: CommercetoolsBackend) -> None:
        self.backend = backend

    def token(self, request: Request) -> Response:
        """Client credentials flow."""
        client_id, secret = _basic_credentials(request.headers)
        request.client_id = self.backend.authenticate(client_id, secret).id
        form = _form(request)
        record = self.backend.issue_token(
            client_id, secret, grant_type=_first(form, "grant_type"), scope=_first(form, "scope")
        )
        body = {
            "access_token": record.token,
            "expires_in": record.expires_in,
            "scope": " ".join(record.scopes),
            "token_type": "Bearer",
        }
        return Response(200, body, {"Cache-Control": "no-store"})

    def introspect(self, request: Request) -> Response:
        """Token introspection."""
        client_id, secret = _basic_credentials(request.headers)
        request.client_id = self.backend.authenticate(client_id, secret).id
        result = self.backend.introspect(client_id, secret, _first(_form(request), "token"))
        return Response(200, result, {"Cache-Control": "no-store"})


class ApiClientsResponses:
    """The API host: `/{projectKey}/api-clients[/{id}]`."""

    def __init__(self, backend: CommercetoolsBackend) -> None:
        self.backend = backend

    def _authorize(self, request: Request, *, write: bool) -> str:
        project_key = request.params["project_key"]
        request.client_id = self.backend.authorize(_bearer_token(request.headers), project_key, write=write).client_id
        return project_key

    def _page(self, request: Request, project_key: str, *, total: bool | None = None) -> QueryResult:
        def integer(name: str, default: int) -> int:
            raw = _first(request.query, name)
            if raw is None:
                return default
            try:
                return int(raw)
            except ValueError:
                raise InvalidInput(f"Malformed parameter: {name}: Must be an integer.") from None

        with_total = (_first(request.query, "withTotal") or "true").lower()  # commercetools' default is true
        if with_total not in ("true", "false"):
            raise InvalidInput("Malformed parameter: withTotal: Must be true or false.")
        return self.backend.query_api_clients(
            project_key,
            limit=integer("limit", 20),
            offset=integer("offset", 0),
            where=list(request.query.get("where", [])),
            with_total=with_total == "true" if total is None else total,
        )

    def query(self, request: Request) -> Response:
        """GET the collection: a PagedQueryResponse without secrets."""
        project_key = self._authorize(request, write=False)
        result = self._page(request, project_key)
        body: dict[str, Any] = {"limit": result.limit, "offset": result.offset, "count": len(result.results)}
        if result.total is not None:
            body["total"] = result.total
        body["results"] = [c.to_json() for c in result.results]
        return Response(200, body)

    def exists(self, request: Request) -> Response:
        """HEAD the collection: 200 when the (optional) `where` matches any client, else 404."""
        project_key = self._authorize(request, write=False)
        return Response(200 if self._page(request, project_key, total=True).total else 404)

    def create(self, request: Request) -> Response:
        """POST an ApiClientDraft; the only response that ever carries the secret."""
        project_key = self._authorize(request, write=True)
        record = self.backend.create_api_client(project_key, _json_body(request))
        return Response(201, record.to_json(with_secret=True))

    def get(self, request: Request) -> Response:
        """GET one client by ID."""
        project_key = self._authorize(request, write=False)
        return Response(200, self.backend.get_api_client(project_key, request.params["client_id"]).to_json())

    def head(self, request: Request) -> Response:
        """HEAD one client by ID: 200 or 404."""
        project_key = self._authorize(request, write=False)
        self.backend.get_api_client(project_key, request.params["client_id"])
        return Response(200)

    def delete(self, request: Request) -> Response:
        """DELETE one client; answers with the deleted client (no secret)."""
        project_key = self._authorize(request, write=True)
        return Response(200, self.backend.delete_api_client(project_key, request.params["client_id"]).to_json())


_SEED_FIELDS = frozenset(
    {"projectKey", "scopes", "name", "clientId", "secret"}
    | {"accessTokenValiditySeconds", "refreshTokenValiditySeconds", "deleteDaysAfterCreation"}
)


class ControlResponses:
    """`/_emulator/...`: seeding, fault injection and observation from another process, like moto's
    `/moto-api/`. Errors use the commercetools body shape with code `InvalidInput`."""

    def __init__(self, backend: CommercetoolsBackend, faults: FaultInjector, log: RequestLog) -> None:
        self.backend = backend
        self.faults = faults
        self.log = log

    def _object(self, request: Request) -> dict[str, Any]:
        data = _json_body(request)
        if not isinstance(data, dict):
            raise InvalidJsonInput("Expected a JSON object as the request body.")
        return data

    def create_client(self, request: Request) -> Response:
        """Seed a client: `{projectKey, scopes (list or space-separated), name?, clientId?, secret?,
        accessTokenValiditySeconds?, refreshTokenValiditySeconds?, deleteDaysAfterCreation?}`."""
        data = self._object(request)
        unknown = sorted(set(data) - _SEED_FIELDS)
        project_key, scopes = data.get("projectKey"), data.get("scopes")
        optional_strings = [data.get(k) for k in ("name", "clientId", "secret")]
        if unknown:
            raise InvalidInput(f"Unknown fields: {', '.join(unknown)}.")
        if not isinstance(project_key, str):
            raise InvalidInput("projectKey: A string is required.")
        if not (isinstance(scopes, str) or (isinstance(scopes, list) and all(isinstance(s, str) for s in scopes))):
            raise InvalidInput("scopes: A string or a list of strings is required.")
        if any(v is not None and not isinstance(v, str) for v in optional_strings):
            raise InvalidInput("name, clientId and secret must be strings.")
        try:
            record = self.backend.add_client(
                project_key,
                scopes,
                name=data.get("name"),
                client_id=data.get("clientId"),
                secret=data.get("secret"),
                access_token_validity_seconds=data.get("accessTokenValiditySeconds"),
                refresh_token_validity_seconds=data.get("refreshTokenValiditySeconds"),
                delete_days_after_creation=data.get("deleteDaysAfterCreation"),
            )
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        return Response(201, {**record.to_json(with_secret=True), "projectKey": record.project_key})

    def list_clients(self, request: Request) -> Response:
        """Every live client (optionally `?projectKey=`), without secrets."""
        records = self.backend.clients(_first(request.query, "projectKey"))
        return Response(200, {"results": [{**c.to_json(), "projectKey": c.project_key} for c in records]})

    def add_fault(self, request: Request) -> Response:
        """Activate a fault: `{endpoint, status?, retryAfter?, latency?, drop?, times?, grantScope?, answer?,
        method?}` (see `Fault`)."""
        try:
            fault = self.faults.add_fault(Fault.from_json(self._object(request)))
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"Invalid fault: {exc}") from None
        return Response(201, fault.to_json())

    def list_faults(self, request: Request) -> Response:
        """The active faults."""
        return Response(200, {"results": [f.to_json() for f in self.faults.active()]})

    def clear_faults(self, request: Request) -> Response:
        """Remove every fault."""
        self.faults.clear()
        return Response(200, {})

    def requests(self, request: Request) -> Response:
        """Counters and the request log (which never holds secrets, tokens or bodies)."""
        return Response(200, self.log.to_json())

    def clear_requests(self, request: Request) -> Response:
        """Forget the counters and the log."""
        self.log.clear()
        return Response(200, {})

    def reset(self, request: Request) -> Response:
        """Forget clients, tokens, faults, counters, the log and any clock offset."""
        self.backend.reset()
        self.faults.clear()
        self.log.clear()
        return Response(200, {})

    def get_config(self, request: Request) -> Response:
        """The behaviour switches for unconfirmed API behaviour."""
        return Response(
            200,
            {
                "uniqueNames": self.backend.unique_names,
                "newClientTokenDelaySeconds": self.backend.new_client_token_delay,
            },
        )

    def set_config(self, request: Request) -> Response:
        """Change `uniqueNames` (bool) and/or `newClientTokenDelaySeconds` (number >= 0)."""
        data = self._object(request)
        unknown = sorted(set(data) - {"uniqueNames", "newClientTokenDelaySeconds"})
        if unknown:
            raise InvalidInput(f"Unknown fields: {', '.join(unknown)}.")
        unique = data.get("uniqueNames", self.backend.unique_names)
        delay = data.get("newClientTokenDelaySeconds", self.backend.new_client_token_delay)
        if not isinstance(unique, bool):
            raise InvalidInput("uniqueNames: A boolean is required.")
        if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
            raise InvalidInput("newClientTokenDelaySeconds: A non-negative number is required.")
        self.backend.unique_names = unique
        self.backend.new_client_token_delay = float(delay)
        return self.get_config(request)

    def advance_clock(self, request: Request) -> Response:
        """Move the emulator's clock: `{"seconds": N}` (token expiry, deleteAt)."""
        seconds = self._object(request).get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise InvalidInput("seconds: A non-negative number is required.")
        self.backend.advance_clock(float(seconds))
        return Response(200, {"now": self.backend.now()})
