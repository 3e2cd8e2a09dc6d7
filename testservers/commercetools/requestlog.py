"""What the emulator saw: per-endpoint counters and a request log that is safe to print.

Entries hold only method, path (no query string), endpoint, status, time, the authenticated client ID and the
caller's User-Agent and Accept headers: never a secret, a token, an Authorization header or a body, so tests
can assert a canary never shows up.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

MAX_ENTRIES = 10_000  # a long demo must not grow memory without bound; counters keep counting


@dataclass(frozen=True)
class RequestLogEntry:
    """One request as the emulator answered it; `status` is None when the connection was dropped."""

    method: str
    path: str
    endpoint: str
    status: int | None
    time: float
    client_id: str | None
    user_agent: str | None = None
    accept: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The control API's representation."""
        return {
            "method": self.method,
            "path": self.path,
            "endpoint": self.endpoint,
            "status": self.status,
            "time": self.time,
            "clientId": self.client_id,
            "userAgent": self.user_agent,
            "accept": self.accept,
        }


class RequestLog:
    """Thread-safe counters and log."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[RequestLogEntry] = deque(maxlen=MAX_ENTRIES)
        self._counts: Counter[tuple[str, int | None]] = Counter()

    def record(self, entry: RequestLogEntry) -> None:
        """Count and keep one entry."""
        with self._lock:
            self._entries.append(entry)
            self._counts[(entry.endpoint, entry.status)] += 1

    def count(self, endpoint: str | None = None, *, status: int | None = None) -> int:
        """Requests seen for `endpoint` (all when None), optionally only those answered with `status`."""
        with self._lock:
            return sum(
                n
                for (ep, st), n in self._counts.items()
                if (endpoint is None or ep == endpoint) and (status is None or st == status)
            )

    def entries(self) -> list[RequestLogEntry]:
        """A copy of the log, oldest first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every entry and count."""
        with self._lock:
            self._entries.clear()
            self._counts.clear()

    def to_json(self) -> dict[str, Any]:
        """Counts per endpoint, counts per endpoint and status, and the log."""
        with self._lock:
            counts: Counter[str] = Counter()
            by_status: dict[str, dict[str, int]] = {}
            for (endpoint, status), n in self._counts.items():
                counts[endpoint] += n
                key = "dropped" if status is None else str(status)
                by_status.setdefault(endpoint, {})[key] = n
            return {
                "counts": dict(counts),
                "countsByStatus": by_status,
                "log": [e.to_json() for e in self._entries],
            }
