"""`make dist`: the wheel adds one import root, holds what the checkout's folders hold under it, and works away
from the checkout. Built once here the way `make dist` builds it (the virtualenv's setuptools, no index)."""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from packaging.requirements import Requirement

import ctp_credentials
from ctp_credentials.automation.engine import ROOT

MAPPED = {"components": "components", "policies": "policies", "automation": "automation", "testservers": "testing"}
PROBE = """
import base64, json, sys
from pulumi.dynamic.dynamic import serialize_provider
import ctp_credentials, ctp_credentials.components.connector, ctp_credentials.policies.pack
from ctp_credentials.components.providers.vault_secret import VaultKvSecretProvider
from ctp_credentials.testing.commercetools import CommercetoolsEmulator
try:
    import components
    generic = True
except ModuleNotFoundError:
    generic = False
print(json.dumps({"file": ctp_credentials.__file__, "version": ctp_credentials.__version__, "generic": generic,
                  "pickle": serialize_provider(VaultKvSecretProvider())}))
"""


def wheel(dist: Path) -> zipfile.ZipFile:
    (found,) = dist.glob("ctp_credentials-*-py3-none-any.whl")
    return zipfile.ZipFile(found)


def test_the_wheel_adds_one_import_root_and_holds_each_folder_under_it(dist: Path) -> None:
    names = set(wheel(dist).namelist())
    version = ctp_credentials.__version__
    assert {n.split("/")[0] for n in names} == {"ctp_credentials", f"ctp_credentials-{version}.dist-info"}
    expected = {"ctp_credentials/__init__.py", "ctp_credentials/__main__.py"}
    for folder, package in MAPPED.items():
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT / folder)
            if relative.parts[0] != "standin":  # the stand-in language host: never given to users
                expected.add(f"ctp_credentials/{package}/{relative.as_posix()}")
    pack = {f"ctp_credentials/policies/{n}" for n in ("PulumiPolicy.yaml", "local.json", "README.md")}
    assert {n for n in names if not n.startswith(f"ctp_credentials-{version}.dist-info/")} == expected | pack
    assert not [n for n in names if "languagehost" in n]


def test_the_wheel_declares_its_version_dependencies_extra_and_command(dist: Path) -> None:
    archive = wheel(dist)
    info = f"ctp_credentials-{ctp_credentials.__version__}.dist-info"
    meta = email.message_from_bytes(archive.read(f"{info}/METADATA"))
    assert meta["Name"] == "ctp-credentials" and meta["Version"] == ctp_credentials.__version__
    requires = meta.get_all("Requires-Dist") or []
    for name in ("pulumi", "hvac", "boto3", "requests", "pydantic", "pulumi-policy"):
        # ranges, so the library installs beside the providers a program already has
        assert any(r.startswith(f"{name}<") or r.startswith(f"{name}>=") for r in requires), (name, requires)
    assert any(r.startswith("moto[server]") and 'extra == "testing"' in r for r in requires)
    assert meta.get_all("Provides-Extra") == ["testing"]
    entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert "ctp-credentials = ctp_credentials.automation.__main__:main" in entry_points
    (sdist,) = dist.glob("ctp_credentials-*.tar.gz")
    assert sdist.name == f"ctp_credentials-{ctp_credentials.__version__}.tar.gz"


def test_the_wheel_works_away_from_the_checkout_and_pickles_providers_as_the_checkout_does(
    dist: Path, tmp_path: Path
) -> None:
    """Its dependencies from this virtualenv, the code from the unpacked wheel only: no checkout on the path."""
    site = tmp_path / "site"
    wheel(dist).extractall(site)
    installed = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(site)}
    got = json.loads(python("-c", PROBE, cwd=tmp_path, env=installed))
    checkout = json.loads(python("-c", PROBE, cwd=ROOT, env=dict(os.environ)))
    assert Path(got["file"]).is_relative_to(site) and got["version"] == ctp_credentials.__version__
    assert got["generic"] is False  # nothing generic installed: `components` is not importable
    assert got["pickle"] == checkout["pickle"]  # state written by either copy looks the same to the engine
    usage = python("-m", "ctp_credentials", "--help", cwd=tmp_path, env=installed)
    assert all(command in usage for command in ("rotate", "status", "pr-summary"))


def test_installed_the_testing_fixtures_are_there_for_a_users_own_tests(dist: Path, tmp_path: Path) -> None:
    """examples/testing/ run as a user's suite: the wheel on the path, no conftest, the plugin found through the
    wheel's pytest11 entry point (pytest discovers it in the dist-info)."""
    site, suite = tmp_path / "site", tmp_path / "suite"
    wheel(dist).extractall(site)
    shutil.copytree(ROOT / "examples" / "testing", suite)
    report = tmp_path / "report.xml"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(site)}
    python("-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", str(suite), cwd=suite, env=env)
    (run,) = ElementTree.parse(report).getroot().iter("testsuite")  # noqa: S314  # written by the run above
    assert (run.get("tests"), run.get("failures"), run.get("errors"), run.get("skipped")) == ("3", "0", "0", "0")


def python(*args: str, cwd: Path, env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, check=True, timeout=120
    ).stdout


def test_the_librarys_ranges_hold_the_pins_the_suite_runs() -> None:
    """The wheel asks for ranges (a program has its own pins beside ours); the pins in requirements.txt are what
    every test runs, so each must be inside its range, and every runtime dependency must have one."""
    ranges = {
        _project(r.name): r.specifier
        for r in map(Requirement, tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    }
    pinned = {
        _project(line.split("==", 1)[0]): line.split("==", 1)[1].strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert set(ranges) == set(pinned)
    assert all(ranges[name].contains(version) for name, version in pinned.items()), (ranges, pinned)


def _project(name: str) -> str:
    return name.strip().lower().replace("_", "-")
