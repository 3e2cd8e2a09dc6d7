"""The documented CI contract (examples/pipelines/README.md), read back for tests: the JSON shapes of each
command's `--json` output, and the commands the docs and the pipelines run.

A JSON example in the README is marked with `<!-- json-contract: NAME -->` on the line before its fence. In an
example, a key in angle brackets (`"<op>": 2`) stands for any key (a map), and `null` for a value that may be
null or anything else.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctp_credentials.automation.engine import ROOT

PIPELINES = ROOT / "examples" / "pipelines"
CI_README = PIPELINES / "README.md"
CONTRACT_RE = re.compile(r"<!-- json-contract: ([\w-]+) -->\s*```json\n(.*?)\n```", re.DOTALL)


def json_contracts(text: str | None = None) -> dict[str, Any]:
    text = CI_README.read_text() if text is None else text
    return {name: json.loads(body) for name, body in CONTRACT_RE.findall(text)}


def shape_problems(doc: Any, actual: Any, path: str = "$") -> list[str]:
    """Where `actual` does not have the documented shape (keys at every level; list items like the example's)."""
    if doc is None or actual is None:
        return []
    if isinstance(doc, dict):
        if not isinstance(actual, dict):
            return [f"{path}: documented an object, got {type(actual).__name__}"]
        wild = [k for k in doc if k.startswith("<")]
        if wild:
            return [p for k, v in actual.items() for p in shape_problems(doc[wild[0]], v, f"{path}.{k}")]
        problems = [f"{path}.{k}: documented, not in the output" for k in sorted(set(doc) - set(actual))]
        problems += [f"{path}.{k}: in the output, not documented" for k in sorted(set(actual) - set(doc))]
        for key in sorted(set(doc) & set(actual)):
            problems += shape_problems(doc[key], actual[key], f"{path}.{key}")
        return problems
    if isinstance(doc, list):
        if not isinstance(actual, list):
            return [f"{path}: documented a list, got {type(actual).__name__}"]
        return [p for item in actual for p in shape_problems(doc[0], item, f"{path}[]")] if doc else []
    if isinstance(actual, dict | list):
        return [f"{path}: documented a {type(doc).__name__}, got {type(actual).__name__}"]
    return []


@dataclass(frozen=True)
class Invocation:
    """One command: `automation <sub>` or `pulumi <verb>`, with the flags it passes (values left out)."""

    tool: str
    command: str
    flags: frozenset[str]
    optional: frozenset[str] = frozenset()  # flags a synopsis shows in [brackets]

    def matches(self, synopsis: Invocation) -> bool:
        """This concrete run is one the synopsis allows: every required flag, nothing it does not list."""
        if (self.tool, self.command) != (synopsis.tool, synopsis.command):
            return False
        return synopsis.flags <= self.flags <= synopsis.flags | synopsis.optional

    def __str__(self) -> str:
        flags = " ".join(sorted(self.flags))
        optional = " ".join(f"[{f}]" for f in sorted(self.optional))
        return " ".join(p for p in (self.tool, self.command, flags, optional) if p)


COMMAND_RE = re.compile(
    r"(?:(?:\S*/)?python3?|\$PY|\"\$PY\")\s+-m\s+ctp_credentials\s+([^\n`#|&;]*)|\bpulumi\s+(preview|up)\b([^\n`#|&;]*)"
)


def invocations(text: str) -> list[Invocation]:
    """Every `python -m ctp_credentials ...` and `pulumi preview|up ...` in a text (docs or a pipeline's YAML).

    Shell line continuations are joined first; `[--flag ...]` marks an optional flag; `--flag=value` and
    `--flag value` count as the flag alone."""
    text = re.sub(r"\\\n\s*", " ", text)
    found = []
    for match in COMMAND_RE.finditer(text):
        if match.group(1) is not None:
            words = match.group(1).split()
            if not words or (words[0].startswith("-") and words[0] != "--cwd"):
                continue
            while words and words[0] == "--cwd":
                words = words[2:]
            tool, command, rest = "automation", words[0] if words else "", " ".join(words[1:])
        else:
            tool, command, rest = "pulumi", match.group(2), match.group(3)
        if not command or not re.fullmatch(r"[a-z-]+", command):
            continue
        optional = frozenset(re.findall(r"\[(--[a-z-]+)", rest))
        rest = re.sub(r"\[[^\]]*\]", " ", rest)
        try:
            words = shlex.split(rest, comments=False)
        except ValueError:
            words = rest.split()
        flags = frozenset(w.split("=", 1)[0] for w in words if w.startswith("--"))
        found.append(Invocation(tool, command, flags, optional))
    return found


def pipeline_files() -> list[Path]:
    return sorted(p for p in PIPELINES.rglob("*") if p.suffix in (".yml", ".yaml"))
