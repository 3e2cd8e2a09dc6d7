"""ManagedApiClient: the project creates the connector's commercetools API client and rotates it.

commercetools shows a client's secret once, in the create response, and cannot change a client. So this
provider creates the client, tests it, and writes its secret straight into the connector's store: the secret
never passes through a Pulumi output or state. Rotation follows the shape of AWS's rotation contract:

  create  a new client (named after the rotation: `<stack>-<connector>-g<generation>`)
  test    it by requesting a token (retried briefly: propagation time is undocumented)
  set     it in the store as the new current version (check-and-set / idempotent token)
  finish  retire the previous client, now or after `graceHours` (a later `up`)

A rerun after a crash at any step finds the rotation's client by name: if the store already holds it the
rotation is finished, otherwise that client (whose secret is lost) is deleted and the step starts again. So a
rotation never leaves two new clients, nor a client nobody knows about. `deleteDaysAfterCreation` makes
commercetools delete a client we fail to delete.

Admin credentials (a client holding `manage_api_clients:{projectKey}`) are read inside each method, from the
environment (`<PREFIX>_CLIENT_ID` / `<PREFIX>_CLIENT_SECRET`, default prefix CTP_ADMIN) or from a Vault path.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any, Literal

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..clients import admin
from ..clients.commercetools import CommercetoolsClient, Token
from ..errors import CommercetoolsError, CredentialsError
from ..urls import canonical_url
from . import stores
from .base import PlainProvider, ProviderResource, comparable, engine_form

DAY = 86400.0


class AdminSource(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    env_prefix: str = "CTP_ADMIN"
    vault_path: str | None = None  # a KV v2 path on the connector's Vault holding {clientId, clientSecret}
    vault_mount: str = "secret"
    vault_address: str | None = None


class ApiClientProps(BaseModel):
    """Inputs, validated at the top of every method. No credential is among them."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    connector: str
    owner: str
    project_key: str
    region: str
    auth_url: str
    api_url: str
    scopes: list[str]
    token_key: str = "access_token"
    admin: AdminSource = AdminSource()
    delete_days_after_creation: int | None = Field(default=None, ge=1)
    access_token_validity_seconds: int | None = Field(default=None, ge=3600, le=604800)
    rotate_after_days: float | None = Field(default=None, gt=0)
    grace_hours: float = Field(default=24.0, ge=0)
    rotation_request: str = ""
    store_kind: Literal["vault", "secretsManager"]
    store: dict[str, Any]
    secret_keys: dict[str, str] = Field(default_factory=dict)


# Changing any of these needs a new client (clients are immutable) or a new document in the store.
ROTATE_ON = (
    "scopes",
    "delete_days_after_creation",
    "access_token_validity_seconds",
    "secret_keys",
    "region",
    "auth_url",
    "api_url",
    "token_key",
    "connector",
)
STORE_IDENTITY = ("address", "namespace", "mount", "path", "kv_version", "name", "region", "endpoint_url")


def now() -> float:
    return time.time()


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def client_name(p: ApiClientProps, generation: int) -> str:
    """Findable after a crash: one name per (stack, connector, generation)."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{p.owner}-{p.connector}")
    return f"{base}-g{generation}"


def document(p: ApiClientProps, client_id: str, client_secret: str) -> dict[str, Any]:
    fields = {
        "clientId": client_id,
        "clientSecret": client_secret,
        "projectKey": p.project_key,
        "region": p.region,
        "scopes": " ".join(sorted(p.scopes)),
        "authUrl": p.auth_url,
        "apiUrl": p.api_url,
    }
    return {p.secret_keys.get(k, k): v for k, v in fields.items()}


class RotationError(CredentialsError):
    """A rotation step failed; the message says which, what was rolled back and what to do."""


def admin_token(p: ApiClientProps, ct: CommercetoolsClient) -> Token:
    """The admin token for this connector's project: the one check (components/clients/admin.py), named by connector."""
    src = p.admin
    source = admin.AdminSource(
        env_prefix=src.env_prefix,
        vault_path=src.vault_path,
        vault_mount=src.vault_mount,
        vault_address=src.vault_address,
    )
    try:
        return admin.admin_token(ct, p.project_key, source)
    except admin.AdminError as exc:
        raise RotationError(f"connector {p.connector!r}: {exc}") from None


def _moved(key: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether the store's `key` names another place. An address spelled another way (a trailing '/', capitals;
    older state recorded it as typed) is the same place: replacing the client for it would retire it at once."""
    if key in ("address", "endpoint_url"):
        return canonical_url(old.get(key)) != canonical_url(new.get(key))
    return old.get(key) != new.get(key)


def _sealed(state: dict[str, Any]) -> dict[str, Any]:
    """Move the store's digest out of `store_state` into `store_digest`, which the resource keeps secret.

    The digest is an HMAC of the stored document (client secret included) under a salt kept beside it: in plain
    state it would let anyone who reads state confirm a guessed secret. `store_state` itself stays plain: the
    published `secretRef` (the version) is read from it."""
    store = state.get("store_state")
    if not isinstance(store, dict):
        return {**state, "store_digest": None}
    public = {k: v for k, v in store.items() if k != "digest"}
    return {**state, "store_state": public, "store_digest": store.get("digest", state.get("store_digest"))}


def _unsealed(state: dict[str, Any]) -> dict[str, Any]:
    """The state as the store providers expect it (state written before `store_digest` existed passes as is)."""
    store, digest = state.get("store_state"), state.get("store_digest")
    if not isinstance(store, dict) or digest is None:
        return dict(state)
    return {**state, "store_state": {**store, "digest": digest}}


class ApiClientProvider(PlainProvider):
    """Holds no credentials: admin credentials are read inside each method."""

    def check(self, _olds: Any, news: Any) -> CheckResult:
        if pulumi.contains_unknowns(news):
            return CheckResult(news, [])
        try:
            p = ApiClientProps.model_validate(news)
        except ValidationError as exc:
            return CheckResult(news, [CheckFailure("", f"{e['loc'][0]}: {e['msg']}") for e in exc.errors()])
        try:  # preview fails early when the admin client cannot do the job
            admin_token(p, CommercetoolsClient(p.auth_url, p.api_url))
        except CredentialsError as exc:
            return CheckResult(news, [CheckFailure("", str(exc))])
        return CheckResult(news, [])

    def diff(self, _id: str, olds: Any, news: Any) -> DiffResult:
        if pulumi.contains_unknowns(news):
            return DiffResult(changes=True, replaces=[], stables=[])
        p = ApiClientProps.model_validate(news)
        old, new = comparable(ApiClientProps, olds), comparable(ApiClientProps, news)
        replaces = [] if old["project_key"] == new["project_key"] else ["project_key"]
        if old["store_kind"] != new["store_kind"] or any(_moved(k, old["store"], new["store"]) for k in STORE_IDENTITY):
            replaces.append("store")
        due = self._reasons(olds, p) or self._retire_due(olds)
        settings = [k for k in ("rotate_after_days", "grace_hours", "admin", "store") if old[k] != new[k]]
        return DiffResult(
            changes=bool(replaces or due or settings), replaces=replaces, stables=[], delete_before_replace=False
        )

    def create(self, props: Any) -> CreateResult:
        p = ApiClientProps.model_validate(props)
        state = self._rotate(p, None)
        return CreateResult(f"apiclient-{p.connector}-{state['created_at']}", _sealed(state))

    def update(self, _id: str, olds: Any, news: Any) -> UpdateResult:
        p = ApiClientProps.model_validate(news)
        state = _unsealed(olds)
        if self._reasons(olds, p):
            if state.get("previous_client_id"):
                # At most two clients per connector: rotating again within the grace period (after a leak,
                # say) retires the client the last rotation kept, or nothing would ever delete it.
                state = self._retire(p, state)
            state = self._rotate(p, state)
        state = self._retire_if_due(p, state)
        return UpdateResult(_sealed({**state, **self._inputs(p)}))

    def read(self, id_: str, props: Any) -> ReadResult:
        """Refresh: is our client still there, and does the store still hold a value?"""
        p = ApiClientProps.model_validate(props)
        props = _unsealed(props)
        ct = CommercetoolsClient(p.auth_url, p.api_url)
        token = admin_token(p, ct)
        found = ct.get_api_client(token, p.project_key, props["client_id"])
        store_state = stores.refresh(p.store_kind, props["store_state"]) if props.get("store_state") else None
        return ReadResult(id_, _sealed({**props, "client_missing": found is None, "store_state": store_state}))

    def delete(self, _id: str, props: Any) -> None:
        p = ApiClientProps.model_validate(props)
        props = _unsealed(props)
        ct = CommercetoolsClient(p.auth_url, p.api_url)
        token = admin_token(p, ct)
        for client_id in (props.get("client_id"), props.get("previous_client_id")):
            if client_id:
                ct.delete_api_client(token, p.project_key, client_id)
        if props.get("store_state"):
            stores.delete(p.store_kind, props["store_state"])

    # --- rotation -------------------------------------------------------------------------------------------
    @staticmethod
    def _reasons(olds: dict[str, Any], p: ApiClientProps) -> list[str]:
        """Why the current client must be replaced by a new one (empty: it must not)."""
        old, new = comparable(ApiClientProps, olds), comparable(ApiClientProps, p.model_dump())
        reasons = [k for k in ROTATE_ON if old[k] != new[k]]
        if olds.get("client_missing"):
            reasons.append("client deleted outside Pulumi")
        if not olds.get("store_state"):
            reasons.append("store value missing")
        if p.rotation_request and p.rotation_request != olds.get("last_rotation_request"):
            reasons.append("rotation requested")
        created = olds.get("created_ts")
        if p.rotate_after_days is not None and created is not None and now() >= created + p.rotate_after_days * DAY:
            reasons.append("rotation due")
        return reasons

    @staticmethod
    def _retire_due(olds: dict[str, Any]) -> bool:
        retire_after = olds.get("retire_after_ts")
        return bool(olds.get("previous_client_id")) and retire_after is not None and now() >= float(retire_after)

    @staticmethod
    def _inputs(p: ApiClientProps) -> dict[str, Any]:
        return {k: engine_form(v) for k, v in p.model_dump().items()}  # as the engine will store them

    def _rotate(self, p: ApiClientProps, old: dict[str, Any] | None) -> dict[str, Any]:
        ct = CommercetoolsClient(p.auth_url, p.api_url)
        admin = admin_token(p, ct)
        generation = int(old["generation"]) + 1 if old else 1
        name = client_name(p, generation)
        settings = {**p.store, "connector": p.connector, "owner": p.owner}
        store_state = (old or {}).get("store_state")
        held = self._held_client_id(p, settings)

        reused: dict[str, Any] | None = None
        try:
            leftovers = ct.query_api_clients(admin, p.project_key, where=f'name="{name}"').get("results", [])
            for leftover in leftovers:
                if leftover["id"] == held:
                    reused = leftover  # a crashed run got as far as the store: finish that rotation
                else:
                    ct.delete_api_client(admin, p.project_key, leftover["id"])  # its secret is lost: roll back
        except CommercetoolsError as exc:
            raise self._failed(p, "create", exc, None, old) from None

        if reused is not None:
            client_id, created_at = reused["id"], reused.get("createdAt", iso(now()))
            # The crashed write moved the store past what state recorded (version, digest): take it from the
            # store, or the next write's check-and-set fails against our own write.
            store_state = stores.refresh(p.store_kind, store_state) if store_state else None
            if store_state is None:
                current = stores.read_current(p.store_kind, settings) or {}
                store_state = stores.write(p.store_kind, settings, current, None)
        else:
            draft: dict[str, Any] = {"name": name, "scope": " ".join(p.scopes)}
            if p.delete_days_after_creation:
                draft["deleteDaysAfterCreation"] = p.delete_days_after_creation
            if p.access_token_validity_seconds:
                draft["accessTokenValiditySeconds"] = p.access_token_validity_seconds
            try:
                made = ct.create_api_client(admin, p.project_key, draft)
            except CommercetoolsError as exc:
                raise self._failed(p, "create", exc, None, old) from None
            client_id, created_at, secret = made["id"], made.get("createdAt", iso(now())), made["secret"]
            step = "test"
            try:
                self._test(p, ct, client_id, secret)
                step = "set"
                store_state = stores.write(p.store_kind, settings, document(p, client_id, secret), store_state)
            except CredentialsError as exc:
                if step == "set" and self._store_holds(p, settings, client_id) is not False:
                    # The write may have landed before the failure (a metadata call after it, a lost answer):
                    # then the store holds the new client and deleting it would break the connector. Keep it;
                    # the rerun finds it by name and finishes, or deletes it if the store holds another.
                    raise self._failed(p, step, exc, None, old, kept=client_id) from None
                ct.delete_api_client(admin, p.project_key, client_id)
                raise self._failed(p, step, exc, client_id, old) from None

        state: dict[str, Any] = {
            **self._inputs(p),
            "client_id": client_id,
            "client_name": name,
            "generation": generation,
            "created_at": created_at,
            "created_ts": now(),
            "delete_at": None,
            "store_state": store_state,
            "client_missing": False,
            "last_rotation_request": p.rotation_request or (old or {}).get("last_rotation_request", ""),
            "previous_client_id": (old or {}).get("client_id") if old and not old.get("client_missing") else None,
            "retire_after_ts": now() + p.grace_hours * 3600,
        }
        if p.delete_days_after_creation:
            state["delete_at"] = iso(now() + p.delete_days_after_creation * DAY)
        return self._retire_if_due(p, state, admin=admin)

    @staticmethod
    def _store_holds(p: ApiClientProps, settings: dict[str, Any], client_id: str) -> bool | None:
        """Does the store hold `client_id` now? None when the store cannot be read."""
        try:
            current = stores.read_current(p.store_kind, settings)
        except CredentialsError:
            return None
        return current is not None and current.get(p.secret_keys.get("clientId", "clientId")) == client_id

    @staticmethod
    def _held_client_id(p: ApiClientProps, settings: dict[str, Any]) -> str | None:
        try:
            current = stores.read_current(p.store_kind, settings)
        except CredentialsError:
            return None
        return None if current is None else current.get(p.secret_keys.get("clientId", "clientId"))

    @staticmethod
    def _test(p: ApiClientProps, ct: CommercetoolsClient, client_id: str, secret: str) -> None:
        """A new client may not get a token at once (propagation time is undocumented): the one wait."""
        admin.wait_until_usable(ct, client_id, secret, p.scopes, token_key=p.token_key)

    def _retire_if_due(self, p: ApiClientProps, state: dict[str, Any], admin: Token | None = None) -> dict[str, Any]:
        if not state.get("previous_client_id") or now() < float(state.get("retire_after_ts") or 0):
            return state
        return self._retire(p, state, admin)

    @staticmethod
    def _retire(p: ApiClientProps, state: dict[str, Any], admin: Token | None = None) -> dict[str, Any]:
        previous = state["previous_client_id"]
        ct = CommercetoolsClient(p.auth_url, p.api_url)
        try:
            ct.delete_api_client(admin or admin_token(p, ct), p.project_key, previous)
        except CommercetoolsError as exc:
            raise RotationError(
                f"connector {p.connector!r}: step finish failed: could not delete the previous client {previous} "
                f"({exc}). The new client is in use; rerun `pulumi up` to retire the old one"
            ) from None
        return {**state, "previous_client_id": None, "retire_after_ts": None}

    @staticmethod
    def _failed(
        p: ApiClientProps,
        step: str,
        exc: Exception,
        new_id: str | None,
        old: dict[str, Any] | None,
        kept: str | None = None,
    ) -> RotationError:
        rolled = f" Rolled back: deleted the new client {new_id}." if new_id else ""
        if kept:
            keeps = f" The write may have reached the store, so the new client {kept} is kept (it passed its test)" + (
                f"; the previous client {old['client_id']} works too." if old else "."
            )
        elif old:
            keeps = f" The store still holds the previous client {old['client_id']}, which keeps working."
        else:
            keeps = " Nothing was stored."
        return RotationError(
            f"connector {p.connector!r}: rotation step {step} failed: {exc}.{rolled}{keeps} "
            "Fix the cause and rerun `pulumi up`"
        )


class ManagedApiClient(ProviderResource, module="commercetools", name="ApiClient"):
    """A commercetools API client this project creates, stores and rotates."""

    client_id: pulumi.Output[str]
    store_state: pulumi.Output[dict[str, Any]]
    generation: pulumi.Output[int]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        outs = dict.fromkeys(
            (
                "client_id",
                "client_name",
                "generation",
                "created_at",
                "delete_at",
                "store_state",
                "store_digest",
                "previous_client_id",
                "retire_after_ts",
                "created_ts",
                "client_missing",
                "last_rotation_request",
            ),
        )
        super().__init__(
            ApiClientProvider(),
            name,
            {**props, **outs},
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["store_digest"])),
        )
