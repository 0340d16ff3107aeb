#!/usr/bin/env bash
# A result that says why, on real runs. In one throwaway cluster, one database, this
# build, background runs (the default) with nothing between them (no VACUUM, no ANALYZE
# by hand: each run puts back the state its seed defines and vacuums the tables under
# test):
#   1. six runs of the whole plan: each compared with the run before by perf_compare
#      (each test with the last run that ran it). Same build, same state: no test should
#      be "regressed", and a plan that changes between equal states is counted as
#      unstable;
#   2. DROP INDEX idx_customers_not_deleted, three more runs (a shift needs about three
#      runs on its far side before a 5 % permutation test can see it): perf_compare names the plan
#      change of 1.1, and perf_history('1.1') marks exactly the first run without it as
#      its change point, and says whether the canary (the machine) moved with it;
#   3. from the last run: the measured advice for 2.4 (the index built, measured and
#      rolled back), the waits of 5.4-same (the lock), the cost of 3.1, the canary.
# Prints the figures and PASS/FAIL lines.
#   bench/history.sh                        # the plan's iteration counts
#   PERF_BENCH_RUNS=8 bench/history.sh      # more same-build runs
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
source scripts/lib/cluster.sh
RUNS=${PERF_BENCH_RUNS:-6}

install_extension
cluster_start max_worker_processes=16
q() { psql_pg -d perf -Atq -c "SET client_min_messages = warning" -c "$1"; }
psql_pg -q -d postgres -c "CREATE DATABASE perf"
q "CREATE EXTENSION pg_perfsuite CASCADE"
echo "[history] $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(q 'SHOW server_version'), $RUNS same-build runs"
run() {
  q "SELECT count(*) FROM perf_run_all()" >/dev/null
  q "SELECT max(run_id) FROM perf_runs"
}

first=$(run)
last=$first
regressed=0; compared=0; unstable=0
for _ in $(seq 2 "$RUNS"); do
  r=$(run)
  read -r n reg < <(q "SELECT count(*), count(*) FILTER (WHERE verdict = 'regressed') FROM perf_compare($r)" | tr '|' ' ')
  compared=$((compared + n)); regressed=$((regressed + reg))
  echo "[history] run $r: $reg of $n timed tests regressed$(q "SELECT coalesce(': ' || string_agg(test_id || ' x' || round(median_ratio::numeric, 2), ', '), '') FROM perf_compare($r) WHERE verdict = 'regressed'")"
  u=$(q "SELECT count(*) FROM performance_test_results r, jsonb_array_elements(r.findings) f
          WHERE r.run_id = $r AND f->>'kind' = 'plan_changed' AND (f->>'same_state')::bool")
  unstable=$((unstable + u))
  [[ $u == 0 ]] || q "SELECT '[history]   unstable plan: ' || r.test_id || ': ' || (f->'change')::text
                        FROM performance_test_results r, jsonb_array_elements(r.findings) f
                       WHERE r.run_id = $r AND f->>'kind' = 'plan_changed'"
  last=$r
done
states=$(q "SELECT count(DISTINCT state_fingerprint) FROM perf_runs WHERE run_id BETWEEN $first AND $last")
echo "[history] state fingerprints over the $RUNS runs: $states distinct; the last run's state: $(q "SELECT state FROM perf_runs WHERE run_id = $last")"

q "DROP INDEX idx_customers_not_deleted"
c1=$(run)
run >/dev/null
c2=$(run)
echo "[history] run $c1 (index dropped) against the run before:"
psql_pg -d perf -P pager=off -c "SELECT test_id, baseline_ms, current_ms, verdict, median_ratio, plan_changed, plan_change
                                   FROM perf_compare($c1) WHERE plan_changed OR verdict <> 'within noise' ORDER BY test_id"
change=$(q "SELECT coalesce(plan_change, '') FROM perf_compare($c1) WHERE test_id = '1.1'")
echo "[history] perf_history('1.1'):"
psql_pg -d perf -P pager=off -c "SELECT run_id, round(figure_ms::numeric, 3) AS figure_ms, round(band_low_ms::numeric, 3) AS band_low,
                                        round(band_high_ms::numeric, 3) AS band_high, plan_changed, canary_ms, canary_change_point,
                                        change_point, shift
                                   FROM perf_history('1.1')"
marked=$(q "SELECT coalesce(string_agg(run_id::text, ' '), '') FROM perf_history('1.1') WHERE change_point")

echo "[history] 2.4's index advice (run $c2):"
q "SELECT '[history]   ' || (rec->>'evidence') || ' => ' || (rec->>'action')
     FROM jsonb_array_elements((perf_report($c2, 'json')::jsonb)->'recommendations') rec
    WHERE rec->>'test_id' = '2.4' AND rec->>'kind' = 'seq_scan'"
measured=$(q "SELECT count(*) FROM jsonb_array_elements((perf_report($c2, 'json')::jsonb)->'recommendations') rec
               WHERE rec->>'test_id' = '2.4' AND rec ? 'measured_speedup'")
echo "[history] waits and cost (run $c2):"
psql_pg -d perf -P pager=off -c "SELECT test_id, (waits->>'samples')::int AS samples,
                                        (SELECT string_agg((e->>'event') || ' ' || round(100 * (e->>'share')::numeric) || ' %', ', ')
                                           FROM jsonb_array_elements(waits->'events') e) AS waits,
                                        resources->>'cpu_ms' AS cpu_ms, resources->>'wal_bytes' AS wal_bytes,
                                        resources->>'shared_hit' AS hit, resources->>'shared_read' AS read
                                   FROM performance_test_results WHERE run_id = $c2 AND test_id IN ('1.1', '2.4', '3.1', '5.4-same', 'L.1')
                                  ORDER BY test_id"
lock=$(q "SELECT coalesce(sum((e->>'samples')::int), 0) FROM performance_test_results r, jsonb_array_elements(r.waits->'events') e
           WHERE r.run_id = $c2 AND r.test_id = '5.4-same' AND e->>'event' LIKE 'Lock:%'")
echo "[history] canary over all runs (ms): $(q "SELECT string_agg(round(canary_ms::numeric, 2)::text, ' ' ORDER BY run_id) FROM perf_runs")"

echo "[history] ----"
if (( regressed == 0 )); then v=PASS; else v=FAIL; fi
echo "[history] $v same build: $regressed of $compared comparisons regressed over $((RUNS - 1)) run pairs; $unstable unstable plans"
if [[ $change == *"no longer uses idx_customers_not_deleted"* ]]; then p=PASS; else p=FAIL; fi
echo "[history] $p perf_compare names 1.1's plan change: $change"
if [[ $marked == "$c1" ]]; then h=PASS; else h=FAIL; fi
echo "[history] $h perf_history('1.1') change points: ${marked:-none} (first run without the index: $c1)"
if (( measured > 0 )); then m=PASS; else m=FAIL; fi
echo "[history] $m 2.4's recommendation is measured"
if (( lock > 0 )); then l=PASS; else l=FAIL; fi
echo "[history] $l 5.4-same's waits name the lock ($lock samples)"
[[ $v == PASS && $p == PASS && $h == PASS && $m == PASS && $l == PASS ]]
