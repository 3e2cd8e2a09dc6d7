"""IntegrationService: the settings a service needs to reach commercetools, from the connectors' documents.

It consumes only the connectors' `config` outputs, which hold no secret: the service reads its client secret
itself, from the store `secretRef` names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi


class IntegrationService(pulumi.ComponentResource):
    env: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        connectors: Mapping[str, pulumi.Input[Mapping[str, Any]]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("shop:index:IntegrationService", name, None, opts)
        self.env = pulumi.Output.all(**connectors).apply(_environment)
        self.register_outputs({"env": self.env})


def _environment(documents: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    env = {}
    for name, doc in sorted(documents.items()):
        prefix = "CTP_" + name.upper().replace("-", "_")
        env[f"{prefix}_PROJECT_KEY"] = str(doc["projectKey"])
        env[f"{prefix}_CLIENT_ID"] = str(doc["clientId"])
        env[f"{prefix}_AUTH_URL"] = str(doc["authUrl"])
        env[f"{prefix}_API_URL"] = str(doc["apiUrl"])
        env[f"{prefix}_SCOPE"] = str(doc["scope"])
        env[f"{prefix}_SECRET_REF"] = json.dumps(doc["secretRef"], sort_keys=True)
    return env
