"""The command (`python -m ctp_credentials pr-summary`, parsed in automation/__main__.py): run the preview through
the Automation API with the policy pack, summarise its events, write the comment to `--out` and the whole
summary to stdout."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from pulumi import automation as auto

from ..engine import ROOT
from ..redaction import Redactor, secret_env_values, secret_values
from ..workspace import ProjectStack, StackError
from .build import summarise
from .json_report import as_json
from .markdown import render_markdown
from .model import Summary


def display_path(path: Path, base: Path | None = None) -> str:
    """A path as the user would type it in the repository: relative, never a temp or home path."""
    resolved = path.resolve()
    for root in (base or Path.cwd(), ROOT):
        try:
            return resolved.relative_to(root.resolve()).as_posix() or "."
        except ValueError:
            continue
    return resolved.name


def run_preview(
    stack: ProjectStack,
    *,
    policy_pack: Path | None,
    policy_pack_config: Path | None = None,
    now: float | None = None,
) -> Summary:
    """Preview `stack` through the Automation API (with the policy pack) and summarise its events."""
    try:
        secrets = secret_values(stack.stack.get_all_config())
    except auto.errors.CommandError as exc:
        raise StackError(f"cannot read the config of stack {stack.name!r}: {_first_error(str(exc))}") from None
    events: list[auto.EngineEvent] = []
    failure: str | None = None
    try:
        stack.stack.preview(
            on_event=events.append,
            color="never",
            policy_packs=[str(policy_pack.resolve())] if policy_pack else None,
            policy_pack_configs=[str(policy_pack_config.resolve())] if policy_pack_config else None,
        )
    except auto.errors.CommandError as exc:
        failure = _first_error(str(exc))
    except RuntimeError as exc:  # the CLI exited 0 without a summary event
        failure = str(exc)
    redact = Redactor(secrets | secret_env_values(stack.env), [stack.work_dir.resolve(), ROOT], home=Path.home())
    packs = [display_path(policy_pack)] if policy_pack else []
    return summarise(
        events,
        stack.name,
        preview_failed=failure is not None,
        failure=failure,
        policy_packs=packs,
        redact=redact,
        now=now,
        log_complete=bool(events) and events[-1].cancel_event is not None,  # the engine always ends with it
    )


def _first_error(text: str) -> str:
    for line in text.splitlines():
        if "error:" in line:
            return line.split("error:", 1)[1].strip()
    lines = text.strip().splitlines()
    return lines[-1].strip() if lines else "no output"


def command(
    stack: ProjectStack,
    *,
    policy_pack: Path | None,
    policy_pack_config: Path | None,
    out: Path | None,
    as_json_output: bool,
    stdout: TextIO | None = None,
    preview: Callable[..., Summary] = run_preview,
) -> int:
    """Run the preview; write the comment (Markdown cut to MAX_CHARS) to `out`, and the whole summary to stdout
    (Markdown, or JSON with `as_json_output`). Returns the exit code."""
    summary = preview(stack, policy_pack=policy_pack, policy_pack_config=policy_pack_config)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_markdown(summary), encoding="utf-8")
    stream = stdout or sys.stdout
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(encoding="utf-8")  # the verdict's emoji, whatever the job's locale
    if as_json_output:
        stream.write(json.dumps(as_json(summary), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    else:
        stream.write(render_markdown(summary, limit=None))
    return summary.exit_code
