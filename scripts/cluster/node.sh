#!/usr/bin/env bash
# A real single-node Kubernetes cluster on this machine, isolated in a network
# namespace of its own:
#   node.sh up     etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
#                  containerd (never pulls), kubelet and kube-proxy (iptables mode),
#                  with the images from images.sh loaded; writes $state/admin.kubeconfig
#   node.sh down   stops every process, removes every pod sandbox, mount, cgroup,
#                  bridge, address, namespace and iptables rule that `up` made
#   node.sh load   loads the Docker images again (after images.sh rebuilt one)
#
# Everything runs inside the network namespace $netns. The host reaches the API
# server over a veth pair on private addresses; pods sit on a CNI bridge inside the
# namespace. Nothing may leave the machine: the namespace's only route out is the
# veth, the host forwards nothing from it and accepts nothing new from it, the
# namespace drops anything from the pod bridge towards the veth, and the host drops
# the cluster's source range on its external interface. Pods resolve DNS at loopback.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pki="$state/pki"
logs="$state/logs"
run="$state/run"
sock="$state/containerd/containerd.sock"
# nsenter, not `ip netns exec`: that also makes a private mount namespace per command, and
# kubelet, containerd and runc must see one another's mounts (volumes, sandboxes' netns).
in_ns=(nsenter --net="/run/netns/$netns" --)

# Pods go below this session's own memory cgroup, so they are charged where the
# processes that start them are; the same path is used in every v1 hierarchy.
cgroup_parent() {
  local mem
  mem=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
  [[ -n $mem && $mem != / ]] && echo "${mem%/}" || echo ""
}

ext_if() { ip route show default 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }'; }

# Host guard rules, as iptables argument lists (table first); add and remove use the same list.
host_rules() {
  local c=(-m comment --comment switchboard-cluster)
  echo "filter FORWARD -i $veth_host -j REJECT ${c[*]}"
  echo "filter FORWARD -o $veth_host -j REJECT ${c[*]}"
  echo "filter INPUT -i $veth_host -m conntrack ! --ctstate ESTABLISHED,RELATED -j REJECT ${c[*]}"
  local ext
  ext=$(ext_if)
  [[ -n $ext ]] && echo "mangle POSTROUTING -o $ext -s $node_cidr -j DROP ${c[*]}"
  return 0
}

# ---------------------------------------------------------------------------- certificates

sign() { # <name> <subject> <extendedKeyUsage> [subjectAltName]
  local name=$1 subj=$2 eku=$3 san=${4:-}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subj" \
    -keyout "$pki/$name.key" -out "$pki/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [[ -n $san ]] && echo "subjectAltName=$san"
  } >"$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 30 -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}

write_kubeconfig() { # <file> <cert name> <server>
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: switchboard-node
    cluster: { server: "$3", certificate-authority: "$pki/ca.crt" }
users:
  - name: $2
    user: { client-certificate: "$pki/$2.crt", client-key: "$pki/$2.key" }
contexts:
  - name: switchboard-node
    context: { cluster: switchboard-node, user: $2 }
current-context: switchboard-node
EOF
}

make_pki() {
  mkdir -p "$pki"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=switchboard-node-ca" -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  sign apiserver "/CN=kube-apiserver" serverAuth \
    "IP:$node_ip,IP:$api_service_ip,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  sign kubelet-serving "/CN=$node_name" serverAuth "IP:$node_ip,DNS:$node_name"
  sign admin "/O=system:masters/CN=switchboard-admin" clientAuth
  sign apiserver-kubelet "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  sign node "/O=system:nodes/CN=system:node:$node_name" clientAuth
  sign controller-manager "/CN=system:kube-controller-manager" clientAuth
  sign scheduler "/CN=system:kube-scheduler" clientAuth
  sign kube-proxy "/CN=system:kube-proxy" clientAuth
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  local inside="https://$node_ip:6443"
  write_kubeconfig "$kubeconfig" admin "$inside"
  write_kubeconfig "$state/node.kubeconfig" node "$inside"
  write_kubeconfig "$state/controller-manager.kubeconfig" controller-manager "$inside"
  write_kubeconfig "$state/scheduler.kubeconfig" scheduler "$inside"
  write_kubeconfig "$state/kube-proxy.kubeconfig" kube-proxy "$inside"
}

# ---------------------------------------------------------------------------- processes

start() { # <name> <command...>: runs it inside the namespace in the background
  local name=$1
  shift
  "${in_ns[@]}" "$@" >"$logs/$name.log" 2>&1 &
  echo $! >"$run/$name.pid"
}

stop() { # <name>: TERM, then KILL after 10 s
  local f="$run/$1.pid" pid
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  # Only the process `up` started: after a reboot or a killed session the pid may be another's.
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$1" && kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

wait_for() { # <what> <seconds> <command...>
  local what=$1 secs=$2
  shift 2
  for _ in $(seq 1 "$secs"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  log "timed out after ${secs}s waiting for $what"
  return 1
}

kc() { "$cp_bin/kubectl" --kubeconfig "$kubeconfig" "$@"; }

# ---------------------------------------------------------------------------- up

network_up() {
  ip netns add "$netns"
  ip link add "$veth_host" type veth peer name "$veth_node" netns "$netns"
  ip addr add "$host_ip/30" dev "$veth_host"
  ip link set "$veth_host" up
  ip -n "$netns" link set lo up
  ip -n "$netns" addr add "$node_ip/30" dev "$veth_node"
  ip -n "$netns" link set "$veth_node" up
  ip -n "$netns" route add default via "$host_ip"
  "${in_ns[@]}" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.disable_ipv6=1 \
    net.bridge.bridge-nf-call-iptables=1
  "${in_ns[@]}" iptables -t mangle -A FORWARD -i "$cni_bridge" -o "$veth_node" -j DROP
  local rule
  while read -r rule; do
    # shellcheck disable=SC2086 # a rule is a word list
    set -- $rule
    iptables -t "$1" -I "${@:2}"
  done < <(host_rules)
}

containerd_up() {
  mkdir -p "$state/containerd/certs.d/_default" "$state/cni"
  # Every registry points at a closed local port: the node runs only what was imported.
  printf 'server = "http://127.0.0.1:9"\n[host."http://127.0.0.1:9"]\n  capabilities = ["pull", "resolve"]\n' \
    >"$state/containerd/certs.d/_default/hosts.toml"
  cat >"$state/containerd/config.toml" <<EOF
version = 2
root = "$state/containerd/root"
state = "$state/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$state/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  # No CAP_SYS_RESOURCE here: runc could not set a sandbox's oom_score_adj otherwise.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$state/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$state/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$state/containerd/certs.d"
EOF
  cat >"$state/cni/10-switchboard.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "switchboard",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$cni_bridge",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$state/cni-ipam",
        "ranges": [[{ "subnet": "$pod_subnet" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
  start containerd containerd --config "$state/containerd/config.toml"
  wait_for containerd 30 ctr --address "$sock" version
}

load_images() {
  local images=("$project_image" "$pause_image")
  docker image inspect "$store_image" >/dev/null 2>&1 && images+=("$store_image")
  log "loading ${images[*]} into the node"
  docker save "${images[@]}" | ctr --address "$sock" -n k8s.io images import - >/dev/null
}

control_plane_up() {
  start etcd "$cp_bin/etcd" --name=node --data-dir="$state/etcd" \
    --listen-client-urls=http://127.0.0.1:2379 --advertise-client-urls=http://127.0.0.1:2379 \
    --listen-peer-urls=http://127.0.0.1:2380 --initial-advertise-peer-urls=http://127.0.0.1:2380 \
    --initial-cluster=node=http://127.0.0.1:2380 --unsafe-no-fsync=true --log-level=warn
  start kube-apiserver "$cp_bin/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=0.0.0.0 --secure-port=6443 --advertise-address="$node_ip" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --kubelet-client-certificate="$pki/apiserver-kubelet.crt" --kubelet-client-key="$pki/apiserver-kubelet.key" \
    --kubelet-certificate-authority="$pki/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --service-cluster-ip-range="$service_cidr" --allow-privileged=true --profiling=false
  wait_for "kube-apiserver /readyz" 90 kc get --raw /readyz
  start kube-controller-manager "$nd_bin/kube-controller-manager" \
    --kubeconfig="$state/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$state/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$state/controller-manager.kubeconfig" \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
    --use-service-account-credentials=true --leader-elect=false --bind-address=127.0.0.1 \
    --service-cluster-ip-range="$service_cidr" --profiling=false
  start kube-scheduler "$nd_bin/kube-scheduler" \
    --kubeconfig="$state/scheduler.kubeconfig" \
    --authentication-kubeconfig="$state/scheduler.kubeconfig" \
    --authorization-kubeconfig="$state/scheduler.kubeconfig" \
    --leader-elect=false --bind-address=127.0.0.1 --profiling=false
}

cgroups_up() {
  local root c
  root="$(cgroup_parent)/switchboard-node"
  echo "$root" >"$run/cgroup-root"
  for c in /sys/fs/cgroup/*/; do
    c=${c%/}
    [[ -f $c/tasks ]] || continue # v1 hierarchies only
    mkdir -p "$c$root"
    if [[ -f $c$root/cpuset.cpus ]]; then
      # A v1 cpuset starts empty; walk down from the root copying the parent's.
      local path="" part
      IFS=/ read -ra parts <<<"${root#/}"
      for part in "${parts[@]}"; do
        path+="/$part"
        [[ -n $(cat "$c$path/cpuset.cpus") ]] || cat "$c${path%/*}/cpuset.cpus" >"$c$path/cpuset.cpus"
        [[ -n $(cat "$c$path/cpuset.mems") ]] || cat "$c${path%/*}/cpuset.mems" >"$c$path/cpuset.mems"
      done
    fi
  done
}

node_up() {
  mkdir -p "$state/kubelet" "$state/pod-logs"
  # Pods' resolver: loopback, so no DNS query can leave the pod.
  echo "nameserver 127.0.0.1" >"$state/resolv.conf"
  cat >"$state/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: "$pki/ca.crt" }
authorization: { mode: Webhook }
tlsCertFile: "$pki/kubelet-serving.crt"
tlsPrivateKeyFile: "$pki/kubelet-serving.key"
containerRuntimeEndpoint: "unix://$sock"
cgroupDriver: cgroupfs
cgroupRoot: "$(cat "$run/cgroup-root")"
failCgroupV1: false
failSwapOn: false
resolvConf: "$state/resolv.conf"
clusterDomain: cluster.local
podLogsDir: "$state/pod-logs"
# A shared development disk: never evict or garbage-collect images over its fill level.
evictionHard: { memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%" }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
  start kubelet "$nd_bin/kubelet" --config="$state/kubelet/config.yaml" \
    --kubeconfig="$state/node.kubeconfig" --root-dir="$state/kubelet" \
    --hostname-override="$node_name" --node-ip="$node_ip" --v=1
  cat >"$state/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: "$state/kube-proxy.kubeconfig" }
mode: iptables
hostnameOverride: $node_name
clusterCIDR: $pod_subnet
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
iptables: { localhostNodePorts: false }
# Leave the kernel's conntrack settings alone.
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
EOF
  start kube-proxy "$nd_bin/kube-proxy" --config="$state/kube-proxy.yaml"
  wait_for "node $node_name to register" 60 kc get node "$node_name"
  kc wait --for=condition=Ready "node/$node_name" --timeout=120s >/dev/null
}

up() {
  if [[ -e $state ]] || ip netns list | grep -qw "$netns" || ip link show "$veth_host" >/dev/null 2>&1; then
    log "$state exists: tearing down what is left of an earlier node first"
    down
  fi
  local t0=$SECONDS
  cp_bin=$(controlplane_bin)
  nd_bin=$(node_bin)
  mkdir -p "$state" "$logs" "$run"
  trap 'log "node.sh up failed; logs in $logs"' ERR
  make_pki
  network_up
  cgroups_up
  containerd_up
  load_images
  control_plane_up
  node_up
  log "node Ready after $((SECONDS - t0))s; KUBECONFIG=$kubeconfig"
}

# ---------------------------------------------------------------------------- down

# Kills every process in the node's cgroups (the containers), repeatedly until none is left.
kill_cgroup_tree() {
  local root=$1 dir pid again
  for _ in $(seq 1 20); do
    again=
    while read -r dir; do
      # A container's cgroup may vanish as its shim cleans up: read what is still there.
      while read -r pid; do
        [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null && again=1
      done < <(cat "$dir/cgroup.procs" 2>/dev/null)
    done < <(find "/sys/fs/cgroup/pids$root" -type d 2>/dev/null)
    [[ -z $again ]] && return 0
    sleep 0.5
  done
}

down() {
  local root rule c
  stop kubelet
  stop kube-proxy
  root=$(cat "$run/cgroup-root" 2>/dev/null || true)
  [[ -n $root ]] && kill_cgroup_tree "$root"
  log "down: pods killed"
  stop containerd
  stop kube-scheduler
  stop kube-controller-manager
  stop kube-apiserver
  stop etcd
  # Whatever else is still in the namespace (containerd shims) was started by `up`.
  if ip netns list | grep -qw "$netns"; then
    ip netns pids "$netns" | xargs -r kill -9 2>/dev/null || true
  fi
  log "down: processes stopped"
  # Pod sandboxes' netns files, overlay rootfs, secret and projected volumes: innermost first.
  awk -v s="$state/" 'index($5, s) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  if [[ -n $root ]]; then
    for c in /sys/fs/cgroup/*/; do
      [[ -d ${c%/}$root ]] && find "${c%/}$root" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
  fi
  log "down: unmounted, cgroups removed"
  ip netns del "$netns" 2>/dev/null || true
  ip link del "$veth_host" 2>/dev/null || true
  while read -r rule; do
    # shellcheck disable=SC2086
    set -- $rule
    while iptables -t "$1" -D "${@:2}" 2>/dev/null; do :; done
  done < <(host_rules)
  # kubelet links each container's log here whatever podLogsDir says.
  find /var/log/containers -maxdepth 1 -type l -lname "$state/*" -delete 2>/dev/null || true
  if [[ -d $logs ]]; then
    rm -rf "$state.logs"
    cp -r "$logs" "$state.logs"
    cp -rL "$state/pod-logs" "$state.logs/pods" 2>/dev/null || true
  fi
  rm -rf "$state"
  log "node down (logs kept in $state.logs)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  load)
    load_images
    ;;
  *)
    echo "usage: node.sh up|down|load" >&2
    exit 2
    ;;
esac
