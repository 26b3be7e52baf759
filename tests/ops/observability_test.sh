#!/usr/bin/env bash
# The monitoring files of ops/observability: the alert rules pass `promtool check
# rules` and their unit tests (alerts_test.yml), and the Grafana dashboard is valid
# JSON whose panels all query Prometheus. (That the metrics they name exist is
# checked against the running processes by stack_test.sh.)
set -euo pipefail
repo="${CLERK_MIRROR_SOURCE:?}"
dir="$repo/ops/observability"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$dir/promtool" check rules "$dir/alerts.yml" || fail "promtool check rules"
(cd "$dir" && ./promtool test rules alerts_test.yml) || fail "alerts_test.yml"

dashboard="$dir/grafana-dashboard.json"
jq -e . "$dashboard" >/dev/null || fail "grafana-dashboard.json is not JSON"
[ "$(jq '[.panels[] | select(.type != "row")] | length' "$dashboard")" -ge 10 ] ||
  fail "the dashboard lost its panels"
jq -e '[.panels[] | select(.type != "row") | .targets[] | .expr | length > 0] | all' \
  "$dashboard" >/dev/null || fail "a panel has a target without a query"
jq -e '[.panels[] | select(.type != "row") | .datasource.uid == "${datasource}"] | all' \
  "$dashboard" >/dev/null || fail "a panel does not use the dashboard's data source variable"
echo "observability test passed"
