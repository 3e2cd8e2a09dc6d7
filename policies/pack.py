"""The pack's policies, in the order the CLI lists them. `__main__.py` hands this list to `PolicyPack`."""

from __future__ import annotations

from pulumi_policy import Policy

from . import aws_secret, credential_check, endpoints, least_privilege, outputs, rotation, vault_store

NAME = "ctp-credentials"

POLICIES: list[Policy] = [
    least_privilege.POLICY,
    endpoints.OFFICIAL_ENDPOINTS_POLICY,
    endpoints.KNOWN_REGION_POLICY,
    endpoints.DEPRECATED_REGION_POLICY,
    vault_store.POLICY,
    aws_secret.POLICY,
    credential_check.PRODUCTION_POLICY,
    credential_check.ENABLED_POLICY,
    credential_check.COVERAGE_POLICY,
    rotation.POLICY,
    outputs.POLICY,
]
