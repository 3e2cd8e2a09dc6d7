"""`python -m ctp_credentials <command>`: the commands pipelines call (rotate, status, pr-summary)."""

from __future__ import annotations

from ctp_credentials.automation.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
