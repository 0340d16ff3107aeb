#!/usr/bin/env bash
# The main job: build and install pg_perfsuite into PostgreSQL 15, start a throwaway
# cluster (as the postgres OS user, on a free port), CREATE EXTENSION, run
# SELECT * FROM perf_run_all(), print the results and the markdown report, then stop and remove the cluster.
#   scripts/run-plan.sh                       # release build, the plan's iteration counts
#   PERF_KEEP_CLUSTER=1 scripts/run-plan.sh   # leave the cluster running (prints how to connect)
#   PERF_PROFILE=dev scripts/run-plan.sh      # faster debug build
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/lib/cluster.sh

install_extension
cluster_start max_worker_processes=16
psql_pg -q -d postgres -c "CREATE DATABASE perf"
psql_pg -q -d perf -c "CREATE EXTENSION pg_perfsuite CASCADE"
echo "[run] SELECT * FROM perf_run_all();"
psql_pg -d perf -P pager=off -c "SELECT test_id, name, statistic, target_ms, measured_ms, status, notes FROM perf_run_all()"
psql_pg -d perf -P pager=off -c "SELECT run_id, status, overall, tests_total, tests_passed, tests_warned, tests_failed, tests_errored, data_volume FROM perf_runs"
echo "[run] SELECT perf_report();"
# Kept after the throwaway cluster goes: the markdown report (printed below) and the
# HTML one with its charts.
REPORTS=$PWD/target/report
mkdir -p "$REPORTS"
psql_pg -d perf -At -P pager=off -c "SELECT perf_report()" > "$REPORTS/report.md"
psql_pg -d perf -At -P pager=off -c "SELECT perf_report(NULL, 'html')" > "$REPORTS/report.html"
cat "$REPORTS/report.md"
cat <<EOF

[run] Done. The report is in $REPORTS/report.md (above) and $REPORTS/report.html.
What to try next, in your own database (docs/getting-started.md):
  SELECT perf_report(NULL, 'html');      -- also 'json' and 'tap' (pg_prove)
  SELECT * FROM perf_run_all();           -- again, then:
  SELECT * FROM perf_compare();           -- what changed since the last run: regression or noise
  SELECT perf_schedule('0 3 * * *');     -- every night at 3, with pg_cron
  SELECT * FROM perf_capacity();          -- how much load fits within p95 100 ms
EOF
if [[ -n ${PERF_KEEP_CLUSTER:-} ]]; then
  echo "  (this cluster stays up: psql -h $WORK -p $PORT -U postgres perf)"
fi
