"""Vault logins without a token in config (AppRole, JWT), KV v1, adoption, and faults against real OpenBao:
a sealed server, a token whose policy denies the path, a server that is down."""

from __future__ import annotations

import base64
import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import hvac
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ctp_credentials.components.clients import vault
from ctp_credentials.components.clients.vault import KvSecret, VaultClient
from ctp_credentials.components.errors import VaultError
from ctp_credentials.components.providers.vault_secret import VaultKvSecretProvider
from ctp_credentials.testing.openbao import OpenBaoServer
from tests.conftest import CANARY

pytestmark = pytest.mark.security("faults")


ADOPT_FIX = r"set connectors\.patchworks\.vault\.adopt \(store\.adopt in your own program\): true"


def admin(server: OpenBaoServer) -> hvac.Client:
    return hvac.Client(url=server.url, token=server.root_token)


def props(server: OpenBaoServer, path: str, **kw: Any) -> dict[str, Any]:
    return {
        "connector": "patchworks",
        "owner": "commercetools-credentials/test",
        "address": server.url,
        "mount": "secret",
        "path": path,
        "data": {"clientId": "abc", "clientSecret": CANARY},
        **kw,
    }


@pytest.fixture(scope="module")
def bao() -> Iterator[OpenBaoServer]:
    """A server of this module's own: these tests enable auth methods and mounts, and seal it."""
    with OpenBaoServer() as server:
        client = admin(server)
        client.sys.create_or_update_policy(
            "connectors-only",
            'path "secret/data/allowed/*" { capabilities = ["create", "read", "update"] }\n'
            'path "secret/metadata/allowed/*" { capabilities = ["create", "read", "update"] }',
        )
        yield server


def test_approle_login(bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    client = admin(bao)
    client.sys.enable_auth_method("approle")
    client.auth.approle.create_or_update_approle("ci", token_policies=["connectors-only"])
    role_id = client.auth.approle.read_role_id("ci")["data"]["role_id"]
    secret_id = client.auth.approle.generate_secret_id("ci")["data"]["secret_id"]
    monkeypatch.setenv("VAULT_ADDR", bao.url)
    monkeypatch.setenv("VAULT_ROLE_ID", role_id)
    monkeypatch.setenv("VAULT_SECRET_ID", secret_id)
    vault = VaultClient()
    assert vault.create_or_update_secret("allowed/approle", {"a": "1"}, cas=0) == 1
    monkeypatch.setenv("VAULT_SECRET_ID", "wrong")
    with pytest.raises(VaultError, match=r"log in with AppRole.*Check the role and its credentials"):
        VaultClient()


def _jwt(key: rsa.RSAPrivateKey, claims: dict[str, Any]) -> str:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps({'alg': 'RS256', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


def _jwt_auth(bao: OpenBaoServer, mount: str) -> rsa.RSAPrivateKey:
    """JWT auth at `mount` trusting a new key's tokens from https://ci.example.com; role `pipeline`. The key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    client = admin(bao)
    client.sys.enable_auth_method("jwt", path=mount)
    client.write(f"auth/{mount}/config", jwt_validation_pubkeys=[pem.decode()], bound_issuer="https://ci.example.com")
    client.write(
        f"auth/{mount}/role/pipeline",
        role_type="jwt",
        user_claim="sub",
        bound_audiences=["vault"],
        token_policies=["connectors-only"],
    )
    return key


def test_jwt_login_from_a_file(bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """The CI case: the job's OIDC ID token in a file, no long-lived Vault secret anywhere."""
    key = _jwt_auth(bao, "jwt")
    now = int(time.time())
    token = _jwt(
        key,
        {
            "iss": "https://ci.example.com",
            "sub": "repo:shop/infra",
            "aud": "vault",
            "iat": now,
            "nbf": now - 5,
            "exp": now + 300,
        },
    )
    (tmp_path / "id-token").write_text(token)
    monkeypatch.setenv("VAULT_ADDR", bao.url)
    monkeypatch.setenv("VAULT_JWT_ROLE", "pipeline")
    monkeypatch.setenv("VAULT_JWT_FILE", str(tmp_path / "id-token"))
    assert VaultClient().create_or_update_secret("allowed/jwt", {"a": "1"}, cas=0) == 1
    monkeypatch.setenv("VAULT_JWT_ROLE", "no-such-role")
    with pytest.raises(VaultError, match="log in with JWT role 'no-such-role'"):
        VaultClient()


def test_no_credentials_lists_the_three_ways(bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_ADDR", bao.url)
    with pytest.raises(VaultError, match=r"VAULT_TOKEN, or VAULT_ROLE_ID \+ VAULT_SECRET_ID.*VAULT_JWT_ROLE"):
        VaultClient()


def test_policy_denied_path_is_explained_and_nothing_is_written(
    bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    limited = admin(bao).auth.token.create(policies=["connectors-only"])["auth"]["client_token"]
    monkeypatch.setenv("VAULT_TOKEN", limited)
    with pytest.raises(VaultError) as err:
        VaultKvSecretProvider().create(props(bao, "elsewhere/patchworks"))
    message = str(err.value)
    assert "permission denied" in message and "secret/data/elsewhere/patchworks" in message
    assert CANARY not in message
    with pytest.raises(hvac.exceptions.InvalidPath):
        admin(bao).secrets.kv.v2.read_secret_metadata(path="elsewhere/patchworks")


def test_sealed_vault_is_explained_then_a_rerun_converges(bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    path = f"sealed/{uuid.uuid4().hex}"
    admin(bao).sys.seal()
    try:
        with pytest.raises(VaultError, match=r"Vault is sealed\. Unseal it"):
            VaultKvSecretProvider().create(props(bao, path))
    finally:
        admin(bao).sys.submit_unseal_key(bao.unseal_key)
    created = VaultKvSecretProvider().create(props(bao, path))
    assert created.outs["version"] == 1


def test_server_down_then_back_converges(monkeypatch: pytest.MonkeyPatch) -> None:
    server = OpenBaoServer().start()
    port, token = server.port, server.root_token
    server.stop()
    monkeypatch.setenv("VAULT_TOKEN", token)
    p = props(server, "down/patchworks")
    with pytest.raises(VaultError, match=r"cannot connect\. Check VAULT_ADDR"):
        VaultKvSecretProvider().create(p)
    again = OpenBaoServer(port=port)
    again.root_token = token
    with again:
        assert VaultKvSecretProvider().create(p).outs["version"] == 1


def test_kv_v1_write_noop_drift_and_delete(bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    admin(bao).sys.enable_secrets_engine("kv", path="kv1", options={"version": "1"})
    p = props(bao, "team/patchworks", mount="kv1", kv_version=1)
    provider = VaultKvSecretProvider()
    created = provider.create(p)
    assert admin(bao).secrets.kv.v1.read_secret("team/patchworks", mount_point="kv1")["data"]["clientSecret"] == CANARY
    assert provider.create(p).outs["digest"]  # a rerun after a crash finds its own value: no refusal
    assert provider.diff(created.id, created.outs, p).changes is False
    admin(bao).secrets.kv.v1.create_or_update_secret("team/patchworks", {"x": "1"}, mount_point="kv1")
    new = {**p, "data": {"clientId": "abc", "clientSecret": "rotated"}}
    with pytest.raises(VaultError, match="changed since our last write"):
        provider.update(created.id, created.outs, new)
    refreshed = provider.read(created.id, created.outs)
    repaired = provider.update(created.id, refreshed.outs, new)
    provider.delete(created.id, repaired.outs)
    with pytest.raises(hvac.exceptions.InvalidPath):
        admin(bao).secrets.kv.v1.read_secret("team/patchworks", mount_point="kv1")


def test_kv_v1_another_spelling_of_the_address_updates_and_keeps_the_value(
    bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KV v1 records no owner: had the address change replaced the resource, the old one's delete would remove
    the value the new one found in place (both names reach one server)."""
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    client = admin(bao)
    if "kv1c/" not in client.sys.list_mounted_secrets_engines()["data"]:
        client.sys.enable_secrets_engine("kv", path="kv1c", options={"version": "1"})
    p = props(bao, "team/patchworks", mount="kv1c", kv_version=1)
    provider = VaultKvSecretProvider()
    created = provider.create(p)
    other_name = {**p, "address": bao.url.replace("127.0.0.1", "localhost")}
    diff = provider.diff(created.id, created.outs, other_name)
    assert diff.changes is True and diff.replaces == []
    updated = provider.update(created.id, created.outs, other_name)
    assert updated.outs["address"] == other_name["address"]
    assert client.secrets.kv.v1.read_secret("team/patchworks", mount_point="kv1c")["data"]["clientSecret"] == CANARY


@pytest.fixture
def path() -> str:
    return f"allowed/{uuid.uuid4().hex}"


def test_a_renamed_stack_still_owns_the_secret_its_resource_wrote(
    bao: OpenBaoServer, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pulumi stack rename` changes the owner input; the metadata still names the old stack until we update."""
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    provider = VaultKvSecretProvider()
    created = provider.create(props(bao, path))
    renamed = {**props(bao, path), "owner": "commercetools-credentials/renamed"}
    assert provider.diff(created.id, created.outs, renamed).changes is True
    provider.update(created.id, created.outs, {**renamed, "data": {"clientId": "abc", "clientSecret": "rotated"}})
    meta = admin(bao).secrets.kv.v2.read_secret_metadata(path=path)["data"]["custom_metadata"]
    assert meta["pulumi-stack"] == "commercetools-credentials/renamed" and meta["writer"] == created.id


def test_a_failed_replacement_hands_the_path_back(
    bao: OpenBaoServer, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new resource claims the path before it writes; when the write fails, the claim goes back to the
    resource still in state, or its destroy would later skip the secret as someone else's."""
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    provider = VaultKvSecretProvider()
    old = provider.create(props(bao, path, delete_policy="destroy"))
    client = admin(bao)
    client.sys.create_or_update_policy(
        "metadata-only", f'path "secret/metadata/{path}" {{ capabilities = ["create", "read", "update"] }}'
    )
    token = client.auth.token.create(policies=["metadata-only"], ttl="10m")["auth"]["client_token"]
    monkeypatch.setenv("VAULT_TOKEN", token)
    with pytest.raises(VaultError, match="cannot write"):
        provider.create(props(bao, path, secret="replacement", delete_policy="destroy"))
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    assert client.secrets.kv.v2.read_secret_metadata(path=path)["data"]["custom_metadata"]["writer"] == old.id
    provider.delete(old.id, old.outs)  # deletePolicy destroy: gone, not skipped
    with pytest.raises(hvac.exceptions.InvalidPath):
        client.secrets.kv.v2.read_secret_metadata(path=path)


def test_kv_v1_foreign_value_refused_unless_adopted(bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    client = admin(bao)
    if "kv1b/" not in client.sys.list_mounted_secrets_engines()["data"]:
        client.sys.enable_secrets_engine("kv", path="kv1b", options={"version": "1"})
    client.secrets.kv.v1.create_or_update_secret("pasted", {"by": "hand"}, mount_point="kv1b")
    p = props(bao, "pasted", mount="kv1b", kv_version=1)
    with pytest.raises(VaultError, match=ADOPT_FIX):
        VaultKvSecretProvider().create(p)
    VaultKvSecretProvider().create({**p, "adopt": True})
    assert client.secrets.kv.v1.read_secret("pasted", mount_point="kv1b")["data"]["clientSecret"] == CANARY


def test_kv_v2_adopt_takes_a_hand_made_path_but_never_another_stacks(
    bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    admin(bao).secrets.kv.v2.create_or_update_secret("pasted/patchworks", {"by": "hand"})
    with pytest.raises(VaultError, match=ADOPT_FIX):
        VaultKvSecretProvider().create(props(bao, "pasted/patchworks"))
    adopted = VaultKvSecretProvider().create(props(bao, "pasted/patchworks", adopt=True))
    assert adopted.outs["version"] == 2
    other = props(bao, "pasted/patchworks", adopt=True, owner="commercetools-credentials/other")
    with pytest.raises(VaultError, match="belongs to commercetools-credentials/test/patchworks"):
        VaultKvSecretProvider().create(other)


def test_namespace_isolates_paths(bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """X-Vault-Namespace (VAULT_NAMESPACE or vault.namespace): the same path in two namespaces is two secrets."""
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    client = admin(bao)
    client.write("sys/namespaces/team-a")
    scoped = hvac.Client(url=bao.url, token=bao.root_token, namespace="team-a")
    scoped.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    p = props(bao, "ns/patchworks", namespace="team-a")
    VaultKvSecretProvider().create(p)
    stored = scoped.secrets.kv.v2.read_secret_version(path="ns/patchworks", raise_on_deleted_version=True)
    assert stored["data"]["data"]["clientSecret"] == CANARY
    with pytest.raises(hvac.exceptions.InvalidPath):  # not in the root namespace
        client.secrets.kv.v2.read_secret_version(path="ns/patchworks", raise_on_deleted_version=True)
    monkeypatch.setenv("VAULT_ADDR", bao.url)
    monkeypatch.setenv("VAULT_NAMESPACE", "team-a")
    assert VaultClient().read_secret_version("ns/patchworks") is not None  # the environment's namespace


def test_the_documented_policy_is_enough_and_a_missing_delete_grant_is_named(
    bao: OpenBaoServer, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README: create/read/update on data/ and metadata/, and update on delete/ for the default deletePolicy."""
    client = admin(bao)
    rules = [
        f'path "secret/{p}/{path}" {{ capabilities = ["create", "read", "update"] }}' for p in ("data", "metadata")
    ]
    client.sys.create_or_update_policy("documented-no-delete", "\n".join(rules))
    rules.append(f'path "secret/delete/{path}" {{ capabilities = ["update"] }}')
    client.sys.create_or_update_policy("documented", "\n".join(rules))

    def token(policy: str) -> str:
        return str(client.auth.token.create(policies=[policy], ttl="10m")["auth"]["client_token"])

    provider = VaultKvSecretProvider()
    monkeypatch.setenv("VAULT_TOKEN", token("documented-no-delete"))
    created = provider.create(props(bao, path))
    with pytest.raises(VaultError, match=f"Grant the token's policy update on secret/delete/{path}"):
        provider.delete(created.id, created.outs)
    monkeypatch.setenv("VAULT_TOKEN", token("documented"))
    provider.delete(created.id, created.outs)
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    with pytest.raises(hvac.exceptions.InvalidPath):
        client.secrets.kv.v2.read_secret_version(path=path, raise_on_deleted_version=True)


def test_every_verb_names_what_it_did_where_and_the_grant_it_needs(
    bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On mounts of their own (so a verb that forgot its mount would go to `secret` and not be denied), with a
    token that may do nothing there: each message says the verb, the place and the grant that fixes it."""
    root = admin(bao)
    root.sys.enable_secrets_engine("kv", path="kv2-verbs", options={"version": "2"})
    root.sys.enable_secrets_engine("kv", path="kv1-verbs", options={"version": "1"})
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    v2 = VaultClient(address=bao.url, mount="kv2-verbs")
    v1 = VaultClient(address=bao.url, mount="kv1-verbs", kv_version=1)
    assert v2.create_or_update_secret("a/b", {"k": "v"}, cas=0) == 1
    v1.write_secret("a/b", {"k": "v"})
    assert v1.read_secret("a/b") == KvSecret(data={"k": "v"}, version=0, custom_metadata={})
    nobody = root.auth.token.create(policies=["connectors-only"])["auth"]["client_token"]
    monkeypatch.setenv("VAULT_TOKEN", nobody)
    v2, v1 = (
        VaultClient(address=bao.url, mount="kv2-verbs"),
        VaultClient(address=bao.url, mount="kv1-verbs", kv_version=1),
    )
    where2, where1 = f"Vault {bao.url} kv2-verbs/a/b", f"Vault {bao.url} kv1-verbs/a/b"
    v2_grant = "read/create/update on kv2-verbs/data/a/b and kv2-verbs/metadata/a/b"
    cases = [
        (lambda: v2.read_secret_version("a/b"), f"cannot read {where2}", v2_grant),
        (lambda: v2.create_or_update_secret("a/b", {"k": CANARY}, cas=1), f"cannot write {where2}", v2_grant),
        (
            lambda: v2.delete_secret_versions("a/b", [1]),
            f"cannot delete versions of {where2}",
            "update on kv2-verbs/delete/a/b",
        ),
        (
            lambda: v2.delete_metadata_and_all_versions("a/b"),
            f"cannot destroy {where2}",
            "delete on kv2-verbs/metadata/a/b",
        ),
        (lambda: v1.read_secret("a/b"), f"cannot read {where1}", "read/create/update/delete on kv1-verbs/a/b"),
        (
            lambda: v1.write_secret("a/b", {"k": CANARY}),
            f"cannot write {where1}",
            "read/create/update/delete on kv1-verbs/a/b",
        ),
        (lambda: v1.delete_secret("a/b"), f"cannot delete {where1}", "read/create/update/delete on kv1-verbs/a/b"),
    ]
    for call, what, grant in cases:
        with pytest.raises(VaultError) as err:
            call()
        # OpenBao's own words in the middle (its error list, as hvac gives it)
        remote = "1 error occurred: * permission denied"  # OpenBao's multi-line text, kept to one line
        assert str(err.value) == f"{what}: permission denied ({remote}). Grant the token's policy {grant}"


def test_every_kv2_verb_acts_on_the_connectors_own_mount(bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A verb that forgot its mount would act on `secret`, where the same path is seeded with another value."""
    root = admin(bao)
    root.sys.enable_secrets_engine("kv", path="kv2-own", options={"version": "2"})
    root.secrets.kv.v2.create_or_update_secret(path="x/y", secret={"decoy": "on secret"}, mount_point="secret")
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    v = VaultClient(address=bao.url, mount="kv2-own")

    def own(version: int | None = None) -> dict[str, Any]:
        body = root.secrets.kv.v2.read_secret_version(
            path="x/y", version=version, mount_point="kv2-own", raise_on_deleted_version=False
        )
        return dict(body["data"])

    assert v.create_or_update_secret("x/y", {"k": "1"}, cas=0) == 1 and own()["data"] == {"k": "1"}
    root.secrets.kv.v2.create_or_update_secret(path="x/y", secret={"k": "2"}, mount_point="kv2-own")
    read = v.read_secret_version("x/y")
    assert read is not None and read.data == {"k": "2"}
    v.update_metadata("x/y", {"owner": "me"})
    meta = root.secrets.kv.v2.read_secret_metadata(path="x/y", mount_point="kv2-own")["data"]
    assert meta["custom_metadata"] == {"owner": "me"}
    got = v.read_secret_metadata("x/y")
    assert got is not None and (got.current_version, got.custom_metadata) == (2, {"owner": "me"})
    v.delete_secret_versions("x/y", [2])
    assert own(2)["metadata"]["deletion_time"]
    v.delete_metadata_and_all_versions("x/y")
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v2.read_secret_metadata(path="x/y", mount_point="kv2-own")
    decoy = root.secrets.kv.v2.read_secret_version(path="x/y", mount_point="secret", raise_on_deleted_version=True)
    assert decoy["data"]["data"] == {"decoy": "on secret"} and decoy["data"]["metadata"]["version"] == 1


def test_approle_on_its_own_mount_and_half_a_pair_is_no_credential(
    bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = admin(bao)
    client.sys.enable_auth_method("approle", path="approle-ci")
    client.auth.approle.create_or_update_approle("ci", token_policies=["connectors-only"], mount_point="approle-ci")
    role_id = client.auth.approle.read_role_id("ci", mount_point="approle-ci")["data"]["role_id"]
    secret_id = client.auth.approle.generate_secret_id("ci", mount_point="approle-ci")["data"]["secret_id"]
    monkeypatch.setenv("VAULT_ADDR", bao.url)
    monkeypatch.setenv("VAULT_ROLE_ID", role_id)
    with pytest.raises(VaultError) as half:  # a role ID alone is not AppRole credentials
        VaultClient()
    assert str(half.value).startswith(f"no Vault credentials for {bao.url}: set VAULT_TOKEN")
    monkeypatch.setenv("VAULT_SECRET_ID", secret_id)
    monkeypatch.setenv("VAULT_APPROLE_MOUNT", "approle-ci")
    assert VaultClient().create_or_update_secret("allowed/approle-ci", {"a": "1"}, cas=0) == 1
    monkeypatch.setenv("VAULT_SECRET_ID", "wrong")
    with pytest.raises(VaultError) as wrong:
        VaultClient()
    assert str(wrong.value) == (
        f"cannot log in with AppRole (auth/approle-ci) to Vault {bao.url} secret: invalid role or secret ID. "
        "Check the role and its credentials"
    )


def test_jwt_from_the_environment_on_its_own_mount(
    bao: OpenBaoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """VAULT_JWT wins over VAULT_JWT_FILE; VAULT_JWT_MOUNT names the auth mount; each gap says what to set."""
    key = _jwt_auth(bao, "jwt-ci")
    now = int(time.time())
    claims = {"iss": "https://ci.example.com", "sub": "repo:shop/infra", "aud": "vault", "iat": now, "exp": now + 300}
    (tmp_path / "stale-token").write_text("not-a-jwt")
    monkeypatch.setenv("VAULT_ADDR", bao.url)
    monkeypatch.setenv("VAULT_JWT_ROLE", "pipeline")
    monkeypatch.setenv("VAULT_JWT_MOUNT", "jwt-ci")
    with pytest.raises(VaultError) as none:
        VaultClient()
    assert str(none.value) == "VAULT_JWT_ROLE is set but neither VAULT_JWT nor VAULT_JWT_FILE gives a token"
    monkeypatch.setenv("VAULT_JWT_FILE", str(tmp_path / "missing"))
    with pytest.raises(VaultError) as unreadable:
        VaultClient()
    assert str(unreadable.value) == f"cannot read VAULT_JWT_FILE {tmp_path / 'missing'}: No such file or directory"
    monkeypatch.setenv("VAULT_JWT_FILE", str(tmp_path / "stale-token"))
    monkeypatch.setenv("VAULT_JWT", _jwt(key, claims))
    assert VaultClient().create_or_update_secret("allowed/jwt-env", {"a": "1"}, cas=0) == 1
    monkeypatch.setenv("VAULT_JWT_ROLE", "no-such-role")
    with pytest.raises(VaultError) as refused:
        VaultClient()
    assert str(refused.value).startswith(
        f"cannot log in with JWT role 'no-such-role' (auth/jwt-ci) to Vault {bao.url} secret: "
    )
    assert str(refused.value).endswith(". Check the role and its credentials")


def test_the_address_and_missing_settings_are_told_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(VaultError) as missing:
        VaultClient()
    assert str(missing.value) == "no Vault address: set VAULT_ADDR, or vault.address in the connector's config"
    monkeypatch.setenv("VAULT_ADDR", "https://vault.example/X/")
    with pytest.raises(VaultError) as nothing:
        VaultClient()
    assert str(nothing.value) == (
        "no Vault credentials for https://vault.example/X: set VAULT_TOKEN, or VAULT_ROLE_ID + VAULT_SECRET_ID "
        "(AppRole), or VAULT_JWT_ROLE + VAULT_JWT/VAULT_JWT_FILE (JWT/OIDC) in the environment that runs pulumi "
        "(credentials are never read from stack config)"
    )
    monkeypatch.setenv("VAULT_TOKEN", "t")
    assert VaultClient().where("a") == "Vault https://vault.example/X secret/a"


def test_a_server_that_never_answers_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Vault that accepts and never answers fails after TIMEOUT, not after hvac's own 30 s."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        monkeypatch.setattr(vault, "TIMEOUT", 0.2)
        monkeypatch.setenv("VAULT_TOKEN", "t")
        address = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(VaultError) as err:
            VaultClient(address=address).read_secret_version("a")
    assert str(err.value) == f"cannot read Vault {address} secret/a: no answer within 0.2s. Check that Vault is up"
