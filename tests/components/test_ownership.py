"""The one ownership rule every writer applies (Vault, Secrets Manager, SSM, files): each decision and its text.

The stores' own tests show each writer applying it against OpenBao and moto
(tests/components/providers/test_vault_secret.py, test_secretsmanager_secret.py, test_publications.py)."""

from __future__ import annotations

import pytest

from ctp_credentials.components.ownership import KEYS, MANAGED_BY, Claim, Verdict, decide, refusal, tags

OWNER, CONNECTOR = "commercetools-credentials/test", "patchworks"


def ours(stack: str = OWNER, connector: str = CONNECTOR, writer: str = "w1") -> Claim:
    return Claim.of(tags(stack, connector, writer))


def test_a_writer_records_the_tool_the_stack_the_connector_and_itself() -> None:
    assert tags(OWNER, CONNECTOR, "w1") == {
        "managed-by": "ctp-credentials",
        "pulumi-stack": OWNER,
        "connector": CONNECTOR,
        "writer": "w1",
    }
    assert KEYS == ("managed-by", "pulumi-stack", "connector", "writer") and MANAGED_BY == "ctp-credentials"
    assert Claim.of({}) == Claim()
    assert ours() == Claim(MANAGED_BY, OWNER, CONNECTOR, "w1")


@pytest.mark.parametrize(
    ("claim", "writer", "adopt", "verdict"),
    [
        # this very resource wrote it: a renamed stack or connector still owns its value
        (ours(stack="old/name", connector="renamed"), "w1", False, Verdict.WRITER),
        (ours(), "w1", False, Verdict.WRITER),
        # this stack's connector wrote it (a replacement, a rerun after a crash), whoever the writer was
        (ours(writer="w0"), "w1", False, Verdict.OURS),
        (ours(writer="w0"), None, False, Verdict.OURS),
        (ours(), None, True, Verdict.OURS),
        # another stack, or another connector of this stack: never, adopt or not
        (ours(stack="other/prod"), None, False, Verdict.OTHER_OWNER),
        (ours(connector="other"), "w2", True, Verdict.OTHER_OWNER),
        # a claim of this tool's without a writer of ours: the stack decides
        (ours(stack="other/prod", writer="w1"), None, False, Verdict.OTHER_OWNER),
        # another tool's claim (it sets managed-by too): never, even with adopt, even with our writer's ID
        (Claim("terraform", OWNER, CONNECTOR, "w1"), "w1", True, Verdict.OTHER_TOOL),
        (Claim("terraform"), None, False, Verdict.OTHER_TOOL),
        # nobody claims it: adopted only when asked
        (Claim(), None, False, Verdict.UNCLAIMED),
        (Claim(), "w1", True, Verdict.ADOPTED),
        (Claim("", OWNER, CONNECTOR, "w1"), "w1", False, Verdict.UNCLAIMED),
    ],
)
def test_each_decision(claim: Claim, writer: str | None, adopt: bool, verdict: Verdict) -> None:
    assert decide(claim, owner=OWNER, connector=CONNECTOR, writer=writer, adopt=adopt) is verdict


def test_only_ours_and_adopted_values_may_be_written() -> None:
    assert {v for v in Verdict if v.allowed} == {Verdict.WRITER, Verdict.OURS, Verdict.ADOPTED}


def test_a_delete_removes_only_what_this_resource_wrote() -> None:
    assert ours().written_by("w1")
    assert not ours().written_by("w2")
    assert not Claim("terraform", writer="w1").written_by("w1")  # another tool's value that happens to say w1
    assert not Claim(writer="w1").written_by("w1")


def test_messages_name_the_owner_and_the_fix() -> None:
    assert ours(stack="other/prod", connector="x").owner == "other/prod/x"
    assert Claim("terraform", "a/b", "c").owner == "another tool"
    assert Claim().owner == "another tool"
    text = refusal(
        "Vault secret/p", ours(stack="other/prod", connector="x"), owner=OWNER, connector=CONNECTOR, choose="path"
    )
    assert text == (
        "Vault secret/p already exists and belongs to other/prod/x, not to connector 'patchworks' of "
        "commercetools-credentials/test; it is left untouched. Choose another path"
    )
    text = refusal(
        "file f",
        Claim(),
        owner=OWNER,
        connector=CONNECTOR,
        choose="name",
        note=" (deleted)",
        who="was not written by this tool",
    )
    assert text == (
        "file f already exists (deleted) and was not written by this tool, not to connector 'patchworks' of "
        "commercetools-credentials/test; it is left untouched. Choose another name"
    )
