"""The type tokens the pack matches resources by, in one place.

A dynamic resource declared as `class X(Resource, module="m", name="N")` registers as
`pulumi-python:dynamic/m:N`; tests/policies/test_resource_types.py checks the tokens of the classes that exist.
"""

from __future__ import annotations

STACK = "pulumi:pulumi:Stack"
CONNECTOR = "ctp:index:CommercetoolsConnector"
CREDENTIAL_CHECK = "pulumi-python:dynamic/commercetools:CredentialCheck"
VAULT_KV_SECRET = "pulumi-python:dynamic/vault:KvSecret"
AWS_SECRET = "pulumi-python:dynamic/aws:SecretsManagerSecret"
# A managed connector's client (components/providers/api_client.py).
API_CLIENT = "pulumi-python:dynamic/commercetools:ApiClient"

# Resources whose inputs hold a connector's client secret (the "no secret in outputs" rule collects them here).
SECRET_HOLDERS = frozenset({CREDENTIAL_CHECK, VAULT_KV_SECRET, AWS_SECRET, API_CLIENT})
# Resources whose outputs are meant to be read by others and must never carry a secret.
PUBLIC_OUTPUTS = frozenset({STACK, CONNECTOR})
