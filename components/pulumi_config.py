"""The one place that reads Pulumi's config runtime, so the model in config.py stays testable without it."""

from __future__ import annotations

import json
import os
from typing import Any

from pulumi.runtime.config import CONFIG, get_config, get_config_env, is_config_secret

from .config import NAMESPACE, encoded_config_size


def read_connectors() -> Any:
    """The raw `connectors` value. Not `Config.get_object`: its error for a non-JSON value names neither the
    fix nor the expected shape, while load_stack_config does."""
    raw = get_config(f"{NAMESPACE}:connectors")
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # a plain string: reported as "must be a map" with the fix


def lookup_secret(key: str) -> tuple[str | None, bool]:
    """(value, stored as secret?) for a top-level key of this project's namespace."""
    full = f"{NAMESPACE}:{key}"
    value = get_config(full)
    return (None if value is None else str(value)), is_config_secret(full)


def rotation_request(connectors: list[str]) -> dict[str, str]:
    """Connector name -> request ID for a rotation asked for by `python -m ctp_credentials rotate`.

    The command passes `CTP_ROTATE=<request id>:<connector>[,<connector>...]` (or `<request id>:*`) to this run
    only. The ID is stored with the client, so a later run without it does not rotate again.
    """
    request_id, _, names = os.environ.get("CTP_ROTATE", "").partition(":")
    wanted = {n.strip() for n in names.split(",") if n.strip()}
    if not request_id or not wanted:
        return {}
    return {name: request_id for name in connectors if "*" in wanted or name in wanted}


def config_bytes() -> int:
    """The whole stack config's size as the engine passed it to this program (all namespaces, secrets too)."""
    return encoded_config_size({**get_config_env(), **CONFIG.get()})
