"""The commercetools scope catalogue and the `{scope}:{projectKey}[:{storeKey}]` grammar.

Facts from the commercetools API reference (see README, "Scopes"). Kept as data so the config model,
the policy pack and the emulator agree on one list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import get_close_matches

_VIEW_MANAGE = [
    "api_clients",
    "approval_flows",
    "approval_rules",
    "associate_roles",
    "attribute_groups",
    "business_units",
    "cart_discounts",
    "categories",
    "channels",
    "customer_groups",
    "customers",
    "discount_codes",
    "key_value_documents",
    "mcp_servers",
    "order_edits",
    "orders",
    "payment_methods",
    "payments",
    "product_discounts",
    "product_selections",
    "product_types",
    "products",
    "project_settings",
    "quote_requests",
    "quotes",
    "recurrence_policies",
    "recurring_orders",
    "shipping_methods",
    "shopping_lists",
    "staged_quotes",
    "standalone_prices",
    "states",
    "stores",
    "tax_categories",
    "types",
    "zones",
    "import_containers",
    "connectors",
    "connectors_deployments",
    "checkout_applications",
    "checkout_payment_integrations",
    "checkout_transactions",
]

CATALOGUE: frozenset[str] = frozenset(
    [f"view_{n}" for n in _VIEW_MANAGE]
    + [f"manage_{n}" for n in _VIEW_MANAGE]
    + ["view_audit_log", "view_messages", "view_published_products"]
    + ["manage_project", "manage_extensions", "manage_subscriptions", "manage_locked_carts"]
    + [
        "manage_my_business_units",
        "manage_my_orders",
        "manage_my_payments",
        "manage_my_profile",
        "manage_my_quote_requests",
        "manage_my_quotes",
        "manage_my_shopping_lists",
    ]
    + ["create_anonymous_token", "introspect_oauth_tokens", "manage_checkout_payment_intents"]
)

_STORE_PAIRS = [
    "business_units",
    "cart_discounts",
    "customers",
    "orders",
    "products",
    "quote_requests",
    "quotes",
    "shopping_lists",
    "staged_quotes",
]
STORE_SCOPABLE: frozenset[str] = frozenset(
    [f"view_{n}" for n in _STORE_PAIRS]
    + [f"manage_{n}" for n in _STORE_PAIRS]
    + ["view_discount_codes", "manage_my_orders", "manage_my_profile", "manage_my_shopping_lists"]
)

# Scopes that grant more than a connector should ever hold (the policy pack and docs refer to these).
PRIVILEGED: frozenset[str] = frozenset({"manage_project", "manage_api_clients"})

PROJECT_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{2,36}$")
# Store keys follow commercetools' key rules: 2-256 of letters, digits, `_` and `-`.
STORE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{2,256}$")


@dataclass(frozen=True, order=True)
class Scope:
    """One parsed scope. `str(scope)` is the wire form."""

    name: str
    project_key: str
    store_key: str | None = None

    def __str__(self) -> str:
        if self.store_key is None:
            return f"{self.name}:{self.project_key}"
        return f"{self.name}:{self.project_key}:{self.store_key}"

    def implied(self) -> frozenset[Scope]:
        """`manage_X` implies `view_X`: a token for it is granted both."""
        out = {self}
        if self.name.startswith("manage_") and f"view_{self.name[7:]}" in CATALOGUE:
            out.add(Scope(f"view_{self.name[7:]}", self.project_key, self.store_key))
        return frozenset(out)


def parse_scope(text: str) -> Scope:
    """Parse one scope; `ValueError` says what is wrong with it (the text is not secret)."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(f"scope {text!r} is not of the form 'name:projectKey' or 'name:projectKey:storeKey'")
    name, project_key = parts[0], parts[1]
    store_key = parts[2] if len(parts) == 3 else None
    if name not in CATALOGUE:
        near = closest(name, CATALOGUE)
        fix = f"did you mean {near}?" if near else "the names are listed in components/scopes.py (CATALOGUE)"
        raise ValueError(f"scope {text!r}: {name!r} is not a commercetools scope name; {fix}")
    if not PROJECT_KEY_RE.match(project_key):
        raise ValueError(f"scope {text!r}: {project_key!r} is not a valid project key")
    if store_key is not None:
        if name not in STORE_SCOPABLE:
            raise ValueError(f"scope {text!r}: {name!r} cannot be limited to a store")
        if not STORE_KEY_RE.match(store_key):
            raise ValueError(f"scope {text!r}: {store_key!r} is not a valid store key")
    return Scope(name, project_key, store_key)


def closest(value: str, choices: frozenset[str] | tuple[str, ...]) -> str | None:
    """The valid name nearest to a typo'd one, if any is near (difflib's default cutoff)."""
    match = get_close_matches(value, sorted(choices), n=1)
    return match[0] if match else None


def split_scopes(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """Accept the form's space-separated string or a list; return the individual scope strings."""
    items = value.split() if isinstance(value, str) else [str(v) for v in value]
    return [s for item in items for s in item.split()]


def format_scopes(scopes: list[Scope] | tuple[Scope, ...] | frozenset[Scope]) -> str:
    """The wire form: space-separated, in a stable order so diffs and hashes are deterministic."""
    return " ".join(str(s) for s in sorted(scopes))


def granted_covers(granted: str, requested: list[Scope] | tuple[Scope, ...]) -> list[Scope]:
    """Return the requested scopes that a token's granted `scope` string does not cover.

    commercetools may add implied scopes, so the test is granted ⊇ requested, not equality.
    """
    have: set[Scope] = set()
    for text in granted.split():
        try:
            have |= parse_scope(text).implied()
        except ValueError:
            continue  # a scope we do not know cannot cover one we asked for
    return [s for s in requested if s not in have]


def holds_manage_project(granted: str) -> bool:
    """Whether a token's granted `scope` is the whole project: such a client gets no narrower token."""
    return any(text.split(":", 1)[0] == "manage_project" for text in granted.split())


def admin_scope_problem(granted: str, project_key: str) -> str | None:
    """Why a token cannot manage API clients of `project_key` (None: it can). `manage_project` does not grant
    the API Clients API, so a token that names it but not manage_api_clients is refused here, at preview,
    rather than by a 403 at the first create."""
    if not granted_covers(granted, [parse_scope(f"manage_api_clients:{project_key}")]):
        return None
    hint = " (manage_project does not grant the API Clients API)" if holds_manage_project(granted) else ""
    return f"its token has no manage_api_clients:{project_key}{hint}"
