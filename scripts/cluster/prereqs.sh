#!/usr/bin/env bash
# Installs the node's system packages from Debian (docker.io for image builds;
# containerd, runc and the CNI plugins for the node; debootstrap for the base
# image) when any is missing. Needs root, as the node itself does.
set -euo pipefail
need=()
for cmd in dockerd:docker.io containerd:containerd runc:runc debootstrap:debootstrap \
  iptables:iptables ip:iproute2 conntrack:conntrack gcc:gcc openssl:openssl flock:util-linux; do
  command -v "${cmd%%:*}" >/dev/null 2>&1 || need+=("${cmd#*:}")
done
[[ -x /usr/lib/cni/bridge ]] || need+=(containernetworking-plugins)
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || need+=(ca-certificates)
# gcc -static needs the C library's static archive.
[[ -f /usr/lib/x86_64-linux-gnu/libc.a || -f /usr/lib/aarch64-linux-gnu/libc.a ]] || need+=(libc6-dev)
if ((${#need[@]})); then
  echo "prereqs.sh: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
