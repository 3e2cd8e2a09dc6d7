"""Fault injection: make chosen endpoints slow, fail or hang up, so callers' retry paths get exercised."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any

#: Endpoints a fault can target; "*" targets all of them (never the control API).
FAULT_ENDPOINTS = frozenset({"token", "introspect", "api_clients", "*"})


@dataclass
class Fault:
    """What to do to matching requests. One fault applies per request: the oldest matching one.

    `latency` seconds pass before anything else happens; then `drop` closes the socket without an answer, or
    `status` answers with a commercetools-style error body (and `Retry-After` when `retry_after` is set);
    with neither, the request is served normally after the delay. `grant_scope` (token endpoint only) serves a
    token request normally but answers with this `scope` instead: a token granted with less than was asked,
    which the reference does not describe commercetools doing, so callers that check the grant can be tested.
    `answer` replaces the endpoint's answer with a 200 (or `status`) carrying this body, without serving the
    request: a dict or list is sent as JSON (a token answer without the fields the reference lists, an error
    body of a proxy's making), a str as text/html (what a proxy or captive portal answers). Neither is
    commercetools behaviour; they test how callers cope.
    `omit` serves the request and leaves these fields out of the answer, and out of each of a query's
    `results` (an ApiClient without `createdAt`, which the API reference marks optional). `token_key` (token
    endpoint only) serves a token request and answers the token under this key instead of `access_token` (an
    auth server that is not commercetools': what a connector's tokenKey is for).
    `method` limits the fault to one HTTP method (a create's POST, not the query before it); `scope` (token
    endpoint only) to token requests asking for exactly this scope (a new client's test, not the admin's token).
    `times=None` keeps the fault until cleared; otherwise each matching request uses one up.
    """

    endpoint: str
    status: int | None = None
    retry_after: int | None = None
    latency: float = 0.0
    drop: bool = False
    times: int | None = None
    grant_scope: str | None = None
    answer: dict[str, Any] | list[Any] | str | None = None
    method: str | None = None
    omit: tuple[str, ...] = ()
    token_key: str | None = None
    scope: str | None = None

    def __post_init__(self) -> None:
        if self.endpoint not in FAULT_ENDPOINTS:
            raise ValueError(f"endpoint must be one of {sorted(FAULT_ENDPOINTS)}, not {self.endpoint!r}")
        if self.status is not None and (
            isinstance(self.status, bool) or not isinstance(self.status, int) or not 400 <= self.status <= 599
        ):
            raise ValueError("status must be an HTTP error status (400-599)")
        if self.retry_after is not None and (
            isinstance(self.retry_after, bool) or not isinstance(self.retry_after, int) or self.retry_after < 0
        ):
            raise ValueError("retry_after must be a non-negative integer (seconds)")
        if isinstance(self.latency, bool) or not isinstance(self.latency, int | float) or not self.latency >= 0:
            raise ValueError("latency must be a non-negative number of seconds")
        if not isinstance(self.drop, bool):
            raise ValueError("drop must be a boolean")
        if self.times is not None and (
            isinstance(self.times, bool) or not isinstance(self.times, int) or self.times < 1
        ):
            raise ValueError("times must be a positive integer or None")
        if self.grant_scope is not None and (self.endpoint != "token" or not isinstance(self.grant_scope, str)):
            raise ValueError("grant_scope is a string, for the token endpoint only")
        if self.method is not None and self.method not in ("GET", "POST", "DELETE", "HEAD"):
            raise ValueError("method is GET, POST, DELETE or HEAD")
        if self.answer is not None and not isinstance(self.answer, dict | list | str):
            raise ValueError("answer is a JSON object or array, or a string sent as text/html")
        if self.answer is not None and self.drop:
            raise ValueError("answer is what is sent: it cannot go with drop")
        if not isinstance(self.omit, tuple | list) or not all(isinstance(k, str) for k in self.omit):
            raise ValueError("omit is a list of field names")
        self.omit = tuple(self.omit)  # the control API sends a JSON array
        for name in ("token_key", "scope"):
            value = getattr(self, name)
            if value is not None and (self.endpoint != "token" or not isinstance(value, str) or not value):
                raise ValueError(f"{name} is a non-empty string, for the token endpoint only")

    def matches(self, endpoint: str, method: str | None = None, scope: str | None = None) -> bool:
        """Whether this fault targets requests to `endpoint` (made with `method`, asking for `scope`)."""
        return (
            self.endpoint in ("*", endpoint)
            and (self.method is None or self.method == method)
            and (self.scope is None or self.scope == scope)
        )

    def to_json(self) -> dict[str, Any]:
        """The control API's representation."""
        return {
            "endpoint": self.endpoint,
            "status": self.status,
            "retryAfter": self.retry_after,
            "latency": self.latency,
            "drop": self.drop,
            "times": self.times,
            "grantScope": self.grant_scope,
            "answer": self.answer,
            "method": self.method,
            "omit": list(self.omit),
            "tokenKey": self.token_key,
            "scope": self.scope,
        }

    @classmethod
    def from_json(cls, data: object) -> Fault:
        """Build from the control API's JSON (camelCase or snake_case keys); raises ValueError."""
        if not isinstance(data, dict):
            raise ValueError("a fault must be a JSON object")
        aliases = {"retryAfter": "retry_after", "grantScope": "grant_scope", "tokenKey": "token_key"}
        kwargs: dict[str, Any] = {aliases.get(str(k), str(k)): v for k, v in data.items()}
        unknown = set(kwargs) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        if "endpoint" not in kwargs:
            raise ValueError("a fault needs an endpoint")
        if kwargs.get("latency") is None:
            kwargs.pop("latency", None)
        for optional in ("drop", "omit"):
            if kwargs.get(optional) is None:
                kwargs.pop(optional, None)
        return cls(**kwargs)


class FaultInjector:
    """The active faults; thread-safe because handler threads consume them concurrently."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        endpoint: str,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        latency: float = 0.0,
        drop: bool = False,
        times: int | None = None,
        grant_scope: str | None = None,
        answer: dict[str, Any] | list[Any] | str | None = None,
        method: str | None = None,
        omit: tuple[str, ...] = (),
        token_key: str | None = None,
        scope: str | None = None,
    ) -> Fault:
        """Activate a fault (see `Fault`); returns it."""
        return self.add_fault(
            Fault(
                endpoint,
                status=status,
                retry_after=retry_after,
                latency=latency,
                drop=drop,
                times=times,
                grant_scope=grant_scope,
                answer=answer,
                method=method,
                omit=omit,
                token_key=token_key,
                scope=scope,
            )
        )

    def add_fault(self, fault: Fault) -> Fault:
        """Activate an already built fault."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        """Copies of the active faults."""
        with self._lock:
            return [dataclasses.replace(f) for f in self._faults]

    def take(self, endpoint: str, method: str | None = None, scope: str | None = None) -> Fault | None:
        """The fault to apply to one request to `endpoint`, using up one of its `times`."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(endpoint, method, scope):
                    applied = dataclasses.replace(fault)
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    return applied
            return None
