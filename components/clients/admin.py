"""The admin client that creates and deletes API clients, and a new client's first token: one rule for each.

Used by the managed client's provider (providers/api_client.py) and by `rotate` for clients the user provides
(automation/steps.py). The admin credentials come from the environment (`<prefix>_CLIENT_ID` / `_SECRET`) or a
KV v2 secret in Vault (keys clientId, clientSecret); never from stack config.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..errors import CommercetoolsError, CredentialsError, InvalidClientError
from ..scopes import admin_scope_problem
from .commercetools import CommercetoolsClient, Token
from .vault import VaultClient

# A new client may not get a token at once (propagation time is undocumented, unconfirmed in the reference):
# its first token request is retried on invalid_client, 0.25 s doubling to 4 s, about 8 s in all.
TEST_ATTEMPTS = 6


class AdminError(CredentialsError):
    """No admin credentials, or ones that cannot manage the project's API clients; says where and what to do."""


@dataclass(frozen=True)
class AdminSource:
    """Where the admin client's credentials are: Vault when `vault_path` is set, else the environment."""

    env_prefix: str = "CTP_ADMIN"
    vault_path: str | None = None
    vault_mount: str = "secret"
    vault_address: str | None = None

    def credentials(self, environ: Mapping[str, str]) -> tuple[str | None, str | None, str]:
        """(client ID, secret, where they were looked for); either may be None when not found there."""
        if self.vault_path:
            vault = VaultClient(address=self.vault_address, mount=self.vault_mount)
            found = vault.read_secret_version(self.vault_path)
            data = found.data if found else {}
            where = f"{vault.where(self.vault_path)} (keys clientId, clientSecret)"
            client_id, secret = data.get("clientId"), data.get("clientSecret")
            return (None if client_id is None else str(client_id)), (None if secret is None else str(secret)), where
        where = f"the environment variables {self.env_prefix}_CLIENT_ID and {self.env_prefix}_CLIENT_SECRET"
        return environ.get(f"{self.env_prefix}_CLIENT_ID"), environ.get(f"{self.env_prefix}_CLIENT_SECRET"), where


def admin_token(
    ct: CommercetoolsClient, project_key: str, source: AdminSource, environ: Mapping[str, str] | None = None
) -> Token:
    """A token of the admin client that can manage `project_key`'s API clients, or AdminError saying why not."""
    client_id, secret, where = source.credentials(os.environ if environ is None else environ)
    needs = f"manage_api_clients:{project_key}"
    if not client_id or not secret:
        raise AdminError(
            f"no admin credentials for project {project_key}: set {where} to an API client holding {needs} "
            "(made once by hand in the Merchant Center)"
        )
    try:
        token = ct.request_token(client_id, secret, [needs])
    except CommercetoolsError as exc:
        raise AdminError(
            f"the admin client from {where} cannot manage API clients of {project_key}: {exc}. It needs {needs}"
        ) from None
    problem = admin_scope_problem(token.scope, project_key)
    if problem:
        raise AdminError(
            f"the admin client from {where} cannot manage API clients of {project_key}: {problem}. It needs {needs}"
        )
    return token


def wait_until_usable(
    ct: CommercetoolsClient,
    client_id: str,
    secret: str,
    scopes: list[str],
    *,
    token_key: str = "access_token",
    sleep: Callable[[float], None] | None = None,
) -> None:
    """A token for a new client; invalid_client is retried (TEST_ATTEMPTS), anything else is not. `sleep`:
    time.sleep, looked up when called (tests pass the emulator's clock)."""
    for attempt in range(TEST_ATTEMPTS):
        try:
            ct.request_token(client_id, secret, scopes, token_key=token_key)
            return
        except InvalidClientError:
            if attempt + 1 == TEST_ATTEMPTS:
                raise
            (sleep or time.sleep)(min(0.25 * 2**attempt, 4.0))
