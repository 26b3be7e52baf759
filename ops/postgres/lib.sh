# Shared helpers for ops/postgres/* (sourced, not executed).
# shellcheck shell=bash
# shellcheck disable=SC2034  # variables used by the scripts that source this file

PG_OPS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$PG_OPS_DIR/../.." && pwd)"
PG_STATE_DEFAULT="$REPO_ROOT/.run/postgres"
PG_DB_NAME=clerk_mirror
PG_SUPERUSER=postgres

PROG="${PROG:-$(basename "$0")}"

log() { printf '%s: %s\n' "postgres/$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "postgres/$PROG" "$*" >&2; exit 1; }

# Keep the caller's libpq variables from steering our own tools.
unset PGHOST PGHOSTADDR PGPORT PGDATA PGUSER PGDATABASE PGSERVICE PGSERVICEFILE PGPASSFILE

# Server binaries: PG_BINDIR, else Debian's PostgreSQL 15, else the newest installed.
pg_bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then
    [ -x "$PG_BINDIR/initdb" ] || die "PG_BINDIR=$PG_BINDIR has no initdb"
    printf '%s\n' "$PG_BINDIR"
    return
  fi
  if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    printf '%s\n' /usr/lib/postgresql/15/bin
    return
  fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | while read -r b; do
         [ -x "$b/initdb" ] && printf '%s\n' "$b"; done | tail -n 1)"
  [ -n "$d" ] || die "no PostgreSQL server found under /usr/lib/postgresql (install postgresql, e.g. via ops/install-deps, or set PG_BINDIR)"
  printf '%s\n' "$d"
}

# A psql client: the server's, else any on PATH (enough for an external DATABASE_URL).
pg_psql() {
  local b
  for b in ${PG_BINDIR:+"$PG_BINDIR"} /usr/lib/postgresql/15/bin \
           $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    [ -x "$b/psql" ] && { printf '%s\n' "$b/psql"; return; }
  done
  command -v psql >/dev/null 2>&1 && { command -v psql; return; }
  die "psql not found (install postgresql-client, e.g. via ops/install-deps)"
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command as the cluster owner: the postgres OS user when we are root,
# else ourselves. Runs from / so an unreadable cwd does not matter.
as_pg() {
  if is_root; then
    id -u postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' OS user (install postgresql)"
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

# Absolute path of a (possibly not yet existing) directory.
abs_dir() {
  mkdir -p "$1" || die "cannot create directory $1"
  (cd "$1" && pwd)
}

short_hash() { printf '%s' "$1" | sha256sum | cut -c1-12; }

# Where data/, socket/ and postgres.log live for STATE_DIR: STATE_DIR itself,
# unless recorded otherwise in STATE_DIR/rundir. pg_rundir STATE_DIR
pg_rundir() {
  local state="$1"
  if [ -f "$state/rundir" ]; then
    cat "$state/rundir"
  else
    printf '%s\n' "$state"
  fi
}

# A free TCP port on 127.0.0.1.
free_port() {
  if command -v python3 >/dev/null 2>&1 && python3 -c 'pass' >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  local p tries=0
  while :; do
    tries=$((tries + 1))
    [ "$tries" -lt 500 ] || die "could not find a free port"
    p=$((20000 + RANDOM % 30000))
    port_free "$p" && { printf '%s\n' "$p"; return; }
  done
}

# True when something accepts connections on 127.0.0.1:PORT.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when PORT can be bound on 127.0.0.1 now (and is not the system cluster's).
port_free() {
  local p="$1"
  [ "$p" != 5432 ] || return 1
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

# Reads KEY from a KEY=value file (empty when absent).
env_file_get() {
  local file="$1" key="$2"
  [ -f "$file" ] || return 0
  sed -n "s/^$key=//p" "$file" | tail -n 1
}

# True when PID has exited but was not yet reaped by its parent.
is_zombie() { grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# Pid recorded in DATA/postmaster.pid (empty when none).
pg_postmaster_pid() { sed -n 1p "$1/postmaster.pid" 2>/dev/null || true; }

# Is the cluster in DATA running? pg_running BINDIR DATA
# (A killed postmaster that is still a zombie counts as not running.)
pg_running() {
  local pid
  [ -f "$2/PG_VERSION" ] || return 1
  pid="$(pg_postmaster_pid "$2")"
  if [ -n "$pid" ] && is_zombie "$pid"; then return 1; fi
  as_pg "$1/pg_ctl" status -D "$2" >/dev/null 2>&1
}

# A postmaster killed hard leaves postmaster.pid naming a zombie until its
# parent reaps it, and a new postmaster refuses to start meanwhile: wait for
# that (at most ~30 s).
pg_wait_zombie_gone() {
  local pid i
  pid="$(pg_postmaster_pid "$1")"
  [ -n "$pid" ] || return 0
  for i in $(seq 1 150); do
    is_zombie "$pid" || return 0
    [ "$i" != 1 ] || log "waiting for the killed postmaster (pid $pid) to be reaped"
    sleep 0.2
  done
}

# Port of the running postmaster of DATA (4th line of postmaster.pid; root
# and the owner can both read it).
pg_running_port() { sed -n 4p "$1/postmaster.pid" 2>/dev/null || true; }
