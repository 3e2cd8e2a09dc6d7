"""Engine events of whole previews that the pr-summary tests share: a clean two-connector stack and a large one."""

from __future__ import annotations

from typing import Any

from pulumi import automation as auto

from ctp_credentials.automation.pr_summary.build import summarise
from ctp_credentials.automation.pr_summary.markdown import render_markdown
from ctp_credentials.automation.pr_summary.model import Summary
from tests.automation import events as ev

NOW = 1_800_000_000.0
CHECK_FAILED = (
    "pulumi-python:dynamic/commercetools:CredentialCheck resource 'credential-check' has a problem: connector "
    "'storefront' (project shop-eu, region europe-west1.gcp, http://127.0.0.1:41234): client ID or secret "
    "rejected (token request: HTTP 401 invalid_client). Copy both from the API client in the Merchant Center "
    "again: pulumi config set --path 'connectors.storefront.clientId' <id> and pulumi config set --secret "
    "clientSecret-storefront <secret>"
)


def clean_events(port: int = 56989) -> list[auto.EngineEvent]:
    url = f"http://127.0.0.1:{port}"
    out = [ev.prelude({"patchworks": {"projectKey": "shop-eu"}, "storefront": {"projectKey": "shop-eu"}})]
    for name in ("storefront", "patchworks"):  # engine order is not sorted; the summary is
        out += ev.step("same", ev.component_urn(name), ev.COMPONENT, old_outputs={"config": ev.document(name)})
        out += ev.step(
            "same",
            ev.child_urn(ev.KV, f"{name}-secret"),
            ev.KV,
            old=ev.kv_inputs(name, address=url),
            new=ev.kv_inputs(name, address=url),
            parent=ev.component_urn(name),
        )
    entries = {n: ev.check_entry(n, auth_url=url) for n in ("patchworks", "storefront")}
    out += ev.step("same", ev.CHECK_URN, ev.CHECK, old={"connectors": entries}, new={"connectors": entries})
    out.append(ev.summary({"same": 6}))
    return out


def render(events: list[auto.EngineEvent], **kw: Any) -> tuple[Summary, str]:
    summary = summarise(events, "test", policy_packs=["policies"], now=NOW, **kw)
    return summary, render_markdown(summary)


def big_stack(n: int, with_failure: bool = True) -> list[auto.EngineEvent]:
    scopes = [f"view_thing_{i:02d}:shop-eu" for i in range(20)]
    events = [ev.prelude({f"conn-{i:03d}": {} for i in range(n)})]
    for i in range(n):
        name = f"conn-{i:03d}"
        events += ev.step("create", ev.component_urn(name), ev.COMPONENT)
        events += ev.step(
            "create",
            ev.child_urn(ev.KV, f"{name}-secret"),
            ev.KV,
            new=ev.kv_inputs(name),
            parent=ev.component_urn(name),
        )
    entries = {f"conn-{i:03d}": ev.check_entry(f"conn-{i:03d}", scopes=scopes) for i in range(n)}
    events += ev.step("create", ev.CHECK_URN, ev.CHECK, new={"connectors": entries})
    if with_failure:
        events.append(ev.diagnostic("error", CHECK_FAILED.replace("storefront", f"conn-{n - 1:03d}"), ev.CHECK_URN))
    events.append(ev.policy("commercetools-least-privilege", "mandatory", "connector 'conn-000': scope 'x'"))
    events.append(ev.summary({"create": 2 * n + 1}))
    return events
