#!/usr/bin/env bash
# Builds promtool from the Prometheus Go module pinned in ./promtool/go.mod and caches it under
#   ${SWITCHBOARD_CACHE_DIR:-~/.cache/switchboard}/promtool/<version>/bin/promtool
# Idempotent: does nothing when it is there. Progress goes to stderr; the last stdout line is the
# binary's path. Go's caches are shared with the other Go tool builds (test/controlplane/go-build.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../controlplane/go-build.sh"

version=$(module_version "$here/promtool/go.mod" github.com/prometheus/prometheus)
if [[ -z $version ]]; then
  echo "build-promtool.sh: cannot read the github.com/prometheus/prometheus version from promtool/go.mod" >&2
  exit 1
fi
bin_dir="$go_cache_root/promtool/${version#v}/bin"

have_all() { [[ -x $bin_dir/promtool ]]; }

build() { # <stage dir>
  # Stamped as Prometheus' release build does, so `promtool --version` names the release
  # (module v0.3XX.Y is Prometheus 3.XX.Y).
  local module_minor release
  module_minor=$(echo "$version" | cut -d. -f2)
  release="$((module_minor / 100)).$((module_minor % 100)).$(echo "$version" | cut -d. -f3)"
  echo "build-promtool.sh: building promtool $release ($version)" >&2
  # remove_all_sd leaves out the service-discovery plugins (AWS, Azure, GCE, ... SDKs): `check rules`
  # and `test rules` need none of them, and they are most of a cold build's downloads and compile time.
  (cd "$here/promtool" && go build -tags remove_all_sd \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=$release" -o "$1/promtool" \
    github.com/prometheus/prometheus/cmd/promtool)
}

go_build_cached promtool "$bin_dir" have_all build
echo "$bin_dir/promtool"
