"""`python -m ctp_credentials status`: each connector's client, its age, next rotation and expiry.

Read from the stack's state (exported without secrets): the connectors of any program (inventory.py). For
connectors whose credentials the user provides, the client's creation date comes from commercetools when admin
credentials are in the environment.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from ctp_credentials.components.clients.commercetools import CommercetoolsClient
from ctp_credentials.components.errors import CredentialsError

from . import inventory
from .workspace import ProjectStack

DAY = 86400


@dataclass
class ConnectorStatus:
    connector: str
    mode: str
    client_id: str | None
    created_at: str | None
    age_days: float | None
    next_rotation: str | None
    rotation_due: bool
    expires_at: str | None
    previous_client_id: str | None
    previous_retires_at: str | None
    secret_ref: dict[str, Any]


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def stack_status(
    stack: ProjectStack, *, now: float | None = None, admin_env_prefix: str = "CTP_ADMIN"
) -> list[ConnectorStatus]:
    now = now if now is not None else datetime.now(UTC).timestamp()
    found = inventory.connectors(stack.export(), stack.outputs())
    documents = {name: dict(c.document) for name, c in found.items() if c.document is not None}
    clients = {name: dict(c.client) for name, c in found.items() if c.client is not None}
    rows = []
    for name, doc in sorted(documents.items()):
        if name in clients:
            c = clients[name]
            created = c.get("created_ts")
            rotate = c.get("rotate_after_days")
            next_ts = created + rotate * DAY if created is not None and rotate else None
            rows.append(
                ConnectorStatus(
                    connector=name,
                    mode="managed",
                    client_id=c.get("client_id"),
                    created_at=_iso(created),
                    age_days=None if created is None else round((now - created) / DAY, 2),
                    next_rotation=_iso(next_ts),
                    # due, or past its server-side expiry (commercetools deleted it: the next `up` replaces it)
                    rotation_due=(next_ts is not None and now >= next_ts)
                    or ((expiry := _ts(c.get("delete_at"))) is not None and now >= expiry),
                    expires_at=c.get("delete_at"),
                    previous_client_id=c.get("previous_client_id"),
                    previous_retires_at=_iso(c.get("retire_after_ts")) if c.get("previous_client_id") else None,
                    secret_ref=doc.get("secretRef") or {},
                )
            )
        else:
            created_at, expires = _provided_dates(doc, admin_env_prefix)
            created = _ts(created_at)
            rows.append(
                ConnectorStatus(
                    connector=name,
                    mode="provided",
                    client_id=doc.get("clientId"),
                    created_at=created_at,
                    age_days=None if created is None else round((now - created) / DAY, 2),
                    next_rotation=None,
                    rotation_due=False,
                    expires_at=expires,
                    previous_client_id=None,
                    previous_retires_at=None,
                    secret_ref=doc.get("secretRef") or {},
                )
            )
    return rows


def _provided_dates(doc: dict[str, Any], prefix: str) -> tuple[str | None, str | None]:
    cid, secret = os.environ.get(f"{prefix}_CLIENT_ID"), os.environ.get(f"{prefix}_CLIENT_SECRET")
    if not cid or not secret:
        return None, None
    ct = CommercetoolsClient(doc["authUrl"], doc["apiUrl"])
    try:
        token = ct.request_token(cid, secret, [f"view_api_clients:{doc['projectKey']}"])
        found = ct.get_api_client(token, doc["projectKey"], doc["clientId"])
    except CredentialsError:
        return None, None
    return (None, None) if found is None else (found.get("createdAt"), found.get("deleteAt"))


def render_table(rows: list[ConnectorStatus]) -> str:
    head = ("CONNECTOR", "MODE", "CLIENT", "AGE (DAYS)", "NEXT ROTATION", "EXPIRES", "RETIRING")
    body = [
        (
            r.connector,
            r.mode,
            r.client_id or "-",
            "-" if r.age_days is None else f"{r.age_days:g}",
            (r.next_rotation or "-") + (" (due)" if r.rotation_due else ""),
            r.expires_at or "-",
            f"{r.previous_client_id} at {r.previous_retires_at}" if r.previous_client_id else "-",
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]
    return "\n".join(
        "  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)).rstrip() for line in (head, *body)
    )


def as_json(rows: list[ConnectorStatus]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
