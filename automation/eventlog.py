"""Read the engine's event log without losing events.

With a CLI newer than 3.205, SDK 3.272's Automation API receives events over gRPC and none of this applies. With
an older CLI (the minimum this project supports, README) it has the CLI write one JSON event per line to a temp
file (`--event-log`) and tails it in a thread. In SDK 3.79 that thread `json.loads` whatever `readline()`
returns; SDK 3.272's waits for the newline but still decodes text as it reads, so a read that stops inside a
multi-byte character kills the thread (tests/automation/test_eventlog.py shows both). The CLI writes each event with one
`write()`, but a reader can still catch a large event half written (the file grows page by page); the half
line does not parse, the thread dies and every later event is lost (pulumi/pulumi#9269, #6768). A PR summary
then says a failing credential check "did not run". `install()` swaps in a reader that waits for the newline.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable

from pulumi.automation import EngineEvent
from pulumi.automation import _stack as sdk_stack

POLL_SECONDS = 0.05


def watch_logs(
    filename: str,
    callback: Callable[[EngineEvent], object],
    stopEvent: threading.Event | None = None,  # the SDK passes it by this name
) -> None:
    """Call `callback` with each event of the log at `filename`, in order, until the engine's cancel event.

    Bytes, not text: a read that stops inside a multi-byte character must not fail to decode. If the log ends
    without the cancel event (the CLI killed mid-event), the thread ends once the SDK has removed the log's
    directory after the command, rather than wait forever (the SDK's thread is not a daemon)."""
    pending = b""
    with open(filename, "rb") as log:
        while True:
            chunk = log.readline()
            if not chunk:
                if not os.path.exists(filename):
                    return  # the command is over and its log removed: nothing more will come
                if stopEvent is not None and stopEvent.is_set() and not pending:
                    return  # the SDK says the command is over and nothing is half read
                time.sleep(POLL_SECONDS)
                continue
            pending += chunk
            if not pending.endswith(b"\n"):
                continue  # the writer is mid-event: keep what we have, read the rest on the next turn
            line, pending = pending, b""
            event = EngineEvent.from_json(json.loads(line.decode("utf-8")))
            callback(event)
            if event.cancel_event is not None:
                return  # the engine's last event


def install() -> None:
    """Make the SDK's preview/up/refresh/destroy read their event logs with `watch_logs`.

    They look `_watch_logs` up in their module at call time, so replacing the module attribute is enough. The
    SDK is pinned (requirements.txt); tests/automation/test_eventlog.py fails if a new SDK renames it.
    """
    if not callable(getattr(sdk_stack, "_watch_logs", None)):
        raise RuntimeError("pulumi.automation._stack._watch_logs is gone: review automation/eventlog.py")
    sdk_stack._watch_logs = watch_logs
