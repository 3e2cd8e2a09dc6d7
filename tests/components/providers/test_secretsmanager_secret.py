"""SecretsManagerSecretProvider called directly against moto: ownership, no-op, versions, drift, replacement."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import boto3
import botocore.handlers
import pytest

from ctp_credentials.components.clients.secretsmanager import SecretsManagerClient, SecretsManagerError
from ctp_credentials.components.digests import digest
from ctp_credentials.components.providers.secretsmanager_secret import (
    SecretsManagerSecretProvider,
    remote_digest,
    request_token,
)
from ctp_credentials.testing.moto import MotoServer
from tests.conftest import CANARY

pytestmark = pytest.mark.aws


def by_field(failures: list[Any]) -> dict[str, str]:
    """Check failures by the input they name. The name is in the reason, never the failure's property: the
    engine would print a named property's value (a secret one too) beside the reason."""
    assert all(f.property == "" for f in failures)
    return {f.reason.split(":", 1)[0]: f.reason for f in failures}


def props(server: MotoServer, name: str, secret: str = CANARY, **kw: Any) -> dict[str, Any]:
    return {
        "connector": "patchworks",
        "owner": "commercetools-credentials/test",
        "name": name,
        "region": "eu-central-1",
        "endpoint_url": server.url,
        "kms_key_id": None,
        "description": "commercetools API client for patchworks",
        "tags": {"team": "integrations"},
        "data": {"clientId": "abc", "clientSecret": secret},
        "recovery_window_days": 30,
        "force_delete": False,
        "restore_if_deleted": False,
        **kw,
    }


@pytest.fixture
def name() -> str:
    return f"commercetools/{uuid.uuid4().hex}"


def sm() -> SecretsManagerClient:
    return SecretsManagerClient()  # region, endpoint and credentials from aws_env


def current(name: str) -> dict[str, Any]:
    got = sm().get_secret_value(name)
    assert got is not None
    value: dict[str, Any] = json.loads(got.value)
    return value


def versions(name: str) -> dict[str, list[str]]:
    found = sm().describe_secret(name)
    assert found is not None
    return found.version_stages


def test_create_writes_once_with_ownership_and_no_secret_in_outputs(aws_env: MotoServer, name: str) -> None:
    created = SecretsManagerSecretProvider().create(props(aws_env, name))
    outs = created.outs
    assert outs is not None
    assert CANARY not in repr(outs) and "data" not in outs
    assert {"arn", "name", "version_id", "salt", "digest"} <= outs.keys() and outs["name"] == name
    found = sm().describe_secret(name)
    assert found is not None and found.arn == outs["arn"]
    assert found.version_stages == {outs["version_id"]: ["AWSCURRENT"]}  # written once
    assert found.tags == {
        "managed-by": "ctp-credentials",
        "pulumi-stack": "commercetools-credentials/test",
        "connector": "patchworks",
        "writer": created.id,
        "team": "integrations",
    }
    assert found.description == "commercetools API client for patchworks"
    assert current(name) == {"clientId": "abc", "clientSecret": CANARY}


def test_unchanged_value_is_no_change(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name))
    assert p.diff(created.id, created.outs, props(aws_env, name)).changes is False
    changed = p.diff(created.id, created.outs, props(aws_env, name, secret="new"))
    assert changed.changes is True and changed.replaces == []
    assert p.diff(created.id, created.outs, props(aws_env, name, tags={})).replaces == []
    assert p.diff(created.id, created.outs, props(aws_env, name, recovery_window_days=7)).changes is True
    assert p.diff(created.id, created.outs, props(aws_env, name + "-b")).replaces == ["name"]
    assert p.diff(created.id, created.outs, props(aws_env, name, region="eu-west-1")).replaces == ["region"]
    # an input the engine left out is its default, not a change
    dropped = {k: v for k, v in props(aws_env, name).items() if k not in ("force_delete", "kms_key_id")}
    assert p.diff(created.id, created.outs, dropped).changes is False


def test_changed_data_is_an_update_with_exactly_one_new_version(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name))
    updated = p.update(created.id, created.outs, props(aws_env, name, secret="rotated"))
    assert updated.outs["version_id"] != created.outs["version_id"] and CANARY not in repr(updated.outs)
    stages = versions(name)
    # staged as AWSPENDING, read back, then promoted: the new version is AWSCURRENT, the old one AWSPREVIOUS,
    # and no AWSPENDING is left behind
    assert len(stages) == 2 and stages[updated.outs["version_id"]] == ["AWSCURRENT"]
    assert stages[created.outs["version_id"]] == ["AWSPREVIOUS"]
    assert current(name)["clientSecret"] == "rotated"
    assert p.diff(created.id, updated.outs, props(aws_env, name, secret="rotated")).changes is False
    # a retried update (same state, same inputs) replays its token: no duplicate version
    again = p.update(created.id, created.outs, props(aws_env, name, secret="rotated"))
    assert again.outs["version_id"] == updated.outs["version_id"] and len(versions(name)) == 2
    # settings that only later calls read: new state, no API call, no version
    only_policy = p.update(created.id, updated.outs, props(aws_env, name, secret="rotated", force_delete=True))
    assert only_policy.outs["force_delete"] is True and len(versions(name)) == 2


def writes(server: MotoServer, arn: str) -> list[tuple[str, dict[str, Any]]]:
    """The calls that wrote or read the secret's versions and labels, in the order moto received them."""
    wanted = {"CreateSecret", "PutSecretValue", "GetSecretValue", "UpdateSecretVersionStage"}
    return [
        (c.action, c.params) for c in server.faults.calls() if c.action in wanted and c.params.get("SecretId") == arn
    ]


def test_an_update_stages_the_new_version_reads_it_back_then_promotes_it(aws_env: MotoServer, name: str) -> None:
    """The end state alone cannot tell this order from a plain overwrite: the calls moto received can."""
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name, secret="s1"))
    arn, old = created.outs["arn"], created.outs["version_id"]
    updated = p.update(created.id, created.outs, props(aws_env, name, secret="s2"))
    new = updated.outs["version_id"]
    (put, get, promote, unstage) = writes(aws_env, arn)
    assert put == (
        "PutSecretValue",
        {"SecretId": arn, "SecretString": "<hidden>", "ClientRequestToken": new, "VersionStages": ["AWSPENDING"]},
    )
    assert get[0] == "GetSecretValue" and get[1]["VersionId"] == new  # the staged version, not AWSCURRENT
    assert promote == (
        "UpdateSecretVersionStage",
        {"SecretId": arn, "VersionStage": "AWSCURRENT", "MoveToVersionId": new, "RemoveFromVersionId": old},
    )
    assert unstage == (
        "UpdateSecretVersionStage",
        {"SecretId": arn, "VersionStage": "AWSPENDING", "RemoveFromVersionId": new},
    )


def test_a_version_that_does_not_read_back_never_becomes_current(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name, secret="s1"))
    old = created.outs["version_id"]
    aws_env.faults.add("GetSecretValue", corrupt=True, when=("VersionId",), times=1)  # the read-back only
    with pytest.raises(SecretsManagerError, match="did not read back as written") as err:
        p.update(created.id, created.outs, props(aws_env, name, secret="s2"))
    assert "AWSCURRENT was left on the previous version. Rerun `pulumi up`" in str(err.value)
    # consumers still read the old value; the new version waits as AWSPENDING, never current
    stages = versions(name)
    assert current(name)["clientSecret"] == "s1" and stages[old] == ["AWSCURRENT"]
    (pending,) = [v for v in stages if v != old]
    assert stages[pending] == ["AWSPENDING"]
    # the rerun the message asks for converges on that same version: no third one
    again = p.update(created.id, created.outs, props(aws_env, name, secret="s2"))
    assert again.outs["version_id"] == pending and current(name)["clientSecret"] == "s2"
    assert versions(name) == {pending: ["AWSCURRENT"], old: ["AWSPREVIOUS"]}


def test_tags_kms_and_description_are_updated_in_place(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name, kms_key_id="alias/ctp-one"))
    found = sm().describe_secret(name)
    assert found is not None and found.kms_key_id == "alias/ctp-one"  # moto stores any key id, unchecked
    news = props(aws_env, name, kms_key_id="alias/ctp-two", description="new", tags={"cost-center": "42"})
    assert p.diff(created.id, created.outs, news).replaces == []
    p.update(created.id, created.outs, news)
    found = sm().describe_secret(name)
    assert found is not None and found.kms_key_id == "alias/ctp-two" and found.description == "new"
    assert found.tags["cost-center"] == "42" and "team" not in found.tags and found.tags["writer"] == created.id
    assert len(found.version_stages) == 1  # metadata only: no new version


def test_foreign_secret_is_refused_and_left_untouched(aws_env: MotoServer, name: str) -> None:
    sm().create_secret(name, '{"owner":"someone else"}', client_request_token=str(uuid.uuid4()), tags={"a": "b"})
    with pytest.raises(SecretsManagerError, match=r"belongs to another tool.*left untouched") as err:
        SecretsManagerSecretProvider().create(props(aws_env, name))
    assert CANARY not in str(err.value)
    assert current(name) == {"owner": "someone else"}
    found = sm().describe_secret(name)
    assert found is not None and found.tags == {"a": "b"} and len(found.version_stages) == 1


def test_other_stack_cannot_take_the_secret(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name))
    with pytest.raises(SecretsManagerError, match="belongs to commercetools-credentials/test/patchworks"):
        p.create(props(aws_env, name, owner="commercetools-credentials/prod", secret="theirs"))
    assert current(name)["clientSecret"] == CANARY
    # and an update is refused once the tags show another owner (as another stack's create writes them)
    sm().tag_resource(name, {"pulumi-stack": "commercetools-credentials/prod", "writer": "their-resource"})
    with pytest.raises(SecretsManagerError, match="belongs to commercetools-credentials/prod/patchworks"):
        p.update(created.id, created.outs, props(aws_env, name, secret="new"))
    assert current(name)["clientSecret"] == CANARY


def test_a_renamed_stack_still_owns_the_secret_its_resource_wrote(aws_env: MotoServer, name: str) -> None:
    """`pulumi stack rename` changes the owner input; the secret's tags still name the old stack."""
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name))
    renamed = props(aws_env, name, owner="commercetools-credentials/renamed", secret="rotated")
    assert p.diff(created.id, created.outs, renamed).changes is True
    p.update(created.id, created.outs, renamed)
    assert current(name)["clientSecret"] == "rotated"
    assert sm().describe_secret(name).tags["pulumi-stack"] == "commercetools-credentials/renamed"  # type: ignore[union-attr]


def test_scheduled_for_deletion_is_explained_and_restored_when_configured(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    old = p.create(props(aws_env, name))
    p.delete(old.id, old.outs)  # `pulumi destroy`: scheduled for deletion, 30 days to change one's mind
    with pytest.raises(SecretsManagerError, match=r"scheduled for deletion.*restore-secret.*restoreIfDeleted") as err:
        p.create(props(aws_env, name))
    assert CANARY not in str(err.value)
    found = sm().describe_secret(name)
    assert found is not None and found.scheduled_for_deletion  # untouched
    again = p.create(props(aws_env, name, secret="new", restore_if_deleted=True))
    found = sm().describe_secret(name)
    assert found is not None and not found.scheduled_for_deletion and found.tags["writer"] == again.id
    assert current(name)["clientSecret"] == "new" and found.current_version_id == again.outs["version_id"]


def test_refresh_sees_drift_and_update_repairs_it(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name))
    out_of_band = sm().put_secret_value(name, '{"changed":"out of band"}', client_request_token=str(uuid.uuid4()))
    refreshed = p.read(created.id, created.outs)
    assert refreshed.id == created.id and refreshed.outs["version_id"] == out_of_band
    assert refreshed.outs["digest"] != created.outs["digest"] and CANARY not in repr(refreshed.outs)
    assert p.diff(created.id, refreshed.outs, props(aws_env, name)).changes is True
    repaired = p.update(created.id, refreshed.outs, props(aws_env, name))
    assert repaired.outs["version_id"] not in (out_of_band, created.outs["version_id"])
    assert current(name)["clientSecret"] == CANARY and versions(name)[repaired.outs["version_id"]] == ["AWSCURRENT"]
    assert p.diff(created.id, p.read(created.id, repaired.outs).outs, props(aws_env, name)).changes is False


def test_a_change_made_outside_pulumi_is_not_overwritten_without_a_refresh(aws_env: MotoServer, name: str) -> None:
    """Vault refuses this by check-and-set; Secrets Manager has none, so update compares AWSCURRENT itself."""
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name, secret="s1"))
    hotfix = sm().put_secret_value(name, '{"clientSecret":"operator fix"}', client_request_token=str(uuid.uuid4()))
    with pytest.raises(SecretsManagerError, match=r"changed outside Pulumi .* Run `pulumi refresh`") as err:
        p.update(created.id, created.outs, props(aws_env, name, secret="s2"))
    assert hotfix in str(err.value) and "operator fix" not in str(err.value)
    assert current(name)["clientSecret"] == "operator fix" and versions(name)[hotfix] == ["AWSCURRENT"]
    # after a refresh the change is seen (and shown in the diff); then up writes over it on purpose
    refreshed = p.read(created.id, created.outs).outs
    p.update(created.id, refreshed, props(aws_env, name, secret="s2"))
    assert current(name)["clientSecret"] == "s2"


def test_a_rerun_after_a_crash_mid_update_continues(aws_env: MotoServer, name: str) -> None:
    """The run that moved AWSCURRENT died before Pulumi saved the new version: its own version is no conflict."""
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name, secret="s1"))
    first = p.update(created.id, created.outs, props(aws_env, name, secret="s2"))
    again = p.update(created.id, created.outs, props(aws_env, name, secret="s2"))  # the state from before
    assert again.outs["version_id"] == first.outs["version_id"] and current(name)["clientSecret"] == "s2"


def test_refresh_of_a_deleted_secret_drops_it(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name))
    sm().delete_secret(name, recovery_window_days=7)
    assert p.read(created.id, created.outs).id is None  # scheduled for deletion counts as gone
    sm().delete_secret(name, force=True)
    assert p.read(created.id, created.outs).id is None
    again = p.create(props(aws_env, name))  # the next `up` creates it again
    assert current(name)["clientSecret"] == CANARY and len(versions(name)) == 1 and again.id != created.id


def test_replacement_keeps_the_value(aws_env: MotoServer, name: str) -> None:
    """Create-before-delete on the same name: the old resource's delete must not remove the new value."""
    p = SecretsManagerSecretProvider()
    old = p.create(props(aws_env, name))
    new = p.create(props(aws_env, name, secret="replacement"))
    p.delete(old.id, old.outs)
    found = sm().describe_secret(name)
    assert found is not None and not found.scheduled_for_deletion and found.tags["writer"] == new.id
    assert current(name)["clientSecret"] == "replacement" and found.current_version_id == new.outs["version_id"]


def test_replacement_with_the_same_value_adds_no_version(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    old = p.create(props(aws_env, name))
    new = p.create(props(aws_env, name))
    assert new.outs["version_id"] == old.outs["version_id"] and len(versions(name)) == 1


@pytest.mark.parametrize(("force", "restorable"), [(False, True), (True, False)])
def test_delete_with_recovery_window_or_force(aws_env: MotoServer, name: str, force: bool, restorable: bool) -> None:
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name, force_delete=force, recovery_window_days=7))
    p.delete(created.id, created.outs)
    found = sm().describe_secret(name)
    assert (found is not None) is restorable
    if found is not None:
        assert found.scheduled_for_deletion
        sm().restore_secret(name)
        assert current(name)["clientSecret"] == CANARY
    p.delete(created.id, created.outs)  # deleting again (or what is already gone) is a no-op


def test_request_token_is_deterministic_and_idempotent(aws_env: MotoServer, name: str) -> None:
    t = request_token("writer", "digest", "v1")
    assert t == request_token("writer", "digest", "v1") and 32 <= len(t) <= 64
    assert len({t, request_token("writer", "digest2", "v1"), request_token("writer", "digest", "v2")}) == 3
    sm().create_secret(name, "{}", client_request_token=request_token("w", "d", None))
    first = sm().put_secret_value(name, CANARY, client_request_token=t)
    assert sm().put_secret_value(name, CANARY, client_request_token=t) == first and len(versions(name)) == 2


def test_check_reports_invalid_inputs(aws_env: MotoServer) -> None:
    p = SecretsManagerSecretProvider()
    bad = props(aws_env, "bad name!", recovery_window_days=3, tags={"writer": "me"}, endpoint_url="http://10.0.0.1")
    failures = by_field(p.check({}, bad).failures)
    assert failures.keys() == {"name", "recovery_window_days", "tags", "endpoint_url"}
    assert "reserved" in failures["tags"] and "https" in failures["endpoint_url"]
    assert p.check({}, props(aws_env, "ok")).failures == []


def test_access_denied_names_action_secret_and_fix(aws_env: MotoServer, name: str) -> None:
    """AWS's own AccessDeniedException, injected at the server (the provider opens its client as in production)."""
    aws_env.faults.add(
        "CreateSecret",
        status=400,
        code="AccessDeniedException",
        message="User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
        f"secretsmanager:CreateSecret on resource: {name}",
        times=1,
    )
    with pytest.raises(SecretsManagerError) as err:
        SecretsManagerSecretProvider().create(props(aws_env, name))
    message = str(err.value)
    assert f"Secrets Manager secret {name}" in message and "access denied to secretsmanager:CreateSecret" in message
    assert "Grant the identity running pulumi secretsmanager:CreateSecret on" in message
    assert "is not authorized to perform" in message  # AWS's words are kept: they name the identity
    assert CANARY not in message and CANARY not in repr(err.value)
    assert sm().describe_secret(name) is None  # nothing was made
    (call,) = [c for c in aws_env.faults.calls("CreateSecret") if c.params["Name"] == name]  # tried once
    assert call.params["SecretString"] == "<hidden>"


def test_provider_holds_no_credentials(aws_env: MotoServer) -> None:
    provider = SecretsManagerSecretProvider()
    assert vars(provider) == {}


def test_a_replacement_updates_the_key_and_description_only_where_they_differ(aws_env: MotoServer, name: str) -> None:
    """Adopting its own secret (create-before-delete), the new resource moves the metadata it changes, writes
    the new value with a request token of its own, and makes no metadata call when nothing differs."""
    p = SecretsManagerSecretProvider()
    old = p.create(props(aws_env, name, kms_key_id="alias/one", description="first"))
    old_version = old.outs["version_id"]
    new = p.create(props(aws_env, name, secret="replacement", kms_key_id="alias/two", description="second"))
    found = sm().describe_secret(name)
    assert found is not None and (found.kms_key_id, found.description) == ("alias/two", "second")
    digest_of_new = digest(new.outs["salt"], {"clientId": "abc", "clientSecret": "replacement"})
    assert new.outs["version_id"] == request_token(new.id, digest_of_new, old_version)
    before = len(aws_env.faults.calls("UpdateSecret"))
    p.create(props(aws_env, name, secret="third", kms_key_id="alias/two", description="second"))
    assert len(aws_env.faults.calls("UpdateSecret")) == before  # same key and description: no call
    p.create(props(aws_env, name, secret="fourth", kms_key_id="alias/two", description=None))
    assert len(aws_env.faults.calls("UpdateSecret")) == before  # no description asked for: the one there stays
    found = sm().describe_secret(name)
    assert found is not None and found.description == "second"


def test_refusing_a_secret_scheduled_for_deletion_says_how_to_restore_it(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    old = p.create(props(aws_env, name))
    p.delete(old.id, old.outs)
    with pytest.raises(SecretsManagerError) as err:
        p.create(props(aws_env, name))
    found = sm().describe_secret(name)
    assert found is not None and found.deleted_date is not None
    assert err.value.code == "InvalidRequestException"
    assert str(err.value) == (
        f"{sm().where(name)} is scheduled for deletion (on {found.deleted_date:%Y-%m-%d}). Restore it (aws "
        f"secretsmanager restore-secret --secret-id {name} --region eu-central-1), or set restoreIfDeleted for "
        "connector 'patchworks' so that pulumi restores it, or choose another secret name"
    )


def test_refresh_reports_the_remote_version_and_drops_a_deleted_secret(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name))
    outside = sm().put_secret_value(name, '{"clientSecret":"x"}', client_request_token=str(uuid.uuid4()))
    refreshed = p.read(created.id, created.outs)
    assert refreshed.id == created.id and refreshed.outs["version_id"] == outside
    assert refreshed.outs["arn"] == created.outs["arn"] and refreshed.outs["name"] == name
    sm().delete_secret(name, force=True)
    gone = p.read(created.id, created.outs)
    assert (gone.id, gone.outs) == (None, {})


def test_an_update_touches_only_what_changed_and_keeps_the_version(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name, description="first"))
    outs = created.outs
    assert outs is not None
    before = len(aws_env.faults.calls("UpdateSecret"))
    tagged = p.update(created.id, outs, props(aws_env, name, description="first", tags={"team": "b"})).outs
    assert tagged is not None
    assert len(aws_env.faults.calls("UpdateSecret")) == before  # key and description unchanged: no call
    assert {k: tagged[k] for k in ("arn", "version_id", "salt", "digest")} == {
        k: outs[k] for k in ("arn", "version_id", "salt", "digest")
    }
    found = sm().describe_secret(name)
    assert found is not None and found.tags["team"] == "b" and len(found.version_stages) == 1
    cleared = p.update(created.id, tagged, props(aws_env, name, description=None, tags={"team": "b"})).outs
    assert cleared is not None
    (call,) = aws_env.faults.calls("UpdateSecret")[before:]
    sent = {k: v for k, v in call.params.items() if k != "ClientRequestToken"}  # boto3 adds one of its own
    assert sent == {"SecretId": outs["arn"], "Description": ""}  # only what changed: the description, emptied
    # settings that later calls read only: the state moves, AWS hears nothing
    calls = len(aws_env.faults.calls())
    quiet = p.update(created.id, cleared, props(aws_env, name, description=None, tags={"team": "b"}, force_delete=True))
    assert quiet.outs is not None and quiet.outs["force_delete"] is True and len(aws_env.faults.calls()) == calls
    assert {k: quiet.outs[k] for k in ("arn", "version_id", "salt", "digest")} == {
        k: outs[k] for k in ("arn", "version_id", "salt", "digest")
    }


def test_an_update_of_a_value_deleted_or_scheduled_for_deletion_outside_pulumi(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name, secret="s1"))
    sm().delete_secret(name, recovery_window_days=7)
    with pytest.raises(SecretsManagerError) as scheduled:
        p.update(created.id, created.outs, props(aws_env, name, secret="s2"))
    assert "is scheduled for deletion" in str(scheduled.value) and "restoreIfDeleted" in str(scheduled.value)
    restored = p.update(created.id, created.outs, props(aws_env, name, secret="s2", restore_if_deleted=True))
    found = sm().describe_secret(name)
    assert found is not None and not found.scheduled_for_deletion and current(name)["clientSecret"] == "s2"
    assert restored.outs is not None
    data_digest = digest(created.outs["salt"], {"clientId": "abc", "clientSecret": "s2"})
    assert restored.outs["version_id"] == request_token(created.id, data_digest, created.outs["version_id"])
    sm().delete_secret(name, force=True)
    with pytest.raises(SecretsManagerError) as gone:
        p.update(created.id, restored.outs, props(aws_env, name, secret="s3"))
    assert str(gone.value) == (
        f"{sm().where(name)} no longer exists (deleted outside Pulumi?). Run `pulumi refresh`, then `pulumi up` "
        "creates it again"
    )


def test_refresh_of_a_value_that_is_not_json_is_drift(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name))
    assert p.read(created.id, created.outs).outs["digest"] == created.outs["digest"]  # JSON, same object
    sm().put_secret_value(name, "plain text", client_request_token=str(uuid.uuid4()))
    one, two = (p.read(created.id, created.outs).outs["digest"] for _ in range(2))
    assert one == two != created.outs["digest"]
    assert p.diff(created.id, p.read(created.id, created.outs).outs, props(aws_env, name)).changes is True


def test_the_secret_string_is_canonical_json(aws_env: MotoServer, name: str) -> None:
    """The same data is the same bytes, whatever order it came in: a replayed write is recognised by its token."""
    p = SecretsManagerSecretProvider()
    p.create(props(aws_env, name, data={"clientSecret": CANARY, "clientId": "abc"}))
    got = sm().get_secret_value(name)
    assert got is not None and got.value == f'{{"clientId":"abc","clientSecret":"{CANARY}"}}'


def test_a_read_back_digest_ignores_the_json_spelling_but_not_the_text() -> None:
    salt = "00" * 16
    assert remote_digest(salt, '{ "b": 1,\n "a": "x" }') == digest(salt, {"a": "x", "b": 1})
    plain = hmac.new(bytes(16), b"not json", hashlib.sha256).hexdigest()
    assert remote_digest(salt, "not json") == plain  # not JSON: the text itself, so any change shows
    assert remote_digest(salt, "[1]") != remote_digest(salt, "[2]")


def test_the_secret_is_written_in_its_own_region(aws_env: MotoServer, name: str) -> None:
    """The connector's region, not the environment's (AWS_DEFAULT_REGION is eu-central-1 here)."""
    SecretsManagerSecretProvider().create(props(aws_env, name, region="ap-southeast-2"))
    assert SecretsManagerClient(region="ap-southeast-2").describe_secret(name) is not None
    assert sm().describe_secret(name) is None


def test_the_first_version_is_the_writers_replayable_token(aws_env: MotoServer, name: str) -> None:
    """A create retried after a crash replays the same ClientRequestToken, so AWS answers with the same version."""
    created = SecretsManagerSecretProvider().create(props(aws_env, name))
    assert created.outs["version_id"] == request_token(created.id, created.outs["digest"], None)


def test_a_replacement_makes_the_new_secret_before_deleting_the_old(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name))
    moved = p.diff(created.id, created.outs, props(aws_env, name + "-b"))
    assert moved.replaces == ["name"] and moved.delete_before_replace is False  # consumers never find none


def test_refusals_say_exactly_what_was_found_and_what_to_do(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name, secret="s1"))
    hotfix = sm().put_secret_value(name, '{"clientSecret":"fix"}', client_request_token=str(uuid.uuid4()))
    with pytest.raises(SecretsManagerError) as changed:
        p.update(created.id, created.outs, props(aws_env, name, secret="s2"))
    assert str(changed.value) == (
        f"{sm().where(name)} was changed outside Pulumi since our last write (AWSCURRENT is version {hotfix}, not "
        f"{created.outs['version_id']}). Run `pulumi refresh` to see the change, then `pulumi up`"
    )
    refreshed = p.read(created.id, created.outs).outs
    aws_env.faults.add("GetSecretValue", corrupt=True, when=("VersionId",), times=1)
    with pytest.raises(SecretsManagerError) as unread:
        p.update(created.id, refreshed, props(aws_env, name, secret="s2"))
    pending = next(v for v, stages in versions(name).items() if stages == ["AWSPENDING"])
    assert str(unread.value) == (
        f"{sm().where(created.outs['arn'])}: the new version {pending} (AWSPENDING) did not read back as written; "
        "AWSCURRENT was left on the previous version. Rerun `pulumi up`"
    )


def test_a_secret_of_another_stack_is_refused_saying_whose_it_is(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    theirs = p.create(props(aws_env, name, owner="commercetools-credentials/prod"))
    refusal = (
        "already exists{} and belongs to commercetools-credentials/prod/patchworks, not to connector 'patchworks' "
        "of commercetools-credentials/test; it is left untouched. Choose another secret name for connector "
        "'patchworks'"
    )
    with pytest.raises(SecretsManagerError) as live:
        p.create(props(aws_env, name))
    assert str(live.value) == f"{sm().where(name)} " + refusal.format("")
    p.delete(theirs.id, theirs.outs)  # scheduled for deletion, still theirs
    with pytest.raises(SecretsManagerError) as scheduled:
        p.create(props(aws_env, name, restore_if_deleted=True))
    assert str(scheduled.value) == f"{sm().where(name)} " + refusal.format(" (it is scheduled for deletion)")


def test_refresh_reports_the_secret_that_is_there_now(aws_env: MotoServer, name: str) -> None:
    """Deleted and made again outside Pulumi: a new ARN; made again without a value: nothing to read, gone."""
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name))
    sm().delete_secret(name, force=True)
    remade = sm().create_secret(name, '{"clientSecret":"x"}', client_request_token=str(uuid.uuid4()))[0]
    refreshed = p.read(created.id, created.outs)
    assert remade != created.outs["arn"] and refreshed.outs["arn"] == remade
    sm().delete_secret(name, force=True)
    boto3.client("secretsmanager", endpoint_url=aws_env.url, region_name="eu-central-1").create_secret(Name=name)
    empty = p.read(created.id, created.outs)
    assert (empty.id, empty.outs) == (None, {})


def test_an_update_whose_version_another_writer_unlabels_at_once_still_returns(
    aws_env: MotoServer, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A race: right after our update moves AWSCURRENT to its version, another writer moves AWSCURRENT on and
    takes every label off ours. AWS then leaves our version out of DescribeSecret's VersionIdsToStages (it lists
    only versions with labels); the update returns its version rather than fail, and the next refresh shows
    the other writer's value as drift. The race goes in through botocore's event hooks, on the clients the
    provider builds: after its UpdateSecretVersionStage call the other writer acts; and DescribeSecret drops
    versions without labels, as AWS does and moto does not."""
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name, secret="s1"))
    other = boto3.client("secretsmanager")  # built before the hooks: the other writer has none
    raced: list[str] = []

    def another_writer(parsed: dict[str, Any], **_: Any) -> None:
        if raced or parsed.get("Name") != name:
            return
        ours = other.describe_secret(SecretId=name)["VersionIdsToStages"]
        (version,) = [v for v, stages in ours.items() if "AWSPENDING" in stages]
        raced.append(version)
        theirs = other.put_secret_value(SecretId=name, SecretString='{"by": "them"}', VersionStages=["THEIRS"])
        other.update_secret_version_stage(
            SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=theirs["VersionId"], RemoveFromVersionId=version
        )
        for label in ("AWSPENDING", "AWSPREVIOUS"):
            other.update_secret_version_stage(SecretId=name, VersionStage=label, RemoveFromVersionId=version)

    def only_labelled_versions(parsed: dict[str, Any], **_: Any) -> None:
        stages = parsed.get("VersionIdsToStages") or {}
        parsed["VersionIdsToStages"] = {v: labels for v, labels in stages.items() if labels}

    monkeypatch.setattr(
        botocore.handlers,
        "BUILTIN_HANDLERS",
        [
            *botocore.handlers.BUILTIN_HANDLERS,
            ("after-call.secrets-manager.UpdateSecretVersionStage", another_writer),
            ("after-call.secrets-manager.DescribeSecret", only_labelled_versions),
        ],
    )
    updated = p.update(created.id, created.outs, props(aws_env, name, secret="s2"))
    assert raced == [updated.outs["version_id"]]
    assert other.describe_secret(SecretId=name)["VersionIdsToStages"][raced[0]] == []  # no label left on it
    assert p.read(created.id, updated.outs).outs["digest"] != updated.outs["digest"]  # their value: drift


def test_a_secret_another_tool_claims_is_refused_naming_no_stack(aws_env: MotoServer, name: str) -> None:
    """A tool that sets a `managed-by` tag of its own: 'another tool' (no stack of ours to name)."""
    sm().create_secret(
        name, '{"owner":"terraform"}', client_request_token=str(uuid.uuid4()), tags={"managed-by": "terraform"}
    )
    with pytest.raises(SecretsManagerError) as err:
        SecretsManagerSecretProvider().create(props(aws_env, name))
    assert str(err.value) == (
        f"{sm().where(name)} already exists and belongs to another tool, not to connector 'patchworks' of "
        "commercetools-credentials/test; it is left untouched. Choose another secret name for connector 'patchworks'"
    )
    assert current(name) == {"owner": "terraform"}


def test_a_delete_leaves_a_secret_whose_claim_is_no_longer_ours(aws_env: MotoServer, name: str) -> None:
    p = SecretsManagerSecretProvider()
    created = p.create(props(aws_env, name, force_delete=True))
    sm().tag_resource(name, {"managed-by": "terraform"})
    p.delete(created.id, created.outs)
    found = sm().describe_secret(name)
    assert found is not None and not found.scheduled_for_deletion
