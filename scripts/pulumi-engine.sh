#!/usr/bin/env bash
# Build a Pulumi CLI from the Go module proxy into a per-version cache outside the clone, or reuse one that is
# already there (or a `pulumi` on PATH at that version with its official Python language host beside it).
# Prints the bin directory on stdout; everything else goes to stderr.
#
#   scripts/pulumi-engine.sh            the engine the project runs on: the version in .pulumi-version
#   scripts/pulumi-engine.sh 3.79.0     the official-binaries leg (README, "The Pulumi engine")
#
# Two kinds of build, because the Python language host left the sdk/v3 module after v3.79 and its new module is
# refused by the module proxy reachable here:
# - v3.79.0 and older: the CLI and the official language host, both from pkg/v3 and sdk/v3;
# - newer: the CLI alone, with the stand-in language host from testservers/standin/languagehost.py beside it (a named
#   stand-in, like the commercetools emulator; never installed for users). It runs in a small virtualenv of its
#   own inside the cache (the Pulumi SDK, for the gRPC stubs), so no clone's virtualenv is needed to use it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=${1:-$(tr -d ' \n' <"$here/.pulumi-version")}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "pulumi-engine: '$version' is not a version X.Y.Z" >&2; exit 2; }
minor=$(echo "$version" | cut -d. -f2)
official_host=false
[ "$(echo "$version" | cut -d. -f1)" -eq 3 ] && [ "$minor" -le 79 ] && official_host=true
sdk_version=$(sed -n 's/^pulumi==\([0-9.]*\).*/\1/p' "$here/requirements.txt")

cache_root=${CTP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ctp-credentials}
dest="$cache_root/pulumi/v$version"
bin="$dest/bin"

if [ -n "${CTP_PULUMI_BIN:-}" ]; then  # an engine the user points at (README): use it, build nothing
  [ -x "$CTP_PULUMI_BIN/pulumi" ] || { echo "pulumi-engine: no pulumi in CTP_PULUMI_BIN=$CTP_PULUMI_BIN" >&2; exit 2; }
  echo "$CTP_PULUMI_BIN"; exit 0
fi

# A pulumi already on PATH at this version, with its official language host beside it, is what users have.
if onpath=$(command -v pulumi 2>/dev/null) && [ "$("$onpath" version 2>/dev/null)" = "v$version" ] \
   && [ -x "$(dirname "$onpath")/pulumi-language-python" ] && [ "$(dirname "$onpath")" != "$bin" ]; then
  dirname "$onpath"; exit 0
fi

built() { [ -f "$bin/.complete" ] && [ "$("$bin/pulumi" version 2>/dev/null)" = "v$version" ]; }

# The stand-in host: its virtualenv (once per SDK version) and its code (whenever this checkout's copy differs).
install_stand_in() {
  local venv="$dest/host-venv" python=${PYTHON:-python3}
  if [ "$(cat "$venv/.sdk" 2>/dev/null)" != "$sdk_version" ]; then
    echo "pulumi-engine: preparing the stand-in language host (Pulumi SDK $sdk_version) in $venv" >&2
    rm -rf "$venv.tmp"
    "$python" -m venv "$venv.tmp" >&2
    "$venv.tmp/bin/python" -m pip install --quiet --disable-pip-version-check "pulumi==$sdk_version" >&2
    echo "$sdk_version" >"$venv.tmp/.sdk"
    rm -rf "$venv" && mv "$venv.tmp" "$venv"
  fi
  mkdir -p "$dest/host"
  if ! cmp -s "$here/testservers/standin/languagehost.py" "$dest/host/languagehost.py"; then
    cp "$here/testservers/standin/languagehost.py" "$dest/host/languagehost.py.tmp"
    mv "$dest/host/languagehost.py.tmp" "$dest/host/languagehost.py"
  fi
  cat >"$bin/pulumi-language-python.tmp" <<SH
#!/bin/sh
# ctp-credentials' stand-in for the official Python language host (testservers/standin/languagehost.py): see README.
exec "$venv/bin/python" "$dest/host/languagehost.py" --executor "$bin/pulumi-language-python-exec" "\$@"
SH
  chmod 0755 "$bin/pulumi-language-python.tmp"
  mv "$bin/pulumi-language-python.tmp" "$bin/pulumi-language-python"
}

# One build per version at a time (two clones, or `make demo` beside `make test`): the others wait, then reuse.
mkdir -p "$dest"
if command -v flock >/dev/null; then
  exec 9>"$dest/.build.lock"
  flock 9
fi
if built; then
  $official_host || install_stand_in
  echo "$bin"; exit 0
fi

command -v go >/dev/null || { echo "pulumi-engine: Go is needed to build the Pulumi CLI (see README)" >&2; exit 2; }
go_minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
need=$($official_host && echo 23 || echo 26)  # -checklinkname (3.79) exists from Go 1.23; v3.274's go line is 1.26
if [ -n "$go_minor" ] && [ "$go_minor" -lt "$need" ]; then
  echo "pulumi-engine: Go >= 1.$need is needed to build Pulumi v$version, found $(go env GOVERSION)" >&2; exit 2
fi

echo "pulumi-engine: building Pulumi v$version from the Go module proxy into $dest (first time only)" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# pkg/v3's go.mod carries replace directives that a dependent module does not inherit: repeat the public
# ones in a small wrapper module (`go install pkg@version` refuses modules with replaces).
if $official_host; then
  goline=1.21
  replaces="replace github.com/sergi/go-diff => github.com/sergi/go-diff v1.1.0
replace github.com/xanzy/ssh-agent => github.com/pulumi/ssh-agent v0.5.1"
  tools='_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
	_ "github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python"'
  # this release's dependency github.com/pgavlin/text links to internal/bytealg, which Go >= 1.23 refuses
  linkflags="-checklinkname=0"
else
  goline=1.26.6
  replaces="replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
replace golang.org/x/text => golang.org/x/text v0.41.0"
  tools='_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"'
  linkflags=""
fi
cat >"$work/go.mod" <<MOD
module ctp-credentials/pulumi-engine

go $goline

require (
	github.com/pulumi/pulumi/pkg/v3 v$version
	github.com/pulumi/pulumi/sdk/v3 v$version
)

$replaces
MOD
cat >"$work/tools.go" <<GO
//go:build tools

package tools

import (
	$tools
)
GO
cd "$work"
export GOFLAGS=-mod=mod
go mod tidy >&2
flags=(-trimpath -tags osusergo,grpcnotrace
       -ldflags "-w -s $linkflags -X github.com/pulumi/pulumi/pkg/v3/version.Version=v$version
                 -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version")
mkdir -p "$work/out"
CGO_ENABLED=0 go build "${flags[@]}" -o "$work/out/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
if $official_host; then
  CGO_ENABLED=0 go build "${flags[@]}" -o "$work/out/pulumi-language-python" \
    github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python >&2
fi

sdk=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
# Module-cache files are read-only and carry no exec bit: copy with the mode the engine needs. Beside the CLI,
# not on PATH: found only on PATH, the current CLI warns about each on every command.
install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$work/out/"
for f in pulumi-resource-pulumi-python pulumi-analyzer-policy-python; do
  [ -f "$sdk/python/dist/$f" ] && install -m 0755 "$sdk/python/dist/$f" "$work/out/"
done

rm -rf "$bin.tmp" && mv "$work/out" "$bin.tmp" && rm -rf "$bin" && mv "$bin.tmp" "$bin"
# The Automation API refuses a CLI whose `pulumi version` is empty: prove the stamp took.
[ "$("$bin/pulumi" version)" = "v$version" ] || { echo "pulumi-engine: built CLI reports the wrong version" >&2; exit 1; }
$official_host || install_stand_in
touch "$bin/.complete"
echo "$bin"
