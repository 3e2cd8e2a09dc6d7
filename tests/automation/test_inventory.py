"""Connectors found in a stack's state by resource type: the stack program's and any other program's."""

from __future__ import annotations

from typing import Any

from ctp_credentials.automation import inventory
from ctp_credentials.components.location import SecretLocation
from ctp_credentials.policies import resource_types as t

PREFIX = "urn:pulumi:dev::their-program::"


def component(name: str, document: dict[str, Any] | None = None, parent: str = "") -> dict[str, Any]:
    urn = f"{PREFIX}my:index:Service${t.CONNECTOR}::{name}" if parent else f"{PREFIX}{t.CONNECTOR}::{name}"
    outputs = {} if document is None else {"config": document}
    return {"type": t.CONNECTOR, "urn": urn, "parent": parent, "outputs": outputs}


def child(parent: dict[str, Any], type_: str, resource: str, **outputs: Any) -> dict[str, Any]:
    return {"type": type_, "urn": f"{parent['urn']}${type_}::{resource}", "parent": parent["urn"], "outputs": outputs}


def doc(connector: str, **ref: Any) -> dict[str, Any]:
    return {"name": connector, "clientId": f"{connector}-id", "secretRef": ref}


def test_connectors_are_the_components_whatever_their_children_are_called() -> None:
    vault_doc = doc("erp-sync", store="vault", mount="kv", path="teams/erp")
    erp = component("erp-sync", vault_doc, parent=f"{PREFIX}my:index:Service::shop")
    pim = component("pim", doc("pim", store="secretsManager", name="ct/pim"))
    mg = component("mg", doc("mg", store="vault", mount="secret", path="commercetools/mg"))
    resources = [
        erp,
        # its document published to Vault too: another path, not the store
        child(erp, t.VAULT_KV_SECRET, "a", connector="erp-sync", address="https://v", mount="kv", path="docs/erp"),
        child(erp, t.VAULT_KV_SECRET, "b", connector="erp-sync", address="https://v", mount="kv", path="teams/erp"),
        pim,
        child(pim, t.AWS_SECRET, "x", connector="pim", name="ct/pim", region="eu-central-1", endpoint_url="http://m"),
        mg,
        child(mg, t.API_CLIENT, "y", connector="mg", client_id="new", store_kind="vault", store={"path": "c/mg"}),
        {**child(mg, t.API_CLIENT, "y", connector="mg", client_id="old"), "delete": True},  # a failed replacement
    ]
    found = inventory.connectors({"resources": resources}, {})
    assert sorted(found) == ["erp-sync", "mg", "pim"]
    assert found["erp-sync"].mode == "provided" and found["erp-sync"].document == vault_doc
    assert found["erp-sync"].location == SecretLocation("vault", address="https://v", mount="kv", path="teams/erp")
    assert found["pim"].location == SecretLocation(
        "secretsManager", name="ct/pim", region="eu-central-1", endpoint_url="http://m"
    )
    assert found["mg"].mode == "managed" and found["mg"].client is not None
    assert found["mg"].client["client_id"] == "new"
    assert found["mg"].location == SecretLocation("vault", path="c/mg")


def test_a_stack_written_before_components_registered_their_document_reads_the_stack_programs_output() -> None:
    old = component("patchworks")  # no `config` output yet
    legacy = doc("patchworks", store="vault", mount="secret", path="commercetools/patchworks")
    found = inventory.connectors({"resources": [old]}, {"connectors": {"patchworks": legacy, "gone": {}}})
    assert list(found) == ["patchworks"]  # documents of connectors no longer in state are not connectors
    assert found["patchworks"].document == legacy and found["patchworks"].location is None


def test_nothing_in_state_is_no_connector() -> None:
    assert inventory.connectors({}, {}) == {}
    assert inventory.connectors({"resources": [{"type": t.VAULT_KV_SECRET, "urn": "u", "outputs": {}}]}, {}) == {}


def test_what_state_holds_that_is_not_a_connectors_record_is_left_out() -> None:
    """A resource pending deletion (even listed first), an output that is not a document, a managed client whose
    store is not a location, and a stale Secrets Manager secret beside the Vault store the document names."""
    erp = component("erp")
    erp["outputs"] = {"config": "[secret]"}  # not a document: no document, no location from it
    old_client = {**child(erp, t.API_CLIENT, "y", connector="erp", client_id="old", store_kind="vault"), "delete": True}
    vault_doc = doc("pim", store="vault", mount="kv", path="teams/pim")
    pim = component("pim", vault_doc)
    sm = component("sm")
    no_place = component("no-place")
    resources = [
        old_client,
        erp,
        child(
            erp,
            t.API_CLIENT,
            "y",
            connector="erp",
            client_id="new",
            store_kind="secretsManager",
            store={"name": "ct/erp", "region": "eu-west-1"},
        ),
        pim,
        child(pim, t.AWS_SECRET, "x", connector="pim", name="ct/pim", region="eu-central-1"),  # not its store
        child(pim, t.VAULT_KV_SECRET, "v", connector="pim", address="https://v", mount="kv", path="teams/pim"),
        sm,
        child(sm, t.API_CLIENT, "c", connector="sm", client_id="i", store_kind="vault", store="[secret]"),
        no_place,
        child(no_place, t.API_CLIENT, "c", connector="no-place", client_id="j", store_kind="vault", store={}),
    ]
    odd = component("odd")
    odd["outputs"] = {"config": "[secret]"}  # provided, and no document to find its store by
    resources += [odd, child(odd, t.VAULT_KV_SECRET, "v", connector="odd", mount="kv", path="teams/odd")]
    found = inventory.connectors({"resources": resources}, {"connectors": "[secret]"})
    assert {name: c.name for name, c in found.items()} == {n: n for n in ("erp", "pim", "sm", "no-place", "odd")}
    assert found["erp"].document is None and found["erp"].client == {
        "connector": "erp",
        "client_id": "new",
        "store_kind": "secretsManager",
        "store": {"name": "ct/erp", "region": "eu-west-1"},
    }
    assert found["erp"].location == SecretLocation("secretsManager", name="ct/erp", region="eu-west-1")
    assert found["pim"].location == SecretLocation("vault", address="https://v", mount="kv", path="teams/pim")
    assert found["sm"].location is None and found["no-place"].location is None
    assert found["odd"].document is None and found["odd"].location is None
