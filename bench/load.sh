#!/usr/bin/env bash
# Load-test benchmark. On the plan's data in one throwaway cluster, the plan's
# pgbench run (10 clients, 2 threads, the customer-list + fuzzy search script, one
# company; 1000 transactions per client, see TXNS) three ways, in one run, and the ratios:
#   1. real pgbench, simple protocol   (bench/baseline/pgbench_customer_load.sql)
#   2. real pgbench, -M prepared       (bench/baseline/pgbench_customer_load_prepared.sql)
#   3. perf_load_test with the same statements, clients and transactions
# TPS, and latency p50/p95 (pgbench's from its per-transaction log, -l). Then:
#   - the customer-list statement alone (the same 10 clients): how much per-transaction
#     overhead the in-server runner saves when the statement itself is cheap (target:
#     at least 2x pgbench -M prepared's TPS); on the plan's script, whose fuzzy search
#     dominates, the target is not being slower than pgbench -M prepared;
#   - the machine's bound: the server's own time per transaction (the statements' mean
#     execution time with one client) and the TPS the CPUs allow at that cost;
#   - latency agreement: one client at a fixed 100 transactions/s (pgbench -R, so no
#     queueing on either side), where both should see the same latencies: p50 and p95
#     of perf_load_test must be within 30 % or 1 ms (whichever is larger) of those of
#     pgbench's -l log, else the script exits 1. pgbench's figures also hold its own
#     wake-ups and the round trip, which the in-server figure does not; 1000
#     transactions keep the p95 from resting on a handful of samples.
#   bench/load.sh                         # PERF_BENCH_CLIENTS / PERF_BENCH_TXNS to change the load
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
source scripts/lib/cluster.sh
CLIENTS=${PERF_BENCH_CLIENTS:-10}
# The plan's pgbench run is 10 clients x 100; here that is a third of a second, start-up
# included, too short to measure. Ten times as many per client, same on both sides.
TXNS=${PERF_BENCH_TXNS:-1000}
COMPANY=aaaaaaaa-aaaa-aaaa-aaaa-000000000001

install_extension
cluster_start "max_worker_processes=$((CLIENTS + 8))" shared_buffers=256MB
psql_pg -q -d postgres -c "CREATE DATABASE bench"
psql_pg -q -d bench -c "CREATE EXTENSION pg_perfsuite CASCADE"
echo "[bench] building the plan's data (a one-test run commits its environment)"
psql_pg -q -d bench -c "SET client_min_messages = warning" -c "SELECT count(*) FROM perf_run('1.2', iterations => 1)" >/dev/null
# The same two statements with the same single company as pgbench's -D.
psql_pg -q -d bench -c "INSERT INTO perf_load_scripts (name, script, variables)
  SELECT 'bench-one-company', script, jsonb_build_object('company_id', '$COMPANY', 'search_term', 'john')
    FROM perf_load_scripts WHERE name = 'plan';
  INSERT INTO perf_load_scripts (name, script, variables)
  SELECT 'bench-list-one-company', script, jsonb_build_object('company_id', '$COMPANY')
    FROM perf_load_scripts WHERE name = 'plan-list'"
# The list statement alone, for pgbench (first statement of the plan's prepared-mode script).
LIST_SQL=$(as_pg mktemp --suffix=.sql)
grep -v '^--' bench/baseline/pgbench_customer_load_prepared.sql | head -1 | as_pg tee "$LIST_SQL" >/dev/null

LOGDIR=$(as_pg mktemp -d)
# pgbench_run mode file clients txns [extra pgbench options...]: "tps p50 p95", the
# percentiles from pgbench's per-transaction log (-l): client_id transaction_no time(us)
# script_no epoch epoch_us [schedule_lag(us) with -R]; latency = time - lag.
pgbench_run() {
  local mode=$1 file=$2 clients=$3 txns=$4 out; shift 4
  as_pg rm -f "$LOGDIR"/pgbench_log.*
  out=$(cd "$LOGDIR" && as_pg "$BIN/pgbench" -h "$WORK" -p "$PORT" -U postgres -n -M "$mode" -c "$clients" -j 2 -t "$txns" \
          -D company_id=$COMPANY -D search_term=john -l "$@" -f "$file" bench 2>&1)
  local tps p50 p95
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<< "$out" | head -1)
  read -r p50 p95 < <(as_pg cat "$LOGDIR"/pgbench_log.* | awk '{print ($3 - (NF >= 7 ? $7 : 0)) / 1000}' | sort -n \
      | awk '{a[NR]=$1} END {i50=int(NR*0.50); i95=int(NR*0.95); if (i50<1) i50=1; if (i95<1) i95=1; print a[i50], a[i95]}')
  echo "$tps $p50 $p95"
}

# perf_run script clients txns [rate]: "tps p50 p95"
perf_run() {
  psql_pg -At -F ' ' -d bench -c "SET client_min_messages = warning" \
    -c "SELECT round(tps::numeric, 1), round(lat_p50_ms::numeric, 3), round(lat_p95_ms::numeric, 3)
          FROM perf_load_test(clients => $2, transactions => $3, script => '$1', rate => ${4:-NULL})" | tail -1
}

row() { printf '%-30s %10s %10s %10s\n' "$@"; }

read -r s_tps s_p50 s_p95 < <(pgbench_run simple "$PWD/bench/baseline/pgbench_customer_load.sql" "$CLIENTS" "$TXNS")
read -r p_tps p_p50 p_p95 < <(pgbench_run prepared "$PWD/bench/baseline/pgbench_customer_load_prepared.sql" "$CLIENTS" "$TXNS")
read -r i_tps i_p50 i_p95 < <(perf_run bench-one-company "$CLIENTS" "$TXNS")

LIST_TXNS=$((TXNS * 3))   # a cheaper statement: more of them for a comparable duration
read -r lp_tps lp_p50 lp_p95 < <(pgbench_run prepared "$LIST_SQL" "$CLIENTS" "$LIST_TXNS")
read -r li_tps li_p50 li_p95 < <(perf_run bench-list-one-company "$CLIENTS" "$LIST_TXNS")

read -r ap_tps ap_p50 ap_p95 < <(pgbench_run prepared "$PWD/bench/baseline/pgbench_customer_load_prepared.sql" 1 1000 -R 100)
read -r ai_tps ai_p50 ai_p95 < <(perf_run bench-one-company 1 1000 100)
# One client, back to back: the statements' own time with nothing else running (the
# last one-client run of this script, which the bound below reads).
read -r solo_tps _ _ < <(perf_run bench-one-company 1 1000)

echo
echo "== the plan's script (customer list + fuzzy search), $CLIENTS clients x $TXNS =="
row runner TPS "p50 ms" "p95 ms"
row "pgbench -M simple" "$s_tps" "$s_p50" "$s_p95"
row "pgbench -M prepared" "$p_tps" "$p_p50" "$p_p95"
row "perf_load_test" "$i_tps" "$i_p50" "$i_p95"
echo
echo "== the customer-list statement alone, $CLIENTS clients x $LIST_TXNS =="
row "pgbench -M prepared" "$lp_tps" "$lp_p50" "$lp_p95"
row "perf_load_test" "$li_tps" "$li_p50" "$li_p95"
echo
echo "== latency agreement: the plan's script, 1 client x 1000 at 100 transactions/s =="
row "pgbench -M prepared -R 100" "$ap_tps" "$ap_p50" "$ap_p95"
row "perf_load_test rate => 100" "$ai_tps" "$ai_p50" "$ai_p95"
echo
# Where the plan's script spends its time inside the server, per statement (1: the
# customer list, 2: the fuzzy search), under 10 clients and with one.
echo "== the plan's script per statement (perf_load_statement_stats, mean ms per call) =="
psql_pg -At -d bench -c "SELECT r.clients || ' client(s): ' || string_agg('statement ' || s.statement_no || ' '
                                || round(s.avg_ms::numeric, 3) || ' ms', ', ' ORDER BY s.statement_no)
                           FROM perf_load_runs r JOIN perf_load_statement_stats s USING (load_id)
                          WHERE r.script = 'bench-one-company' GROUP BY r.load_id, r.clients ORDER BY r.load_id"
echo
# The statements' own time per transaction, from the one-client back-to-back run (no
# queueing, no pacing): the CPU a transaction costs whoever sends it.
ms_per_txn=$(psql_pg -At -d bench -c "SELECT round(sum(s.avg_ms)::numeric, 3) FROM perf_load_statement_stats s
    WHERE s.load_id = (SELECT max(load_id) FROM perf_load_runs WHERE script = 'bench-one-company' AND clients = 1)")
echo "one client back to back: $solo_tps TPS"
echo "$(date -u +%F), $(nproc) CPUs: the plan's script costs the server ${ms_per_txn} ms of statement time per transaction"
python3 - "$i_tps" "$p_tps" "$s_tps" "$li_tps" "$lp_tps" "$ai_p50" "$ap_p50" "$ai_p95" "$ap_p95" "$ms_per_txn" "$(nproc)" <<'PY'
import sys
i, p, s, li, lp, a50, b50, a95, b95, ms_txn, cpus = map(float, sys.argv[1:])
bound = cpus * 1000 / ms_txn
print(f"machine bound : {cpus:.0f} CPUs / {ms_txn:.3f} ms per transaction = at most {bound:.0f} TPS for the plan's script, whoever runs it;"
      f" perf_load_test reached {i / bound:.0%} of it, pgbench -M prepared {p / bound:.0%} (its clients and protocol need CPU too)")
ok = True
plan_ok = i / p >= 1.0
list_ok = li / lp >= 2.0
ok &= plan_ok and list_ok
print(f"plan's script : perf_load_test {i / p:.2f}x pgbench -M prepared TPS (target >= 1.0, not slower): {'PASS' if plan_ok else 'FAIL'}; {i / s:.2f}x pgbench simple")
print(f"list statement: perf_load_test {li / lp:.2f}x pgbench -M prepared TPS (target >= 2.0): {'PASS' if list_ok else 'FAIL'}")
for name, ours, theirs in (("p50", a50, b50), ("p95", a95, b95)):
    tol = max(0.30 * theirs, 1.0)
    good = abs(ours - theirs) <= tol
    ok &= good
    print(f"agreement {name}: perf_load_test {ours:.3f} ms vs pgbench -l {theirs:.3f} ms, tolerance {tol:.3f} ms: {'PASS' if good else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
