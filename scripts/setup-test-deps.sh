#!/usr/bin/env bash
# Installs what the integration and e2e suites need on a fresh Debian machine: Redis and
# PostgreSQL from Debian, the real kube-apiserver/etcd/kubectl/helm and promtool built from Go
# modules (cached under ~/.cache/switchboard, so reruns take seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# Argo CD runs the chart's health checks in gopher-lua, a Lua 5.1: the tests run them in Lua 5.1 too.
command -v lua5.1 >/dev/null 2>&1 || need_apt+=(lua5.1)
# The migration tests start their own throwaway clusters with initdb (test/support/postgres-server.ts).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ -x test/controlplane/build.sh ] && [ -z "${KUBECONFIG:-}" ]; then
  bash test/controlplane/build.sh
fi

# The chart's alert rules are checked with promtool (test/integration/charts/monitoring.test.ts).
bash test/tools/build-promtool.sh >/dev/null
