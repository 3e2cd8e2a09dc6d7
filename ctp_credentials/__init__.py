"""ctp-credentials: commercetools API client credentials as Pulumi components.

The public API is what this module exports (see README, "Use it in your own Pulumi program")::

    from ctp_credentials import CommercetoolsConnector, ConnectorArgs, SecretsManagerStore

    erp = CommercetoolsConnector(
        "erp-sync",
        ConnectorArgs(
            project_key="my-shop",
            scopes=["view_orders:my-shop"],
            client_id="...",
            client_secret=config.require_secret("erpClientSecret"),
            store=SecretsManagerStore(),
        ),
    )
    pulumi.export("erp", erp.config)  # the non-secret document for consumers

Layout: the subpackages are the repository's top-level folders, reached through the symlinks here
(`ctp_credentials.components` is `components/`, `.policies` is `policies/`, `.automation` is `automation/`,
`.testing` is `testservers/`), so every module has one import name wherever it runs: the stack program, the
dynamic providers' pickles in state, the policy pack and the tests (tests/test_layout.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ctp_credentials.components.args import (
        ArgumentError,
        ConnectorArgs,
        FileTarget,
        ManagedClient,
        Publish,
        SecretsManagerStore,
        SsmTarget,
        VaultStore,
        VaultTarget,
        WebhookTarget,
    )
    from ctp_credentials.components.connector import CommercetoolsConnector
    from ctp_credentials.components.errors import ConfigError, CredentialsError

# Imported on first use: the commands, the policy pack and the test servers import this package too, and need
# neither Pulumi's SDK nor the components loaded to start.
_PUBLIC = {
    "ArgumentError": "components.args",
    "CommercetoolsConnector": "components.connector",
    "ConfigError": "components.errors",
    "ConnectorArgs": "components.args",
    "CredentialsError": "components.errors",
    "FileTarget": "components.args",
    "ManagedClient": "components.args",
    "Publish": "components.args",
    "SecretsManagerStore": "components.args",
    "SsmTarget": "components.args",
    "VaultStore": "components.args",
    "VaultTarget": "components.args",
    "WebhookTarget": "components.args",
}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "CommercetoolsConnector",
    "ConfigError",
    "ConnectorArgs",
    "CredentialsError",
    "FileTarget",
    "ManagedClient",
    "Publish",
    "SecretsManagerStore",
    "SsmTarget",
    "VaultStore",
    "VaultTarget",
    "WebhookTarget",
    "__version__",
]
