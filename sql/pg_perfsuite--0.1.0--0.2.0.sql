-- pg_perfsuite 0.1.0 -> 0.2.0, run by ALTER EXTENSION pg_perfsuite UPDATE.
-- Keeps every run, result and user-added test; after it the catalog equals a fresh
-- 0.2.0 install (scripts/test-upgrade.sh compares the two, object by object).
\echo Use "ALTER EXTENSION pg_perfsuite UPDATE TO '0.2.0'" to load this file. \quit

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
    r perf_runs;
    old bigint;
BEGIN
    IF run IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'run must not be NULL',
              HINT = 'perf_clear_baseline(target_schema) unpins a schema''s baseline.';
    END IF;
    SELECT * INTO r FROM perf_runs p WHERE p.run_id = run FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('run %s does not exist', run),
              HINT = 'SELECT run_id, started_at, status FROM perf_runs ORDER BY run_id DESC; lists the runs.';
    END IF;
    IF r.status <> 'completed' THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
              MESSAGE = pg_catalog.format('run %s is %s; only a completed run can be a baseline', run, r.status);
    END IF;
    UPDATE perf_runs p SET pinned_baseline = false
     WHERE p.pinned_baseline AND p.target_schema = r.target_schema AND p.run_id <> run
    RETURNING p.run_id INTO old;
    UPDATE perf_runs p SET pinned_baseline = true WHERE p.run_id = run;
    RETURN QUERY SELECT run, r.target_schema, old;
END
$$;

-- Unpin a schema's baseline: perf_compare() goes back to comparing with the previous run.
CREATE FUNCTION perf_clear_baseline(target_schema text DEFAULT 'public')
RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
    UPDATE perf_runs p SET pinned_baseline = false
     WHERE p.pinned_baseline AND p.target_schema = perf_clear_baseline.target_schema
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
 jsonb_build_object('n', (SELECT jsonb_agg(i::text) FROM generate_series(1, 50) i)),
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
     WHERE p.oid IN ('perf_run_all(text, integer, bigint, boolean, boolean)'::pg_catalog.regprocedure,
                     'perf_run(text, text, integer, bigint, boolean, boolean)'::pg_catalog.regprocedure)
       AND a.grantee <> 0 AND a.grantee <> p.proowner;
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
    started_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at     timestamptz,
    target_schema   text NOT NULL,
    pattern         text NOT NULL,
    scales          double precision[] NOT NULL,
    -- the volume (customers in the schema) each test is extrapolated to
    at_customers    bigint NOT NULL CHECK (at_customers > 0),
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
