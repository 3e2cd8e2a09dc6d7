"""Hypothesis fuzzing of the config model: any input is either accepted and valid, or rejected with a ConfigError
that names a key; never another exception, never a traceback, never a request to any server."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctp_credentials.components.config import NAME_RE, PATH_SEGMENT_RE, load_stack_config
from ctp_credentials.components.errors import ConfigError
from ctp_credentials.components.scopes import PROJECT_KEY_RE

pytestmark = pytest.mark.security("bad-input")
# `make mutate` runs these once per mutant of the config model: there a sample of 1/10 keeps the run bounded
# (scripts/mutate.py sets it); the suite always generates the full 1,000.
SCALE = float(os.environ.get("CTP_FUZZ_SCALE", "1"))

INJECTIONS = [
    "../",
    "../../etc/passwd",
    "a/../../b",
    "/",
    "",
    " ",
    "\n",
    "a\nb",
    "\r\n",
    "\x00",
    "${VAULT_TOKEN}",
    "$(id)",
    "`id`",
    "'; DROP TABLE x; --",
    "<script>",
    "http://user:pass@evil.example",
    "https://u:p@auth.example.com",
    "http://169.254.169.254/latest",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "é",
    "🚀",
    "\u202e",
    "A" * 5000,
    "view_orders:pk",
    "manage_project:pk",
    "local",
    "0",
    "-1",
    "true",
    "null",
    "{}",
    "[]",
]
text = st.one_of(st.sampled_from(INJECTIONS), st.text(max_size=80), st.text(min_size=1000, max_size=3000))
json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=20,
)
FIELDS = [
    "projectKey",
    "region",
    "scopes",
    "clientId",
    "authUrl",
    "apiUrl",
    "grantType",
    "tokenKey",
    "clientType",
    "checkCredentials",
    "vault",
    "secretsManager",
    "managed",
    "publish",
    "secretKeys",
    "name",
    "unknownKey",
]


@st.composite
def near_valid(draw: st.DrawFn) -> Any:
    """A valid connector with a few fields replaced by hostile or random values."""
    connector: dict[str, Any] = {
        "projectKey": "shop-eu",
        "scopes": ["view_orders:shop-eu"],
        "clientId": "abcdefghijkl",
    }
    for field in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True)):
        connector[field] = draw(json_like)
    name = draw(st.one_of(st.just("patchworks"), text))
    return {name: connector}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Prove the model sends nothing anywhere: any connection attempt fails the test."""

    def refuse(*_a: Any, **_k: Any) -> None:
        raise AssertionError("the config model tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


def lookup(key: str) -> tuple[str | None, bool]:
    return ("fuzz-secret-value-0123456789", True)


def check(raw: Any) -> None:
    try:
        config = load_stack_config(raw, lookup)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(("invalid stack config", "connectors"))
        assert "Traceback" not in message and "fuzz-secret-value" not in message
        return
    for c in config.connectors:  # accepted: then it really is valid
        assert NAME_RE.match(c.name) and PROJECT_KEY_RE.match(c.project_key) and c.project_key != "local"
        for url in (c.token_url_base, c.api_base):
            parts = urlsplit(url)
            assert parts.scheme == "https" or parts.hostname in ("127.0.0.1", "localhost", "::1")
            assert parts.username is None and not parts.query
        assert all(PATH_SEGMENT_RE.match(s) and s not in (".", "..") for s in c.vault_path.split("/"))
        assert all(s.project_key == c.project_key for s in c.scopes)


@settings(max_examples=int(400 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_like)
def test_random_structures(raw: Any) -> None:
    check(raw)


@settings(max_examples=int(600 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid())
def test_hostile_values_in_a_valid_connector(raw: Any) -> None:
    check(raw)
