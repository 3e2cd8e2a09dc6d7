"""Measuring: medians, per-repetition ratios and slopes, progress lines with the elapsed time, the load average
sampled in the background, and the machine the run is on."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import threading
import time
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ctp_credentials.automation.engine import engine_bin
from ctp_credentials.testing.openbao import bao_binary


def median(values: Iterable[float]) -> float:
    data = list(values)
    return float(statistics.median(data)) if data else float("nan")


def ratios(ours: list[float], base: list[float]) -> list[float]:
    """Per-repetition ratios: each pair was measured back to back."""
    return [o / b for o, b in zip(ours, base, strict=True) if b > 0]


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x (bytes or seconds per connector)."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else float("nan")


class Clock:
    """Progress lines with the time since the start of the run."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.start:6.0f}s] {text}", flush=True)


class LoadSampler:
    """/proc/loadavg every few seconds, in the background: other work (tests) may share the 2 cores."""

    def __init__(self, every: float = 5.0) -> None:
        self.samples: list[float] = []
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(self._every)

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float]:
        s = self.samples or [os.getloadavg()[0]]
        return {"min": min(s), "median": median(s), "max": max(s), "samples": len(s)}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    pulumi = subprocess.run(
        [str(engine_bin() / "pulumi"), "version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    bao = subprocess.run([bao_binary(), "version"], capture_output=True, text=True, check=False).stdout.split("(")[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "pulumi_cli": pulumi,
        "pulumi_sdk": version("pulumi"),
        "openbao": bao.strip(),
        "loadavg_start": list(os.getloadavg()),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
