"""Errors the backend raises; each knows the exact commercetools JSON body it turns into.

As in moto, the model raises and the response layer only serialises, so every error body is built in one place.
"""

from __future__ import annotations

from typing import Any


class CommercetoolsError(Exception):
    """An API error: `{"statusCode", "message", "errors": [{"code", "message", ...}]}`."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        """The JSON body commercetools sends for this error."""
        return {
            "statusCode": self.status,
            "message": self.message,
            "errors": [{"code": self.code, "message": self.message, **self.extra}],
        }


class OAuthError(CommercetoolsError):
    """An auth error: the API error body plus the RFC 6749 `error`/`error_description` pair."""

    def body(self) -> dict[str, Any]:
        return {**super().body(), "error": self.code, "error_description": self.message}


class InvalidClient(OAuthError):
    """Wrong, unknown or missing client credentials; one message for all so nothing is revealed."""

    def __init__(self) -> None:
        super().__init__(
            401, "invalid_client", "Please provide valid client credentials using HTTP Basic Authentication."
        )


class InvalidToken(OAuthError):
    """Missing, unknown, expired or revoked bearer token on the API."""

    def __init__(self) -> None:
        super().__init__(401, "invalid_token", "invalid_token")


class InsufficientScope(OAuthError):
    """The token (or the introspecting client) lacks every one of the scopes the endpoint accepts."""

    def __init__(self, *names: str) -> None:
        super().__init__(
            403,
            "insufficient_scope",
            f"Insufficient scope. One of the following scopes is missing: {', '.join(names)}.",
        )


class InvalidScope(OAuthError):
    """A token request for a malformed scope or one the client does not hold."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "invalid_scope", message)


class InvalidJsonInput(CommercetoolsError):
    """A request body that is not JSON or does not have the draft's shape; the field is in the detail."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            400, "InvalidJsonInput", "Request body does not contain valid JSON.", detailedErrorMessage=detail
        )


class InvalidInput(CommercetoolsError):
    """A well-formed value that commercetools rejects (range, scope, query parameter)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "InvalidInput", message)


class ResourceNotFound(CommercetoolsError):
    """An ApiClient that does not exist (or was auto-deleted through deleteAt)."""

    def __init__(self, resource_id: str) -> None:
        super().__init__(404, "ResourceNotFound", f"The Resource with ID '{resource_id}' was not found.")


class DuplicateField(CommercetoolsError):
    """A second ApiClient with the same name, when the emulator enforces unique names."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(
            400,
            "DuplicateField",
            f"A duplicate value '\"{value}\"' exists for field '{field}'.",
            field=field,
            duplicateValue=value,
        )
