#!/usr/bin/env bash
# The whole plan at production size: in one throwaway cluster, SELECT * FROM
# perf_run_all(scale => N) (default 100: eleven companies of 100,000 customers, about
# 16M rows), timed end to end from the call to its last result, then where the time
# went (environment, each scenario) and the run's verdicts. Target: under 5 minutes.
#   bench/scale.sh                 # scale 100
#   PERF_BENCH_SCALE=10 bench/scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
source scripts/lib/cluster.sh
SCALE=${PERF_BENCH_SCALE:-100}
LIMIT_S=${PERF_BENCH_LIMIT_S:-300}

install_extension
# What a server holding 16M rows is given at least: WAL room for the load (no
# checkpoint every few seconds), shared buffers for the working set, memory for index
# builds and foreign-key validation (maintenance_work_mem: sorts of 6M keys fit), workers for the
# load clients.
# A server set up for loading data as PostgreSQL's manual advises ("Populating a
# Database"), as bench/generate.sh's growth runs: wal_level=minimal, no WAL senders.
# The run's environment is a bulk load into tables it truncated, which then writes no
# WAL (about 4 GB less at scale 100); PERF_BENCH_WAL_LEVEL=replica measures the default.
WAL_LEVEL=${PERF_BENCH_WAL_LEVEL:-minimal}
SETTINGS="shared_buffers=512MB max_wal_size=8GB maintenance_work_mem=1GB max_worker_processes=32 wal_level=$WAL_LEVEL"
[[ $WAL_LEVEL == minimal ]] && SETTINGS+=" max_wal_senders=0"
cluster_start $SETTINGS
psql_pg -q -d postgres -c "CREATE DATABASE perf"
psql_pg -q -d perf -c "CREATE EXTENSION pg_perfsuite CASCADE"
echo "[bench] $(date -u +%F) $(nproc) CPUs, PostgreSQL $(psql_pg -At -d perf -c 'SHOW server_version'), $SETTINGS"
disk_rate
echo "[bench] SELECT * FROM perf_run_all(scale => $SCALE);"
t0=$(date +%s.%N)
psql_pg -d perf -P pager=off -c "SELECT test_id, status, round(measured_ms::numeric, 2) AS ms, target_ms FROM perf_run_all(scale => $SCALE)"
t1=$(date +%s.%N)
elapsed=$(python3 -c "print(round($t1 - $t0, 1))")
psql_pg -d perf -P pager=off -c "SELECT run_id, status, overall, scale, tests_total, tests_passed, tests_warned, tests_failed, tests_errored,
    data_volume->>'customers' AS customers,
    (SELECT sum(value::bigint) FROM jsonb_each_text(data_volume)) AS rows FROM perf_runs"
echo "[bench] where the time went (seconds from the run's start to the end of each scenario's last test):"
psql_pg -d perf -P pager=off -c "SELECT t.scenario, max(r.test_timestamp) - min(p.started_at) AS until, count(*) AS tests
    FROM performance_test_results r JOIN perf_runs p USING (run_id) JOIN perf_tests t USING (test_id)
   GROUP BY 1 ORDER BY 1"
psql_pg -d perf -At -c "SELECT regexp_replace(notes, '^.*?(environment at scale[^;]*;[^;]*;[^;]*).*$', '\1') FROM perf_runs"
echo
printf 'perf_run_all(scale => %s): %s s end to end (target < %s s): %s\n' "$SCALE" "$elapsed" "$LIMIT_S" \
  "$(python3 -c "print('PASS' if $elapsed < $LIMIT_S else 'FAIL')")"
