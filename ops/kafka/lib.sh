# Shared helpers for ops/kafka/* (sourced, not executed).
# shellcheck shell=bash
# shellcheck disable=SC2034  # variables used by the scripts that source this file

KAFKA_OPS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$KAFKA_OPS_DIR/../.." && pwd)"

# Pinned version; KAFKA_VERSION overrides it.
KAFKA_DEFAULT_VERSION=3.9.1
KAFKA_CACHE_DIR="${KAFKA_CACHE_DIR:-$REPO_ROOT/.cache/kafka}"
KAFKA_STATE_DEFAULT="$REPO_ROOT/.run/kafka"
# Log4j 1.x binding that matches the slf4j-api 1.7.x used by Kafka 3.x.
KAFKA_SLF4J_VERSION="${KAFKA_SLF4J_VERSION:-1.7.36}"
MAVEN_CENTRAL_URL="${MAVEN_CENTRAL_URL:-https://repo.maven.apache.org/maven2}"

PROG="${PROG:-$(basename "$0")}"

log() { printf '%s: %s\n' "kafka/$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "kafka/$PROG" "$*" >&2; exit 1; }

java_bin() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    printf '%s\n' "$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    command -v java
  else
    die "java not found (install openjdk-17-jre-headless, e.g. via ops/install-deps, or set JAVA_HOME)"
  fi
}

# Requested version (what the user asked for, or the pin).
kafka_requested_version() { printf '%s\n' "${KAFKA_VERSION:-$KAFKA_DEFAULT_VERSION}"; }

# Prints the directory of a completed fetch for the requested version, or
# nothing. Follows "<requested>.resolved" (written when the pin was not on
# Maven Central and a newer 3.9.x was used instead).
kafka_home_if_fetched() {
  local req v
  req="$(kafka_requested_version)"
  v="$req"
  if [ ! -f "$KAFKA_CACHE_DIR/$req/.fetched" ] && [ -f "$KAFKA_CACHE_DIR/$req.resolved" ]; then
    v="$(cat "$KAFKA_CACHE_DIR/$req.resolved")"
  fi
  if [ -f "$KAFKA_CACHE_DIR/$v/.fetched" ]; then
    printf '%s\n' "$KAFKA_CACHE_DIR/$v"
  fi
}

# Ensures the jars are there (runs ops/kafka/fetch if needed); prints KAFKA_HOME.
kafka_ensure_fetched() {
  local home
  home="$(kafka_home_if_fetched)"
  if [ -z "$home" ]; then
    "$KAFKA_OPS_DIR/fetch" >&2 || die "fetching Kafka failed"
    home="$(kafka_home_if_fetched)"
    [ -n "$home" ] || die "fetch finished but no fetched Kafka found under $KAFKA_CACHE_DIR"
  fi
  printf '%s\n' "$home"
}

# JVM flags that make short-lived tool JVMs start faster.
# JVM warnings (e.g. an outdated class-data archive) go to stderr, never stdout.
KAFKA_TOOL_JVM_OPTS=(-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto
  -Xlog:disable -Xlog:all=warning:stderr -Djava.awt.headless=true)

# Sets KAFKA_CMD to the command line that runs a Kafka CLI class with the
# fetched jars: kafka_cmd HOME CLASS; then run "${KAFKA_CMD[@]}" ARGS...
kafka_cmd() {
  local home="$1" cls="$2" java
  java="$(java_bin)"
  KAFKA_CMD=("$java" "${KAFKA_TOOL_JVM_OPTS[@]}")
  # Class-data-sharing archive of the tool classes (made by the first
  # kafka_answers): halves the JVM start-up of the topic tool.
  if [ -f "$home/tools.jsa" ]; then
    KAFKA_CMD+=(-XX:SharedArchiveFile="$home/tools.jsa")
  fi
  KAFKA_CMD+=(-Dlog4j.configuration="file:$home/config/tools-log4j.properties" -cp "$home/libs/*" "$cls")
}

# Two-or-more free TCP ports on 127.0.0.1, one per line: free_ports N
free_ports() {
  local n="$1"
  if command -v python3 >/dev/null 2>&1 && python3 -c 'pass' >/dev/null 2>&1; then
    python3 - "$n" <<'PY'
import socket, sys
n = int(sys.argv[1])
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
for s in socks:
    s.close()
PY
    return
  fi
  # Fallback without python: random high ports nobody answers on.
  local got=() p tries=0
  while [ "${#got[@]}" -lt "$n" ]; do
    tries=$((tries + 1))
    [ "$tries" -lt 500 ] || die "could not find $n free ports"
    p=$((20000 + RANDOM % 30000))
    port_in_use "$p" && continue
    case " ${got[*]} " in *" $p "*) continue ;; esac
    got+=("$p")
  done
  printf '%s\n' "${got[@]}"
}

# True when something accepts connections on 127.0.0.1:PORT.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when PORT can be bound on 127.0.0.1 right now.
port_free() {
  local p="$1"
  if command -v python3 >/dev/null 2>&1 && python3 -c 'pass' >/dev/null 2>&1; then
    python3 - "$p" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
  else
    ! port_in_use "$p"
  fi
}

# Absolute path of a (possibly not yet existing) directory.
abs_dir() {
  mkdir -p "$1" || die "cannot create directory $1"
  (cd "$1" && pwd)
}

# Reads KEY from a KEY=value file (empty when absent).
env_file_get() {
  local file="$1" key="$2"
  [ -f "$file" ] || return 0
  sed -n "s/^$key=//p" "$file" | tail -n 1
}

# Is PID a broker started from STATE_DIR? kafka_pid_ours PID STATE_DIR
kafka_pid_ours() {
  local pid="$1" state="$2"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [ -r "/proc/$pid/cmdline" ] || return 0  # cannot tell; trust the pid file
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "kafka.Kafka $state/server.properties"
}

# Pid of a running broker of STATE_DIR found by its command line (for a lost
# pid file); empty when none.
kafka_find_pid() {
  local want="kafka.Kafka $1/server.properties" f pid
  for f in /proc/[0-9]*/cmdline; do
    pid="${f#/proc/}"; pid="${pid%/cmdline}"
    if tr '\0' ' ' 2>/dev/null <"$f" | grep -qF -- "$want"; then
      printf '%s\n' "$pid"
      return 0
    fi
  done
  return 0
}

# Does any host:port of a comma-separated broker list accept TCP connections?
brokers_reachable() {
  local b hp host port
  IFS=',' read -r -a b <<<"$1"
  for hp in "${b[@]}"; do
    hp="${hp// /}"; hp="${hp#*://}"
    host="${hp%:*}"; port="${hp##*:}"
    host="${host#[}"; host="${host%]}"
    [ -n "$host" ] && [ -n "$port" ] || continue
    timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" 2>/dev/null && return 0
  done
  return 1
}

# Does the broker list answer a metadata request? kafka_answers HOME BROKERS [TIMEOUT_S]
# The first successful call also records the class-data-sharing archive
# HOME/tools.jsa used by later tool calls.
kafka_answers() {
  local home="$1" brokers="$2" t="${3:-30}" jsa_tmp=""
  brokers_reachable "$brokers" || return 1
  kafka_cmd "$home" org.apache.kafka.tools.TopicCommand
  if [ ! -f "$home/tools.jsa" ] && [ -w "$home" ]; then
    jsa_tmp="$home/tools.jsa.tmp.$$"
    KAFKA_CMD=("${KAFKA_CMD[0]}" -XX:ArchiveClassesAtExit="$jsa_tmp" "${KAFKA_CMD[@]:1}")
  fi
  if timeout "$t" "${KAFKA_CMD[@]}" --bootstrap-server "$brokers" \
       --command-config "$home/config/tools-client.properties" --list >/dev/null 2>&1; then
    if [ -n "$jsa_tmp" ] && [ -s "$jsa_tmp" ]; then mv -f "$jsa_tmp" "$home/tools.jsa"; fi
    rm -f "$jsa_tmp"
    return 0
  fi
  [ -z "$jsa_tmp" ] || rm -f "$jsa_tmp"
  return 1
}
