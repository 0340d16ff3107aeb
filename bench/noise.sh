#!/usr/bin/env bash
# Does perf_compare tell noise from a real regression, on real runs? In one throwaway
# cluster, one database, this build:
#   0. a warm-up run of the whole plan (creates the data; its first reads set hint bits
#      and fill the caches, which would make it slower than any later run);
#   Before each run below, VACUUM ANALYZE: every run's scenario setups delete and insert
#   rows (bulk and delete-test customers), so without it each run meets more dead rows
#   and different statistics than the one before (a drift, not noise). A nightly
#   schedule has autovacuum between runs; here the runs follow each other at once.
#   1. runs A1, A2, A3: the history each test's noise band is learned from; A3 is
#      pinned as the baseline (perf_set_baseline);
#   2. run B: the same build, the same data: at least 90 % of the timed tests should be
#      "within noise";
#   3. DROP INDEX idx_customers_not_deleted (the plan's partial index), run C: every
#      test whose plan used that index in A and that got clearly slower (median 1.5x or
#      more) should be "regressed", and no test that did not use it.
# Prints each comparison and two PASS/FAIL lines. (A test that used the index but whose
# other plan is as fast is rightly "within noise": nothing a DBA must act on.)
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
run() {
  q "VACUUM ANALYZE"
  q "SELECT count(*) FROM perf_run_all(iterations => $ITER, background => false)" >/dev/null
  q "SELECT max(run_id) FROM perf_runs"
}
compare() {
  psql_pg -d perf -P pager=off -c "SELECT test_id, baseline_ms, current_ms, change_pct, verdict, median_ratio,
                                          ratio_low, ratio_high, round(p_value::numeric, 4) AS p_value, noise_band_pct AS band
                                     FROM perf_compare($1, $2) ORDER BY test_id"
}

warm=$(run)
q "DELETE FROM perf_runs WHERE run_id = $warm"    # not history: its first reads were slower
run >/dev/null
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
used="r.run_id = $a AND r.test_id = c.test_id AND 'idx_customers_not_deleted' = ANY (coalesce(r.index_scans, '{}'))"
users=$(q "SELECT string_agg(c.test_id || ' x' || round(c.median_ratio::numeric, 2) || ' ' || c.verdict, ', ' ORDER BY c.test_id)
             FROM perf_compare($c, $a) c JOIN performance_test_results r ON $used")
must=$(q "SELECT coalesce(string_agg(c.test_id, ' ' ORDER BY c.test_id), '') FROM perf_compare($c, $a) c
            JOIN performance_test_results r ON $used WHERE c.median_ratio >= 1.5")
missed=$(q "SELECT coalesce(string_agg(c.test_id, ' ' ORDER BY c.test_id), '') FROM perf_compare($c, $a) c
              JOIN performance_test_results r ON $used WHERE c.median_ratio >= 1.5 AND c.verdict <> 'regressed'")
others=$(q "SELECT coalesce(string_agg(c.test_id, ' ' ORDER BY c.test_id), '') FROM perf_compare($c, $a) c
              JOIN performance_test_results r ON r.run_id = $a AND r.test_id = c.test_id
             WHERE NOT ('idx_customers_not_deleted' = ANY (coalesce(r.index_scans, '{}'))) AND c.verdict = 'regressed'")
if [[ -n $must && -z $missed && -z $others ]]; then dropped=PASS; else dropped=FAIL; fi

echo "[noise] ----"
echo "[noise] $same same build: $within of $total timed tests within noise ($share %; needs 90 %)"
echo "[noise] $dropped index dropped: tests that used it: ${users:-none}"
echo "[noise]      slower 1.5x or more: ${must:-none}; of those not flagged: ${missed:-none}; tests that did not use it flagged: ${others:-none}"
[[ $same == PASS && $dropped == PASS ]]
