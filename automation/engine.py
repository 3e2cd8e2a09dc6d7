"""Locate the pinned Pulumi engine and build the environment that runs it offline on a local backend."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import ctp_credentials
from ctp_credentials.components.errors import CredentialsError

# The checkout: the folder that holds the import root. Not this file's grandparent: through the ctp_credentials/
# links that is the checkout too, but in a copy of the tree without links (mutmut's) it would be ctp_credentials/.
ROOT = Path(ctp_credentials.__file__).resolve().parent.parent
# The stack program as a Pulumi project directory holds it (ctp_credentials/ links to components/ beside it).
PROGRAM = ("Pulumi.yaml", "__main__.py", "components", "ctp_credentials")


def copy_program(dest: Path) -> None:
    """The stack program copied into the directory `dest`, run in the checkout's virtualenv: stacks made there
    (Pulumi.<stack>.yaml) never land in the checkout. Links are copied as links, so they point into the copy."""
    for name in PROGRAM:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dest / name)
    (dest / ".venv").symlink_to(ROOT / ".venv")


@functools.cache
def engine_bin() -> Path:
    """The directory holding `pulumi` and its Python language host: in a checkout, the pinned engine (built once
    per version, then cached); installed, the user's own: CTP_PULUMI_BIN, or `pulumi` on PATH."""
    script = ROOT / "scripts" / "pulumi-engine.sh"
    if not script.is_file():  # an installed copy: no build script, and the user's engine is the one to use
        return installed_engine_bin(os.environ)
    # CTP_PULUMI_BIN (an engine of the user's) is honoured and checked by the script
    out = subprocess.run(["bash", str(script)], check=False, capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.strip():
        said = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit code {out.returncode}"
        raise EngineUnavailable(f"the Pulumi engine is not available: {said}. Run `make setup` (README)")
    return Path(out.stdout.strip().splitlines()[-1])


def installed_engine_bin(environ: Mapping[str, str]) -> Path:
    """The user's engine, for an installed copy: CTP_PULUMI_BIN (checked), or the directory of `pulumi` on PATH."""
    chosen = environ.get("CTP_PULUMI_BIN")
    if chosen:
        if not (Path(chosen) / "pulumi").is_file():
            raise EngineUnavailable(f"CTP_PULUMI_BIN={chosen} holds no `pulumi`; point it at the CLI's directory")
        return Path(chosen)
    found = shutil.which("pulumi", path=environ.get("PATH"))
    if found is None:
        raise EngineUnavailable(
            "no `pulumi` on PATH: install the Pulumi CLI (https://www.pulumi.com/docs/install/) or set CTP_PULUMI_BIN "
            "to the directory that holds it"
        )
    return Path(found).resolve().parent


class EngineUnavailable(CredentialsError):
    """No engine could be found or built; the message carries the build script's reason."""


def pulumi_env(
    backend_dir: Path,
    *,
    home: Path | None = None,
    passphrase: str = "",
    extra: Mapping[str, str] | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """An environment for the CLI: file backend, no update checks, no plugin downloads, our engine first
    on PATH. `PULUMI_HOME` keeps plugins and credentials away from the user's own ~/.pulumi."""
    env = dict(os.environ if base is None else base)
    bin_dir = engine_bin()
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        PULUMI_BACKEND_URL=f"file://{backend_dir}",
        PULUMI_HOME=str(home or backend_dir / ".pulumi-home"),
        PULUMI_CONFIG_PASSPHRASE=passphrase,
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_DISABLE_REGISTRY_RESOLVE="true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK="false",
    )
    env.pop("PULUMI_ACCESS_TOKEN", None)
    if extra:
        env.update(extra)
    return env
