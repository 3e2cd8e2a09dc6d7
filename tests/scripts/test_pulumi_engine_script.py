"""scripts/pulumi-engine.sh with a stand-in `go` (the real build takes minutes and gigabytes): builds that
start together (two clones, `make demo` beside `make test`) build once and all end with a working engine."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from automation.engine import ROOT

SCRIPT = ROOT / "scripts" / "pulumi-engine.sh"
VERSION = next(
    line.split("==", 1)[1].strip()
    for line in (ROOT / "requirements.txt").read_text().splitlines()
    if line.startswith("pulumi==")
)


def fake_go(tmp_path: Path) -> Path:
    """A `go` that answers what the script asks: `build -o X` writes a `pulumi` that reports the pin."""
    sdk = tmp_path / "sdk"
    for f in ("cmd/pulumi-language-python-exec", "dist/pulumi-resource-pulumi-python"):
        (sdk / "python" / f).parent.mkdir(parents=True, exist_ok=True)
        (sdk / "python" / f).write_text("#!/bin/sh\n")
    bin_dir = tmp_path / "gobin"
    bin_dir.mkdir()
    go = bin_dir / "go"
    go.write_text(
        "#!/usr/bin/env bash\n"
        'case "$1" in\n'
        "  mod) exit 0;;\n"
        f"  list) echo {sdk};;\n"
        f'  build) echo build >> {tmp_path / "builds.log"}; out=""\n'
        '         while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out=$2; shift; done\n'
        f'         sleep 0.3; printf \'#!/bin/sh\\necho v{VERSION}\\n\' > "$out"; chmod +x "$out";;\n'
        "esac\n"
    )
    go.chmod(0o755)
    return bin_dir


def run(tmp_path: Path, go_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CTP_CACHE_DIR": str(tmp_path / "cache"), "PATH": f"{go_dir}:/usr/bin:/bin"}
    env.pop("CTP_PULUMI_BIN", None)
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_concurrent_builds_build_once_and_all_succeed(tmp_path: Path) -> None:
    go_dir = fake_go(tmp_path)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _i: run(tmp_path, go_dir), range(4)))
    bin_dir = tmp_path / "cache" / "pulumi" / f"v{VERSION}" / "bin"
    assert [r.returncode for r in results] == [0, 0, 0, 0], [r.stderr for r in results]
    assert {r.stdout.strip() for r in results} == {str(bin_dir)}
    assert (bin_dir / ".complete").is_file() and os.access(bin_dir / "pulumi-language-python-exec", os.X_OK)
    # one build = two `go build` calls (the CLI and the language host); the waiting runs reuse it
    assert (tmp_path / "builds.log").read_text().count("build") == 2


def test_an_interrupted_build_is_not_taken_for_a_finished_one(tmp_path: Path) -> None:
    go_dir = fake_go(tmp_path)
    partial = tmp_path / "cache" / "pulumi" / f"v{VERSION}" / "bin"
    partial.mkdir(parents=True)
    (partial / "pulumi").write_text("#!/bin/sh\necho broken\n")  # no .complete: a build cut off part-way
    assert run(tmp_path, go_dir).returncode == 0
    assert (partial / ".complete").is_file() and "build" in (tmp_path / "builds.log").read_text()
