"""`python -m ctp_credentials <command>`: the commands pipelines call.

  rotate      --stack NAME [--connector NAME ...] [--dry-run] [--json]
  status      --stack NAME [--json]
  pr-summary  --stack NAME [--out FILE] [--policy-pack DIR] [--policy-pack-config FILE] [--json]
  migrate-state --stack NAME (once, for stacks written before the ctp_credentials import root: CHANGELOG)
  policy-pack (prints the directory of the policy pack, for `pulumi preview --policy-pack "$(...)"`)

Exit codes (stable): 0 done; 1 the operation failed (the output says which step and what to do; for
pr-summary: the preview failed or a mandatory policy is violated); 2 bad usage or a stack that cannot be
opened. The contract, with the JSON shapes: examples/pipelines/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ctp_credentials.components.errors import CredentialsError

from . import migrate, policy_pack, pr_summary, rotate, status, steps
from .workspace import ProjectStack, StackError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ctp_credentials", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="the Pulumi project directory (default: .)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_rot = sub.add_parser("rotate", help="rotate API clients now, without downtime")
    p_rot.add_argument("--stack", required=True)
    p_rot.add_argument("--connector", action="append", help="only this connector (repeatable; default: all)")
    p_rot.add_argument("--dry-run", action="store_true", help="show what would rotate; change nothing")
    p_rot.add_argument("--json", action="store_true", help="machine-readable output")
    p_st = sub.add_parser("status", help="each connector's client age, next rotation and expiry")
    p_st.add_argument("--stack", required=True)
    p_st.add_argument("--json", action="store_true", help="machine-readable output")
    p_pr = sub.add_parser("pr-summary", help="preview with the policy pack and summarise it as Markdown for a PR")
    p_pr.add_argument("--stack", required=True)
    p_pr.add_argument("--out", type=Path, help="write the PR comment here (Markdown, cut to 65,536 characters)")
    p_pr.add_argument(
        "--policy-pack", type=Path, default=policy_pack.PACK_DIR, help="policy pack directory (default: this pack)"
    )
    p_pr.add_argument("--policy-pack-config", type=Path, help="the pack's config (JSON); default: its defaults")
    p_pr.add_argument("--json", action="store_true", help="print the whole summary as JSON instead of Markdown")
    p_mig = sub.add_parser("migrate-state", help="rewrite providers pickled under the old module names (once)")
    p_mig.add_argument("--stack", required=True)
    sub.add_parser("policy-pack", help="print the policy pack's directory (checking the engine's Python runs it)")
    args = parser.parse_args(argv)
    if args.command == "policy-pack":
        return policy_pack.command()
    if not args.cwd.is_dir():
        parser.error(f"--cwd {args.cwd}: no such directory")
    if args.command == "pr-summary":
        if args.out is not None and args.out.is_dir():
            parser.error(f"--out {args.out}: is a directory; give the comment's file name")
        if not (args.policy_pack / "PulumiPolicy.yaml").is_file():
            parser.error(f"--policy-pack {args.policy_pack}: no PulumiPolicy.yaml in that directory")
        if args.policy_pack_config is not None and not args.policy_pack_config.is_file():
            parser.error(f"--policy-pack-config {args.policy_pack_config}: no such file")

    try:
        stack = ProjectStack(args.stack, args.cwd)
        _check_capacity(stack, args.command)
        if args.command == "pr-summary":
            return pr_summary.command(
                stack,
                policy_pack=args.policy_pack,
                policy_pack_config=args.policy_pack_config,
                out=args.out,
                as_json_output=args.json,
            )
        if args.command == "migrate-state":
            return migrate.command(stack)
        if args.command == "status":
            rows = status.stack_status(stack)
            print(json.dumps(status.as_json(rows), indent=2) if args.json else status.render_table(rows))
            return 0
        try:
            report = rotate.Rotation(stack, args.connector, dry_run=args.dry_run).run()
            failed = False
        except rotate.RotationFailed as exc:
            report, failed = exc.report, True
        if args.json:
            print(json.dumps(steps.as_json(report, ok=not failed, dry_run=args.dry_run), indent=2))
        else:
            for r in report:
                print(steps.render(r), file=sys.stderr if r.error else sys.stdout)
        return 1 if failed else 0
    except (StackError, CredentialsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _check_capacity(stack: ProjectStack, command: str) -> None:
    """Before the engine runs: above its limit it fails with an error that names neither a key nor the limit."""
    too_big = stack.capacity_problem()
    if too_big is not None and command not in ("status", "migrate-state"):
        raise StackError(too_big)
    if too_big is not None:  # these read (and write) state only: still done, with the warning
        print(f"warning: {too_big}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
