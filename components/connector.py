"""CommercetoolsConnector: one integration's commercetools credentials, stored where its consumers read them.

Child: the secret in the connector's store, a VaultKvSecret or a SecretsManagerSecret, written only after the
stack's CredentialCheck (which checks every connector at once, see providers/credential_check.py) has obtained
a token with these credentials.
Output `config`: the non-secret document downstream services read (the integration platform's form fields,
the URLs and where the secret lives). The secret itself is never an output.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from .config import PAYLOAD_FIELDS, ConnectorConfig
from .providers.secretsmanager_secret import SecretsManagerSecret, SecretsManagerSecretArgs
from .providers.vault_secret import VaultKvSecret, VaultKvSecretArgs


@dataclass(frozen=True)
class ConnectorArgs:
    """Typed inputs. `client_secret` is an Input so it may come from another resource (managed clients)."""

    config: ConnectorConfig
    client_secret: pulumi.Input[str]
    owner: str  # "<project>/<stack>", recorded as the Vault path's owner
    # Resources that must succeed before anything is written (the stack's CredentialCheck).
    after: Sequence[pulumi.Resource] = field(default_factory=tuple)

    def check_inputs(self) -> dict[str, pulumi.Input[Any]]:
        """This connector's entry in the stack's CredentialCheck."""
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

    @staticmethod
    def from_config(config: ConnectorConfig) -> ConnectorArgs:
        return ConnectorArgs(
            config=config,
            client_secret=pulumi.Output.secret(config.client_secret.get_secret_value()),
            owner=f"{pulumi.get_project()}/{pulumi.get_stack()}",
        )


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


class CommercetoolsConnector(pulumi.ComponentResource):
    config: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: ConnectorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ctp:index:CommercetoolsConnector", name, None, opts)
        c = args.config
        data = pulumi.Output.from_input(args.client_secret).apply(lambda s: secret_payload(c, s))
        # Nothing is written before the credential has obtained a token.
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.after))
        secret_ref: pulumi.Output[dict[str, Any]]
        if c.secrets_manager is not None:
            sm = c.secrets_manager
            region = sm.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            stored_sm = SecretsManagerSecret(
                f"{name}-secret",
                SecretsManagerSecretArgs(
                    connector=c.name,
                    owner=args.owner,
                    name=c.secret_name,
                    data=data,
                    region=region,
                    endpoint_url=sm.endpoint_url,
                    kms_key_id=sm.kms_key_id,
                    description=sm.description or f"commercetools API client credentials for connector {c.name}",
                    tags=sm.tags,
                    recovery_window_days=sm.recovery_window_days,
                    force_delete=sm.force_delete,
                    restore_if_deleted=sm.restore_if_deleted,
                ),
                opts=child,
            )
            # (this SDK's stubs type Output.all's arguments as Never)
            secret_ref = pulumi.Output.all(stored_sm.arn, stored_sm.version_id).apply(  # type: ignore[arg-type]
                lambda v: {
                    "store": "secretsManager",
                    "arn": v[0],
                    "name": c.secret_name,
                    "region": region,
                    "versionId": v[1],
                }
            )
        else:
            address = c.vault.address or os.environ.get("VAULT_ADDR") or os.environ.get("BAO_ADDR") or ""
            namespace = c.vault.namespace or os.environ.get("VAULT_NAMESPACE") or None
            stored = VaultKvSecret(
                f"{name}-secret",
                VaultKvSecretArgs(
                    connector=c.name,
                    owner=args.owner,
                    address=address,
                    namespace=namespace,
                    mount=c.vault.mount,
                    path=c.vault_path,
                    data=data,
                    delete_policy=c.vault.delete_policy,
                    kv_version=c.vault.kv_version,
                    adopt=c.vault.adopt,
                ),
                opts=child,
            )
            secret_ref = stored.version.apply(
                lambda version: {
                    "store": "vault",
                    "address": address,
                    "namespace": namespace,
                    "mount": c.vault.mount,
                    "path": c.vault_path,
                    "kvVersion": c.vault.kv_version,
                    "version": version,
                }
            )

        self.config = secret_ref.apply(
            lambda ref: {
                "name": c.name,
                "projectKey": c.project_key,
                "region": c.region,
                "scope": c.scope_string,
                "clientId": c.client_id,
                "grantType": c.grant_type,
                "tokenKey": c.token_key,
                "clientType": c.client_type,
                "authUrl": c.token_url_base,
                "apiUrl": c.api_base,
                # where each field sits in the stored document, for consumers reading the secret
                "secretKeys": {k: c.secret_keys.get(k, k) for k in PAYLOAD_FIELDS},
                "secretRef": ref,
            }
        )
        self.register_outputs({"config": self.config})
