"""The command: where the comment and the summary go, usage errors, no engine, and where the secrets it masks come
from (the stack's secret config and the job's environment)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pulumi import automation as auto

from ctp_credentials.automation import __main__ as cli
from ctp_credentials.automation.engine import ROOT
from ctp_credentials.automation.pr_summary.build import summarise
from ctp_credentials.automation.pr_summary.json_report import as_json
from ctp_credentials.automation.pr_summary.markdown import MAX_CHARS, render_markdown
from ctp_credentials.automation.pr_summary.preview import command
from ctp_credentials.automation.redaction import Redactor, secret_env_values, secret_values
from tests.automation import events as ev
from tests.automation.pr_summary.previews import big_stack, clean_events


def test_secret_values_come_from_every_secret_config_value() -> None:
    config = {
        "commercetools-credentials:clientSecret-a": auto.ConfigValue("s3cret-a", secret=True),
        "commercetools-credentials:nested": auto.ConfigValue(json.dumps({"x": ["leaf-1", 7]}), secret=True),
        "commercetools-credentials:connectors": auto.ConfigValue(json.dumps({"a": {"clientId": "id"}})),
    }
    found = secret_values(config)
    assert {"s3cret-a", "leaf-1", "7"} <= found and "id" not in found


class _FakeStack:
    name = "test"


def test_command_writes_the_comment_and_prints_the_summary(tmp_path: Path) -> None:
    summary = summarise(big_stack(300), "test", preview_failed=True, policy_packs=["policies"])
    out, stdout = tmp_path / "sub" / "comment.md", io.StringIO()
    code = command(
        _FakeStack(),  # type: ignore[arg-type]
        policy_pack=None,
        policy_pack_config=None,
        out=out,
        as_json_output=False,
        stdout=stdout,
        preview=lambda *_a, **_k: summary,
    )
    assert code == 1
    assert len(out.read_text()) <= MAX_CHARS < len(stdout.getvalue())  # the log gets it uncut
    stdout = io.StringIO()
    command(
        _FakeStack(),  # type: ignore[arg-type]
        policy_pack=None,
        policy_pack_config=None,
        out=None,
        as_json_output=True,
        stdout=stdout,
        preview=lambda *_a, **_k: summary,
    )
    data = json.loads(stdout.getvalue())
    assert data["exitCode"] == 1 and data["ok"] is False and len(data["connectors"]) == 300
    assert data["credentialChecks"]["failed"] == ["conn-299"]


@pytest.mark.parametrize(
    "argv",
    [
        ["pr-summary"],
        ["pr-summary", "--stack", "x", "--policy-pack", "/nonexistent"],
        ["pr-summary", "--stack", "x", "--policy-pack-config", "/nonexistent.json"],
        ["pr-summary", "--stack", "x", "--unknown"],
        ["--cwd", "/nonexistent", "status", "--stack", "x"],
        ["pr-summary", "--stack", "x", "--out", str(ROOT / "tests")],  # a directory: refused before the preview
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_no_engine_is_a_clear_exit_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """No engine and none to point at: one line with the build script's reason and the fix, no traceback."""
    from ctp_credentials.automation import engine

    engine.engine_bin.cache_clear()
    monkeypatch.setenv("CTP_PULUMI_BIN", "/nonexistent")
    try:
        assert cli.main(["status", "--stack", "x"]) == 2
    finally:
        engine.engine_bin.cache_clear()
    err = capsys.readouterr().err
    assert "the Pulumi engine is not available: pulumi-engine: no pulumi in CTP_PULUMI_BIN=/nonexistent" in err
    assert "make setup" in err and "Traceback" not in err


def test_credentials_from_the_jobs_environment_are_masked_too() -> None:
    """An admin secret is not stack config, yet a remote error message could carry it into the comment."""
    env = {
        "CTP_ADMIN_CLIENT_SECRET": "admin-secret-manage-api-clients",
        "VAULT_TOKEN": "hvs.0123456789abcdef",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG",
        "WEBHOOK_KEY": "0123456789abcdef",
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",  # an identifier, not a secret
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:5000",  # where secrets are, not one
        "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/token",  # a path
        "SOME_TOKEN": "short",  # too short to mask safely
        "PATH": "/usr/bin",
    }
    found = secret_env_values(env)
    assert found == {env[k] for k in ("CTP_ADMIN_CLIENT_SECRET", "VAULT_TOKEN", "AWS_SECRET_ACCESS_KEY", "WEBHOOK_KEY")}
    leak = f"token request: HTTP 401 invalid_client: bad credentials admin-id:{env['CTP_ADMIN_CLIENT_SECRET']}"
    events = [*clean_events()[:-1], ev.diagnostic("error", f"connector 'patchworks': {leak}"), clean_events()[-1]]
    summary = summarise(events, "test", preview_failed=True, redact=Redactor(found))
    text = render_markdown(summary) + json.dumps(as_json(summary))
    assert env["CTP_ADMIN_CLIENT_SECRET"] not in text and "admin-id:[secret]" in text
