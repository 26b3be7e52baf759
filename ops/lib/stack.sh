# Shared by ops/up, ops/down and ops/test (sourced, not executed).
# shellcheck shell=bash

OPS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_ROOT="$(cd "$OPS_DIR/.." && pwd)"
BUILD_DIR="${CLERK_MIRROR_BUILD_DIR:-$REPO_ROOT/build}"

say() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# A TCP port no socket uses, below the kernel's ephemeral range: an outgoing
# connection that holds a port there makes bind() fail although nothing listens on it
# (seen: the bench's Node.js receiver got EADDRINUSE on a port a client connection had).
free_port() {
  local port tries=0 low=20000 high
  high="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
  if [ "$high" -le $(( low + 1000 )) ]; then low=1024; fi
  while [ $tries -lt 200 ]; do
    port=$(( low + (RANDOM * 32768 + RANDOM) % (high - low) ))
    if ! ss -Hatn "sport = :$port" 2>/dev/null | grep -q .; then
      printf '%s\n' "$port"
      return 0
    fi
    tries=$((tries + 1))
  done
  die "no free port found"
}

# wait_http URL SECONDS: waits until URL answers 200.
wait_http() {
  local url="$1" deadline=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  return 1
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# stop_pidfile FILE [SECONDS]: SIGTERM, wait, then SIGKILL; removes the file.
stop_pidfile() {
  local file="$1" wait_s="${2:-20}" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$(( $(date +%s) + wait_s ))
    while pid_alive "$pid" && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.1; done
    if pid_alive "$pid"; then
      say "pid $pid did not stop in ${wait_s}s; killing"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$file"
}

# env_value FILE KEY: prints KEY's value from a KEY=value file.
env_value() { [ -f "$1" ] || return 0; sed -n "s/^$2=//p" "$1" | tail -n 1; }

# build [EXTRA_CMAKE_ARGS...]: configures and builds with warnings as errors.
build() {
  local generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    cmake -S "$REPO_ROOT" -B "$BUILD_DIR" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCLERK_MIRROR_WERROR=ON "$@" >&2
  fi
  cmake --build "$BUILD_DIR" --parallel "$(nproc)" >&2
}

random_token() { head -c "${1:-24}" /dev/urandom | base64 | tr -d '/+=\n' ; }
