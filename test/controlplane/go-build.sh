# What the repo's Go tool builds share (sourced, not run): test/controlplane/build.sh,
# test/tools/build-promtool.sh and scripts/cluster/node-binaries.sh. They build binaries from
# pinned Go modules into ${SWITCHBOARD_CACHE_DIR:-~/.cache/switchboard}/<name>/... once, with one
# Go module and build cache under that root (GOMODCACHE and GOCACHE are respected when set), so
# what one build compiled the next reuses.

go_cache_root=${SWITCHBOARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/switchboard}

module_version() { # <go.mod> <module path>: the version required, empty when none
  awk -v m="$2" '{ if ($1 == "require") { $1 = ""; $0 = $0 } }
    $1 == m && $2 ~ /^v/ { print $2; exit }' "$1"
}

# The kubernetes release build's version stamping (hack/lib/version.sh), so `kubectl version`,
# /version and the node's components report the real release.
k8s_ldflags() { # <k8s version, v1.X.Y>
  local minor flags="-s -w" pkg
  minor=$(echo "$1" | cut -d. -f2)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$1 -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  echo "$flags"
}

# go_build_cached <name> <bin dir> <have-all function> <build function>
# Does nothing when <have-all function> succeeds (unless GO_BUILD_FORCE=1). Otherwise, holding
# <cache root>/<name>/.build.lock (two test runs starting at once build once), checks again, then
# runs <build function> <stage dir> with Go's environment set and moves the stage dir to <bin dir>,
# so a killed build never leaves a half-filled <bin dir>. Progress goes to stderr.
go_build_cached() {
  local name=$1 bin_dir=$2 have_all=$3 build=$4
  [[ ${GO_BUILD_FORCE:-} != 1 ]] && "$have_all" && return 0
  mkdir -p "$go_cache_root/$name"
  exec 9>"$go_cache_root/$name/.build.lock"
  flock 9
  [[ ${GO_BUILD_FORCE:-} != 1 ]] && "$have_all" && return 0
  if ! command -v go >/dev/null 2>&1; then
    echo "$name: 'go' is not on PATH; install Go >= 1.26 (see docs/development.md)" >&2
    exit 1
  fi
  export GOMODCACHE=${GOMODCACHE:-$go_cache_root/go/mod}
  export GOCACHE=${GOCACHE:-$go_cache_root/go/build}
  export GOFLAGS="-trimpath -buildvcs=false -mod=readonly"
  export CGO_ENABLED=0
  export GOWORK=off
  local stage="$bin_dir.tmp.$$" start=$SECONDS
  # shellcheck disable=SC2064 # the stage dir is fixed now
  trap "rm -rf '$stage'" EXIT
  rm -rf "$stage"
  mkdir -p "$stage"
  "$build" "$stage"
  echo "$name: built after $((SECONDS - start))s (GOCACHE=$GOCACHE)" >&2
  rm -rf "$bin_dir"
  mv "$stage" "$bin_dir"
  trap - EXIT
}
