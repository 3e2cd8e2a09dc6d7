"""The library's arguments: what a user's program passes to CommercetoolsConnector, validated by the config
model's rules, with messages that name the component and the argument; and the shared credential check that
every connector joins without any wiring by the program."""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi
import pytest

from ctp_credentials import (
    ArgumentError,
    CommercetoolsConnector,
    ConnectorArgs,
    FileTarget,
    ManagedClient,
    Publish,
    SecretsManagerStore,
    SsmTarget,
    VaultStore,
    VaultTarget,
    WebhookTarget,
)
from ctp_credentials.components import config as model
from tests.components.test_connector import CHECK_URN, SECRET, SECRET_SIG, Mocks, registered
from tests.conftest import CANARY

THEIR_CHECK_URN = CHECK_URN.replace("test::commercetools-credentials", "dev::their-program")

PK = "erp-shop"
SCOPES = [f"view_orders:{PK}"]


@pytest.fixture
def mocks(monkeypatch: pytest.MonkeyPatch, event_loop_for_mocks: Any) -> Mocks:
    monkeypatch.setenv("VAULT_ADDR", "https://vault.example.com")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    m = Mocks()
    pulumi.runtime.set_mocks(m, project="their-program", stack="dev", preview=False, monitor=m.monitor)
    return m


def provided(**kw: Any) -> ConnectorArgs:
    return ConnectorArgs(project_key=PK, scopes=SCOPES, client_id="erp-client-1", client_secret=CANARY, **kw)


@pytest.mark.parametrize(
    ("public", "internal"),
    [
        (VaultStore, model.VaultStore),
        (SecretsManagerStore, model.SecretsManagerStore),
        (ManagedClient, model.ManagedClient),
        (FileTarget, model.FileTarget),
        (VaultTarget, model.VaultTarget),
        (SsmTarget, model.SsmTarget),
        (WebhookTarget, model.WebhookTarget),
        (Publish, model.Publish),
    ],
)
def test_every_argument_class_has_the_fields_of_its_config_model(public: Any, internal: Any) -> None:
    """One set of settings: an argument class that lost or gained a field against the model would drop a
    setting on its way to the resources, or pass one the model refuses as unknown."""
    assert {f.name for f in dataclasses.fields(public)} == set(internal.model_fields)


def test_connector_args_cover_the_connector_model() -> None:
    library = {f.name for f in dataclasses.fields(ConnectorArgs)} - {"store", "owner", "_stack_config"}
    # name is the component's name; the store is one argument for the model's two; grant and client type are fixed
    assert library | {"name", "vault", "secrets_manager", "grant_type", "client_type"} == set(
        model.ConnectorConfig.model_fields
    )


@pulumi.runtime.test
def test_a_stack_programs_connector_goes_through_the_arguments_unchanged(mocks: Mocks) -> None:
    """The stack program uses the library: its validated config, made into arguments and validated again, is the
    same config (nothing lost, nothing defaulted differently)."""
    from ctp_credentials.components.args import resolve

    raw = {
        "pw": {
            "projectKey": PK,
            "region": "us-central1.gcp",
            "scopes": SCOPES,
            "clientId": "abcdefghijkl",
            "checkCredentials": False,
            "tokenKey": "token",
            "secretKeys": {"clientSecret": "secret"},
            "secretsManager": {"name": "ct/pw", "kmsKeyId": "alias/ct", "tags": {"team": "a"}, "forceDelete": True},
            "publish": {
                "file": {"path": "out/pw.json"},
                "vault": {"mount": "kv", "path": "docs/pw"},
                "ssm": {"name": "/ct/pw", "tier": "Advanced"},
                "webhooks": [{"url": "https://hooks.example.com/ct", "notifyOnDelete": False}],
            },
        },
        "mg": {"projectKey": PK, "scopes": SCOPES, "managed": {"rotateAfterDays": 30, "graceHours": 2}},
    }
    lookup = {"clientSecret-pw": (CANARY, True), "webhookSigningKey-pw": ("k" * 20, True)}
    for c in model.load_stack_config(raw, lambda k: lookup.get(k, (None, False))).connectors:
        again = resolve("CommercetoolsConnector", c.name, ConnectorArgs.from_config(c))
        assert again.config.model_dump(exclude={"client_secret", "webhook_signing_key"}) == c.model_dump(
            exclude={"client_secret", "webhook_signing_key"}
        )
        assert again.stack_config and again.owner == "their-program/dev"


@pulumi.runtime.test
def test_bad_arguments_are_reported_together_naming_the_component_and_argument(mocks: Mocks) -> None:
    args = ConnectorArgs(
        project_key="Not A Key",
        scopes=["view_orders:other"],
        client_secret=CANARY,
        store=VaultStore(path="../escape", kv_version=3),  # type: ignore[arg-type]  # what a user may write
        managed=None,
    )
    with pytest.raises(ArgumentError) as caught:
        CommercetoolsConnector("erp-sync", args)
    message = str(caught.value)
    assert message.startswith("CommercetoolsConnector 'erp-sync': invalid arguments:\n")
    for argument in ("project_key:", "store.path:", "store.kv_version:"):
        assert f"\n- {argument}" in message, message
    # library words: argument names, never the stack program's config keys or its commands
    assert "connectors." not in message and "pulumi config" not in message and "kvVersion" not in message
    assert CANARY not in message
    assert isinstance(caught.value, pulumi.RunError)  # printed without a traceback
    assert mocks.created == {}  # nothing registered


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (ConnectorArgs(project_key=PK, scopes=SCOPES, client_secret=CANARY), "client_id is required"),
        (ConnectorArgs(project_key=PK, scopes=SCOPES, client_id="abc"), "client_secret is required"),
        (
            ConnectorArgs(project_key=PK, scopes=SCOPES, managed=ManagedClient(), client_secret=CANARY),
            "client_secret: remove it",
        ),
        (
            provided(publish=Publish(webhooks=[WebhookTarget(url="https://hooks.example.com/x")])),
            "set webhook_signing_key",
        ),
        (provided(webhook_signing_key="short"), "webhook_signing_key: too short"),
        (provided(managed=ManagedClient(grace_hours=-1)), "managed.grace_hours:"),
        (provided(auth_url="https://evil.example.com", api_url="https://evil.example.com"), "auth_url: evil"),
        (
            provided(store=VaultStore(path="a/b"), publish=Publish(vault=VaultTarget(path="a/b"))),
            "publish.vault.path and store.path name the same Vault secret",
        ),
    ],
)
@pulumi.runtime.test
def test_each_rule_speaks_of_arguments(mocks: Mocks, args: ConnectorArgs, expected: str) -> None:
    with pytest.raises(ArgumentError) as caught:
        CommercetoolsConnector("erp-sync", args)
    assert expected in str(caught.value), str(caught.value)
    assert "connectors." not in str(caught.value) and CANARY not in str(caught.value)


@pulumi.runtime.test
def test_connectors_of_one_program_share_one_check_that_guards_every_write(mocks: Mocks) -> Any:
    """Two provided connectors and a managed one, declared as a user's program does: one CredentialCheck holds
    both provided credentials (their token requests run together during preview), and every child of every
    connector waits for it. The secret comes from another resource's output and stays secret."""
    secret_from_elsewhere = pulumi.Output.secret(CANARY)
    erp = CommercetoolsConnector("erp-sync", provided(store=SecretsManagerStore(name="ct/erp", tags={"team": "erp"})))
    pim = CommercetoolsConnector(
        "pim",
        ConnectorArgs(
            project_key="pim-shop",
            scopes=["view_products:pim-shop"],
            client_id="pim-client-1",
            client_secret=secret_from_elsewhere,
            store=VaultStore(mount="kv", path="teams/pim/ct"),
        ),
    )
    managed = CommercetoolsConnector("mg", ConnectorArgs(project_key=PK, scopes=SCOPES, managed=ManagedClient()))

    def verify(_: Any) -> None:
        check = registered(mocks, "credential-check")
        assert check.urn == THEIR_CHECK_URN + "credential-check"
        assert check.inputs["connectors"][SECRET_SIG] == SECRET
        entries = check.inputs["connectors"]["value"]
        assert sorted(entries) == ["erp-sync", "pim"]  # the managed client tests its own credential
        assert entries["pim"]["client_secret"] == CANARY and entries["pim"]["project_key"] == "pim-shop"
        for child in ("erp-sync-secret", "pim-secret", "mg-client"):
            assert registered(mocks, child).dependencies == [check.urn], child
        sm = registered(mocks, "erp-sync-secret")
        assert (sm.inputs["name"], sm.inputs["tags"], sm.inputs["owner"]) == (
            "ct/erp",
            {"team": "erp"},
            "their-program/dev",
        )
        assert sm.inputs["data"][SECRET_SIG] == SECRET and sm.inputs["data"]["value"]["clientSecret"] == CANARY
        kv = registered(mocks, "pim-secret")
        assert (kv.inputs["mount"], kv.inputs["path"]) == ("kv", "teams/pim/ct")

    return pulumi.Output.all(erp.config, pim.config, managed.config).apply(verify)


@pulumi.runtime.test
def test_a_connector_declared_inside_an_apply_gets_a_check_of_its_own(mocks: Mocks) -> Any:
    """Declared after the program's top level returned (from another resource's output), a connector cannot
    join the first check, which is already registered: it gets the next one, and still waits for it."""
    first = CommercetoolsConnector("erp-sync", provided())
    later: pulumi.Output[Any] = first.config.apply(
        lambda _: CommercetoolsConnector("late", provided(store=VaultStore(path="ct/late"))).config
    )

    def verify(_: Any) -> None:
        assert list(registered(mocks, "credential-check").inputs["connectors"]["value"]) == ["erp-sync"]
        second = registered(mocks, "credential-check-2")
        assert list(second.inputs["connectors"]["value"]) == ["late"]
        assert registered(mocks, "late-secret").dependencies == [second.urn]

    return later.apply(verify)


@pytest.mark.parametrize(("from_stack", "named"), [(False, "check_credentials=False"), (True, "connectors.pw.")])
@pulumi.runtime.test
def test_a_check_switched_off_is_announced_in_the_words_of_its_caller(
    mocks: Mocks, monkeypatch: pytest.MonkeyPatch, from_stack: bool, named: str
) -> None:
    from ctp_credentials.components import connector
    from ctp_credentials.components.args import resolve

    said: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda text, *a, **k: said.append(text))
    args = dataclasses.replace(provided(check_credentials=False), _stack_config=from_stack)
    connector._announce(resolve("CommercetoolsConnector", "pw", args))
    assert len(said) == 1 and named in said[0] and "credential check is off" in said[0]


HEAD = "CommercetoolsConnector 'erp': invalid argument:\n- "


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ConnectorArgs(project_key=PK, scopes=SCOPES, managed=ManagedClient(), client_secret=CANARY),
            HEAD + "client_secret: remove it; a managed connector's secret is made by this project",
        ),
        (
            ConnectorArgs(project_key=PK, scopes=SCOPES, client_id="abc", owner="o/s"),
            HEAD + "client_secret is required (a Pulumi Input, e.g. config.require_secret('...')), or set managed",
        ),
        (
            provided(webhook_signing_key=" " + "k" * 15),  # 15 characters once stripped
            HEAD + "webhook_signing_key: too short; use at least 16 random characters",
        ),
        (dataclasses.replace(provided(), project_key=None), HEAD + "project_key: required"),  # type: ignore[arg-type]
        (
            provided(store=SecretsManagerStore(name="")),
            HEAD + "store.name: '' is not a Secrets Manager name: 1-512 of letters, digits and /_+=.@-",
        ),
        (provided(store=VaultStore(path="a", kv_version=3)), HEAD + "store.kv_version: Input should be 1 or 2"),  # type: ignore[arg-type]
        (
            provided(webhook_signing_key="k" * 16, publish=Publish(webhooks=[WebhookTarget(url="ftp://x")])),
            HEAD + "publish.webhooks[0].url: 'ftp://x' is not an http(s) URL; "
            "use e.g. https://auth.europe-west1.gcp.commercetools.com",
        ),
        (
            dataclasses.replace(provided(), client_secret=None, store=VaultStore(path="../x")),
            "CommercetoolsConnector 'erp': invalid arguments:\n"
            "- client_secret is required (a Pulumi Input, e.g. config.require_secret('...')), or set managed\n"
            "- store.path: '../x' is not a safe KV path: "
            "use segments of letters, digits, '_', '-', '.' separated by '/'",
        ),
    ],
)
def test_each_problem_is_one_line_naming_the_argument_and_its_fix(args: ConnectorArgs, message: str) -> None:
    """The whole message, as a user reads it: one `- argument: fix` line per problem, under a head that counts."""
    from ctp_credentials.components.args import resolve

    with pytest.raises(ArgumentError) as caught:
        resolve("CommercetoolsConnector", "erp", args)
    assert str(caught.value) == message


def test_arguments_that_are_not_connector_args_are_refused_by_type() -> None:
    from ctp_credentials.components.args import resolve

    with pytest.raises(ArgumentError) as caught:
        resolve("CommercetoolsConnector", "erp", {"project_key": PK})  # type: ignore[arg-type]
    assert str(caught.value) == "CommercetoolsConnector 'erp': args must be a ConnectorArgs, got dict"


def test_valid_arguments_resolve_to_the_secrets_passed_in_and_the_owner_given() -> None:
    """The secrets go through as the caller's Inputs (the model sees a stand-in, never the value)."""
    from ctp_credentials.components.args import resolve

    key = "k" * 16  # exactly the shortest allowed
    got = resolve("CommercetoolsConnector", "erp", provided(webhook_signing_key=key, owner="team/erp"))
    assert (got.client_secret, got.webhook_signing_key, got.owner) == (CANARY, key, "team/erp")
    assert got.config.client_secret is not None and CANARY not in got.config.client_secret.get_secret_value()
    assert not got.stack_config
