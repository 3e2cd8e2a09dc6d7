"""One exception tree for every external system, so callers and the CLI can say which step failed.

Messages name the config key or remote object, the remote error and the fix. They never contain a
secret: callers pass identifiers only, and every constructor here takes text, not credentials.

Every exception the project raises on purpose derives from CredentialsError (tests/components/test_errors.py
walks the package). The tree: ConfigError (ArgumentError: a library argument); CommercetoolsError
(InvalidClientError, InvalidScopeError, UnreachableError); SecretStoreError (VaultError, SecretsManagerError in
clients/secretsmanager.py); PublicationError in publishing.py (FilePublicationError, SsmError in clients/ssm.py,
WebhookError in clients/webhook.py); RotationError in providers/api_client.py; and the commands' StackError
(automation/workspace.py), EngineUnavailable (automation/engine.py) and RotationFailed (automation/rotate.py).
"""

from __future__ import annotations

REMOTE_TEXT_LIMIT = 300


def remote_text(text: str, *sent: str | None) -> str:
    """What a remote system said, fit for a message: one line, bounded, and never a value we sent it (a
    secret, a token), should a server echo one back. The one rule for every client's remote error text."""
    for value in sent:
        if value:
            text = text.replace(value, "<redacted>")
    return " ".join(text.split())[:REMOTE_TEXT_LIMIT]


class CredentialsError(Exception):
    """Base of everything this project raises on purpose; anything else is a bug."""


class ConfigError(CredentialsError):
    """Stack config is invalid. Raised before anything is written anywhere."""


class CommercetoolsError(CredentialsError):
    """commercetools answered with an error, or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class InvalidClientError(CommercetoolsError):
    """401 invalid_client: the client ID or secret was rejected."""


class InvalidScopeError(CommercetoolsError):
    """400 invalid_scope: a scope is malformed, unknown, or not held by the client."""


class UnreachableError(CommercetoolsError):
    """DNS, connection, TLS or timeout: nothing usable came back."""


class SecretStoreError(CredentialsError):
    """A secret store (Vault, AWS Secrets Manager) refused or failed an operation."""


class VaultError(SecretStoreError):
    """Vault/OpenBao answered with an error, is sealed, or could not be reached."""
