#!/usr/bin/env bash
# Runs the whole test suite (pure Rust unit tests and #[pg_test]s in a real
# PostgreSQL) on a fresh Debian machine, as root or as a user with sudo.
#   scripts/test.sh            # PostgreSQL 15
# Set-up is done first by scripts/setup.sh (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

PG=${PG_PERFSUITE_PG:-pg15}
scripts/setup.sh

# Postgres refuses to run as root: the test cluster runs as the postgres OS user, in a
# data directory that user owns (recreated by cargo pgrx each run).
PGDATA_DIR=${PG_PERFSUITE_TEST_PGDATA:-/var/tmp/pg_perfsuite-test/$PG}
mkdir -p "$(dirname "$PGDATA_DIR")"
chown postgres:postgres "$(dirname "$PGDATA_DIR")"

echo "[test] cargo pgrx test $PG --runas postgres --pgdata $PGDATA_DIR"
cargo pgrx test "$PG" --runas postgres --pgdata "$PGDATA_DIR"
