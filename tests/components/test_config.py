"""The config model: every rule has a case, every message names the key and the fix, nothing leaks."""

from __future__ import annotations

import copy
import typing
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from ctp_credentials.components.config import (
    ConfigWarning,
    ConnectorConfig,
    ManagedClient,
    StackConfig,
    VaultStore,
    WebhookTarget,
    capacity_problem,
    load_stack_config,
    secret_config_key,
)
from ctp_credentials.components.errors import ConfigError
from ctp_credentials.components.scopes import CATALOGUE, STORE_SCOPABLE, Scope, format_scopes, parse_scope, split_scopes
from tests.conftest import CANARY

pytestmark = pytest.mark.security("bad-input")
PK = "product-patchworks"


def base() -> dict[str, Any]:
    return {
        "patchworks": {
            "projectKey": PK,
            "region": "europe-west1.gcp",
            "scopes": [f"view_orders:{PK}", f"manage_products:{PK}"],
            "clientId": "AbCdEfGhIjKlMnOpQrStUvWx",
        }
    }


def secrets_for(*names: str, secret: bool = True) -> Any:
    table = {secret_config_key(n): (CANARY, secret) for n in names}
    return lambda key: table.get(key, (None, False))


def load(raw: Any, lookup: Any = None) -> Any:
    names = list(raw) if isinstance(raw, dict) else []
    return load_stack_config(raw, lookup or secrets_for(*names))


def test_valid_config_loads_with_defaults() -> None:
    cfg = load(base())
    (c,) = cfg.connectors
    assert c.name == "patchworks"
    assert c.token_url_base == "https://auth.europe-west1.gcp.commercetools.com"
    assert c.api_base == "https://api.europe-west1.gcp.commercetools.com"
    assert (c.grant_type, c.token_key, c.client_type) == ("client_credentials", "access_token", "confidential")
    assert c.scope_string == f"manage_products:{PK} view_orders:{PK}"
    assert c.vault_path == "commercetools/patchworks"
    assert c.client_secret.get_secret_value() == CANARY


def test_region_defaults_and_space_separated_scopes() -> None:
    raw = base()
    del raw["patchworks"]["region"]
    raw["patchworks"]["scopes"] = f"view_orders:{PK}  view_customers:{PK}:berlin-store"
    (c,) = load(raw).connectors
    assert c.region == "europe-west1.gcp"
    assert Scope("view_customers", PK, "berlin-store") in c.scopes


def test_secret_never_in_repr_or_dump() -> None:
    (c,) = load(base()).connectors
    assert CANARY not in repr(c)
    assert CANARY not in str(c)
    assert CANARY not in c.model_dump_json()


@pytest.mark.parametrize("alias", ["sphere.io", "auth.sphere.io", "commercetools.co"])
def test_deprecated_region_alias_warns_and_maps(alias: str) -> None:
    raw = base()
    raw["patchworks"]["region"] = alias
    with pytest.warns(ConfigWarning, match="deprecated"):
        (c,) = load(raw).connectors
    assert c.region in ("europe-west1.gcp", "us-central1.gcp")


def test_loopback_http_override_allowed() -> None:
    raw = base()
    raw["patchworks"].update(authUrl="http://127.0.0.1:8080/", apiUrl="http://localhost:8080")
    (c,) = load(raw).connectors
    assert c.token_url_base == "http://127.0.0.1:8080"


def test_several_connectors() -> None:
    raw = base()
    raw["storefront"] = {**raw["patchworks"], "projectKey": "shop-b", "scopes": "view_products:shop-b"}
    cfg = load(raw)
    assert [c.name for c in cfg.connectors] == ["patchworks", "storefront"]


def _set(path: str, value: Any) -> Any:
    def mutate(raw: dict[str, Any]) -> dict[str, Any]:
        raw = copy.deepcopy(raw)
        node = raw["patchworks"]
        *parents, last = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
        return raw

    return mutate


_DELETE = object()

# (id, mutation of the raw config, the key the message must name, a fragment of the fix it must give)
INVALID: list[tuple[str, Any, str, str]] = [
    ("pk-too-short", _set("projectKey", "p"), "connectors.patchworks.projectKey", "2-36"),
    ("pk-too-long", _set("projectKey", "p" * 37), "connectors.patchworks.projectKey", "2-36"),
    ("pk-bad-char", _set("projectKey", "my project"), "connectors.patchworks.projectKey", "letters"),
    ("pk-reserved", _set("projectKey", "local"), "connectors.patchworks.projectKey", "reserved"),
    ("pk-missing", _set("projectKey", _DELETE), "connectors.patchworks.projectKey", "pulumi config set"),
    ("pk-wrong-type", _set("projectKey", 42), "connectors.patchworks.projectKey", "string"),
    ("region-unknown", _set("region", "mars-north1.gcp"), "connectors.patchworks.region", "europe-west1.gcp"),
    ("region-empty", _set("region", ""), "connectors.patchworks.region", "one of"),
    ("region-china", _set("region", "cn-northwest-1.aws"), "connectors.patchworks.region", "one of"),
    ("scopes-missing", _set("scopes", _DELETE), "connectors.patchworks.scopes", "pulumi config set"),
    ("scopes-empty-list", _set("scopes", []), "connectors.patchworks.scopes", "at least one"),
    ("scopes-empty-str", _set("scopes", "  "), "connectors.patchworks.scopes", "at least one"),
    ("scopes-wrong-type", _set("scopes", 7), "connectors.patchworks.scopes", "list of scopes"),
    ("scope-no-project", _set("scopes", ["view_orders"]), "connectors.patchworks.scopes", "name:projectKey"),
    (
        "scope-unknown-name",
        _set("scopes", [f"view_unicorns:{PK}"]),
        "connectors.patchworks.scopes",
        "not a commercetools",
    ),
    (
        "scope-other-project",
        _set("scopes", ["view_orders:other-project"]),
        "connectors.patchworks",
        f"view_orders:{PK}",
    ),
    (
        "scope-duplicate",
        _set("scopes", [f"view_orders:{PK}", f"view_orders:{PK}"]),
        "connectors.patchworks.scopes",
        "duplicate",
    ),
    (
        "scope-store-not-scopable",
        _set("scopes", [f"manage_categories:{PK}:store"]),
        "connectors.patchworks.scopes",
        "store",
    ),
    ("scope-bad-store-key", _set("scopes", [f"view_orders:{PK}:a b"]), "connectors.patchworks.scopes", "store key"),
    (
        "scope-too-many-parts",
        _set("scopes", [f"view_orders:{PK}:s1:x"]),
        "connectors.patchworks.scopes",
        "name:projectKey",
    ),
    ("scope-empty-part", _set("scopes", [f"view_orders::{PK}"]), "connectors.patchworks.scopes", "name:projectKey"),
    ("grant-password", _set("grantType", "password"), "connectors.patchworks.grantType", "client_credentials"),
    ("client-type-public", _set("clientType", "public"), "connectors.patchworks.clientType", "confidential"),
    ("token-key-bad", _set("tokenKey", "access token"), "connectors.patchworks.tokenKey", "access_token"),
    ("token-key-empty", _set("tokenKey", ""), "connectors.patchworks.tokenKey", "access_token"),
    ("client-id-missing", _set("clientId", _DELETE), "connectors.patchworks.clientId", "pulumi config set"),
    ("client-id-space", _set("clientId", "abc def"), "connectors.patchworks.clientId", "copy it"),
    ("client-id-empty", _set("clientId", ""), "connectors.patchworks.clientId", "copy it"),
    ("auth-url-http", _set("authUrl", "http://auth.example.com"), "connectors.patchworks.authUrl", "https"),
    (
        "auth-url-userinfo",
        _set("authUrl", "https://u:p@auth.example.com"),
        "connectors.patchworks.authUrl",
        "credentials",
    ),
    ("auth-url-query", _set("authUrl", "https://auth.example.com/?x=1"), "connectors.patchworks.authUrl", "base URL"),
    ("auth-url-not-url", _set("authUrl", "auth.example.com"), "connectors.patchworks.authUrl", "https://"),
    (
        "auth-without-api",
        _set("authUrl", "https://auth.example.com"),
        "connectors.patchworks",
        "both authUrl and apiUrl",
    ),
    ("api-url-ftp", _set("apiUrl", "ftp://api.example.com"), "connectors.patchworks.apiUrl", "https://"),
    ("unknown-key", _set("colour", "blue"), "connectors.patchworks.colour", "remove it"),
    ("check-wrong-type", _set("checkCredentials", "maybe"), "connectors.patchworks.checkCredentials", "boolean"),
    ("vault-path-dotdot", _set("vault.path", "../etc/passwd"), "connectors.patchworks.vault.path", "safe KV path"),
    ("vault-path-newline", _set("vault.path", "a\nb"), "connectors.patchworks.vault.path", "safe KV path"),
    ("vault-mount-empty", _set("vault.mount", "/"), "connectors.patchworks.vault.mount", "safe KV path"),
    ("vault-unknown-key", _set("vault.token", "hvs.x"), "connectors.patchworks.vault.token", "remove it"),
    (
        "vault-address-http",
        _set("vault.address", "http://vault.example.com"),
        "connectors.patchworks.vault.address",
        "https",
    ),
    ("secret-in-settings", _set("clientSecret", "x"), "connectors.patchworks.clientSecret", "--secret"),
    ("name-key-given", _set("name", "other"), "connectors.patchworks.name", "remove it"),
]


@pytest.mark.parametrize(("mutate", "key", "fix"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_config_names_key_and_fix(mutate: Any, key: str, fix: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(mutate(base()))
    message = str(err.value)
    assert key in message
    assert fix in message
    assert "Traceback" not in message
    assert CANARY not in message


@pytest.mark.parametrize(
    ("raw", "fix"),
    [
        (None, "connectors is not set"),
        ({}, "connectors is empty"),
        ("patchworks", "must be a map"),
        ({"patchworks": "x"}, "must be a map of settings"),
        ({"Bad Name": base()["patchworks"]}, "not a valid connector name"),
    ],
)
def test_invalid_shape(raw: Any, fix: str) -> None:
    with pytest.raises(ConfigError, match=fix):
        load_stack_config(raw, secrets_for("patchworks", "Bad Name"))


def test_secret_missing() -> None:
    with pytest.raises(ConfigError, match=r"(?s)clientSecret-patchworks: not set.*--secret"):
        load_stack_config(base(), secrets_for())


def test_plaintext_secret_refused_with_fix() -> None:
    with pytest.raises(ConfigError) as err:
        load_stack_config(base(), secrets_for("patchworks", secret=False))
    assert "plaintext" in str(err.value)
    assert "pulumi config set --secret clientSecret-patchworks" in str(err.value)
    assert CANARY not in str(err.value)


@pytest.mark.parametrize("named", [True, False], ids=["with-names", "without-names"])
def test_connectors_as_a_list_is_refused_with_the_map_form(named: bool) -> None:
    """A list once loaded (names from `name` fields, or `[0]`, which made the fix `clientSecret-[0]`)."""
    entry = {**base()["patchworks"], "clientSecret": CANARY} | ({"name": "patchworks"} if named else {})
    asked: list[str] = []

    def lookup(key: str) -> tuple[str | None, bool]:
        asked.append(key)
        return CANARY, True

    with pytest.raises(ConfigError) as err:
        load_stack_config([entry], lookup)
    message = str(err.value)
    assert "must be a map of connector name to settings, not a list" in message
    assert "connectors:\n    patchworks:\n      projectKey: ..." in message
    assert "[0]" not in message and CANARY not in message
    assert asked == []  # refused before any secret is read


def test_a_list_entrys_name_is_echoed_only_when_it_is_a_connector_name() -> None:
    with pytest.raises(ConfigError) as err:
        load_stack_config([{"name": CANARY}], secrets_for())
    assert CANARY not in str(err.value)


def test_all_problems_reported_at_once() -> None:
    raw = base()
    raw["patchworks"]["projectKey"] = "x"
    raw["patchworks"]["region"] = "nowhere"
    with pytest.raises(ConfigError, match=r"2 problems") as err:
        load(raw)
    assert "projectKey" in str(err.value)
    assert "region" in str(err.value)


# --- scopes: property-based ---------------------------------------------------------------------------------
project_keys = st.from_regex(r"[A-Za-z0-9_-]{2,36}", fullmatch=True)
store_keys = st.from_regex(r"[A-Za-z0-9_-]{2,20}", fullmatch=True)


@st.composite
def scopes(draw: st.DrawFn) -> Scope:
    pk = draw(project_keys)
    if draw(st.booleans()):
        return Scope(draw(st.sampled_from(sorted(STORE_SCOPABLE))), pk, draw(store_keys))
    return Scope(draw(st.sampled_from(sorted(CATALOGUE))), pk)


@given(scopes())
def test_scope_round_trip(scope: Scope) -> None:
    assert parse_scope(str(scope)) == scope


@given(st.lists(scopes(), min_size=1, max_size=8, unique=True))
def test_format_then_split_round_trip(items: list[Scope]) -> None:
    text = format_scopes(items)
    assert sorted(parse_scope(s) for s in split_scopes(text)) == sorted(items)
    assert format_scopes([parse_scope(s) for s in split_scopes(text)]) == text


@given(st.text(max_size=80))
def test_parse_scope_never_crashes(text: str) -> None:
    try:
        parse_scope(text)
    except ValueError as exc:
        assert str(exc)


def test_connector_config_model_rejects_unknown_fields_directly() -> None:
    with pytest.raises(ValueError, match="Extra inputs"):
        ConnectorConfig.model_validate({**base()["patchworks"], "name": "x", "clientSecret": "s", "bogus": 1})


# --- Vault paths: one secret, one writer -----------------------------------------------------------------------
def test_publishing_onto_the_secrets_own_path_is_refused() -> None:
    """Both writes belong to the same connector, so the store's ownership check would let the document
    replace the client secret; config refuses it before anything is written."""
    raw = base()
    raw["patchworks"]["publish"] = {"vault": {"path": "commercetools/patchworks"}}  # the default vault.path
    with pytest.raises(ConfigError) as err:
        load(raw)
    message = str(err.value)
    assert "connectors.patchworks: publish.vault.path and vault.path name the same Vault secret" in message
    assert "secret/commercetools/patchworks" in message and "its own path" in message


def test_a_managed_clients_secret_cannot_overwrite_the_admin_credentials() -> None:
    raw = base()
    del raw["patchworks"]["clientId"]
    raw["patchworks"]["managed"] = {"adminVaultPath": "ops/admin"}
    raw["patchworks"]["vault"] = {"path": "ops/admin"}
    with pytest.raises(ConfigError, match=r"managed.adminVaultPath and vault.path name the same Vault secret"):
        load_stack_config(raw, secrets_for())


def test_two_connectors_on_one_vault_path_are_refused_at_config_time() -> None:
    raw = base()
    raw["storefront"] = {**raw["patchworks"], "vault": {"path": "shared/creds"}}
    raw["patchworks"]["vault"] = {"path": "shared/creds"}
    with pytest.raises(ConfigError) as err:
        load(raw)
    assert str(err.value) == (  # a stack-wide rule names its keys itself: no `connectors.x:` before it
        "invalid stack config:\n- connectors.storefront.vault.path and connectors.patchworks.vault.path name the "
        "same Vault secret (secret/shared/creds); give each connector its own path"
    )


def test_shared_admin_credentials_and_other_mounts_are_fine() -> None:
    raw = base()
    for name in ("patchworks", "storefront"):
        raw[name] = {k: v for k, v in base()["patchworks"].items() if k != "clientId"}
        raw[name]["managed"] = {"adminVaultPath": "ops/admin"}
    raw["patchworks"]["publish"] = {"vault": {"mount": "config", "path": "commercetools/patchworks"}}
    assert [c.name for c in load_stack_config(raw, secrets_for()).connectors] == ["patchworks", "storefront"]


def test_managed_null_is_not_managed_and_needs_the_secret() -> None:
    raw = base()
    raw["patchworks"]["managed"] = None
    with pytest.raises(ConfigError, match=r"clientSecret-patchworks: not set"):
        load_stack_config(raw, secrets_for())
    (c,) = load(raw).connectors
    assert c.managed is None and c.client_secret is not None


def test_a_webhook_receiver_listed_twice_is_refused() -> None:
    raw = base()
    raw["patchworks"]["publish"] = {"webhooks": [{"url": "https://hooks.example.com/a"}] * 2}
    lookup = {**{k: (CANARY, True) for k in ("clientSecret-patchworks", "webhookSigningKey-patchworks")}}
    with pytest.raises(ConfigError) as err:
        load_stack_config(raw, lambda key: lookup.get(key, (None, False)))
    assert "connectors.patchworks.publish.webhooks: https://hooks.example.com/a is listed twice" in str(err.value)


@pytest.mark.parametrize(
    "host",
    ["auth.example.com", "auth.europe-west1.gcp.commercetool.com", "auth.europe-west1.gcp.commercetools.com.evil.io"],
)
def test_credentials_never_go_to_a_host_only_stack_config_allowed(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check sends the secret during preview, before the endpoint policy runs: a typo'd or foreign host is
    refused here, unless the pipeline's own environment allows it (a proxy the operator runs)."""
    raw = base()
    raw["patchworks"] |= {"authUrl": f"https://{host}", "apiUrl": "https://api.europe-west1.gcp.commercetools.com"}
    with pytest.raises(ConfigError) as err:
        load(raw)
    message = str(err.value)
    assert f"connectors.patchworks.authUrl: {host} is not a commercetools auth host" in message
    assert f"CTP_ALLOWED_HOSTS={host}" in message and CANARY not in message
    monkeypatch.setenv("CTP_ALLOWED_HOSTS", f"proxy.internal, {host.upper()}")
    assert load(raw).connectors[0].auth_url == f"https://{host}"


def test_official_deprecated_and_loopback_hosts_need_no_allowance() -> None:
    for auth, api in [
        ("https://auth.us-central1.gcp.commercetools.com", "https://api.us-central1.gcp.commercetools.com"),
        ("https://auth.sphere.io", "https://api.sphere.io"),
        ("http://127.0.0.1:8080", "http://localhost:8080"),
    ]:
        raw = base()
        raw["patchworks"] |= {"authUrl": auth, "apiUrl": api}
        assert load(raw).connectors[0].api_url == api


def test_url_scheme_and_host_are_stored_in_lower_case() -> None:
    """The document schema (and every comparison) expects one spelling; HTTPS://Auth... is the same URL."""
    raw = base()
    raw["patchworks"] |= {
        "authUrl": "HTTPS://Auth.Europe-West1.GCP.commercetools.com/",
        "apiUrl": "Https://api.europe-west1.gcp.commercetools.com",
    }
    (c,) = load(raw).connectors
    assert c.auth_url == "https://auth.europe-west1.gcp.commercetools.com"
    assert c.api_url == "https://api.europe-west1.gcp.commercetools.com"


def test_an_expiry_without_rotation_is_refused() -> None:
    raw = base()
    del raw["patchworks"]["clientId"]
    raw["patchworks"]["managed"] = {"deleteDaysAfterCreation": 7}
    with pytest.raises(ConfigError, match=r"deleteDaysAfterCreation without rotateAfterDays.*day 7"):
        load_stack_config(raw, secrets_for())


@pytest.mark.parametrize("key", ["clientSecret-patchworks", "webhookSigningKey-patchworks"])
def test_a_secret_with_whitespace_at_either_end_is_refused_not_trimmed(key: str) -> None:
    """Trimming would hand the engine a value nobody marked secret: the engine and pr-summary mask the value as
    configured, so the trimmed copy would show in plain text (in a check failure, in -v=9 logs)."""
    raw = base()
    raw["patchworks"]["publish"] = {"webhooks": [{"url": "https://hooks.example.com/a"}]}
    padded = f"  {CANARY} "
    values = {
        "clientSecret-patchworks": (CANARY, True),
        "webhookSigningKey-patchworks": (CANARY, True),
        key: (padded, True),
    }
    with pytest.raises(ConfigError) as err:
        load_stack_config(raw, lambda k: values.get(k, (None, False)))
    assert f"{key}: starts or ends with whitespace" in str(err.value) and CANARY not in str(err.value)


# --- types: strict, every wrong type a config error with its fix ------------------------------------------------
def _managed(raw: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    del raw["patchworks"]["clientId"]
    raw["patchworks"]["managed"] = {"rotateAfterDays": 30, "deleteDaysAfterCreation": 90}
    return raw


def _hooked(raw: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    raw["patchworks"]["publish"] = {"webhooks": [{"url": "https://hooks.example.com/a"}]}
    return raw


def _lookup_for(raw: dict[str, Any]) -> Any:
    conn = raw["patchworks"]
    table = {"webhookSigningKey-patchworks": ("k" * 32, True)}
    if conn.get("managed") is None:
        table[secret_config_key("patchworks")] = (CANARY, True)
    return lambda key: table.get(key, (None, False))


def _with(path: str, value: Any, prepare: Any = None) -> dict[str, Any]:
    raw = prepare(base()) if prepare else base()
    node: Any = raw["patchworks"]
    *parents, last = path.split(".")
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
    node[last] = value
    return raw


# (setting, a wrong-typed value, the base it needs). Strings that lax mode would have coerced, and numbers where
# a boolean belongs (and the reverse): each is refused, never read as what it resembles.
BOOLS = [
    ("checkCredentials", "no", None),
    ("checkCredentials", "false", None),
    ("checkCredentials", 0, None),
    ("vault.adopt", "yes", None),
    ("secretsManager.forceDelete", "true", None),
    ("secretsManager.restoreIfDeleted", "off", None),
    ("publish.webhooks.0.notifyOnDelete", "false", _hooked),
]
NUMBERS = [
    ("secretsManager.recoveryWindowDays", "30", None),
    ("secretsManager.recoveryWindowDays", True, None),
    ("secretsManager.recoveryWindowDays", 7.5, None),
    ("managed.rotateAfterDays", "30", _managed),
    ("managed.graceHours", "24", _managed),
    ("managed.graceHours", True, _managed),
    ("managed.deleteDaysAfterCreation", "90", _managed),
    ("managed.accessTokenValiditySeconds", "3600", _managed),
]


def _key(path: str) -> str:
    return "connectors.patchworks." + ".".join(f"[{p}]" if p.isdigit() else p for p in path.split(".")).replace(
        ".[", "["
    )


@pytest.mark.parametrize(("path", "value", "prepare"), BOOLS, ids=[f"{p}={v!r}" for p, v, _ in BOOLS])
def test_a_boolean_setting_takes_only_a_boolean(path: str, value: Any, prepare: Any) -> None:
    raw = _with(path, value, prepare)
    with pytest.raises(ConfigError) as err:
        load_stack_config(raw, _lookup_for(raw))
    message = str(err.value)
    assert f"{_key(path)}: must be true or false (a YAML boolean, not a string)" in message
    assert f"pulumi config set --path '{_key(path)}' false" in message
    assert CANARY not in message


@pytest.mark.parametrize(("path", "value", "prepare"), NUMBERS, ids=[f"{p}={v!r}" for p, v, _ in NUMBERS])
def test_a_number_setting_takes_only_a_number(path: str, value: Any, prepare: Any) -> None:
    raw = _with(path, value, prepare)
    with pytest.raises(ConfigError) as err:
        load_stack_config(raw, _lookup_for(raw))
    message = str(err.value)
    assert f"{_key(path)}: must be a " in message
    assert "(a YAML number" in message and "not a string)" in message
    assert CANARY not in message


def test_the_right_types_still_load_from_json_shapes() -> None:
    """Strict mode and JSON input: arrays become tuples, objects models, YAML integers fill float settings."""
    raw = _hooked(_managed(base()))
    raw["patchworks"]["managed"]["graceHours"] = 2
    raw["patchworks"]["managed"]["accessTokenValiditySeconds"] = 3600
    raw["patchworks"]["publish"]["webhooks"][0]["notifyOnDelete"] = False
    raw["patchworks"]["checkCredentials"] = False
    raw["patchworks"]["vault"] = {"kvVersion": 1, "adopt": True, "deletePolicy": "keep"}
    (c,) = load_stack_config(raw, _lookup_for(raw)).connectors
    assert c.check_credentials is False and c.vault.adopt is True and c.vault.kv_version == 1
    assert c.managed is not None and (c.managed.rotate_after_days, c.managed.grace_hours) == (30.0, 2.0)
    assert isinstance(c.managed.grace_hours, float)
    assert c.publish.webhooks[0].notify_on_delete is False and isinstance(c.publish.webhooks, tuple)
    sm = _with("secretsManager.forceDelete", True)
    sm["patchworks"]["secretsManager"].update(recoveryWindowDays=7, restoreIfDeleted=True)
    (c,) = load(sm).connectors
    assert c.secrets_manager is not None and c.secrets_manager.recovery_window_days == 7


def _models(model: type[BaseModel]) -> set[type[BaseModel]]:
    found = {model}
    for info in model.model_fields.values():
        for arg in typing.get_args(info.annotation) or (info.annotation,):
            for inner in typing.get_args(arg) or (arg,):
                if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in found:
                    found |= _models(inner)
    return found


def test_every_config_model_is_strict_and_only_arrays_are_lax() -> None:
    """So a setting added later is strict too, and `strict=False` is only where a JSON array fills a tuple."""
    models = _models(StackConfig)
    assert {ConnectorConfig, VaultStore, ManagedClient, WebhookTarget} <= models
    for model in models:
        assert model.model_config.get("strict") is True, model.__name__
        for name, info in model.model_fields.items():
            if any(getattr(m, "strict", None) is False for m in info.metadata):
                assert typing.get_origin(info.annotation) is tuple, f"{model.__name__}.{name}"


@pytest.mark.parametrize(
    ("path", "value"),
    [("projectKey", 12345), ("clientId", 12345), ("region", 1), ("vault.mount", 2), ("secretsManager.tags.cost", 5)],
)
def test_a_text_setting_given_a_number_says_to_quote_it(path: str, value: Any) -> None:
    with pytest.raises(ConfigError) as err:
        load(_with(path, value))
    message = str(err.value)
    assert f"{_key(path)}: must be text (a YAML string): quote it in Pulumi.<stack>.yaml" in message
    assert "Input should be" not in message


# --- hints that point the right way -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "value", "fix"),
    [
        ("vault.kvVersion", 3, "must be 1 or 2; the version of the KV secrets engine"),
        ("vault.kvVersion", "1", "must be 1 or 2; the version of the KV secrets engine at vault.mount, as a YAML"),
        ("vault.deletePolicy", "remove", "must be 'keep', 'delete' or 'destroy'; what removing the connector does"),
        ("publish.ssm.tier", "Premium", "must be 'Standard' or 'Advanced'; the SSM parameter tier"),
    ],
)
def test_a_choice_says_what_the_choices_are_not_that_the_platform_fixes_it(path: str, value: Any, fix: str) -> None:
    raw = _with(path, value)
    if path.startswith("publish.ssm"):
        raw["patchworks"]["publish"]["ssm"]["name"] = "/commercetools/patchworks"
    with pytest.raises(ConfigError) as err:
        load(raw)
    assert f"{_key(path)}: {fix}" in str(err.value)
    assert "integration platform" not in str(err.value)


@pytest.mark.parametrize("field", ["grantType", "clientType"])
def test_the_platforms_fixed_values_say_so(field: str) -> None:
    with pytest.raises(ConfigError, match=f"{field}: must be '.*'; it is fixed by the integration platform"):
        load(_with(field, "other"))


@pytest.mark.parametrize(
    "scopes",
    [
        f"view_orders:{PK},view_products:{PK}",
        [f"view_orders:{PK},view_products:{PK}"],
        f"view_orders:{PK}, view_products:{PK}",
    ],
)
def test_comma_separated_scopes_say_what_the_separator_is(scopes: Any) -> None:
    with pytest.raises(ConfigError) as err:
        load(_with("scopes", scopes))
    message = str(err.value)
    assert "connectors.patchworks.scopes: scopes are separated by spaces or given as a list, not by commas" in message
    assert f"scopes: view_orders:{PK} view_products:{PK}" in message
    assert "project key" not in message


@pytest.mark.parametrize(
    ("path", "value", "near"),
    [
        ("region", "europe-west1.gpc", "did you mean europe-west1.gcp?"),
        ("region", "us-east2.aws", "did you mean us-east-2.aws?"),
        ("scopes", [f"manage_product:{PK}"], "did you mean manage_products?"),
        ("scopes", [f"veiw_orders:{PK}"], "did you mean view_orders?"),
    ],
)
def test_a_typo_names_the_closest_valid_value(path: str, value: Any, near: str) -> None:
    with pytest.raises(ConfigError, match=near.replace("?", r"\?")):
        load(_with(path, value))


def test_a_name_near_nothing_says_where_the_names_are() -> None:
    with pytest.raises(ConfigError) as err:
        load(_with("scopes", [f"xyzzy:{PK}"]))
    assert "did you mean" not in str(err.value) and "components/scopes.py" in str(err.value)
    with pytest.raises(ConfigError) as err:
        load(_with("region", "zz"))
    assert "did you mean" not in str(err.value) and "use one of europe-west1.gcp" in str(err.value)


@pytest.mark.parametrize(
    ("url", "kind", "allowed", "may"),
    [
        ("https://auth.europe-west1.gcp.commercetools.com", "auth", "", True),
        ("https://AUTH.us-east-2.aws.commercetools.com/", "auth", "", True),  # host names have no case
        ("https://api.australia-southeast1.gcp.commercetools.com", "api", "", True),
        ("https://api.europe-west1.gcp.commercetools.com", "auth", "", False),  # the API host is not the auth host
        ("https://auth.sphere.io", "auth", "", True),  # deprecated, still answering
        ("https://api.sphere.io", "api", "", True),
        ("https://auth.commercetools.co", "auth", "", True),
        ("https://commercetools.co", "auth", "", False),
        ("https://auth.europe-west1.gcp.commercetools.com.evil.example", "auth", "", False),
        ("http://127.0.0.1:8080", "auth", "", True),
        ("http://localhost", "api", "", True),
        ("https://proxy.internal", "auth", "", False),
        ("https://proxy.internal", "auth", " other.internal , PROXY.internal ", True),
        ("https://proxy.internal", "auth", "proxy.internal.evil", False),
        ("https://", "auth", "", False),
    ],
)
def test_which_hosts_may_receive_the_credentials(
    url: str, kind: str, allowed: str, may: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hosts a preview may send a secret to, before any policy runs (config._may_receive_credentials)."""
    monkeypatch.setenv("CTP_ALLOWED_HOSTS", allowed)
    from ctp_credentials.components.config import _may_receive_credentials

    assert _may_receive_credentials(url, kind) is may


def test_the_scope_grammar_corners() -> None:
    from ctp_credentials.components.scopes import Scope, admin_scope_problem, granted_covers, parse_scope

    implied = parse_scope(f"manage_orders:{PK}:store-1").implied()
    assert implied == {Scope("manage_orders", PK, "store-1"), Scope("view_orders", PK, "store-1")}
    assert parse_scope(f"view_orders:{PK}").implied() == {Scope("view_orders", PK, None)}
    # an unknown scope in the grant is skipped, not the end of the grant
    assert granted_covers(f"not_a_scope:{PK} view_orders:{PK}", [parse_scope(f"view_orders:{PK}")]) == []
    with pytest.raises(ValueError) as unknown:
        parse_scope(f"fly_to_moon:{PK}")
    assert str(unknown.value) == (
        f"scope 'fly_to_moon:{PK}': 'fly_to_moon' is not a commercetools scope name; the names are listed in "
        "components/scopes.py (CATALOGUE)"
    )
    with pytest.raises(ValueError) as key:
        parse_scope("view_orders:x")
    assert str(key.value) == "scope 'view_orders:x': 'x' is not a valid project key"
    assert admin_scope_problem(f"view_orders:{PK}", PK) == f"its token has no manage_api_clients:{PK}"
    with_hint = admin_scope_problem(f"manage_project:{PK}", PK)
    assert with_hint is not None and with_hint.endswith(" (manage_project does not grant the API Clients API)")


SET = "pulumi config set --path"
KIND_MESSAGES = [
    ({"colour": "red"}, "colour: unknown setting; remove it (README, 'Configuration', lists every key)"),
    (
        {"grantType": "password"},
        "grantType: must be 'client_credentials'; it is fixed by the integration platform, remove the setting or "
        "use that value",
    ),
    (
        {"vault": {"path": "p", "deletePolicy": "shred"}},
        "vault.deletePolicy: must be 'keep', 'delete' or 'destroy'; what removing the connector does to the stored "
        "value (see README, 'Deleting')",
    ),
    (
        {"checkCredentials": "no"},
        f"checkCredentials: must be true or false (a YAML boolean, not a string); set it with {SET} "
        "'connectors.patchworks.checkCredentials' false (or true: the CLI stores exactly these two as booleans, "
        'and no, off or "false" as text)',
    ),
    (
        {"clientId": 12345},
        'clientId: must be text (a YAML string): quote it in Pulumi.<stack>.yaml, e.g. clientId: "12345"; '
        f"{SET} stores digits, true and false as a number or a boolean",
    ),
    (
        {"vault": "secret/p"},
        "vault: must be a map of settings (key: value), e.g. vault: {...}; see README, 'Configuration'",
    ),
    (  # a plain map (not a model) is pydantic's dict_type
        {"secretKeys": "clientId=id"},
        "secretKeys: must be a map of settings (key: value), e.g. secretKeys: {...}; see README, 'Configuration'",
    ),
    ({"authUrl": "https://auth.example.com/?x=1"}, "authUrl: must be a base URL without query or fragment"),
    (
        {"vault": {"address": "https://vault.example.com#f"}},
        "vault.address: must be a base URL without query or fragment",
    ),
    # the snake_case spelling is accepted too (populate_by_name) and named as the user wrote it
    ({"vault": {"kv_version": 3}}, "vault.kv_version: must be 1 or 2"),
]
MANAGED_KIND_MESSAGES = [
    (
        {"managed": {"accessTokenValiditySeconds": "3600"}},
        f"managed.accessTokenValiditySeconds: must be a whole number (a YAML number, not a string); set it with "
        f"{SET} 'connectors.patchworks.managed.accessTokenValiditySeconds' <digits> (the CLI stores digits as a "
        "number), or write it unquoted in Pulumi.<stack>.yaml",
    ),
    (
        {"managed": {"rotateAfterDays": "30"}},
        "managed.rotateAfterDays: must be a number (a YAML number such as 30 or 1.5, not a string); "
        f"{SET} 'connectors.patchworks.managed.rotateAfterDays' <digits> stores a whole number as one, but 1.5 as "
        "text: write a fraction unquoted in Pulumi.<stack>.yaml",
    ),
    (
        {"managed": {}, "publish": {"webhooks": "x"}},
        "publish.webhooks: must be a list, e.g. webhooks: [...]; see README, 'Configuration'",
    ),
    # a bound has no fix of its own: pydantic's text, which names the bound
    ({"managed": {"rotateAfterDays": 0}}, "managed.rotateAfterDays: Input should be greater than 0"),
]


@pytest.mark.parametrize(("change", "line"), KIND_MESSAGES, ids=[c[1].split(":")[0] for c in KIND_MESSAGES])
def test_each_kind_of_mistake_gets_its_own_fix(change: dict[str, Any], line: str) -> None:
    raw = base()
    raw["patchworks"].update(change)
    with pytest.raises(ConfigError) as err:
        load(raw)
    assert str(err.value) == f"invalid stack config:\n- connectors.patchworks.{line}"


@pytest.mark.parametrize(
    ("change", "line"), MANAGED_KIND_MESSAGES, ids=[c[1].split(":")[0] for c in MANAGED_KIND_MESSAGES]
)
def test_each_kind_of_mistake_in_a_managed_connector_gets_its_own_fix(change: dict[str, Any], line: str) -> None:
    raw = base()
    del raw["patchworks"]["clientId"]
    raw["patchworks"].update(change)
    with pytest.raises(ConfigError) as err:
        load(raw, secrets_for())
    assert str(err.value) == f"invalid stack config:\n- connectors.patchworks.{line}"


def test_a_missing_key_says_how_to_set_it() -> None:
    raw = base()
    del raw["patchworks"]["projectKey"]
    with pytest.raises(ConfigError) as err:
        load(raw)
    assert str(err.value) == (
        "invalid stack config:\n- connectors.patchworks.projectKey: required but not set; run pulumi config set "
        "--path 'connectors.patchworks.projectKey' <value>"
    )


VAULT_AT = {"address": "https://vault.example.com", "namespace": "team-a"}


def test_one_vault_secret_is_one_server_namespace_mount_and_path() -> None:
    """Paths only clash on the same server and namespace; named explicitly, each part counts."""
    for other in ({"address": "https://vault-2.example.com"}, {"namespace": "team-b"}):
        raw = base()
        raw["storefront"] = {**raw["patchworks"], "vault": {**VAULT_AT, **other, "path": "shared/creds"}}
        raw["patchworks"]["vault"] = {**VAULT_AT, "path": "shared/creds"}
        assert [c.name for c in load(raw).connectors] == ["patchworks", "storefront"]


@pytest.mark.parametrize("where", [{"address": VAULT_AT["address"]}, VAULT_AT], ids=["address", "namespace"])
def test_a_connector_cannot_publish_onto_its_own_secret_on_a_named_server(where: dict[str, str]) -> None:
    raw = base()
    raw["patchworks"]["vault"] = {**where, "path": "commercetools/patchworks"}
    raw["patchworks"]["publish"] = {"vault": {"path": "commercetools/patchworks"}}
    with pytest.raises(ConfigError, match=r"publish\.vault\.path and vault\.path name the same Vault secret"):
        load(raw)


def test_a_managed_client_cannot_overwrite_admin_credentials_on_a_named_server() -> None:
    raw = base()
    del raw["patchworks"]["clientId"]
    raw["patchworks"]["managed"] = {"adminVaultPath": "ops/admin"}
    raw["patchworks"]["vault"] = {"address": VAULT_AT["address"], "path": "ops/admin"}
    with pytest.raises(ConfigError, match=r"managed.adminVaultPath and vault.path name the same Vault secret"):
        load_stack_config(raw, secrets_for())


def test_a_list_of_connectors_is_refused_with_the_map_it_should_be() -> None:
    with pytest.raises(ConfigError) as err:
        load_stack_config([{"name": "erp-sync", "projectKey": PK}, "junk"], secrets_for())
    assert str(err.value) == (
        "connectors must be a map of connector name to settings, not a list: the name is "
        "the key, e.g.\n  connectors:\n    erp-sync:\n      projectKey: ...\n      scopes: [...]\n      clientId: "
        "...\n(see README, 'Configuration'). Each connector's secret is then clientSecret-<name>."
    )


def test_operator_allowed_hosts_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTP_ALLOWED_HOSTS", "auth.proxy.example.com,api.proxy.example.com")
    raw = base()
    raw["patchworks"] |= {"authUrl": "https://auth.proxy.example.com", "apiUrl": "https://api.proxy.example.com"}
    (c,) = load(raw).connectors
    assert (c.auth_url, c.api_url) == ("https://auth.proxy.example.com", "https://api.proxy.example.com")


def test_connectors_that_are_not_a_map_of_connectors_are_told_apart() -> None:
    told = {}
    shapes: tuple[Any, ...] = (None, "x", {})
    for connectors in shapes:
        with pytest.raises(ConfigError) as err:
            load_stack_config(connectors, secrets_for())
        told[repr(connectors)] = str(err.value)
    assert told == {
        "None": "connectors is not set. Add at least one connector, e.g.\n  pulumi config set --path "
        "'connectors.my-connector.projectKey' my-project",
        "'x'": "connectors must be a map of connector name to settings, got str; see README, 'Configuration'",
        "{}": "connectors is empty; add at least one connector (see README)",
    }


@pytest.mark.parametrize(
    ("client_secret", "signing_key"),
    [("clientSecret", "webhookSigningKey"), ("client_secret", "webhook_signing_key")],
    ids=["camelCase", "snake_case"],  # the model takes either spelling (populate_by_name)
)
def test_secrets_written_into_the_settings_are_refused_for_every_connector(
    client_secret: str, signing_key: str
) -> None:
    raw = base()
    raw["storefront"] = {**raw["patchworks"], signing_key: CANARY}
    raw["patchworks"][client_secret] = CANARY
    with pytest.raises(ConfigError) as err:
        load(raw)
    assert str(err.value) == (
        "invalid stack config (2 problems):\n"
        "- connectors.patchworks.clientSecret: never put the secret in the connector settings; remove it and run\n"
        "  pulumi config set --secret clientSecret-patchworks <secret>\n"
        "- connectors.storefront.webhookSigningKey: never in settings; use pulumi config set --secret "
        "webhookSigningKey-storefront <key>"
    )


def test_a_connector_refused_before_validation_does_not_hide_the_next_ones() -> None:
    good = base()["patchworks"]
    raw = {
        "a": "x",
        "b": {**good, "name": "other"},
        "c": {**good, "webhookSigningKey": CANARY},
        "d": {**good, "clientSecret": CANARY},
        "e": {**good, "colour": 1},
    }
    with pytest.raises(ConfigError) as err:
        load(raw)
    assert str(err.value) == (
        "invalid stack config (5 problems):\n"
        "- connectors.a: must be a map of settings (projectKey, scopes, clientId, ...)\n"
        "- connectors.b.name: remove it; the map key is the connector's name\n"
        "- connectors.c.webhookSigningKey: never in settings; use pulumi config set --secret "
        "webhookSigningKey-c <key>\n"
        "- connectors.d.clientSecret: never put the secret in the connector settings; remove it and run\n"
        "  pulumi config set --secret clientSecret-d <secret>\n"
        "- connectors.e.colour: unknown setting; remove it (README, 'Configuration', lists every key)"
    )
    assert CANARY not in str(err.value)


def test_a_managed_connector_refuses_a_client_secret_in_config() -> None:
    raw = base()
    del raw["patchworks"]["clientId"]
    raw["patchworks"]["managed"] = {}
    with pytest.raises(ConfigError) as err:
        load(raw)  # clientSecret-patchworks is set
    assert str(err.value) == (
        "invalid stack config:\n- clientSecret-patchworks: remove it; a managed connector's secret is made by this "
        "project"
    )


def test_problems_of_several_connectors_are_all_listed() -> None:
    raw = base()
    raw["storefront"] = {**raw["patchworks"], "size": 2}
    raw["patchworks"]["colour"] = 1
    with pytest.raises(ConfigError) as err:
        load(raw)
    unknown = "unknown setting; remove it (README, 'Configuration', lists every key)"
    assert str(err.value) == (
        f"invalid stack config (2 problems):\n- connectors.patchworks.colour: {unknown}\n"
        f"- connectors.storefront.size: {unknown}"
    )


def test_a_webhook_signing_key_is_secret_and_16_characters_or_more() -> None:
    raw = base()
    raw["patchworks"]["publish"] = {"webhooks": [{"url": "https://hooks.example.com/a"}]}

    def with_key(key: str, secret: bool = True) -> Any:
        return lambda k: (CANARY, True) if k == "clientSecret-patchworks" else (key, secret)

    assert load(raw, with_key("k" * 16)).connectors[0].name == "patchworks"
    for key, secret, problem in (
        ("k" * 15, True, "too short; use at least 16 random characters"),
        ("k" * 20, False, "stored in plaintext; set it with pulumi config set --secret"),
    ):
        with pytest.raises(ConfigError) as err:
            load(raw, with_key(key, secret))
        assert str(err.value).startswith(
            f"invalid stack config (2 problems):\n- webhookSigningKey-patchworks: {problem}\n"
        )


def test_an_empty_secret_is_not_set() -> None:
    with pytest.raises(ConfigError) as err:
        load(base(), lambda k: ("", True) if k == "clientSecret-patchworks" else (None, False))
    assert str(err.value) == (
        "invalid stack config:\n- clientSecret-patchworks: not set; run\n  pulumi config set --secret "
        "clientSecret-patchworks <secret>"
    )


def test_the_capacity_message_says_the_size_the_limits_and_the_way_out() -> None:
    assert capacity_problem(200_000) == (
        "the stack config is 200,000 bytes as the engine passes it to the program and the policy pack; this project "
        "accepts at most 98,304 (the engine itself fails above 131,057: Linux limits one environment variable to "
        "128 KiB). Split the connectors across stacks, e.g. one stack per commercetools project or per team "
        "(README, 'Capacity')"
    )
