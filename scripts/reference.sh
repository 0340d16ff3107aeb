#!/usr/bin/env bash
# Writes docs/reference.md from the catalog of a fresh install (scripts/sql/reference.sql):
# every function, table, view and sequence with its comment. Run it after changing a
# signature or a COMMENT; the client test install.rs fails while the file is stale.
#   scripts/reference.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
source scripts/lib/cluster.sh
PERF_PROFILE=dev install_extension
cluster_start
psql_pg -q -d postgres -c "CREATE DATABASE reference"
psql_pg -q -d reference -c "CREATE EXTENSION pg_perfsuite CASCADE"
psql_pg -d reference -At -f scripts/sql/reference.sql > docs/reference.md
echo "[reference] docs/reference.md: $(wc -l < docs/reference.md) lines"
