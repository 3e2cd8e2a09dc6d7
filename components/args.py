"""The library's argument classes: what a Pulumi program passes to `CommercetoolsConnector`.

Plain frozen dataclasses with the config model's field names (components/config.py); a field left at None takes
the model's default, so every default and every rule lives in one place, the model. Nothing is checked when an
argument object is made: the component validates all of its arguments at once and reports every problem in one
error that names the component and the argument (`CommercetoolsConnector 'erp-sync': store.path: ...`).

Only the client secret and the webhook signing key may be Pulumi Inputs (the user's own secret config, or
another resource's output); everything else decides resource names, store locations and URLs, and is text.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
from pydantic import ValidationError
from pydantic.alias_generators import to_snake

from . import config as model
from .errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class VaultStore:
    """The secret in HashiCorp Vault / OpenBao, in a KV secrets engine (the default store).

    Defaults: address from VAULT_ADDR (BAO_ADDR), mount `secret`, path `commercetools/<connector name>`, KV
    version 2, delete_policy `delete` (what removing the connector does: keep, delete or destroy the value),
    adopt False (take over a value this project did not write)."""

    address: str | None = None
    mount: str | None = None
    path: str | None = None
    namespace: str | None = None
    kv_version: Literal[1, 2] | None = None
    delete_policy: Literal["keep", "delete", "destroy"] | None = None
    adopt: bool | None = None


@dataclass(frozen=True, kw_only=True)
class SecretsManagerStore:
    """The secret in AWS Secrets Manager.

    Defaults: name `commercetools/<connector name>`, region from AWS_REGION / AWS_DEFAULT_REGION, the AWS managed
    KMS key, a 30-day recovery window on delete (7-30), no forced delete, no restore of a secret pending deletion.
    """

    name: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    kms_key_id: str | None = None
    description: str | None = None
    tags: Mapping[str, str] | None = None
    recovery_window_days: int | None = None
    force_delete: bool | None = None
    restore_if_deleted: bool | None = None


@dataclass(frozen=True, kw_only=True)
class ManagedClient:
    """This project creates the API client, stores its secret and rotates it (no client_id or client_secret).

    The admin client that creates it comes from `<admin_env_prefix>_CLIENT_ID` / `_CLIENT_SECRET` in the
    environment (default prefix CTP_ADMIN), or from Vault at admin_vault_path. Defaults: no scheduled rotation,
    24 hours of grace for the previous client after a rotation, no server-side expiry."""

    admin_env_prefix: str | None = None
    admin_vault_path: str | None = None
    admin_vault_mount: str | None = None
    rotate_after_days: float | None = None
    grace_hours: float | None = None
    delete_days_after_creation: int | None = None
    access_token_validity_seconds: int | None = None


@dataclass(frozen=True, kw_only=True)
class FileTarget:
    """The connector's non-secret document as a JSON file (a pipeline artifact)."""

    path: str


@dataclass(frozen=True, kw_only=True)
class VaultTarget:
    """The document in Vault, beside the secret's store (mount default `secret`)."""

    path: str
    mount: str | None = None


@dataclass(frozen=True, kw_only=True)
class SsmTarget:
    """The document as an SSM parameter (tier default Standard)."""

    name: str
    region: str | None = None
    endpoint_url: str | None = None
    tier: Literal["Standard", "Advanced"] | None = None


@dataclass(frozen=True, kw_only=True)
class WebhookTarget:
    """The document POSTed, signed, to a URL whenever it changes (and on delete, unless notify_on_delete=False)."""

    url: str
    notify_on_delete: bool | None = None


@dataclass(frozen=True, kw_only=True)
class Publish:
    """Where the non-secret document goes besides the component's `config` output."""

    file: FileTarget | None = None
    vault: VaultTarget | None = None
    ssm: SsmTarget | None = None
    webhooks: Sequence[WebhookTarget] = ()


@dataclass(frozen=True, kw_only=True)
class ConnectorArgs:
    """One connector's commercetools credentials and where they are kept.

    Either `client_id` and `client_secret` (a client made in the Merchant Center; the secret as a Pulumi Input,
    e.g. `config.require_secret(...)`), or `managed=ManagedClient(...)` (this project makes and rotates the client).
    Defaults: region europe-west1.gcp, store VaultStore(), the credential check on, token key access_token."""

    project_key: str
    scopes: Sequence[str]
    client_id: str | None = None
    client_secret: pulumi.Input[str] | None = field(default=None, repr=False)
    managed: ManagedClient | None = None
    store: VaultStore | SecretsManagerStore | None = None
    region: str | None = None
    auth_url: str | None = None
    api_url: str | None = None
    publish: Publish | None = None
    webhook_signing_key: pulumi.Input[str] | None = field(default=None, repr=False)
    check_credentials: bool | None = None
    token_key: str | None = None
    secret_keys: Mapping[str, str] | None = None
    # Recorded with the stored value: which stack writes it. Default "<pulumi project>/<stack>".
    owner: str | None = None
    # Set by from_config: the values come from the stack program's config, whose keys messages then name.
    _stack_config: bool = field(default=False, repr=False, compare=False)

    @staticmethod
    def from_config(c: model.ConnectorConfig) -> ConnectorArgs:
        """The arguments of a connector of the stack program (__main__.py), from its validated stack config."""
        secret = c.client_secret
        hook_key = c.webhook_signing_key
        store: VaultStore | SecretsManagerStore = (
            _from_model(SecretsManagerStore, c.secrets_manager)
            if c.secrets_manager is not None
            else _from_model(VaultStore, c.vault)
        )
        publish = Publish(
            file=None if c.publish.file is None else _from_model(FileTarget, c.publish.file),
            vault=None if c.publish.vault is None else _from_model(VaultTarget, c.publish.vault),
            ssm=None if c.publish.ssm is None else _from_model(SsmTarget, c.publish.ssm),
            webhooks=tuple(_from_model(WebhookTarget, w) for w in c.publish.webhooks),
        )
        return ConnectorArgs(
            project_key=c.project_key,
            scopes=[str(s) for s in c.scopes],
            client_id=c.client_id,
            client_secret=None if secret is None else pulumi.Output.secret(secret.get_secret_value()),
            managed=None if c.managed is None else _from_model(ManagedClient, c.managed),
            store=store,
            region=c.region,
            auth_url=c.auth_url,
            api_url=c.api_url,
            publish=publish,
            webhook_signing_key=None if hook_key is None else pulumi.Output.secret(hook_key.get_secret_value()),
            check_credentials=c.check_credentials,
            token_key=c.token_key,
            secret_keys=dict(c.secret_keys),
            _stack_config=True,
        )


@dataclass(frozen=True)
class Resolved:
    """Validated arguments: the config model, and the Inputs that the model only holds stand-ins for."""

    config: model.ConnectorConfig
    client_secret: pulumi.Input[str] | None
    webhook_signing_key: pulumi.Input[str] | None
    owner: str
    stack_config: bool

    def setting(self, stack_key: str, argument: str) -> str:
        """How a message names a setting: the stack config key, or the library argument."""
        return f"connectors.{self.config.name}.{stack_key}" if self.stack_config else argument


# What the model holds for an Input it never sees: it validates the other settings, the resources get the Input.
_STAND_IN = "<input>"


def resolve(component: str, name: str, args: ConnectorArgs) -> Resolved:
    """Validate `args` with the config model's rules; raises ArgumentError naming the component and argument."""
    prefix = f"{component} {name!r}"
    problems: list[str] = []
    if not isinstance(args, ConnectorArgs):
        raise ArgumentError(f"{prefix}: args must be a ConnectorArgs, got {type(args).__name__}")
    if args.managed is not None and args.client_secret is not None:
        problems.append("client_secret: remove it; a managed connector's secret is made by this project")
    if args.managed is None and args.client_secret is None:
        problems.append("client_secret is required (a Pulumi Input, e.g. config.require_secret('...')), or set managed")
    hook_key = args.webhook_signing_key
    if isinstance(hook_key, str) and len(hook_key.strip()) < 16:
        problems.append("webhook_signing_key: too short; use at least 16 random characters")
    raw = _plain(args, skip={"client_secret", "webhook_signing_key", "store", "owner", "_stack_config"})
    if isinstance(args.store, SecretsManagerStore):
        raw["secrets_manager"] = _plain(args.store)
    elif args.store is not None:
        raw["vault"] = _plain(args.store)
    raw["name"] = name
    if args.client_secret is not None and args.managed is None:
        raw["client_secret"] = _STAND_IN
    if hook_key is not None:
        raw["webhook_signing_key"] = _STAND_IN
    config: model.ConnectorConfig | None = None
    try:
        config = model.ConnectorConfig.model_validate(raw, context={"style": "library"})
    except ValidationError as exc:
        problems.extend(_explain(exc))
    if problems or config is None:
        head = f"{prefix}: invalid arguments" if len(problems) > 1 else f"{prefix}: invalid argument"
        raise ArgumentError(head + ":\n" + "\n".join(f"- {p}" for p in problems))
    return Resolved(
        config=config,
        client_secret=args.client_secret,
        webhook_signing_key=hook_key,
        owner=args.owner or f"{pulumi.get_project()}/{pulumi.get_stack()}",
        stack_config=args._stack_config,
    )


class ArgumentError(ConfigError, pulumi.RunError):
    """A component's arguments are invalid. A RunError: Pulumi prints the message alone, without a traceback."""


def _from_model(cls: Any, value: Any) -> Any:
    return cls(**{f.name: getattr(value, f.name) for f in dataclasses.fields(cls)})


def _plain(obj: Any, skip: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """A dataclass as the model's input: None left out (the model's default applies), nested values plain."""
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if f.name in skip or value is None:
            continue
        out[f.name] = _plain_value(value)
    return out


def _plain_value(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(value)
    if isinstance(value, Mapping):
        return {k: _plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(_plain_value(v) for v in value)
    return value


_CAMEL = re.compile(r"\b[a-z]+(?:[A-Z][a-z0-9]*)+\b")


def argument_text(text: str) -> str:
    """A model message in the library's words: argument names (snake_case), the store as `store`."""
    text = re.sub(r"(?<!publish\.)\bvault\.path", "store.path", text.replace("secretsManager", "store"))
    return _CAMEL.sub(lambda m: to_snake(m.group(0)), text)


def _explain(exc: ValidationError) -> list[str]:
    """pydantic's errors as `argument: fix`, rebuilt from the location (pydantic would echo input values)."""
    lines = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [p for p in err["loc"]]
        if loc[:1] in (["secrets_manager"], ["vault"]):  # the model's field names: both are `store` here
            loc[0] = "store"
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{to_snake(str(p))}" for p in loc).lstrip(".")
        fix = _fix(err)
        lines.append(f"{where}: {fix}" if where else fix)
    return lines


def _fix(err: Any) -> str:
    kind, msg = err["type"], str(err["msg"])
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown argument"
    if kind == "value_error":
        return argument_text(msg.removeprefix("Value error, "))
    # type and choice errors: pydantic's own words ("Input should be a valid integer") name no value
    return argument_text(msg)
