#!/usr/bin/env bash
# Builds the test control plane binaries (kube-apiserver, kubectl, etcd) and
# the helm CLI the chart tests use from Go modules through the module proxy,
# envtest-style, and caches them under
#   ${SWITCHBOARD_CACHE_DIR:-~/.cache/switchboard}/controlplane/<k8s>-etcd<etcd>-helm<helm>/bin
# The versions come from ./kube/go.mod (k8s.io/kubernetes), ./etcd/go.mod
# (go.etcd.io/etcd/server/v3) and ./helm/go.mod (helm.sh/helm/v3). Idempotent:
# when the four binaries are already there it does nothing. Progress goes to
# stderr; the last stdout line is the bin dir.
#
# Environment (see go-build.sh, shared with the other Go tool builds):
#   SWITCHBOARD_CACHE_DIR  cache root (default: ${XDG_CACHE_HOME:-~/.cache}/switchboard)
#   GOMODCACHE, GOCACHE    respected when set; otherwise <cache root>/go/mod and
#                          <cache root>/go/build, so a rebuild after a version bump is incremental.
#   GO_BUILD_FORCE=1       rebuild even if the binaries exist.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/go-build.sh"

k8s_version=$(module_version "$here/kube/go.mod" k8s.io/kubernetes)
etcd_version=$(module_version "$here/etcd/go.mod" go.etcd.io/etcd/server/v3)
helm_version=$(module_version "$here/helm/go.mod" helm.sh/helm/v3)
# The k8s.io libraries helm links, not the control plane's: helm's own release
# build derives the Kubernetes version it assumes from them.
helm_client_go=$(module_version "$here/helm/go.mod" k8s.io/client-go)
if [[ -z $k8s_version || -z $etcd_version || -z $helm_version || -z $helm_client_go ]]; then
  echo "build.sh: cannot read the pinned versions from kube/go.mod, etcd/go.mod and helm/go.mod" >&2
  exit 1
fi

bin_dir="$go_cache_root/controlplane/${k8s_version#v}-etcd${etcd_version#v}-helm${helm_version#v}/bin"

have_all() {
  [[ -x $bin_dir/kube-apiserver && -x $bin_dir/kubectl && -x $bin_dir/etcd && -x $bin_dir/helm ]]
}

build() { # <stage dir>
  local stage=$1 start=$SECONDS
  # Same stamping as helm's Makefile, so `helm version` reports the release and
  # `helm template`/`helm lint` assume the Kubernetes minor of its k8s.io libraries
  # (client-go v0.X.Y -> 1.X) instead of the 1.20 compiled into the source.
  local helm_k8s_minor pkg
  helm_k8s_minor=$(echo "$helm_client_go" | cut -d. -f2)
  local helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
  helm_ldflags+=" -X helm.sh/helm/v3/internal/version.metadata="
  helm_ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    helm_ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$helm_k8s_minor"
  done

  echo "build.sh: building etcd $etcd_version" >&2
  (cd "$here/etcd" && go build -ldflags "-s -w" -o "$stage/etcd" .)
  echo "build.sh: etcd built after $((SECONDS - start))s; building kube-apiserver and kubectl $k8s_version" >&2
  (cd "$here/kube" && go build -ldflags "$(k8s_ldflags "$k8s_version")" -o "$stage/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl)
  echo "build.sh: kube-apiserver and kubectl built after $((SECONDS - start))s; building helm $helm_version" >&2
  (cd "$here/helm" && go build -ldflags "$helm_ldflags" -o "$stage/helm" helm.sh/helm/v3/cmd/helm)
}

go_build_cached controlplane "$bin_dir" have_all build
echo "$bin_dir"
