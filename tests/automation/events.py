"""Engine events as the 3.79 engine writes them to its event log (camelCase JSON), parsed by the Automation API's
own `EngineEvent.from_json`: the renderer's unit tests see exactly the objects `Stack.preview(on_event=...)`
hands over."""

from __future__ import annotations

import itertools
import json
from typing import Any

from pulumi import automation as auto

from ctp_credentials.automation.pr_summary import CONFIG_KEY, SECRET_SIG

PREFIX = "urn:pulumi:test::commercetools-credentials::"
STACK_URN = f"{PREFIX}pulumi:pulumi:Stack::commercetools-credentials-test"
COMPONENT = "ctp:index:CommercetoolsConnector"
CHECK = "pulumi-python:dynamic/commercetools:CredentialCheck"
CHECK_URN = f"{PREFIX}{CHECK}::credential-check"
KV = "pulumi-python:dynamic/vault:KvSecret"
SM = "pulumi-python:dynamic/aws:SecretsManagerSecret"
CLIENT = "pulumi-python:dynamic/commercetools:ApiClient"
PROVIDER = f"{PREFIX}pulumi:providers:pulumi-python::default::d45dcca2-034c-4b6d-a101-7423d1addf85"
BLINDED = {SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "[secret]"}
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_sequence = itertools.count(1)


def event(**payload: Any) -> auto.EngineEvent:
    n = next(_sequence)
    return auto.EngineEvent.from_json({"sequence": n, "timestamp": 1_700_000_000 + n, **payload})


def component_urn(name: str) -> str:
    return f"{PREFIX}{COMPONENT}::{name}"


def child_urn(type_: str, name: str) -> str:
    return f"{PREFIX}{COMPONENT}${type_}::{name}"


def prelude(connectors: dict[str, Any], secrets: tuple[str, ...] = ("clientSecret-patchworks",)) -> auto.EngineEvent:
    config = {CONFIG_KEY: json.dumps(connectors)}
    config |= {f"commercetools-credentials:{key}": "[secret]" for key in secrets}
    return event(preludeEvent={"config": config})


def _state(urn: str, type_: str, parent: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
    custom = type_ != COMPONENT
    return {
        "type": type_,
        "urn": urn,
        "id": "0c1476e7b1e140a6aafd56b7b7b19aa4" if custom else "",
        "parent": parent,
        "provider": PROVIDER if custom else "",
        "custom": custom,
        "inputs": {"__provider": BLINDED, **inputs} if custom else inputs,
        "outputs": outputs,
    }


def step(
    op: str,
    urn: str,
    type_: str,
    *,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    old_outputs: dict[str, Any] | None = None,
    keys: list[str] | None = None,
    parent: str = STACK_URN,
) -> list[auto.EngineEvent]:
    """A resource's pre and outputs events (a replacement: its three steps, as the engine sends them)."""
    ops = ["create-replacement", "replace", "delete-replaced"] if op == "replace" else [op]
    out = []
    for one in ops:
        metadata: dict[str, Any] = {"op": one, "urn": urn, "type": type_, "provider": PROVIDER}
        if old is not None or old_outputs is not None:
            metadata["old"] = _state(urn, type_, parent, old or {}, old_outputs or old or {})
        if new is not None and one != "delete-replaced":
            metadata["new"] = _state(urn, type_, parent, new, {})
        if keys and one in ("create-replacement", "replace"):
            metadata["keys"] = keys
        out.append(event(resourcePreEvent={"metadata": metadata, "planning": True}))
        out.append(event(resOutputsEvent={"metadata": metadata, "planning": True}))
    return out


def check_entry(name: str, **over: Any) -> dict[str, Any]:
    entry = {
        "connector": name,
        "project_key": "shop-eu",
        "region": "europe-west1.gcp",
        "auth_url": "http://127.0.0.1:37963",
        "api_url": "http://127.0.0.1:37963",
        "scopes": ["view_orders:shop-eu"],
        "client_id": f"{name}-1",
        "client_secret": BLINDED,
        "token_key": "access_token",
        "enabled": True,
    }
    return entry | over


def kv_inputs(name: str, **over: Any) -> dict[str, Any]:
    inputs = {
        "address": "http://127.0.0.1:56989",
        "adopt": False,
        "connector": name,
        "data": BLINDED,
        "delete_policy": "delete",
        "kv_version": 2,
        "mount": "secret",
        "owner": "commercetools-credentials/test",
        "path": f"commercetools/{name}",
    }
    return inputs | over


def document(name: str, **over: Any) -> dict[str, Any]:
    """A connector's previous `config` output."""
    doc = {
        "name": name,
        "projectKey": "shop-eu",
        "region": "europe-west1.gcp",
        "scope": "view_orders:shop-eu",
        "clientId": f"{name}-1",
        "managed": False,
        "secretRef": {
            "store": "vault",
            "address": "http://127.0.0.1:56989",
            "mount": "secret",
            "path": f"commercetools/{name}",
            "kvVersion": 2,
            "version": 1,
        },
    }
    return doc | over


def diagnostic(severity: str, message: str, urn: str | None = None) -> auto.EngineEvent:
    payload: dict[str, Any] = {"message": message + "\n", "color": "never", "severity": severity}
    if urn:
        payload["urn"] = urn
    return event(diagnosticEvent=payload)


def policy(name: str, level: str, detail: str, description: str = "What the policy protects.") -> auto.EngineEvent:
    return event(
        policyEvent={
            "message": f"{description}\n{detail}\n",
            "color": "never",
            "policyName": name,
            "policyPackName": "ctp-credentials",
            "policyPackVersion": "0.1.0",
            "policyPackVersionTag": "0.1.0",
            "enforcementLevel": level,
        }
    )


def summary(changes: dict[str, int], *, packs: bool = True) -> auto.EngineEvent:
    return event(
        summaryEvent={
            "maybeCorrupt": False,
            "durationSeconds": 3,
            "resourceChanges": changes,
            "PolicyPacks": {" (/work/main/policies)": "(local)"} if packs else {},
        }
    )
