# Shared settings of the scripts/cluster/*.sh scripts (sourced, not run).
# Every address below is private and lives only in the network namespace
# node.sh creates (or on its veth peer); guards keep it from leaving the machine.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache_root=${SWITCHBOARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/switchboard}
# The node's whole state: certificates, etcd, containerd, kubelet, logs, pid files.
state=${SWITCHBOARD_CLUSTER_DIR:-/var/lib/switchboard-cluster}
kubeconfig="$state/admin.kubeconfig"

netns=switchboard-node
node_name=switchboard-node
veth_host=sbhost0          # host end of the veth pair
veth_node=sbnode0          # node end (in the namespace)
cni_bridge=sbcni0
host_ip=10.231.1.1
node_ip=10.231.1.2         # the node's InternalIP, the API server's address
node_cidr=10.231.0.0/16    # everything the cluster uses
pod_subnet=10.231.128.0/24
service_cidr=10.231.64.0/18
api_service_ip=10.231.64.1 # first address of service_cidr: the `kubernetes` Service

# The image the chart runs and the pause image the sandbox uses.
project_image=${SWITCHBOARD_IMAGE:-switchboard:local}
pause_image=registry.k8s.io/pause:3.10
# The cluster suite's PostgreSQL with pgvector (images.sh store); loaded into the node when built.
store_image=${SWITCHBOARD_STORE_IMAGE:-switchboard-e2e-store:local}

log() { echo "[cluster $(date -u +%H:%M:%S)] $*" >&2; }

controlplane_bin() { bash "$repo/test/controlplane/build.sh" | tail -n1; }
node_bin() { bash "$repo/scripts/cluster/node-binaries.sh" | tail -n1; }
