"""A stand-in for Pulumi's Python language host (`pulumi-language-python`), for this machine only.

The official host of current Pulumi releases is a Go module that the module proxy reachable here refuses, and
nothing else ships it (README, "The Pulumi engine"). Like the commercetools emulator, this is a named stand-in
for an outside system: it serves the gRPC LanguageRuntime from the Pulumi SDK's own stubs, for exactly what the
CLI calls to run a program and a policy pack, and it is never installed for users (scripts/pulumi-engine.sh puts
it beside a CLI it built itself, and only when no official host is there). What it does, as the official host:

- the CLI starts it with the engine's address as its one argument; it prints the port it serves on;
- Run: `pulumi-language-python-exec` (beside the CLI) under the interpreter of the `virtualenv` runtime option
  (relative to the project root), the stack config in PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS, output passed
  straight through; exit code 32 means "bail" (the program already reported its error);
- RunPlugin: a Python policy pack, `python -u -m pulumi.policy <args> <pack dir>` under the pack's virtualenv,
  its stdout, stderr and exit code streamed back;
- plugin info, no required plugins or packages (the dynamic-provider plugin sits beside the CLI);
- ends quietly on SIGINT/SIGTERM, and when the CLI that started it is gone.

Tested on its own in tests/testservers/test_languagehost.py, and by every engine test of the suite.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import types
from collections.abc import Iterator, Mapping
from concurrent import futures
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import json_format

if TYPE_CHECKING:
    from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

VERSION = "3.274.1"  # reported as the plugin's version: the CLI it stands beside (scripts/pulumi-engine.sh)
EXEC = "pulumi-language-python-exec"
BAIL = 32  # the program reported its own error: the engine must not add one


def _load_stubs() -> tuple[types.ModuleType, ...]:
    """The SDK's generated stubs, without importing the `pulumi` package: `pulumi.runtime.proto` would run
    `pulumi/__init__.py` (about 0.25 s, the whole SDK) on every engine command that starts a host. The stubs
    import one another only relatively, so a package of their own is enough."""
    spec = importlib.util.find_spec("pulumi")  # finds, does not import
    if spec is None or spec.origin is None:
        raise ImportError("the pulumi SDK is not installed beside the stand-in language host")
    name = "_ctp_pulumi_proto"
    package = sys.modules.get(name)
    if package is None:
        package = types.ModuleType(name)
        package.__path__ = [str(Path(spec.origin).parent / "runtime" / "proto")]
        sys.modules[name] = package
    return tuple(importlib.import_module(f"{name}.{m}") for m in ("language_pb2", "language_pb2_grpc", "plugin_pb2"))


if not TYPE_CHECKING:
    language_pb2, language_pb2_grpc, plugin_pb2 = _load_stubs()


def interpreter(options: Mapping[str, Any], root: str) -> tuple[str, dict[str, str]]:
    """The Python to run under, and the environment changes that activate its virtualenv (none without one)."""
    venv = options.get("virtualenv")
    if not venv:
        return os.environ.get("PULUMI_PYTHON_CMD", "python3"), {}
    path = Path(root, str(venv)).resolve() if root else Path(str(venv)).resolve()
    python = path / "bin" / "python"
    if not python.is_file():
        raise FileNotFoundError(
            f"The 'virtualenv' option in Pulumi.yaml is set to {venv!r}, but {path} is not a virtual environment"
        )
    activate = {"VIRTUAL_ENV": str(path), "PATH": f"{path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    return str(python), activate


def _options(info: language_pb2.ProgramInfo) -> dict[str, Any]:
    return dict(json_format.MessageToDict(info.options)) if info.HasField("options") else {}


def run_arguments(request: language_pb2.RunRequest, engine: str, executor: str) -> list[str]:
    """The executor's command line, as the official host builds it."""
    args = [executor]
    for flag, value in (
        ("monitor", request.monitor_address),
        ("engine", engine),
        ("project", request.project),
        ("stack", request.stack),
        ("pwd", request.pwd),
        ("dry_run", "true" if request.dryRun else "false"),
        ("parallel", str(request.parallel)),
        ("organization", request.organization),
        ("root_directory", request.info.root_directory),
    ):
        if value:
            args += [f"--{flag}", value]
    return [*args, request.program or ".", *request.args]


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    """The calls the CLI makes to preview, update, refresh or destroy a Python program with a policy pack."""

    def __init__(self, engine: str, executor: str) -> None:
        self.engine = engine
        self.executor = executor

    def Handshake(self, request: Any, context: Any) -> language_pb2.LanguageHandshakeResponse:
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request: Any, context: Any) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetRequiredPlugins(self, request: Any, context: Any) -> language_pb2.GetRequiredPluginsResponse:
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request: Any, context: Any) -> language_pb2.GetRequiredPackagesResponse:
        return language_pb2.GetRequiredPackagesResponse()

    def Run(self, request: language_pb2.RunRequest, context: Any) -> language_pb2.RunResponse:
        try:
            python, activate = interpreter(_options(request.info), request.info.root_directory)
        except FileNotFoundError as exc:
            return language_pb2.RunResponse(error=str(exc))
        env = {
            **os.environ,
            **activate,
            "PULUMI_CONFIG": json.dumps(dict(request.config), separators=(",", ":")),
            "PULUMI_CONFIG_SECRET_KEYS": json.dumps(list(request.configSecretKeys)),
        }
        try:
            # stdout/stderr are ours, which the CLI reads: the program's output reaches it unchanged
            code = subprocess.call([python, *run_arguments(request, self.engine, self.executor)], env=env)
        except OSError as exc:
            return language_pb2.RunResponse(error=f"problem executing program (could not run language executor): {exc}")
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        if code == BAIL:
            return language_pb2.RunResponse(bail=True)
        if code != 0:
            return language_pb2.RunResponse(error=f"program exited with non-zero exit code: {code}")
        return language_pb2.RunResponse()

    def RunPlugin(
        self, request: language_pb2.RunPluginRequest, context: Any
    ) -> Iterator[language_pb2.RunPluginResponse]:
        info = request.info
        # The CLI names a policy pack by its directory in `info` (program_directory + entry_point), not `program`.
        pack = request.program or str(Path(info.program_directory or request.pwd, info.entry_point or "."))
        try:
            python, activate = interpreter(_options(info), info.root_directory or pack)
        except FileNotFoundError as exc:
            yield language_pb2.RunPluginResponse(stderr=f"{exc}\n".encode())
            yield language_pb2.RunPluginResponse(exitcode=1)
            return
        env = dict(item.split("=", 1) for item in request.env if "=" in item) or dict(os.environ)
        env.update(activate)
        proc = subprocess.Popen(
            [python, "-u", "-m", "pulumi.policy", *request.args, pack],
            cwd=request.pwd or None,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        yield from _stream(proc)
        yield language_pb2.RunPluginResponse(exitcode=proc.wait())


def _stream(proc: subprocess.Popen[bytes]) -> Iterator[language_pb2.RunPluginResponse]:
    """The plugin's stdout and stderr as they come, each chunk in its own message."""
    chunks: list[language_pb2.RunPluginResponse | None] = []
    ready = threading.Condition()

    def pump(stream: Any, field: str) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            with ready:
                chunks.append(language_pb2.RunPluginResponse(**{field: chunk}))
                ready.notify()
        with ready:
            chunks.append(None)  # this stream is done
            ready.notify()

    threads = [
        threading.Thread(target=pump, args=(proc.stdout, "stdout"), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, "stderr"), daemon=True),
    ]
    for t in threads:
        t.start()
    done = 0
    while done < len(threads):
        with ready:
            ready.wait_for(lambda: bool(chunks))
            taken, chunks[:] = list(chunks), []
        for item in taken:
            if item is None:
                done += 1
            else:
                yield item


def serve(engine: str, executor: str) -> grpc.Server:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageHost(engine, executor), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)  # the CLI reads the port from our first line
    return server


def main(argv: list[str]) -> int:
    """`languagehost.py [--executor PATH] <engine address> [other flags the CLI passes]`."""
    executor = str(Path(sys.argv[0]).resolve().parent / EXEC)
    if "--executor" in argv:
        at = argv.index("--executor")
        executor, argv = argv[at + 1], argv[:at] + argv[at + 2 :]
    engine = next((a for a in argv if not a.startswith("-")), "")
    if not Path(executor).is_file():
        print(f"missing executor {executor}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())  # the CLI signals us when it is done: end without a word
    server = serve(engine, executor)
    parent = os.getppid()
    while not stop.wait(1.0):
        if os.getppid() != parent:  # the CLI is gone (killed): nobody will ask us anything again
            break
    server.stop(grace=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
