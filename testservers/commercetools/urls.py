"""The route table: which path and method go to which handler, and which endpoint name they count under.

As in moto's `urls.py`, the table is data, so the server's dispatch stays a loop and adding an endpoint
is one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .responses import ApiClientsResponses, AuthResponses, ControlResponses, Request, Response

Handler = Callable[[Any, Request], Response]


@dataclass(frozen=True)
class Route:
    """One path pattern; `methods` maps an HTTP method to an (unbound) handler of `handler_cls`."""

    endpoint: str
    pattern: re.Pattern[str]
    handler_cls: type
    methods: Mapping[str, Handler]


_PK = r"(?P<project_key>[^/]+)"

ROUTES: tuple[Route, ...] = (
    Route("token", re.compile(r"/oauth/token"), AuthResponses, {"POST": AuthResponses.token}),
    Route("introspect", re.compile(r"/oauth/introspect"), AuthResponses, {"POST": AuthResponses.introspect}),
    Route(
        "api_clients",
        re.compile(rf"/{_PK}/api-clients/?"),
        ApiClientsResponses,
        {"GET": ApiClientsResponses.query, "HEAD": ApiClientsResponses.exists, "POST": ApiClientsResponses.create},
    ),
    Route(
        "api_clients",
        re.compile(rf"/{_PK}/api-clients/(?P<client_id>[^/]+)"),
        ApiClientsResponses,
        {"GET": ApiClientsResponses.get, "HEAD": ApiClientsResponses.head, "DELETE": ApiClientsResponses.delete},
    ),
    Route(
        "control",
        re.compile(r"/_emulator/clients"),
        ControlResponses,
        {"GET": ControlResponses.list_clients, "POST": ControlResponses.create_client},
    ),
    Route(
        "control",
        re.compile(r"/_emulator/faults"),
        ControlResponses,
        {
            "GET": ControlResponses.list_faults,
            "POST": ControlResponses.add_fault,
            "DELETE": ControlResponses.clear_faults,
        },
    ),
    Route(
        "control",
        re.compile(r"/_emulator/requests"),
        ControlResponses,
        {"GET": ControlResponses.requests, "DELETE": ControlResponses.clear_requests},
    ),
    Route("control", re.compile(r"/_emulator/reset"), ControlResponses, {"POST": ControlResponses.reset}),
    Route(
        "control",
        re.compile(r"/_emulator/config"),
        ControlResponses,
        {"GET": ControlResponses.get_config, "POST": ControlResponses.set_config},
    ),
    Route("control", re.compile(r"/_emulator/clock"), ControlResponses, {"POST": ControlResponses.advance_clock}),
)


def resolve(path: str) -> tuple[Route, dict[str, str]] | None:
    """The route whose pattern matches the whole (still percent-encoded) path, with its path parameters."""
    for route in ROUTES:
        match = route.pattern.fullmatch(path)
        if match is not None:
            return route, match.groupdict()
    return None
