"""How a fix names the setting (policy violations, provider errors): the stack config key and the library argument.

A policy sees resources, never the program that declared them. The repository's stack program (__main__.py)
reads each connector from stack config (`connectors.<name>.vault.path`); a program of your own passes
`ConnectorArgs` to `CommercetoolsConnector` (`store=VaultStore(path=...)`, named `store.path`). So every fix
names both; the argument comes from the key by the library's own mapping (components/args.py `argument_text`).
"""

from __future__ import annotations

from .args import argument_text

# Every field of the Vault store (stack config `vault.<key>`) is a VaultStore field: argument `store.<field>`.
_VAULT = "vault."


def argument(key: str) -> str:
    """The library argument for a connector's stack config key: `managed.rotateAfterDays` ->
    `managed.rotate_after_days`, `vault.mount` -> `store.mount`."""
    text = argument_text(key)
    # argument_text maps vault.path only (the one field config-model messages name); the other fields here.
    if key.startswith(_VAULT) and text.startswith(_VAULT):
        return "store." + text.removeprefix(_VAULT)
    return text


def setting(connector: str, key: str, *more: str) -> str:
    """One or more settings of `connector` as a fix names them:
    `connectors.erp.vault.path (store.path in your own program)`; with more keys, joined by `and`."""
    keys = (key, *more)
    config = " and ".join(f"connectors.{connector}.{k}" for k in keys)
    return f"{config} ({' and '.join(argument(k) for k in keys)} in your own program)"
