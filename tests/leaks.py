"""The leak check for messages our own code makes: search for a secret in every form it could take there.

Pulumi prints every *configured* secret as `[secret]`, so a search of `pulumi` output cannot see a message of
ours that quotes the client secret. These checks look at our messages where they are made (exceptions, check
failures, objects' repr), before Pulumi's masking, and also for the encodings a careless message would use
(the Basic auth header, URL and JSON escaping).
"""

from __future__ import annotations

import base64
import json
import traceback
from collections.abc import Iterable
from urllib.parse import quote


def forms(secret: str) -> set[str]:
    """The spellings of a secret to look for: as is, JSON- and URL-escaped, base64 (also inside Basic auth)."""
    b64 = base64.b64encode(secret.encode()).decode()
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), b64, b64.rstrip("=")}


def text_of(made: object) -> str:
    """What a reader can see of a thing our code made. An exception: its whole printed chain (causes, context,
    notes), its args and repr; anything else: str and repr."""
    if isinstance(made, BaseException):
        return "\n".join([*traceback.format_exception(made), repr(made), *map(repr, made.args)])
    return f"{made}\n{made!r}"


def leaks(secrets: Iterable[str], *made: object) -> list[str]:
    """The secrets (by position) found in any of `made`, with the form found."""
    texts = [text_of(m) for m in made]
    found = []
    for i, secret in enumerate(secrets):
        for form in forms(secret):
            if any(form in t for t in texts):
                found.append(f"secret #{i} as {form!r}"[:80])
    return found


def assert_no_leak(secrets: Iterable[str], *made: object) -> None:
    secrets = list(secrets)
    assert all(len(s) >= 16 for s in secrets), "a canary must be long enough not to match by chance"
    assert made, "nothing to search"
    found = leaks(secrets, *made)
    assert not found, found
