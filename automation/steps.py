"""The steps of a rotation that need no engine: what `rotate.Rotation` decides and does between its engine
calls, as functions of plain data (stack config, published documents, a commercetools client, the stores).

`Rotation` (rotate.py) only sequences them with `pulumi up`, `config set` and the stack's outputs; everything
that chooses (which connectors, which client to make or resume, what to retire, what to tell the user) is here
and is tested against the emulator and the real stores without an engine (tests/automation/test_steps.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from pulumi import automation as auto
from pydantic import ValidationError

from ctp_credentials.components.clients.commercetools import CommercetoolsClient, Token
from ctp_credentials.components.config import ConnectorConfig
from ctp_credentials.components.errors import CredentialsError, InvalidClientError
from ctp_credentials.components.location import SecretLocation
from ctp_credentials.policies.resource_types import API_CLIENT

from .workspace import StackError

VERIFY_PARALLEL = 16  # stores and commercetools read concurrently after a rotation (bounded: limits unconfirmed)


@dataclass
class ConnectorRotation:
    connector: str
    mode: str  # managed | provided
    old_client_id: str | None = None
    new_client_id: str | None = None
    step: str = "pending"  # the last step reached: create, set, test, finish, done
    verified: bool = False
    error: str | None = None
    notes: list[str] = field(default_factory=list)


# --- which connectors ---------------------------------------------------------------------------------------
def connectors(config: Mapping[str, Any], stack_name: str, *, required: bool = True) -> dict[str, dict[str, Any]]:
    """The stack program's `connectors` map of the stack's (non-secret) config, as `ProjectStack.config()`
    returns it; {} when not `required` and the stack has none (another program's stack)."""
    raw = config.get("connectors")
    value = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(value, dict):
        if not required and raw is None:
            return {}
        raise StackError(f"stack {stack_name!r} has no connectors config")
    return value


def select(modes: Mapping[str, str], wanted: list[str] | None, stack_name: str) -> tuple[list[str], list[str]]:
    """(managed, provided) connector names to rotate, from connector name -> mode (inventory.py): the wanted
    ones, or all; an unknown name is an error."""
    unknown = sorted(set(wanted or []) - set(modes))
    if unknown:
        have = ", ".join(sorted(modes)) or "none (run `pulumi up` first: connectors are found in the stack's state)"
        raise StackError(f"no connector {', '.join(unknown)} in stack {stack_name!r}; it has {have}")
    names = wanted or sorted(modes)
    managed = [n for n in names if modes[n] == "managed"]
    return managed, [n for n in names if n not in managed]


def connector_config(name: str, settings: Mapping[str, Any]) -> ConnectorConfig | str:
    """The connector as the program's model reads it, or what is wrong (naming the key).

    The same model as the program's: the admin credentials go only where a preview would send a secret (https,
    official or loopback hosts, or CTP_ALLOWED_HOSTS), never to a host raw stack config names; and the store is
    found where the program wrote it (`SecretLocation.of`)."""
    managed = settings.get("managed") is not None
    required = ("projectKey", "scopes") if managed else ("projectKey", "scopes", "clientId")
    missing = [k for k in required if not settings.get(k)]
    if missing:
        return f"connectors.{name}.{missing[0]} is not set"
    relevant = {k: v for k, v in settings.items() if k != "publish"}  # publishing needs its own secrets
    secret = {} if managed else {"clientSecret": "not-read-here"}
    try:
        return ConnectorConfig.model_validate({**relevant, "name": name, **secret})
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        key = ".".join(str(part) for part in first["loc"])
        reason = str(first["msg"]).removeprefix("Value error, ")
        return f"connectors.{name}.{key}: {reason}" if key else f"connectors.{name}: {reason}"


# --- managed: the rotation request and its results ----------------------------------------------------------
def rotation_request(names: list[str], now: datetime) -> str:
    """The CTP_ROTATE value the ApiClient provider reads: a unique ID (so each request rotates once) and names."""
    return f"rot-{now.strftime('%Y%m%dT%H%M%S%fZ')}:{','.join(names)}"


def client_op(event: auto.EngineEvent) -> tuple[str, str] | None:
    """(connector, planned operation) when a preview event is about a connector's managed client: an ApiClient,
    whose `connector` input names its connector (in any program, whatever the resource is called)."""
    pre = event.resource_pre_event
    if pre is None or pre.metadata.type != API_CLIENT:
        return None
    for state in (pre.metadata.new, pre.metadata.old):
        connector = (state.inputs or {}).get("connector") if state is not None else None
        if isinstance(connector, str):
            return connector, str(pre.metadata.op.value)
    return None


# A replacement shows as three steps (create-replacement, replace, delete-replaced): any of the first two rotates.
ROTATING_OPS = frozenset({"create", "update", "replace", "create-replacement"})


def dry_run_note(ops: set[str]) -> str:
    """What a dry run says of a managed connector, from the operations its client's preview planned."""
    return "would rotate" if ops & ROTATING_OPS else f"would not rotate ({', '.join(sorted(ops)) or 'same'})"


def up_failed(names: list[str], exc: Exception, by_name: Mapping[str, ConnectorRotation]) -> None:
    for name in names:
        by_name[name].step = "up"
        by_name[name].error = (
            f"`pulumi up` with the rotation failed: {summary(exc)}. Each connector's store "
            "still holds a working secret; fix the cause and rerun"
        )


def verify_rotated(
    r: ConnectorRotation,
    location: SecretLocation | None,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """After a managed rotation: the store must hand out the client the new document names. `location` is where
    the client's state says its secret was written (inventory.py)."""
    r.old_client_id = (before or {}).get("clientId")
    r.new_client_id = (after or {}).get("clientId")
    r.step = "test"
    if location is None:
        r.error = f"step test failed: the stack's state does not say where connector {r.connector!r} keeps its secret"
        return
    if after is None:
        r.error = f"step test failed: the stack publishes no document for connector {r.connector!r}"
        return
    try:
        r.verified = verify_stored(after, location) == r.new_client_id
        r.step = "done"
    except CredentialsError as exc:
        r.error = f"step test failed: {exc}"


def verify_all(
    reports: list[ConnectorRotation],
    locations: Mapping[str, SecretLocation | None],
    before: Mapping[str, Mapping[str, Any]],
    after: Mapping[str, Mapping[str, Any]],
) -> None:
    # A store read and a token request each: concurrently, or rotating 100 connectors waits 100 round trips.
    def one(r: ConnectorRotation) -> None:
        verify_rotated(r, locations.get(r.connector), before.get(r.connector), after.get(r.connector))

    with ThreadPoolExecutor(max_workers=max(1, min(VERIFY_PARALLEL, len(reports)))) as pool:
        list(pool.map(one, reports))


def verify_stored(document: Mapping[str, Any], location: SecretLocation) -> str:
    """Read the connector's secret where its store provider wrote it and get a token with it. Returns the
    client ID. `location` comes from the writer's own record (its state, or the stack config as the program read
    it): the published document does not say which endpoint the writer used."""
    data = location.read()
    if not data:
        raise CredentialsError(f"the store holds no secret for connector {document['name']!r}")
    keys = document.get("secretKeys") or {}
    client_id = str(data[keys.get("clientId", "clientId")])
    ct = CommercetoolsClient(document["authUrl"], document["apiUrl"])
    ct.request_token(
        client_id,
        str(data[keys.get("clientSecret", "clientSecret")]),
        document["scope"].split(),
        token_key=document.get("tokenKey", "access_token"),
    )
    return client_id


# --- provided: create, test, finish -------------------------------------------------------------------------
def client_name(stack_name: str, connector: str, old_id: str) -> str:
    """The new client's name records the client it replaces, so a resumed run knows both."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", f"{stack_name}-{connector}-from-") + old_id


def new_client(
    ct: CommercetoolsClient,
    admin: Token,
    project_key: str,
    name_prefix: str,
    scopes: list[str],
    configured: str,
    config_secret: Callable[[], str | None],
) -> tuple[str, str | None, str]:
    """The client that replaces `configured`: (its ID, its secret or None when resuming, the client it replaces).

    `name_prefix` is `client_name(stack, connector, "")`. Resuming after a crash: if the configured client is
    one a rotation made (its name says from which client) and the client it replaced still exists, the rotation
    was stopped after `set`: it goes on with the configured pair when that pair works (`config_secret` reads the
    stack's secret, only then), else rotates the old client again. A client left by a run stopped before `set`
    has a secret nobody holds: it is deleted and made again."""
    current = ct.get_api_client(admin, project_key, configured)
    if current is not None and str(current.get("name", "")).startswith(name_prefix):
        replaced = str(current["name"])[len(name_prefix) :]
        if ct.get_api_client(admin, project_key, replaced) is not None:
            if pair_works(ct, configured, config_secret(), scopes):
                return configured, None, replaced  # a crashed run set the new client but did not finish
            configured = replaced  # config lost the new client's secret: rotate the old client again
    name = name_prefix + configured
    for leftover in ct.query_api_clients(admin, project_key, where=f'name="{name}"').get("results", []):
        ct.delete_api_client(admin, project_key, leftover["id"])  # made by a crashed run before `set`
    made = ct.create_api_client(admin, project_key, {"name": name, "scope": " ".join(scopes)})
    return str(made["id"]), str(made["secret"]), configured


def pair_works(ct: CommercetoolsClient, client_id: str, secret: str | None, scopes: list[str]) -> bool:
    if not secret:
        return False
    try:
        ct.request_token(client_id, secret, scopes)
    except InvalidClientError:
        return False
    return True


def advice(step: str) -> str:
    """What to do after a provided rotation stopped at `step`."""
    if step in ("create", "pending"):
        return "Nothing changed; the old client is still in use. Fix the cause and rerun"
    if step in ("set", "up", "test"):
        return (
            "The new client exists and may already be in config; the store keeps a working secret. Rerun "
            "`python -m ctp_credentials rotate`: it resumes where this stopped"
        )
    return "The new client is in use; delete the old one by hand or rerun to retry"


# --- reporting ----------------------------------------------------------------------------------------------
def summary(exc: Exception) -> str:
    """The first line of a failure worth showing: the engine's `error:` line, else the first line, cut."""
    text = str(exc)
    for line in text.splitlines():
        said = line.split("error:", 1)[1].strip() if "error:" in line else ""
        if said:  # a bare `error:` line says nothing: look further rather than show nothing
            return said[:500]
    return text.strip().splitlines()[0][:500] if text.strip() else type(exc).__name__


def as_json(report: list[ConnectorRotation], *, ok: bool, dry_run: bool) -> dict[str, Any]:
    """`rotate --json` (its contract: examples/pipelines/README.md)."""
    return {"ok": ok, "dryRun": dry_run, "connectors": [asdict(r) for r in report]}


def render(r: ConnectorRotation) -> str:
    """One line of `rotate`'s text output."""
    if r.error:
        return f"{r.connector} ({r.mode}): {r.error}"
    if r.verified:
        return f"{r.connector} ({r.mode}): {r.old_client_id} -> {r.new_client_id}, verified"
    return f"{r.connector} ({r.mode}): {'; '.join(r.notes) or r.step}"
