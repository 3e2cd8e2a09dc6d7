#!/usr/bin/env bash
# Build the pinned Pulumi CLI + Python language host from the Go module proxy into a per-version cache
# outside the clone, or reuse one that is already there (or a `pulumi` on PATH at the pinned version).
# Prints the bin directory on stdout; everything else goes to stderr.
#
# The pin lives in requirements.txt (`pulumi==X.Y.Z`): the Python SDK and the engine are always one release.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=$(sed -n 's/^pulumi==\([0-9.]*\).*/\1/p' "$here/requirements.txt")
[ -n "$version" ] || { echo "pulumi-engine: no 'pulumi==X.Y.Z' pin in requirements.txt" >&2; exit 2; }

cache_root=${CTP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ctp-credentials}
dest="$cache_root/pulumi/v$version"
bin="$dest/bin"

if [ -n "${CTP_PULUMI_BIN:-}" ]; then  # an engine the user points at (README): use it, build nothing
  [ -x "$CTP_PULUMI_BIN/pulumi" ] || { echo "pulumi-engine: no pulumi in CTP_PULUMI_BIN=$CTP_PULUMI_BIN" >&2; exit 2; }
  echo "$CTP_PULUMI_BIN"; exit 0
fi

built() { [ -f "$bin/.complete" ] && [ "$("$bin/pulumi" version 2>/dev/null)" = "v$version" ]; }
if built; then
  echo "$bin"; exit 0
fi

# A pulumi already on PATH at the pinned version, with its language host beside it, is good enough.
if onpath=$(command -v pulumi 2>/dev/null) && [ "$("$onpath" version 2>/dev/null)" = "v$version" ] \
   && [ -x "$(dirname "$onpath")/pulumi-language-python" ]; then
  dirname "$onpath"; exit 0
fi

command -v go >/dev/null || { echo "pulumi-engine: Go is needed to build the Pulumi CLI (see README)" >&2; exit 2; }
go_minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ -n "$go_minor" ] && [ "$go_minor" -lt 23 ]; then  # -checklinkname (below) exists from Go 1.23
  echo "pulumi-engine: Go >= 1.23 is needed to build the Pulumi CLI, found $(go env GOVERSION)" >&2; exit 2
fi

# One build per version at a time (two clones, or `make demo` beside `make test`): the others wait, then reuse.
mkdir -p "$dest"
if command -v flock >/dev/null; then
  exec 9>"$dest/.build.lock"
  flock 9
  if built; then echo "$bin"; exit 0; fi
fi

echo "pulumi-engine: building Pulumi v$version from the Go module proxy into $dest (first time only)" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# pkg/v3's go.mod carries replace directives that a dependent module does not inherit: repeat the public
# ones in a small wrapper module (`go install pkg@version` refuses modules with replaces).
cat >"$work/go.mod" <<MOD
module ctp-credentials/pulumi-engine

go 1.21

require (
	github.com/pulumi/pulumi/pkg/v3 v$version
	github.com/pulumi/pulumi/sdk/v3 v$version
)

replace github.com/sergi/go-diff => github.com/sergi/go-diff v1.1.0

replace github.com/xanzy/ssh-agent => github.com/pulumi/ssh-agent v0.5.1
MOD
cat >"$work/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
	_ "github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python"
)
GO
cd "$work"
export GOFLAGS=-mod=mod
go mod tidy >&2
# -checklinkname=0: this release's dependency github.com/pgavlin/text links to internal/bytealg, which
# Go >= 1.23 refuses by default ("invalid reference to internal/bytealg.MaxLen").
flags=(-trimpath -tags osusergo,grpcnotrace
       -ldflags "-w -s -checklinkname=0 -X github.com/pulumi/pulumi/pkg/v3/version.Version=v$version
                 -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version")
mkdir -p "$work/out"
CGO_ENABLED=0 go build "${flags[@]}" -o "$work/out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
CGO_ENABLED=0 go build "${flags[@]}" -o "$work/out/pulumi-language-python" \
  github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python >&2

sdk=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
# Module-cache files are read-only and carry no exec bit: copy with the mode the engine needs.
install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$work/out/"
for f in pulumi-resource-pulumi-python pulumi-analyzer-policy-python; do
  [ -f "$sdk/python/dist/$f" ] && install -m 0755 "$sdk/python/dist/$f" "$work/out/"
done

rm -rf "$bin.tmp" && mv "$work/out" "$bin.tmp" && rm -rf "$bin" && mv "$bin.tmp" "$bin"
# The Automation API refuses a CLI whose `pulumi version` is empty: prove the stamp took.
[ "$("$bin/pulumi" version)" = "v$version" ] || { echo "pulumi-engine: built CLI reports the wrong version" >&2; exit 1; }
touch "$bin/.complete"
echo "$bin"
