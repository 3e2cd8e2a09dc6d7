"""SECURITY.md's claims against the bug that would break each: apply one hand-made mutation at a time to a
copy of the checkout, run the tests that back the claim, and report whether they caught it.

    python scripts/mutate_claims.py      # `make mutate-claims`; exit 1 if a claim's tests miss its bug

mutmut (`make mutate`) makes small, generic changes; these are the bugs a reviewer would try on purpose (a
secret put into a message, a guard switched off). Results: tests/MUTATION.md, "SECURITY.md's claims".
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(".git", ".venv*", "mutants", ".tools", ".demo", "bench", "__pycache__", ".*_cache")

CASES: list[tuple[str, str, str, str, list[str]]] = [
    # (SECURITY.md's claim, file, what the code says, the bug that would break the claim, the tests that must fail)
    (
        "no secret in a store resource's outputs or state (Vault)",
        "components/providers/vault_secret.py",
        'outs = p.model_dump(exclude={"data"})',
        "outs = p.model_dump()",
        ["tests/components/providers/test_vault_secret.py"],
    ),
    (
        "no secret in a store resource's outputs or state (Secrets Manager)",
        "components/providers/secretsmanager_secret.py",
        'outs = p.model_dump(exclude={"data"})',
        "outs = p.model_dump()",
        ["tests/components/providers/test_secretsmanager_secret.py"],
    ),
    (
        "a managed client's secret never enters state",
        "components/providers/api_client.py",
        '            "client_id": client_id,\n',
        '            "client_id": client_id,\n            "copy": secret,\n',
        ["tests/components/providers/test_api_client.py"],
    ),
    (
        "config messages are rebuilt from the location, never quote input values",
        "components/config.py",
        'lines.append(f"{key}: {_fix(err, key)}" if key else _fix(err, key))',
        "lines.append(str(exc))",
        ["tests/components/test_config.py", "tests/hardening/test_leaks.py"],
    ),
    (
        "no secret in a repr (the token)",
        "components/clients/commercetools.py",
        "access_token: str = field(repr=False)",
        "access_token: str = field(repr=True)",
        ["tests/components/clients/test_commercetools.py"],
    ),
    (
        "pr-summary masks credentials from the job's environment",
        "automation/redaction.py",
        "if SECRET_ENV_RE.search(k) and not NOT_SECRET_ENV_RE.search(k)",
        "if False",
        ["tests/automation/pr_summary/test_preview.py", "tests/automation/test_redaction.py"],
    ),
    (
        "credentials go only to official, loopback or operator-allowed hosts",
        "components/config.py",
        "return host in official or is_loopback(host) or host in allowed",
        "return True",
        ["tests/components/test_config.py"],
    ),
    (
        "VAULT_SKIP_VERIFY is not honoured",
        "components/clients/vault.py",
        "verify=cacert or True",
        "verify=False if os.environ.get('VAULT_SKIP_VERIFY') else (cacert or True)",
        ["tests/components/clients/test_vault_tls.py"],
    ),
    (
        "a value owned by someone else is never overwritten (Vault)",
        "components/providers/vault_secret.py",
        "if verdict.allowed:",
        "if True:",
        ["tests/components/providers/test_vault_secret.py"],
    ),
    (
        "a value owned by someone else is never overwritten (Secrets Manager)",
        "components/providers/secretsmanager_secret.py",
        "if ownership.decide(claim, owner=p.owner, connector=p.connector, writer=writer).allowed:",
        "if True:",
        ["tests/components/providers/test_secretsmanager_secret.py"],
    ),
    (
        "the writer rule: only the last writer deletes",
        "components/providers/secretsmanager_secret.py",
        "or not ownership.Claim.of(found.tags).written_by(id_):",
        ":",
        ["tests/components/providers/test_secretsmanager_secret.py"],
    ),
    (
        "a value owned by someone else is never overwritten (the rule every writer applies)",
        "components/ownership.py",
        "if claim.ours and claim.stack == owner and claim.connector == connector:",
        "if claim.ours:",
        [
            "tests/components/test_ownership.py",
            "tests/components/providers/test_vault_secret.py",
            "tests/components/providers/test_secretsmanager_secret.py",
            "tests/components/providers/test_publications.py",
        ],
    ),
    (
        "check-and-set on Vault updates",
        "components/providers/vault_secret.py",
        "cas=version)",
        "cas=None)",
        ["tests/components/providers/test_vault_secret.py"],
    ),
    (
        "a Secrets Manager version that does not read back is never made current",
        "components/providers/secretsmanager_secret.py",
        "if staged is None or not hmac.compare_digest(remote_digest(salt, staged.value), data_digest):",
        "if staged is None:",
        ["tests/components/providers/test_secretsmanager_secret.py"],
    ),
    (
        "nothing is stored before the credential obtained a token (up refuses)",
        "components/providers/credential_check.py",
        "if failed and strict:",
        "if False:",
        ["tests/components/providers/test_credential_check.py"],
    ),
    (
        "a token granted without a requested scope fails the check",
        "components/providers/credential_check.py",
        "    if missing:\n",
        "    if False:\n",
        ["tests/components/providers/test_credential_check.py"],
    ),
    (
        "rotation never deletes a client the store may already hold",
        "components/providers/api_client.py",
        'if step == "set" and self._store_holds(p, settings, client_id) is not False:',
        "if False:",
        ["tests/components/providers/test_api_client.py"],
    ),
    (
        "a rotation resumed after a crash goes on with the client it set, never a second one",
        "automation/steps.py",
        "            if pair_works(ct, configured, config_secret(), scopes):",
        "            if False:",
        ["tests/automation/test_steps.py"],
    ),
    (
        "a client a crashed rotation made before `set` (its secret lost) is deleted, not left behind",
        "automation/steps.py",
        '        ct.delete_api_client(admin, project_key, leftover["id"])  # made by a crashed run before `set`',
        "        pass",
        ["tests/automation/test_steps.py"],
    ),
    (
        "webhook bodies are signed with the connector's key",
        "components/clients/webhook.py",
        "HEADER_SIGNATURE: sign(signing_key,",
        "HEADER_SIGNATURE: sign('x' * 16,",
        ["tests/components/clients/test_webhook.py"],
    ),
    (
        "the token request's failures never carry the secret",
        "components/clients/commercetools.py",
        'last = UnreachableError(f"{what}: {_host(url)} did not answer within {self._timeout[1]:g}s")',
        'last = UnreachableError(f"{what}: {_host(url)} did not answer within {self._timeout[1]:g}s {kwargs}")',
        ["tests/hardening/test_leaks.py"],
    ),
    (
        "the token request's connection errors never carry the secret",
        "components/clients/commercetools.py",
        'f"{what}: cannot connect to {_host(url)} ({_dns_hint(connection_problem(exc))})"',
        'f"{what}: cannot connect to {_host(url)} ({_dns_hint(connection_problem(exc))}) {kwargs}"',
        ["tests/hardening/test_leaks.py"],
    ),
]


# Options only the Pulumi engine applies (which outputs it encrypts in state): their tests drive the real CLI.
WALKING_SKELETON = "tests/e2e/test_walking_skeleton.py::test_up_stores_secret_second_up_is_noop_destroy_cleans_up"
ENGINE_CASES: list[tuple[str, str, str, str, list[str]]] = [
    (
        "the credential check's credentials are encrypted in state",
        "components/providers/credential_check.py",
        'additional_secret_outputs=["connectors"]',
        "additional_secret_outputs=[]",
        [WALKING_SKELETON],
    ),
    (
        "a store's digest (an HMAC of the secret) is encrypted in state (Vault)",
        "components/providers/vault_secret.py",
        'additional_secret_outputs=["data", "digest"]',
        'additional_secret_outputs=["data"]',
        [WALKING_SKELETON],
    ),
    (
        "a store's digest (an HMAC of the secret) is encrypted in state (Secrets Manager)",
        "components/providers/secretsmanager_secret.py",
        'additional_secret_outputs=["data", "digest"]',
        'additional_secret_outputs=["data"]',
        ["tests/e2e/test_stores.py::test_secrets_manager_lifecycle"],
    ),
    (
        "a managed client's store digest is encrypted in state",
        "components/providers/api_client.py",
        'additional_secret_outputs=["store_digest"]',
        "additional_secret_outputs=[]",
        ["tests/e2e/test_rotation.py::test_managed_create_status_dry_run_and_rotate"],
    ),
]


def pytest(work: Path, tests: list[str], *, engine: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:xdist",
            "-m",
            "engine" if engine else "not engine",
            *tests,
        ],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )


def main() -> int:
    # The claims' tests must pass on the code as it is: otherwise a failure below would prove nothing.
    for engine, cases in ((False, CASES), (True, ENGINE_CASES)):
        every = sorted({t for *_, tests in cases for t in tests})
        baseline = pytest(ROOT, every, engine=engine)
        if baseline.returncode != 0:
            print("the claims' tests fail without any mutation:\n" + baseline.stdout[-3000:])
            return 1
    missed = 0
    tried = [(False, case) for case in CASES] + [(True, case) for case in ENGINE_CASES]
    for engine, (claim, path, code, bug, tests) in tried:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / "tree"
            # links copied as links: ctp_credentials/ then points into the copy, where the bug is
            shutil.copytree(ROOT, work, symlinks=True, ignore=SKIP)
            (work / ".venv").symlink_to(ROOT / ".venv")
            target = work / path
            text = target.read_text()
            if text.count(code) != 1:
                print(f"STALE  {claim}: {path} no longer says {code!r} once; update this case")
                missed += 1
                continue
            target.write_text(text.replace(code, bug))
            proc = pytest(work, tests, engine=engine)
            failed = next((line[7:] for line in proc.stdout.splitlines() if line.startswith("FAILED ")), "")
            caught = proc.returncode == 1 and failed
            missed += not caught
            print(f"{'CAUGHT' if caught else 'MISSED'} {claim}: {failed or proc.stdout.strip().splitlines()[-1:]}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
