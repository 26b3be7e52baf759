#!/usr/bin/env bash
# End-to-end check of the local stack scripts and the startup contract:
#  - ops/up starts the ingress and a worker that answer /healthz with 200 and
#    writes .run/env with every key of the interface contract; ADMIN_URL and
#    ADMIN_TOKEN reach the worker's admin API (401 without the token); every
#    clerk_mirror_* metric the alert rules and the Grafana dashboard of
#    ops/observability name is one the running ingress or worker exports;
#  - ops/send-webhook's signed user.created reaches clerk.users, and its
#    user.deleted marks the row deleted;
#  - ops/up a second time is harmless (same processes, same addresses);
#  - ops/down leaves no process and no listener behind;
#  - a malformed variable stops each executable with a line naming it.
# Uses the test's PostgreSQL and Kafka (KAFKA_BROKERS, DATABASE_URL) with its
# own database, topic and run directory, so it disturbs nothing else.
set -euo pipefail
repo="${CLERK_MIRROR_SOURCE:?}"
bin="${CLERK_MIRROR_BIN:?}"
: "${KAFKA_BROKERS:?run through ops/test}" "${DATABASE_URL:?run through ops/test}"

fail() { echo "FAIL: $*" >&2; exit 1; }
run_dir="$(mktemp -d)"
db="stack_test_$$"
base_url="${DATABASE_URL%/*}"
cleanup() {
  CLERK_MIRROR_RUN_DIR="$run_dir" "$repo/ops/down" >/dev/null 2>&1 || true
  psql "$DATABASE_URL" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
  rm -rf "$run_dir"
}
trap cleanup EXIT
psql "$DATABASE_URL" -qc "create database $db" >/dev/null

export CLERK_MIRROR_RUN_DIR="$run_dir" CLERK_MIRROR_BUILD_DIR="${bin%/bin}"
export DATABASE_URL="$base_url/$db" KAFKA_TOPIC="stack_test_$$"
unset INGRESS_LISTEN ADMIN_LISTEN CLERK_WEBHOOK_SECRET ADMIN_TOKEN

"$repo/ops/up" >/dev/null 2>"$run_dir/up.err" || { cat "$run_dir/up.err"; fail "ops/up failed"; }
env_file="$run_dir/env"
for key in INGRESS_URL DATABASE_URL KAFKA_BROKERS KAFKA_TOPIC CLERK_WEBHOOK_SECRET ADMIN_URL ADMIN_TOKEN; do
  grep -q "^$key=." "$env_file" || fail ".run/env lacks $key"
done
ingress_url="$(sed -n 's/^INGRESS_URL=//p' "$env_file")"
admin_url="$(sed -n 's/^ADMIN_URL=//p' "$env_file")"
for url in "$ingress_url/healthz" "$admin_url/healthz"; do
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url")"
  [ "$code" = 200 ] || fail "$url answered $code"
done
admin_token="$(sed -n 's/^ADMIN_TOKEN=//p' "$env_file")"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$admin_url/admin/status")"
[ "$code" = 401 ] || fail "$admin_url/admin/status answered $code without the token"
status="$(curl -s --max-time 10 -H "Authorization: Bearer $admin_token" "$admin_url/admin/status")"
grep -q '"database":{"tables":{"users":{"rows":0' <<<"$status" ||
  fail "$admin_url/admin/status with ADMIN_TOKEN answered: $status"
names="$(grep -oh 'clerk_mirror_[a-z_]*' "$repo/ops/observability/alerts.yml" \
  "$repo/ops/observability/grafana-dashboard.json" | sed -E 's/_(bucket|sum|count)$//' | sort -u)"
[ -n "$names" ] || fail "no clerk_mirror_* metric named in ops/observability"
# The lag gauge appears once the worker has partitions (joined the group, measured
# every 5 s): up to 60 s.
missing="$names"
for _ in $(seq 60); do
  metrics="$(curl -s --max-time 5 "$ingress_url/metrics"; curl -s --max-time 5 "$admin_url/metrics")"
  missing=""
  for name in $names; do
    grep -q "^# TYPE $name " <<<"$metrics" || missing="$missing $name"
  done
  [ -z "$missing" ] && break
  sleep 1
done
[ -z "$missing" ] || fail "ops/observability names metrics no process exports:$missing"
answer="$("$repo/ops/send-webhook" --id user_stack_test --first-name Ada 2>&1)" ||
  fail "ops/send-webhook failed: $answer"
grep -q 'HTTP 200' <<<"$answer" || fail "ops/send-webhook was answered: $answer"
row_is() {
  local expected="$1" got=""
  for _ in $(seq 150); do
    got="$(psql "$DATABASE_URL" -qAt -c "select first_name || ':' || (deleted_at is not null)
      from clerk.users where id = 'user_stack_test'" 2>/dev/null || true)"
    [ "$got" = "$expected" ] && return 0
    sleep 0.2
  done
  fail "clerk.users row user_stack_test is '$got', expected '$expected'"
}
row_is "Ada:false"
"$repo/ops/send-webhook" --type user.deleted --id user_stack_test >/dev/null 2>&1 ||
  fail "ops/send-webhook --type user.deleted failed"
row_is "Ada:true"
ingress_pid="$(cat "$run_dir/ingress.pid")"
worker_pid="$(cat "$run_dir/worker.pid")"

"$repo/ops/up" >/dev/null 2>&1 || fail "second ops/up failed"
[ "$(cat "$run_dir/ingress.pid")" = "$ingress_pid" ] || fail "second ops/up restarted the ingress"
[ "$(sed -n 's/^INGRESS_URL=//p' "$env_file")" = "$ingress_url" ] || fail "second ops/up moved the ingress"

"$repo/ops/down" >/dev/null 2>&1 || fail "ops/down failed"
for pid in "$ingress_pid" "$worker_pid"; do
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
    fail "process $pid still runs after ops/down"
  fi
done
for url in "$ingress_url" "$admin_url"; do
  port="${url##*:}"
  if ss -Hltn "sport = :$port" | grep -q .; then fail "port $port still listens after ops/down"; fi
done

# A malformed variable: non-zero exit and one line naming it.
expect_config_error() {
  local variable="$1"; shift
  local out status=0
  out="$("$@" 2>&1 >/dev/null)" || status=$?
  [ "$status" -ne 0 ] || fail "$* started with a malformed $variable"
  grep -q "$variable" <<<"$out" || fail "$* did not name $variable: $out"
}
expect_config_error KAFKA_BROKERS env KAFKA_BROKERS= CLERK_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \
  "$bin/clerk-mirror-ingress"
expect_config_error CLERK_WEBHOOK_SECRET env -u CLERK_WEBHOOK_SECRET "$bin/clerk-mirror-ingress"
expect_config_error DATABASE_URL env DATABASE_URL=nonsense "$bin/clerk-mirror" worker
expect_config_error KAFKA_BROKERS env KAFKA_BROKERS=not-a-host-port "$bin/clerk-mirror" worker
expect_config_error ADMIN_TOKEN env ADMIN_TOKEN=short "$bin/clerk-mirror" worker
echo "stack test passed"
