"""How fixes name a setting: the stack config key and the library argument, both, and both real."""

from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path

import pytest

from ctp_credentials.components import args
from ctp_credentials.components.config import ConnectorConfig
from ctp_credentials.components.naming import argument, setting

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "policies"
PROVIDERS_DIR = ROOT / "components" / "providers"


def test_a_setting_names_the_config_key_and_the_argument() -> None:
    assert setting("erp", "vault.path") == "connectors.erp.vault.path (store.path in your own program)"
    assert setting("erp", "secretsManager.kmsKeyId") == (
        "connectors.erp.secretsManager.kmsKeyId (store.kms_key_id in your own program)"
    )
    assert setting("erp", "managed.rotateAfterDays") == (
        "connectors.erp.managed.rotateAfterDays (managed.rotate_after_days in your own program)"
    )
    assert setting("erp", "authUrl", "apiUrl") == (
        "connectors.erp.authUrl and connectors.erp.apiUrl (auth_url and api_url in your own program)"
    )


def test_the_connector_name_is_never_converted() -> None:
    assert setting("myErp", "region") == "connectors.myErp.region (region in your own program)"
    assert setting("vault", "vault.mount") == "connectors.vault.vault.mount (store.mount in your own program)"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("vault.path", "store.path"),
        ("vault.mount", "store.mount"),
        ("vault.kvVersion", "store.kv_version"),
        ("vault.address", "store.address"),
        ("secretsManager.recoveryWindowDays", "store.recovery_window_days"),
        ("checkCredentials", "check_credentials"),
        ("scopes", "scopes"),
        ("publish.vault.path", "publish.vault.path"),  # a publish target, not the store
    ],
)
def test_argument_of_a_key(key: str, expected: str) -> None:
    assert argument(key) == expected


def _keys_the_pack_names() -> dict[str, set[str]]:
    """module -> the keys its `setting(...)` calls pass as literals (the pack's rules and the providers)."""
    found: dict[str, set[str]] = {}
    for path in sorted([*PACK_DIR.glob("*.py"), *PROVIDERS_DIR.glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setting":
                keys = [a.value for a in node.args[1:] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                assert len(keys) == len(node.args) - 1, f"{path.name}: setting() with a key that is not a literal"
                found.setdefault(path.stem, set()).update(keys)
    return found


def _model_field(model: type, alias: str) -> type | None:
    """The nested model behind `alias` in a config model (None for a plain value); fails if there is none."""
    fields = {f.alias or name: f for name, f in model.model_fields.items()}  # type: ignore[attr-defined]
    assert alias in fields, f"{model.__name__} has no key {alias!r}"
    annotation = fields[alias].annotation
    nested = [a for a in (typing.get_args(annotation) or (annotation,)) if hasattr(a, "model_fields")]
    return nested[0] if nested else None


def _argument_field(cls: type, name: str, store: type) -> type | None:
    """The argument class behind `name` in an argument dataclass (None for a plain value)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    assert name in fields, f"{cls.__name__} has no argument {name!r}"
    # the annotation as written (args.py defers them): the argument classes it names, by their names
    written = str(fields[name].type)
    named = [getattr(args, n.strip(), None) for n in written.split("|")]
    classes = [c for c in named if isinstance(c, type) and dataclasses.is_dataclass(c)]
    if name == "store":
        assert store in classes
        return store
    return classes[0] if classes else None


def test_every_key_the_pack_names_is_a_config_key_and_an_argument() -> None:
    """Both names of every fix exist: the key in the config model, the argument in ConnectorArgs."""
    found = _keys_the_pack_names()
    assert set(found) >= {"aws_secret", "credential_check", "endpoints", "least_privilege", "rotation", "vault_store"}
    assert {"scopes", "vault.path", "vault.adopt"} <= found["credential_check"] | found["vault_secret"]
    for key in set().union(*found.values()):
        model: type | None = ConnectorConfig
        for part in key.split("."):
            assert model is not None, f"{key}: {part!r} is below a plain value"
            model = _model_field(model, part)
        store = args.SecretsManagerStore if key.startswith("secretsManager.") else args.VaultStore
        cls: type | None = args.ConnectorArgs
        for part in argument(key).split("."):
            assert cls is not None, f"{argument(key)}: {part!r} is below a plain value"
            cls = _argument_field(cls, part, store)


def test_no_rule_writes_a_config_key_itself() -> None:
    """Every rule names settings through `setting`, so no fix names the stack config key alone."""
    for path in PACK_DIR.glob("*.py"):
        assert "connectors.{" not in path.read_text(), f"{path.name} builds a config key itself"
