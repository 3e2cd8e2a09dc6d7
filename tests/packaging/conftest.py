"""The distribution, built once per session the way `make dist` builds it (the virtualenv's setuptools, no index)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ctp_credentials.automation.engine import ROOT

UV = ROOT / ".tools" / "uv-0.13.8" / "bin" / "uv"


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out, tree = tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("tree") / "src"
    # from a copy: setuptools writes its egg-info into the tree it builds
    shutil.copytree(ROOT, tree, symlinks=True, ignore=shutil.ignore_patterns(".*", "mutants", "bench", "__pycache__"))
    subprocess.run(
        [str(UV), "build", "--no-build-isolation", "--python", sys.executable, "--out-dir", str(out), str(tree)],
        capture_output=True,
        check=True,
        timeout=300,
    )
    return out
