#!/usr/bin/env bash
# Builds the images the node runs, with Docker and nothing pulled:
#   - a Debian bookworm base from debootstrap (docker import), built once;
#   - a node:20-bookworm-slim stand-in (that base plus this machine's Node 20, npm
#     and CA bundle), unless a real node:20-bookworm-slim is already there;
#   - the project image from the repo's Dockerfile ($SWITCHBOARD_IMAGE, default switchboard:local);
#   - the pause image, from the pause binary node-binaries.sh compiled;
#   - with `images.sh store`, the cluster suite's PostgreSQL (pgvector) image ($SWITCHBOARD_STORE_IMAGE):
#     the project image plus PGlite from the repo's node_modules (test/e2e/cluster/store).
# Starts dockerd (no bridge, no iptables rules) if none answers; `images.sh stop-docker`
# stops the one it started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

docker_pid="$cache_root/dockerd.pid"

start_docker() {
  docker info >/dev/null 2>&1 && return 0
  log "starting dockerd"
  mkdir -p "$cache_root"
  # Own pid file: the one started here is the one stop-docker stops.
  dockerd --bridge=none --iptables=false --ip6tables=false --pidfile "$docker_pid" \
    >"$cache_root/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "images.sh: dockerd did not answer within 60 s; see $cache_root/dockerd.log" >&2
  exit 1
}

stop_docker() {
  [[ -f $docker_pid ]] || return 0
  local pid
  pid=$(cat "$docker_pid")
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q dockerd || { rm -f "$docker_pid"; return 0; }
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  rm -f "$docker_pid"
}

has_image() { docker image inspect "$1" >/dev/null 2>&1; }

base_image=switchboard-local/debian:bookworm

build_base() {
  has_image "$base_image" && return 0
  log "debootstrap bookworm (minbase) -> $base_image"
  local root
  root=$(mktemp -d /var/tmp/switchboard-debootstrap.XXXXXX)
  mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$cache_root/debootstrap.log" 2>&1 ||
    { echo "images.sh: debootstrap failed; see $cache_root/debootstrap.log" >&2; rm -rf "$root"; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import - "$base_image" >/dev/null
  rm -rf "$root"
}

build_node_standin() {
  # A real node:20-bookworm-slim (pulled by someone with a registry) is used as it is.
  has_image node:20-bookworm-slim && return 0
  log "node:20-bookworm-slim stand-in from $base_image and this machine's $(node --version)"
  local ctx
  ctx=$(mktemp -d)
  cp "$(command -v node)" "$ctx/node"
  cp -r "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$ctx/npm"
  # The registries are reached through a TLS-inspecting proxy that only this bundle trusts.
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $base_image
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
LABEL dev.switchboard.stand-in=true
CMD ["node"]
DOCKERFILE
  docker build -q -t node:20-bookworm-slim "$ctx" >/dev/null
  rm -rf "$ctx"
}

build_project() {
  log "docker build $project_image from the Dockerfile"
  docker build --network host -q -t "$project_image" "$repo" >/dev/null
}

build_pause() {
  has_image "$pause_image" && return 0
  local ctx
  ctx=$(mktemp -d)
  cp "$(node_bin)/pause" "$ctx/pause"
  printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$ctx/Dockerfile"
  docker build -q -t "$pause_image" "$ctx" >/dev/null
  rm -rf "$ctx"
}

build_store() {
  log "docker build $store_image (PGlite with pgvector) from test/e2e/cluster/store"
  local ctx pkg
  ctx=$(mktemp -d)
  mkdir "$ctx/electric-sql"
  for pkg in pglite pglite-socket pglite-pgvector; do
    [[ -d $repo/node_modules/@electric-sql/$pkg ]] ||
      { echo "images.sh: node_modules/@electric-sql/$pkg is missing; run npm ci first" >&2; exit 1; }
    cp -r "$repo/node_modules/@electric-sql/$pkg" "$ctx/electric-sql/$pkg"
  done
  cp "$repo/test/e2e/cluster/store/Dockerfile" "$repo/test/e2e/cluster/store/pglite-server.mjs" "$ctx/"
  docker build -q --build-arg PROJECT_IMAGE="$project_image" -t "$store_image" "$ctx" >/dev/null
  rm -rf "$ctx"
}

case "${1:-build}" in
  build)
    start_docker
    build_base
    build_node_standin
    build_project
    build_pause
    ;;
  store)
    start_docker
    build_store
    ;;
  stop-docker) stop_docker ;;
  *) echo "usage: images.sh [build|store|stop-docker]" >&2; exit 2 ;;
esac
