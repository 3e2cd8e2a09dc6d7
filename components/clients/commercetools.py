"""A small commercetools client over `requests`: the token endpoint and the API Clients API.

One transport helper: every request has a timeout, 429/5xx are retried with bounded exponential backoff that
honours Retry-After, and status codes become typed errors in one place. Nothing here logs, and no message
or repr contains a secret or a token.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from ..errors import CommercetoolsError, InvalidClientError, InvalidScopeError, UnreachableError, remote_text

# (connect, read) seconds. The token endpoint answers in well under a second; ten covers a slow day.
DEFAULT_TIMEOUT = (3.05, 10.0)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff. `max_retry_after` caps how long a Retry-After may make us wait."""

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0

    def delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), self.max_retry_after)
            except ValueError:
                pass  # an HTTP-date Retry-After: fall back to our own backoff
        return min(self.backoff * 2.0**attempt, self.max_backoff)


@dataclass(frozen=True)
class Token:
    """An access token. Its value never appears in repr or str."""

    access_token: str = field(repr=False)
    scope: str
    expires_in: int
    token_type: str

    def __str__(self) -> str:
        return f"Token(scope={self.scope!r}, expires_in={self.expires_in})"


class CommercetoolsClient:
    """Talks to one auth host and one API host (both may be the same emulator URL in tests)."""

    def __init__(
        self,
        auth_url: str,
        api_url: str,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.auth_url = auth_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self._timeout = timeout
        self._retry = retry
        self._session = session or requests.Session()
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"CommercetoolsClient(auth_url={self.auth_url!r}, api_url={self.api_url!r})"

    # --- auth ---------------------------------------------------------------------------------------------
    def request_token(
        self,
        client_id: str,
        client_secret: str,
        scopes: list[str] | None = None,
        *,
        token_key: str = "access_token",
    ) -> Token:
        """Client credentials grant. `scopes=None` asks for every scope the client holds."""
        data = {"grant_type": "client_credentials"}
        if scopes:
            data["scope"] = " ".join(scopes)
        body = self._send(
            "POST", f"{self.auth_url}/oauth/token", what="token request", auth=(client_id, client_secret), data=data
        )
        value = body.get(token_key)
        if not isinstance(value, str) or not value:
            raise CommercetoolsError(
                f"the token endpoint answered 200 without a {token_key!r} field; check tokenKey "
                "(commercetools uses access_token) and that authUrl points at a commercetools auth host",
                status=200,
            )
        return Token(
            access_token=value,
            scope=str(body.get("scope", "")),
            expires_in=int(body.get("expires_in", 0) or 0),
            token_type=str(body.get("token_type", "")),
        )

    # --- API clients --------------------------------------------------------------------------------------
    def create_api_client(self, token: Token, project_key: str, draft: dict[str, Any]) -> dict[str, Any]:
        """POST a draft. The answer carries the secret, the only time commercetools ever shows it.

        Not retried on timeouts or dropped connections: the client may have been made, and a blind retry
        would make a second one. Callers find such a client by name (see rotation).
        """
        return self._send(
            "POST",
            f"{self.api_url}/{project_key}/api-clients",
            what="create API client",
            bearer=token,
            json=draft,
            idempotent=False,
        )

    def query_api_clients(
        self, token: Token, project_key: str, *, where: str | None = None, limit: int = 500, offset: int = 0
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if where:
            params["where"] = where
        return self._send(
            "GET", f"{self.api_url}/{project_key}/api-clients", what="query API clients", bearer=token, params=params
        )

    def get_api_client(self, token: Token, project_key: str, client_id: str) -> dict[str, Any] | None:
        try:
            return self._send(
                "GET", f"{self.api_url}/{project_key}/api-clients/{client_id}", what="get API client", bearer=token
            )
        except CommercetoolsError as exc:
            if exc.status == 404:
                return None
            raise

    def delete_api_client(self, token: Token, project_key: str, client_id: str) -> None:
        """Delete; an already-deleted client counts as done, so a rerun after a crash converges."""
        try:
            self._send(
                "DELETE",
                f"{self.api_url}/{project_key}/api-clients/{client_id}",
                what="delete API client",
                bearer=token,
            )
        except CommercetoolsError as exc:
            if exc.status != 404:
                raise

    # --- transport ----------------------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        bearer: Token | None = None,
        idempotent: bool = True,
        **kwargs: Any,
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json", "User-Agent": "ctp-credentials"}
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer.access_token}"
        auth = kwargs.get("auth")
        sent = (bearer.access_token if bearer else None, auth[1] if isinstance(auth, tuple) else None)
        last: CommercetoolsError | None = None
        for attempt in range(self._retry.attempts):
            try:
                resp = self._session.request(method, url, headers=headers, timeout=self._timeout, **kwargs)
            except requests.Timeout:
                last = UnreachableError(f"{what}: {_host(url)} did not answer within {self._timeout[1]:g}s")
            except requests.ConnectionError as exc:
                last = UnreachableError(
                    f"{what}: cannot connect to {_host(url)} ({_dns_hint(connection_problem(exc))})"
                )
            except requests.RequestException as exc:
                raise UnreachableError(f"{what}: {type(exc).__name__} talking to {_host(url)}") from None
            else:
                if resp.status_code < 400:
                    return _json(resp, what)
                last = _error(resp, what, sent)
                if resp.status_code not in RETRY_STATUSES or (not idempotent and resp.status_code != 429):
                    raise last
                if attempt + 1 < self._retry.attempts:
                    self._sleep(self._retry.delay(attempt, resp.headers.get("Retry-After")))
                continue
            if not idempotent:
                raise last
            if attempt + 1 < self._retry.attempts:
                self._sleep(self._retry.delay(attempt, None))
        if last is None:  # no attempt at all: nothing was sent
            raise UnreachableError(f"{what}: not sent (RetryPolicy.attempts is {self._retry.attempts}; use 1 or more)")
        raise type(last)(f"{last} (gave up after {self._retry.attempts} attempts)", status=last.status, code=last.code)


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _dns_hint(problem: str) -> str:
    return f"{problem}: check region / authUrl" if problem == "DNS lookup failed" else problem


def connection_problem(exc: requests.ConnectionError) -> str:
    """What went wrong with a connection, in a few words (for the commercetools and the webhook client)."""
    text = str(exc)
    if "Name or service not known" in text or "NameResolutionError" in text or "nodename nor servname" in text:
        return "DNS lookup failed"
    if "Connection refused" in text:
        return "connection refused"
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset by peer" in text:
        return "connection dropped before an answer"
    if "SSL" in text or "certificate" in text:
        return "TLS handshake failed"
    return "connection failed"


def _json(resp: requests.Response, what: str) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        raise CommercetoolsError(
            f"{what}: answer from {_host(resp.url)} is not JSON", status=resp.status_code
        ) from None
    if not isinstance(body, dict):
        raise CommercetoolsError(f"{what}: answer is not a JSON object", status=resp.status_code)
    return body


def _error(resp: requests.Response, what: str, sent: tuple[str | None, ...] = ()) -> CommercetoolsError:
    """Map a commercetools error answer to a typed error. The remote message is kept, as one bounded line without
    any value of `sent` (the client secret, the bearer token) in it, should a server or proxy echo one."""
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    errors = body.get("errors") or [{}]
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code = remote_text(str(body.get("error") or first.get("code") or f"http_{resp.status_code}"), *sent)
    message = remote_text(str(body.get("message") or first.get("message") or resp.reason or ""), *sent)
    text = f"{what}: HTTP {resp.status_code} {code}: {message}"
    status = resp.status_code
    if status == 401 and code == "invalid_client":
        return InvalidClientError(text, status=status, code=code)
    # The reference marks the code of "Permissions exceeded" unconfirmed: its documented message counts too, so
    # a different code still gets the scope advice rather than a generic error.
    if status == 400 and (code == "invalid_scope" or message.startswith("Permissions exceeded")):
        return InvalidScopeError(text, status=status, code=code)
    return CommercetoolsError(text, status=status, code=code)
