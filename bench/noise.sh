#!/usr/bin/env bash
# Does perf_compare tell noise from a real regression, on real runs? In one throwaway
# cluster, one database, this build:
#   0. a warm-up run of the whole plan (creates the data; its first reads set hint bits
#      and fill the caches, which would make it slower than any later run);
#   1. run A, pinned as the baseline (perf_set_baseline);
#   2. run B: the same build, the same data: every timed test should be "within noise";
#   3. DROP INDEX idx_customers_not_deleted (the plan's partial index), run C: the tests
#      whose plan used that index in A should be "regressed".
# Prints each comparison and two PASS/FAIL lines: at least 90 % of B's tests within
# noise; every test that used the index regressed in C.
#   bench/noise.sh                        # the plan's iteration counts
#   PERF_BENCH_ITERATIONS=50 bench/noise.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
source scripts/lib/cluster.sh
ITER=${PERF_BENCH_ITERATIONS:-NULL}

install_extension
cluster_start max_worker_processes=16
q() { psql_pg -d perf -Atq -c "SET client_min_messages = warning" -c "$1"; }
psql_pg -q -d postgres -c "CREATE DATABASE perf"
q "CREATE EXTENSION pg_perfsuite CASCADE"
echo "[noise] $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(q 'SHOW server_version')"
run() { q "SELECT count(*) FROM perf_run_all(iterations => $ITER, background => false)" >/dev/null; q "SELECT max(run_id) FROM perf_runs"; }
compare() {
  psql_pg -d perf -P pager=off -c "SELECT test_id, baseline_ms, current_ms, change_pct, verdict, median_ratio,
                                          ratio_low, ratio_high, round(p_value::numeric, 4) AS p_value, method
                                     FROM perf_compare($1, $2) ORDER BY test_id"
}

run >/dev/null
a=$(run)
q "SELECT * FROM perf_set_baseline($a)" >/dev/null
b=$(run)
echo "[noise] run $b against run $a (same build, same data):"
compare "$b" "$a"
read -r within total < <(q "SELECT count(*) FILTER (WHERE verdict = 'within noise'), count(*) FROM perf_compare($b, $a)" | tr '|' ' ')
share=$(python3 -c "print(f'{100 * $within / $total:.0f}')")
if (( within * 10 >= total * 9 )); then same=PASS; else same=FAIL; fi

q "DROP INDEX idx_customers_not_deleted; ANALYZE customers"
c=$(run)
echo "[noise] run $c against run $a (idx_customers_not_deleted dropped):"
compare "$c" "$a"
users=$(q "SELECT string_agg(test_id, ' ' ORDER BY test_id) FROM performance_test_results
            WHERE run_id = $a AND 'idx_customers_not_deleted' = ANY (index_scans) AND target_ms IS NOT NULL")
flagged=$(q "SELECT string_agg(c.test_id, ' ' ORDER BY c.test_id) FROM perf_compare($c, $a) c
              JOIN performance_test_results r ON r.run_id = $a AND r.test_id = c.test_id
             WHERE 'idx_customers_not_deleted' = ANY (r.index_scans) AND c.verdict = 'regressed'")
others=$(q "SELECT coalesce(string_agg(c.test_id, ' ' ORDER BY c.test_id), '-') FROM perf_compare($c, $a) c
             JOIN performance_test_results r ON r.run_id = $a AND r.test_id = c.test_id
            WHERE NOT ('idx_customers_not_deleted' = ANY (coalesce(r.index_scans, '{}'))) AND c.verdict = 'regressed'")
if [[ -n $users && $users == "$flagged" ]]; then dropped=PASS; else dropped=FAIL; fi

echo "[noise] ----"
echo "[noise] $same same build: $within of $total timed tests within noise ($share %; needs 90 %)"
echo "[noise] $dropped index dropped: tests that used it: ${users:-none}; flagged regressed: ${flagged:-none}; other tests flagged: $others"
[[ $same == PASS && $dropped == PASS ]]
