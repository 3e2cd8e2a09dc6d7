"""The event-log reader keeps every event when the engine is caught mid-write (pulumi/pulumi#9269)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from pulumi import automation as auto
from pulumi.automation import _stack as sdk_stack

from ctp_credentials.automation import eventlog


def _line(sequence: int, **payload: object) -> str:
    return json.dumps({"sequence": sequence, "timestamp": 0, **payload}) + "\n"


class IdlePolls:
    """Counts the reader's idle turns (it sleeps POLL_SECONDS when it found nothing new), so a test waits until
    the reader has seen the file as it is now, instead of sleeping and hoping it has."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._count = 0
        self._changed = threading.Condition()

        def sleep(seconds: float) -> None:
            with self._changed:
                self._count += 1
                self._changed.notify_all()
            time.sleep(seconds)

        monkeypatch.setattr(eventlog, "time", SimpleNamespace(sleep=sleep))

    def wait(self, turns: int = 2) -> None:
        """Until `turns` more idle turns: the reader has read all there is and found nothing more."""
        with self._changed:
            target = self._count + turns
            assert self._changed.wait_for(lambda: self._count >= target, timeout=10), "the reader never polled"


def test_an_event_read_half_written_is_completed_not_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "events.jsonl"
    big = "x" * 200_000  # an event larger than a page, like a check step of many connectors
    first = _line(1, diagnosticEvent={"message": big, "color": "never", "severity": "error", "urn": "u"})
    last = _line(2, cancelEvent={})
    log.write_text("")
    seen: list[auto.EngineEvent] = []
    polls = IdlePolls(monkeypatch)
    reader = threading.Thread(target=eventlog.watch_logs, args=(str(log), seen.append))
    reader.start()
    with log.open("a", encoding="utf-8") as out:
        out.write(first[:1000])
        out.flush()
        polls.wait()  # the reader has read the half line (SDK 3.79's own reader died here)
        assert seen == []
        out.write(first[1000:] + last)
    reader.join(10)
    assert not reader.is_alive()
    assert [e.sequence for e in seen] == [1, 2]
    assert seen[0].diagnostic_event is not None and seen[0].diagnostic_event.message == big
    assert seen[1].cancel_event is not None


def test_the_sdk_reads_its_event_logs_with_ours() -> None:
    import ctp_credentials.automation.workspace  # noqa: F401  # importing the workspace installs the reader

    assert sdk_stack._watch_logs is eventlog.watch_logs


def test_a_character_split_between_two_reads_is_not_a_decoding_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Go writes UTF-8 as it comes: a read can stop inside a multi-byte character."""
    log = tmp_path / "events.jsonl"
    event = {"sequence": 1, "timestamp": 0, "diagnosticEvent": {"message": "price 5 €", "severity": "error"}}
    first = (json.dumps(event, ensure_ascii=False) + "\n").encode()  # raw UTF-8, as the Go encoder writes it
    cut = first.index("€".encode()) + 1  # inside the euro sign's three bytes
    log.write_bytes(first[:cut])
    seen: list[auto.EngineEvent] = []
    polls = IdlePolls(monkeypatch)
    reader = threading.Thread(target=eventlog.watch_logs, args=(str(log), seen.append))
    reader.start()
    polls.wait()  # it has read up to the middle of the character
    with log.open("ab") as out:
        out.write(first[cut:] + _line(2, cancelEvent={}).encode())
    reader.join(10)
    assert not reader.is_alive()
    assert seen[0].diagnostic_event is not None and seen[0].diagnostic_event.message == "price 5 €"


def test_a_log_that_ends_mid_event_ends_the_reader_once_it_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI killed mid-event: no newline and no cancel event will come. The SDK removes the log after the
    command; the reader must end then, or its (non-daemon) thread keeps the process from exiting."""
    log = tmp_path / "events.jsonl"
    log.write_text(_line(1, cancelEvent={})[:10])
    polls = IdlePolls(monkeypatch)
    reader = threading.Thread(target=eventlog.watch_logs, args=(str(log), lambda _e: None))
    reader.start()
    polls.wait()
    assert reader.is_alive()  # still waiting: the command might not be over
    log.unlink()
    reader.join(10)
    assert not reader.is_alive()
