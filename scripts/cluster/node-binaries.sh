#!/usr/bin/env bash
# Builds the node's Kubernetes binaries (kubelet, kube-controller-manager,
# kube-scheduler, kube-proxy) from the same pinned k8s.io/kubernetes module as
# the test control plane (test/controlplane/kube/go.mod `tool`s), and the pause
# image's static binary from build/pause/linux/pause.c in that module. Cached under
#   ${SWITCHBOARD_CACHE_DIR:-~/.cache/switchboard}/node/<k8s version>/bin
# Idempotent; progress on stderr; the last stdout line is the bin dir.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kube_mod="$repo/test/controlplane/kube"
k8s_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$kube_mod/go.mod")
[[ -n $k8s_version ]] || { echo "node-binaries.sh: no k8s.io/kubernetes version in $kube_mod/go.mod" >&2; exit 1; }

cache_root=${SWITCHBOARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/switchboard}
bin_dir="$cache_root/node/${k8s_version#v}/bin"
bins=(kubelet kube-controller-manager kube-scheduler kube-proxy pause)
have_all() { for b in "${bins[@]}"; do [[ -x $bin_dir/$b ]] || return 1; done; }

if have_all; then echo "$bin_dir"; exit 0; fi
mkdir -p "$cache_root/node"
exec 9>"$cache_root/node/.build.lock"
flock 9
if have_all; then echo "$bin_dir"; exit 0; fi

export GOMODCACHE=${GOMODCACHE:-$cache_root/go/mod}
export GOCACHE=${GOCACHE:-$cache_root/go/build}
export GOFLAGS="-trimpath -buildvcs=false -mod=readonly"
export CGO_ENABLED=0
export GOWORK=off

minor=$(echo "$k8s_version" | cut -d. -f2)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

stage="$bin_dir.tmp.$$"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"
start=$SECONDS
echo "node-binaries.sh: building kubelet, kube-controller-manager, kube-scheduler, kube-proxy $k8s_version" >&2
(cd "$kube_mod" && go build -ldflags "$ldflags" -o "$stage/" \
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-proxy)
pause_c="$(cd "$kube_mod" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
gcc -Os -static -DVERSION="$k8s_version" -o "$stage/pause" "$pause_c"
strip "$stage/pause"
echo "node-binaries.sh: built after $((SECONDS - start))s" >&2
rm -rf "$bin_dir"
mv "$stage" "$bin_dir"
trap - EXIT
echo "$bin_dir"
