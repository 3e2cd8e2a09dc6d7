"""`make demo`: the main job on embedded defaults, no credentials, no network.

Starts OpenBao and the commercetools emulator on loopback, runs `pulumi preview` and `pulumi up` on a demo
stack (local file backend under .demo/), prints the outputs, reads the secret back from OpenBao and confirms it
matches without printing it, shows a preview with a wrong secret failing, and stops everything it started.

The API client's secret is $CTP_DEMO_CLIENT_SECRET when set (random otherwise), so anyone can grep .demo/
and this output for it and find nothing.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import hvac

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ctp_credentials.automation.engine import copy_program, pulumi_env  # noqa: E402
from ctp_credentials.testing.commercetools import CommercetoolsEmulator  # noqa: E402
from ctp_credentials.testing.openbao import OpenBaoServer  # noqa: E402

# CTP_DEMO_DIR lets tests run the demo without touching a developer's .demo/
DEMO = Path(os.environ.get("CTP_DEMO_DIR") or ROOT / ".demo").resolve()
PROJECT = DEMO / "project"
PROJECT_KEY = "demo-project"
SCOPES = [f"view_orders:{PROJECT_KEY}", f"view_products:{PROJECT_KEY}"]
PASSPHRASE = "ctp-demo-passphrase"  # protects only this throwaway demo state; real stacks use their own


class Demo:
    def __init__(self, emulator: CommercetoolsEmulator, bao: OpenBaoServer) -> None:
        self.emulator = emulator
        self.bao = bao
        self.env = pulumi_env(DEMO / "state", home=DEMO / "pulumi-home", passphrase=PASSPHRASE, extra=bao.env())
        self.log = (DEMO / "demo.log").open("a")

    def pulumi(self, *args: str, stack: str, stdin: str | None = None, check: bool = True) -> str:
        """Run the real CLI; everything it prints goes to the terminal and to .demo/demo.log."""
        flags = [] if args[:2] == ("stack", "init") else ["--stack", stack]
        cut = args.index("--") if "--" in args else len(args)  # after `--` come values only
        cmd = ["pulumi", *args[:cut], *flags, *args[cut:]]
        print(f"\n$ {' '.join(cmd)}", flush=True)
        proc = subprocess.run(cmd, check=False, cwd=PROJECT, env=self.env, input=stdin, capture_output=True, text=True)
        out = proc.stdout + proc.stderr
        print(out.rstrip(), flush=True)
        self.log.write(f"$ {' '.join(cmd)}\n{out}\n")
        if check and proc.returncode != 0:
            raise SystemExit(f"demo: `pulumi {args[0]}` failed (exit {proc.returncode}); see the output above")
        return out

    def configure(self, stack: str, client_id: str, secret: str) -> None:
        self.pulumi("stack", "init", stack, stack=stack)
        prefix = "connectors.patchworks"
        for key, value in [
            (f"{prefix}.projectKey", PROJECT_KEY),
            (f"{prefix}.region", "europe-west1.gcp"),
            (f"{prefix}.scopes[0]", SCOPES[0]),
            (f"{prefix}.scopes[1]", SCOPES[1]),
            (f"{prefix}.clientId", client_id),
            # The emulator stands in for https://auth./api.europe-west1.gcp.commercetools.com.
            (f"{prefix}.authUrl", self.emulator.url),
            (f"{prefix}.apiUrl", self.emulator.url),
        ]:
            self.pulumi("config", "set", "--path", "--", key, value, stack=stack)  # IDs may start with "-"
        # The secret goes through stdin, never argv (process lists) or this output.
        self.pulumi("config", "set", "--secret", "clientSecret-patchworks", stack=stack, stdin=secret)


def main() -> int:
    shutil.rmtree(DEMO, ignore_errors=True)  # a fresh demo every run: OpenBao's dev server is in-memory
    (DEMO / "state").mkdir(parents=True)
    # The program runs from a copy under .demo/, so stack files (Pulumi.<stack>.yaml) never land in the checkout.
    PROJECT.mkdir()
    copy_program(PROJECT)
    secret = os.environ.get("CTP_DEMO_CLIENT_SECRET") or secrets.token_urlsafe(24)

    with CommercetoolsEmulator() as emulator, OpenBaoServer() as bao:
        print(f"commercetools emulator: {emulator.url}\nOpenBao dev server:     {bao.url}")
        client = emulator.backend.add_client(PROJECT_KEY, SCOPES, name="patchworks", secret=secret)
        demo = Demo(emulator, bao)

        demo.configure("demo", client.id, secret)
        # The policy pack reviews the preview as a pipeline would; local.json allow-lists the demo stacks'
        # loopback endpoints (the emulator), which production stacks may not use.
        demo.pulumi(
            "preview",
            "--policy-pack",
            str(ROOT / "policies"),
            "--policy-pack-config",
            str(ROOT / "policies" / "local.json"),
            stack="demo",
        )
        demo.pulumi("up", "--yes", "--skip-preview", stack="demo")
        demo.pulumi("stack", "output", "--json", stack="demo")

        stored = hvac.Client(url=bao.url, token=bao.root_token).secrets.kv.v2.read_secret_version(
            path="commercetools/patchworks", mount_point="secret", raise_on_deleted_version=True
        )["data"]["data"]
        if stored.get("clientSecret") != secret or stored.get("clientId") != client.id:
            print("\nFAIL: the secret in OpenBao does not match the API client's secret")
            return 1
        print("\nOK: OpenBao secret/commercetools/patchworks holds this client's ID and secret (value not shown)")

        demo.pulumi("up", "--yes", "--skip-preview", stack="demo")
        print("OK: a second `pulumi up` changed nothing")

        print("\nNow a stack whose secret is wrong: its preview must fail, naming the connector and the fix.")
        demo.configure("demo-wrong-secret", client.id, secrets.token_urlsafe(24))
        out = demo.pulumi("preview", stack="demo-wrong-secret", check=False)
        if "client ID or secret rejected" not in out:
            print("FAIL: the preview with a wrong secret did not fail with the expected message")
            return 1
        print("\nOK: the wrong secret was refused during preview; nothing was written.")
    print("\nDemo finished; OpenBao and the emulator are stopped. State and logs are in .demo/.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
