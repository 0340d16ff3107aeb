#!/usr/bin/env bash
# ALTER EXTENSION pg_perfsuite UPDATE, tested the way a DBA lives it:
#   1. build the released 0.1.0 library from this repository's history (the commit
#      below) and install it with the 0.1.0 install script kept in sql/;
#   2. in a throwaway cluster: CREATE EXTENSION pg_perfsuite VERSION '0.1.0', add a test
#      of one's own, run part of the plan;
#   3. install this checkout's library and scripts, ALTER EXTENSION pg_perfsuite UPDATE;
#   4. prove that (a) every row of every pg_perfsuite table survived, (b) the catalog
#      equals a fresh install of the new version, object by object
#      (scripts/sql/extension_catalog.sql), (c) runs, perf_compare and perf_report work;
#   5. with look-alikes of everything the update and install scripts call planted in the
#      extension's schema (scripts/sql/plant_lookalikes.sql), prove that ALTER EXTENSION
#      UPDATE and CREATE EXTENSION call none of them and bind none into an object, and
#      that the trust guard refuses a schema a role that is not trusted may CREATE in.
# Run by scripts/test.sh after the other tests (it swaps the installed library).
#   scripts/test-upgrade.sh                      # PostgreSQL 15
#   PG_PERFSUITE_PG=pg17 scripts/test-upgrade.sh # a version registered with cargo pgrx init
# Every later version adds its line to UPGRADES and its sql/pg_perfsuite--A--B.sql.
set -euo pipefail
cd "$(dirname "$0")/.."

# The released version, and the commit it was released from.
RELEASED=0.1.0
RELEASED_COMMIT=442d64b37ae55e95897275d3bf44dc9d478b561c
CURRENT=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)

PG=${PG_PERFSUITE_PG:-pg15}
PGRX_HOME=${PGRX_HOME:-$HOME/.pgrx}
PG_CONFIG=$(sed -n "s/^$PG = \"\(.*\)\"$/\1/p" "$PGRX_HOME/config.toml")
[[ -x $PG_CONFIG ]] || { echo "[upgrade] no pg_config for $PG in $PGRX_HOME/config.toml" >&2; exit 1; }
export PG_CONFIG
source scripts/lib/cluster.sh
LIBDIR=$($PG_CONFIG --pkglibdir)
EXTDIR=$($PG_CONFIG --sharedir)/extension

# 1. The released library, built from history. A shallow clone lacks the commit: fetch
# it from the clone's origin if there is one.
if ! git cat-file -e "$RELEASED_COMMIT^{commit}" 2>/dev/null; then
  git fetch --quiet --unshallow 2>/dev/null || git fetch --quiet origin "$RELEASED_COMMIT" 2>/dev/null || true
fi
if ! git cat-file -e "$RELEASED_COMMIT^{commit}" 2>/dev/null; then
  echo "[upgrade] commit $RELEASED_COMMIT ($RELEASED) is not in this clone: clone without --depth" >&2
  exit 1
fi
OLD=target/released-$RELEASED
rm -rf "$OLD/src" "$OLD/package"
mkdir -p "$OLD/src"
git archive "$RELEASED_COMMIT" | tar -x -C "$OLD/src"
echo "[upgrade] building $RELEASED from $RELEASED_COMMIT for $PG"
(cd "$OLD/src" && CARGO_TARGET_DIR=$PWD/../target cargo pgrx package --debug --pg-config "$PG_CONFIG" \
   --out-dir "$PWD/../package" >/dev/null)
built=$OLD/package$EXTDIR/pg_perfsuite--$RELEASED.sql
kept=sql/pg_perfsuite--$RELEASED.sql
# pgrx orders independent items as its dependency graph yields them: compare as line sets.
if ! diff <(sort "$kept") <(sort "$built") >/dev/null; then
  echo "[upgrade] $kept is not what $RELEASED_COMMIT generates:" >&2
  diff <(sort "$kept") <(sort "$built") | head -20 >&2
  exit 1
fi

install -m 755 "$OLD/package$LIBDIR/pg_perfsuite.so" "$LIBDIR/pg_perfsuite.so"
install -m 644 "$OLD/package$EXTDIR/pg_perfsuite.control" "$EXTDIR/pg_perfsuite.control"
install -m 644 "$kept" "$EXTDIR/pg_perfsuite--$RELEASED.sql"

# 2. A database living on the released version.
cluster_start max_worker_processes=16
q() { psql_pg -d "$1" -Atq -c "SET client_min_messages = warning" -c "$2"; }
psql_pg -q -d postgres -c "CREATE DATABASE upgraded" -c "CREATE DATABASE fresh" \
  -c "CREATE DATABASE planted" -c "CREATE DATABASE planted_fresh" -c "CREATE DATABASE untrusted_schema"
q upgraded "CREATE EXTENSION pg_perfsuite VERSION '$RELEASED' CASCADE" >/dev/null
# Updated in step 5 with look-alikes planted; nothing is planted while the released script runs.
q planted "CREATE EXTENSION pg_perfsuite VERSION '$RELEASED' CASCADE" >/dev/null
[[ $(q upgraded "SELECT extversion FROM pg_extension WHERE extname = 'pg_perfsuite'") == "$RELEASED" ]]
q upgraded "INSERT INTO perf_tests (test_id, scenario, name, kind, sql, target_ms, iterations)
            VALUES ('site.1', 9, 'our own list query', 'timed_query',
                    'SELECT id FROM customers WHERE deleted_at IS NULL ORDER BY created_at DESC LIMIT 20', 100, 10)" >/dev/null
echo "[upgrade] $RELEASED: perf_run('1.%') and the site's own test"
q upgraded "SELECT count(*) FROM perf_run('1.%')" >/dev/null
q upgraded "SELECT count(*) FROM perf_run('site.%')" >/dev/null
# A load test of the released version: its row per transaction must survive the update.
q upgraded "SELECT count(*) FROM perf_load_test(clients => 2, transactions => 20, script => 'plan-list')" >/dev/null
# An operator, as a DBA makes one, in a database of its own (grants leave explicit ACLs
# behind, which the catalog comparison below would rightly count as differences): the
# update must name it (perf_run_all and perf_run are created anew, so its grant on
# them goes).
psql_pg -q -d postgres -c "CREATE DATABASE operated"
q operated "CREATE EXTENSION pg_perfsuite VERSION '$RELEASED' CASCADE" >/dev/null
q operated "DROP ROLE IF EXISTS upgrade_op; CREATE ROLE upgrade_op LOGIN" >/dev/null
q operated "SELECT count(*) FROM perf_grant_operator('upgrade_op')" >/dev/null

# Every row of every table of the extension, as JSON, in a stable order, over the
# columns each table has now: what a later version adds is left out of the comparison.
TABLES=$(q upgraded "SELECT string_agg(c.oid::regclass::text, ' ' ORDER BY c.relname)
                       FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
                      WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e' AND c.relkind = 'r'
                        AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_perfsuite')")
declare -A COLUMNS
for t in $TABLES; do
  COLUMNS[$t]=$(q upgraded "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
                             WHERE attrelid = '$t'::regclass AND attnum > 0 AND NOT attisdropped")
done
history() {
  for t in $TABLES; do
    q upgraded "SELECT '$t ' || to_jsonb(x)::text FROM (SELECT ${COLUMNS[$t]} FROM $t) x ORDER BY to_jsonb(x)::text"
  done | sort
}
before=$(history)
runs_before=$(q upgraded "SELECT count(*) FROM perf_runs")
[[ $runs_before -ge 2 ]] || { echo "[upgrade] expected two runs on $RELEASED, found $runs_before" >&2; exit 1; }

# 3. The new library and scripts, as a package upgrade puts them; then the update.
echo "[upgrade] installing $CURRENT and ALTER EXTENSION pg_perfsuite UPDATE"
PERF_PROFILE=dev install_extension
q upgraded "ALTER EXTENSION pg_perfsuite UPDATE" >/dev/null
[[ $(q upgraded "SELECT extversion FROM pg_extension WHERE extname = 'pg_perfsuite'") == "$CURRENT" ]]
said=$(psql_pg -d operated -Atq -c "ALTER EXTENSION pg_perfsuite UPDATE" 2>&1)
if [[ $said != *"upgrade_op could execute the old ones"* ]]; then
  echo "[upgrade] FAIL: the update did not name the operator whose grant it drops: $said" >&2; exit 1
fi
q fresh "CREATE EXTENSION pg_perfsuite CASCADE" >/dev/null

# 4a. History and the site's own test survived, row for row; the update may only add
# rows (the new version's built-in tests and scripts).
after=$(history)
lost=$(comm -23 <(echo "$before") <(echo "$after"))
if [[ -n $lost ]]; then
  echo "[upgrade] FAIL: rows changed or lost across the update:" >&2
  echo "$lost" | cut -c1-300 | sed -n 1,20p >&2
  exit 1
fi
added=$(comm -13 <(echo "$before") <(echo "$after") | cut -d' ' -f1 | sort | uniq -c | xargs)
echo "[upgrade] (a) $(echo "$before" | wc -l) rows in $(echo $TABLES | wc -w) tables unchanged by the update; added: ${added:-none}"

# 4b. The updated catalog is a fresh install's.
psql_pg -d fresh -At -f scripts/sql/extension_catalog.sql > "$WORK/fresh.catalog"
psql_pg -d upgraded -At -f scripts/sql/extension_catalog.sql > "$WORK/upgraded.catalog"
facts=$(wc -l < "$WORK/fresh.catalog")
(( facts > 100 )) || { echo "[upgrade] FAIL: only $facts catalog facts read" >&2; exit 1; }
if ! diff "$WORK/fresh.catalog" "$WORK/upgraded.catalog" > "$WORK/catalog.diff"; then
  echo "[upgrade] FAIL: the updated catalog differs from a fresh $CURRENT install (< fresh, > upgraded):" >&2
  cat "$WORK/catalog.diff" >&2
  exit 1
fi
builtins="SELECT string_agg(test_id || ' ' || md5(coalesce(sql, '') || coalesce(concurrent_sql, '')), ', ' ORDER BY test_id)
            FROM perf_tests WHERE builtin
          UNION ALL SELECT string_agg(name || ' ' || md5(script), ', ' ORDER BY name) FROM perf_load_scripts WHERE builtin"
if [[ $(q fresh "$builtins") != "$(q upgraded "$builtins")" ]]; then
  echo "[upgrade] FAIL: the built-in tests or load scripts differ from a fresh $CURRENT install" >&2
  diff <(q fresh "$builtins" | tr ',' '\n') <(q upgraded "$builtins" | tr ',' '\n') >&2 || true
  exit 1
fi
echo "[upgrade] (b) catalog of the updated database = fresh $CURRENT install ($facts facts; built-in tests and scripts too)"

# 4c. Life goes on: a run, the comparison with the 0.1.0 run, the report.
q upgraded "SELECT count(*) FROM perf_run('1.%')" >/dev/null
status=$(q upgraded "SELECT status FROM perf_runs ORDER BY run_id DESC LIMIT 1")
[[ $status == completed ]] || { echo "[upgrade] FAIL: the first run after the update is $status" >&2; exit 1; }
compared=$(q upgraded "SELECT count(*) FROM perf_compare() WHERE method LIKE 'figures only%'")
[[ $compared -ge 1 ]] || { echo "[upgrade] FAIL: perf_compare found no 0.1.0 results to compare with" >&2; exit 1; }
q upgraded "SELECT perf_report()" | grep -q "Against run" || { echo "[upgrade] FAIL: report" >&2; exit 1; }
[[ $(q upgraded "SELECT count(*) FROM perf_tests WHERE test_id = 'site.1' AND NOT builtin") == 1 ]]
# A load test after the update: open loop, histograms in the carried-over tables, the
# released version's load test still there beside it.
q upgraded "SELECT count(*) FROM perf_load_test(clients => 2, transactions => 20, script => 'plan-list', rate => 100)" >/dev/null
[[ $(q upgraded "SELECT count(*) FILTER (WHERE response_hist IS NOT NULL AND rate = 100) || ' ' || count(*) FROM perf_load_runs") == "1 2" ]] \
  || { echo "[upgrade] FAIL: a load test after the update did not record its histograms beside the old one" >&2; exit 1; }
# What the WARNING's HINT says to do gives the operator the new functions.
q operated "SELECT count(*) FROM perf_grant_operator('upgrade_op')" >/dev/null
[[ $(q operated "SELECT has_function_privilege('upgrade_op', 'perf_run_all(text,integer,bigint,boolean,boolean,double precision)', 'EXECUTE')
                    AND has_function_privilege('upgrade_op', 'perf_scaling(double precision[],text,text,bigint,integer,boolean)', 'EXECUTE')") == t ]] \
  || { echo "[upgrade] FAIL: perf_grant_operator after the update did not grant the new functions" >&2; exit 1; }
echo "[upgrade] (d) the update named the operator whose grants it dropped; perf_grant_operator gave them back"
echo "[upgrade] (c) a run and a load test after the update completed; perf_compare and perf_report read the $RELEASED history"

# 5. Look-alikes. The scripts run as a superuser with search_path '<extension schema>,
# pg_temp': whatever in that schema matches a call better than pg_catalog's function or
# operator would run, or be bound into a view or default for good. Plant, in public,
# look-alikes of everything the scripts' text calls (scripts/sql/plant_lookalikes.sql; by
# postgres, a superuser, so the trust guard lets the install go ahead: this tests the
# qualification), update or install, and prove that none ran and nothing depends on one.
# Queries of ours in these databases name everything by schema: they must not hit them.

# The update scripts ALTER EXTENSION UPDATE runs from $RELEASED to $CURRENT, in order, as
# install_extension put them in place.
update_files=()
v=$RELEASED
while [[ $v != "$CURRENT" ]]; do
  next=
  for f in sql/pg_perfsuite--"$v"--*.sql; do
    [[ -e $f ]] || continue
    next=${f#"sql/pg_perfsuite--$v--"}
    next=${next%.sql}
    break
  done
  [[ -n $next && -e $EXTDIR/pg_perfsuite--$v--$next.sql ]] \
    || { echo "[upgrade] FAIL: no update script from $v towards $CURRENT in sql/ and $EXTDIR" >&2; exit 1; }
  update_files+=("$EXTDIR/pg_perfsuite--$v--$next.sql")
  v=$next
done

# plant DB FILE...: scripts/sql/plant_lookalikes.sql in DB, then look-alikes of what the
# FILEs (read by the server) call, in public; prints how many were planted.
plant() {
  local db=$1 f reads=
  shift
  for f in "$@"; do reads+="${reads:+, }pg_catalog.pg_read_file('$f')"; done
  psql_pg -d "$db" -q -c "SET client_min_messages = warning" -f scripts/sql/plant_lookalikes.sql
  q "$db" "SELECT public.plant_lookalikes(pg_catalog.array_to_string(ARRAY[$reads], E'\n'), 'public')"
}
hits() { q "$1" "SELECT hits FROM public.plant_report('public')"; }
# untouched DB WHAT PLANTED OUTPUT: FAIL unless no look-alike ran and nothing depends on one.
untouched() {
  local hits depends
  hits=$(hits "$1")
  depends=$(q "$1" "SELECT depends FROM public.plant_report('public')")
  if [[ $hits != 0 || -n $depends ]]; then
    echo "[upgrade] FAIL: $2 with $3 look-alikes planted in public: they ran $hits times" >&2
    grep -o 'look-alike ran: .*' <<< "$4" | sort | uniq -c | sed 's/^/  /' | head -30 >&2 || true
    [[ -z $depends ]] || echo "  and pg_perfsuite's objects depend on them: ${depends//; /$'\n'  }" >&2
    exit 1
  fi
}

# 5a. The update, in a database living on $RELEASED.
n=$(plant planted "${update_files[@]}")
if ! said=$(q planted "ALTER EXTENSION pg_perfsuite UPDATE" 2>&1); then
  untouched planted "ALTER EXTENSION pg_perfsuite UPDATE" "$n" "$said"
  echo "[upgrade] FAIL: ALTER EXTENSION pg_perfsuite UPDATE with $n look-alikes planted: $said" >&2
  exit 1
fi
untouched planted "ALTER EXTENSION pg_perfsuite UPDATE" "$n" "$said"
[[ $(q planted "SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'pg_perfsuite'") == "$CURRENT" ]] \
  || { echo "[upgrade] FAIL: planted is not on $CURRENT after the update" >&2; exit 1; }
echo "[upgrade] (e) planted: $n look-alikes of what the $RELEASED -> $CURRENT update calls; ALTER EXTENSION UPDATE ran none, nothing depends on them"

# 5b. A fresh install. First, the look-alikes catch what they are for: unqualified
# calls of the kind the scripts make (a planting that catches nothing proves nothing),
# and no qualified one.
n=$(plant planted_fresh "$EXTDIR/pg_perfsuite--$CURRENT.sql")
for probe in "SELECT jsonb_agg(x::text) FROM (VALUES (1)) v(x)" "SELECT 1::oid <> 0"; do
  q planted_fresh "ALTER SEQUENCE public.plant_hits RESTART" >/dev/null
  q planted_fresh "SET client_min_messages = error; $probe" >/dev/null
  (( $(hits planted_fresh) > 0 )) \
    || { echo "[upgrade] FAIL: the look-alikes do not catch an unqualified call: $probe" >&2; exit 1; }
done
q planted_fresh "ALTER SEQUENCE public.plant_hits RESTART" >/dev/null
q planted_fresh "SELECT pg_catalog.jsonb_agg(x::text) FROM (VALUES (1)) v(x);
                 SELECT 1::oid OPERATOR(pg_catalog.<>) 0" >/dev/null
[[ $(hits planted_fresh) == 0 ]] \
  || { echo "[upgrade] FAIL: the look-alikes catch calls qualified with pg_catalog" >&2; exit 1; }
q planted_fresh "ALTER SEQUENCE public.plant_hits RESTART" >/dev/null
if ! said=$(q planted_fresh "CREATE EXTENSION pg_perfsuite CASCADE" 2>&1); then
  untouched planted_fresh "CREATE EXTENSION pg_perfsuite" "$n" "$said"
  echo "[upgrade] FAIL: CREATE EXTENSION pg_perfsuite with $n look-alikes planted: $said" >&2
  exit 1
fi
untouched planted_fresh "CREATE EXTENSION pg_perfsuite" "$n" "$said"
echo "[upgrade] (f) planted_fresh: $n look-alikes of what the $CURRENT install script calls (unqualified, they catch jsonb_agg(x::text) and oid <> 0); CREATE EXTENSION ran none, nothing depends on them"

# 5c. The trust guard: a schema a role that is not trusted may CREATE in is refused.
q untrusted_schema "DROP ROLE IF EXISTS plant_op; CREATE ROLE plant_op LOGIN; GRANT CREATE ON SCHEMA public TO plant_op" >/dev/null
if said=$(psql_pg -d untrusted_schema -Atq -v VERBOSITY=verbose -c "CREATE EXTENSION pg_perfsuite CASCADE" 2>&1); then
  echo "[upgrade] FAIL: CREATE EXTENSION installed into a schema plant_op may CREATE in" >&2; exit 1
fi
if [[ $said != *42501* || $said != *plant_op* ]]; then
  echo "[upgrade] FAIL: CREATE EXTENSION with plant_op allowed to CREATE in public failed otherwise than 42501 naming plant_op: $said" >&2
  exit 1
fi
q untrusted_schema "REVOKE CREATE ON SCHEMA public FROM plant_op" >/dev/null
q untrusted_schema "CREATE EXTENSION pg_perfsuite CASCADE" >/dev/null
q untrusted_schema "DROP ROLE plant_op" >/dev/null
echo "[upgrade] (g) untrusted_schema: CREATE EXTENSION refused (42501, naming plant_op) while plant_op may CREATE in public; installed once revoked"
echo "[upgrade] PASS: $RELEASED -> $CURRENT on $PG"
