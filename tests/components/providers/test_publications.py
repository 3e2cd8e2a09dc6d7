"""The publication providers called directly against real targets: a temp directory, moto (SSM) and a webhook
receiver on loopback. One write per changed document, none for an unchanged one; drift, ownership, delete."""

from __future__ import annotations

import copy
import json
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pydantic import ValidationError

from ctp_credentials.components import publishing
from ctp_credentials.components.clients.ssm import SsmClient, SsmError
from ctp_credentials.components.clients.webhook import EVENT_CHANGED, EVENT_DELETED, WebhookClient, WebhookError
from ctp_credentials.components.providers import publications
from ctp_credentials.components.providers.publications import (
    MARKER,
    FilePublication,
    FilePublicationArgs,
    FilePublicationProvider,
    SsmParameterPublicationProvider,
    WebhookPublication,
    WebhookPublicationArgs,
    WebhookPublicationProvider,
)
from ctp_credentials.components.publishing import FilePublicationError, canonical, document_digest
from ctp_credentials.testing.moto import MotoServer
from ctp_credentials.testing.webhook import WebhookReceiver
from tests.conftest import CANARY

OWNER = "commercetools-credentials/test"


def by_field(failures: list[Any]) -> dict[str, str]:
    """Check failures by the input they name. The name is in the reason, never the failure's property: the
    engine would print a named property's value (a secret one too) beside the reason."""
    assert all(f.property == "" for f in failures)
    return {f.reason.split(":", 1)[0]: f.reason for f in failures}


def document(version: int = 3, **kw: Any) -> dict[str, Any]:
    return {
        "schemaVersion": 1,
        "name": "patchworks",
        "projectKey": "product-patchworks",
        "region": "europe-west1.gcp",
        "scope": "view_orders:product-patchworks",
        "clientId": "abcdefghijkl",
        "grantType": "client_credentials",
        "tokenKey": "access_token",
        "clientType": "confidential",
        "authUrl": "https://auth.europe-west1.gcp.commercetools.com",
        "apiUrl": "https://api.europe-west1.gcp.commercetools.com",
        "secretKeys": {"clientId": "clientId", "clientSecret": "clientSecret"},
        "secretRef": {"store": "vault", "address": "https://vault.example.com", "mount": "secret", "version": version},
        **kw,
    }


# === File ===================================================================================================
def file_props(path: str, doc: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    return {"connector": "patchworks", "owner": OWNER, "path": path, "document": doc or document(), **kw}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The provider's working directory is the Pulumi project directory: relative paths land here."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file write the provider makes."""
    seen: list[str] = []
    real = publishing.write_file

    def counting(path: str, text: str) -> None:
        seen.append(path)
        real(path, text)

    monkeypatch.setattr(publications, "write_file", counting)
    return seen


def published(path: Path) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(path.read_text())
    content.pop(MARKER)
    return content


def test_file_create_writes_once_atomically_with_marker(workdir: Path, writes: list[str]) -> None:
    created = FilePublicationProvider().create(file_props("out/connectors/patchworks.json"))
    target = workdir / "out/connectors/patchworks.json"
    assert writes == ["out/connectors/patchworks.json"]  # parents created, one write
    assert published(target) == document()
    content = json.loads(target.read_text())
    assert content[MARKER] == {"tool": "ctp-credentials", "stack": OWNER, "writer": created.id}
    assert target.read_text().startswith("{\n  ") and target.read_text().endswith("}\n")  # pretty
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in target.parent.iterdir()) == ["patchworks.json"]  # no temp file left behind
    assert created.outs == {
        "connector": "patchworks",
        "owner": OWNER,
        "path": "out/connectors/patchworks.json",
        "absolute_path": str(target),
        "digest": document_digest(document()),
        "written": document_digest(document()),
    }


def test_file_diff_unchanged_is_no_change(workdir: Path) -> None:
    p = FilePublicationProvider()
    created = p.create(file_props("patchworks.json"))
    assert p.diff(created.id, created.outs, file_props("patchworks.json")).changes is False
    # key order and spelling do not matter: the digest is of the canonical JSON
    reordered = dict(reversed(list(document().items())))
    assert p.diff(created.id, created.outs, file_props("patchworks.json", reordered)).changes is False
    bumped = p.diff(created.id, created.outs, file_props("patchworks.json", document(version=4)))
    assert bumped.changes is True and bumped.replaces == []
    assert p.diff(created.id, created.outs, file_props("other.json")).replaces == ["path"]
    assert p.diff(created.id, created.outs, {**file_props("patchworks.json"), "document": pulumi.UNKNOWN}).changes


def test_file_changed_document_is_one_write(workdir: Path, writes: list[str]) -> None:
    p = FilePublicationProvider()
    created = p.create(file_props("patchworks.json"))
    updated = p.update(created.id, created.outs, file_props("patchworks.json", document(version=4)))
    assert len(writes) == 2 and published(workdir / "patchworks.json")["secretRef"]["version"] == 4
    assert updated.outs["digest"] == document_digest(document(version=4))
    assert p.diff(created.id, updated.outs, file_props("patchworks.json", document(version=4))).changes is False


def test_file_refresh_sees_a_hand_edit_and_update_repairs_it(workdir: Path, writes: list[str]) -> None:
    p = FilePublicationProvider()
    created = p.create(file_props("patchworks.json"))
    target = workdir / "patchworks.json"
    edited = json.loads(target.read_text())
    edited["clientId"] = "changed-by-hand"
    target.write_text(json.dumps(edited))
    refreshed = p.read(created.id, created.outs)
    assert refreshed.id == created.id and refreshed.outs["digest"] != created.outs["digest"]
    assert p.diff(created.id, refreshed.outs, file_props("patchworks.json")).changes is True
    p.update(created.id, refreshed.outs, file_props("patchworks.json"))
    assert published(target) == document() and len(writes) == 2
    assert p.read(created.id, created.outs).outs["digest"] == created.outs["digest"]
    # a reformatted file (same document, same marker) is not drift
    target.write_text(json.dumps(json.loads(target.read_text()), indent=8))
    assert p.read(created.id, created.outs).outs["digest"] == created.outs["digest"]


def test_file_refresh_of_a_deleted_file_drops_it(workdir: Path) -> None:
    p = FilePublicationProvider()
    created = p.create(file_props("patchworks.json"))
    (workdir / "patchworks.json").unlink()
    assert p.read(created.id, created.outs).id is None
    p.create(file_props("patchworks.json"))  # the next `up` writes it again
    assert published(workdir / "patchworks.json") == document()


def test_file_delete_removes_only_what_we_wrote(workdir: Path) -> None:
    p = FilePublicationProvider()
    created = p.create(file_props("patchworks.json"))
    target = workdir / "patchworks.json"
    p.delete(created.id, created.outs)
    assert not target.exists()
    p.delete(created.id, created.outs)  # already gone: a no-op
    # changed by hand since: left alone
    created = p.create(file_props("patchworks.json"))
    edited = json.loads(target.read_text())
    edited["clientId"] = "changed-by-hand"
    target.write_text(json.dumps(edited))
    p.delete(created.id, created.outs)
    assert target.exists()
    # ... also after a refresh has seen the edit (`destroy --refresh`)
    refreshed = p.read(created.id, created.outs).outs
    assert refreshed is not None and refreshed["digest"] != created.outs["digest"]
    p.delete(created.id, refreshed)
    assert target.exists()


def test_file_replacement_keeps_the_file(workdir: Path) -> None:
    """Create-before-delete on the same file (e.g. the path spelled differently): the old delete leaves it."""
    p = FilePublicationProvider()
    old = p.create(file_props("patchworks.json"))
    new = p.create(file_props("./patchworks.json"))
    p.delete(old.id, old.outs)
    target = workdir / "patchworks.json"
    assert target.exists() and json.loads(target.read_text())[MARKER]["writer"] == new.id


@pytest.mark.parametrize(
    ("content", "who"),
    [
        ("not json at all\n", "was not written by this tool"),
        (json.dumps({"name": "patchworks", "clientId": "theirs"}), "was not written by this tool"),
        (
            json.dumps({"name": "patchworks", MARKER: {"tool": "ctp-credentials", "stack": "x/prod", "writer": "w"}}),
            "belongs to x/prod/patchworks",
        ),
        (
            json.dumps({"name": "other", MARKER: {"tool": "ctp-credentials", "stack": OWNER, "writer": "w"}}),
            f"belongs to {OWNER}/other",
        ),
    ],
)
def test_file_foreign_file_is_refused_and_untouched(workdir: Path, writes: list[str], content: str, who: str) -> None:
    target = workdir / "patchworks.json"
    target.write_text(content)
    with pytest.raises(FilePublicationError, match=f"{who}.*left untouched"):
        FilePublicationProvider().create(file_props("patchworks.json"))
    assert target.read_text() == content and writes == []


def test_file_update_refuses_a_file_someone_else_put_there(workdir: Path) -> None:
    p = FilePublicationProvider()
    created = p.create(file_props("patchworks.json"))
    target = workdir / "patchworks.json"
    target.write_text('{"theirs": true}')
    refreshed = p.read(created.id, created.outs)
    assert p.diff(created.id, refreshed.outs, file_props("patchworks.json")).changes is True
    with pytest.raises(FilePublicationError, match="was not written by this tool"):
        p.update(created.id, refreshed.outs, file_props("patchworks.json"))
    assert target.read_text() == '{"theirs": true}'
    p.delete(created.id, refreshed.outs)
    assert target.exists()


def test_file_absolute_path_symlink_and_directory(workdir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    p = FilePublicationProvider()
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "patchworks.json"
    created = p.create(file_props(str(elsewhere)))
    assert created.outs["absolute_path"] == str(elsewhere) and published(elsewhere) == document()
    (workdir / "link.json").symlink_to(elsewhere)
    with pytest.raises(FilePublicationError, match="symbolic link"):
        p.create(file_props("link.json"))
    (workdir / "adir").mkdir()
    with pytest.raises(FilePublicationError, match="is a directory"):
        p.create(file_props("adir"))


def test_file_check_reports_invalid_inputs(workdir: Path) -> None:
    p = FilePublicationProvider()
    bad = file_props("out/", {**document(name="other"), MARKER: "me"})
    failures = by_field(p.check({}, bad).failures)
    assert failures.keys() == {"path", "document"}
    assert "directory" in failures["path"] and "reserved" in failures["document"]
    named = by_field(p.check({}, file_props("x.json", document(name="other"))).failures)
    assert "is not the connector 'patchworks'" in named["document"]
    assert p.check({}, file_props("x.json")).failures == []
    assert p.check({}, {**file_props("x.json"), "document": pulumi.UNKNOWN}).failures == []


# === SSM parameter ==========================================================================================
def ssm_props(server: MotoServer, name: str, doc: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    return {
        "connector": "patchworks",
        "owner": OWNER,
        "name": name,
        "region": "eu-central-1",
        "endpoint_url": server.url,
        "tier": "Standard",
        "document": doc or document(),
        **kw,
    }


@pytest.fixture
def pname() -> str:
    return f"/commercetools/{uuid.uuid4().hex}/patchworks"


def ssm() -> SsmClient:
    return SsmClient()  # region, endpoint and credentials from aws_env


def value(name: str) -> dict[str, Any]:
    found = ssm().get_parameter(name)
    assert found is not None
    parsed: dict[str, Any] = json.loads(found.value)
    return parsed


def version(name: str) -> int:
    found = ssm().get_parameter(name)
    assert found is not None
    return found.version


@pytest.mark.aws
def test_ssm_create_writes_once_with_ownership(aws_env: MotoServer, pname: str) -> None:
    created = SsmParameterPublicationProvider().create(ssm_props(aws_env, pname))
    found = ssm().get_parameter(pname)
    assert found is not None and found.value == canonical(document()) and found.type == "String"
    assert found.version == 1 and created.outs["version"] == 1
    assert ssm().list_tags_for_resource(pname) == {
        "managed-by": "ctp-credentials",
        "pulumi-stack": OWNER,
        "connector": "patchworks",
        "writer": created.id,
    }
    outs = created.outs
    assert outs is not None and outs["digest"] == document_digest(document()) and "document" not in outs
    assert {"name", "region", "endpoint_url", "tier", "connector", "owner"} <= outs.keys()


@pytest.mark.aws
def test_ssm_diff_and_update_write_only_a_changed_document(aws_env: MotoServer, pname: str) -> None:
    p = SsmParameterPublicationProvider()
    created = p.create(ssm_props(aws_env, pname))
    assert p.diff(created.id, created.outs, ssm_props(aws_env, pname)).changes is False
    dropped = {k: v for k, v in ssm_props(aws_env, pname).items() if k != "tier"}  # left out = the default
    assert p.diff(created.id, created.outs, dropped).changes is False
    news = ssm_props(aws_env, pname, document(version=4))
    d = p.diff(created.id, created.outs, news)
    assert d.changes is True and d.replaces == []
    updated = p.update(created.id, created.outs, news)
    assert updated.outs["version"] == 2 and version(pname) == 2  # one write
    assert value(pname)["secretRef"]["version"] == 4
    assert p.diff(created.id, updated.outs, news).changes is False
    assert p.diff(created.id, updated.outs, ssm_props(aws_env, pname + "-b")).replaces == ["name"]
    # a new owner name: tags only, no new version
    renamed = p.update(created.id, updated.outs, {**news, "owner": "commercetools-credentials/renamed"})
    assert version(pname) == 2 and renamed.outs["version"] == 2
    tags = ssm().list_tags_for_resource(pname)
    assert tags is not None and tags["pulumi-stack"] == "commercetools-credentials/renamed"


@pytest.mark.aws
def test_ssm_refresh_sees_a_hand_edit_and_update_repairs_it(aws_env: MotoServer, pname: str) -> None:
    p = SsmParameterPublicationProvider()
    created = p.create(ssm_props(aws_env, pname))
    ssm().put_parameter(pname, '{"name":"patchworks","clientId":"by hand"}', overwrite=True)
    refreshed = p.read(created.id, created.outs)
    assert refreshed.id == created.id and refreshed.outs["version"] == 2
    assert p.diff(created.id, refreshed.outs, ssm_props(aws_env, pname)).changes is True
    repaired = p.update(created.id, refreshed.outs, ssm_props(aws_env, pname))
    assert repaired.outs["version"] == 3 and value(pname) == document()
    assert p.diff(created.id, p.read(created.id, repaired.outs).outs, ssm_props(aws_env, pname)).changes is False


@pytest.mark.aws
def test_ssm_state_without_a_region_records_it_in_place(aws_env: MotoServer, pname: str) -> None:
    """State from before the program resolved the region: recording it must not replace the parameter."""
    p = SsmParameterPublicationProvider()
    created = p.create(ssm_props(aws_env, pname, region=None))
    assert created.outs is not None and created.outs["region"] is None
    diff = p.diff(created.id, created.outs, ssm_props(aws_env, pname))
    assert diff.changes is True and diff.replaces == []
    updated = p.update(created.id, created.outs, ssm_props(aws_env, pname))
    assert updated.outs is not None and updated.outs["region"] == "eu-central-1" and version(pname) == 1
    moved = p.diff(created.id, updated.outs, ssm_props(aws_env, pname, region="us-east-1"))
    assert moved.replaces == ["region"]  # a real move still replaces


@pytest.mark.aws
def test_ssm_refresh_of_a_deleted_parameter_drops_it(aws_env: MotoServer, pname: str) -> None:
    p = SsmParameterPublicationProvider()
    created = p.create(ssm_props(aws_env, pname))
    ssm().delete_parameter(pname)
    assert p.read(created.id, created.outs).id is None
    again = p.create(ssm_props(aws_env, pname))  # the next `up` writes it again
    assert value(pname) == document() and again.outs["version"] == 1
    # and an update that finds it gone (no refresh in between) writes it again too
    ssm().delete_parameter(pname)
    p.update(again.id, again.outs, ssm_props(aws_env, pname, document(version=4)))
    assert value(pname)["secretRef"]["version"] == 4
    tags = ssm().list_tags_for_resource(pname)
    assert tags is not None and tags["writer"] == again.id


@pytest.mark.aws
def test_ssm_delete_removes_only_what_we_wrote(aws_env: MotoServer, pname: str) -> None:
    p = SsmParameterPublicationProvider()
    created = p.create(ssm_props(aws_env, pname))
    p.delete(created.id, created.outs)
    assert ssm().get_parameter(pname) is None
    p.delete(created.id, created.outs)  # already gone: a no-op
    # replacement (create-before-delete on the same name): the old delete leaves the new one's parameter
    old = p.create(ssm_props(aws_env, pname))
    new = p.create(ssm_props(aws_env, pname, document(version=4)))
    assert version(pname) == 2
    p.delete(old.id, old.outs)
    assert value(pname)["secretRef"]["version"] == 4
    tags = ssm().list_tags_for_resource(pname)
    assert tags is not None and tags["writer"] == new.id


@pytest.mark.aws
def test_ssm_replacement_with_the_same_document_adds_no_version(aws_env: MotoServer, pname: str) -> None:
    p = SsmParameterPublicationProvider()
    p.create(ssm_props(aws_env, pname))
    assert p.create(ssm_props(aws_env, pname)).outs["version"] == 1 and version(pname) == 1


@pytest.mark.aws
def test_ssm_foreign_parameter_is_refused_and_untouched(aws_env: MotoServer, pname: str) -> None:
    ssm().put_parameter(pname, "theirs", overwrite=False, tags={"team": "other"})
    with pytest.raises(SsmError, match=r"belongs to another tool.*left untouched"):
        SsmParameterPublicationProvider().create(ssm_props(aws_env, pname))
    found = ssm().get_parameter(pname)
    assert found is not None and found.value == "theirs" and found.version == 1
    assert ssm().list_tags_for_resource(pname) == {"team": "other"}


@pytest.mark.aws
def test_ssm_other_stack_cannot_take_the_parameter(aws_env: MotoServer, pname: str) -> None:
    p = SsmParameterPublicationProvider()
    created = p.create(ssm_props(aws_env, pname))
    with pytest.raises(SsmError, match=f"belongs to {OWNER}/patchworks"):
        p.create(ssm_props(aws_env, pname, owner="commercetools-credentials/prod"))
    ssm().add_tags_to_resource(pname, {"pulumi-stack": "x/prod", "writer": "someone-else"})
    with pytest.raises(SsmError, match="belongs to x/prod/patchworks"):
        p.update(created.id, created.outs, ssm_props(aws_env, pname, document(version=4)))
    p.delete(created.id, created.outs)  # not the writer any more: left alone
    assert value(pname) == document() and version(pname) == 1


@pytest.mark.aws
def test_ssm_document_over_the_tier_limit_fails_clearly(aws_env: MotoServer, pname: str) -> None:
    p = SsmParameterPublicationProvider()
    big = document(notes="x" * 4200)
    failures = by_field(p.check({}, ssm_props(aws_env, pname, big)).failures)
    assert "holds at most 4096" in failures["document"] and "Advanced" in failures["document"]
    with pytest.raises(ValueError, match="at most 4096"):
        p.create(ssm_props(aws_env, pname, big))
    assert ssm().get_parameter(pname) is None
    assert p.check({}, ssm_props(aws_env, pname, big, tier="Advanced")).failures == []
    huge = document(notes="x" * 8200)
    assert "at most 8192" in p.check({}, ssm_props(aws_env, pname, huge, tier="Advanced")).failures[0].reason


def test_ssm_check_reports_invalid_inputs() -> None:
    p = SsmParameterPublicationProvider()
    bad = {
        "connector": "patchworks",
        "owner": OWNER,
        "name": "a/b",
        "endpoint_url": "http://10.0.0.1",
        "tier": "Cheap",
        "document": document(name="other"),
    }
    failures = by_field(p.check({}, bad).failures)
    assert failures.keys() == {"name", "endpoint_url", "tier", "document"}
    assert "https" in failures["endpoint_url"] and "start with '/'" in failures["name"]
    assert "reserved" in by_field(p.check({}, {**bad, "name": "/aws/x"}).failures)["name"]


def test_providers_hold_no_credentials() -> None:
    for provider in (FilePublicationProvider(), SsmParameterPublicationProvider(), WebhookPublicationProvider()):
        assert vars(provider) == {}


# === Webhook ================================================================================================
def hook_props(url: str, doc: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    return {
        "connector": "patchworks",
        "url": url,
        "document": doc or document(),
        "signing_key": CANARY,
        "notify_on_delete": True,
        **kw,
    }


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookReceiver]:
    """A receiver that verifies with CANARY; the provider's clients retry without sleeping."""
    monkeypatch.setattr(
        publications, "_webhook", lambda url: WebhookClient(url, timeout=(1.0, 0.5), sleep=lambda s: None)
    )
    with WebhookReceiver(CANARY) as hook:
        yield hook


def without_key(outs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in outs.items() if k != "signing_key"}


def test_webhook_create_delivers_once(receiver: WebhookReceiver) -> None:
    created = WebhookPublicationProvider().create(hook_props(receiver.url))
    (got,) = receiver.deliveries
    assert got.verified and got.event == EVENT_CHANGED and got.body == document()
    assert got.raw == canonical(document()).encode()
    outs = created.outs
    assert outs is not None and outs["delivery_id"] == got.delivery_id and outs["delivered_at"]
    assert outs["digest"] == document_digest(document()) and outs["url"] == receiver.url
    assert outs["signing_key"] == CANARY  # only here: a secret output (additional_secret_outputs)
    assert CANARY not in repr(without_key(outs)) and "document" not in outs


def test_webhook_unchanged_document_is_no_change_and_no_request(receiver: WebhookReceiver) -> None:
    p = WebhookPublicationProvider()
    created = p.create(hook_props(receiver.url))
    assert p.diff(created.id, created.outs, hook_props(receiver.url)).changes is False
    assert p.read(created.id, created.outs).outs == created.outs  # refresh: a receiver cannot be observed
    assert len(receiver.deliveries) == 1
    d = p.diff(created.id, created.outs, hook_props(receiver.url, document(version=4)))
    assert d.changes is True and d.replaces == []
    assert p.diff(created.id, created.outs, hook_props(receiver.url, connector="other")).replaces == ["connector"]


def test_webhook_changed_document_is_one_delivery(receiver: WebhookReceiver) -> None:
    p = WebhookPublicationProvider()
    created = p.create(hook_props(receiver.url))
    news = hook_props(receiver.url, document(version=4))
    updated = p.update(created.id, created.outs, news)
    assert len(receiver.deliveries) == 2
    got = receiver.deliveries[-1]
    assert got.body["secretRef"]["version"] == 4 and got.delivery_id == updated.outs["delivery_id"]
    assert updated.outs["delivery_id"] != created.outs["delivery_id"]
    assert p.diff(created.id, updated.outs, news).changes is False


def test_webhook_key_rotation_changes_state_but_sends_nothing(receiver: WebhookReceiver) -> None:
    p = WebhookPublicationProvider()
    created = p.create(hook_props(receiver.url))
    news = hook_props(receiver.url, signing_key="a-new-signing-key-0123456789")
    assert p.diff(created.id, created.outs, news).changes is True
    updated = p.update(created.id, created.outs, news)
    assert updated.outs["signing_key"] == "a-new-signing-key-0123456789" and len(receiver.deliveries) == 1
    assert updated.outs["delivery_id"] == created.outs["delivery_id"]


def test_webhook_new_url_gets_the_document(receiver: WebhookReceiver) -> None:
    p = WebhookPublicationProvider()
    created = p.create(hook_props(receiver.url))
    with WebhookReceiver(CANARY, path="/other") as other:
        p.update(created.id, created.outs, hook_props(other.url))
        assert [d.body for d in other.deliveries] == [document()]
    assert len(receiver.deliveries) == 1  # the old receiver gets no "deleted" event


def test_webhook_delete_sends_a_deleted_event(receiver: WebhookReceiver) -> None:
    p = WebhookPublicationProvider()
    created = p.create(hook_props(receiver.url))
    p.delete(created.id, created.outs)
    got = receiver.deliveries[-1]
    assert got.verified and got.event == EVENT_DELETED
    assert got.body == {"schemaVersion": 1, "name": "patchworks", "deleted": True}
    quiet = p.create(hook_props(receiver.url, notify_on_delete=False))
    p.delete(quiet.id, quiet.outs)
    assert len(receiver.deliveries) == 3


def test_webhook_retries_then_success(receiver: WebhookReceiver) -> None:
    receiver.fail_next(2, 503)
    created = WebhookPublicationProvider().create(hook_props(receiver.url))
    seen = receiver.deliveries
    assert [d.status for d in seen] == [503, 503, 204]
    assert {d.delivery_id for d in seen} == {created.outs["delivery_id"]}


def test_webhook_failing_receiver_fails_the_update_and_the_next_one_delivers(receiver: WebhookReceiver) -> None:
    p = WebhookPublicationProvider()
    created = p.create(hook_props(receiver.url))
    olds = copy.deepcopy(created.outs)
    news = hook_props(receiver.url, document(version=4))
    receiver.fail_next(4, 503)
    with pytest.raises(WebhookError) as err:
        p.update(created.id, olds, news)
    message = str(err.value)
    assert f"to {receiver.url}: HTTP 503" in message and "after 4 attempts" in message and "pulumi up" in message
    assert CANARY not in message and CANARY not in repr(err.value)
    # the engine keeps the old state when update raises: the next `up` sees the change again and delivers it
    assert olds == created.outs and p.diff(created.id, olds, news).changes is True
    p.update(created.id, olds, news)
    assert receiver.accepted()[-1].body["secretRef"]["version"] == 4 and len(receiver.accepted()) == 2


def test_webhook_401_fails_without_retry(receiver: WebhookReceiver) -> None:
    with pytest.raises(WebhookError, match=r"HTTP 401.*not retried") as err:
        WebhookPublicationProvider().create(hook_props(receiver.url, signing_key="not-the-receivers-key-123"))
    assert len(receiver.deliveries) == 1 and "not-the-receivers-key" not in str(err.value)


def test_webhook_check_reports_invalid_inputs_without_the_key() -> None:
    p = WebhookPublicationProvider()
    short = "short-" + CANARY[:5]
    bad = hook_props("http://hooks.example.com/h", document(name="other"), signing_key=short)
    failures = by_field(p.check({}, bad).failures)
    assert failures.keys() == {"url", "signing_key", "document"}
    assert "https" in failures["url"] and "16" in failures["signing_key"]
    assert short not in repr(failures)
    creds = by_field(p.check({}, hook_props("https://u:pw@hooks.example.com/")).failures)
    assert "credentials" in creds["url"]
    assert p.check({}, hook_props("https://hooks.example.com/h?code=x")).failures == []
    with pytest.raises(ValidationError) as err:  # the engine runs check() first; still, never the key
        p.create(bad)
    assert short not in str(err.value) and short not in repr(err.value)


def test_webhook_key_never_in_receiver_data_or_reprs(receiver: WebhookReceiver) -> None:
    p = WebhookPublicationProvider()
    created = p.create(hook_props(receiver.url))
    p.update(created.id, created.outs, hook_props(receiver.url, document(version=4)))
    p.delete(created.id, created.outs)
    for got in receiver.deliveries:
        assert CANARY not in repr(got) and CANARY not in json.dumps(got.body) and CANARY.encode() not in got.raw
        assert all(CANARY not in v for v in got.headers.values())
    state = publications.WebhookPublicationState.model_validate(created.outs)
    assert CANARY not in repr(state) and CANARY not in str(state)


# === the resources' registration ===========================================================================
class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: dict[str, tuple[str, dict[str, Any]]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.created[args.name] = (args.typ, dict(args.inputs))
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def mocks(monkeypatch: pytest.MonkeyPatch, event_loop_for_mocks: Any) -> tuple[Mocks, list[Any]]:
    """Pulumi mocks, plus the options each resource registers with."""
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="commercetools-credentials", stack="test", preview=False)
    options: list[Any] = []
    real = pulumi.CustomResource.__init__

    def recording(self: Any, t: str, name: str, props: Any = None, opts: Any = None, *a: Any, **kw: Any) -> None:
        options.append((name, opts))
        real(self, t, name, props, opts, *a, **kw)

    monkeypatch.setattr(pulumi.CustomResource, "__init__", recording)
    return m, options


@pulumi.runtime.test
def test_webhook_signing_key_is_a_secret_input_and_output(mocks: tuple[Mocks, list[Any]]) -> Any:
    m, options = mocks
    hook = WebhookPublication(
        "patchworks-webhook",
        WebhookPublicationArgs(
            connector="patchworks", url="https://hooks.example.com/ctp", document=document(), signing_key=CANARY
        ),
    )
    files = FilePublication(
        "patchworks-file",
        FilePublicationArgs(connector="patchworks", owner=OWNER, path="out/patchworks.json", document=document()),
    )

    def verify(_: Any) -> None:
        typ, inputs = m.created["patchworks-webhook"]
        assert typ == "pulumi-python:dynamic/publish:Webhook"
        assert inputs["signing_key"]["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"
        assert CANARY not in repr({k: v for k, v in inputs.items() if k != "signing_key"})
        assert m.created["patchworks-file"][0] == "pulumi-python:dynamic/publish:File"
        opts = dict(options)
        assert opts["patchworks-webhook"].additional_secret_outputs == ["signing_key"]

    return hook.urn.apply(lambda _: files.urn.apply(verify))


def engine_numbers(doc: dict[str, Any]) -> dict[str, Any]:
    """What a document looks like after the Pulumi engine: every number a float."""
    out: dict[str, Any] = json.loads(json.dumps(doc), parse_int=float)
    return out


def test_numbers_through_the_engine_are_published_as_written(workdir: Path, receiver: WebhookReceiver) -> None:
    floats = engine_numbers(document(version=4))
    assert floats["secretRef"]["version"] == 4.0 and isinstance(floats["secretRef"]["version"], float)
    f = FilePublicationProvider()
    created = f.create(file_props("patchworks.json", floats))
    assert '"version": 4\n' in (workdir / "patchworks.json").read_text()
    assert f.diff(created.id, created.outs, file_props("patchworks.json", document(version=4))).changes is False
    w = WebhookPublicationProvider()
    w.create(hook_props(receiver.url, floats))
    assert receiver.deliveries[-1].raw == canonical(document(version=4)).encode()
    assert b'"version":4}' in receiver.deliveries[-1].raw
    assert engine_numbers({"x": 0.5, "big": 2.0**60}) == {"x": 0.5, "big": 2.0**60}  # not whole or not exact: kept
    assert canonical({"x": 0.5, "big": 2.0**60}) == '{"big":1.152921504606847e+18,"x":0.5}'
