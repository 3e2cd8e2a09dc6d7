"""`status` over a stack's outputs and state, as `pulumi stack output`/`stack export` give them (the engine's data
is written out here; tests/e2e/test_rotation.py runs it on real stacks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ctp_credentials.automation import status

CLIENT = "pulumi-python:dynamic/commercetools:ApiClient"
COMPONENT = "ctp:index:CommercetoolsConnector"
COMPONENT_URN = f"urn:pulumi:test::p::{COMPONENT}::patchworks"
DAY = 86400.0
CREATED = datetime(2025, 1, 1, 3, 17, tzinfo=UTC).timestamp()


class StackData:
    """What status reads: the connector documents and the state's resources."""

    def __init__(self, resources: list[dict[str, Any]]) -> None:
        # the stack program's connector, written before components registered their document
        self.resources = [{"type": COMPONENT, "urn": COMPONENT_URN}, *resources]

    def outputs(self) -> dict[str, Any]:
        return {"connectors": {"patchworks": {"name": "patchworks", "secretRef": {"store": "vault", "version": 2}}}}

    def export(self) -> dict[str, Any]:
        return {"resources": self.resources}


def client(client_id: str, **outs: Any) -> dict[str, Any]:
    base = {"connector": "patchworks", "client_id": client_id, "created_ts": CREATED, "rotate_after_days": 30}
    return {"type": CLIENT, "parent": COMPONENT_URN, "outputs": {**base, **outs}, "urn": f"{COMPONENT_URN}-client"}


def test_a_client_pending_deletion_is_not_the_one_in_use() -> None:
    """After a failed replacement the old client stays in state, marked `delete`, possibly listed last."""
    data = StackData([client("new-client"), {**client("old-client"), "delete": True}])
    (row,) = status.stack_status(data, now=CREATED + DAY)  # type: ignore[arg-type]
    assert row.client_id == "new-client"


def test_a_client_past_its_expiry_is_due() -> None:
    data = StackData([client("c1", rotate_after_days=60, delete_at="2025-01-08T03:17:00Z")])
    (fresh,) = status.stack_status(data, now=CREATED + DAY)  # type: ignore[arg-type]
    (expired,) = status.stack_status(data, now=CREATED + 10 * DAY)  # type: ignore[arg-type]
    assert not fresh.rotation_due and expired.rotation_due
