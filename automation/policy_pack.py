"""`ctp-credentials policy-pack`: the directory of the policy pack this copy ships, for `--policy-pack`.

In a checkout it is policies/; installed, the same files inside the package. The pack names no virtualenv
(PulumiPolicy.yaml): the engine starts it with the Python it finds, `python3` on PATH (the stand-in host and,
unconfirmed for the official one, PULUMI_PYTHON_CMD first), so that Python must have ctp-credentials installed.
The command checks that now, rather than letting a preview fail later with an import error from inside the pack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import ctp_credentials

PACK_DIR = (Path(ctp_credentials.__file__).parent / "policies").resolve()


def engine_python() -> tuple[str, str | None]:
    """The command the engine starts the pack with, and where it is (None: not found)."""
    command = os.environ.get("PULUMI_PYTHON_CMD") or "python3"
    return command, shutil.which(command)


def problem() -> str | None:
    """Why the pack would not start under the engine's Python, or None."""
    command, python = engine_python()
    if python is None:
        return (
            f"no {command} on PATH: the engine runs the pack with it; activate the virtualenv that has "
            f"ctp-credentials, or set PULUMI_PYTHON_CMD={sys.executable}"
        )
    proc = subprocess.run(
        [python, "-c", "import pulumi_policy, ctp_credentials.policies.pack"],
        capture_output=True,
        text=True,
        check=False,
        # the folder that holds the import root, as the pack's __main__ puts it first (not the caller's
        # directory, whose modules could stand in for ours)
        cwd=Path(ctp_credentials.__file__).resolve().parent.parent,
    )
    if proc.returncode == 0:
        return None
    return (
        f"the pack would not start: the engine runs it with {python}, which cannot import ctp-credentials and "
        f"pulumi-policy. Activate the virtualenv that has them (this command runs in {sys.prefix}), or set "
        f"PULUMI_PYTHON_CMD={sys.executable}"
    )


def command() -> int:
    print(PACK_DIR)
    why = problem()
    if why is not None:
        print(f"error: {why}", file=sys.stderr)
        return 1
    return 0
