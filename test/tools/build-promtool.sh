#!/usr/bin/env bash
# Builds promtool from the Prometheus Go module pinned in ./promtool/go.mod and caches it under
#   ${SWITCHBOARD_CACHE_DIR:-~/.cache/switchboard}/promtool/<version>/bin/promtool
# Idempotent: does nothing when it is there. Progress goes to stderr; the last stdout line is the
# binary's path. Go's caches are shared with test/controlplane/build.sh.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=$(awk '$1 == "github.com/prometheus/prometheus" && $2 ~ /^v/ { print $2; exit }' "$here/promtool/go.mod")
if [[ -z $version ]]; then
  echo "build-promtool.sh: cannot read the github.com/prometheus/prometheus version from promtool/go.mod" >&2
  exit 1
fi

cache_root=${SWITCHBOARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/switchboard}
out_dir="$cache_root/promtool/${version#v}"
bin="$out_dir/bin/promtool"
if [[ -x $bin ]]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$cache_root/promtool"
exec 9>"$cache_root/promtool/.build.lock"
flock 9
if [[ -x $bin ]]; then
  echo "$bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "build-promtool.sh: 'go' is not on PATH; install Go >= 1.26 (see docs/development.md)" >&2
  exit 1
fi

export GOMODCACHE=${GOMODCACHE:-$cache_root/go/mod}
export GOCACHE=${GOCACHE:-$cache_root/go/build}
export GOFLAGS="-trimpath -buildvcs=false -mod=readonly"
export CGO_ENABLED=0
export GOWORK=off

# Stamped as Prometheus' release build does, so `promtool --version` names the release
# (module v0.3XX.Y is Prometheus 3.XX.Y).
module_minor=$(echo "$version" | cut -d. -f2)
release="$((module_minor / 100)).$((module_minor % 100)).$(echo "$version" | cut -d. -f3)"
ldflags="-s -w -X github.com/prometheus/common/version.Version=$release"

start=$SECONDS
echo "build-promtool.sh: building promtool $release ($version)" >&2
stage="$out_dir/bin.tmp.$$"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"
# remove_all_sd leaves out the service-discovery plugins (AWS, Azure, GCE, ... SDKs): `check rules`
# and `test rules` need none of them, and they are most of a cold build's downloads and compile time.
(cd "$here/promtool" && go build -tags remove_all_sd -ldflags "$ldflags" -o "$stage/promtool" \
  github.com/prometheus/prometheus/cmd/promtool)
rm -rf "$out_dir/bin"
mv "$stage" "$out_dir/bin"
trap - EXIT
echo "build-promtool.sh: built after $((SECONDS - start))s" >&2
echo "$bin"
