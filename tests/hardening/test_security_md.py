"""SECURITY.md's table of cases tried must match the suite: its figures come from here, not from memory."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from ctp_credentials.automation.engine import ROOT


def test_security_table_matches_the_suite(tmp_path: Path) -> None:
    counts_file = tmp_path / "counts.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "tests"],
        cwd=ROOT,
        env={"CTP_SECURITY_COUNTS": str(counts_file), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    counts = json.loads(counts_file.read_text())
    table = {
        m.group(1): (int(m.group(2)), int(m.group(3)))
        for m in re.finditer(
            r"^\| (canary|bad-input|faults|concurrency) \|.*\| (\d+) \| (\d+) \|$",
            (ROOT / "SECURITY.md").read_text(),
            re.MULTILINE,
        )
    }
    assert table == {category: (n, n) for category, n in counts.items()}
