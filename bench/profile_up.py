"""`--profile`: one `up` of ours and of the baseline with the engine's CPU profile and py-spy attached to every
Python process, plus the program's import times: PROFILE.md."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

from bench.harness import ROOT, Bench, Project


def descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == pid]
        found += kids
        frontier += kids
    return found


def profiled_up(project: Project, stack: str, out: Path, py_spy: str | None) -> tuple[float, list[Path]]:
    """`up` with the engine's own CPU profile (`--profiling`) and py-spy attached to each Python process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [
            "pulumi",
            "up",
            "--yes",
            "--skip-preview",
            "--non-interactive",
            "--stack",
            stack,
            "--profiling",
            str(out / "engine"),
        ],
        cwd=project.dir,
        env=project.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    spies: list[subprocess.Popen[bytes]] = []
    outputs: list[Path] = []
    seen: set[int] = set()
    while proc.poll() is None and py_spy:
        for pid in descendants(proc.pid):
            if pid in seen:
                continue
            try:
                exe = os.readlink(f"/proc/{pid}/exe")
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            seen.add(pid)
            if "python" not in Path(exe).name:
                continue
            role = (
                "provider"
                if "pulumi.dynamic" in cmd
                else "host"  # the stand-in language host (users' official host is Go)
                if "languagehost.py" in cmd
                else "pip"
                if " pip " in f" {cmd} "
                else "program"
            )
            path = out / f"pyspy-{role}-{pid}.txt"
            outputs.append(path)
            spies.append(
                subprocess.Popen(
                    [
                        py_spy,
                        "record",
                        "--pid",
                        str(pid),
                        "--rate",
                        "200",
                        "--gil",
                        "--format",
                        "raw",
                        "--output",
                        str(path),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(0.01)
    proc.wait()
    seconds = time.perf_counter() - start
    for spy in spies:
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
    return seconds, [p for p in outputs if p.exists()]


def summarize_pyspy(path: Path, rate: int = 200, top: int = 12) -> tuple[float, list[str]]:
    """Seconds holding the GIL, and the busiest frames (self and inclusive) of one py-spy raw profile."""
    self_t: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [re.sub(r"\s*\(.*?/site-packages/", " (", f) for f in stack.split(";")]
        frames = [re.sub(r"\(/.*?/(components|project)/", r"(\1/", f) for f in frames]
        self_t[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    out = [f"{path.name}: {total / rate:.2f} s holding the GIL ({total} samples at {rate} Hz)", ""]
    out += ["self time:", *[f"  {n / rate:6.2f} s  {f or '(native code)'}" for f, n in self_t.most_common(top)], ""]
    busy = [(f, n) for f, n in incl.most_common() if f and not re.match(r"(<module>|_bootstrap|run |main |Thread)", f)]
    out += ["inclusive time, busiest frames:", *[f"  {n / rate:6.2f} s  {f}" for f, n in busy[:top]], ""]
    ours = [(f, n) for f, n in incl.most_common() if "components/" in f][:top]
    out += ["inclusive time in the program's own code:", *[f"  {n / rate:6.2f} s  {f}" for f, n in ours]]
    return total / rate, out


def engine_profile(go: str, cpu: Path) -> tuple[float, float, list[str]]:
    """The engine's CPU seconds, the part spent saving checkpoints, and `pprof -top -cum`."""
    top = subprocess.run(
        [go, "tool", "pprof", "-top", "-cum", "-nodecount=22", str(cpu)], capture_output=True, text=True, check=False
    ).stdout

    def seconds(text: str) -> float:
        value = float(re.sub(r"[a-z]+$", "", text))
        return value / 1000 if text.endswith("ms") else value

    total = re.search(r"Total samples = ([\d.]+m?s)", top)
    save = re.search(r"([\d.]+m?s)\s+[\d.]+%\s+\S+SnapshotManager\)\.saveSnapshot", top)
    return (
        seconds(total.group(1)) if total else float("nan"),
        seconds(save.group(1)) if save else 0.0,
        top.strip().splitlines()[3:],
    )


def import_times(project: Project, module: str, top: int = 14) -> list[str]:
    """`python -X importtime` of one module of the program, after `pulumi` (which the baseline imports too):
    the import cost every program run and every provider process pays before doing anything."""
    code = (
        f"import pulumi, pulumi.dynamic, time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    )
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-X", "importtime", "-c", code],
        cwd=project.dir,
        capture_output=True,
        text=True,
        check=False,
    )
    rows: list[tuple[float, str, int]] = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            depth = (len(name) - len(name.lstrip())) // 2
            if depth == 0 and name.strip() != module:
                rows = []  # a finished top-level import before ours (pulumi, time): not part of its tree
            elif depth <= 3:
                rows.append((int(parts[1]) / 1e6, name.strip(), depth))
    seconds = float(proc.stdout.strip() or "nan")
    out = [f"import {module}: {seconds:.3f} s (after pulumi); largest imports in its tree (cumulative):"]
    for cum, name, depth in sorted(rows, reverse=True)[:top]:
        out.append(f"  {cum:6.3f} s  {'  ' * depth}{name}")
    return out


def profile(bench: Bench, n: int) -> str:
    out = bench.work / "profile"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    spy_path = ROOT / ".venv" / "bin" / "py-spy"
    py_spy = str(spy_path) if spy_path.exists() else shutil.which("py-spy")
    spy_version = (
        subprocess.run([py_spy, "--version"], capture_output=True, text=True, check=False).stdout.strip()
        if py_spy
        else "py-spy (not installed: `.venv/bin/pip install py-spy==0.4.3`)"
    )
    go = shutil.which("go")
    summary = [
        "| | wall | engine CPU (Go) | of it saving checkpoints | program (GIL) | providers (GIL) "
        "| stand-in language host (GIL) | state |"
    ]
    summary.append("|---|---|---|---|---|---|---|---|")
    details: list[str] = []
    for kind, project in (("ours", bench.ours), ("baseline", bench.base)):
        stack = bench.stack_name(f"prof-{kind}{n}")
        if kind == "ours":
            config, secrets = bench.connectors(stack, n)
            project.new_stack(stack, config, secrets)
        else:
            project.new_stack(stack, {"units": n, "shape": "mirror"})
        project.pulumi(stack, "preview")
        kind_out = out / kind
        kind_out.mkdir()
        seconds, spies = profiled_up(project, stack, kind_out, py_spy)
        state = project.checkpoint(stack).stat().st_size
        bench.clock.say(f"profile {kind}: up {seconds:.2f}s, state {state} B")
        details += [f"## {kind}: `up` of N={n}, {seconds:.2f} s wall, final state {state:,} B", ""]
        engine_cpu, saving = float("nan"), float("nan")
        cpu = next(kind_out.glob("engine.*.cpu"), None)
        if go and cpu:
            engine_cpu, saving, top = engine_profile(go, cpu)
            details += ["Engine (Go), cumulative:", "", "```", *top, "```", ""]
        gil = {"program": 0.0, "provider": 0.0, "host": 0.0}
        for spy in sorted(spies):
            held, lines = summarize_pyspy(spy)
            role = spy.name.split("-")[1]
            gil[role] = gil.get(role, 0.0) + held
            details += ["```", *lines, "```", ""]
        summary.append(
            f"| {kind} | {seconds:.2f} s | {engine_cpu:.2f} s | {saving:.2f} s | {gil['program']:.2f} s "
            f"| {gil['provider']:.2f} s | {gil['host']:.2f} s | {state:,} B |"
        )
        project.remove(stack)
    imports = ["## Import time", "", "```"]
    for module in (
        "ctp_credentials.components.connector",
        "ctp_credentials.components.providers.credential_check",
        "ctp_credentials.components.providers.vault_secret",
    ):
        imports += [*import_times(bench.ours, module), ""]
    imports += ["```", ""]
    head = [
        "# Profile of one `up`",
        "",
        f"Written by `python bench/run.py --profile` (N={n}, fresh stacks, after a `preview`). Engine: the CLI's own "
        f"`--profiling` CPU profile, read with `go tool pprof`. Python: {spy_version}, attached to every Python "
        "process of the run with `--gil` (samples only while a thread holds the GIL: Python CPU, not waiting).",
        f"Load average at the start: {os.getloadavg()[0]:.2f} (2 cores).",
        "",
    ]
    return "\n".join([*head, *summary, "", *imports, *details])
