#!/usr/bin/env bash
# Runs rustfmt and clippy, then every test on a fresh Debian machine, as root or as a
# user with sudo:
#   1. unit tests and #[pg_test]s (in a real server): cargo pgrx test
#   2. client-driven tests (pgrx-tests/: background workers, pg_cron, roles that log
#      in, cancellation) against a throwaway cluster with the extension installed.
#   3. the package (scripts/test-package.sh): built, installed without cargo, the
#      extension created and part of the plan run;
#   4. the upgrade from the released version (scripts/test-upgrade.sh): history kept,
#      catalog equal to a fresh install.
#   scripts/test.sh            # PostgreSQL 15
# Set-up is done first by scripts/setup.sh (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

PG=${PG_PERFSUITE_PG:-pg15}
scripts/setup.sh

# Formatting and lints first (PostgreSQL 15 build only; the matrix checks behaviour).
if [[ $PG == pg15 && ${PG_PERFSUITE_LINT:-1} == 1 ]]; then
  echo "[test] cargo fmt --all --check"
  cargo fmt --all --check
  echo "[test] cargo clippy (extension and client tests) -D warnings"
  cargo clippy --quiet --features "pg15 pg_test" --tests -- -D warnings
  cargo clippy --quiet -- -D warnings
  cargo clippy --quiet -p pg_perfsuite_client_tests --tests -- -D warnings
  echo "[test] install and upgrade scripts: every call and operator schema-qualified"
  python3 scripts/sql/unqualified_calls.py
fi

# Postgres refuses to run as root: the test cluster runs as the postgres OS user, in a
# data directory that user owns (recreated by cargo pgrx each run).
PGDATA_DIR=${PG_PERFSUITE_TEST_PGDATA:-/var/tmp/pg_perfsuite-test/$PG}
mkdir -p "$(dirname "$PGDATA_DIR")"
chown postgres:postgres "$(dirname "$PGDATA_DIR")"

echo "[test] cargo pgrx test $PG --runas postgres --pgdata $PGDATA_DIR"
cargo pgrx test "$PG" --runas postgres --pgdata "$PGDATA_DIR"

# Client-driven tests: this version's pg_config (registered with cargo pgrx init), the
# extension installed into it, a throwaway cluster with what the tests need preloaded.
PGRX_HOME=${PGRX_HOME:-$HOME/.pgrx}
PG_CONFIG=$(sed -n "s/^$PG = \"\(.*\)\"$/\1/p" "$PGRX_HOME/config.toml")
[[ -x $PG_CONFIG ]] || { echo "[test] no pg_config for $PG in $PGRX_HOME/config.toml" >&2; exit 1; }
export PG_CONFIG
source scripts/lib/cluster.sh
PERF_PROFILE=dev install_extension
preload=()
for lib in pg_cron pg_stat_statements; do
  [[ -f $($PG_CONFIG --pkglibdir)/$lib.so ]] && preload+=("$lib")
done
DB=perf_client_tests
opts=(max_worker_processes=24 cron.database_name=$DB cron.use_background_workers=on)
((${#preload[@]})) && opts+=("shared_preload_libraries=$(IFS=,; echo "${preload[*]}")")
cluster_start "${opts[@]}"
psql_pg -q -d postgres -c "CREATE DATABASE $DB"
psql_pg -q -d "$DB" -c "CREATE EXTENSION pg_perfsuite"
echo "[test] client tests (pgrx-tests/) against $WORK:$PORT, preloaded: ${preload[*]:-none}"
PG_PERFSUITE_TEST_HOST=$WORK PG_PERFSUITE_TEST_PORT=$PORT PG_PERFSUITE_TEST_DB=$DB PG_PERFSUITE_TEST_BINDIR=$BIN \
  cargo test -p pg_perfsuite_client_tests

cluster_stop
trap - EXIT

# The package a DBA installs (.deb for Debian's PostgreSQL, a tarball otherwise), with
# cargo out of the way; it removes what it installed.
scripts/test-package.sh "${PG#pg}"

# Last, because it installs the released library for a while (and this one again after).
scripts/test-upgrade.sh
