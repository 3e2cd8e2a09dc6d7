"""Post `pr-summary`'s comment on the merge request of a GitLab pipeline, one note per stack, updated in place.

    python3 examples/pipelines/gitlab_mr_note.py --stack prod pr-summary-prod.md

The note is found again by the marker `pr-summary` puts on its last line (`<!-- ctp-pr-summary stack=NAME -->`).
Standard library only, so it runs in any image with Python 3. Reads the job's CI_API_V4_URL, CI_PROJECT_ID and
CI_MERGE_REQUEST_IID, and GITLAB_NOTE_TOKEN: a project access token (Reporter, scope `api`, with an expiry) in
a masked CI/CD variable; CI_JOB_TOKEN cannot write notes. Exit codes: 0 posted or updated, 1 the API refused
(the message says what it answered), 2 usage or a missing variable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

MARKER = "<!-- ctp-pr-summary stack={stack} -->"
TIMEOUT = 30


class GitLab:
    def __init__(self, api: str, project: str, token: str) -> None:
        self.base = f"{api.rstrip('/')}/projects/{urllib.parse.quote(project, safe='')}"
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[Any, dict[str, str]]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - the URL is the job's own CI_API_V4_URL
            f"{self.base}{path}", data=data, method=method
        )
        request.add_header("PRIVATE-TOKEN", self.token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return json.loads(response.read() or b"null"), dict(response.headers.items())

    def notes(self, iid: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = "1"
        while page:
            batch, headers = self.call("GET", f"/merge_requests/{iid}/notes?per_page=100&sort=asc&page={page}")
            found += batch
            page = headers.get("X-Next-Page", "")
        return found


def upsert(gitlab: GitLab, iid: str, stack: str, body: str) -> str:
    """Update this stack's note if there is one, else create it. Returns "updated" or "created"."""
    marker = MARKER.format(stack=stack)
    mine = next((n for n in gitlab.notes(iid) if not n.get("system") and marker in (n.get("body") or "")), None)
    if mine is not None:
        gitlab.call("PUT", f"/merge_requests/{iid}/notes/{mine['id']}", {"body": body})
        return "updated"
    gitlab.call("POST", f"/merge_requests/{iid}/notes", {"body": body})
    return "created"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("summary", type=Path, help="the file pr-summary wrote with --out")
    args = parser.parse_args(argv)
    names = ("CI_API_V4_URL", "CI_PROJECT_ID", "CI_MERGE_REQUEST_IID", "GITLAB_NOTE_TOKEN")
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        print(f"error: {', '.join(missing)} not set (a merge request pipeline with GITLAB_NOTE_TOKEN)", file=sys.stderr)
        return 2
    body = args.summary.read_text(encoding="utf-8")
    gitlab = GitLab(os.environ["CI_API_V4_URL"], os.environ["CI_PROJECT_ID"], os.environ["GITLAB_NOTE_TOKEN"])
    try:
        done = upsert(gitlab, os.environ["CI_MERGE_REQUEST_IID"], args.stack, body)
    except urllib.error.HTTPError as exc:
        print(f"error: GitLab answered {exc.code} {exc.reason} to {exc.url}", file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        print(f"error: cannot reach GitLab: {exc.reason}", file=sys.stderr)
        return 1
    print(f"{done} the merge request note for stack {args.stack}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
