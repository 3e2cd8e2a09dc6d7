"""A platform team's program: two commercetools connectors beside the service that uses them.

- erp-sync: a client made in the Merchant Center (its secret in this program's secret config), kept in Vault;
- pim-feed: a client this library makes and rotates (managed), kept in AWS Secrets Manager, on another project.

Config, in this program's own namespace (shop-platform:)::

    erpProjectKey, erpClientId, erpClientSecret (secret), pimProjectKey, kmsKeyId
    commercetoolsUrls (optional): {auth_url, api_url} of a proxy or test server; otherwise the region decides
"""

import pulumi
from components.service import IntegrationService

from ctp_credentials import CommercetoolsConnector, ConnectorArgs, ManagedClient, SecretsManagerStore, VaultStore

config = pulumi.Config()
urls = config.get_object("commercetoolsUrls") or {}
erp_project = config.require("erpProjectKey")
pim_project = config.require("pimProjectKey")

erp = CommercetoolsConnector(
    "erp-sync",
    ConnectorArgs(
        project_key=erp_project,
        scopes=[f"view_orders:{erp_project}", f"manage_orders:{erp_project}"],
        client_id=config.require("erpClientId"),
        client_secret=config.require_secret("erpClientSecret"),
        store=VaultStore(path="commercetools/shop/erp-sync"),
        auth_url=urls.get("auth_url"),
        api_url=urls.get("api_url"),
    ),
)

pim = CommercetoolsConnector(
    "pim-feed",
    ConnectorArgs(
        project_key=pim_project,
        scopes=[f"view_products:{pim_project}"],
        managed=ManagedClient(rotate_after_days=30, delete_days_after_creation=60, grace_hours=2),
        store=SecretsManagerStore(name="shop/pim-feed/commercetools", kms_key_id=config.require("kmsKeyId")),
        auth_url=urls.get("auth_url"),
        api_url=urls.get("api_url"),
    ),
)

service = IntegrationService("order-sync", {"erp-sync": erp.config, "pim-feed": pim.config})
pulumi.export("orderSyncEnv", service.env)
