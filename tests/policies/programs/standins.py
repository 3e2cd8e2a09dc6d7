"""Preview-only stand-ins for what the program's config model would refuse before any resource is registered:

- a managed API client (`dynamic/commercetools:ApiClient`, the real type token) with settings out of bounds;
- a CredentialCheck in a region the config model would refuse before any resource is registered;
- a stored secret whose connector the CredentialCheck does not cover (only a program change can do that).

Each breaks policies; tests/policies/test_engine.py expects exactly those violations. Preview never calls
`create`, so the stand-in provider only needs the default `check` (inputs pass through unchanged).
"""

from typing import Any

import pulumi
from pulumi.dynamic import Resource, ResourceProvider

from ctp_credentials.components.providers.credential_check import CredentialCheck, CredentialCheckArgs


class PreviewOnly(ResourceProvider):
    """Accepts any inputs; preview does not create anything."""


class ApiClient(Resource, module="commercetools", name="ApiClient"):
    def __init__(self, name: str, props: dict[str, Any]) -> None:
        super().__init__(PreviewOnly(), name, props)


# Settings in the project's config shape (connectors.standin.*, clientSecret-standin), none validated.
config = pulumi.Config()
settings = config.require_object("connectors")["standin"]
url, project_key = settings["authUrl"], settings["projectKey"]

check = {
    "connector": "standin",
    "project_key": project_key,
    "region": "mars-west1.gcp",  # commercetools-known-region
    "auth_url": url,
    "api_url": url,
    "scopes": [f"view_orders:{project_key}"],
    "client_id": settings["clientId"],
    "client_secret": config.require_secret("clientSecret-standin"),
    "token_key": "access_token",
    "enabled": True,
}
CredentialCheck("credential-check", CredentialCheckArgs({"standin": check}))
ApiClient(
    "standin-client",
    {
        "connector": "standin",
        "project_key": project_key,
        "scopes": f"view_orders:{project_key} manage_api_clients:{project_key}",  # commercetools-least-privilege
        "rotate_after_days": 365,  # api-client-rotation: above 90
        "delete_days_after_creation": 400,  # api-client-rotation: above 180
    },
)


class KvSecret(Resource, module="vault", name="KvSecret"):
    def __init__(self, name: str, props: dict[str, Any]) -> None:
        super().__init__(PreviewOnly(), name, props)


# A stored secret no CredentialCheck covers (managed clients are covered by their own test step):
# credential-check-coverage
KvSecret(
    "orphan-secret",
    {"connector": "orphan", "owner": "x/y", "address": url, "mount": "secret", "path": "commercetools/orphan"},
)
