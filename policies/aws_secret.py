"""AWS Secrets Manager: a connector's secret is encrypted with a customer-managed KMS key, survives an
accidental delete for a recovery window, and carries ownership tags.

For the SecretsManagerSecret resource (inputs: connector, owner, name, region, endpoint_url, kms_key_id,
description, tags, recovery_window_days, force_delete, ...; stack config `connectors.<name>.secretsManager`, or
`store=SecretsManagerStore(...)` in a program of your own). Why:

- customer-managed key: without `kms_key_id` the secret uses the AWS-managed `aws/secretsmanager` key, which
  anyone with Secrets Manager access in the account can use to decrypt; a customer key's policy decides who
  can, and CloudTrail shows each use.
- recovery window: `pulumi destroy` or a replacement would otherwise delete the secret at once, and every
  consumer breaks with no way back. AWS allows 7-30 days; force delete means none.
- ownership tags: who owns the secret, visible without Pulumi state. The provider writes managed-by,
  pulumi-stack and connector from its `owner` and `connector` inputs (user `tags` may not set them), so the
  rule checks those inputs, plus any organisation tags `requiredTags` asks for in `tags`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel
from pydantic import Field

from ctp_credentials.components.naming import setting

from . import resource_types as t
from .adapters import resource_policy
from .resources import UNKNOWN, Resource, as_int, matches_any
from .settings import PolicyConfig

NAME = "aws-secret-protection"
# Inputs the provider turns into the ownership tags it writes on every secret.
OWNERSHIP_INPUTS = ("owner", "connector")
OWNERSHIP_TAGS = ("managed-by", "pulumi-stack", "connector")


class AwsSecretConfig(PolicyConfig):
    min_recovery_window_days: int = Field(
        default=7, ge=7, le=30, description="Shortest recovery window accepted (AWS allows 7-30 days)."
    )
    recovery_window_exempt_stacks: tuple[str, ...] = Field(
        default=(),
        description="Stack name patterns that may delete secrets without recovery (throwaway test stacks).",
    )
    required_tags: tuple[str, ...] = Field(
        default=(),
        description="Tag keys (cost-center, team) every secret must carry in its tags, with a non-empty value, "
        "besides the ownership tags the provider always writes.",
    )
    allowed_kms_keys: tuple[str, ...] = Field(
        default=(),
        description="KMS key ARNs or aliases secrets may use. Empty: any customer-managed key.",
    )


def _tags(raw: Any) -> dict[str, Any]:
    """Tags as a map, from either a map or AWS's list of {Key, Value}."""
    if isinstance(raw, Mapping):
        return {str(k): v for k, v in raw.items()}
    if isinstance(raw, list):
        out = {}
        for item in raw:
            if isinstance(item, Mapping):
                key = item.get("Key", item.get("key"))
                if isinstance(key, str):
                    out[key] = item.get("Value", item.get("value"))
        return out
    return {}


def aws_managed_key(key_id: str) -> bool:
    """`alias/aws/...` (bare or as an alias ARN) names a key AWS manages, not the customer."""
    return key_id.startswith("alias/aws/") or ":alias/aws/" in key_id


def check_aws_secret(secret: Mapping[str, Any], stack: str, cfg: AwsSecretConfig) -> list[str]:
    name = str(secret.get("connector") or "?")
    kms_key = setting(name, "secretsManager.kmsKeyId")
    out: list[str] = []

    key_id = secret.get("kms_key_id")
    if key_id is not UNKNOWN:
        if not key_id or not isinstance(key_id, str):
            out.append(
                f"connector '{name}': the secret uses the AWS-managed default key aws/secretsmanager; set "
                f"{kms_key} to a customer-managed KMS key (key ARN or alias/<name>)"
            )
        elif aws_managed_key(key_id):
            out.append(
                f"connector '{name}': KMS key {key_id} is AWS-managed; set {kms_key} to a customer-managed KMS "
                "key (key ARN or alias/<name>)"
            )
        elif cfg.allowed_kms_keys and key_id not in cfg.allowed_kms_keys:
            out.append(
                f"connector '{name}': KMS key {key_id} is not an allowed key ({', '.join(cfg.allowed_kms_keys)}); "
                f"set {kms_key} to one of them, or add it to allowedKmsKeys in the {NAME} policy config"
            )

    if not matches_any(stack, cfg.recovery_window_exempt_stacks):
        force = secret.get("force_delete")
        days = as_int(secret.get("recovery_window_days"))
        minimum = cfg.min_recovery_window_days
        if force is True:
            out.append(
                f"connector '{name}': force_delete removes the secret without a recovery window; remove "
                f"{setting(name, 'secretsManager.forceDelete')}, or, for a throwaway stack, add '{stack}' to "
                f"recoveryWindowExemptStacks in the {NAME} policy config"
            )
        elif days is not None and days < minimum:
            out.append(
                f"connector '{name}': recovery window of {days} days is below {minimum}; set "
                f"{setting(name, 'secretsManager.recoveryWindowDays')} to {minimum}-30 (or remove it: AWS "
                "defaults to 30)"
            )

    for field in OWNERSHIP_INPUTS:
        value = secret.get(field)
        if value is not UNKNOWN and (not isinstance(value, str) or not value):
            out.append(
                f"connector '{name}': the secret has no {field!r}, so it cannot carry its ownership tags "
                f"({', '.join(OWNERSHIP_TAGS)}); the program must pass it (CommercetoolsConnector does)"
            )
    tags_raw = secret.get("tags")
    if tags_raw is not UNKNOWN and cfg.required_tags:
        tags = _tags(tags_raw)
        missing = [k for k in cfg.required_tags if tags.get(k) in (None, "")]
        if missing:
            out.append(
                f"connector '{name}': the secret lacks the tags {', '.join(missing)}; set them in "
                f"{setting(name, 'secretsManager.tags')}, or change requiredTags in the {NAME} policy config"
            )
    return out


def validate(resource: Resource, cfg: AwsSecretConfig) -> list[str]:
    store = resource.store_settings("secretsManager")
    return [] if store is None else check_aws_secret(store, resource.stack, cfg)


POLICY = resource_policy(
    name=NAME,
    description="Secrets Manager secrets use a customer-managed KMS key, keep a recovery window and carry "
    "ownership tags.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config=AwsSecretConfig,
    types={t.AWS_SECRET, t.API_CLIENT},
    rule=validate,
)
