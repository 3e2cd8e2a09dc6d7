"""Rotation: a managed API client is rotated on a schedule, and commercetools deletes it server-side if
rotation ever stops, but not before a rotation had its chance.

For ApiClient resources (inputs: connector, project_key, scopes, rotate_after_days,
delete_days_after_creation). `delete_days_after_creation` is commercetools' `deleteDaysAfterCreation`: the
backstop that ends a forgotten credential's life. It must leave `minGraceDays` after the rotation date, so a
rotation that fails once is noticed and rerun before the integration loses its client.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel
from pydantic import Field, model_validator

from ctp_credentials.components.naming import setting

from . import resource_types as t
from .adapters import resource_policy
from .resources import UNKNOWN, Resource, as_int, as_number
from .settings import PolicyConfig

NAME = "api-client-rotation"


class RotationConfig(PolicyConfig):
    min_rotate_after_days: int = Field(default=1, ge=1, description="Shortest rotation period accepted.")
    max_rotate_after_days: int = Field(default=90, ge=1, description="Longest rotation period accepted.")
    max_delete_days_after_creation: int = Field(
        default=180, ge=1, description="Longest server-side lifetime (deleteDaysAfterCreation) accepted."
    )
    min_grace_days: int = Field(
        default=7, ge=0, description="Days the server-side expiry must leave after the rotation date."
    )

    @model_validator(mode="after")
    def _consistent(self) -> RotationConfig:
        if self.min_rotate_after_days > self.max_rotate_after_days:
            raise ValueError("minRotateAfterDays is larger than maxRotateAfterDays; swap or fix them")
        if self.min_rotate_after_days + self.min_grace_days > self.max_delete_days_after_creation:
            raise ValueError(
                "no client can comply: minRotateAfterDays + minGraceDays exceeds maxDeleteDaysAfterCreation"
            )
        return self


def check_rotation(client: Mapping[str, Any], cfg: RotationConfig) -> list[str]:
    name = str(client.get("connector") or "?")
    rotate_raw, delete_raw = client.get("rotate_after_days"), client.get("delete_days_after_creation")
    rotate, delete = as_number(rotate_raw), as_int(delete_raw)  # a rotation period may be fractional (30.5)
    low, high = cfg.min_rotate_after_days, cfg.max_rotate_after_days
    rotate_key = setting(name, "managed.rotateAfterDays")
    delete_key = setting(name, "managed.deleteDaysAfterCreation")
    out: list[str] = []
    if rotate_raw is not UNKNOWN:
        if rotate is None:
            out.append(
                f"connector '{name}': the managed client has no rotation period; set {rotate_key} to {low}-{high}"
            )
        elif not low <= rotate <= high:
            out.append(
                f"connector '{name}': rotation period {rotate:g} days is outside {low}-{high}; set {rotate_key} "
                f"within it (or change min/maxRotateAfterDays in the {NAME} policy config)"
            )
    if delete_raw is not UNKNOWN:
        latest = cfg.max_delete_days_after_creation
        earliest = math.ceil((rotate if rotate is not None else low) + cfg.min_grace_days)
        if delete is None:
            out.append(
                f"connector '{name}': the managed client never expires server-side; set {delete_key} to "
                f"{earliest}-{latest} so a client whose rotation stopped is deleted by commercetools"
            )
        elif delete > latest:
            out.append(
                f"connector '{name}': server-side expiry after {delete} days exceeds {latest}; set {delete_key} "
                f"to at most {latest}"
            )
        elif rotate is not None and delete < earliest:
            out.append(
                f"connector '{name}': server-side expiry after {delete} days leaves less than "
                f"{cfg.min_grace_days} days after rotation at day {rotate:g}; set {delete_key} to at least "
                f"{earliest}, or rotate sooner"
            )
    return out


def validate(resource: Resource, cfg: RotationConfig) -> list[str]:
    return check_rotation(resource.props, cfg)


POLICY = resource_policy(
    name=NAME,
    description="Managed API clients have a rotation period and a server-side expiry within the configured bounds.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config=RotationConfig,
    types={t.API_CLIENT},
    rule=validate,
)
