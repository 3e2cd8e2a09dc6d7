"""The event-log reader keeps every event when the engine is caught mid-write (pulumi/pulumi#9269)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from pulumi import automation as auto
from pulumi.automation import _stack as sdk_stack

from automation import eventlog


def _line(sequence: int, **payload: object) -> str:
    return json.dumps({"sequence": sequence, "timestamp": 0, **payload}) + "\n"


def test_an_event_read_half_written_is_completed_not_lost(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    big = "x" * 200_000  # an event larger than a page, like a check step of many connectors
    first = _line(1, diagnosticEvent={"message": big, "color": "never", "severity": "error", "urn": "u"})
    last = _line(2, cancelEvent={})
    log.write_text("")
    seen: list[auto.EngineEvent] = []
    reader = threading.Thread(target=eventlog.watch_logs, args=(str(log), seen.append))
    reader.start()
    with log.open("a", encoding="utf-8") as out:
        out.write(first[:1000])
        out.flush()
        time.sleep(3 * eventlog.POLL_SECONDS)  # the reader sees the half line (the SDK's own reader dies here)
        out.write(first[1000:] + last)
    reader.join(10)
    assert not reader.is_alive()
    assert [e.sequence for e in seen] == [1, 2]
    assert seen[0].diagnostic_event is not None and seen[0].diagnostic_event.message == big
    assert seen[1].cancel_event is not None


def test_the_sdk_reads_its_event_logs_with_ours() -> None:
    import automation.workspace  # noqa: F401  # importing the workspace installs the reader

    assert sdk_stack._watch_logs is eventlog.watch_logs
