"""`make mutate`: mutation testing of the security and integrity modules with mutmut, scored per module.

    python scripts/mutate.py                      # every module in [tool.mutmut] only_mutate (pyproject.toml)
    python scripts/mutate.py components/scopes.py # some of them
    python scripts/mutate.py --write ...          # also record the scores in tests/MUTATION.md
    python scripts/mutate.py --check ...          # fail if a module scores below what MUTATION.md records
    python scripts/mutate.py --write --no-run     # record the results of the last run without running again
    python scripts/mutate.py --write --results A.txt --results B.txt   # record saved runs, later ones winning

mutmut copies the code to mutants/ and runs the suite without engine tests there (one pytest process, forked
per mutant), so the score counts what those tests catch. A mutant is *caught* when a test fails (killed),
hangs (timeout) or mypy rejects it; `no tests` means no test of the selection reaches the function at all.
Mutants MUTATION.md explains as equivalent (no behaviour to catch) are left out of the score.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPORT_ROOT = "ctp_credentials"
REPORT = ROOT / "tests" / "MUTATION.md"
BEGIN, END = "<!-- scores: written by scripts/mutate.py --write -->", "<!-- /scores -->"
LIST_BEGIN, LIST_END = "<!-- survivors: written by scripts/mutate.py --write -->", "<!-- /survivors -->"
CAUGHT = ("killed", "timeout", "caught by type check")
COUNTED = (*CAUGHT, "survived", "no tests", "suspicious", "segfault")
NAME_RE = re.compile(r"^(?P<module>.+?)\.x(?:_|ǁ)")  # components.scopes.x_parse_scope__mutmut_3, ...xǁScopeǁ...
EQUIVALENT_SECTION = "## Equivalent mutants"
NAMED_RE = re.compile(r"^\| `(?P<name>[^`]+)` \|", re.MULTILINE)
SCORE_RE = re.compile(r"^\| `(?P<path>[^`]+\.py)` \|.*\| (?P<score>[\d.]+) % \|$", re.MULTILINE)


def configured_modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return list(config["only_mutate"])


def as_configured(path: str) -> str:
    """A module as only_mutate names it: the file's path through the import root (components/scopes.py is
    ctp_credentials/components/scopes.py), so mutants are named by the module's import name."""
    return path if path.startswith(f"{IMPORT_ROOT}/") else f"{IMPORT_ROOT}/{path}"


def module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def run_mutmut(paths: list[str], max_children: int) -> None:
    mutants = ROOT / "mutants"
    mutants.mkdir(exist_ok=True)
    # Some tests find the project's virtualenv next to the code (the policy pack's runtime): give mutants/ one.
    link = mutants / ".venv"
    if not link.exists():
        link.symlink_to(ROOT / ".venv")
    mutmut = ROOT / ".venv" / "bin" / "mutmut"
    globs = [f"{module_name(p)}.*" for p in paths]
    env = {**os.environ, "CTP_FUZZ_SCALE": "0.1"}  # the config fuzzing, once per mutant: a tenth of its examples
    subprocess.run([str(mutmut), "run", "--max-children", str(max_children), *globs], cwd=ROOT, env=env, check=True)


def results() -> dict[str, str]:
    mutmut = ROOT / ".venv" / "bin" / "mutmut"
    out = subprocess.run(
        [str(mutmut), "results", "--all", "true"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return parse_results(out)


def parse_results(text: str) -> dict[str, str]:
    """`mutmut results --all true` output: mutant name -> status."""
    found = {}
    for line in text.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and NAME_RE.match(name):
            found[name] = status
    return found


def merged(texts: Iterable[str]) -> dict[str, str]:
    """Saved runs of the same code (one per module, or a rerun of survivors after new tests), in order: a later
    run's verdict replaces an earlier one; a mutant a run did not check keeps the verdict it had."""
    statuses: dict[str, str] = {}
    for text in texts:
        for name, status in parse_results(text).items():
            if status != "not checked" or name not in statuses:
                statuses[name] = status
    return statuses


def equivalents(report: str) -> set[str]:
    """The mutants named in the first column of MUTATION.md's "Equivalent mutants" table."""
    section = report.partition(EQUIVALENT_SECTION)[2].split("\n## ")[0]
    return {m.group("name") for m in NAMED_RE.finditer(section)}


def recorded_scores(report: str) -> dict[str, float]:
    return {m.group("path"): float(m.group("score")) for m in SCORE_RE.finditer(report)}


def tally(paths: Iterable[str], statuses: dict[str, str], equivalent: set[str]) -> dict[str, Counter[str]]:
    by_module = {module_name(p): p for p in paths}
    counts: dict[str, Counter[str]] = {p: Counter() for p in by_module.values()}
    for name, status in statuses.items():
        match = NAME_RE.match(name)
        path = by_module.get(match.group("module")) if match else None
        if path is None:
            continue
        counts[path]["equivalent" if name in equivalent and status == "survived" else status] += 1
    return counts


def score(c: Counter[str]) -> float:
    """Caught over counted, as recorded (one decimal): the check compares like with like."""
    counted = sum(c[s] for s in COUNTED)
    return round(100.0 * sum(c[s] for s in CAUGHT) / counted, 1) if counted else 0.0


def unfinished(c: Counter[str]) -> int:
    """Mutants without a verdict (not checked, interrupted: a collection error is one), which no score may hide."""
    return sum(n for status, n in c.items() if status not in (*COUNTED, "equivalent"))


def table(counts: dict[str, Counter[str]]) -> str:
    rows = [
        "| module | mutants | killed | timeout | survived | no tests | equivalent | not run | caught |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for path, c in counts.items():
        total = sum(c.values())
        rows.append(
            f"| `{path}` | {total} | {c['killed'] + c['caught by type check']} | {c['timeout']} | {c['survived']} "
            f"| {c['no tests']} | {c['equivalent']} | {unfinished(c)} | "
            + (f"{score(c):.1f} % |" if sum(c[s] for s in COUNTED) else "not run |")
        )
    return "\n".join(rows)


def survivors(statuses: dict[str, str], equivalent: set[str]) -> str:
    """Every mutant not caught, by function: what MUTATION.md's notes account for."""
    by_function: dict[str, list[str]] = {}
    for name, status in sorted(statuses.items()):
        if status in ("survived", "no tests", "suspicious", "segfault") and name not in equivalent:
            function, _, number = name.rpartition("__mutmut_")
            by_function.setdefault(f"{function} ({status})", []).append(number)
    return "\n".join(f"- `{f}`: {len(n)} ({', '.join(n)})" for f, n in by_function.items()) or "- none"


def replace_block(report: str, begin: str, end: str, body: str) -> str:
    if report.count(begin) != 1 or report.count(end) != 1:
        raise ValueError(f"MUTATION.md must hold {begin} and {end} once each")
    head, _, rest = report.partition(begin)
    _, _, tail = rest.partition(end)
    return f"{head}{begin}\n{body}\n{end}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="paths as in [tool.mutmut] only_mutate (default: all of them)")
    parser.add_argument("--write", action="store_true", help="record the scores in tests/MUTATION.md")
    parser.add_argument("--check", action="store_true", help="fail if a module scores below its recorded score")
    parser.add_argument("--no-run", action="store_true", help="report the last run's results, run nothing")
    parser.add_argument(
        "--results",
        type=Path,
        action="append",
        help="a saved `mutmut results --all true` of the same code (repeatable, later wins); implies --no-run",
    )
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    configured = configured_modules()
    args.modules = [as_configured(p) for p in args.modules]
    unknown = sorted(set(args.modules) - set(configured))
    if unknown:
        parser.error(f"not in [tool.mutmut] only_mutate: {', '.join(unknown)}")
    paths = args.modules or configured
    if not args.no_run and not args.results:
        run_mutmut(paths, args.max_children)
    report = REPORT.read_text()
    statuses = merged(f.read_text() for f in args.results) if args.results else results()
    named = equivalents(report)
    modules = {module_name(p) for p in paths}
    mine = {n for n in named if (match := NAME_RE.match(n)) and match.group("module") in modules}
    stale = sorted(n for n in mine if statuses.get(n) != "survived")
    if stale:  # mutmut numbers mutants per function: a changed function renumbers them
        print(
            f"MUTATION.md names as equivalent mutants that are not survivors now: {', '.join(stale)}", file=sys.stderr
        )
    counts = tally(paths, statuses, named)
    rows = table(counts)
    print(rows)
    if args.write:
        if set(paths) != set(configured):
            parser.error("--write records every module: run it without naming modules")
        report = replace_block(report, BEGIN, END, rows)
        report = replace_block(report, LIST_BEGIN, LIST_END, survivors(statuses, equivalents(report)))
        REPORT.write_text(report)
    if args.check:
        floor = recorded_scores(report)
        below = [f"{p}: no score recorded in tests/MUTATION.md" for p in counts if p not in floor]
        below += [f"{p}: {unfinished(c)} mutants without a verdict" for p, c in counts.items() if unfinished(c)]
        below += [f"{p}: nothing was mutated" for p, c in counts.items() if not sum(c.values())]
        below += [f"{p}: {score(c):.1f} % < {floor[p]:.1f} %" for p, c in counts.items() if score(c) < floor.get(p, 0)]
        if below:
            print("mutation score fell below tests/MUTATION.md:\n  " + "\n  ".join(below), file=sys.stderr)
            print("kill the new survivors (`.venv/bin/mutmut results`, `mutmut show NAME`)", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
