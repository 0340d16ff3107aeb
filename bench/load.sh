#!/usr/bin/env bash
# Load-test benchmark (issue 7). On the plan's data in one throwaway cluster, the plan's
# pgbench run (10 clients, 2 threads, 100 transactions each, the customer-list + fuzzy
# search script, one company) three ways, in one run, and the ratios:
#   1. real pgbench, simple protocol   (bench/baseline/pgbench_customer_load.sql)
#   2. real pgbench, -M prepared       (bench/baseline/pgbench_customer_load_prepared.sql)
#   3. perf_load_test with the same statements, clients and transactions
# TPS, and latency p50/p95 (pgbench's from its per-transaction log, -l).
#   bench/load.sh                         # PERF_BENCH_CLIENTS / PERF_BENCH_TXNS to change the load
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
source scripts/lib/cluster.sh
CLIENTS=${PERF_BENCH_CLIENTS:-10}
TXNS=${PERF_BENCH_TXNS:-100}
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
    FROM perf_load_scripts WHERE name = 'plan'"

LOGDIR=$(as_pg mktemp -d)
# pgbench's per-transaction log: client_id transaction_no time(us) script_no epoch epoch_us
pgbench_run() {
  local mode=$1 file=$2 out
  as_pg rm -f "$LOGDIR"/pgbench_log.*
  out=$(cd "$LOGDIR" && as_pg "$BIN/pgbench" -h "$WORK" -p "$PORT" -U postgres -n -M "$mode" -c "$CLIENTS" -j 2 -t "$TXNS" \
          -D company_id=$COMPANY -D search_term=john -l -f "$OLDPWD/$file" bench 2>&1)
  local tps p50 p95
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<< "$out" | head -1)
  read -r p50 p95 < <(as_pg cat "$LOGDIR"/pgbench_log.* | awk '{print $3/1000}' | sort -n \
      | awk '{a[NR]=$1} END {i50=int(NR*0.50); i95=int(NR*0.95); if (i50<1) i50=1; if (i95<1) i95=1; print a[i50], a[i95]}')
  echo "$tps $p50 $p95"
}

read -r s_tps s_p50 s_p95 < <(pgbench_run simple bench/baseline/pgbench_customer_load.sql)
read -r p_tps p_p50 p_p95 < <(pgbench_run prepared bench/baseline/pgbench_customer_load_prepared.sql)
read -r i_tps i_p50 i_p95 < <(psql_pg -At -F ' ' -d bench -c "SET client_min_messages = warning" \
   -c "SELECT round(tps::numeric, 1), round(lat_p50_ms::numeric, 3), round(lat_p95_ms::numeric, 3) FROM perf_load_test(clients => $CLIENTS, transactions => $TXNS, script => 'bench-one-company')" | tail -1)

echo
printf '%-28s %10s %10s %10s\n' "runner ($CLIENTS clients x $TXNS)" "TPS" "p50 ms" "p95 ms"
printf '%-28s %10s %10s %10s\n' "pgbench -M simple" "$s_tps" "$s_p50" "$s_p95"
printf '%-28s %10s %10s %10s\n' "pgbench -M prepared" "$p_tps" "$p_p50" "$p_p95"
printf '%-28s %10s %10s %10s\n' "perf_load_test" "$i_tps" "$i_p50" "$i_p95"
echo
python3 - "$i_tps" "$p_tps" "$s_tps" "$i_p50" "$p_p50" <<'PY'
import sys
i, p, s, i50, p50 = map(float, sys.argv[1:])
print(f"perf_load_test vs pgbench -M prepared: {i / p:.2f}x TPS (target >= 1.5x)")
print(f"perf_load_test vs pgbench -M simple  : {i / s:.2f}x TPS")
print(f"p50 latency, perf_load_test / pgbench prepared: {i50 / p50:.2f} (in-server latency excludes network and protocol time)")
PY
