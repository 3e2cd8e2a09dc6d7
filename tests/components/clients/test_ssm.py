"""The SSM Parameter Store client against moto in server mode (real HTTP), and its errors: say what to do."""

from __future__ import annotations

import socket
import uuid

import botocore.retries.standard
import pytest
from botocore.stub import Stubber

from ctp_credentials.components.clients.ssm import SsmClient, SsmError
from ctp_credentials.testing.moto import MotoServer

pytestmark = pytest.mark.aws


def fresh_name() -> str:
    return f"/tests/{uuid.uuid4().hex}"


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep botocore's retries (the attempts are what we test) but not its sleeping."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


def test_put_get_tags_delete(aws_env: MotoServer) -> None:
    ssm = SsmClient()  # region, endpoint (AWS_ENDPOINT_URL_SSM) and credentials from the environment
    assert ssm.region == "eu-central-1" and ssm.endpoint_url == aws_env.url
    name = fresh_name()
    assert ssm.get_parameter(name) is None
    assert ssm.list_tags_for_resource(name) is None
    assert ssm.put_parameter(name, '{"a":1}', overwrite=False, description="test", tags={"team": "x"}) == 1
    found = ssm.get_parameter(name)
    assert found is not None and (found.name, found.value, found.type, found.version) == (name, '{"a":1}', "String", 1)
    assert found.arn is not None and found.arn.endswith(f"parameter{name}")
    assert ssm.list_tags_for_resource(name) == {"team": "x"}
    ssm.add_tags_to_resource(name, {"team": "y", "writer": "w"})
    assert ssm.list_tags_for_resource(name) == {"team": "y", "writer": "w"}
    assert ssm.put_parameter(name, '{"a":2}', overwrite=True) == 2
    assert ssm.delete_parameter(name) is True
    assert ssm.get_parameter(name) is None
    assert ssm.delete_parameter(name) is False  # already gone: done


def test_region_and_endpoint_from_arguments_win(aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9")
    ssm = SsmClient(region="eu-west-1", endpoint_url=aws_env.url)
    name = fresh_name()
    ssm.put_parameter(name, "v", overwrite=False)
    found = ssm.get_parameter(name)
    assert found is not None and found.arn is not None and ":eu-west-1:" in found.arn
    assert repr(ssm) == f"SsmClient(region='eu-west-1', endpoint_url='{aws_env.url}')"


def test_create_of_an_existing_parameter_is_explained(aws_env: MotoServer) -> None:
    ssm = SsmClient()
    name = fresh_name()
    ssm.put_parameter(name, "v", overwrite=False)
    with pytest.raises(SsmError, match=r"already exists.*pulumi refresh") as err:
        ssm.put_parameter(name, "w", overwrite=False)
    assert err.value.code == "ParameterAlreadyExists" and f"SSM parameter {name}" in str(err.value)
    with pytest.raises(ValueError, match="tags can only be set on create"):
        ssm.put_parameter(name, "w", overwrite=True, tags={"a": "b"})


@pytest.mark.parametrize(
    ("method", "args", "action"),
    [
        ("put_parameter", {"Name": "/p", "Value": "v", "Type": "String", "Tier": "Standard"}, "ssm:PutParameter"),
        ("get_parameter", {"Name": "/p"}, "ssm:GetParameter"),
        ("delete_parameter", {"Name": "/p"}, "ssm:DeleteParameter"),
    ],
)
def test_access_denied_names_action_parameter_and_fix(
    aws_env: MotoServer, method: str, args: dict[str, str], action: str
) -> None:
    ssm = SsmClient()
    stub = Stubber(ssm._client)
    stub.add_client_error(
        method,
        service_error_code="AccessDeniedException",
        service_message=f"User: arn:aws:iam::123456789012:user/ci is not authorized to perform: {action}",
        expected_params=args,
    )
    stub.activate()
    with pytest.raises(SsmError) as err:
        if method == "put_parameter":
            ssm.put_parameter("/p", "v", overwrite=False)
        else:
            getattr(ssm, method)("/p")
    message = str(err.value)
    assert "SSM parameter /p (eu-central-1" in message and action in message
    assert f"Grant the identity running pulumi {action} on arn:aws:ssm:eu-central-1:<account-id>:parameter/p" in message
    assert err.value.code == "AccessDeniedException"
    stub.assert_no_pending_responses()


def test_throttling_is_explained(aws_env: MotoServer) -> None:
    ssm = SsmClient()
    stub = Stubber(ssm._client)
    stub.add_client_error("put_parameter", service_error_code="TooManyUpdates", service_message="Too many updates")
    stub.activate()
    with pytest.raises(SsmError, match=r"throttled.*TooManyUpdates.*rerun later"):
        ssm.put_parameter("/p", "v", overwrite=True)


def test_rejected_credentials_are_explained(aws_env: MotoServer) -> None:
    ssm = SsmClient()
    stub = Stubber(ssm._client)
    stub.add_client_error("get_parameter", service_error_code="UnrecognizedClientException", http_status_code=400)
    stub.activate()
    with pytest.raises(SsmError, match="rejected the credentials"):
        ssm.get_parameter("/p")


def test_no_region_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(SsmError) as err:
        SsmClient()
    assert str(err.value) == (
        "SSM Parameter Store: no AWS region: set the connector's publish.ssm.region, or AWS_REGION where pulumi runs"
    )


def test_no_credentials_are_explained(aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(SsmError, match=r"no AWS credentials found.*never read from stack config"):
        SsmClient().get_parameter("/p")


def test_unreachable_endpoint_is_explained(aws_env: MotoServer, no_backoff: None) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SsmError, match=r"cannot connect to http://127.0.0.1:\d+ after 6 attempts"):
        SsmClient(endpoint_url=f"http://127.0.0.1:{port}").get_parameter("/p")
