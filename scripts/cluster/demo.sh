#!/usr/bin/env bash
# npm run demo:cluster: a local single node with the chart installed from the locally built
# image, the demo upstream in a pod and the demo samples applied; prints
# `kubectl get llmproviders,llmroutes`. `npm run demo:cluster -- down` removes it all.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$repo"

if [[ ${1:-up} == down ]]; then
  bash scripts/cluster/node.sh down
  bash scripts/cluster/images.sh stop-docker
  exit
fi

bash scripts/cluster/prereqs.sh
bash scripts/cluster/images.sh build
if [[ -f $kubeconfig ]]; then
  bash scripts/cluster/node.sh load
else
  bash scripts/cluster/node.sh up
fi
bin=$(controlplane_bin)
export KUBECONFIG=$kubeconfig
kc() { "$bin/kubectl" "$@"; }

log "helm install switchboard (image $project_image)"
"$bin/helm" upgrade --install switchboard charts/switchboard -n switchboard-system --create-namespace \
  --set image.repository="${project_image%:*}" --set image.tag="${project_image##*:}" \
  --set image.pullPolicy=Never --wait --timeout 5m >/dev/null
sed "s|image: IMAGE|image: $project_image|" scripts/cluster/demo-upstream.yaml | kc apply -f - >/dev/null
kc rollout status deployment/demo-upstream --timeout=120s >/dev/null
# The samples point at 127.0.0.1:8081 (the gateway's own --demo-upstream); in the cluster the
# upstream is a Service, named by its ClusterIP since the node runs no cluster DNS.
upstream_ip=$(kc get service demo-upstream -o jsonpath='{.spec.clusterIP}')
# One document per file: files piped together without a separator would merge into one.
for f in config/samples/demo/*.yaml; do
  sed "s|http://127.0.0.1:8081/v1|http://$upstream_ip:8081/v1|" "$f"
  echo ---
done | kc apply -f - >/dev/null
log "waiting for the gateways to report the demo provider healthy"
healthy=
for _ in $(seq 1 90); do
  [[ $(kc get llmprovider demo-upstream -o jsonpath='{.status.health}' 2>/dev/null) == healthy ]] && healthy=1 && break
  sleep 2
done
[[ -n $healthy ]] || log "the demo provider is not healthy after 3 min: kubectl describe llmprovider demo-upstream says why"
kc get llmproviders,llmroutes
cat <<EOF

The operator compiled these into the gateways' config and reports the gateways' health.
  export KUBECONFIG=$kubeconfig PATH=$bin:\$PATH
  kubectl get pods -n switchboard-system
  kubectl port-forward -n switchboard-system service/switchboard-gateway 8080:80 &
  curl -s localhost:8080/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"switchboard-demo","messages":[{"role":"user","content":"hello"}]}'
Remove it all: npm run demo:cluster -- down
EOF
