#!/usr/bin/env bash
# npm run test:cluster: the e2e suite test/e2e/cluster on a real cluster.
#
# With KUBECONFIG set, the suite runs against that cluster as it is (kind, say); the
# images named by SWITCHBOARD_IMAGE (default switchboard:local) and SWITCHBOARD_STORE_IMAGE
# (default switchboard-e2e-store:local, `images.sh store`) must already be on its nodes.
# Without it, this builds everything and runs a single node here: packages, dockerd,
# images, node binaries, node.sh up, the suite, and node.sh down whatever happened.
# Extra arguments go to vitest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$repo"

run_suite() { # <kubeconfig> [vitest args]
  local kc=$1
  shift
  SWITCHBOARD_CLUSTER_KUBECONFIG=$kc KUBECONFIG=$kc SWITCHBOARD_IMAGE=$project_image \
    SWITCHBOARD_STORE_IMAGE=$store_image \
    npx vitest run --project cluster --reporter=default --reporter=json \
    --outputFile.json=.vitest-cluster-results.json "$@"
}

if [[ -n ${KUBECONFIG:-} ]]; then
  run_suite "$KUBECONFIG" "$@"
  exit
fi

t0=$SECONDS
bash scripts/cluster/prereqs.sh
cleanup() {
  local rc=$?
  # A second pass picks up whatever a first one could not (it is idempotent).
  bash scripts/cluster/node.sh down || bash scripts/cluster/node.sh down || true
  bash scripts/cluster/images.sh stop-docker || true
  log "test:cluster finished in $((SECONDS - t0))s (exit $rc)"
}
trap cleanup EXIT
bash scripts/cluster/images.sh build
bash scripts/cluster/images.sh store
log "images ready after $((SECONDS - t0))s"
bash scripts/cluster/node.sh up
log "node ready after $((SECONDS - t0))s"
run_suite "$kubeconfig" "$@"
