#!/usr/bin/env bash
# Builds the node's Kubernetes binaries (kubelet, kube-controller-manager,
# kube-scheduler, kube-proxy) from the same pinned k8s.io/kubernetes module as
# the test control plane (test/controlplane/kube/go.mod `tool`s), and the pause
# image's static binary from build/pause/linux/pause.c in that module. Cached under
#   ${SWITCHBOARD_CACHE_DIR:-~/.cache/switchboard}/node/<k8s version>/bin
# with the Go caches of the control plane build (test/controlplane/go-build.sh), so the
# packages the API server already compiled are reused. Idempotent; progress on stderr;
# the last stdout line is the bin dir.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$repo/test/controlplane/go-build.sh"
kube_mod="$repo/test/controlplane/kube"
k8s_version=$(module_version "$kube_mod/go.mod" k8s.io/kubernetes)
[[ -n $k8s_version ]] || { echo "node-binaries.sh: no k8s.io/kubernetes version in $kube_mod/go.mod" >&2; exit 1; }
bin_dir="$go_cache_root/node/${k8s_version#v}/bin"

have_all() {
  local b
  for b in kubelet kube-controller-manager kube-scheduler kube-proxy pause; do
    [[ -x $bin_dir/$b ]] || return 1
  done
}

build() { # <stage dir>
  echo "node-binaries.sh: building kubelet, kube-controller-manager, kube-scheduler, kube-proxy $k8s_version" >&2
  (cd "$kube_mod" && go build -ldflags "$(k8s_ldflags "$k8s_version")" -o "$1/" \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-proxy)
  local pause_c
  pause_c="$(cd "$kube_mod" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
  gcc -Os -static -DVERSION="$k8s_version" -o "$1/pause" "$pause_c"
  strip "$1/pause"
}

go_build_cached node "$bin_dir" have_all build
echo "$bin_dir"
