#!/usr/bin/env bash
# Build the pinned actionlint (the GitHub Actions workflow linter) from the Go module proxy into a per-version
# cache outside the clone, or reuse the one already there. Prints the binary's path on stdout; everything else
# goes to stderr. Used by tests/automation/test_pipelines.py to lint examples/pipelines/.
#
# v1.7.7 is the newest release whose go.mod asks for no newer Go than the project needs (go 1.18; later
# releases need Go 1.25). Check what the proxy serves with: go list -m -versions github.com/rhysd/actionlint
set -euo pipefail

version=v1.7.7

cache_root=${CTP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ctp-credentials}
bin="$cache_root/actionlint/$version/bin"

if [ -f "$bin/.complete" ] && [ -x "$bin/actionlint" ]; then
  echo "$bin/actionlint"; exit 0
fi

command -v go >/dev/null || { echo "actionlint: Go is needed to build actionlint (see README)" >&2; exit 2; }

# One build at a time (two test runs on one machine): the others wait, then reuse it.
mkdir -p "$(dirname "$bin")"
if command -v flock >/dev/null; then
  exec 9>"$(dirname "$bin")/.build.lock"
  flock 9
  if [ -f "$bin/.complete" ] && [ -x "$bin/actionlint" ]; then echo "$bin/actionlint"; exit 0; fi
fi

echo "actionlint: building actionlint $version from the Go module proxy into $bin (first time only)" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# `go install pkg@version` builds in module mode with the release's own go.mod and go.sum: no wrapper needed.
GOBIN="$work/out" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" \
  "github.com/rhysd/actionlint/cmd/actionlint@$version" >&2
rm -rf "$bin.tmp" && mv "$work/out" "$bin.tmp" && rm -rf "$bin" && mv "$bin.tmp" "$bin"
"$bin/actionlint" -version >&2 || { echo "actionlint: the built binary does not run" >&2; exit 1; }
touch "$bin/.complete"
echo "$bin/actionlint"
