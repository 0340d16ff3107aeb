#!/usr/bin/env bash
# Renders perf_report(format => 'html') of a real run in headless Chromium (Debian's
# chromium package, installed if missing) and checks that the page renders and that
# its charts carry the numbers of the results table: every timed test's chart row has
# data-p95 equal to its p95_ms, and its target. Writes a screenshot next to the page.
#   scripts/check-report-html.sh            # output in target/report-html/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
if ! command -v chromium >/dev/null; then
  echo "[html] installing Debian's chromium"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
fi
source scripts/lib/cluster.sh
OUT=target/report-html
mkdir -p "$OUT"

install_extension
cluster_start max_worker_processes=16
psql_pg -q -d postgres -c "CREATE DATABASE perf"
psql_pg -q -d perf -c "CREATE EXTENSION pg_perfsuite CASCADE"
psql_pg -q -d perf -c "SET client_min_messages = warning" -c "SELECT count(*) FROM perf_run('1.%')" >/dev/null
psql_pg -q -d perf -c "SET client_min_messages = warning" -c "SELECT count(*) FROM perf_run('1.%')" >/dev/null
psql_pg -At -d perf -c "SELECT perf_report(NULL, 'html')" > "$OUT/report.html"
chromium --headless --no-sandbox --disable-gpu --window-size=1200,2400 \
  --screenshot="$PWD/$OUT/report.png" "file://$PWD/$OUT/report.html" 2>/dev/null
chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$PWD/$OUT/report.html" 2>/dev/null > "$OUT/rendered.html"
[ -s "$OUT/report.png" ] || { echo "[html] FAIL: no screenshot"; exit 1; }
grep -q '<svg id="latency"' "$OUT/rendered.html" || { echo "[html] FAIL: latency chart not in the rendered page"; exit 1; }
grep -q '<svg id="trend"' "$OUT/rendered.html" || { echo "[html] FAIL: trend chart (two runs) not in the rendered page"; exit 1; }
# Each timed test of the latest run: the chart's data-p95 / data-target equal the table's.
fail=0
while IFS='|' read -r test p95 target; do
  if grep -q "data-test=\"$test\" data-p95=\"$p95\" data-target=\"$target\"" "$OUT/rendered.html"; then
    echo "[html] $test: chart shows p95 $p95 ms against target $target ms"
  else
    echo "[html] FAIL: $test chart does not show p95 $p95 / target $target"; fail=1
  fi
done < <(psql_pg -At -d perf -c "SELECT test_id, p95_ms::float8, target_ms::float8 FROM performance_test_results
                                  WHERE run_id = (SELECT max(run_id) FROM perf_runs) AND target_ms IS NOT NULL AND p95_ms IS NOT NULL
                                  ORDER BY result_id")
[ $fail = 0 ] && echo "[html] PASS: rendered in Chromium ($OUT/report.png), charts match the results table"
exit $fail
