"""URL rules shared by config, providers and publishers: https everywhere, plain http to loopback only."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_http_url(value: str) -> str:
    """https, or plain http to a loopback address; no credentials in the URL (they would land in state)."""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL; use e.g. https://auth.europe-west1.gcp.commercetools.com")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not contain credentials (user:password@); credentials come from secret config")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError("must use https (plain http is allowed only for loopback addresses)")
    return value


def canonical_url(value: str | None) -> str | None:
    """One spelling of a base URL: scheme and host in lower case, no trailing '/' (both are insignificant).
    Comparisons of recorded addresses use it, so state written with another spelling is not a new place."""
    if not value:
        return value
    parts = urlsplit(value)
    return urlunsplit(parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower())).rstrip("/")
