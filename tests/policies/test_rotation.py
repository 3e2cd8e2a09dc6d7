"""Rotation: managed clients rotate within bounds and expire server-side after a grace period."""

from __future__ import annotations

from typing import Any

import pytest

from ctp_credentials.policies import resource_types as t
from ctp_credentials.policies import rotation as rot
from ctp_credentials.policies.resources import UNKNOWN
from ctp_credentials.policies.rotation import RotationConfig, check_rotation
from tests.policies.builders import PK, reports, resource_args

DEFAULT = RotationConfig()


def client(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "connector": "patchworks",
        "project_key": PK,
        "scopes": [f"view_orders:{PK}"],
        "rotate_after_days": 30.0,
        "delete_days_after_creation": 60.0,
    }
    props.update(overrides)
    return props


def test_compliant_client_passes() -> None:
    assert check_rotation(client(), DEFAULT) == []
    assert check_rotation(client(rotate_after_days=90, delete_days_after_creation=97), DEFAULT) == []


def test_a_fractional_rotation_period_is_a_period() -> None:
    """Config accepts rotateAfterDays: 30.5 (a number); the policy must judge it, not call it missing."""
    assert check_rotation(client(rotate_after_days=30.5, delete_days_after_creation=38), DEFAULT) == []
    (msg,) = check_rotation(client(rotate_after_days=90.5, delete_days_after_creation=180), DEFAULT)
    assert "rotation period 90.5 days is outside 1-90" in msg
    (msg,) = check_rotation(client(rotate_after_days=30.5, delete_days_after_creation=37), DEFAULT)
    assert "at day 30.5" in msg and "at least 38" in msg


def test_missing_rotation_and_expiry_are_refused_with_the_keys() -> None:
    msgs = check_rotation(client(rotate_after_days=None, delete_days_after_creation=None), DEFAULT)
    assert len(msgs) == 2
    assert (
        "no rotation period; set connectors.patchworks.managed.rotateAfterDays "
        "(managed.rotate_after_days in your own program) to 1-90"
    ) in msgs[0]
    assert (
        "never expires server-side; set connectors.patchworks.managed.deleteDaysAfterCreation "
        "(managed.delete_days_after_creation in your own program) to 8-180 so"
    ) in msgs[1]


@pytest.mark.parametrize("days", [0, 91, 365])
def test_rotation_period_out_of_bounds(days: int) -> None:
    msgs = check_rotation(client(rotate_after_days=days, delete_days_after_creation=180), DEFAULT)
    assert any(f"rotation period {days} days is outside 1-90" in m for m in msgs)


def test_expiry_bounds_and_grace() -> None:
    (msg,) = check_rotation(client(delete_days_after_creation=365), DEFAULT)
    assert (
        "exceeds 180; set connectors.patchworks.managed.deleteDaysAfterCreation "
        "(managed.delete_days_after_creation in your own program) to at most 180"
    ) in msg
    (msg,) = check_rotation(client(delete_days_after_creation=33), DEFAULT)
    assert "leaves less than 7 days after rotation at day 30" in msg and "at least 37" in msg


def test_configured_bounds() -> None:
    cfg = RotationConfig.model_validate({"maxRotateAfterDays": 14, "minGraceDays": 0, "maxDeleteDaysAfterCreation": 14})
    assert check_rotation(client(rotate_after_days=14, delete_days_after_creation=14), cfg) == []
    assert check_rotation(client(), cfg) != []


def test_inconsistent_config_is_refused() -> None:
    with pytest.raises(ValueError, match="minRotateAfterDays is larger"):
        RotationConfig(min_rotate_after_days=10, max_rotate_after_days=5)
    with pytest.raises(ValueError, match="no client can comply"):
        RotationConfig(min_rotate_after_days=10, min_grace_days=10, max_delete_days_after_creation=15)


def test_unknown_values_are_left_for_up() -> None:
    assert check_rotation(client(rotate_after_days=UNKNOWN, delete_days_after_creation=UNKNOWN), DEFAULT) == []


def test_policy_matches_api_clients() -> None:
    assert len(reports(rot.POLICY, resource_args(t.API_CLIENT, client(rotate_after_days=None)))) == 1
    assert reports(rot.POLICY, resource_args(t.CREDENTIAL_CHECK, client(rotate_after_days=None))) == []
