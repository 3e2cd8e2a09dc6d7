"""The stand-in Python language host (testservers/standin/languagehost.py) on its own, over gRPC as the CLI calls it.

Run is checked with a recording executor in place of `pulumi-language-python-exec` (what the host passes and
how it reads the exit code); RunPlugin runs a real `python -m pulumi.policy` on a tiny pack that prints and
exits; the host ends quietly on SIGTERM and SIGINT. Every engine test of the suite also runs through it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from ctp_credentials.automation.engine import ROOT

HOST = ROOT / "testservers" / "standin" / "languagehost.py"
RECORDER = """\
import json, os, sys
with open(os.environ["RECORD_TO"], "w") as out:
    json.dump({"argv": sys.argv[1:], "config": os.environ.get("PULUMI_CONFIG"),
               "secret_keys": os.environ.get("PULUMI_CONFIG_SECRET_KEYS"), "venv": os.environ.get("VIRTUAL_ENV"),
               "python": sys.executable}, out)
sys.exit(int(os.environ.get("EXIT_WITH", "0")))
"""


class Host:
    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc = proc
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = language_pb2_grpc.LanguageRuntimeStub(self.channel)

    def stop(self) -> None:
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def start(executor: Path, env: dict[str, str] | None = None) -> Host:
    proc = subprocess.Popen(
        [sys.executable, str(HOST), "--executor", str(executor), "127.0.0.1:1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())  # the first line is the port, as the CLI expects
    return Host(proc, port)


@pytest.fixture
def executor(tmp_path: Path) -> Path:
    path = tmp_path / "pulumi-language-python-exec"
    path.write_text(RECORDER)
    return path


@pytest.fixture
def host(executor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    monkeypatch.setenv("RECORD_TO", str(tmp_path / "record.json"))
    started = start(executor)
    yield started
    started.stop()


def venv_info(root: Path, venv: str) -> language_pb2.ProgramInfo:
    options = struct_pb2.Struct()
    options.update({"virtualenv": venv})
    return language_pb2.ProgramInfo(root_directory=str(root), program_directory=str(root), options=options)


def run_request(tmp_path: Path, **kw: Any) -> language_pb2.RunRequest:
    # the virtualenv option, relative to the project root: this test's own virtualenv
    venv = Path(sys.prefix)
    return language_pb2.RunRequest(
        project="proj",
        stack="dev",
        pwd=str(tmp_path),
        program=".",
        dryRun=True,
        parallel=4,
        monitor_address="127.0.0.1:2",
        organization="org",
        config={"proj:key": "value", "proj:secret": "s3cr3t"},
        configSecretKeys=["proj:secret"],
        info=venv_info(venv.parent, venv.name),
        **kw,
    )


def test_run_passes_what_the_executor_needs_and_uses_the_virtualenv(host: Host, tmp_path: Path) -> None:
    assert host.stub.GetPluginInfo(empty_pb2.Empty()).version
    assert list(host.stub.GetRequiredPlugins(language_pb2.GetRequiredPluginsRequest()).plugins) == []
    assert host.stub.Handshake(language_pb2.LanguageHandshakeRequest()) is not None
    response = host.stub.Run(run_request(tmp_path))
    assert (response.error, response.bail) == ("", False)
    record = json.loads((tmp_path / "record.json").read_text())
    argv = record["argv"]
    pairs = dict(zip(argv[0:-1:2], argv[1::2], strict=False))
    assert pairs["--monitor"] == "127.0.0.1:2" and pairs["--engine"] == "127.0.0.1:1"
    assert (pairs["--project"], pairs["--stack"], pairs["--dry_run"], pairs["--parallel"]) == (
        "proj",
        "dev",
        "true",
        "4",
    )
    assert argv[-1] == "." and pairs["--organization"] == "org"
    assert json.loads(record["config"]) == {"proj:key": "value", "proj:secret": "s3cr3t"}
    assert json.loads(record["secret_keys"]) == ["proj:secret"]
    assert record["venv"] == str(Path(sys.prefix).resolve())
    assert Path(record["python"]).parent == Path(sys.prefix).resolve() / "bin"


def test_run_reports_bail_and_failures_as_the_official_host_does(
    host: Host, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, executor: Path
) -> None:
    for code, expected in ((32, ("", True)), (3, ("program exited with non-zero exit code: 3", False))):
        monkeypatch.setenv("EXIT_WITH", str(code))
        again = start(executor)  # the executor's environment is the host's: one host per exit code
        try:
            response = again.stub.Run(run_request(tmp_path))
        finally:
            again.stop()
        assert (response.error, response.bail) == expected
    missing = host.stub.Run(language_pb2.RunRequest(pwd=str(tmp_path), info=venv_info(tmp_path, "no-such-venv")))
    assert "is not a virtual environment" in missing.error


def test_run_plugin_streams_a_policy_pack_and_its_exit_code(host: Host, tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "__main__.py").write_text(
        "import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)\nsys.exit(3)\n"
    )
    venv = Path(sys.prefix)
    info = venv_info(venv.parent, venv.name)
    info.program_directory, info.entry_point = str(pack), "."  # how the CLI names a pack: not in `program`
    request = language_pb2.RunPluginRequest(pwd=str(tmp_path), args=["127.0.0.1:1"], info=info)
    out, err, codes = b"", b"", []
    for message in host.stub.RunPlugin(request):
        kind = message.WhichOneof("output")
        if kind == "stdout":
            out += message.stdout
        elif kind == "stderr":
            err += message.stderr
        else:
            codes.append(message.exitcode)
    assert (out, err, codes) == (b"to stdout\n", b"to stderr\n", [3])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_host_ends_quietly_when_the_cli_signals_it(host: Host, sig: signal.Signals) -> None:
    host.proc.send_signal(sig)
    assert host.proc.wait(timeout=10) == 0
    assert host.proc.stderr is not None and host.proc.stderr.read() == ""  # no traceback, no word


def test_the_host_loads_the_stubs_without_the_sdk() -> None:
    """Every engine command starts a host: importing the whole SDK (`pulumi/__init__.py`) there would add about a
    quarter of a second of CPU to each, for stubs that need none of it."""
    probe = (
        f"import sys; sys.path.insert(0, {str(HOST.parent)!r}); import languagehost; "
        "print(sorted(m for m in sys.modules if m == 'pulumi' or m.startswith('pulumi.')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
