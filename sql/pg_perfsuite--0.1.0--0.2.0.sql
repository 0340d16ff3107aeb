-- pg_perfsuite 0.1.0 -> 0.2.0, run by ALTER EXTENSION pg_perfsuite UPDATE.
-- Keeps every run, result and user-added test; after it the catalog equals a fresh
-- 0.2.0 install (scripts/test-upgrade.sh compares the two, object by object).
\echo Use "ALTER EXTENSION pg_perfsuite UPDATE TO '0.2.0'" to load this file. \quit

-- The update runs as a superuser with the extension's schema on the search_path, as
-- CREATE EXTENSION does: refuse while a role the updating role does not trust may
-- CREATE there (the same rule and text as the install script's first block).
DO $trust$
DECLARE
    writer pg_catalog.oid;
    holder pg_catalog.oid;
    via pg_catalog.oid;
    how text;
    who text;
    what text;
    remedy text;
BEGIN
    WITH RECURSIVE mine(role) AS (
        SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER
        UNION
        SELECT m.roleid FROM pg_catalog.pg_auth_members m JOIN mine ON m.member OPERATOR(pg_catalog.=) mine.role
    ), trusted(role) AS (
        SELECT mine.role FROM mine
        UNION
        SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolsuper
    ), nsp AS (
        SELECT n.nspowner, n.nspacl FROM pg_catalog.pg_namespace n
         WHERE n.oid OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace::pg_catalog.oid
    ), direct(role, how) AS (
        SELECT nsp.nspowner, 'owner'::text FROM nsp
        UNION
        SELECT a.grantee, 'grantee'::text FROM nsp, pg_catalog.aclexplode(nsp.nspacl) a
         WHERE a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
    ), holders(role, via, how) AS (
        SELECT d.role, d.role, d.how FROM direct d
        UNION
        -- pg_database_owner's one member is the database's owner, not in pg_auth_members.
        SELECT db.datdba, d.role, d.how FROM direct d, pg_catalog.pg_database db
         WHERE d.role OPERATOR(pg_catalog.=) 'pg_database_owner'::pg_catalog.regrole::pg_catalog.oid
           AND db.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()
    ), may_create(role, holder, via, how) AS (
        SELECT h.role, h.role, h.via, h.how FROM holders h
        UNION
        SELECT m.member, mc.holder, mc.via, mc.how
          FROM may_create mc JOIN pg_catalog.pg_auth_members m ON m.roleid OPERATOR(pg_catalog.=) mc.role
    )
    SELECT mc.role, mc.holder, mc.via, mc.how INTO writer, holder, via, how
      FROM may_create mc
     WHERE mc.role OPERATOR(pg_catalog.<>) 'pg_database_owner'::pg_catalog.regrole::pg_catalog.oid
       AND NOT EXISTS (SELECT FROM trusted t WHERE t.role OPERATOR(pg_catalog.=) mc.role)
     ORDER BY mc.role OPERATOR(pg_catalog.=) 0::pg_catalog.oid DESC,
              mc.role OPERATOR(pg_catalog.=) mc.holder DESC,
              pg_catalog.pg_get_userbyid(mc.role), pg_catalog.pg_get_userbyid(mc.via)
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF writer OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN
        who := 'PUBLIC';
    ELSE
        who := pg_catalog.format('role "%s"', pg_catalog.pg_get_userbyid(writer));
    END IF;
    IF writer OPERATOR(pg_catalog.<>) holder THEN
        what := pg_catalog.format(', as a member of "%s"', pg_catalog.pg_get_userbyid(holder));
    ELSIF writer OPERATOR(pg_catalog.<>) via THEN
        what := ', as the database''s owner';
    ELSIF how OPERATOR(pg_catalog.=) 'owner' THEN
        what := ', as the schema''s owner';
    ELSE
        what := '';
    END IF;
    IF how OPERATOR(pg_catalog.=) 'owner' THEN
        remedy := pg_catalog.format('ALTER SCHEMA %s OWNER TO %I', '@extschema@', CURRENT_USER);
    ELSIF via OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN
        remedy := pg_catalog.format('REVOKE CREATE ON SCHEMA %s FROM PUBLIC', '@extschema@');
    ELSE
        remedy := pg_catalog.format('REVOKE CREATE ON SCHEMA %s FROM %I', '@extschema@', pg_catalog.pg_get_userbyid(via));
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = '42501',
        MESSAGE = pg_catalog.format('schema %s can be written by %s (CREATE%s): pg_perfsuite will not install or update there, because objects %s creates could run as the superuser during ALTER EXTENSION UPDATE',
                                    '@extschema@', who, what,
                                    CASE WHEN writer OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'any role' ELSE 'that role' END),
        DETAIL = pg_catalog.format('Trusted: superusers, %I and the roles it is a member of. Every role that may CREATE in the schema (its owner, CREATE grantees, the database''s owner through pg_database_owner, and their members) must be one of them.',
                                   CURRENT_USER),
        HINT = pg_catalog.format('%s; then ALTER EXTENSION pg_perfsuite UPDATE again.', remedy);
END
$trust$;

-- Noise-aware comparison: every timed iteration is kept, and a run can be pinned as
-- the baseline later runs are compared with. Results recorded by 0.1.0 have no
-- samples; perf_compare says "threshold only" for them.
ALTER TABLE perf_runs ADD COLUMN pinned_baseline boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX perf_runs_one_baseline ON perf_runs (target_schema) WHERE pinned_baseline;
ALTER TABLE performance_test_results ADD COLUMN samples_ms double precision[];

-- Cold-cache figures beside the warm ones (SET pg_perfsuite.cold_cache = on).
ALTER TABLE performance_test_results ADD COLUMN cold_ms numeric;
ALTER TABLE performance_test_results ADD COLUMN cold_samples_ms double precision[];
ALTER TABLE performance_test_results ADD COLUMN evicted jsonb;

-- perf_compare moves from PL/pgSQL to Rust (the statistics) and returns more columns.
DROP FUNCTION perf_compare(bigint, bigint, numeric);
CREATE  FUNCTION "perf_compare"(
	"run" bigint DEFAULT NULL, /* Option < i64 > */
	"baseline" bigint DEFAULT NULL, /* Option < i64 > */
	"threshold_pct" double precision DEFAULT 10, /* Option < f64 > */
	"min_change_ms" double precision DEFAULT 0.1 /* Option < f64 > */
) RETURNS TABLE (
	"test_id" TEXT,  /* String */
	"test_name" TEXT,  /* String */
	"statistic" TEXT,  /* Option < String > */
	"baseline_ms" double precision,  /* f64 */
	"current_ms" double precision,  /* f64 */
	"change_pct" double precision,  /* Option < f64 > */
	"change" TEXT,  /* String */
	"regression" bool,  /* bool */
	"verdict" TEXT,  /* String */
	"median_ratio" double precision,  /* Option < f64 > */
	"ratio_low" double precision,  /* Option < f64 > */
	"ratio_high" double precision,  /* Option < f64 > */
	"p_value" double precision,  /* Option < f64 > */
	"cliffs_delta" double precision,  /* Option < f64 > */
	"noise_band_pct" double precision,  /* f64 */
	"method" TEXT,  /* String */
	"baseline_run" bigint,  /* i64 */
	"current_run" bigint  /* i64 */
)
STABLE
SET search_path TO pg_catalog, @extschema@, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'perf_compare_wrapper';

-- A pinned baseline: the run perf_compare() and the report compare later runs of its
-- schema with, until another is pinned or it is cleared. One per schema (a partial
-- unique index says so); only a completed run qualifies.
CREATE FUNCTION perf_set_baseline(run bigint)
RETURNS TABLE (pinned_run bigint, target_schema text, replaced_run bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    r @extschema@.perf_runs;
    old bigint;
BEGIN
    IF run IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'run must not be NULL',
              HINT = 'perf_clear_baseline(target_schema) unpins a schema''s baseline.';
    END IF;
    SELECT * INTO r FROM @extschema@.perf_runs p WHERE p.run_id OPERATOR(pg_catalog.=) run FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('run %s does not exist', run),
              HINT = 'SELECT run_id, started_at, status FROM perf_runs ORDER BY run_id DESC; lists the runs.';
    END IF;
    IF r.status OPERATOR(pg_catalog.<>) 'completed' THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
              MESSAGE = pg_catalog.format('run %s is %s; only a completed run can be a baseline', run, r.status);
    END IF;
    UPDATE @extschema@.perf_runs p SET pinned_baseline = false
     WHERE p.pinned_baseline AND p.target_schema OPERATOR(pg_catalog.=) r.target_schema
       AND p.run_id OPERATOR(pg_catalog.<>) run
    RETURNING p.run_id INTO old;
    UPDATE @extschema@.perf_runs p SET pinned_baseline = true WHERE p.run_id OPERATOR(pg_catalog.=) run;
    RETURN QUERY SELECT run, r.target_schema, old;
END
$$;

-- Unpin a schema's baseline: perf_compare() goes back to comparing with the previous run.
CREATE FUNCTION perf_clear_baseline(target_schema text DEFAULT 'public')
RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
    UPDATE @extschema@.perf_runs p SET pinned_baseline = false
     WHERE p.pinned_baseline AND p.target_schema OPERATOR(pg_catalog.=) perf_clear_baseline.target_schema
    RETURNING p.run_id
$$;

-- Load tests: one time line for all clients (offsets count from the load test's start,
-- so a ramp-up shows), and how many clients were active in each second.
ALTER TABLE perf_load_intervals ADD COLUMN active_clients integer;

-- Whole-run monitoring: every test of a run is sampled, and each sample names its test.
ALTER TABLE perf_snapshots ADD COLUMN test_id text;

-- 5.4-same: two sessions on the same hot rows, the wait measured. A site's own test
-- of that id is kept (and this one then not added).
ALTER TABLE perf_tests ADD COLUMN hold_ms integer CHECK (hold_ms BETWEEN 1 AND 60000);
-- 5.4-same: the plan's risk factor "lock contention on hot records". Both sessions
-- update the same ten customers of company 1; the second session ends its transaction
-- after hold_ms, and this one's wait for those rows is measured: PASS within target_ms
-- beyond the other's transaction, WARN within acceptable_ms, FAIL (blocked) after.
INSERT INTO perf_tests (test_id, scenario, name, kind, query_type, target_ms, acceptable_ms, hold_ms, iterations,
                        warmup, builtin, description, sql, concurrent_sql) VALUES
('5.4-same', 5, 'Concurrent updates of the same hot rows wait their turn', 'concurrency', 'concurrency', 100, 500, 200, 1, 0, true,
 'Two sessions update the same ten customers; the second session holds them for hold_ms; the wait beyond that is judged.',
$q$UPDATE customers SET customer_notes = 'Company 1 update (second session)'
WHERE id IN (SELECT id FROM customers
             WHERE company_id = 'aaaaaaaa-aaaa-aaaa-aaaa-000000000001' AND deleted_at IS NULL
             ORDER BY id LIMIT 10)$q$,
$q$UPDATE customers SET customer_notes = 'Company 1 update'
WHERE id IN (SELECT id FROM customers
             WHERE company_id = 'aaaaaaaa-aaaa-aaaa-aaaa-000000000001' AND deleted_at IS NULL
             ORDER BY id LIMIT 10)$q$)
ON CONFLICT (test_id) DO NOTHING;

-- The write load (the plan's "trigger cascade under load"): its script and tests.
INSERT INTO perf_load_scripts (name, script, variables, description, builtin) VALUES
('plan-write', $s$INSERT INTO "VC Usage" (company_id, user_id, session_id, customer_email, customer_name, user_message)
VALUES ('11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222',
        'load_write_' || :n, 'load-write-' || :n || '@example.test', 'Load Write Customer ' || :n, 'hello');$s$,
 pg_catalog.jsonb_build_object('n', (SELECT pg_catalog.jsonb_agg(i::text) FROM pg_catalog.generate_series(1, 50) i)),
 'Chat conversations arriving without customer_id (the auto-sync trigger finds or creates the customer), 50 people drawn at random: the plan''s trigger cascade under load.', true)
ON CONFLICT (name) DO NOTHING;
-- L.2: the plan's risk factor "trigger cascade under load": 10 clients insert chat
-- conversations without customer_id, so every insert runs the auto-sync trigger (find
-- the customer by email or create it), for 50 people drawn at random; two clients often
-- bring the same new person at once. L.2-dedup then checks the trigger's promise under
-- that concurrency: one live customer per person.
INSERT INTO perf_tests (test_id, scenario, name, kind, query_type, target_ms, clients, iterations, warmup,
                        builtin, description, sql) VALUES
('L.2', 7, 'Load test: auto-sync trigger under concurrent writes (10 clients x 50)', 'load', 'load_write', 100, 10, 50, 0, true,
 'Clients are background workers (perf_load_test, script plan-write); verdict on p95 per insert, FAIL on any failed insert.',
 'plan-write')
ON CONFLICT (test_id) DO NOTHING;
INSERT INTO perf_tests (test_id, scenario, name, kind, query_type, expected_value, iterations, warmup, builtin,
                        description, sql) VALUES
('L.2-dedup', 7, 'No duplicate customers from concurrent auto-sync', 'count_check', 'integrity', 0, 1, 0, true,
 'People the write load created more than one live customer for (expected 0).',
$q$SELECT count(*) FROM (SELECT pg_catalog.lower(customer_email) FROM customers
                         WHERE company_id = '11111111-1111-1111-1111-111111111111'
                           AND customer_email LIKE 'load-write-%' AND deleted_at IS NULL
                         GROUP BY 1 HAVING count(*) > 1) d$q$)
ON CONFLICT (test_id) DO NOTHING;

-- The plan's load-test shapes by name (perf_load_preset('jmeter')).
CREATE  FUNCTION "perf_load_preset"(
	"preset" TEXT DEFAULT 'jmeter', /* Option < & str > */
	"target_schema" TEXT DEFAULT 'public', /* Option < & str > */
	"latency_limit_ms" double precision DEFAULT NULL /* Option < f64 > */
) RETURNS TABLE (
	"load_id" bigint,  /* i64 */
	"clients" INT,  /* i32 */
	"transactions" bigint,  /* i64 */
	"failed" bigint,  /* i64 */
	"tps" double precision,  /* Option < f64 > */
	"lat_avg_ms" double precision,  /* Option < f64 > */
	"lat_p50_ms" double precision,  /* Option < f64 > */
	"lat_p95_ms" double precision,  /* Option < f64 > */
	"lat_p99_ms" double precision,  /* Option < f64 > */
	"lat_max_ms" double precision,  /* Option < f64 > */
	"over_limit_pct" double precision  /* Option < f64 > */
)
VOLATILE
SET search_path TO pg_catalog, @extschema@, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'perf_load_preset_wrapper';

-- Like every function that writes, not for PUBLIC (perf_grant_operator grants them).
REVOKE EXECUTE ON FUNCTION perf_load_preset(text, text, double precision) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_set_baseline(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_clear_baseline(text) FROM PUBLIC;

-- A scale for the plan's environment: perf_run_all and perf_run take `scale` (last, so
-- calls written for 0.1.0 mean the same), and each run records it. A function's
-- arguments cannot change in place, so both are created anew. Grants made in an update
-- script would count as the extension's own (pg_init_privs) and vanish on dump and
-- restore, so roles that could execute the old ones are named in a WARNING instead:
-- re-run perf_grant_operator for them (it also grants the functions 0.2.0 adds).
ALTER TABLE perf_runs ADD COLUMN scale double precision NOT NULL DEFAULT 1;
DO $upgrade$
DECLARE
    grantees text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT a.grantee::pg_catalog.regrole::text, ', ')
      INTO grantees
      FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
     WHERE p.oid OPERATOR(pg_catalog.=) ANY (ARRAY[
               'perf_run_all(text, integer, bigint, boolean, boolean)'::pg_catalog.regprocedure::pg_catalog.oid,
               'perf_run(text, text, integer, bigint, boolean, boolean)'::pg_catalog.regprocedure::pg_catalog.oid])
       AND a.grantee OPERATOR(pg_catalog.<>) 0::pg_catalog.oid AND a.grantee OPERATOR(pg_catalog.<>) p.proowner;
    IF grantees IS NOT NULL THEN
        RAISE WARNING 'pg_perfsuite 0.2.0: perf_run_all and perf_run have a new argument (scale); % could execute the old ones', grantees
            USING HINT = 'Run SELECT perf_grant_operator(role) again for each of them: it grants the new functions too.';
    END IF;
END
$upgrade$;
DROP FUNCTION perf_run_all(text, integer, bigint, boolean, boolean);
DROP FUNCTION perf_run(text, text, integer, bigint, boolean, boolean);
CREATE  FUNCTION "perf_run_all"(
	"target_schema" TEXT DEFAULT 'public', /* Option < & str > */
	"iterations" INT DEFAULT NULL, /* Option < i32 > */
	"seed" bigint DEFAULT 42, /* Option < i64 > */
	"background" bool DEFAULT NULL, /* Option < bool > */
	"wait" bool DEFAULT true, /* Option < bool > */
	"scale" double precision DEFAULT 1 /* Option < f64 > */
) RETURNS TABLE (
	"run_id" bigint,  /* Option < i64 > */
	"test_id" TEXT,  /* Option < String > */
	"name" TEXT,  /* Option < String > */
	"statistic" TEXT,  /* Option < String > */
	"target_ms" double precision,  /* Option < f64 > */
	"measured_ms" double precision,  /* Option < f64 > */
	"status" TEXT,  /* Option < String > */
	"notes" TEXT  /* Option < String > */
)
VOLATILE
SET search_path TO pg_catalog, @extschema@, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'perf_run_all_wrapper';
CREATE  FUNCTION "perf_run"(
	"pattern" TEXT, /* Option < & str > */
	"target_schema" TEXT DEFAULT 'public', /* Option < & str > */
	"iterations" INT DEFAULT NULL, /* Option < i32 > */
	"seed" bigint DEFAULT 42, /* Option < i64 > */
	"background" bool DEFAULT NULL, /* Option < bool > */
	"wait" bool DEFAULT true, /* Option < bool > */
	"scale" double precision DEFAULT 1 /* Option < f64 > */
) RETURNS TABLE (
	"run_id" bigint,  /* Option < i64 > */
	"test_id" TEXT,  /* Option < String > */
	"name" TEXT,  /* Option < String > */
	"statistic" TEXT,  /* Option < String > */
	"target_ms" double precision,  /* Option < f64 > */
	"measured_ms" double precision,  /* Option < f64 > */
	"status" TEXT,  /* Option < String > */
	"notes" TEXT  /* Option < String > */
)
VOLATILE
SET search_path TO pg_catalog, @extschema@, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'perf_run_wrapper';
REVOKE EXECUTE ON FUNCTION perf_run_all(text, integer, bigint, boolean, boolean, double precision) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_run(text, text, integer, bigint, boolean, boolean, double precision) FROM PUBLIC;

-- Count checks whose expected value is a company's generated customers scale with the run.
ALTER TABLE perf_tests ADD COLUMN expected_scales boolean NOT NULL DEFAULT false;
UPDATE perf_tests SET expected_scales = true WHERE test_id IN ('5.1', 'R.trigger-chain') AND builtin;

-- Scaling sweeps (perf_scaling, perf_scaling_report).
CREATE TABLE perf_scaling_sweeps (
    sweep_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at      timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished_at     timestamptz,
    target_schema   text NOT NULL,
    pattern         text NOT NULL,
    scales          double precision[] NOT NULL,
    -- the volume (customers in the schema) each test is extrapolated to
    at_customers    bigint NOT NULL CHECK (at_customers OPERATOR(pg_catalog.>) 0),
    run_ids         bigint[] NOT NULL DEFAULT '{}',
    run_by          name NOT NULL DEFAULT current_user
);
SELECT pg_catalog.pg_extension_config_dump('perf_scaling_sweeps', '');
SELECT pg_catalog.pg_extension_config_dump('perf_scaling_sweeps_sweep_id_seq', '');
REVOKE ALL ON perf_scaling_sweeps FROM PUBLIC;

CREATE  FUNCTION "perf_scaling"(
	"scales" double precision[] DEFAULT '{1,10,100}', /* :: std :: option :: Option < Vec < Option < f64 > > > */
	"target_schema" TEXT DEFAULT 'public', /* Option < & str > */
	"pattern" TEXT DEFAULT '%', /* Option < & str > */
	"at_customers" bigint DEFAULT NULL, /* Option < i64 > */
	"iterations" INT DEFAULT NULL, /* Option < i32 > */
	"background" bool DEFAULT NULL /* Option < bool > */
) RETURNS TABLE (
	"sweep_id" bigint,  /* i64 */
	"test_id" TEXT,  /* String */
	"name" TEXT,  /* String */
	"statistic" TEXT,  /* Option < String > */
	"target_ms" double precision,  /* Option < f64 > */
	"slope" double precision,  /* Option < f64 > */
	"r2" double precision,  /* Option < f64 > */
	"growth" TEXT,  /* Option < String > */
	"flagged" bool,  /* bool */
	"extrapolated_ms" double precision,  /* Option < f64 > */
	"reaches_target_at" double precision,  /* Option < f64 > */
	"note" TEXT  /* String */
)
VOLATILE
SET search_path TO pg_catalog, @extschema@, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'perf_scaling_wrapper';
CREATE  FUNCTION "perf_scaling_report"(
	"sweep_id" bigint DEFAULT NULL, /* Option < i64 > */
	"format" TEXT DEFAULT 'markdown' /* Option < & str > */
) RETURNS TEXT /* String */
STABLE
SET search_path TO pg_catalog, @extschema@, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'perf_scaling_report_wrapper';
CREATE  FUNCTION "perf_scaling_results"(
	"sweep_id" bigint DEFAULT NULL /* Option < i64 > */
) RETURNS TABLE (
	"sweep_id" bigint,  /* i64 */
	"test_id" TEXT,  /* String */
	"name" TEXT,  /* String */
	"statistic" TEXT,  /* Option < String > */
	"target_ms" double precision,  /* Option < f64 > */
	"slope" double precision,  /* Option < f64 > */
	"r2" double precision,  /* Option < f64 > */
	"growth" TEXT,  /* Option < String > */
	"flagged" bool,  /* bool */
	"extrapolated_ms" double precision,  /* Option < f64 > */
	"reaches_target_at" double precision,  /* Option < f64 > */
	"note" TEXT  /* String */
)
STABLE
SET search_path TO pg_catalog, @extschema@, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'perf_scaling_results_wrapper';
REVOKE EXECUTE ON FUNCTION perf_scaling(double precision[], text, text, bigint, integer, boolean) FROM PUBLIC;

-- 0.2.0 names every function and operator its stored SQL calls by schema
-- (pg_catalog.now(), OPERATOR(pg_catalog.=)), so nothing another role creates in the
-- extension's schema can out-match a built-in. The functions and views 0.1.0 created are
-- re-created with 0.2.0's text (the same text as a fresh install), which also binds the
-- views anew to pg_catalog's functions and operators. 0.1.0's column defaults and CHECK
-- constraints name the same built-ins (pg_get_expr and pg_get_constraintdef read them
-- alike) and are left as they are.
CREATE OR REPLACE FUNCTION perf_stamp_author() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Separate branches: each expression names only the columns of its own table.
    IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
        NEW.author := current_user;
    ELSIF NEW.author IS DISTINCT FROM OLD.author THEN
        NEW.author := current_user;
    ELSIF TG_TABLE_NAME OPERATOR(pg_catalog.=) 'perf_tests' THEN
        IF (NEW.sql, NEW.setup_sql, NEW.explain_sql, NEW.concurrent_sql)
           IS DISTINCT FROM (OLD.sql, OLD.setup_sql, OLD.explain_sql, OLD.concurrent_sql) THEN
            NEW.author := current_user;
        END IF;
    ELSIF NEW.script IS DISTINCT FROM OLD.script THEN
        NEW.author := current_user;
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE VIEW perf_load_statement_stats AS
SELECT load_id, statement_no, pg_catalog.min(sql) AS sql, pg_catalog.sum(calls) AS calls,
       pg_catalog.sum(total_ms) OPERATOR(pg_catalog./) NULLIF(pg_catalog.sum(calls), 0::numeric) AS avg_ms
  FROM @extschema@.perf_load_statements GROUP BY load_id, statement_no;
CREATE OR REPLACE FUNCTION perf_slow_queries(threshold interval DEFAULT '100 milliseconds')
RETURNS TABLE (pid integer, duration interval, query text, state text, usename name, wait_event text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.pid, pg_catalog.now() OPERATOR(pg_catalog.-) a.query_start, a.query, a.state, a.usename, a.wait_event
      FROM pg_catalog.pg_stat_activity a
     WHERE (pg_catalog.now() OPERATOR(pg_catalog.-) a.query_start) OPERATOR(pg_catalog.>) threshold
       AND a.state OPERATOR(pg_catalog.<>) 'idle' AND a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
     ORDER BY 2 DESC
$$;
CREATE OR REPLACE VIEW perf_lock_waits AS
SELECT blocked.pid AS blocked_pid, blocked.usename AS blocked_user,
       blocking.pid AS blocking_pid, blocking.usename AS blocking_user,
       blocked.query AS blocked_statement, blocking.query AS current_statement_in_blocking_process,
       pg_catalog.now() OPERATOR(pg_catalog.-) blocked.query_start AS waiting_for
  FROM pg_catalog.pg_stat_activity blocked
  JOIN LATERAL pg_catalog.unnest(pg_catalog.pg_blocking_pids(blocked.pid)) AS b(pid) ON true
  JOIN pg_catalog.pg_stat_activity blocking ON blocking.pid OPERATOR(pg_catalog.=) b.pid;
CREATE OR REPLACE VIEW perf_progress AS
SELECT r.run_id,
       CASE WHEN r.status OPERATOR(pg_catalog.=) 'running'
                 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a
                                  WHERE a.pid OPERATOR(pg_catalog.=) r.backend_pid
                                    AND a.backend_start IS NOT DISTINCT FROM r.backend_start)
            THEN 'aborted' ELSE r.status END       AS status,
       r.tests_done,
       r.tests_total,
       r.current_test,
       r.started_at,
       r.finished_at,
       coalesce(r.finished_at, pg_catalog.clock_timestamp()) OPERATOR(pg_catalog.-) r.started_at AS elapsed,
       r.overall,
       r.backend_pid,
       r.launcher_pid,
       r.origin
  FROM @extschema@.perf_runs r
 ORDER BY r.run_id DESC;
CREATE OR REPLACE FUNCTION perf_summary(since interval DEFAULT '1 hour', run bigint DEFAULT NULL)
RETURNS TABLE (test_name varchar, query_type varchar, test_runs bigint, avg_ms numeric,
               min_ms numeric, max_ms numeric, stddev_ms numeric, p95_ms numeric, p99_ms numeric,
               passed bigint, failed bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
    SELECT test_name,
           query_type,
           pg_catalog.count(*),
           pg_catalog.avg(execution_time_ms)::numeric(10,2),
           pg_catalog.min(execution_time_ms)::numeric(10,2),
           pg_catalog.max(execution_time_ms)::numeric(10,2),
           pg_catalog.stddev(execution_time_ms)::numeric(10,2),
           (pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY execution_time_ms))::numeric(10,2),
           (pg_catalog.percentile_cont(0.99) WITHIN GROUP (ORDER BY execution_time_ms))::numeric(10,2),
           pg_catalog.count(*) FILTER (WHERE status IN ('PASS', 'WARN')),
           pg_catalog.count(*) FILTER (WHERE status IN ('FAIL', 'ERROR'))
      FROM @extschema@.performance_test_results
     WHERE CASE WHEN run IS NULL THEN test_timestamp OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) since)
                ELSE run_id OPERATOR(pg_catalog.=) run END
     GROUP BY test_name, query_type
     ORDER BY test_name, query_type
$$;
