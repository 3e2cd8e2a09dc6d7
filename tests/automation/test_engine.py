"""Which Pulumi CLI the commands run: an installed copy has no build script and uses the user's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctp_credentials.automation.engine import EngineUnavailable, installed_engine_bin


def cli(directory: Path) -> Path:
    directory.mkdir(parents=True)
    (directory / "pulumi").write_text("#!/bin/sh\n")
    (directory / "pulumi").chmod(0o755)
    return directory


def test_ctp_pulumi_bin_is_used_as_given_and_checked(tmp_path: Path) -> None:
    chosen, on_path = cli(tmp_path / "chosen"), cli(tmp_path / "path")
    assert installed_engine_bin({"CTP_PULUMI_BIN": str(chosen), "PATH": str(on_path)}) == chosen
    with pytest.raises(EngineUnavailable, match=r"CTP_PULUMI_BIN=\S+/empty holds no `pulumi`"):
        installed_engine_bin({"CTP_PULUMI_BIN": str(tmp_path / "empty"), "PATH": str(on_path)})


def test_otherwise_the_pulumi_on_path(tmp_path: Path) -> None:
    first, second = cli(tmp_path / "a"), cli(tmp_path / "b")
    assert installed_engine_bin({"PATH": f"{tmp_path / 'none'}:{first}:{second}"}) == first.resolve()
    with pytest.raises(EngineUnavailable, match="no `pulumi` on PATH: install the Pulumi CLI"):
        installed_engine_bin({"PATH": str(tmp_path / "none")})
