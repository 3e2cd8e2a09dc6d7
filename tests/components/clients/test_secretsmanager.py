"""The Secrets Manager client against moto in server mode (real HTTP), and its errors: say what to do, no secret."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import botocore.exceptions
import botocore.retries.standard
import pytest
from botocore.stub import Stubber

from ctp_credentials.components.clients import secretsmanager as aws
from ctp_credentials.components.clients.secretsmanager import MAX_ATTEMPTS, SecretsManagerClient, SecretsManagerError
from ctp_credentials.testing.moto import MotoServer
from tests.conftest import CANARY

pytestmark = pytest.mark.aws


def fresh_name() -> str:
    return f"tests/{uuid.uuid4().hex}"


def token() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep botocore's retries (the attempts are what we test) but not its sleeping."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


def test_moto_server_binds_a_real_port(moto_server: MotoServer) -> None:
    assert moto_server.port > 0
    assert moto_server.env()["AWS_ENDPOINT_URL_SECRETS_MANAGER"] == moto_server.url  # the name botocore reads
    with socket.create_connection(("127.0.0.1", moto_server.port), timeout=2):
        pass


def test_create_describe_get(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    name = fresh_name()
    assert sm.describe_secret(name) is None
    assert sm.get_secret_value(name) is None
    arn, version = sm.create_secret(
        name,
        json.dumps({"clientSecret": CANARY}),
        client_request_token=token(),
        kms_key_id="alias/ctp-test",
        description="test secret",
        tags={"team": "integrations"},
    )
    found = sm.describe_secret(name)
    assert found is not None and found.arn == arn and found.name == name
    assert found.tags == {"team": "integrations"}
    assert found.version_stages == {version: ["AWSCURRENT"]} and found.current_version_id == version
    assert found.kms_key_id == "alias/ctp-test" and found.description == "test secret"
    assert not found.scheduled_for_deletion
    got = sm.get_secret_value(name)
    assert got is not None and json.loads(got.value) == {"clientSecret": CANARY} and got.version_id == version
    assert got.version_stages == ["AWSCURRENT"] and got.arn == arn
    assert CANARY not in repr(got) and CANARY not in str(got)
    assert sm.region == "eu-central-1" and sm.endpoint_url == aws_env.url


def test_region_and_endpoint_from_arguments_win(aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:9")
    sm = SecretsManagerClient(region="eu-west-1", endpoint_url=aws_env.url)
    arn, _ = sm.create_secret(fresh_name(), "{}", client_request_token=token())
    assert ":eu-west-1:" in arn


def test_put_with_the_same_token_is_idempotent(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    name = fresh_name()
    sm.create_secret(name, "one", client_request_token=token())
    t = token()
    first = sm.put_secret_value(name, CANARY, client_request_token=t)
    again = sm.put_secret_value(name, CANARY, client_request_token=t)
    assert again == first == t
    found = sm.describe_secret(name)
    assert found is not None and len(found.version_stages) == 2 and found.current_version_id == first
    with pytest.raises(SecretsManagerError) as err:  # same token, other value: AWS refuses
        sm.put_secret_value(name, CANARY + "-other", client_request_token=t)
    assert CANARY not in str(err.value)


def test_staging_labels_move(aws_env: MotoServer) -> None:
    """What rotation will do: write AWSPENDING, then move AWSCURRENT onto it."""
    sm = SecretsManagerClient()
    name = fresh_name()
    _, v1 = sm.create_secret(name, "one", client_request_token=token())
    v2 = sm.put_secret_value(name, "two", client_request_token=token(), stages=["AWSPENDING"])
    pending = sm.get_secret_value(name, "AWSPENDING")
    assert pending is not None and pending.value == "two"
    current = sm.get_secret_value(name)
    assert current is not None and current.value == "one"
    sm.update_secret_version_stage(name, "AWSCURRENT", move_to_version_id=v2, remove_from_version_id=v1)
    found = sm.describe_secret(name)
    assert found is not None and found.current_version_id == v2
    assert "AWSPREVIOUS" in found.version_stages[v1]


def test_tags_update_and_untag(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    name = fresh_name()
    sm.create_secret(name, "x", client_request_token=token(), tags={"a": "1", "b": "2"})
    sm.tag_resource(name, {"b": "3", "c": "4"})
    sm.untag_resource(name, ["a"])
    sm.update_secret(name, description="new", kms_key_id="alias/other")
    found = sm.describe_secret(name)
    assert found is not None and found.tags == {"b": "3", "c": "4"}
    assert found.description == "new" and found.kms_key_id == "alias/other"


def test_delete_with_recovery_window_then_restore(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    name = fresh_name()
    sm.create_secret(name, CANARY, client_request_token=token())
    sm.delete_secret(name, recovery_window_days=7)
    found = sm.describe_secret(name)
    assert found is not None and found.scheduled_for_deletion
    with pytest.raises(SecretsManagerError, match=r"scheduled for deletion.*restoreIfDeleted") as err:
        sm.get_secret_value(name)
    assert err.value.code == "InvalidRequestException"
    sm.restore_secret(name)
    got = sm.get_secret_value(name)
    assert got is not None and got.value == CANARY


def test_create_over_a_name_scheduled_for_deletion_is_explained(aws_env: MotoServer) -> None:
    """moto answers ResourceExistsException without a hint where AWS answers InvalidRequestException."""
    sm = SecretsManagerClient()
    name = fresh_name()
    sm.create_secret(name, "x", client_request_token=token())
    sm.delete_secret(name, recovery_window_days=7)
    with pytest.raises(SecretsManagerError, match=r"scheduled for deletion\. Restore it.*restoreIfDeleted") as err:
        sm.create_secret(name, CANARY, client_request_token=token())
    assert CANARY not in str(err.value)


def test_force_delete_is_gone_for_good(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    name = fresh_name()
    sm.create_secret(name, "x", client_request_token=token())
    sm.delete_secret(name, force=True)
    assert sm.describe_secret(name) is None
    with pytest.raises(ValueError, match="exactly one"):
        sm.delete_secret(name, recovery_window_days=7, force=True)


def test_missing_secret_on_write_says_refresh(aws_env: MotoServer) -> None:
    with pytest.raises(SecretsManagerError, match=r"does not exist.*pulumi refresh") as err:
        SecretsManagerClient().put_secret_value(fresh_name(), CANARY, client_request_token=token())
    assert err.value.code == "ResourceNotFoundException" and CANARY not in str(err.value)


# --- errors AWS gives and moto does not: stubbed -------------------------------------------------------------
def stubbed(sm: SecretsManagerClient) -> Stubber:
    stub = Stubber(sm._client)
    stub.activate()
    return stub


def test_access_denied_names_action_secret_and_fix(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    stub = stubbed(sm)
    stub.add_client_error(
        "put_secret_value",
        service_error_code="AccessDeniedException",
        service_message=(
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: secretsmanager:PutSecretValue "
            "on resource: commercetools/patchworks because no identity-based policy allows the action"
        ),
    )
    with pytest.raises(SecretsManagerError) as err:
        sm.put_secret_value("commercetools/patchworks", CANARY, client_request_token=token())
    message = str(err.value)
    assert "access denied to secretsmanager:PutSecretValue" in message
    assert "Grant the identity running pulumi secretsmanager:PutSecretValue" in message
    assert "arn:aws:secretsmanager:eu-central-1:<account-id>:secret:commercetools/patchworks-*" in message
    assert CANARY not in message and err.value.code == "AccessDeniedException"


def test_throttling_message(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    stubbed(sm).add_client_error("describe_secret", service_error_code="ThrottlingException", service_message="Rate")
    with pytest.raises(SecretsManagerError, match=rf"throttled.*after {MAX_ATTEMPTS} attempts.*--parallel"):
        sm.describe_secret("commercetools/patchworks")


def test_kms_errors_name_the_key(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    stubbed(sm).add_client_error(
        "create_secret",
        service_error_code="EncryptionFailure",
        service_message="Secrets Manager can't encrypt the protected secret text using the provided KMS key.",
    )
    with pytest.raises(SecretsManagerError, match=r"KMS key alias/ctp-missing cannot be used.*enabled") as err:
        sm.create_secret("s", CANARY, client_request_token=token(), kms_key_id="alias/ctp-missing")
    assert CANARY not in str(err.value)


def test_remote_echo_of_the_value_is_scrubbed(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    stubbed(sm).add_client_error(
        "put_secret_value", service_error_code="InvalidParameterException", service_message=f"bad value {CANARY}"
    )
    with pytest.raises(SecretsManagerError, match="InvalidParameterException: bad value <redacted>") as err:
        sm.put_secret_value("s", CANARY, client_request_token=token())
    assert CANARY not in str(err.value)


# --- retries, over real HTTP -----------------------------------------------------------------------------
class _Throttler(BaseHTTPRequestHandler):
    calls = 0

    def do_POST(self) -> None:
        type(self).calls += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def throttling_endpoint() -> Iterator[str]:
    _Throttler.calls = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_throttling_is_retried_then_explained(
    aws_env: MotoServer,
    throttling_endpoint: str,
    no_backoff: None,
) -> None:
    sm = SecretsManagerClient(endpoint_url=throttling_endpoint)
    with pytest.raises(SecretsManagerError, match="throttled by AWS") as err:
        sm.put_secret_value("commercetools/patchworks", CANARY, client_request_token=token())
    assert _Throttler.calls == MAX_ATTEMPTS
    assert err.value.code == "ThrottlingException" and CANARY not in str(err.value)


def test_unreachable_endpoint_is_retried_then_explained(aws_env: MotoServer, no_backoff: None) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    sm = SecretsManagerClient(endpoint_url=f"http://127.0.0.1:{port}")
    with pytest.raises(SecretsManagerError, match=rf"cannot connect to http://127.0.0.1:{port} after"):
        sm.describe_secret("commercetools/patchworks")


def test_missing_credentials_say_where_to_put_them(
    aws_env: MotoServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(SecretsManagerError, match=r"no AWS credentials found.*never read from stack config"):
        SecretsManagerClient().describe_secret("commercetools/patchworks")


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (
            botocore.exceptions.NoCredentialsError(),
            "cannot write x: no AWS credentials found. Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or a web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE) in the environment "
            "that runs pulumi (credentials are never read from stack config)",
        ),
        (
            botocore.exceptions.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
            "cannot write x: the AWS credentials are incomplete or could not be loaded (PartialCredentialsError). "
            "Check AWS_PROFILE / AWS_* variables in the environment that runs pulumi",
        ),
        (
            botocore.exceptions.CredentialRetrievalError(provider="sso", error_msg="expired"),
            "cannot write x: the AWS credentials are incomplete or could not be loaded (CredentialRetrievalError). "
            "Check AWS_PROFILE / AWS_* variables in the environment that runs pulumi",
        ),
        (
            botocore.exceptions.ParamValidationError(report="Invalid length for parameter SecretId, value: 0"),
            "cannot write x: invalid request parameters SecretId",
        ),
        (
            botocore.exceptions.ParamValidationError(
                report="Invalid length for parameter SecretId\nInvalid type for parameter ClientRequestToken"
            ),
            "cannot write x: invalid request parameters ClientRequestToken, SecretId",
        ),
        (
            botocore.exceptions.ParamValidationError(report="something botocore words otherwise"),
            "cannot write x: invalid request parameters (see botocore)",
        ),
        (
            botocore.exceptions.ReadTimeoutError(endpoint_url="https://e"),
            f"cannot write x: no answer from https://vpce.example within {aws.CONNECT_TIMEOUT}s/{aws.READ_TIMEOUT}s "
            f"after {aws.MAX_ATTEMPTS} attempts. Check network access to Secrets Manager (proxy, VPC endpoint)",
        ),
        (
            botocore.exceptions.EndpointConnectionError(endpoint_url="https://e"),
            f"cannot write x: cannot connect to https://vpce.example after {aws.MAX_ATTEMPTS} attempts. Check the "
            "region, endpoint_url / AWS_ENDPOINT_URL_SECRETS_MANAGER and network access",
        ),
        (botocore.exceptions.DataNotFoundError(data_path="x"), "cannot write x: DataNotFoundError"),
    ],
)
def test_transport_messages_say_what_failed_and_which_setting_fixes_it(error: Exception, text: str) -> None:
    message = aws.transport_message(
        error, "cannot write x", "https://vpce.example", "Secrets Manager", "SECRETS_MANAGER"
    )
    assert message == text


VERBS = [
    ("DescribeSecret", "describe", lambda sm, name: sm.describe_secret(name)),
    ("GetSecretValue", "read", lambda sm, name: sm.get_secret_value(name)),
    ("CreateSecret", "create", lambda sm, name: sm.create_secret(name, CANARY, client_request_token=token())),
    (
        "PutSecretValue",
        "write a new version of",
        lambda sm, name: sm.put_secret_value(name, CANARY, client_request_token=token()),
    ),
    ("UpdateSecret", "update", lambda sm, name: sm.update_secret(name, description="d")),
    ("UntagResource", "untag", lambda sm, name: sm.untag_resource(name, ["a"])),
    ("TagResource", "tag", lambda sm, name: sm.tag_resource(name, {"a": "b"})),
    ("RestoreSecret", "restore", lambda sm, name: sm.restore_secret(name)),
    ("DeleteSecret", "delete", lambda sm, name: sm.delete_secret(name, recovery_window_days=7)),
    (
        "UpdateSecretVersionStage",
        "move label AWSCURRENT on",
        lambda sm, name: sm.update_secret_version_stage(name, "AWSCURRENT", move_to_version_id=token()),
    ),
]


@pytest.mark.parametrize(("action", "verb", "call"), VERBS, ids=[v[0] for v in VERBS])
def test_every_verb_says_what_it_could_not_do_and_the_grant(
    aws_env: MotoServer, action: str, verb: str, call: Any
) -> None:
    sm = SecretsManagerClient()
    name = fresh_name()
    aws_env.faults.add(action, status=400, code="AccessDeniedException", message="not authorized", times=1)
    with pytest.raises(SecretsManagerError) as err:
        call(sm, name)
    assert str(err.value) == (
        f"cannot {verb} {sm.where(name)}: access denied to secretsmanager:{action} (not authorized). Grant the "
        f"identity running pulumi secretsmanager:{action} on arn:aws:secretsmanager:eu-central-1:<account-id>:"
        f"secret:{name}-* (IAM policy, and the secret's resource policy)"
    )


def test_a_grant_on_an_arn_names_that_arn_and_a_long_answer_is_cut(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:tests/x-AbCdEf"
    aws_env.faults.add("UpdateSecret", status=400, code="AccessDeniedException", message="m" * 400, times=1)
    with pytest.raises(SecretsManagerError) as err:
        sm.update_secret(arn, description="d")
    assert f"({'m' * 300}). Grant the identity running pulumi secretsmanager:UpdateSecret on {arn} (IAM" in str(
        err.value
    )


def test_a_kms_failure_of_an_update_names_the_key_given(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    name = fresh_name()
    aws_env.faults.add("UpdateSecret", status=400, code="KMSInvalidStateException", message="disabled", times=1)
    with pytest.raises(SecretsManagerError) as err:
        sm.update_secret(name, kms_key_id="alias/ctp")
    assert str(err.value).startswith(f"cannot update {sm.where(name)}: the KMS key alias/ctp cannot be used (")


def test_delete_takes_a_window_or_force_and_reports_when(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    name = fresh_name()
    sm.create_secret(name, "x", client_request_token=token())
    for bad in ({}, {"recovery_window_days": 7, "force": True}):
        with pytest.raises(ValueError) as err:
            sm.delete_secret(name, **bad)  # type: ignore[arg-type]
        assert str(err.value) == "give exactly one of recovery_window_days and force=True"
    when = sm.delete_secret(name, recovery_window_days=7)
    assert when is not None and when.year >= 2026


def test_a_name_scheduled_for_deletion_says_how_to_restore_it(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    name = fresh_name()
    sm.create_secret(name, "x", client_request_token=token())
    sm.delete_secret(name, recovery_window_days=7)
    with pytest.raises(SecretsManagerError) as err:
        sm.create_secret(name, CANARY, client_request_token=token())
    assert str(err.value).startswith(
        f"cannot create {sm.where(name)}: a secret with this name is scheduled for deletion. Restore it "
    )
    assert str(err.value).endswith("restores it, or choose another secret name")
    assert err.value.code == "ResourceExistsException"  # what AWS (here moto) answered, kept for callers


def test_a_create_scrubs_the_value_from_what_aws_answers(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    name = fresh_name()
    aws_env.faults.add("CreateSecret", status=400, code="InvalidParameterException", message=f"no {CANARY}", times=1)
    with pytest.raises(SecretsManagerError) as err:
        sm.create_secret(name, CANARY, client_request_token=token())
    assert str(err.value) == f"cannot create {sm.where(name)}: InvalidParameterException: no <redacted>"


def test_a_create_whose_kms_key_is_missing_names_the_setting(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    name = fresh_name()
    aws_env.faults.add("CreateSecret", status=400, code="ResourceNotFoundException", message="Key not found", times=1)
    with pytest.raises(SecretsManagerError) as err:
        sm.create_secret(name, CANARY, client_request_token=token(), kms_key_id="alias/gone")
    assert str(err.value) == (
        f"cannot create {sm.where(name)}: the KMS key alias/gone was not found in eu-central-1 (Key not found). "
        "Fix the connector's kmsKeyId"
    )


def test_a_binary_secret_is_refused_with_what_to_do(aws_env: MotoServer) -> None:
    sm = SecretsManagerClient()
    name = fresh_name()
    sm._client.create_secret(Name=name, SecretBinary=CANARY.encode())  # written by something else
    with pytest.raises(SecretsManagerError) as err:
        sm.get_secret_value(name)
    assert str(err.value) == (
        f"{sm.where(name)} holds a binary value (SecretBinary), not a JSON document: it was not written by this "
        "tool. Choose another secret name"
    )


# --- the boto3 client: timeouts, region, profile --------------------------------------------------------
def test_the_client_answers_within_our_timeouts(aws_env: MotoServer) -> None:
    # botocore's default read timeout (60 s) times 6 attempts would make a black-holed endpoint look like a hang.
    config = SecretsManagerClient()._client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (aws.CONNECT_TIMEOUT, aws.READ_TIMEOUT) == (5, 10)


def test_aws_region_wins_over_the_default_region(aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # botocore reads only AWS_DEFAULT_REGION; AWS_REGION is what the AWS CLI v2 and SDKs of other languages read.
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert SecretsManagerClient().region == "eu-west-3"
    assert SecretsManagerClient(region="eu-west-1").region == "eu-west-1"  # the connector's config first
    monkeypatch.setenv("AWS_REGION", "")
    assert SecretsManagerClient().region == "eu-central-1"  # empty is unset: AWS_DEFAULT_REGION


def test_no_region_names_both_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(SecretsManagerError) as err:
        SecretsManagerClient()
    assert str(err.value) == (
        "Secrets Manager: no AWS region: set the connector's secretsManager.region, or AWS_REGION where pulumi runs"
    )


def test_an_unknown_profile_is_named(aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "ci-typo")
    with pytest.raises(SecretsManagerError) as err:
        SecretsManagerClient()
    assert str(err.value) == (
        "Secrets Manager: AWS profile 'ci-typo' (AWS_PROFILE) is not in the AWS config files: fix AWS_PROFILE or "
        "~/.aws/config"  # a profile typo is not the region's fault: no config key named
    )
