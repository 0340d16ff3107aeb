# Throwaway PostgreSQL cluster helpers (the server PG_CONFIG names; PostgreSQL 15 by
# default), sourced by scripts/run-plan.sh, scripts/test.sh and bench/*.sh.
# Runs the server as the postgres OS user (PostgreSQL refuses root), on a free port,
# in a temporary directory removed on exit unless PERF_KEEP_CLUSTER is set.

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
BIN=$($PG_CONFIG --bindir)

as_pg() { if [[ $(id -un) == postgres ]]; then "$@"; else sudo -u postgres -- "$@"; fi; }

# Build and install the extension (release unless PERF_PROFILE=dev).
install_extension() {
  local flags=(--release)
  [[ ${PERF_PROFILE:-release} == dev ]] && flags=()
  echo "[cluster] cargo pgrx install ${flags[*]} --pg-config $PG_CONFIG"
  cargo pgrx install "${flags[@]}" --pg-config "$PG_CONFIG" >/dev/null
}

cluster_stop() {
  if [[ -n ${PERF_KEEP_CLUSTER:-} ]]; then
    echo "[cluster] left running: psql -h $WORK -p $PORT -U postgres <db>; stop: sudo -u postgres $BIN/pg_ctl -D $WORK/data stop"
    return
  fi
  as_pg "$BIN/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}

# cluster_start [postgres -c options...]: sets WORK and PORT, stops the cluster on exit.
cluster_start() {
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  WORK=$(mktemp -d /var/tmp/pg_perfsuite-run.XXXXXX)
  chown postgres:postgres "$WORK"
  trap cluster_stop EXIT
  echo "[cluster] throwaway cluster in $WORK on port $PORT"
  as_pg "$BIN/initdb" -D "$WORK/data" -U postgres --auth=trust >/dev/null
  local opts="-p $PORT -k $WORK -c listen_addresses=''"
  for o in "$@"; do opts+=" -c $o"; done
  as_pg "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w -o "$opts" start >/dev/null
}

# The PostgreSQL 17 wheel's psql crashes at start (even --version); any newer-or-older
# psql speaks to the server for what these scripts do, so fall back to Debian's.
PSQL=$BIN/psql
if ! as_pg "$PSQL" --version >/dev/null 2>&1; then
  PSQL=/usr/lib/postgresql/15/bin/psql
fi

psql_pg() { as_pg "$PSQL" -h "$WORK" -p "$PORT" -U postgres -X -v ON_ERROR_STOP=1 "$@"; }

# The disk under the cluster: 1 GiB written and fsynced into its directory, the time and
# rate printed. Benchmarks that write gigabytes print it first: this machine's disk
# varies by a factor of two or three over a day, and their figures move with it.
disk_rate() {
  local t0 t1
  t0=$(date +%s.%N)
  as_pg dd if=/dev/zero of="$WORK/disk-probe" bs=16M count=64 conv=fsync status=none
  t1=$(date +%s.%N)
  as_pg rm -f "$WORK/disk-probe"
  python3 -c "t = $t1 - $t0; print(f'[bench] disk: 1 GiB written and fsynced in {t:.2f} s ({1073.741824 / t:.0f} MB/s)')"
}
