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

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from .config import PAYLOAD_FIELDS, ConnectorConfig
from .location import SecretLocation, aws_region
from .providers.vault_secret import VaultKvSecret, VaultKvSecretArgs
from .publishing import integral
from .vault import env_setting

# Managed clients, Secrets Manager and the publishers are imported where a connector uses them: they pull in
# boto3, which costs every `pulumi` command about 0.15 s when no connector needs it (bench/RESULTS.md).

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ConnectorArgs:
    """Typed inputs. `client_secret` is None for managed connectors (the project makes the secret)."""

    config: ConnectorConfig
    client_secret: pulumi.Input[str] | None
    owner: str  # "<project>/<stack>", recorded as the stored value's owner
    # Resources that must succeed before anything is written (the stack's CredentialCheck).
    after: Sequence[pulumi.Resource] = field(default_factory=tuple)
    # A rotation asked for by `python -m ctp_credentials rotate` for this run (managed connectors).
    rotation_request: str = ""

    @staticmethod
    def from_config(config: ConnectorConfig, rotation_request: str = "") -> ConnectorArgs:
        secret = config.client_secret
        return ConnectorArgs(
            config=config,
            client_secret=None if secret is None else pulumi.Output.secret(secret.get_secret_value()),
            owner=f"{pulumi.get_project()}/{pulumi.get_stack()}",
            rotation_request=rotation_request,
        )

    def check_inputs(self) -> dict[str, pulumi.Input[Any]]:
        """This connector's entry in the stack's CredentialCheck (user-provided credentials only)."""
        c = self.config
        return {
            "connector": c.name,
            "project_key": c.project_key,
            "region": c.region,
            "auth_url": c.token_url_base,
            "api_url": c.api_base,
            "scopes": [str(s) for s in c.scopes],
            "client_id": c.client_id,
            "client_secret": self.client_secret,
            "token_key": c.token_key,
            "enabled": c.check_credentials,
        }


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
    location = SecretLocation.of(c)
    if c.secrets_manager is not None:
        sm = c.secrets_manager
        return {
            "connector": c.name,
            "owner": owner,
            **location.settings(),
            "kms_key_id": sm.kms_key_id,
            "description": sm.description or f"commercetools API client credentials for connector {c.name}",
            "tags": sm.tags,
            "recovery_window_days": sm.recovery_window_days,
            "force_delete": sm.force_delete,
            "restore_if_deleted": sm.restore_if_deleted,
        }
    return {
        "connector": c.name,
        "owner": owner,
        **location.settings(),
        "delete_policy": c.vault.delete_policy,
        "adopt": c.vault.adopt,
    }


def secret_ref(c: ConnectorConfig, settings: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """Where a consumer finds the secret, and which version is current (it changes on every rotation).

    Unset fields are left out rather than null: Pulumi drops nulls inside maps on their way through the engine,
    so a null would make the published copies differ from the output."""
    return {k: v for k, v in _secret_ref(c, settings, state).items() if v is not None}


def _secret_ref(c: ConnectorConfig, settings: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    if c.secrets_manager is not None:
        return {
            "store": "secretsManager",
            "arn": state.get("arn"),
            "name": settings["name"],
            "region": settings["region"],
            "versionId": state.get("version_id"),
        }
    return {
        "store": "vault",
        "address": settings["address"],
        "namespace": settings["namespace"],
        "mount": settings["mount"],
        "path": settings["path"],
        "kvVersion": settings["kv_version"],
        "version": state.get("version"),
    }


class CommercetoolsConnector(pulumi.ComponentResource):
    config: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: ConnectorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ctp:index:CommercetoolsConnector", name, None, opts)
        c = args.config
        settings = store_settings(c, args.owner)
        # Nothing is written before the credential has obtained a token.
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.after))

        client_id: pulumi.Output[str]
        ref: pulumi.Output[dict[str, Any]]
        if c.managed is not None:
            from .providers.api_client import ManagedApiClient

            m = c.managed
            managed = ManagedApiClient(
                f"{name}-client",
                {
                    "connector": c.name,
                    "owner": args.owner,
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
                    "rotation_request": args.rotation_request,
                    "store_kind": c.store,
                    "store": settings,
                    "secret_keys": c.secret_keys,
                },
                opts=child,
            )
            client_id = managed.client_id
            ref = managed.store_state.apply(lambda state: secret_ref(c, settings, state or {}))
        else:
            assert args.client_secret is not None and c.client_id is not None
            known_id = c.client_id
            data = pulumi.Output.from_input(args.client_secret).apply(lambda s: secret_payload(c, s))
            client_id = pulumi.Output.from_input(known_id)
            if c.secrets_manager is not None:
                from .providers.secretsmanager_secret import SecretsManagerSecret, SecretsManagerSecretArgs

                sm = SecretsManagerSecret(f"{name}-secret", SecretsManagerSecretArgs(data=data, **settings), opts=child)
                ref = pulumi.Output.all(sm.arn, sm.version_id).apply(
                    lambda v: secret_ref(c, settings, {"arn": v[0], "version_id": v[1]})
                )
            else:
                kv = VaultKvSecret(f"{name}-secret", VaultKvSecretArgs(data=data, **settings), opts=child)
                ref = kv.version.apply(lambda version: secret_ref(c, settings, {"version": version}))

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
        self._publish(name, c, args.owner, settings)
        # The document is the stack's output (`connectors.<name>`); registering it here too would store it twice
        # in state, 1.6 kB per connector that every checkpoint rewrites (bench/RESULTS.md).
        self.register_outputs({})

    def _publish(self, name: str, c: ConnectorConfig, owner: str, settings: dict[str, Any]) -> None:
        """Publishers write only when the document changed: a rotation (new secret version) notifies."""
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
            assert c.webhook_signing_key is not None  # the config model requires it with webhooks
            # Named by URL, not list position: removing the first of [A, B] must tell A "deleted", not send B a
            # "deleted" and A's old slot a repeat. The alias carries over stacks from when names were positions.
            WebhookPublication(
                f"{name}-webhook-{hashlib.sha256(hook.url.encode()).hexdigest()[:12]}",
                WebhookPublicationArgs(
                    connector=c.name,
                    url=hook.url,
                    document=self.config,
                    notify_on_delete=hook.notify_on_delete,
                    signing_key=pulumi.Output.secret(c.webhook_signing_key.get_secret_value()),
                ),
                opts=pulumi.ResourceOptions.merge(
                    opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(name=f"{name}-webhook-{i}")])
                ),
            )
