"""scripts/pulumi-engine.sh with a stand-in `go` (the real build takes minutes and gigabytes): builds that
start together (two clones, `make demo` beside `make test`) build once and all end with a working engine."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ctp_credentials.automation.engine import ROOT

SCRIPT = ROOT / "scripts" / "pulumi-engine.sh"
VERSION = (ROOT / ".pulumi-version").read_text().strip()  # the current engine: CLI only, the stand-in beside it
OFFICIAL = "3.79.0"  # the official-binaries leg: CLI and official language host
SDK = next(
    line.split("==", 1)[1].strip()
    for line in (ROOT / "requirements.txt").read_text().splitlines()
    if line.startswith("pulumi==")
)


def fake_go(tmp_path: Path) -> Path:
    """A `go` that answers what the script asks: `build -o X` writes a program that reports the version of the
    cache directory it ends up in (`.../v<version>/bin/X`), as a stamped build does."""
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
        f'  build) echo "build $*" >> {tmp_path / "builds.log"}; out=""\n'
        '         while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out=$2; shift; done\n'
        "         sleep 0.3\n"
        """         printf '#!/bin/sh\\nbasename "$(dirname "$(dirname "$0")")"\\n' > "$out"; chmod +x "$out";;\n"""
        "esac\n"
    )
    go.chmod(0o755)
    return bin_dir


def builds(tmp_path: Path) -> list[str]:
    """The `go build` calls, each as its command line (ldflags hold a newline: rejoined here)."""
    text = (tmp_path / "builds.log").read_text().replace("\n ", " ")
    return [" ".join(line.split()) for line in text.split("build build")[1:]]


def run(tmp_path: Path, go_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CTP_CACHE_DIR": str(tmp_path / "cache"), "PATH": f"{go_dir}:/usr/bin:/bin"}
    env.pop("CTP_PULUMI_BIN", None)
    env["PYTHON"] = sys.executable  # the stand-in's virtualenv is made with it
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_concurrent_builds_build_once_and_all_succeed(tmp_path: Path) -> None:
    go_dir = fake_go(tmp_path)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _i: run(tmp_path, go_dir), range(4)))
    dest = tmp_path / "cache" / "pulumi" / f"v{VERSION}"
    bin_dir = dest / "bin"
    assert [r.returncode for r in results] == [0, 0, 0, 0], [r.stderr for r in results]
    assert {r.stdout.strip() for r in results} == {str(bin_dir)}
    assert (bin_dir / ".complete").is_file() and os.access(bin_dir / "pulumi-language-python-exec", os.X_OK)
    # one build = one `go build` (the CLI; its language host is the stand-in); the waiting runs reuse it
    assert len(builds(tmp_path)) == 1
    # the stand-in beside the CLI: this checkout's host, in a virtualenv of its own with the pinned SDK
    host = bin_dir / "pulumi-language-python"
    assert os.access(host, os.X_OK) and str(dest / "host" / "languagehost.py") in host.read_text()
    standin = ROOT / "testservers" / "standin" / "languagehost.py"
    assert (dest / "host" / "languagehost.py").read_bytes() == standin.read_bytes()
    assert (dest / "host-venv" / ".sdk").read_text().strip() == SDK


def test_the_official_leg_builds_the_official_host_and_no_stand_in(tmp_path: Path) -> None:
    go_dir = fake_go(tmp_path)
    partial = tmp_path / "cache" / "pulumi" / f"v{OFFICIAL}" / "bin"
    partial.mkdir(parents=True)
    (partial / "pulumi").write_text("#!/bin/sh\necho broken\n")  # no .complete: a build cut off part-way
    done = run(tmp_path, go_dir, OFFICIAL)
    assert done.returncode == 0, done.stderr
    assert (partial / ".complete").is_file()
    made = builds(tmp_path)
    assert len(made) == 2 and made[1].endswith("github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python")
    assert "ctp-credentials' stand-in" not in (partial / "pulumi-language-python").read_text()
    assert not (partial.parent / "host-venv").exists()
