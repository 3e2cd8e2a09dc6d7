"""CommercetoolsConnector: one integration's commercetools credentials, stored where its consumers read them.

Children, depending on the connector's config:
- credentials given by the user: the secret in the connector's store (VaultKvSecret or SecretsManagerSecret),
  written only after the stack's CredentialCheck (which checks every connector at once, see
  providers/credential_check.py) has obtained a token with them;
- `managed`: a ManagedApiClient, which creates the client, tests it and writes its secret to the store itself,
  and rotates it (see providers/api_client.py).
Output `config`: the non-secret document downstream services read (the integration platform's form fields,
the URLs and where the secret lives). The secret itself is never an output.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from typing import Any, ClassVar

import pulumi

from .args import ArgumentError, ConnectorArgs, Resolved, resolve
from .clients.vault import env_setting
from .config import PAYLOAD_FIELDS, ConnectorConfig
from .location import SecretLocation, aws_region
from .providers.credential_check import CredentialCheck, CredentialCheckArgs
from .providers.vault_secret import VaultKvSecret, VaultKvSecretArgs
from .publishing import integral
from .pulumi_config import rotation_request

# Managed clients, Secrets Manager and the publishers are imported where a connector uses them: they pull in
# boto3, which costs every `pulumi` command about 0.15 s when no connector needs it (bench/RESULTS.md).

SCHEMA_VERSION = 1


def check_inputs(r: Resolved) -> dict[str, pulumi.Input[Any]]:
    """A connector's entry in its CredentialCheck (user-provided credentials only)."""
    c = r.config
    return {
        "connector": c.name,
        "project_key": c.project_key,
        "region": c.region,
        "auth_url": c.token_url_base,
        "api_url": c.api_base,
        "scopes": [str(s) for s in c.scopes],
        "client_id": c.client_id,
        "client_secret": r.client_secret,
        "token_key": c.token_key,
        "enabled": c.check_credentials,
    }


class _CheckBatch:
    """The connectors a program declares together share one CredentialCheck, registered once the program has
    declared them all.

    The engine calls providers' `check()` one resource at a time (measured again on 3.274: 8 resources whose
    check() sleeps 1 s preview in 9 s), so a check per connector would cost N token round trips on every
    preview; one check for all of them costs one (its requests run concurrently). A program's top level runs
    without yielding to the event loop, so the batch is closed by a callback scheduled on the loop: every
    connector declared before the program returns is in the first batch, named `credential-check` (the name
    the stack program has always used, so its stacks keep their resource). Connectors declared later, inside an
    `apply`, form further batches (`credential-check-2`, ...).

    Each connector's children depend on their batch's check (an Output of it), so nothing is written before the
    credential has obtained a token, and nothing needs to be wired by the program.
    """

    _open: ClassVar[_CheckBatch | None] = None
    # per event loop (one per Pulumi run): a second program run in one process names its first batch again
    _count: ClassVar[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, int]] = weakref.WeakKeyDictionary()

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        number = _CheckBatch._count.get(loop, 0) + 1
        _CheckBatch._count[loop] = number
        self.name = "credential-check" if number == 1 else f"credential-check-{number}"
        self.entries: dict[str, dict[str, pulumi.Input[Any]]] = {}
        self.check: asyncio.Future[CredentialCheck] = loop.create_future()
        loop.call_soon(self._close)

    @staticmethod
    def join(connector: str, entry: dict[str, pulumi.Input[Any]] | None) -> pulumi.Output[CredentialCheck]:
        """The check `connector` is in (its entry: None for a managed connector, whose client checks itself)."""
        batch = _CheckBatch._open
        if batch is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # declared outside a Pulumi run (a unit test's own loop)
                loop = asyncio.get_event_loop()
            batch = _CheckBatch._open = _CheckBatch(loop)
        if entry is not None:
            batch.entries[connector] = entry
        return pulumi.Output.from_input(batch.check)

    def _close(self) -> None:
        _CheckBatch._open = None
        try:
            self.check.set_result(CredentialCheck(self.name, CredentialCheckArgs(self.entries)))
        except Exception as exc:  # reported through every connector that waits on it
            self.check.set_exception(exc)


def secret_payload(config: ConnectorConfig, client_secret: str) -> dict[str, Any]:
    """What the store holds: everything a consumer needs to get a token, in one document, under the key
    names the connector's consumers expect (`secretKeys`)."""
    fields = {
        "clientId": config.client_id,
        "clientSecret": client_secret,
        "projectKey": config.project_key,
        "region": config.region,
        "scopes": config.scope_string,
        "authUrl": config.token_url_base,
        "apiUrl": config.api_base,
    }
    return {config.secret_keys.get(k, k): v for k, v in fields.items()}


def store_settings(c: ConnectorConfig, owner: str) -> dict[str, Any]:
    """The store's inputs except the value: where it lives (the connector's SecretLocation) and how it is kept."""
    store = SecretLocation.of(c).as_store()
    return {"connector": c.name, "owner": owner, **store.settings(), **store.keeping(c)}


def secret_ref(c: ConnectorConfig, settings: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """Where a consumer finds the secret, and which version is current (it changes on every rotation).

    Unset fields are left out rather than null: Pulumi drops nulls inside maps on their way through the engine,
    so a null would make the published copies differ from the output."""
    ref = SecretLocation.from_settings(c.store, settings).as_store().secret_ref(state)
    return {k: v for k, v in ref.items() if v is not None}


class CommercetoolsConnector(pulumi.ComponentResource):
    config: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: ConnectorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """`name` is the connector's name: its resources' names and the default store path derive from it.
        Invalid arguments raise ArgumentError (every problem at once) before anything is registered."""
        r = resolve("CommercetoolsConnector", name, args)
        super().__init__("ctp:index:CommercetoolsConnector", name, None, opts)
        c = r.config
        owner = r.owner
        settings = store_settings(c, owner)
        _announce(r)
        # Nothing is written before the credential has obtained a token: every child waits for the check.
        check = _CheckBatch.join(c.name, check_inputs(r) if c.managed is None else None)
        child = pulumi.ResourceOptions(parent=self, depends_on=[check])

        client_id: pulumi.Output[str]
        ref: pulumi.Output[dict[str, Any]]
        if c.managed is not None:
            from .providers.api_client import ManagedApiClient

            m = c.managed
            managed = ManagedApiClient(
                f"{name}-client",
                {
                    "connector": c.name,
                    "owner": owner,
                    "project_key": c.project_key,
                    "region": c.region,
                    "auth_url": c.token_url_base,
                    "api_url": c.api_base,
                    "scopes": [str(s) for s in c.scopes],
                    "token_key": c.token_key,
                    "admin": {
                        "env_prefix": m.admin_env_prefix,
                        "vault_path": m.admin_vault_path,
                        "vault_mount": m.admin_vault_mount,
                        "vault_address": settings.get("address") or None,
                    },
                    "delete_days_after_creation": m.delete_days_after_creation,
                    "access_token_validity_seconds": m.access_token_validity_seconds,
                    "rotate_after_days": m.rotate_after_days,
                    "grace_hours": m.grace_hours,
                    "rotation_request": rotation_request([c.name]).get(c.name, ""),
                    "store_kind": c.store,
                    "store": settings,
                    "secret_keys": c.secret_keys,
                },
                opts=child,
            )
            client_id = managed.client_id
            ref = managed.store_state.apply(lambda state: secret_ref(c, settings, state or {}))
        else:
            secret = r.client_secret
            if secret is None or c.client_id is None:  # resolve() refuses this; a guard, not an assert
                raise ArgumentError(f"CommercetoolsConnector {name!r}: client_id and client_secret are required")
            data = pulumi.Output.secret(secret).apply(lambda s: secret_payload(c, s))
            client_id = pulumi.Output.from_input(c.client_id)
            store = SecretLocation.from_settings(c.store, settings).as_store()
            stored = store.declare(f"{name}-secret", settings, data, child)
            ref = stored.apply(lambda state: secret_ref(c, settings, state))

        self.config = pulumi.Output.all(client_id, ref).apply(
            lambda v: integral(
                {
                    "schemaVersion": SCHEMA_VERSION,
                    "name": c.name,
                    "projectKey": c.project_key,
                    "region": c.region,
                    "scope": c.scope_string,
                    "clientId": v[0],
                    "grantType": c.grant_type,
                    "tokenKey": c.token_key,
                    "clientType": c.client_type,
                    "authUrl": c.token_url_base,
                    "apiUrl": c.api_base,
                    "managed": c.managed is not None,
                    # where each field sits in the stored document, for consumers reading the secret
                    "secretKeys": {k: c.secret_keys.get(k, k) for k in PAYLOAD_FIELDS},
                    "secretRef": v[1],
                }
            )
        )
        self._publish(name, r, settings)
        # In state as the component's output, so `status` and `rotate` find every connector of any program by
        # type (automation/inventory.py). The stack program exports it too (`connectors.<name>`): 1.6 kB more per
        # connector in each checkpoint (bench/RESULTS.md), the price of one way to find connectors.
        self.register_outputs({"config": self.config})

    def _publish(self, name: str, r: Resolved, settings: dict[str, Any]) -> None:
        """Publishers write only when the document changed: a rotation (new secret version) notifies."""
        c, owner = r.config, r.owner
        pub = c.publish
        if pub.file is None and pub.vault is None and pub.ssm is None and not pub.webhooks:
            return
        from .providers.publications import (
            FilePublication,
            FilePublicationArgs,
            SsmParameterPublication,
            SsmParameterPublicationArgs,
            WebhookPublication,
            WebhookPublicationArgs,
        )

        opts = pulumi.ResourceOptions(parent=self)
        if pub.file is not None:
            FilePublication(
                f"{name}-config-file",
                FilePublicationArgs(connector=c.name, owner=owner, path=pub.file.path, document=self.config),
                opts=opts,
            )
        if pub.vault is not None:
            address = settings.get("address") or env_setting("ADDR") or ""
            VaultKvSecret(
                f"{name}-config-vault",
                VaultKvSecretArgs(
                    connector=c.name,
                    owner=owner,
                    address=address,
                    namespace=settings.get("namespace"),
                    mount=pub.vault.mount,
                    path=pub.vault.path,
                    data=self.config,
                ),
                opts=opts,
            )
        if pub.ssm is not None:
            SsmParameterPublication(
                f"{name}-config-ssm",
                SsmParameterPublicationArgs(
                    connector=c.name,
                    owner=owner,
                    name=pub.ssm.name,
                    document=self.config,
                    region=aws_region(pub.ssm.region),
                    endpoint_url=pub.ssm.endpoint_url,
                    tier=pub.ssm.tier,
                ),
                opts=opts,
            )
        for i, hook in enumerate(pub.webhooks):
            if r.webhook_signing_key is None:  # the config model requires it with webhooks
                raise ArgumentError(f"CommercetoolsConnector {name!r}: webhooks need a webhook_signing_key")
            # Named by URL, not list position: removing the first of [A, B] must tell A "deleted", not send B a
            # "deleted" and A's old slot a repeat. The alias carries over stacks from when names were positions.
            WebhookPublication(
                f"{name}-webhook-{hashlib.sha256(hook.url.encode()).hexdigest()[:12]}",
                WebhookPublicationArgs(
                    connector=c.name,
                    url=hook.url,
                    document=self.config,
                    notify_on_delete=hook.notify_on_delete,
                    signing_key=pulumi.Output.secret(r.webhook_signing_key),
                ),
                opts=pulumi.ResourceOptions.merge(
                    opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(name=f"{name}-webhook-{i}")])
                ),
            )


def _announce(r: Resolved) -> None:
    """What a reviewer should know about this connector, in every run (not only preview)."""
    c = r.config
    if c.managed is None and not c.check_credentials:
        # Every run: the check is what stops a wrong secret from being stored.
        setting = r.setting("checkCredentials: false", "check_credentials=False")
        pulumi.log.warn(
            f"connector '{c.name}': the credential check is off ({setting}): its credentials are stored without a "
            "token request proving they work; remove the setting to check them"
        )
    if c.managed is not None and pulumi.runtime.is_dry_run():
        pulumi.log.info(
            f"connector {c.name!r} is managed: its API client is created (or rotated) and its credentials are "
            "checked during `pulumi up`, before anything is written to the store"
        )
