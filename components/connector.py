"""CommercetoolsConnector: one integration's commercetools credentials, checked and stored.

Children: a CredentialCheck (a bad credential fails `pulumi preview`) and a VaultKvSecret that the check gates.
Output `config`: the non-secret document downstream services read (the integration platform's form fields,
the URLs and where the secret lives). The secret itself is never an output.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pulumi

from .config import ConnectorConfig
from .providers.credential_check import CredentialCheck, CredentialCheckArgs
from .providers.vault_secret import VaultKvSecret, VaultKvSecretArgs


@dataclass(frozen=True)
class ConnectorArgs:
    """Typed inputs. `client_secret` is an Input so it may come from another resource (managed clients)."""

    config: ConnectorConfig
    client_secret: pulumi.Input[str]
    owner: str  # "<project>/<stack>", recorded as the Vault path's owner

    @staticmethod
    def from_config(config: ConnectorConfig) -> ConnectorArgs:
        return ConnectorArgs(
            config=config,
            client_secret=pulumi.Output.secret(config.client_secret.get_secret_value()),
            owner=f"{pulumi.get_project()}/{pulumi.get_stack()}",
        )


def secret_payload(config: ConnectorConfig, client_secret: str) -> dict[str, Any]:
    """What the store holds: everything a consumer needs to get a token, in one document."""
    return {
        "clientId": config.client_id,
        "clientSecret": client_secret,
        "projectKey": config.project_key,
        "region": config.region,
        "scopes": config.scope_string,
        "authUrl": config.token_url_base,
        "apiUrl": config.api_base,
    }


class CommercetoolsConnector(pulumi.ComponentResource):
    config: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: ConnectorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ctp:index:CommercetoolsConnector", name, None, opts)
        c = args.config
        child = pulumi.ResourceOptions(parent=self)

        check = CredentialCheck(
            f"{name}-check",
            CredentialCheckArgs(
                connector=c.name,
                project_key=c.project_key,
                region=c.region,
                auth_url=c.token_url_base,
                api_url=c.api_base,
                scopes=[str(s) for s in c.scopes],
                client_id=c.client_id,
                client_secret=args.client_secret,
                token_key=c.token_key,
                enabled=c.check_credentials,
            ),
            opts=child,
        )

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
                data=pulumi.Output.from_input(args.client_secret).apply(lambda s: secret_payload(c, s)),
            ),
            # Nothing is written before the credential has obtained a token.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[check]),
        )

        self.config = stored.version.apply(
            lambda version: {
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
                "secretRef": {
                    "store": "vault",
                    "address": address,
                    "namespace": namespace,
                    "mount": c.vault.mount,
                    "path": c.vault_path,
                    "kvVersion": 2,
                    "version": version,
                },
            }
        )
        self.register_outputs({"config": self.config})
