#!/usr/bin/env bash
# The main job: build and install pg_perfsuite into PostgreSQL 15, start a throwaway
# cluster (as the postgres OS user, on a free port), CREATE EXTENSION, run
# SELECT * FROM perf_run_all(), print the results, then stop and remove the cluster.
#   scripts/run-plan.sh                 # release build, the plan's iteration counts
#   PERF_KEEP_CLUSTER=1 scripts/run-plan.sh   # leave the cluster running (prints how to connect)
#   PERF_PROFILE=dev scripts/run-plan.sh      # faster debug build
set -euo pipefail
cd "$(dirname "$0")/.."

PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
scripts/setup.sh

BIN=$($PG_CONFIG --bindir)
profile_flag=(--release)
[[ ${PERF_PROFILE:-release} == dev ]] && profile_flag=()
echo "[run] cargo pgrx install ${profile_flag[*]} --pg-config $PG_CONFIG"
cargo pgrx install "${profile_flag[@]}" --pg-config "$PG_CONFIG" >/dev/null

# A free TCP port, asked of the kernel.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
WORK=$(mktemp -d /var/tmp/pg_perfsuite-run.XXXXXX)
chown postgres:postgres "$WORK"
as_pg() { if [[ $(id -un) == postgres ]]; then "$@"; else sudo -u postgres -- "$@"; fi; }

cleanup() {
  if [[ -n ${PERF_KEEP_CLUSTER:-} ]]; then
    echo "[run] cluster left running: psql -h $WORK -p $PORT -U postgres perf ; stop with: sudo -u postgres $BIN/pg_ctl -D $WORK/data stop"
    return
  fi
  as_pg "$BIN/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "[run] throwaway cluster in $WORK on port $PORT"
as_pg "$BIN/initdb" -D "$WORK/data" -U postgres --auth=trust >/dev/null
as_pg "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w \
  -o "-p $PORT -k $WORK -c listen_addresses=''" start >/dev/null
psql_pg() { as_pg "$BIN/psql" -h "$WORK" -p "$PORT" -U postgres -X -v ON_ERROR_STOP=1 "$@"; }
psql_pg -q -d postgres -c "CREATE DATABASE perf"
psql_pg -q -d perf -c "CREATE EXTENSION pg_perfsuite CASCADE"
echo "[run] SELECT * FROM perf_run_all();"
psql_pg -d perf -P pager=off -c "SELECT test_id, name, statistic, target_ms, measured_ms, status, notes FROM perf_run_all()"
psql_pg -d perf -P pager=off -c "SELECT run_id, status, overall, tests_total, tests_passed, tests_warned, tests_failed, tests_errored, data_volume FROM perf_runs"
