"""Validated stack config: every connector's fields, checked before anything talks to a server.

Stack config shape (in the project's namespace, `commercetools-credentials:`)::

    connectors:
      patchworks:                      # connector name: resource names and the default store path
        projectKey: product-patchworks
        region: europe-west1.gcp
        scopes: [view_orders:product-patchworks]
        clientId: ...
    clientSecret-patchworks:           # one top-level *secret* key per connector
      secure: ...

The secret has a top-level key of its own because Pulumi tells a program only whether a whole top-level key
holds a secret: inside a structured object a plaintext value beside an encrypted one would go unnoticed.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from .errors import ConfigError
from .scopes import PROJECT_KEY_RE, Scope, closest, format_scopes, parse_scope, split_scopes
from .urls import canonical_url, check_http_url, is_loopback

# Config keys live in the project's namespace; messages name them as users type them, without it.
NAMESPACE = "commercetools-credentials"
DEFAULT_REGION = "europe-west1.gcp"
REGIONS = (
    "europe-west1.gcp",
    "eu-central-1.aws",
    "us-central1.gcp",
    "us-east-2.aws",
    "australia-southeast1.gcp",
)
# Deprecated hosts that still answer; accepted (with a warning) and mapped to the region they serve.
DEPRECATED_REGIONS = {
    "sphere.io": "europe-west1.gcp",
    "auth.sphere.io": "europe-west1.gcp",
    "commercetools.co": "us-central1.gcp",
    "auth.commercetools.co": "us-central1.gcp",
}
NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$")
# KV paths: segments of safe characters, no `..`, no empty segment, nothing that changes the URL.
PATH_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
# Client IDs are opaque; refuse only what can never be one (whitespace, control characters, `:`).
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


# Capacity (README, "Capacity"). The engine hands the whole stack config to the program, and again to the policy
# pack, in one environment variable (PULUMI_CONFIG), and Linux caps one variable at 128 KiB (MAX_ARG_STRLEN,
# name included): above that, `pulumi preview` fails with "argument list too long" before any of our code runs.
# Measured on the pinned engine, with and without the policy pack: 129,991 bytes of encoded config run, 131,871
# fail. The bounds below keep a quarter of margin, so the engine never gets a config it cannot start with.
ENGINE_CONFIG_LIMIT = 131_072 - len("PULUMI_CONFIG=") - 1
MAX_CONFIG_BYTES = 96 * 1024
MAX_CONNECTORS = 100
MAX_SCOPES = 500  # per connector


def encoded_config_size(values: Mapping[str, Any]) -> int:
    """Bytes of the stack config as the engine passes it on: one JSON object of full keys (`namespace:key`) to
    string values, structured values as compact JSON, secrets decrypted."""
    encoded = {k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for k, v in values.items()}
    return len(json.dumps(encoded, separators=(",", ":")))


def capacity_problem(size: int) -> str | None:
    """The config error for a stack config too big to pass through the engine safely, or None."""
    if size <= MAX_CONFIG_BYTES:
        return None
    return (
        f"the stack config is {size:,} bytes as the engine passes it to the program and the policy pack; this "
        f"project accepts at most {MAX_CONFIG_BYTES:,} (the engine itself fails above {ENGINE_CONFIG_LIMIT:,}: "
        "Linux limits one environment variable to 128 KiB). Split the connectors across stacks, e.g. one stack "
        "per commercetools project or per team (README, 'Capacity')"
    )


def secret_config_key(connector: str) -> str:
    """The top-level secret config key that holds a connector's client secret."""
    return f"clientSecret-{connector}"


class ConfigWarning(UserWarning):
    """Accepted but deprecated config; shown as a Pulumi warning."""


class _Model(BaseModel):
    """Strict: no setting's type is coerced. Lax mode reads the string "no" as false and "30" as 30, so what a
    setting does would depend on its spelling; a wrong type is a config error with the fix instead (`_fix`).
    Tuple fields that take a JSON array say `strict=False`: in strict mode only a tuple is a tuple."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        str_strip_whitespace=True,
        strict=True,
    )


ALLOWED_HOSTS_ENV = "CTP_ALLOWED_HOSTS"


def _may_receive_credentials(url: str, kind: str) -> bool:
    """The official `kind` host of a region (or a deprecated alias), loopback (the emulator, a local proxy), or
    a host the pipeline's operator allowed in CTP_ALLOWED_HOSTS. Stack config alone never suffices: a typo'd or
    foreign authUrl in a pull request would otherwise receive the secret in the preview that should stop it."""
    host = (urlsplit(url).hostname or "").lower()
    official = {f"{kind}.{region}.commercetools.com" for region in REGIONS}
    official |= {f"{kind}.{alias.removeprefix('auth.')}" for alias in DEPRECATED_REGIONS}
    allowed = {h.strip().lower() for h in os.environ.get(ALLOWED_HOSTS_ENV, "").split(",") if h.strip()}
    return host in official or is_loopback(host) or host in allowed


def _check_base_url(value: str | None) -> str | None:
    """Custom endpoints: https, or plain http to loopback only (the emulator, a local proxy); a base URL."""
    if value is None:
        return None
    check_http_url(value)
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        raise ValueError("must be a base URL without query or fragment")
    return canonical_url(value) or value  # one spelling: the document schema and comparisons expect it


@dataclass(frozen=True)
class VaultLocation:
    """One secret in Vault as config names it (None: from VAULT_ADDR / VAULT_NAMESPACE)."""

    address: str | None
    namespace: str | None
    mount: str
    path: str


class VaultStore(_Model):
    """Where the connector's secret lives in Vault. Address, token and auth come from VAULT_* env vars."""

    address: str | None = None
    mount: str = "secret"
    path: str | None = None  # default: commercetools/<connector name>
    namespace: str | None = None
    kv_version: Literal[1, 2] = 2
    # keep: leave the value; delete: soft-delete our current version (KV v2, recoverable with `undelete`);
    # destroy: remove every version and the metadata. See README, "Deleting".
    delete_policy: Literal["keep", "delete", "destroy"] = "delete"
    # Take over a path that exists without our ownership metadata (e.g. a secret pasted in by hand).
    adopt: bool = False

    _address = field_validator("address")(classmethod(lambda cls, v: _check_base_url(v)))

    @field_validator("mount", "path")
    @classmethod
    def _safe_path(cls, value: str | None) -> str | None:
        if value is None:
            return None
        segments = value.strip("/").split("/")
        if not value.strip("/") or any(not PATH_SEGMENT_RE.match(s) or s in (".", "..") for s in segments):
            raise ValueError(
                f"{value!r} is not a safe KV path: use segments of letters, digits, '_', '-', '.' separated by '/'"
            )
        return "/".join(segments)

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        if value is not None and not all(PATH_SEGMENT_RE.match(s) for s in value.strip("/").split("/")):
            raise ValueError(f"{value!r} is not a Vault namespace path (segments of letters, digits, '_', '-', '.')")
        return value


SM_NAME_RE = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
AWS_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")


class SecretsManagerStore(_Model):
    """AWS Secrets Manager. Credentials come from the default AWS chain only (env, profile, web identity)."""

    name: str | None = None  # default: commercetools/<connector name>
    region: str | None = None  # default: AWS_REGION / AWS_DEFAULT_REGION
    endpoint_url: str | None = None  # VPC endpoints, tests
    kms_key_id: str | None = None  # default: the AWS managed key aws/secretsmanager
    description: str | None = Field(default=None, max_length=2048)
    tags: dict[str, str] = Field(default_factory=dict)
    recovery_window_days: int = Field(default=30, ge=7, le=30)
    force_delete: bool = False  # delete without a recovery window: only when explicitly asked
    restore_if_deleted: bool = False

    _endpoint = field_validator("endpoint_url")(classmethod(lambda cls, v: _check_base_url(v)))

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not SM_NAME_RE.match(value):
            raise ValueError(f"{value!r} is not a Secrets Manager name: 1-512 of letters, digits and /_+=.@-")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and not AWS_REGION_RE.match(value):
            raise ValueError(f"{value!r} is not an AWS region name such as eu-central-1")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = {"managed-by", "pulumi-stack", "connector", "writer"}
        for key in value:
            if key in reserved or key.startswith("aws:"):
                raise ValueError(f"tag {key!r} is reserved (ownership tags are set by this project); rename it")
        return value


class ManagedClient(_Model):
    """The project creates (and rotates) the connector's API client with an admin client."""

    # Admin credentials: <PREFIX>_CLIENT_ID / <PREFIX>_CLIENT_SECRET in the environment, or a Vault path.
    admin_env_prefix: str = "CTP_ADMIN"
    admin_vault_path: str | None = None
    admin_vault_mount: str = "secret"
    rotate_after_days: float | None = Field(default=None, gt=0, le=3650)
    grace_hours: float = Field(default=24.0, ge=0, le=24 * 90)
    delete_days_after_creation: int | None = Field(default=None, ge=1, le=3650)
    access_token_validity_seconds: int | None = Field(default=None, ge=3600, le=604800)

    @field_validator("admin_env_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.match(r"^[A-Z][A-Z0-9_]{0,40}$", value):
            raise ValueError(f"{value!r} is not an environment variable prefix (upper-case letters, digits, '_')")
        return value

    _vault_path = field_validator("admin_vault_path", "admin_vault_mount")(
        classmethod(lambda cls, v: VaultStore._safe_path(v))
    )

    @model_validator(mode="after")
    def _expiry_after_rotation(self) -> ManagedClient:
        expiry, rotation = self.delete_days_after_creation, self.rotate_after_days
        if expiry and not rotation:
            raise ValueError(
                f"deleteDaysAfterCreation without rotateAfterDays: commercetools deletes the client on day {expiry} "
                "and nothing replaces it; set managed.rotateAfterDays below it (or remove deleteDaysAfterCreation)"
            )
        if expiry and rotation and expiry < rotation + self.grace_hours / 24:
            raise ValueError(
                "deleteDaysAfterCreation must be longer than rotateAfterDays plus the grace period, or "
                "commercetools deletes the client before its successor takes over"
            )
        return self


class FileTarget(_Model):
    path: str  # JSON file for pipeline artifacts; relative to the project directory

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value or "\x00" in value or "\n" in value or value.endswith("/"):
            raise ValueError(f"{value!r} is not a file path")
        return value


class VaultTarget(_Model):
    """The document beside the secret, in Vault KV v2 (same server and login as the connector's store)."""

    mount: str = "secret"
    path: str

    _safe = field_validator("mount", "path")(classmethod(lambda cls, v: VaultStore._safe_path(v)))


SSM_NAME_RE = re.compile(r"^/?[A-Za-z0-9_.\-/]{1,1011}$")


class SsmTarget(_Model):
    name: str
    region: str | None = None
    endpoint_url: str | None = None
    tier: Literal["Standard", "Advanced"] = "Standard"

    _endpoint = field_validator("endpoint_url")(classmethod(lambda cls, v: _check_base_url(v)))

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SSM_NAME_RE.match(value) or value.lower().startswith(("/aws", "aws", "/ssm", "ssm")):
            raise ValueError(f"{value!r} is not a usable parameter name (letters, digits, _.-/; not aws*/ssm*)")
        return value


class WebhookTarget(_Model):
    url: str
    notify_on_delete: bool = True

    # https (http to loopback only), no credentials and no query: a token in a URL ends up in logs
    _url = field_validator("url")(classmethod(lambda cls, v: _check_base_url(v)))


class Publish(_Model):
    """Where the connector's non-secret document goes besides the stack outputs."""

    file: FileTarget | None = None
    vault: VaultTarget | None = None
    ssm: SsmTarget | None = None
    webhooks: tuple[WebhookTarget, ...] = Field(default=(), strict=False)  # a JSON array; each target is strict

    @field_validator("webhooks")
    @classmethod
    def _one_per_url(cls, value: tuple[WebhookTarget, ...]) -> tuple[WebhookTarget, ...]:
        urls = [w.url for w in value]
        twice = sorted({u for u in urls if urls.count(u) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} is listed twice; list each receiver once")
        return value


def webhook_key_config_key(connector: str) -> str:
    """The secret config key holding the HMAC key a connector's webhooks are signed with."""
    return f"webhookSigningKey-{connector}"


PAYLOAD_FIELDS = ("clientId", "clientSecret", "projectKey", "region", "scopes", "authUrl", "apiUrl")
JSON_KEY_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class ConnectorConfig(_Model):
    """One connector instance: the integration platform's OAuth 2 (client credentials) form, validated."""

    name: str
    project_key: str
    region: str = DEFAULT_REGION
    auth_url: str | None = None
    api_url: str | None = None
    scopes: tuple[Scope, ...]
    client_id: str | None = None  # None when managed
    client_secret: SecretStr | None = Field(default=None, repr=False)
    managed: ManagedClient | None = None
    publish: Publish = Publish()
    webhook_signing_key: SecretStr | None = Field(default=None, repr=False)
    grant_type: Literal["client_credentials"] = "client_credentials"
    token_key: str = "access_token"
    client_type: Literal["confidential"] = "confidential"
    check_credentials: bool = True
    vault: VaultStore = VaultStore()
    secrets_manager: SecretsManagerStore | None = None
    # Field -> key name in the stored JSON document, for consumers that expect other names.
    secret_keys: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(
                f"{value!r} is not a valid connector name: use 1-48 lowercase letters, digits and '-', "
                "starting and ending with a letter or digit"
            )
        return value

    @field_validator("project_key")
    @classmethod
    def _project_key(cls, value: str) -> str:
        if not PROJECT_KEY_RE.match(value):
            raise ValueError(
                f"{value!r} is not a commercetools project key: 2-36 letters, digits, '_' or '-' "
                "(copy it from your Merchant Center URL)"
            )
        if value == "local":
            raise ValueError("'local' is reserved by commercetools and cannot be a project key")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value in DEPRECATED_REGIONS:
            canonical = DEPRECATED_REGIONS[value]
            warnings.warn(
                f"region {value!r} is a deprecated commercetools host; using {canonical!r} "
                f"(set region: {canonical} to silence this)",
                ConfigWarning,
                stacklevel=2,
            )
            return canonical
        if value not in REGIONS:
            near = closest(value, REGIONS)
            hint = f"did you mean {near}? " if near else ""
            raise ValueError(f"{value!r} is not a commercetools region; {hint}use one of {', '.join(REGIONS)}")
        return value

    _urls = field_validator("auth_url", "api_url")(classmethod(lambda cls, v: _check_base_url(v)))

    @field_validator("scopes", mode="before")
    @classmethod
    def _scopes(cls, value: Any) -> tuple[Scope, ...]:
        if not isinstance(value, (str, list, tuple)):
            raise ValueError("must be a list of scopes or one space-separated string")
        texts = split_scopes(value)
        if any("," in t for t in texts):
            # Separated by commas, `view_orders:pk,view_products:pk` parses as one scope with project key
            # `pk,view_products`: say what the separator is instead.
            parts = [p for t in texts for p in t.split(",") if p]
            raise ValueError(
                "scopes are separated by spaces or given as a list, not by commas: write "
                f"scopes: {' '.join(parts)}  or  scopes: [{', '.join(parts)}]"
            )
        if not texts:
            raise ValueError("must name at least one scope, e.g. view_orders:<projectKey>")
        if len(texts) > MAX_SCOPES:
            raise ValueError(
                f"{len(texts)} scopes; a connector has at most {MAX_SCOPES} (README, 'Capacity'). Give the "
                "integration fewer, broader scopes (a project-wide scope instead of one per store), or split it "
                "into connectors with one job each"
            )
        seen: set[str] = set()
        for text in texts:
            if text in seen:
                raise ValueError(f"scope {text!r} is listed twice; remove the duplicate")
            seen.add(text)
        return tuple(parse_scope(t) for t in texts)

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, value: str | None) -> str | None:
        if value is not None and not CLIENT_ID_RE.match(value):
            raise ValueError(
                "is not a commercetools client ID (letters, digits, '_' and '-'); copy it from the API client page"
            )
        return value

    @field_validator("token_key")
    @classmethod
    def _token_key(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", value):
            raise ValueError(f"{value!r} is not a JSON key name; the default is access_token")
        return value

    @model_validator(mode="after")
    def _scopes_match_project(self, info: ValidationInfo) -> ConnectorConfig:
        # Library arguments (components/args.py) are named as the program wrote them, not as stack config keys.
        library = (info.context or {}).get("style") == "library"
        for scope in self.scopes:
            if scope.project_key != self.project_key:
                raise ValueError(
                    f"scope '{scope}' is for project {scope.project_key!r}, but this connector's projectKey is "
                    f"{self.project_key!r}; write it as {scope.name}:{self.project_key}"
                )
        if (self.auth_url is None) != (self.api_url is None):
            raise ValueError("set both authUrl and apiUrl, or neither (the region then decides both)")
        for key, url, kind in (("authUrl", self.auth_url, "auth"), ("apiUrl", self.api_url, "api")):
            if url is not None and not _may_receive_credentials(url, kind):
                raise ValueError(
                    f"{key if library else f'connectors.{self.name}.{key}'}: {urlsplit(url).hostname} is not a "
                    f"commercetools {kind} host, "
                    "and credentials are sent there (the client secret, for a managed connector the admin "
                    f"client's) during preview, before any policy runs. Remove authUrl and apiUrl (the region "
                    f"decides both), or, for a proxy you run, allow its host in the environment of the pipeline: "
                    f"{ALLOWED_HOSTS_ENV}={urlsplit(url).hostname} (a stack's config cannot allow it)"
                )
        if self.secrets_manager is not None and "vault" in self.model_fields_set:
            raise ValueError("set either vault or secretsManager: a connector keeps its secret in one store")
        if self.publish.webhooks and self.webhook_signing_key is None:
            if library:
                raise ValueError("webhooks are signed with a shared key: set webhook_signing_key (a secret Input)")
            raise ValueError(
                f"{webhook_key_config_key(self.name)}: webhooks are signed with a shared key; run pulumi config set "
                f"--secret {webhook_key_config_key(self.name)} <key of at least 16 characters>"
            )
        if self.managed is not None and self.client_id is not None:
            raise ValueError("a managed connector gets its client from this project: remove clientId (or managed)")
        if self.managed is None and self.client_id is None:
            if library:
                raise ValueError("client_id is required (or managed=ManagedClient(...) to let this project make it)")
            raise ValueError(
                f"connectors.{self.name}.clientId is required: run pulumi config set --path "
                f"'connectors.{self.name}.clientId' <id> (or set connectors.{self.name}.managed to let this project "
                "create the client)"
            )
        seen: dict[VaultLocation, str] = {}
        for key, where in self.vault_locations():
            if where in seen:
                # Both would pass the ownership check (same stack, same connector): one write would silently
                # replace the other, e.g. the published document overwriting the client secret.
                raise ValueError(
                    f"{key} and {seen[where]} name the same Vault secret ({where.mount}/{where.path}); one would "
                    f"overwrite the other. Give {key} its own path"
                )
            seen[where] = key
        return self

    def vault_locations(self) -> list[tuple[str, VaultLocation]]:
        """Every Vault secret this connector writes or reads, with the config key that names it."""
        v = self.vault
        found = []
        if self.store == "vault":
            found.append(("vault.path", VaultLocation(v.address, v.namespace, v.mount, self.vault_path)))
        if self.publish.vault is not None:
            target = self.publish.vault
            found.append(("publish.vault.path", VaultLocation(v.address, v.namespace, target.mount, target.path)))
        admin = self.managed.admin_vault_path if self.managed else None
        if self.managed is not None and admin:
            found.append(
                ("managed.adminVaultPath", VaultLocation(v.address, None, self.managed.admin_vault_mount, admin))
            )
        return found

    @field_validator("secret_keys")
    @classmethod
    def _secret_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for field_name, key in value.items():
            if field_name not in PAYLOAD_FIELDS:
                raise ValueError(f"{field_name!r} is not a payload field; use one of {', '.join(PAYLOAD_FIELDS)}")
            if not JSON_KEY_RE.match(key):
                raise ValueError(f"{key!r} is not a usable key name (1-64 of letters, digits, '_', '-', '.')")
        names = [value.get(f, f) for f in PAYLOAD_FIELDS]
        if len(set(names)) != len(names):
            raise ValueError("two payload fields would be stored under the same key name")
        return value

    @property
    def store(self) -> Literal["vault", "secretsManager"]:
        return "secretsManager" if self.secrets_manager is not None else "vault"

    @property
    def secret_name(self) -> str:
        """The Secrets Manager name (only meaningful when store == secretsManager)."""
        sm = self.secrets_manager
        return (sm.name if sm and sm.name else None) or f"commercetools/{self.name}"

    # Derived, non-secret facts used by resources and outputs.
    @property
    def token_url_base(self) -> str:
        return self.auth_url or f"https://auth.{self.region}.commercetools.com"

    @property
    def api_base(self) -> str:
        return self.api_url or f"https://api.{self.region}.commercetools.com"

    @property
    def scope_string(self) -> str:
        return format_scopes(self.scopes)

    @property
    def vault_path(self) -> str:
        return self.vault.path or f"commercetools/{self.name}"


class StackConfig(_Model):
    connectors: tuple[ConnectorConfig, ...]

    @model_validator(mode="after")
    def _one_writer_per_secret(self) -> StackConfig:
        # Names are unique: they are the keys of the `connectors` map (load_stack_config).
        # Two connectors on one secret fail at `up` (ownership check); say so at preview, before any write.
        # Reading the same admin credentials is fine; writing where another connector reads or writes is not.
        users: dict[VaultLocation, str] = {}
        for c in self.connectors:
            for key, where in c.vault_locations():
                other = users.get(where)
                if other is not None and not (key.endswith("adminVaultPath") and other.endswith("adminVaultPath")):
                    raise ValueError(
                        f"connectors.{c.name}.{key} and {other} name the same Vault secret "
                        f"({where.mount}/{where.path}); give each connector its own path"
                    )
                users.setdefault(where, f"connectors.{c.name}.{key}")
        return self


SecretLookup = Callable[[str], "tuple[str | None, bool]"]
"""Given a config key (without namespace), return (value or None, whether it was stored as a secret)."""


def load_stack_config(connectors: Any, lookup_secret: SecretLookup, *, config_bytes: int = 0) -> StackConfig:
    """Validate raw stack config. Raises ConfigError listing every problem, each with its key and fix.
    `config_bytes`: the whole stack config's size as the engine passed it (encoded_config_size)."""
    too_big = capacity_problem(config_bytes)
    if too_big is not None:
        raise ConfigError(too_big)
    if connectors is None:
        raise ConfigError(
            "connectors is not set. Add at least one connector, e.g.\n"
            "  pulumi config set --path 'connectors.my-connector.projectKey' my-project"
        )
    if isinstance(connectors, list):
        raise ConfigError(_list_given(connectors))
    if not isinstance(connectors, Mapping):
        raise ConfigError(
            f"connectors must be a map of connector name to settings, got {type(connectors).__name__}; "
            "see README, 'Configuration'"
        )
    items = [(str(k), v) for k, v in connectors.items()]
    if not items:
        raise ConfigError("connectors is empty; add at least one connector (see README)")
    if len(items) > MAX_CONNECTORS:
        raise ConfigError(
            f"connectors: {len(items)} connectors; a stack holds at most {MAX_CONNECTORS} (README, 'Capacity'). "
            "Split them across stacks, e.g. one stack per commercetools project or per team"
        )

    problems: list[str] = []
    raw_list: list[dict[str, Any]] = []
    for name, settings in items:
        where = f"connectors.{name}"
        if not isinstance(settings, Mapping):
            problems.append(f"{where}: must be a map of settings (projectKey, scopes, clientId, ...)")
            continue
        entry = dict(settings)
        if "name" in entry:
            problems.append(f"{where}.name: remove it; the map key is the connector's name")
            continue
        entry["name"] = name
        if {"webhookSigningKey", "webhook_signing_key"} & set(entry):
            problems.append(
                f"{where}.webhookSigningKey: never in settings; use pulumi config set --secret "
                f"{webhook_key_config_key(name)} <key>"
            )
            continue
        if "clientSecret" in entry or "client_secret" in entry:
            problems.append(
                f"{where}.clientSecret: never put the secret in the connector settings; remove it and run\n"
                f"  pulumi config set --secret {secret_config_key(name)} <secret>"
            )
            continue
        problems.extend(_attach_secrets(entry, name, lookup_secret))
        raw_list.append(entry)
    config: StackConfig | None = None
    try:
        config = StackConfig.model_validate({"connectors": tuple(raw_list)})
    except ValidationError as exc:
        problems.extend(_explain(exc, raw_list))
    if problems or config is None:
        raise ConfigError(_report(problems))
    return config


def _list_given(connectors: list[Any]) -> str:
    """Why a list is refused, with the map form of what was given. A list entry's `name` would have to stand in
    for the key, and without one the messages would name `connectors.[0]` and a secret key `clientSecret-[0]`
    that no connector can have. Only a valid connector name is echoed: the entries may hold anything."""
    names = [e.get("name") for e in connectors if isinstance(e, Mapping)]
    example = next((n for n in names if isinstance(n, str) and NAME_RE.match(n)), "patchworks")
    return (
        "connectors must be a map of connector name to settings, not a list: the name is the key, e.g.\n"
        f"  connectors:\n    {example}:\n      projectKey: ...\n      scopes: [...]\n      clientId: ...\n"
        "(see README, 'Configuration'). Each connector's secret is then clientSecret-<name>."
    )


def _attach_secrets(entry: dict[str, Any], name: str, lookup_secret: SecretLookup) -> list[str]:
    """Put the connector's secret config (client secret, webhook key) into its entry; return the problems."""
    problems = []
    hook_key, hook_secret = lookup_secret(webhook_key_config_key(name))
    if hook_key is not None:
        if hook_key != hook_key.strip():
            problems.append(_padded(webhook_key_config_key(name)))
        elif not hook_secret:
            problems.append(
                f"{webhook_key_config_key(name)}: stored in plaintext; set it with pulumi config set --secret"
            )
        elif len(hook_key) < 16:
            problems.append(f"{webhook_key_config_key(name)}: too short; use at least 16 random characters")
        else:
            entry["webhookSigningKey"] = hook_key
    value, is_secret = lookup_secret(secret_config_key(name))
    key = secret_config_key(name)
    if entry.get("managed") is not None:  # `managed: null` means not managed: the secret is required
        if value is not None:
            problems.append(f"{key}: remove it; a managed connector's secret is made by this project")
        return problems
    if value is None or value == "":
        problems.append(f"{key}: not set; run\n  pulumi config set --secret {key} <secret>")
    elif value != value.strip():
        problems.append(_padded(key))
        value = value.strip()  # the other settings are still validated (with this stand-in)
    elif not is_secret:
        problems.append(
            f"{key}: stored in plaintext; the client secret must be secret config. Fix it with\n"
            f"  pulumi config rm {key} && pulumi config set --secret {key} <secret>"
        )
    # Validate the other settings too (with a stand-in secret), so one run reports every problem.
    entry["clientSecret"] = value if value and is_secret else "unset"
    return problems


def _padded(key: str) -> str:
    # Not trimmed silently: the engine and pr-summary mask the value as configured, not a trimmed copy of it.
    return (
        f"{key}: starts or ends with whitespace (a copy-paste slip?); set it again without: "
        f"pulumi config set --secret {key} <value>"
    )


def _report(problems: list[str]) -> str:
    head = "invalid stack config" if len(problems) == 1 else f"invalid stack config ({len(problems)} problems)"
    return head + ":\n" + "\n".join(f"- {p}" for p in problems)


def _explain(exc: ValidationError, raw: list[dict[str, Any]]) -> list[str]:
    """Turn pydantic's errors into lines that name the config key and say how to fix it, never the value
    of the secret (pydantic would echo input values; we rebuild every message from the location)."""
    lines = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = list(err["loc"])
        if len(loc) >= 2 and loc[0] == "connectors" and isinstance(loc[1], int):
            key = f"connectors.{raw[loc[1]]['name']}"
            key += "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[2:])
        else:
            key = ".".join(str(p) for p in loc)
        lines.append(f"{key}: {_fix(err, key)}" if key else _fix(err, key))  # stack-wide rules name their keys
    return lines


# Settings with a fixed set of values, and what each is. grantType and clientType alone are fixed by the
# integration platform's form; the others are choices.
_CHOICES = {
    "grantType": "it is fixed by the integration platform, remove the setting or use that value",
    "clientType": "it is fixed by the integration platform, remove the setting or use that value",
    "kvVersion": "the version of the KV secrets engine at vault.mount, as a YAML number (see README, 'Secret stores')",
    "deletePolicy": "what removing the connector does to the stored value (see README, 'Deleting')",
    "tier": "the SSM parameter tier (Advanced for documents over 4 KB)",
}


def _fix(err: Any, key: str) -> str:
    """The fix for one error. Type errors say what `pulumi config set --path` stores: it turns exactly `true`
    and `false` into booleans and digits (without a leading 0) into integers; everything else stays text."""
    kind, msg = err["type"], err["msg"]
    field = str(err["loc"][-1]) if err["loc"] else ""
    if kind == "missing":
        return f"required but not set; run pulumi config set --path '{key}' <value>"
    if kind == "extra_forbidden":
        return "unknown setting; remove it (README, 'Configuration', lists every key)"
    if kind == "literal_error":
        choices = str(msg).removeprefix("Input should be ")
        why = _CHOICES.get(field)
        return f"must be {choices}; {why}" if why else f"must be {choices}"
    if kind == "bool_type":
        return (
            f"must be true or false (a YAML boolean, not a string); set it with pulumi config set --path '{key}' "
            'false (or true: the CLI stores exactly these two as booleans, and no, off or "false" as text)'
        )
    if kind == "int_type":
        return (
            f"must be a whole number (a YAML number, not a string); set it with pulumi config set --path '{key}' "
            "<digits> (the CLI stores digits as a number), or write it unquoted in Pulumi.<stack>.yaml"
        )
    if kind == "float_type":
        return (
            f"must be a number (a YAML number such as 30 or 1.5, not a string); pulumi config set --path '{key}' "
            "<digits> stores a whole number as one, but 1.5 as text: write a fraction unquoted in "
            "Pulumi.<stack>.yaml"
        )
    if kind == "string_type":
        return (
            f'must be text (a YAML string): quote it in Pulumi.<stack>.yaml, e.g. {field}: "12345"; '
            "pulumi config set --path stores digits, true and false as a number or a boolean"
        )
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a map of settings (key: value), e.g. {field}: {{...}}; see README, 'Configuration'"
    if kind in ("tuple_type", "list_type"):
        return f"must be a list, e.g. {field}: [...]; see README, 'Configuration'"
    if kind == "value_error":
        return str(msg).removeprefix("Value error, ")
    return str(msg)
