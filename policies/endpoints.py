"""Where a connector's credentials are sent: official commercetools hosts, in a known region.

Three policies over the CredentialCheck's connector entries and the managed connectors' ApiClient resources
(`region`, `auth_url`, `api_url`; a managed connector sends its admin client's secret to those URLs):

- official endpoints (mandatory): the auth URL receives the client secret on every token request, so a
  typo'd or foreign host would collect it. Custom URLs (the emulator, a local proxy) are for stacks listed in
  `allowedStacks` only.
- known region (mandatory): a region commercetools does not run has no hosts; say so before anything else.
- deprecated region (advisory): the legacy hosts (sphere.io, commercetools.co) still answer; move off them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from pulumi_policy import EnforcementLevel
from pydantic import Field

from ctp_credentials.components.config import DEPRECATED_REGIONS, REGIONS
from ctp_credentials.components.naming import setting

from . import resource_types as t
from .adapters import resource_policy
from .resources import UNKNOWN, Resource, matches_any, shown
from .settings import PolicyConfig

OFFICIAL_ENDPOINTS = "commercetools-official-endpoints"
KNOWN_REGION = "commercetools-known-region"
DEPRECATED_REGION = "commercetools-deprecated-region"


def _deprecated_hosts() -> dict[str, str]:
    """Legacy host -> the region it serves, for both the auth and the API host (`auth.sphere.io`, `api.sphere.io`)."""
    out = {}
    for alias, region in DEPRECATED_REGIONS.items():
        base = alias.removeprefix("auth.")
        out[f"auth.{base}"] = region
        out[f"api.{base}"] = region
    return out


DEPRECATED_HOSTS = _deprecated_hosts()


def official_url(kind: str, region: str) -> str:
    """`kind` is "auth" or "api"."""
    return f"https://{kind}.{region}.commercetools.com"


def official_region(url: str, kind: str) -> tuple[str, bool] | None:
    """(region, deprecated?) if `url` is an official `kind` base URL (https, no port, path, query or
    credentials), else None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != "https" or parts.username or parts.password or port not in (None, 443):
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    host = (parts.hostname or "").lower()
    for region in REGIONS:
        if host == f"{kind}.{region}.commercetools.com":
            return region, False
    if host in DEPRECATED_HOSTS and host.startswith(f"{kind}."):
        return DEPRECATED_HOSTS[host], True
    return None


def _canonical(region: Any) -> str | None:
    if not isinstance(region, str):
        return None
    if region in REGIONS:
        return region
    return DEPRECATED_REGIONS.get(region)


class OfficialEndpointsConfig(PolicyConfig):
    allowed_stacks: tuple[str, ...] = Field(
        default=(),
        description="Stack name patterns (test, demo-*) whose connectors may use custom authUrl/apiUrl "
        "(the emulator, a local proxy). Keep production stacks out of it.",
    )


class RegionConfig(PolicyConfig):
    """No settings: only the enforcement level is configurable."""


def check_official_endpoints(connector: Mapping[str, Any], stack: str, cfg: OfficialEndpointsConfig) -> list[str]:
    name = str(connector.get("connector") or "?")
    region = _canonical(connector.get("region"))
    custom: list[tuple[str, str]] = []  # (what, expected)
    out: list[str] = []
    for kind, field, key in (("auth", "auth_url", "authUrl"), ("api", "api_url", "apiUrl")):
        raw = connector.get(field)
        if raw is UNKNOWN or raw is None:
            continue
        found = official_region(str(raw), kind)
        url = shown(str(raw))
        if found is None:
            expected = official_url(kind, region) if region else f"https://{kind}.<region>.commercetools.com"
            custom.append((f"{key} {url}", expected))
        elif region and found[0] != region:
            out.append(
                f"connector '{name}': {key} {url} serves region {found[0]}, but the connector's region is "
                f"{region}; remove {setting(name, 'authUrl', 'apiUrl')}, or set {setting(name, 'region')} to "
                f"{found[0]}"
            )
    if custom and not matches_any(stack, cfg.allowed_stacks):
        what = " and ".join(w for w, _ in custom)
        expected = " and ".join(e for _, e in custom)
        verb = "is not the official commercetools host" if len(custom) == 1 else "are not the official hosts"
        out.insert(
            0,
            f"connector '{name}': {what} {verb} {expected}; remove {setting(name, 'authUrl', 'apiUrl')} (the "
            f"region then decides both), or, for a test or demo stack only, add '{stack}' to allowedStacks in the "
            f"{OFFICIAL_ENDPOINTS} policy config",
        )
    return out


def check_known_region(connector: Mapping[str, Any]) -> list[str]:
    name = str(connector.get("connector") or "?")
    region = connector.get("region")
    if region is UNKNOWN or _canonical(region) is not None:
        return []
    return [
        f"connector '{name}': region {region!r} is not a commercetools region; set {setting(name, 'region')} "
        f"to one of {', '.join(REGIONS)} (the Merchant Center URL of the project shows it)"
    ]


def check_deprecated_region(connector: Mapping[str, Any]) -> list[str]:
    name = str(connector.get("connector") or "?")
    out: list[str] = []
    region = connector.get("region")
    if isinstance(region, str) and region in DEPRECATED_REGIONS:
        out.append(
            f"connector '{name}': region {region!r} is a deprecated commercetools host; set "
            f"{setting(name, 'region')} to {DEPRECATED_REGIONS[region]}"
        )
    for kind, field, key in (("auth", "auth_url", "authUrl"), ("api", "api_url", "apiUrl")):
        url = connector.get(field)
        if not isinstance(url, str):
            continue
        found = official_region(url, kind)
        if found and found[1]:
            out.append(
                f"connector '{name}': {key} {shown(url)} is a deprecated commercetools host; remove "
                f"{setting(name, 'authUrl', 'apiUrl')} and set {setting(name, 'region')} to {found[0]} (the "
                f"official host is {official_url(kind, found[0])})"
            )
    return out


def _each_connector(check: Callable[[Mapping[str, Any]], list[str]]) -> Callable[[Resource], list[str]]:
    def run(resource: Resource) -> list[str]:
        if resource.type == t.API_CLIENT:
            return check(resource.props)  # a managed connector: one per resource, not in the CredentialCheck
        connectors = resource.props.get("connectors")
        if not isinstance(connectors, Mapping):
            return []
        return [m for entry in connectors.values() if isinstance(entry, Mapping) for m in check(entry)]

    return run


def validate_official_endpoints(resource: Resource, cfg: OfficialEndpointsConfig) -> list[str]:
    return _each_connector(lambda c: check_official_endpoints(c, resource.stack, cfg))(resource)


def validate_known_region(resource: Resource, _cfg: RegionConfig) -> list[str]:
    return _each_connector(check_known_region)(resource)


def validate_deprecated_region(resource: Resource, _cfg: RegionConfig) -> list[str]:
    return _each_connector(check_deprecated_region)(resource)


OFFICIAL_ENDPOINTS_POLICY = resource_policy(
    name=OFFICIAL_ENDPOINTS,
    description="Connectors send their client secret only to the official "
    "https://auth.<region>.commercetools.com and https://api.<region>.commercetools.com hosts.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config=OfficialEndpointsConfig,
    types={t.CREDENTIAL_CHECK, t.API_CLIENT},
    rule=validate_official_endpoints,
)
KNOWN_REGION_POLICY = resource_policy(
    name=KNOWN_REGION,
    description="Connectors name a region commercetools runs.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config=RegionConfig,
    types={t.CREDENTIAL_CHECK, t.API_CLIENT},
    rule=validate_known_region,
)
DEPRECATED_REGION_POLICY = resource_policy(
    name=DEPRECATED_REGION,
    description="Connectors do not use the deprecated commercetools hosts (sphere.io, commercetools.co).",
    enforcement_level=EnforcementLevel.ADVISORY,
    config=RegionConfig,
    types={t.CREDENTIAL_CHECK, t.API_CLIENT},
    rule=validate_deprecated_region,
)
