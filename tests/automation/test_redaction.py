"""pr-summary's redaction on its own: which values are masked, in which spellings, and where."""

from __future__ import annotations

import json
from pathlib import Path

from pulumi import automation as auto

from ctp_credentials.automation.pr_summary import Change, ConnectorSummary, ResourceChange, Summary, Violation
from ctp_credentials.automation.redaction import Redactor, redact_summary, secret_env_values, secret_values
from tests.conftest import CANARY


def test_a_secret_is_masked_as_written_and_as_it_appears_inside_json() -> None:
    tricky = 'pa"ss\\word-0123456789'  # JSON escapes both the quote and the backslash
    redact = Redactor([tricky])
    assert redact(f"raw {tricky} end") == "raw [secret] end"
    assert redact(json.dumps({"clientSecret": tricky})) == '{"clientSecret": "[secret]"}'


def test_the_longest_secret_is_masked_first() -> None:
    """A secret that begins another must not leave the other's tail showing."""
    assert Redactor(["abcd", "abcdef-long"])("x abcdef-long y abcd") == "x [secret] y [secret]"
    assert Redactor(["abcdef-long", "abcd"])("abcdef-long") == "[secret]"


def test_secrets_of_four_or_more_characters_are_masked_inside_words_shorter_ones_only_alone() -> None:
    assert Redactor(["abcd"])("xabcdx") == "x[secret]x"
    assert Redactor(["abc"])("xabcx abc") == "xabcx [secret]"
    assert Redactor([" ", ""])("a b") == "a b"  # blank secrets are no secrets


def test_project_paths_are_replaced_longest_first_and_a_bare_root_never() -> None:
    redact = Redactor(paths=[Path("/w"), Path("/w/project"), Path("/")])
    assert redact("at /w/project/x and /w/y, not //z") == "at <dir>/x and <dir>/y, not //z"


def test_home_is_shortened_unless_it_is_the_root_or_unset() -> None:
    assert Redactor(home=Path("/h"))("/h/.cache") == "~/.cache"
    assert Redactor(home=Path("/"))("a//b") == "a//b"
    assert Redactor(home=None)("None/x") == "None/x"


def test_secret_values_are_every_secret_config_value_and_its_leaves() -> None:
    config = {
        "a:plain": auto.ConfigValue("not-secret"),
        "a:clientSecret-x": auto.ConfigValue("s3cret-x", secret=True),
        "a:doc": auto.ConfigValue(json.dumps({"k": [None, True, "leaf", 7]}), secret=True),
        "a:clientSecret-y": auto.ConfigValue("s3cret-y", secret=True),  # after a plain one and a structured one
    }
    found = secret_values(config)
    assert found == {"s3cret-x", "s3cret-y", json.dumps({"k": [None, True, "leaf", 7]}), "leaf", "7"}


def test_secret_env_values_take_credential_names_of_eight_or_more_characters() -> None:
    env = {
        "CTP_ADMIN_CLIENT_SECRET": "12345678",  # exactly 8: kept
        "VAULT_TOKEN": "1234567",  # 7: too short to mask safely
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:4566",  # where, not what
        "HOME": "/home/someone-long-enough",
    }
    assert secret_env_values(env) == {"12345678"}


def test_redact_summary_masks_every_text_of_the_summary() -> None:
    c = ConnectorSummary(
        "patchworks",
        scopes=Change([f"view_orders:{CANARY}"], [CANARY]),
        region=Change(CANARY, "europe-west1.gcp"),
        client_id=Change("old", CANARY),
        store=Change({"path": CANARY}, {CANARY: "x"}),
        resources=[ResourceChange(f"{CANARY}-secret", "update", [CANARY])],
        errors=[f"error {CANARY}"],
        warnings=[f"warning {CANARY}"],
    )
    summary = Summary(
        stack="test",
        preview_failed=False,
        changes={"update": 1},
        connectors=[c],
        violations=[Violation("p", "mandatory", "patchworks", f"message {CANARY}")],
        policy_packs=["policies"],
        errors=[f"stack error {CANARY}"],
        warnings=[f"stack warning {CANARY}"],
    )
    redacted = redact_summary(summary, Redactor([CANARY]))
    assert CANARY not in repr(redacted)
    (r,) = redacted.connectors
    assert r.scopes == Change(["view_orders:[secret]"], ["[secret]"]) and r.region.before == "[secret]"
    assert r.client_id.after == "[secret]" and r.store == Change({"path": "[secret]"}, {"[secret]": "x"})
    assert r.resources == [ResourceChange("[secret]-secret", "update", ["[secret]"])]
    assert redacted.violations[0].message == "message [secret]" and redacted.warnings == ["stack warning [secret]"]


def test_redact_summary_knows_every_text_field() -> None:
    """redact_summary names the fields it masks: a field added to these types must be added there too."""
    from dataclasses import fields

    assert [f.name for f in fields(ResourceChange)] == ["name", "op", "keys"]
    assert [f.name for f in fields(Violation)] == ["policy", "level", "connector", "message"]
    assert [f.name for f in fields(Change)] == ["before", "after"]
    text_fields = {f.name for f in fields(ConnectorSummary)} - {"name", "op", "check", "managed", "rotation"}
    assert text_fields == {"scopes", "region", "client_id", "store", "resources", "errors", "warnings"}
    assert {f.name for f in fields(Summary)} - {
        "stack",
        "preview_failed",
        "changes",
        "connectors",
        "policy_packs",
        "redact",
    } == {"violations", "errors", "warnings"}
