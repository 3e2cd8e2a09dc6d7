"""The commercetools scope catalogue and the rules for parsing scope strings.

Kept apart from the state so both the token endpoint and the API Clients draft validation apply the very
same rules (reference: "Scopes").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_PAIRS = [
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

_SINGLES = [
    "view_audit_log",
    "view_messages",
    "view_published_products",
    "manage_project",
    "manage_extensions",
    "manage_subscriptions",
    "manage_locked_carts",
    "manage_my_business_units",
    "manage_my_orders",
    "manage_my_payments",
    "manage_my_profile",
    "manage_my_quote_requests",
    "manage_my_quotes",
    "manage_my_shopping_lists",
    "create_anonymous_token",
    "introspect_oauth_tokens",
    "manage_checkout_payment_intents",
]

#: Every scope name the emulator accepts. view_/manage_sessions are left out: the reference marks them unconfirmed.
SCOPE_NAMES: frozenset[str] = frozenset([f"{verb}_{noun}" for noun in _PAIRS for verb in ("view", "manage")] + _SINGLES)

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

#: Scope names that may carry a store key (`name:projectKey:storeKey`).
STORE_SCOPABLE: frozenset[str] = frozenset(
    [f"{verb}_{noun}" for noun in _STORE_PAIRS for verb in ("view", "manage")]
    + ["view_discount_codes", "manage_my_orders", "manage_my_profile", "manage_my_shopping_lists"]
)

_PROJECT_KEY = re.compile(r"[A-Za-z0-9_-]{2,36}")
# Store keys follow the general commercetools key rule (2-256 characters); the reference does not list them.
_STORE_KEY = re.compile(r"[A-Za-z0-9_-]{2,256}")


class ScopeSyntaxError(ValueError):
    """A scope string that is malformed or names no known scope."""


def is_valid_project_key(key: str) -> bool:
    """Project keys: 2-36 letters, digits, `_` or `-`, and never the reserved `local`."""
    return _PROJECT_KEY.fullmatch(key) is not None and key != "local"


@dataclass(frozen=True, order=True)
class Scope:
    """One parsed scope; frozen and ordered so sets of scopes sort into a stable token `scope` string."""

    name: str
    project_key: str
    store_key: str | None = None

    def __str__(self) -> str:
        if self.store_key is None:
            return f"{self.name}:{self.project_key}"
        return f"{self.name}:{self.project_key}:{self.store_key}"

    @classmethod
    def parse(cls, text: str) -> Scope:
        """Parse `name:projectKey[:storeKey]`, rejecting what commercetools calls a malformed scope."""
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise ScopeSyntaxError(text)
        name, project_key = parts[0], parts[1]
        store_key = parts[2] if len(parts) == 3 else None
        if name not in SCOPE_NAMES or not is_valid_project_key(project_key):
            raise ScopeSyntaxError(text)
        if store_key is not None and (name not in STORE_SCOPABLE or _STORE_KEY.fullmatch(store_key) is None):
            raise ScopeSyntaxError(text)
        return cls(name, project_key, store_key)

    def implied(self) -> frozenset[Scope]:
        """This scope plus what it implies: `manage_X` grants `view_X` (for the same store, if any)."""
        result = {self}
        if self.name.startswith("manage_"):
            view = "view_" + self.name.removeprefix("manage_")
            if view in SCOPE_NAMES and (self.store_key is None or view in STORE_SCOPABLE):
                result.add(Scope(view, self.project_key, self.store_key))
        return frozenset(result)


def parse_scopes(text: str) -> tuple[Scope, ...]:
    """Parse a space-separated scope list; raises ScopeSyntaxError on the first bad entry."""
    return tuple(Scope.parse(part) for part in text.split())


def expand(scopes: Iterable[Scope]) -> frozenset[Scope]:
    """All scopes including implied view_ scopes, as commercetools returns them in a token's `scope`."""
    result: set[Scope] = set()
    for scope in scopes:
        result |= scope.implied()
    return frozenset(result)


def format_scopes(scopes: Iterable[Scope]) -> str:
    """A stable, space-separated scope string."""
    return " ".join(str(scope) for scope in sorted(set(scopes)))
