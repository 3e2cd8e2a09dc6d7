"""The one place that reads Pulumi's config runtime, so the model in config.py stays testable without it."""

from __future__ import annotations

from pulumi.runtime.config import get_config, is_config_secret

from .config import NAMESPACE


def lookup_secret(key: str) -> tuple[str | None, bool]:
    """(value, stored as secret?) for a top-level key of this project's namespace."""
    full = f"{NAMESPACE}:{key}"
    value = get_config(full)
    return (None if value is None else str(value)), is_config_secret(full)
