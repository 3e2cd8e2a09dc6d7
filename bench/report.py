"""From the results to the verdicts and RESULTS.md: the targets met or not, the state-size summary, the tables
(with ANALYSIS.md appended)."""

from __future__ import annotations

from typing import Any

from bench.harness import BENCH, Plan
from bench.measure import slope
from bench.scenarios import LATENCY


def targets(results: dict[str, Any], plan: Plan) -> list[dict[str, Any]]:
    at = results["scaling"][str(plan.target_n)]
    par = results["parallel"]
    reups = [c for row in results["scaling"].values() for c in row["reup"]]
    stores = results["stores"]
    reups += [stores["unchanged_up"], stores["unchanged_up_with_preview"]]
    writes = sum(c["vault_writes"] + c["sm_writes"] for c in reups)
    versions = sum(c["vault_new_versions"] + c["sm_new_versions"] for c in reups)
    api_calls = sum(c["api_client_calls"] for c in reups)
    steps = sum(c["changed_steps"] for c in reups)
    state = results["state"]
    rot = results["rotation"]
    return [
        {
            "id": "1",
            "what": f"preview ours / baseline at N={plan.target_n}",
            "value": at["preview"]["ratio"],
            "limit": 1.3,
            "met": at["preview"]["ratio"] <= 1.3,
        },
        {
            "id": "1",
            "what": f"up ours / baseline at N={plan.target_n}",
            "value": at["up"]["ratio"],
            "limit": 1.3,
            "met": at["up"]["ratio"] <= 1.3,
        },
        {
            "id": "2",
            "what": f"preview time added by {LATENCY * 1000:.0f} ms per token request, {par['n']} connectors (s)",
            "value": par["added"],
            "limit": 1.5 * LATENCY,
            "met": par["added"] <= 1.5 * LATENCY,
        },
        {
            "id": "3",
            "what": f"store writes + new versions in {len(reups)} unchanged re-ups",
            "value": writes + versions,
            "limit": 0,
            "met": writes == 0 and versions == 0,
        },
        {
            "id": "3",
            "what": f"API-client calls in {len(reups)} unchanged re-ups",
            "value": api_calls,
            "limit": 0,
            "met": api_calls == 0,
        },
        {
            "id": "3",
            "what": f"steps other than `same` in {len(reups)} unchanged re-ups (engine history)",
            "value": steps,
            "limit": 0,
            "met": steps == 0,
        },
        {
            "id": "4",
            "what": "state bytes per connector / per baseline unit",
            "value": state["ratio_to_unit"],
            "limit": 1.5,
            "met": state["ratio_to_unit"] <= 1.5,
        },
        {
            "id": "5",
            "what": f"rotate {rot['sizes'][1]} / rotate {rot['sizes'][0]}",
            "value": rot["ratio"],
            "limit": 2.0,
            "met": rot["ratio"] <= 2.0,
        },
    ]


def state_summary(results: dict[str, Any]) -> dict[str, Any]:
    rows = results["scaling"]
    ours = [(float(n), v) for n, row in rows.items() for v in row["state_bytes"]["ours_runs"]]
    base = [(float(n), v) for n, row in rows.items() for v in row["state_bytes"]["baseline_runs"]]
    per_connector, per_unit = slope(ours), slope(base)
    single = results["per_resource"]["bare"]["state_bytes"]
    biggest = max(rows, key=int)
    return {
        "per_connector": per_connector,
        "per_baseline_unit": per_unit,
        "per_baseline_resource": single,
        "ratio_to_unit": per_connector / per_unit,
        "ratio_to_resource": per_connector / single,
        "breakdown": rows[biggest]["breakdown"]
        or next((r["breakdown"] for r in rows.values() if r["breakdown"]), None),
    }


def calls(c: dict[str, float]) -> str:
    return f"{c['token']:.0f} token requests, {c['api_clients']:.0f} API-client calls"


def fmt(x: float, unit: str = "") -> str:
    if unit == "s":
        return f"{x:.2f} s"
    if unit == "ms":
        return f"{x * 1000:.0f} ms"
    if unit == "B":
        return f"{x:,.0f} B"
    return f"{x:.2f}"


def render(results: dict[str, Any], *, quick: bool = False) -> str:
    m = results["machine"]
    load = results["load"]
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python bench/run.py`); how each figure is measured: [README.md](README.md).",
        "Every time is the median of the runs shown; every ratio is the median of per-repetition ratios, each",
        "pair measured back to back on the same machine.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {m['cpu']}, {m['cores']} cores |",
        f"| memory | {m['memory_gib']} GiB |",
        f"| OS | {m['os']} |",
        f"| Python | {m['python']} |",
        f"| Pulumi | CLI {m['pulumi_cli']}, SDK {m['pulumi_sdk']} |",
        f"| OpenBao | {m['openbao']} |",
        f"| date | {m['date']} |",
        f"| load average (1 min) | start {m['loadavg_start'][0]:.2f}; during the run min {load['min']:.2f}, "
        f"median {load['median']:.2f}, max {load['max']:.2f} ({load['samples']} samples); end "
        f"{results['loadavg_end'][0]:.2f} |",
        f"| duration | {results['duration_s']:.0f} s |",
        "",
        "## Targets",
        "",
        "| # | what | value | target | |",
        "|---|---|---|---|---|",
    ]
    for t in results["targets"]:
        verdict = "met" if t["met"] else "**not met**"
        lines.append(f"| {t['id']} | {t['what']} | {t['value']:.2f} | ≤ {t['limit']:g} | {verdict} |")
    lines += [
        "",
        "## 1. Engine scaling: ours / baseline",
        "",
        "Fresh stack: `preview`, then `up --yes --skip-preview`; then both again with nothing changed. Baseline:",
        "`bench/baseline`, shape `mirror` (per connector a component and one no-op dynamic resource, plus one",
        "stack-level no-op resource and one stack output per unit: our graph without our work).",
        "",
        "| N | runs | preview ours | baseline | ratio | up ours | baseline | ratio "
        "| unchanged preview ratio | unchanged up ours | baseline | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, row in results["scaling"].items():
        p, u, p2, u2 = row["preview"], row["up"], row["preview_unchanged"], row["up_unchanged"]
        lines.append(
            f"| {n} | {row['runs']} | {fmt(p['ours'], 's')} | {fmt(p['baseline'], 's')} | {fmt(p['ratio'])} "
            f"| {fmt(u['ours'], 's')} | {fmt(u['baseline'], 's')} | {fmt(u['ratio'])} | {fmt(p2['ratio'])} "
            f"| {fmt(u2['ours'], 's')} | {fmt(u2['baseline'], 's')} | {fmt(u2['ratio'])} |"
        )
    pr = results["per_resource"]
    lines += [
        "",
        f"Engine cost per no-op dynamic resource (slope between N={pr['sizes'][0]} and N={pr['sizes'][1]}, "
        f"{pr['runs']} runs):",
        "",
        "| provider in state | preview | up | state |",
        "|---|---|---|---|",
        f"| wrapped as a secret (the SDK's default) | {fmt(pr['bare']['preview'], 'ms')} "
        f"| {fmt(pr['bare']['up'], 'ms')} | {fmt(pr['bare']['state_bytes'], 'B')} |",
        f"| plain (`serialize_as_secret_always = False`, as ours) | {fmt(pr['plain']['preview'], 'ms')} "
        f"| {fmt(pr['plain']['up'], 'ms')} "
        f"| {fmt(pr['plain']['state_bytes'], 'B')} |",
        f"| cost of the secret wrapping | {fmt(pr['secret_wrap_cost']['preview'], 'ms')} "
        f"| {fmt(pr['secret_wrap_cost']['up'], 'ms')} | {fmt(pr['secret_wrap_cost']['state_bytes'], 'B')} |",
    ]
    pd = results["padded"]
    lines += [
        "",
        f"Diagnostic, state size: the mirror padded with {pd['pad_bytes_per_unit']:,} B of plain input per unit (our "
        f"state size, none of our work), N={pd['n']}, {pd['runs']} runs, fresh stacks:",
        "",
        "| | ours | padded baseline | baseline | ours / padded | padded / baseline | ours / baseline |",
        "|---|---|---|---|---|---|---|",
    ]
    for metric, unit in (("preview", "s"), ("up", "s"), ("state_bytes", "B")):
        m = pd[metric]
        lines.append(
            f"| {metric.replace('_', ' ')} | {fmt(m['ours'], unit)} | {fmt(m['padded'], unit)} "
            f"| {fmt(m['baseline'], unit)} | {fmt(m['ours_over_padded'])} | {fmt(m['padded_over_baseline'])} "
            f"| {fmt(m['ours_over_baseline'])} |"
        )
    par = results["parallel"]
    lines += [
        "",
        "## 2. Parallel credential checks",
        "",
        f"`preview` of {par['n']} connectors (stack already up), {par['latency'] * 1000:.0f} ms injected into every "
        "token request vs 0 ms, alternating:"
        + (
            f" measured {par['measured']} on its own (`make bench ONLY=parallel`), with {par['program']}"
            if par.get("measured")
            else ""
        ),
        "",
        "| preview at 0 ms | at 200 ms | added (median of paired differences) | physical limit | serial would add "
        "| token requests per preview |",
        "|---|---|---|---|---|---|",
        f"| {fmt(par['preview_0ms'], 's')} | {fmt(par['preview_latency'], 's')} | {fmt(par['added'], 'ms')} "
        f"| {fmt(par['latency'], 'ms')} | {fmt(par['serial_would_add'], 's')} "
        f"| {par['token_requests_per_preview']:.0f} |",
        "",
        "## 3. Unchanged re-`up`: remote calls",
        "",
        "| stack | Vault requests | Vault writes | new Vault versions | Secrets Manager calls | SM writes "
        "| new SM versions | API-client calls | token requests | steps other than `same` |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def calls_row(label: str, c: dict[str, Any]) -> str:
        return (
            f"| {label} | {c['vault_requests']} | {c['vault_writes']} | {c['vault_new_versions']} | {c['sm_requests']} "
            f"| {c['sm_writes']} | {c['sm_new_versions']} | {c['api_client_calls']} | {c['token_requests']} "
            f"| {c.get('changed_steps', '')} |"
        )

    for n, row in results["scaling"].items():
        worst = max(row["reup"], key=lambda c: c["vault_writes"] + c["vault_new_versions"] + c["token_requests"])
        lines.append(calls_row(f"N={n} Vault, `up --skip-preview` (max of {len(row['reup'])})", worst))
    st = results["stores"]
    lines += [
        calls_row(
            f"{st['vault_connectors']} Vault + {st['secrets_manager_connectors']} SM, `up --skip-preview`",
            st["unchanged_up"],
        ),
        calls_row(
            f"{st['vault_connectors']} Vault + {st['secrets_manager_connectors']} SM, `up --yes` (with its preview)",
            st["unchanged_up_with_preview"],
        ),
        calls_row(f"(for scale: that stack's first `up`, {st['n']} connectors)", st["first_up"]),
    ]
    s = results["state"]
    lines += [
        "",
        "## 4. State size",
        "",
        "Bytes of the backend's checkpoint file, least-squares slope over N:",
        "",
        "| per connector (ours) | per baseline unit | ratio | per single no-op dynamic resource | ratio |",
        "|---|---|---|---|---|",
        f"| {fmt(s['per_connector'], 'B')} | {fmt(s['per_baseline_unit'], 'B')} | {fmt(s['ratio_to_unit'])} "
        f"| {fmt(s['per_baseline_resource'], 'B')} | {fmt(s['ratio_to_resource'])} |",
    ]
    if s["breakdown"]:
        b = s["breakdown"]
        lines += [
            "",
            f"Where our bytes go, per connector (the N={b['n']} checkpoint, {b['file_bytes']:,} B; resources account "
            f"for {b['accounted_bytes']:,} B):",
            "",
            "| resource | per connector | bytes | inputs | outputs | the rest (URN, parent, dependencies, ...) |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {k} | {v['count']:g} | {v['total']:,} | {v['inputs']:,} | {v['outputs']:,} | {v['rest']:,} |"
            for k, v in b["by_type_per_connector"].items()
        ]
        lines += ["", "| largest properties | bytes per connector |", "|---|---|"]
        lines += [f"| {k} | {v:,} |" for k, v in b["top_properties_per_connector"].items()]
    rot = results["rotation"]
    one, many = (str(k) for k in rot["sizes"])
    lines += [
        "",
        "## 5. Rotation",
        "",
        "`python -m ctp_credentials rotate --stack NAME --json` on managed connectors (`graceHours: 0`):",
        "",
        f"| {one} connector | {many} connectors | ratio | calls per rotation ({one}) | ({many}) |",
        "|---|---|---|---|---|",
        f"| {fmt(rot['seconds'][one], 's')} | {fmt(rot['seconds'][many], 's')} | {fmt(rot['ratio'])} "
        f"| {calls(rot['calls_per_rotation'][one])} | {calls(rot['calls_per_rotation'][many])} |",
        "",
    ]
    analysis = BENCH / "ANALYSIS.md"
    if analysis.exists() and not quick:
        lines += [analysis.read_text().rstrip(), ""]
    return "\n".join(lines)
