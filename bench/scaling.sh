#!/usr/bin/env bash
# Does perf_scaling say what breaks first? In one throwaway cluster, two sweeps of the
# timed tests at scales 1, 3 and 10 (11k to 110k customers): one on the reference
# schema as installed, one with the partial index idx_customers_not_deleted dropped.
# Criteria: with the index, the customer-list tests (1.1, 5.2) are not flagged; without
# it, both are flagged as growing with the data and their note names the scan that
# reads the rows. The sweeps' tables and the dropped-index sweep's report are printed.
#   bench/scaling.sh
#   PERF_BENCH_SCALES='{1,10,100}' bench/scaling.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
source scripts/lib/cluster.sh
SCALES=${PERF_BENCH_SCALES:-'{1,3,10}'}

install_extension
cluster_start shared_buffers=512MB max_wal_size=8GB maintenance_work_mem=256MB max_worker_processes=32
psql_pg -q -d postgres -c "CREATE DATABASE perf"
psql_pg -q -d perf -c "CREATE EXTENSION pg_perfsuite CASCADE"
echo "[bench] $(date -u +%F) $(nproc) CPUs, PostgreSQL $(psql_pg -At -d perf -c 'SHOW server_version')"

# sweep N: run sweep N, print its verdicts.
sweep() {
  psql_pg -q -d perf -c "SET client_min_messages = warning" -c "SELECT count(*) FROM perf_scaling(scales => '$SCALES')" >/dev/null
  psql_pg -d perf -P pager=off -c "SELECT test_id, round(slope::numeric, 2) AS slope, round(r2::numeric, 2) AS r2,
      growth, flagged, round(extrapolated_ms::numeric, 2) AS extrapolated_ms, left(note, 160) AS note
    FROM perf_scaling_results($1) ORDER BY test_id"
}
# flagged N TEST: "flagged|note" of TEST in sweep N.
flagged() {
  psql_pg -At -d perf -c "SELECT coalesce((SELECT flagged || '|' || note FROM perf_scaling_results($1) WHERE test_id = '$2'), 'missing|')"
}

echo "== sweep 1: the reference schema as installed =="
sweep 1
with_1_1=$(flagged 1 1.1); with_5_2=$(flagged 1 5.2)

echo "== sweep 2: idx_customers_not_deleted dropped =="
psql_pg -q -d perf -c "DROP INDEX public.idx_customers_not_deleted"
sweep 2
without_1_1=$(flagged 2 1.1); without_5_2=$(flagged 2 5.2)
psql_pg -At -d perf -c "SELECT perf_scaling_report()"

ok=1
check() { if [[ $2 == "$3" ]]; then echo "PASS: $1"; else echo "FAIL: $1"; ok=0; fi; }
check "with the index, 1.1 is not flagged" "${with_1_1%%|*}" false
check "with the index, 5.2 is not flagged" "${with_5_2%%|*}" false
check "without it, 1.1 is flagged" "${without_1_1%%|*}" true
check "without it, 5.2 is flagged" "${without_5_2%%|*}" true
for n in "$without_1_1" "$without_5_2"; do
  if [[ ${n#*|} == *Scan*customers* ]]; then echo "PASS: the note names the scan: ${n#*|}" | cut -c1-240; else echo "FAIL: no scan named: ${n#*|}"; ok=0; fi
done
[[ $ok == 1 ]]
