"""`make bench`: what the credentials program costs on top of the Pulumi engine, measured on this machine.

Every figure is a median of several runs, and every comparison is a ratio of two figures measured in the same
repetition, back to back (ours, then the baseline, or the other way round on odd repetitions), so load from other
work on the machine touches both sides of a ratio alike. Scenarios (bench/README.md says why each is built so):

1. scaling: `pulumi preview` and `pulumi up` on a fresh stack, then both again unchanged, for N connectors, against
   the baseline program (bench/baseline) with the same resource graph made of no-op dynamic resources; the cost
   per no-op dynamic resource, with its provider wrapped as a secret and plain; and a state-size diagnostic (the
   baseline padded to our state size);
2. parallel checks: preview of 20 connectors with 200 ms injected into every token request, minus 0 ms;
3. unchanged re-`up`: store writes, new versions, API-client calls and token requests (Vault audit log, Secrets
   Manager calls counted at a counting moto, the emulator's counters) and the steps the engine recorded for the
   update (`pulumi stack history --json`: anything but `same` is a change);
4. state size: checkpoint bytes per connector against the baseline's unit and its single resource;
5. rotation: `python -m ctp_credentials rotate` of 1 and of 100 managed connectors.

`python bench/run.py` writes bench/results.json and bench/RESULTS.md; `--quick` runs small N once (a smoke test,
written under bench/work/quick/); `--profile` profiles one `up` (Go pprof of the engine, py-spy of the Python
processes when installed) and writes bench/PROFILE.md; `--render` rewrites RESULTS.md from results.json (with
bench/ANALYSIS.md, the hand-written causes and recommendations, appended).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout: ctp_credentials and bench.*

from bench.harness import BENCH, Bench, Plan
from bench.measure import Clock, LoadSampler, machine
from bench.profile_up import profile
from bench.report import render, state_summary, targets
from bench.scenarios import padded, parallel_checks, per_resource, rotation, scaling, stores_reup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small N, one run each: a smoke test (bench/work/quick)")
    parser.add_argument("--profile", action="store_true", help="profile one `up` and write bench/PROFILE.md")
    parser.add_argument("--profile-n", type=int, default=50, help="connectors in the profiled stack (default 50)")
    parser.add_argument("--out", type=Path, help="where results.json and RESULTS.md go (default: bench/)")
    parser.add_argument("--render", action="store_true", help="only rewrite RESULTS.md from results.json")
    parser.add_argument(
        "--only",
        choices=["parallel"],
        help="measure one scenario again and replace its figures in results.json (the others are kept)",
    )
    args = parser.parse_args(argv)
    if args.render:
        out = args.out or BENCH
        (out / "RESULTS.md").write_text(render(json.loads((out / "results.json").read_text()), quick=args.quick))
        return 0

    # A SIGTERM unwinds like Ctrl-C, so OpenBao and the emulator are stopped and no server is left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    plan = Plan.quick() if args.quick else Plan()
    work = BENCH / "work" / ("quick" if args.quick else "full")
    out_dir = args.out or (work if args.quick else BENCH)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    clock = Clock()
    bench = Bench(work, plan, clock)
    with bench.running():
        if args.profile:
            text = profile(bench, 3 if args.quick else args.profile_n)
            target = (out_dir if args.quick else BENCH) / "PROFILE.md"
            target.write_text(text + "\n")
            clock.say(f"wrote {target}")
            return 0
        if args.only == "parallel":
            results = json.loads((out_dir / "results.json").read_text())
            # The stack program declares its connectors through the library and wires no check: the component
            # joins the shared check by itself, so this is the figure for any program that uses the library.
            results["parallel"] = {
                **parallel_checks(bench),
                "measured": time.strftime("%Y-%m-%d"),
                "program": "the stack program as a library user (the check joined by the components, no wiring)",
            }
            (out_dir / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
            (out_dir / "RESULTS.md").write_text(render(results, quick=args.quick))
            clock.say(f"parallel checks measured again into {out_dir / 'results.json'}")
            return 0
        results: dict[str, Any] = {"machine": machine(), "plan": {"ns": plan.ns, "reps": plan.reps}}
        clock.say(
            f"machine: {results['machine']['cpu']}, {results['machine']['cores']} cores, load {os.getloadavg()[0]:.2f}"
        )
        with LoadSampler() as load:
            results["scaling"] = scaling(bench)
            results["per_resource"] = per_resource(bench)
            results["padded"] = padded(bench, results["scaling"])
            results["parallel"] = parallel_checks(bench)
            results["stores"] = stores_reup(bench)
            results["rotation"] = rotation(bench)
        results["load"] = load.summary()
        results["loadavg_end"] = list(os.getloadavg())
        results["duration_s"] = time.monotonic() - clock.start
        results["state"] = state_summary(results)
        results["targets"] = targets(results, plan)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    (out_dir / "RESULTS.md").write_text(render(results, quick=args.quick))
    for t in results["targets"]:
        print(f"target {t['id']}: {t['what']}: {t['value']:.2f} (≤ {t['limit']:g}) {'met' if t['met'] else 'NOT MET'}")
    clock.say(f"wrote {out_dir / 'results.json'} and {out_dir / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
