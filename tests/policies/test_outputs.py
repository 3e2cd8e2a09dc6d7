"""No secret in outputs: every string of the stack's and the connector documents' outputs is compared with the
client secrets in our resources' inputs."""

from __future__ import annotations

from typing import Any

from ctp_credentials.policies import outputs as out
from ctp_credentials.policies import resource_types as t
from ctp_credentials.policies.outputs import collect_secrets, leaks
from ctp_credentials.policies.resources import UNKNOWN
from tests.conftest import CANARY
from tests.policies.builders import connector, reports, stack_args


def test_collect_secrets_names_the_connector() -> None:
    check = {"connectors": {"a": connector("a", client_secret=CANARY), "b": connector("b", client_secret="short")}}
    assert collect_secrets(check) == {CANARY: "a"}  # too short to be one of our secrets: ignored
    kv = {"connector": "c", "data": {"clientSecret": "kv-" + CANARY, "clientId": "id"}}
    assert collect_secrets(kv) == {"kv-" + CANARY: "c"}
    client = {"connector": "m", "client_secret": UNKNOWN}
    assert collect_secrets(client) == {}
    # a secret no `connector` key claims is still collected, as the unnamed connector '?'
    assert collect_secrets({"client_secret": CANARY}) == {CANARY: "?"}


def test_leaks_finds_secrets_inside_longer_strings_and_lists() -> None:
    outputs = {"dsn": f"ctp://id:{CANARY}@host", "list": ["x", {"deep": CANARY}], "fine": "nothing"}
    assert leaks(outputs, {CANARY: "a"}) == [("dsn", "a"), ("list[1].deep", "a")]


def resources(stack_outputs: dict[str, Any], document: Any = UNKNOWN) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (t.STACK, "commercetools-credentials-dev", stack_outputs),
        (t.CONNECTOR, "patchworks", {"config": document}),
        (t.CREDENTIAL_CHECK, "credential-check", {"connectors": {"patchworks": connector(client_secret=CANARY)}}),
        (t.VAULT_KV_SECRET, "patchworks-secret", {"connector": "patchworks", "data": {"clientSecret": CANARY}}),
    ]


def test_clean_outputs_and_unknown_documents_pass() -> None:
    clean = {"connectors": {"patchworks": {"clientId": "id", "secretRef": {"path": "commercetools/patchworks"}}}}
    assert reports(out.POLICY, stack_args(resources(clean))) == []
    assert reports(out.POLICY, stack_args(resources({"connectors": UNKNOWN}))) == []


def test_a_leaking_stack_output_fails_without_repeating_the_secret() -> None:
    ((msg, urn),) = reports(out.POLICY, stack_args(resources({"debug": f"secret={CANARY}"})))
    assert "stack output 'debug' contains the client secret of connector 'patchworks'" in msg
    assert msg == (
        "stack output 'debug' contains the client secret of connector 'patchworks'; remove it from the outputs "
        "(what the program passes to pulumi.export, or a component to register_outputs). Consumers read the secret "
        "from the store that secretRef names in the connector's document (CommercetoolsConnector's config output)"
    )
    assert CANARY not in msg
    assert urn is not None and "pulumi:pulumi:Stack" in urn


def test_a_leaking_connector_document_fails() -> None:
    found = reports(out.POLICY, stack_args(resources({}, document={"clientSecret": CANARY})))
    ((msg, _),) = found
    assert f"output 'config.clientSecret' of {t.CONNECTOR} 'patchworks'" in msg


def test_other_resources_outputs_are_not_public() -> None:
    rs = [*resources({}), ("aws:s3/bucket:Bucket", "b", {"tag": CANARY})]
    assert reports(out.POLICY, stack_args(rs)) == []
