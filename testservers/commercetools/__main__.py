"""`python -m ctp_credentials.testing.commercetools`: the emulator out of process (demo, provider subprocesses).

Prints one JSON line, `{"url": ..., "clients": [{"projectKey", "clientId", "clientSecret", "scope"}]}`, then
serves until SIGTERM or SIGINT. The seeded secrets go to stdout on purpose: this is a test server.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .models import CommercetoolsBackend
from .server import CommercetoolsEmulator


def _seed(value: str) -> tuple[str, list[str]]:
    """`PROJECT_KEY:SCOPES`, scopes separated by commas or spaces (bare names get the project key)."""
    project_key, sep, scopes = value.partition(":")
    names = scopes.replace(",", " ").split()
    if not sep or not project_key or not names:
        raise argparse.ArgumentTypeError("expected PROJECT_KEY:SCOPE[,SCOPE...]")
    return project_key, names


def main(argv: Sequence[str] | None = None) -> int:
    """Start, report, serve until told to stop."""
    parser = argparse.ArgumentParser(prog="python -m ctp_credentials.testing.commercetools", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument(
        "--seed",
        type=_seed,
        action="append",
        default=[],
        metavar="PROJECT_KEY:SCOPES",
        help="seed a client, e.g. my-project:manage_api_clients,view_api_clients (repeatable)",
    )
    parser.add_argument("--allow-duplicate-names", action="store_true", help="accept API clients with the same name")
    parser.add_argument(
        "--new-client-token-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="refuse tokens to a client this long after its creation",
    )
    args = parser.parse_args(argv)
    backend = CommercetoolsBackend(
        unique_names=not args.allow_duplicate_names, new_client_token_delay=args.new_client_token_delay
    )
    clients = []
    for project_key, scopes in args.seed:
        try:
            record = backend.add_client(project_key, scopes)
        except ValueError as exc:
            parser.error(f"--seed {project_key}: {exc}")
        clients.append(
            {
                "projectKey": record.project_key,
                "clientId": record.id,
                "clientSecret": record.secret,
                "scope": " ".join(record.scope),
            }
        )

    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    emulator = CommercetoolsEmulator(port=args.port, backend=backend).start()
    try:
        print(json.dumps({"url": emulator.url, "clients": clients}), flush=True)
        while not done.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
