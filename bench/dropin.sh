#!/usr/bin/env bash
# The drop-in helper against the plan's: generate_test_customers (Rust) and the plan's
# PL/pgSQL generate_test_customers (bench/baseline/, renamed baseline_...), each called
# ten times (10 companies x 1000 customers, as the plan's scenario 5 does), each side
# into a fresh database with the reference schema, alternated, PERF_BENCH_ROUNDS rounds
# (default 5). Prints each round's times and ratio, and the median ratio.
# Target: the Rust helper at least 2.5x faster.
#
# Then what the safety checks cost: every call checks the schema's trust once (who may
# write there, the objects there; sut::gate) and never per row. Measured as the time of
# 200 calls generating one customer each, with the check (default) and without it
# (pg_perfsuite.trust_schema_owners = on, the superuser's opt-in that skips it), and
# the difference per call next to the time of a 1000-customer call.
#   bench/dropin.sh
#   PERF_BENCH_ROUNDS=3 bench/dropin.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
source scripts/lib/cluster.sh
ROUNDS=${PERF_BENCH_ROUNDS:-5}

install_extension
SETTINGS="shared_buffers=512MB max_wal_size=8GB autovacuum=off"
cluster_start $SETTINGS
echo "[bench] $(date -u +%F) $(nproc) CPUs, PostgreSQL $(psql_pg -At -d postgres -c 'SHOW server_version'), $SETTINGS"

now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }

# A fresh database with the reference schema and the plan's ten companies and users.
new_db() {
  psql_pg -q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
  psql_pg -q -d "$1" -c "SET client_min_messages = warning; CREATE EXTENSION pg_perfsuite; SELECT perf_install_schema();" >/dev/null
  psql_pg -q -d "$1" -f bench/baseline/plpgsql_generate_test_customers.sql
  psql_pg -q -d "$1" -c "
    INSERT INTO companies (id, name) SELECT ('aaaaaaaa-aaaa-aaaa-aaaa-' || LPAD(i::text, 12, '0'))::uuid, 'Test Company ' || i FROM generate_series(1, 10) i;
    INSERT INTO users (id, email, company_id) SELECT ('bbbbbbbb-bbbb-bbbb-bbbb-' || LPAD(i::text, 12, '0'))::uuid,
        'user' || i || '@company' || i || '.com', ('aaaaaaaa-aaaa-aaaa-aaaa-' || LPAD(i::text, 12, '0'))::uuid FROM generate_series(1, 10) i;
    CHECKPOINT;"
}

# Seconds for SQL in one session of database $1.
timed() {
  local t0 t1
  t0=$(now)
  psql_pg -q -At -d "$1" -c "SET client_min_messages = warning" -c "$2" >/dev/null
  t1=$(now)
  calc "$t1 - $t0"
}

ten_calls() {
  echo "DO \$\$ BEGIN FOR i IN 1..10 LOOP
    PERFORM $1(('aaaaaaaa-aaaa-aaaa-aaaa-' || LPAD(i::text, 12, '0'))::uuid, 1000,
               ('bbbbbbbb-bbbb-bbbb-bbbb-' || LPAD(i::text, 12, '0'))::uuid);
  END LOOP; END \$\$"
}

echo "== generate_test_customers x10 (1000 customers each) =="
ratios=()
for r in $(seq 1 "$ROUNDS"); do
  new_db bench_plpgsql
  t_pl=$(timed bench_plpgsql "$(ten_calls baseline_generate_test_customers)")
  new_db bench_rust
  t_rs=$(timed bench_rust "$(ten_calls generate_test_customers)")
  ratio=$(calc "round($t_pl / $t_rs, 2)")
  ratios+=("$ratio")
  echo "round $r: PL/pgSQL ${t_pl}s, Rust ${t_rs}s, ${ratio}x"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -g | sed -n "$(( (ROUNDS + 1) / 2 ))p")
verdict=$(python3 -c "print('PASS' if $median >= 2.5 else 'FAIL')")
echo "median ${median}x the plan's PL/pgSQL helper (target at least 2.5x): $verdict"

echo
echo "== what the trust checks cost (once per call) =="
new_db bench_checks
# One call first: into the empty schema the generator takes its bulk path once.
timed bench_checks "SELECT generate_test_customers('aaaaaaaa-aaaa-aaaa-aaaa-000000000001'::uuid, 10, 'bbbbbbbb-bbbb-bbbb-bbbb-000000000001'::uuid, 0)" >/dev/null
# Each loop its own seeds, so no call repeats another's customers.
calls() {
  echo "SET pg_perfsuite.trust_schema_owners = $1; DO \$\$ BEGIN FOR i IN 1..200 LOOP
    PERFORM generate_test_customers('aaaaaaaa-aaaa-aaaa-aaaa-000000000001'::uuid, 1,
                                    'bbbbbbbb-bbbb-bbbb-bbbb-000000000001'::uuid, $2 * 1000 + i);
  END LOOP; END \$\$"
}
t_with=$(timed bench_checks "$(calls off 1)")
t_without=$(timed bench_checks "$(calls on 2)")
t_with2=$(timed bench_checks "$(calls off 3)")
t_without2=$(timed bench_checks "$(calls on 4)")
per_call=$(calc "round((($t_with + $t_with2) - ($t_without + $t_without2)) / 400 * 1000, 2)")
one_call=$(calc "round($(timed bench_checks "SELECT generate_test_customers('aaaaaaaa-aaaa-aaaa-aaaa-000000000001'::uuid, 1000, 'bbbbbbbb-bbbb-bbbb-bbbb-000000000001'::uuid, 99)") * 1000, 1)")
echo "200 one-customer calls: ${t_with}s / ${t_with2}s with the checks, ${t_without}s / ${t_without2}s without"
echo "trust checks: ${per_call} ms per call (never per row); one 1000-customer call takes ${one_call} ms"
