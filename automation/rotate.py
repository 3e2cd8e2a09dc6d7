"""`python -m automation rotate`: rotate a stack's API clients now, with no moment without a working secret.

Steps follow AWS's rotation contract (create, set, test, finish):

- managed connectors: the ApiClient provider does the steps inside one `pulumi up` that carries a rotation
  request (CTP_ROTATE); see components/providers/api_client.py;
- connectors whose credentials the user provides: `create` a client with the same scopes (admin credentials
  from the environment), test it, `set` its ID and secret in the stack's config, run `up` (the credential check
  and the store write happen there), `test` what the store now holds, and `finish` by deleting the old client.

Rerunning after a crash resumes: the new client's name is derived from the old client's ID, so it is found
again; if the stack config already holds it the rotation goes on from `up`, otherwise it is deleted (its
secret is lost) and made again.
"""

from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from pulumi import automation as auto
from pydantic import ValidationError

from components.commercetools import CommercetoolsClient, Token
from components.config import ConnectorConfig, secret_config_key
from components.errors import CredentialsError, InvalidClientError
from components.location import SecretLocation
from components.scopes import admin_scope_problem

from .workspace import ProjectStack, StackError

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


class RotationFailed(Exception):
    def __init__(self, report: list[ConnectorRotation]) -> None:
        super().__init__("rotation failed")
        self.report = report


def verify_stored(document: dict[str, Any], location: SecretLocation) -> str:
    """Read the connector's secret where its store provider wrote it and get a token with it. Returns the
    client ID. `location` comes from the stack's config, as the program's does (`SecretLocation.of`): the
    published document does not say which endpoint or namespace the writer used."""
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


class Rotation:
    """Rotate the chosen connectors of one stack."""

    def __init__(
        self,
        stack: ProjectStack,
        connectors: list[str] | None = None,
        *,
        dry_run: bool = False,
        admin_env_prefix: str = "CTP_ADMIN",
    ) -> None:
        self.stack = stack
        self.wanted = connectors
        self.dry_run = dry_run
        self.admin_env_prefix = admin_env_prefix

    def run(self) -> list[ConnectorRotation]:
        settings = self._connectors()
        unknown = sorted(set(self.wanted or []) - set(settings))
        if unknown:
            raise StackError(
                f"no connector {', '.join(unknown)} in stack {self.stack.name!r}; it has {', '.join(sorted(settings))}"
            )
        names = self.wanted or sorted(settings)
        managed = [n for n in names if settings[n].get("managed") is not None]  # `managed: null` is not managed
        provided = [n for n in names if n not in managed]
        report = [ConnectorRotation(n, "managed") for n in managed]
        report += [ConnectorRotation(n, "provided") for n in provided]
        by_name = {r.connector: r for r in report}
        if managed:
            self._managed(managed, settings, by_name)
        for name in provided:
            if self.dry_run:
                by_name[name].notes.append("would create a client with the same scopes, set it, run up, delete the old")
                continue
            self._provided(name, settings[name], by_name[name])
        if any(r.error for r in report):
            raise RotationFailed(report)
        return report

    # --- managed: one `up` with a rotation request ------------------------------------------------------------
    def _managed(
        self, names: list[str], settings: dict[str, dict[str, Any]], by_name: dict[str, ConnectorRotation]
    ) -> None:
        request = f"rot-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}:{','.join(names)}"
        before = self._documents()
        stack = self.stack.with_env({"CTP_ROTATE": request})
        try:
            if self.dry_run:
                ops: dict[str, str] = {}

                def record(event: auto.EngineEvent) -> None:
                    pre = event.resource_pre_event
                    if pre is not None and pre.metadata.urn.endswith("-client"):
                        ops[pre.metadata.urn.rsplit("::", 1)[-1].removesuffix("-client")] = str(pre.metadata.op.value)

                stack.stack.preview(on_event=record)
                for name in names:
                    r = by_name[name]
                    r.old_client_id = before.get(name, {}).get("clientId")
                    op = ops.get(name, "same")
                    r.notes.append(
                        "would rotate" if op in ("update", "replace", "create") else f"would not rotate ({op})"
                    )
                return
            stack.stack.up()
        except Exception as exc:
            for name in names:
                by_name[name].step = "up"
                by_name[name].error = (
                    f"`pulumi up` with the rotation failed: {_summary(exc)}. Each connector's store "
                    "still holds a working secret; fix the cause and rerun"
                )
            return
        after = self._documents()

        def test(name: str) -> None:
            r = by_name[name]
            r.old_client_id = before.get(name, {}).get("clientId")
            r.new_client_id = after.get(name, {}).get("clientId")
            r.step = "test"
            c = connector_config(name, settings[name])
            if isinstance(c, str):
                r.error = f"step test failed: {c}"
                return
            try:
                r.verified = verify_stored(after[name], SecretLocation.of(c)) == r.new_client_id
                r.step = "done"
            except CredentialsError as exc:
                r.error = f"step test failed: {exc}"

        # A store read and a token request each: concurrently, or rotating 100 connectors waits 100 round trips.
        with ThreadPoolExecutor(max_workers=min(VERIFY_PARALLEL, len(names))) as pool:
            list(pool.map(test, names))

    # --- provided: create, set, up, test, finish ----------------------------------------------------------
    def _provided(self, name: str, settings: dict[str, Any], r: ConnectorRotation) -> None:
        c = connector_config(name, settings)
        if isinstance(c, str):
            r.error = f"step pending failed: {c}. Nothing changed; fix the stack's config, then rerun"
            return
        pk, auth, api = c.project_key, c.token_url_base, c.api_base
        scopes = [str(s) for s in c.scopes]
        ct = CommercetoolsClient(auth, api)
        r.old_client_id = str(settings["clientId"])
        try:
            admin = self._admin(ct, pk)
            r.step = "create"
            new_id, secret, r.old_client_id = self._create(ct, admin, pk, name, scopes, r.old_client_id)
            r.new_client_id = new_id
            if secret is not None:  # a fresh client: test it, then put it in the stack's config
                r.step = "test"
                try:
                    self._test(ct, new_id, secret, scopes)
                except CredentialsError:
                    ct.delete_api_client(admin, pk, new_id)  # roll back: nothing refers to it yet
                    r.step = "create"
                    raise
                r.step = "set"
                # Secret first: a run stopped between the two leaves the old ID, which the rerun rotates
                # again. The other order could leave the new ID with the old secret, a pair nothing fixes.
                self.stack.set_config(secret_config_key(name), secret, secret=True)
                self.stack.set_config(f"connectors.{name}.clientId", new_id, path=True)
            else:
                r.notes.append(f"resumed the rotation from {r.old_client_id}: its new client was already in config")
            r.step = "up"
            self.stack.stack.up()
            r.step = "test"
            document = self._documents()[name]
            held = verify_stored(document, SecretLocation.of(c))
            r.verified = held == new_id
            if not r.verified:  # never delete the old client while the store still hands it out
                raise CredentialsError(f"the store holds client {held}, not the new client {new_id}")
            r.step = "finish"
            if r.old_client_id != new_id:
                ct.delete_api_client(admin, pk, r.old_client_id)
            r.step = "done"
        except (CredentialsError, StackError) as exc:
            r.error = f"step {r.step} failed: {exc}. {self._advice(r)}"
        except Exception as exc:
            r.error = f"step {r.step} failed: {_summary(exc)}. {self._advice(r)}"

    @staticmethod
    def _advice(r: ConnectorRotation) -> str:
        if r.step in ("create", "pending"):
            return "Nothing changed; the old client is still in use. Fix the cause and rerun"
        if r.step in ("set", "up", "test"):
            return (
                "The new client exists and may already be in config; the store keeps a working secret. Rerun "
                "`python -m automation rotate`: it resumes where this stopped"
            )
        return "The new client is in use; delete the old one by hand or rerun to retry"

    def _admin(self, ct: CommercetoolsClient, project_key: str) -> Token:
        cid = os.environ.get(f"{self.admin_env_prefix}_CLIENT_ID")
        secret = os.environ.get(f"{self.admin_env_prefix}_CLIENT_SECRET")
        if not cid or not secret:
            raise CredentialsError(
                f"rotating a client you provide needs admin credentials: set {self.admin_env_prefix}_CLIENT_ID and "
                f"{self.admin_env_prefix}_CLIENT_SECRET to a client holding manage_api_clients:{project_key}"
            )
        token = ct.request_token(cid, secret, [f"manage_api_clients:{project_key}"])
        problem = admin_scope_problem(token.scope, project_key)
        if problem:
            raise CredentialsError(
                f"the admin client in {self.admin_env_prefix}_CLIENT_ID cannot manage API clients of {project_key}: "
                f"{problem}. It needs manage_api_clients:{project_key}"
            )
        return token

    def _name(self, connector: str, old_id: str) -> str:
        """The new client's name records the client it replaces, so a resumed run knows both."""
        return re.sub(r"[^A-Za-z0-9_-]+", "-", f"{self.stack.name}-{connector}-from-") + old_id

    def _create(
        self, ct: CommercetoolsClient, admin: Token, pk: str, connector: str, scopes: list[str], configured: str
    ) -> tuple[str, str | None, str]:
        """Returns (new client ID, its secret or None when resuming, the client it replaces)."""
        current = ct.get_api_client(admin, pk, configured)
        prefix = self._name(connector, "")
        if current is not None and str(current.get("name", "")).startswith(prefix):
            replaced = str(current["name"])[len(prefix) :]
            if ct.get_api_client(admin, pk, replaced) is not None:
                if self._config_pair_works(ct, connector, configured, scopes):
                    return configured, None, replaced  # a crashed run set the new client but did not finish
                configured = replaced  # config lost the new client's secret: rotate the old client again
        name = self._name(connector, configured)
        for leftover in ct.query_api_clients(admin, pk, where=f'name="{name}"').get("results", []):
            ct.delete_api_client(admin, pk, leftover["id"])  # made by a crashed run before `set`: its secret is lost
        made = ct.create_api_client(admin, pk, {"name": name, "scope": " ".join(scopes)})
        return str(made["id"]), str(made["secret"]), configured

    def _config_pair_works(self, ct: CommercetoolsClient, connector: str, client_id: str, scopes: list[str]) -> bool:
        secret = self.stack.secret_config(secret_config_key(connector))
        if not secret:
            return False
        try:
            ct.request_token(client_id, secret, scopes)
        except InvalidClientError:
            return False
        return True

    @staticmethod
    def _test(ct: CommercetoolsClient, client_id: str, secret: str, scopes: list[str]) -> None:
        for attempt in range(6):
            try:
                ct.request_token(client_id, secret, scopes)
                return
            except InvalidClientError:
                if attempt == 5:
                    raise
                time.sleep(min(0.25 * 2**attempt, 4.0))

    def _connectors(self) -> dict[str, dict[str, Any]]:
        raw = self.stack.config().get("connectors")
        value = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(value, dict):
            raise StackError(f"stack {self.stack.name!r} has no connectors config")
        return value

    def _documents(self) -> dict[str, dict[str, Any]]:
        try:
            return dict(self.stack.outputs().get("connectors") or {})
        except Exception:
            return {}


def connector_config(name: str, settings: dict[str, Any]) -> ConnectorConfig | str:
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


def _summary(exc: Exception) -> str:
    text = str(exc)
    for line in text.splitlines():
        if "error:" in line:
            return line.split("error:", 1)[1].strip()[:500]
    return text.strip().splitlines()[0][:500] if text.strip() else type(exc).__name__


def as_json(report: list[ConnectorRotation]) -> list[dict[str, Any]]:
    return [asdict(r) for r in report]
