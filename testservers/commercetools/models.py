"""State of the emulated commercetools project(s): API clients and the access tokens issued to them.

Shaped like a moto backend: the model owns the state and every rule of the real service (credential checks,
scope rules, draft validation) and raises the errors of `exceptions`; `responses` only translates HTTP.
"""

from __future__ import annotations

import dataclasses
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .exceptions import (
    DuplicateField,
    InsufficientScope,
    InvalidClient,
    InvalidInput,
    InvalidJsonInput,
    InvalidScope,
    InvalidToken,
    OAuthError,
    ResourceNotFound,
)
from .scopes import Scope, ScopeSyntaxError, expand, format_scopes, is_valid_project_key, parse_scopes

DEFAULT_TOKEN_VALIDITY_SECONDS = 172_800
ACCESS_TOKEN_VALIDITY_RANGE = (3_600, 604_800)
REFRESH_TOKEN_VALIDITY_RANGE = (30, 31_536_000)
MAX_QUERY_LIMIT = 500
MAX_QUERY_OFFSET = 10_000  # commercetools' documented offset cap for query endpoints
_DRAFT_FIELDS = frozenset(
    {"name", "scope", "deleteDaysAfterCreation", "accessTokenValiditySeconds", "refreshTokenValiditySeconds"}
)
# Compared against when the client ID is unknown, so a miss costs as much as a wrong secret.
_DUMMY_SECRET = secrets.token_urlsafe(24).encode()


def _iso(moment: datetime) -> str:
    """commercetools' timestamp format: UTC with milliseconds and a `Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class ApiClientRecord:
    """One API client. The secret stays out of `repr` so a logged or asserted record never leaks it."""

    id: str
    name: str
    scope: tuple[str, ...]
    secret: str = field(repr=False)
    project_key: str
    created_at: datetime
    last_used_at: date | None = None
    delete_at: datetime | None = None
    access_token_validity_seconds: int | None = None
    refresh_token_validity_seconds: int | None = None

    def to_json(self, *, with_secret: bool = False) -> dict[str, Any]:
        """The ApiClient representation; the secret only for the create response."""
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "scope": " ".join(self.scope),
            "createdAt": _iso(self.created_at),
        }
        if self.last_used_at is not None:
            body["lastUsedAt"] = self.last_used_at.isoformat()
        if self.delete_at is not None:
            body["deleteAt"] = _iso(self.delete_at)
        if self.access_token_validity_seconds is not None:
            body["accessTokenValiditySeconds"] = self.access_token_validity_seconds
        if self.refresh_token_validity_seconds is not None:
            body["refreshTokenValiditySeconds"] = self.refresh_token_validity_seconds
        if with_secret:
            body["secret"] = self.secret
        return body

    def is_gone(self, now: datetime) -> bool:
        """Past its deleteAt the client no longer exists for any endpoint."""
        return self.delete_at is not None and self.delete_at <= now


@dataclass(frozen=True)
class TokenRecord:
    """An issued access token; the token value stays out of `repr`."""

    token: str = field(repr=False)
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float
    issued_at: float = 0.0

    @property
    def expires_in(self) -> int:
        """The lifetime announced in the token response."""
        return round(self.expires_at - self.issued_at)


@dataclass(frozen=True)
class QueryResult:
    """One page of a query, before serialisation."""

    limit: int
    offset: int
    total: int | None  # None unless asked for (withTotal)
    results: tuple[ApiClientRecord, ...]


_WHERE_CLAUSE = re.compile(r'\s*(id|name)\s*=\s*"((?:[^"\\]|\\.)*)"\s*')
_WHERE_AND = re.compile(r"and(?=[\s])", re.IGNORECASE)


def parse_where(predicate: str) -> list[tuple[str, str]]:
    """Parse the subset of the query predicate language the emulator supports: `id = "…"` / `name = "…"`
    joined by `and`. Anything else raises InvalidInput, as an unparseable predicate does on the real API."""
    clauses: list[tuple[str, str]] = []
    pos = 0
    while True:
        match = _WHERE_CLAUSE.match(predicate, pos)
        if match is None:
            break
        clauses.append((match.group(1), re.sub(r"\\(.)", r"\1", match.group(2))))
        pos = match.end()
        if pos == len(predicate):
            return clauses
        conj = _WHERE_AND.match(predicate, pos)
        if conj is None:
            break
        pos = conj.end()
    raise InvalidInput(
        "Malformed parameter: where: Syntax error while parsing 'where'. "
        'The emulator understands only id = "..." and name = "..." joined by "and".'
    )


class CommercetoolsBackend:
    """All projects of one emulated commercetools region. Every public method takes the lock."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        unique_names: bool = True,
        new_client_token_delay: float = 0.0,
    ) -> None:
        self._lock = threading.RLock()
        self._clients: dict[str, ApiClientRecord] = {}
        self._tokens: dict[str, TokenRecord] = {}
        self._clock = clock
        self._offset = 0.0
        #: Unconfirmed for the API (the Merchant Center demands it): the safe choice is to reject duplicates.
        self.unique_names = unique_names
        #: Unconfirmed delay before a new client can get tokens; lets callers test their retry.
        self.new_client_token_delay = new_client_token_delay

    # -- time ----------------------------------------------------------------------------------------

    def now(self) -> float:
        """The emulator's clock: the injected clock plus any `advance_clock` offset."""
        return self._clock() + self._offset

    def advance_clock(self, seconds: float) -> None:
        """Move time forward so token expiry and deleteAt can be tested without sleeping."""
        with self._lock:
            self._offset += seconds

    def _now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    # -- housekeeping --------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every client and token (configuration such as `unique_names` is kept)."""
        with self._lock:
            self._clients.clear()
            self._tokens.clear()
            self._offset = 0.0

    def _live_client(self, client_id: str) -> ApiClientRecord | None:
        client = self._clients.get(client_id)
        if client is None or client.is_gone(self._now_dt()):
            return None
        return client

    def _live_token(self, token: str | None) -> TokenRecord | None:
        record = self._tokens.get(token) if token else None
        if record is None:
            return None
        if record.expires_at <= self.now() or self._live_client(record.client_id) is None:
            del self._tokens[record.token]
            return None
        return record

    def _new_id(self) -> str:
        while True:
            candidate = secrets.token_urlsafe(18)  # 24 characters
            if candidate not in self._clients:
                return candidate

    # -- seeding (tests, demo, control API) ----------------------------------------------------------

    def add_client(
        self,
        project_key: str,
        scopes: str | Iterable[str],
        *,
        name: str | None = None,
        client_id: str | None = None,
        secret: str | None = None,
        access_token_validity_seconds: int | None = None,
        refresh_token_validity_seconds: int | None = None,
        delete_days_after_creation: int | None = None,
    ) -> ApiClientRecord:
        """Seed a client as if made by hand in the Merchant Center (the only way to get the first one).

        Scopes may be full (`manage_api_clients:pk`) or bare names (`manage_api_clients`), which get the
        project key appended. Raises ValueError on bad input; names are not checked for uniqueness.
        """
        if not is_valid_project_key(project_key):
            raise ValueError(f"invalid project key {project_key!r}")
        raw = scopes.split() if isinstance(scopes, str) else list(scopes)
        full = [s if ":" in s else f"{s}:{project_key}" for s in raw]
        try:
            parsed = parse_scopes(" ".join(full))
        except ScopeSyntaxError as exc:
            raise ValueError(f"invalid scope {exc.args[0]!r}") from None
        if not parsed:
            raise ValueError("a client needs at least one scope")
        if any(s.project_key != project_key for s in parsed):
            raise ValueError(f"every scope must be for project {project_key!r}")
        if client_id is not None and (not client_id or ":" in client_id or client_id != client_id.strip()):
            raise ValueError("a client ID must be non-empty, without ':' or surrounding blanks")
        _check_range("accessTokenValiditySeconds", access_token_validity_seconds, ACCESS_TOKEN_VALIDITY_RANGE)
        _check_range("refreshTokenValiditySeconds", refresh_token_validity_seconds, REFRESH_TOKEN_VALIDITY_RANGE)
        _check_range("deleteDaysAfterCreation", delete_days_after_creation, (1, None))
        with self._lock:
            if client_id is not None and client_id in self._clients:
                raise ValueError("a client with this ID exists")
            new_id = client_id or self._new_id()
            return self._store(
                project_key,
                name=name if name is not None else f"merchant-center-{new_id[:8]}",
                client_id=new_id,
                scopes=_dedupe(str(s) for s in parsed),
                secret=secret or secrets.token_urlsafe(24),
                access=access_token_validity_seconds,
                refresh=refresh_token_validity_seconds,
                delete_days=delete_days_after_creation,
            )

    def _store(
        self,
        project_key: str,
        *,
        name: str,
        client_id: str,
        scopes: tuple[str, ...],
        secret: str,
        access: int | None,
        refresh: int | None,
        delete_days: int | None,
    ) -> ApiClientRecord:
        created = self._now_dt()
        record = ApiClientRecord(
            id=client_id,
            name=name,
            scope=scopes,
            secret=secret,
            project_key=project_key,
            created_at=created,
            delete_at=created + timedelta(days=delete_days) if delete_days is not None else None,
            access_token_validity_seconds=access,
            refresh_token_validity_seconds=refresh,
        )
        self._clients[client_id] = record
        return dataclasses.replace(record)

    def clients(self, project_key: str | None = None) -> list[ApiClientRecord]:
        """Copies of the live clients, oldest first, for assertions."""
        with self._lock:
            now = self._now_dt()
            return [
                dataclasses.replace(c)
                for c in self._clients.values()
                if not c.is_gone(now) and (project_key is None or c.project_key == project_key)
            ]

    def tokens(self) -> list[TokenRecord]:
        """The live tokens, for assertions."""
        with self._lock:
            return [t for t in list(self._tokens.values()) if self._live_token(t.token) is not None]

    # -- auth host -----------------------------------------------------------------------------------

    def authenticate(self, client_id: str | None, secret: str | None) -> ApiClientRecord:
        """HTTP Basic credentials check; constant-time on the secret, one error for every failure."""
        with self._lock:
            return dataclasses.replace(self._authenticate(client_id, secret))

    def _authenticate(self, client_id: str | None, secret: str | None) -> ApiClientRecord:
        with self._lock:
            client = self._live_client(client_id) if client_id else None
            expected = client.secret.encode() if client is not None else _DUMMY_SECRET
            matches = hmac.compare_digest(expected, (secret or "").encode("utf-8", "surrogateescape"))
            if client is None or not matches:
                raise InvalidClient()
            if self.now() < client.created_at.timestamp() + self.new_client_token_delay:
                raise InvalidClient()
            return client

    def issue_token(
        self,
        client_id: str | None,
        secret: str | None,
        *,
        grant_type: str | None,
        scope: str | None = None,
    ) -> TokenRecord:
        """The client credentials flow.

        A `manage_project` client that asks for fewer scopes still gets its full set (the reference: it
        "cannot ask for fewer scopes"); the emulator grants rather than rejects, as the real service does not
        document an error for it.
        """
        with self._lock:
            client = self._authenticate(client_id, secret)
            if not grant_type:
                raise OAuthError(400, "invalid_request", "Missing required parameter: grant_type.")
            if grant_type != "client_credentials":
                raise OAuthError(
                    400,
                    "unsupported_grant_type",
                    f"Invalid parameter: grant_type: Invalid grant type: '{grant_type}'",
                )
            held = expand(Scope.parse(s) for s in client.scope)
            granted = held
            if scope is not None and scope.split():
                try:
                    requested = parse_scopes(scope)
                except ScopeSyntaxError:
                    raise InvalidScope("Malformed parameter: scope: Invalid scope.") from None
                super_user = any(s.name == "manage_project" for s in held)
                if super_user and all(s.project_key == client.project_key for s in requested):
                    granted = held
                elif not set(requested) <= held:
                    names = ", ".join(sorted({s.name for s in held}))
                    raise InvalidScope(
                        f"Permissions exceeded. Only the following permissions can be requested: {names}"
                    )
                else:
                    granted = expand(requested)
            now = self.now()
            validity = client.access_token_validity_seconds or DEFAULT_TOKEN_VALIDITY_SECONDS
            record = TokenRecord(
                token=secrets.token_urlsafe(24),
                client_id=client.id,
                scopes=tuple(format_scopes(granted).split()),
                expires_at=now + validity,
                issued_at=now,
            )
            self._tokens[record.token] = record
            client.last_used_at = self._now_dt().date()
            return record

    def introspect(self, client_id: str | None, secret: str | None, token: str | None) -> dict[str, Any]:
        """RFC 7662-style introspection; other clients' tokens need `introspect_oauth_tokens:{pk}`.

        Unknown or expired tokens are `{"active": false}` for anyone: the caller cannot learn more from them.
        `exp` is in seconds since the epoch (RFC 7662); the unit the real service uses is unconfirmed.
        """
        with self._lock:
            caller = self._authenticate(client_id, secret)
            if not token:
                raise OAuthError(400, "invalid_request", "Missing required parameter: token.")
            record = self._live_token(token)
            if record is None:
                return {"active": False}
            if record.client_id != caller.id:
                owner = self._clients[record.client_id]
                needed = Scope("introspect_oauth_tokens", owner.project_key)
                if needed not in expand(Scope.parse(s) for s in caller.scope):
                    raise InsufficientScope("introspect_oauth_tokens")
            return {
                "active": True,
                "scope": " ".join(record.scopes),
                "exp": int(record.expires_at),
                "client_id": record.client_id,
            }

    def revoke_client_tokens(self, client_id: str) -> int:
        """Drop every token of a client; returns how many."""
        with self._lock:
            doomed = [t for t, r in self._tokens.items() if r.client_id == client_id]
            for token in doomed:
                del self._tokens[token]
            return len(doomed)

    # -- API host: API Clients -----------------------------------------------------------------------

    def authorize(self, token: str | None, project_key: str, *, write: bool) -> TokenRecord:
        """Bearer check for the API Clients endpoints. `manage_project` does not grant this API."""
        with self._lock:
            record = self._live_token(token)
            if record is None:
                raise InvalidToken()
            held = set(record.scopes)
            manage = f"manage_api_clients:{project_key}"
            view = f"view_api_clients:{project_key}"
            if write and manage not in held:
                raise InsufficientScope("manage_api_clients")
            if not write and manage not in held and view not in held:
                raise InsufficientScope("view_api_clients", "manage_api_clients")
            return record

    def create_api_client(self, project_key: str, draft: object) -> ApiClientRecord:
        """Validate an ApiClientDraft and create the client; the returned copy carries the new secret."""
        with self._lock:
            values = _validate_draft(project_key, draft)
            name = str(values["name"])
            if self.unique_names and any(c.name == name for c in self.clients(project_key)):
                raise DuplicateField("name", name)
            return self._store(
                project_key,
                name=name,
                client_id=self._new_id(),
                scopes=values["scope"],
                secret=secrets.token_urlsafe(24),
                access=values.get("accessTokenValiditySeconds"),
                refresh=values.get("refreshTokenValiditySeconds"),
                delete_days=values.get("deleteDaysAfterCreation"),
            )

    def query_api_clients(
        self,
        project_key: str,
        limit: int = 20,
        offset: int = 0,
        where: str | Sequence[str] | None = None,
        with_total: bool = True,
    ) -> QueryResult:
        """A page of the project's live clients, oldest first; `total` only `with_total`."""
        if not 0 <= limit <= MAX_QUERY_LIMIT:
            raise InvalidInput(f"Malformed parameter: limit: Must be between 0 and {MAX_QUERY_LIMIT}.")
        if not 0 <= offset <= MAX_QUERY_OFFSET:
            raise InvalidInput(f"Malformed parameter: offset: Must be between 0 and {MAX_QUERY_OFFSET}.")
        predicates = [where] if isinstance(where, str) else list(where or [])
        clauses = [clause for predicate in predicates for clause in parse_where(predicate)]
        with self._lock:
            matches = [
                c
                for c in self.clients(project_key)
                if all((c.id if fld == "id" else c.name) == value for fld, value in clauses)
            ]
        total = len(matches) if with_total else None
        return QueryResult(limit, offset, total, tuple(matches[offset : offset + limit]))

    def get_api_client(self, project_key: str, client_id: str) -> ApiClientRecord:
        """One live client of the project, or ResourceNotFound."""
        with self._lock:
            client = self._live_client(client_id)
            if client is None or client.project_key != project_key:
                raise ResourceNotFound(client_id)
            return dataclasses.replace(client)

    def delete_api_client(self, project_key: str, client_id: str) -> ApiClientRecord:
        """Delete a client and revoke its tokens.

        Whether the real API revokes live tokens on delete is unconfirmed; the emulator picks the strict
        behaviour, so callers cannot come to rely on a deleted client's token still working.
        """
        with self._lock:
            client = self.get_api_client(project_key, client_id)
            del self._clients[client_id]
            self.revoke_client_tokens(client_id)
            return client


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _check_range(name: str, value: int | None, bounds: tuple[int, int | None]) -> None:
    if value is None:
        return
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer in [{low}, {high if high is not None else 'inf'}]")


def _validate_draft(project_key: str, draft: object) -> dict[str, Any]:
    """ApiClientDraft rules. Shape errors are InvalidJsonInput (field named in detailedErrorMessage, as the
    real API does); value errors are InvalidInput with the field named in the message. Unknown fields are
    rejected: the draft has only five, so anything else is a caller's typo."""
    if not isinstance(draft, Mapping):
        raise InvalidJsonInput("Expected a JSON object as the request body.")
    for key in draft:
        if key not in _DRAFT_FIELDS:
            raise InvalidJsonInput(f"{key}: Unknown field.")
    name = _required_string(draft, "name")
    if not name.strip():
        raise InvalidInput("name: The name must not be empty.")
    values: dict[str, Any] = {"name": name, "scope": _draft_scopes(project_key, _required_string(draft, "scope"))}
    bounds: dict[str, tuple[int, int | None]] = {
        "deleteDaysAfterCreation": (1, None),
        "accessTokenValiditySeconds": ACCESS_TOKEN_VALIDITY_RANGE,
        "refreshTokenValiditySeconds": REFRESH_TOKEN_VALIDITY_RANGE,
    }
    for key, (low, high) in bounds.items():
        value = draft.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidJsonInput(f"{key}: JSON number (integer) expected.")
        if value < low or (high is not None and value > high):
            limit = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise InvalidInput(f"{key}: The value {value} is out of range; it must be {limit}.")
        values[key] = value
    return values


def _required_string(draft: Mapping[Any, Any], key: str) -> str:
    value = draft.get(key)
    if value is None:
        raise InvalidJsonInput(f"{key}: Missing required value")
    if not isinstance(value, str):
        raise InvalidJsonInput(f"{key}: JSON string expected.")
    return value


def _draft_scopes(project_key: str, text: str) -> tuple[str, ...]:
    """Each scope must parse like a token scope and be for the project the client is created in."""
    scopes: list[str] = []
    for part in text.split():
        try:
            parsed = Scope.parse(part)
        except ScopeSyntaxError:
            raise InvalidInput(f"scope: Invalid scope '{part}'.") from None
        if parsed.project_key != project_key:
            raise InvalidInput(f"scope: The scope '{part}' is not for the project '{project_key}'.")
        scopes.append(str(parsed))
    if not scopes:
        raise InvalidInput("scope: At least one scope is required.")
    return _dedupe(scopes)
