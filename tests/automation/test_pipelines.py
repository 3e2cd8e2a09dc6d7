"""The example pipelines (examples/pipelines/) and their documented contract.

- GitHub Actions: actionlint, built from the Go module proxy by scripts/actionlint.sh (pinned, cached outside the
  clone). Shellcheck and pyflakes integration are off so the result does not depend on what else a machine has.
- GitLab CI: the GitLab CI JSON schema vendored by check-jsonschema (`--builtin-schema vendor.gitlab-ci`).
- The commands the pipelines run are the ones examples/pipelines/README.md documents (and the main README, for
  the automation commands it shows); the JSON the commands print has the documented keys.
- gitlab_mr_note.py updates its note in place, against a fake GitLab API on loopback.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest

from ctp_credentials.automation import __main__ as cli
from ctp_credentials.automation import pr_summary as prs
from ctp_credentials.automation import status, steps
from ctp_credentials.automation.engine import ROOT
from tests.automation import events as ev
from tests.automation.contract import (
    CI_README,
    PIPELINES,
    Invocation,
    invocations,
    json_contracts,
    pipeline_files,
    shape_problems,
)

GITHUB = PIPELINES / "github-actions.yml"
GITLAB = PIPELINES / "gitlab-ci.yml"
VENV_BIN = Path(sys.executable).parent  # the running virtualenv (CI runs this on several Pythons)


@pytest.fixture(scope="module")
def actionlint() -> str:
    out = subprocess.run(["bash", str(ROOT / "scripts" / "actionlint.sh")], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def lint_workflow(actionlint: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint, "-no-color", "-shellcheck=", "-pyflakes=", str(path)], capture_output=True, text=True, check=False
    )


def validate_gitlab(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_github_workflow_passes_actionlint(actionlint: str, tmp_path: Path) -> None:
    proc = lint_workflow(actionlint, GITHUB)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the linter does look: a misspelt key and an unknown context are reported
    for old, new in (("runs-on:", "runs_on:"), ("${{ vars.AWS_ROLE_ARN", "${{ varz.AWS_ROLE_ARN")):
        broken = tmp_path / "broken.yml"
        broken.write_text(GITHUB.read_text().replace(old, new, 1))
        found = lint_workflow(actionlint, broken)
        assert found.returncode == 1 and new.split(".")[0].strip("${ :") in found.stdout, found.stdout


def test_the_gitlab_pipeline_matches_gitlabs_schema(tmp_path: Path) -> None:
    proc = validate_gitlab(GITLAB)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(GITLAB.read_text().replace("when: always", "when: sometimes", 1))
    found = validate_gitlab(broken)
    assert found.returncode == 1 and "'sometimes' is not one of" in found.stdout, found.stdout


def test_the_pipelines_cover_the_three_jobs() -> None:
    github, gitlab = GITHUB.read_text(), GITLAB.read_text()
    for text in (github, gitlab):
        assert (
            "python -m ctp_credentials pr-summary" in text
            and "python -m ctp_credentials rotate --stack prod --json" in text
        )
        assert "pulumi up --yes" in text and "VAULT_JWT_FILE" in text
        assert "PULUMI_ACCESS_TOKEN" not in text  # no long-lived token; the backend is reached with OIDC
        assert not re.search(r"(?i)(passphrase|secret|token)\s*:\s*['\"]?[A-Za-z0-9+/]{16,}", text)
    assert "aws-actions/configure-aws-credentials" in github and "role-to-assume:" in github
    assert "id-token: write" in github and "pull-requests: write" in github
    assert "id_tokens:" in gitlab and "AWS_WEB_IDENTITY_TOKEN_FILE" in gitlab
    assert "<!-- ctp-pr-summary stack=" in github and "gitlab_mr_note.py" in gitlab


def test_the_pipelines_install_the_pinned_official_cli_and_build_nothing() -> None:
    """Users' CI reaches the internet: the official CLI at the pinned release, no Go build of ours."""
    pinned = (ROOT / ".pulumi-version").read_text().strip()
    github, gitlab = GITHUB.read_text(), GITLAB.read_text()
    assert re.findall(r"uses: pulumi/actions@v\d+", github) and set(
        re.findall(r'pulumi-version: "([\d.]+)"', github)
    ) == {pinned}
    assert len(re.findall(r"uses: pulumi/actions@", github)) == len(re.findall(r"make setup", github)) == 3
    assert 'curl -fsSL https://get.pulumi.com | sh -s -- --version "$(cat .pulumi-version)"' in gitlab
    for text in (github, gitlab):
        assert "setup-go" not in text and "golang" not in text and "pulumi-engine.sh" not in text
        assert re.search(r"python(-version:)?[ :]*\"?3\.1[23]", text), "a supported Python, 3.12 or newer"


# --- the commands: pipelines == docs ---------------------------------------------------------------------------
def _code_blocks(markdown: str) -> str:
    """The shell and YAML code blocks of a Markdown text (prose mentions of a command are not invocations)."""
    blocks = re.findall(r"^[ \t]*```(\w*)\n(.*?)^[ \t]*```", markdown, re.DOTALL | re.MULTILINE)
    return "\n".join(body for lang, body in blocks if lang in ("", "sh", "bash", "shell", "console", "yaml"))


def _without_yaml_comments(text: str) -> str:
    return "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in text.splitlines())


def documented() -> list[Invocation]:
    block = CI_README.read_text().split("<!-- pipeline-commands -->", 1)[1]
    return invocations(block.split("```sh\n", 1)[1].split("```", 1)[0])


def run_by(path: Path) -> list[Invocation]:
    return invocations(_without_yaml_comments(path.read_text()))


def test_the_commands_the_pipelines_run_are_the_documented_ones() -> None:
    synopses = documented()
    assert {(s.tool, s.command) for s in synopses} == {
        ("automation", "pr-summary"),
        ("automation", "rotate"),
        ("automation", "status"),
        ("pulumi", "preview"),
        ("pulumi", "up"),
    }
    for path in pipeline_files():
        used = run_by(path)
        for run in used:
            assert any(run.matches(s) for s in synopses), (
                f"{path.name} runs `{run}`, which the README does not document"
            )
        # each pipeline runs every documented command (the same three jobs on both platforms)
        assert {(r.tool, r.command) for r in used} == {(s.tool, s.command) for s in synopses}, path.name
    # every other example in the CI README is one of the documented forms too
    for example in invocations(_code_blocks(CI_README.read_text())):
        assert any(example.matches(s) for s in synopses), f"README example `{example}` is not a documented form"


def test_the_main_readme_agrees_on_the_automation_commands() -> None:
    """Where the main README shows an automation command the pipelines run, the pipelines use it as shown."""
    readme = [i for i in invocations(_code_blocks((ROOT / "README.md").read_text())) if i.tool == "automation"]
    assert {i.command for i in readme} >= {"rotate", "status"}
    for path in pipeline_files():
        for run in run_by(path):
            shown = [i for i in readme if i.command == run.command]
            if run.tool == "automation" and shown:
                assert any(run.matches(i) for i in shown), f"{path.name}: `{run}` is not how README.md shows it"


def test_the_cli_accepts_every_documented_automation_synopsis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The documented flags are the parser's: each synopsis (all flags given) parses, and the command goes on to
    open the stack (in an empty directory, where there is none: exit 2 naming it), not to a usage error."""
    values = {"--stack": "x", "--out": "o.md", "--policy-pack": str(ROOT / "policies"), "--connector": "c"}
    values["--policy-pack-config"] = str(ROOT / "policies" / "local.json")
    commands = []
    for synopsis in documented():
        if synopsis.tool != "automation":
            continue
        argv = ["--cwd", str(tmp_path), synopsis.command]
        for flag in sorted(synopsis.flags | synopsis.optional):
            argv += [flag, values[flag]] if flag in values else [flag]
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "usage:" not in err, err
        commands.append(synopsis.command)
    assert sorted(commands) == ["pr-summary", "rotate", "status"]


# --- the JSON: docs == output ----------------------------------------------------------------------------------
def test_pr_summary_json_has_the_documented_keys() -> None:
    events = [ev.prelude({"patchworks": {}, "managed1": {"managed": {}}})]
    events += ev.step(
        "same", ev.component_urn("patchworks"), ev.COMPONENT, old_outputs={"config": ev.document("patchworks")}
    )
    events += ev.step(
        "replace",
        ev.child_urn(ev.KV, "patchworks-secret"),
        ev.KV,
        old=ev.kv_inputs("patchworks"),
        new=ev.kv_inputs("patchworks", path="x/y"),
        keys=["path"],
        parent=ev.component_urn("patchworks"),
    )
    events.append(ev.diagnostic("error", "connector 'patchworks' (project shop-eu): rejected", ev.CHECK_URN))
    events.append(ev.diagnostic("warning", "connector 'patchworks': deprecated host"))
    events.append(ev.diagnostic("warning", "something about the stack"))
    events.append(ev.diagnostic("error", "the program failed"))
    events.append(ev.policy("credential-check-enabled", "advisory", "connector 'patchworks': off"))
    events.append(ev.summary({"replace": 1, "same": 2}))
    data = prs.as_json(prs.summarise(events, "prod", preview_failed=True, policy_packs=["policies"]))
    assert data["connectors"][1]["errors"] and data["errors"] and data["policies"]["violations"]
    assert shape_problems(json_contracts()["pr-summary"], data) == []
    assert shape_problems(json_contracts()["pr-summary"], {**data, "extra": 1}) == [
        "$.extra: in the output, not documented"
    ]


def test_rotate_json_has_the_documented_keys() -> None:
    report = [steps.ConnectorRotation("patchworks", "provided", "a", "b", "done", True, None, ["resumed"])]
    document = json.loads(json.dumps(steps.as_json(report, ok=True, dry_run=False)))  # as `rotate --json` prints
    assert shape_problems(json_contracts()["rotate"], document) == []


def test_status_json_has_the_documented_keys() -> None:
    row = status.ConnectorStatus(
        "patchworks", "managed", "id", "2025-01-01T00:00:00Z", 1.5, None, False, None, None, None, {"store": "vault"}
    )
    assert shape_problems(json_contracts()["status"], json.loads(json.dumps(status.as_json([row])))) == []


# --- gitlab_mr_note.py -----------------------------------------------------------------------------------------
def _load_note_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gitlab_mr_note", PIPELINES / "gitlab_mr_note.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeGitLab(BaseHTTPRequestHandler):
    notes: ClassVar[list[dict[str, Any]]] = []
    seen: ClassVar[list[tuple[str, str, str]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.seen.append(("GET", self.path, self.headers.get("PRIVATE-TOKEN", "")))
        page = int(re.search(r"[?&]page=(\d+)", self.path).group(1))  # type: ignore[union-attr]
        self._answer(self.notes[page - 1 : page], {"X-Next-Page": str(page + 1) if page < len(self.notes) else ""})

    def _body(self) -> dict[str, Any]:
        return dict(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))

    def do_POST(self) -> None:
        self.seen.append(("POST", self.path, self.headers.get("PRIVATE-TOKEN", "")))
        self.notes.append({"id": len(self.notes) + 1, "body": self._body()["body"], "system": False})
        self._answer(self.notes[-1])

    def do_PUT(self) -> None:
        self.seen.append(("PUT", self.path, self.headers.get("PRIVATE-TOKEN", "")))
        note_id = int(self.path.rsplit("/", 1)[1])
        self.notes[note_id - 1]["body"] = self._body()["body"]
        self._answer(self.notes[note_id - 1])


@pytest.fixture
def gitlab() -> Iterator[str]:
    FakeGitLab.notes, FakeGitLab.seen = [{"id": 1, "body": "LGTM", "system": False}], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGitLab)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v4"
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_gitlab_note_is_created_once_then_updated(
    gitlab: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    note = _load_note_module()
    env = {"CI_API_V4_URL": gitlab, "CI_PROJECT_ID": "group/project", "CI_MERGE_REQUEST_IID": "7"}
    for key, value in {**env, "GITLAB_NOTE_TOKEN": "glpat-test"}.items():
        monkeypatch.setenv(key, value)
    summary = tmp_path / "prod.md"
    for text in ("first", "second"):
        summary.write_text(f"{text}\n<!-- ctp-pr-summary stack=prod -->\n")
        assert note.main(["--stack", "prod", str(summary)]) == 0
    summary.write_text("staging\n<!-- ctp-pr-summary stack=staging -->\n")
    assert note.main(["--stack", "staging", str(summary)]) == 0
    bodies = [n["body"].split("\n")[0] for n in FakeGitLab.notes]
    assert bodies == ["LGTM", "second", "staging"]  # one note per stack, updated in place
    assert all(token == "glpat-test" for _, _, token in FakeGitLab.seen)
    assert all(
        path.startswith("/api/v4/projects/group%2Fproject/merge_requests/7/notes") for _, path, _ in FakeGitLab.seen
    )
    monkeypatch.delenv("GITLAB_NOTE_TOKEN")
    assert note.main(["--stack", "prod", str(summary)]) == 2


def test_actionlint_script_pins_and_caches(actionlint: str) -> None:
    assert "/actionlint/v1.7.7/bin/actionlint" in actionlint and Path(actionlint).is_file()
    assert not Path(actionlint).resolve().is_relative_to(ROOT)  # outside the clone, shared by every clone
    assert shutil.which("go") is not None  # what builds it on a machine without the cache
