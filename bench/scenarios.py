"""The scenarios, each a function of the Bench returning its figures: scaling (with the per-resource cost and the
padded-state diagnostic), parallel checks, unchanged re-`up` on both stores, rotation. bench/README.md says
why each is built so."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.harness import ROOT, Bench
from bench.measure import median, ratios

LATENCY = 0.2  # seconds injected into every token request in the parallel-check scenario


# --- scenario 1 (and 3, 4): scaling ---------------------------------------------------------------------------
def cycle(bench: Bench, kind: str, n: int, rep: int, *, full: bool = True, pad: int = 0) -> dict[str, Any]:
    """One fresh stack: preview, up, [preview and up again, unchanged], state size; then the stack is removed.

    `kind`: ours, baseline (the mirror), baseline-bare, baseline-plain, or baseline-padded (the mirror with `pad`
    bytes of plain input per unit)."""
    tag = {"ours": "o", "baseline": "b", "baseline-bare": "bb", "baseline-plain": "bp", "baseline-padded": "bx"}[kind]
    stack = bench.stack_name(f"{tag}{n}r{rep}")
    if kind == "ours":
        project = bench.ours
        config, secrets = bench.connectors(stack, n)
    else:
        project = bench.base
        shape = {"baseline-bare": "bare", "baseline-plain": "plain"}.get(kind, "mirror")
        config, secrets = {"units": n, "shape": shape, "pad": pad}, {}
    project.new_stack(stack, config, secrets)
    out: dict[str, Any] = {"preview": project.pulumi(stack, "preview").seconds}
    out["up"] = project.pulumi(stack, "up", "--yes", "--skip-preview").seconds
    out["state_bytes"] = project.checkpoint(stack).stat().st_size
    if full:
        out["preview_unchanged"] = project.pulumi(stack, "preview").seconds
        paths = [f"bench/{stack}/c{i:03d}" for i in range(n)] if kind == "ours" else []
        with bench.counting(stack, paths, []) as counts:
            reup = project.pulumi(stack, "up", "--yes", "--skip-preview")
        out["up_unchanged"] = reup.seconds
        if kind == "ours":
            out["reup"] = {**counts, "changed_steps": changed_steps(project.last_update_steps(stack))}
        if kind == "ours" and rep == 0:
            out["breakdown"] = breakdown(project.checkpoint(stack), n)
    project.remove(stack)
    return out


def changed_steps(steps: dict[str, int]) -> int:
    return sum(n for kind, n in steps.items() if kind != "same")


def file_bytes(value: Any, depth: int, *, indented: bool) -> int:
    """Bytes `value` takes in the backend's checkpoint file at nesting `depth`. CLI v3.79 indented the file by 4
    spaces a level (its JSON, every line indented, the first line's indent and the separator); current CLIs write
    it compact (the JSON and a separator)."""
    if not indented:
        return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()) + 1
    text = json.dumps(value, indent=4, ensure_ascii=False)
    return len(text.encode()) + (text.count("\n") + 1) * 4 * depth + 2


def breakdown(checkpoint: Path, n: int) -> dict[str, Any]:
    """Where a checkpoint's bytes go, per connector: by resource type (inputs, outputs, the rest: URN, parent,
    dependencies, provider reference, property dependencies, timestamps) and by the largest properties."""
    total = checkpoint.stat().st_size
    raw = checkpoint.read_text()
    indented = "\n    " in raw[:4096]
    resources = json.loads(raw)["checkpoint"]["latest"]["resources"]
    by_type: dict[str, Counter[str]] = {}
    by_prop: Counter[str] = Counter()
    for r in resources:
        kind = r["type"].rsplit(":", 1)[-1]
        row = by_type.setdefault(kind, Counter())
        row["count"] += 1
        whole = file_bytes(r, 4, indented=indented)
        row["total"] += whole
        rest = whole
        for section in ("inputs", "outputs"):
            props = r.get(section) or {}
            size = file_bytes(props, 5, indented=indented) + len(section) + (4 if indented else 3) if props else 0
            row[section] += size
            rest -= size
            for key, value in props.items():
                by_prop[f"{kind}.{section}.{key}"] += (
                    file_bytes(value, 6, indented=indented) + len(key) + (4 if indented else 3)
                )
        row["rest"] += rest
    accounted = sum(row["total"] for row in by_type.values())
    return {
        "n": n,
        "file_bytes": total,
        "accounted_bytes": accounted,
        "by_type_per_connector": {
            kind: {k: round(v / n, 2) if k == "count" else round(v / n) for k, v in row.items()}
            for kind, row in sorted(by_type.items(), key=lambda kv: -kv[1]["total"])
        },
        "top_properties_per_connector": {k: round(v / n) for k, v in by_prop.most_common(14)},
    }


def scaling(bench: Bench) -> dict[str, Any]:
    plan = bench.plan
    samples: dict[int, dict[str, list[dict[str, Any]]]] = {n: {"ours": [], "baseline": []} for n in plan.ns}
    for rep in range(max(plan.reps.values())):
        for n in plan.ns:
            if rep >= plan.reps[n]:
                continue
            for kind in ("ours", "baseline") if rep % 2 == 0 else ("baseline", "ours"):
                s = cycle(bench, kind, n, rep)
                samples[n][kind].append(s)
                bench.clock.say(
                    f"scaling N={n:<3} rep {rep + 1}/{plan.reps[n]} {kind:8} preview {s['preview']:5.2f}s "
                    f"up {s['up']:5.2f}s unchanged: preview {s['preview_unchanged']:5.2f}s "
                    f"up {s['up_unchanged']:5.2f}s "
                    f"state {s['state_bytes']} B"
                )
    out: dict[str, Any] = {}
    for n, by_kind in samples.items():
        row: dict[str, Any] = {"runs": len(by_kind["ours"])}
        for metric in ("preview", "up", "preview_unchanged", "up_unchanged", "state_bytes"):
            ours = [float(s[metric]) for s in by_kind["ours"]]
            base = [float(s[metric]) for s in by_kind["baseline"]]
            row[metric] = {
                "ours": median(ours),
                "baseline": median(base),
                "ratio": median(ratios(ours, base)),
                "ours_runs": ours,
                "baseline_runs": base,
            }
        row["reup"] = [s["reup"] for s in by_kind["ours"]]
        row["breakdown"] = next((s["breakdown"] for s in by_kind["ours"] if "breakdown" in s), None)
        out[str(n)] = row
    return out


def per_resource(bench: Bench) -> dict[str, Any]:
    """The engine's own cost per no-op dynamic resource, with the provider wrapped as a secret (the SDK's default)
    and plain (as ours): the slope between the two sizes, measured in the same repetition."""
    plan = bench.plan
    lo, hi = plan.per_resource_ns
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "plain": []}
    for rep in range(plan.per_resource_reps):
        for shape in ("bare", "plain") if rep % 2 == 0 else ("plain", "bare"):
            a = cycle(bench, f"baseline-{shape}", lo, rep, full=False)
            b = cycle(bench, f"baseline-{shape}", hi, rep, full=False)
            per = {k: (b[k] - a[k]) / (hi - lo) for k in ("preview", "up", "state_bytes")}
            runs[shape].append(per)
            bench.clock.say(
                f"per-resource rep {rep + 1}/{plan.per_resource_reps} {shape:5}: "
                f"preview {per['preview'] * 1000:5.1f} ms "
                f"up {per['up'] * 1000:5.1f} ms state {per['state_bytes']:.0f} B per resource"
            )
    out: dict[str, Any] = {"sizes": [lo, hi], "runs": plan.per_resource_reps}
    for shape, rs in runs.items():
        out[shape] = {k: median(r[k] for r in rs) for k in ("preview", "up", "state_bytes")}
    out["secret_wrap_cost"] = {
        k: median(b[k] - p[k] for b, p in zip(runs["bare"], runs["plain"], strict=True))
        for k in ("preview", "up", "state_bytes")
    }
    return out


def padded(bench: Bench, scaling_rows: dict[str, Any]) -> dict[str, Any]:
    """Diagnostic: is it the size of our state that makes our `up` slower? The engine saves the whole checkpoint
    before and after every step, one save at a time, so a step waits for saves whose cost grows with the state.
    The mirror padded with plain bytes to our state size has our graph, our state size and none of our work: if
    ours / padded is near 1, state size is the cause."""
    n = bench.plan.target_n
    row = scaling_rows[str(n)]["state_bytes"]
    pad = max(0, round((row["ours"] - row["baseline"]) / n))
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "baseline-padded": [], "baseline": []}
    for rep in range(bench.plan.padded_reps):
        kinds = list(runs) if rep % 2 == 0 else list(reversed(runs))
        for kind in kinds:
            runs[kind].append(cycle(bench, kind, n, 100 + rep, full=False, pad=pad if kind == "baseline-padded" else 0))
        bench.clock.say(
            f"padded N={n} rep {rep + 1}/{bench.plan.padded_reps}: up ours {runs['ours'][-1]['up']:5.2f}s, "
            f"padded baseline {runs['baseline-padded'][-1]['up']:5.2f}s, baseline {runs['baseline'][-1]['up']:5.2f}s"
        )
    out: dict[str, Any] = {"n": n, "pad_bytes_per_unit": pad, "runs": bench.plan.padded_reps}
    for metric in ("preview", "up", "state_bytes"):
        ours = [float(r[metric]) for r in runs["ours"]]
        pads = [float(r[metric]) for r in runs["baseline-padded"]]
        base = [float(r[metric]) for r in runs["baseline"]]
        out[metric] = {
            "ours": median(ours),
            "padded": median(pads),
            "baseline": median(base),
            "ours_over_padded": median(ratios(ours, pads)),
            "padded_over_baseline": median(ratios(pads, base)),
            "ours_over_baseline": median(ratios(ours, base)),
        }
    return out


# --- scenario 2: parallel checks ------------------------------------------------------------------------------
def parallel_checks(bench: Bench) -> dict[str, Any]:
    n = bench.plan.parallel_n
    stack = bench.stack_name(f"par{n}")
    config, secrets = bench.connectors(stack, n)
    bench.ours.new_stack(stack, config, secrets)
    bench.ours.pulumi(stack, "up", "--yes", "--skip-preview")
    slow: list[float] = []
    fast: list[float] = []
    tokens: list[int] = []
    try:
        for rep in range(bench.plan.parallel_reps):
            for latency in (0.0, LATENCY) if rep % 2 == 0 else (LATENCY, 0.0):
                bench.emu.faults.clear()
                if latency:
                    bench.emu.faults.add("token", latency=latency)
                before = bench.emu.count("token")
                seconds = bench.ours.pulumi(stack, "preview").seconds
                tokens.append(bench.emu.count("token") - before)
                (slow if latency else fast).append(seconds)
            bench.clock.say(
                f"parallel N={n} rep {rep + 1}/{bench.plan.parallel_reps}: preview {fast[-1]:5.2f}s at 0 ms, "
                f"{slow[-1]:5.2f}s at {LATENCY * 1000:.0f} ms"
            )
    finally:
        bench.emu.faults.clear()
    bench.ours.remove(stack)
    extra = [s - f for s, f in zip(slow, fast, strict=True)]
    return {
        "n": n,
        "latency": LATENCY,
        "preview_0ms": median(fast),
        "preview_latency": median(slow),
        "added": median(extra),
        "added_runs": extra,
        "token_requests_per_preview": median(tokens),
        "serial_would_add": n * LATENCY,
    }


# --- scenario 3: unchanged re-up on both stores ---------------------------------------------------------------
def stores_reup(bench: Bench) -> dict[str, Any]:
    """A stack with half its connectors on Vault and half on Secrets Manager: up, then `up` unchanged twice,
    with `--skip-preview` and without (a pipeline's plain `pulumi up --yes` previews first)."""
    n = bench.plan.stores_n
    half = n // 2
    stack = bench.stack_name(f"mix{n}")
    config, secrets = bench.connectors(stack, n, sm_from=half)
    bench.ours.new_stack(stack, config, secrets)
    vault_paths = [f"bench/{stack}/c{i:03d}" for i in range(half)]
    sm_names = [f"bench/{stack}/c{i:03d}" for i in range(half, n)]
    with bench.counting(stack, vault_paths, sm_names) as first:
        bench.ours.pulumi(stack, "up", "--yes", "--skip-preview")
    with bench.counting(stack, vault_paths, sm_names) as skip:
        bench.ours.pulumi(stack, "up", "--yes", "--skip-preview")
    skip["changed_steps"] = changed_steps(bench.ours.last_update_steps(stack))
    with bench.counting(stack, vault_paths, sm_names) as with_preview:
        bench.ours.pulumi(stack, "up", "--yes")
    with_preview["changed_steps"] = changed_steps(bench.ours.last_update_steps(stack))
    bench.ours.remove(stack)
    bench.clock.say(f"stores: first up {first}; unchanged up {skip}; unchanged up with preview {with_preview}")
    return {
        "n": n,
        "vault_connectors": half,
        "secrets_manager_connectors": n - half,
        "first_up": first,
        "unchanged_up": skip,
        "unchanged_up_with_preview": with_preview,
    }


# --- scenario 5: rotation -------------------------------------------------------------------------------------
def rotation(bench: Bench) -> dict[str, Any]:
    sizes = bench.plan.rotation_ns
    env = {**bench.ours.env, **bench.admin_env}
    stacks = {}
    for k in sizes:
        stack = bench.stack_name(f"rot{k}")
        bench.ours.new_stack(stack, bench.managed(stack, k))
        bench.ours.pulumi(stack, "up", "--yes", "--skip-preview", env=bench.admin_env)
        stacks[k] = stack
    times: dict[int, list[float]] = {k: [] for k in sizes}
    calls: dict[int, list[dict[str, int]]] = {k: [] for k in sizes}
    for rep in range(bench.plan.rotation_reps):
        for k in sizes if rep % 2 == 0 else tuple(reversed(sizes)):
            tok0, api0 = bench.emu.count("token"), bench.emu.count("api_clients")
            start = time.perf_counter()
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "ctp_credentials",
                    "--cwd",
                    str(bench.ours.dir),
                    "rotate",
                    "--stack",
                    stacks[k],
                    "--json",
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            seconds = time.perf_counter() - start
            report = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
            if proc.returncode != 0 or not report.get("ok") or len(report.get("connectors", [])) != k:
                raise RuntimeError(f"rotation of {k} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
            if not all(c["verified"] for c in report["connectors"]):
                raise RuntimeError(f"rotation of {k}: a rotated connector was not verified: {proc.stdout}")
            times[k].append(seconds)
            calls[k].append(
                {"token": bench.emu.count("token") - tok0, "api_clients": bench.emu.count("api_clients") - api0}
            )
        bench.clock.say(
            f"rotation rep {rep + 1}/{bench.plan.rotation_reps}: "
            + ", ".join(f"{k} connector(s) {times[k][-1]:5.2f}s" for k in sizes)
        )
    for stack in stacks.values():
        bench.ours.remove(stack)
    one, many = sizes
    return {
        "sizes": list(sizes),
        "seconds": {str(k): median(v) for k, v in times.items()},
        "runs": {str(k): v for k, v in times.items()},
        "ratio": median(ratios(times[many], times[one])),
        "calls_per_rotation": {
            str(k): {c: median(r[c] for r in v) for c in ("token", "api_clients")} for k, v in calls.items()
        },
    }
