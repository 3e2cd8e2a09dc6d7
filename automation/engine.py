"""Locate the pinned Pulumi engine and build the environment that runs it offline on a local backend."""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def engine_bin() -> Path:
    """The directory holding `pulumi` and its Python language host (built once per version, then cached)."""
    override = os.environ.get("CTP_PULUMI_BIN")
    if override:
        return Path(override)
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "pulumi-engine.sh")], check=True, capture_output=True, text=True
    )
    return Path(out.stdout.strip().splitlines()[-1])


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
