-- pg_perfsuite 0.3.0 -> 0.4.0, run by ALTER EXTENSION pg_perfsuite UPDATE.
-- Keeps every run, result, load test and user-added test; after it the catalog equals a
-- fresh 0.4.0 install (scripts/test-upgrade.sh compares the two, object by object).
\echo Use "ALTER EXTENSION pg_perfsuite UPDATE TO '0.4.0'" to load this file. \quit

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

-- Load tests keep latency histograms instead of a row per transaction. Load tests
-- recorded before this version keep their rows and figures as they were: their new
-- columns stay NULL, and their perf_load_samples rows (every transaction) stay.
ALTER TABLE perf_load_runs ADD COLUMN rate float8;
ALTER TABLE perf_load_runs ADD COLUMN arrivals text;
ALTER TABLE perf_load_runs ADD COLUMN skip_late boolean;
ALTER TABLE perf_load_runs ADD COLUMN skipped bigint;
ALTER TABLE perf_load_runs ADD COLUMN behind bigint;
ALTER TABLE perf_load_runs ADD COLUMN service_avg_ms float8;
ALTER TABLE perf_load_runs ADD COLUMN service_p50_ms float8;
ALTER TABLE perf_load_runs ADD COLUMN service_p95_ms float8;
ALTER TABLE perf_load_runs ADD COLUMN service_p99_ms float8;
ALTER TABLE perf_load_runs ADD COLUMN service_max_ms float8;
ALTER TABLE perf_load_runs ADD COLUMN lag_avg_ms float8;
ALTER TABLE perf_load_runs ADD COLUMN lag_p95_ms float8;
ALTER TABLE perf_load_runs ADD COLUMN lag_max_ms float8;
ALTER TABLE perf_load_runs ADD COLUMN response_hist bytea;
ALTER TABLE perf_load_runs ADD COLUMN service_hist bytea;
ALTER TABLE perf_load_runs ADD COLUMN lag_hist bytea;
ALTER TABLE perf_load_clients ADD COLUMN skipped bigint NOT NULL DEFAULT 0;
ALTER TABLE perf_load_clients ADD COLUMN behind bigint NOT NULL DEFAULT 0;
ALTER TABLE perf_load_clients ADD COLUMN first_ms float8;
ALTER TABLE perf_load_clients ADD COLUMN last_ms float8;
ALTER TABLE perf_load_samples ADD COLUMN service_ms float8;
ALTER TABLE perf_load_intervals ADD COLUMN skipped bigint;
ALTER TABLE perf_load_intervals ADD COLUMN lat_p99_ms float8;
ALTER TABLE perf_load_intervals ADD COLUMN service_p95_ms float8;
ALTER TABLE perf_load_intervals ADD COLUMN lag_p95_ms float8;
ALTER TABLE perf_load_intervals ADD COLUMN response_hist bytea;
ALTER TABLE perf_load_intervals ADD COLUMN service_hist bytea;
ALTER TABLE perf_load_intervals ADD COLUMN lag_hist bytea;
CREATE TABLE perf_load_client_seconds (
    load_id     bigint NOT NULL,
    client      integer NOT NULL,
    second      integer NOT NULL,
    done        bigint NOT NULL,
    failed      bigint NOT NULL,
    skipped     bigint NOT NULL,
    response    bytea NOT NULL,
    service     bytea NOT NULL,
    lag         bytea NOT NULL,
    pid         integer NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    PRIMARY KEY (load_id, second, client, pid)
);
-- Each hand-over row stamped with the backend that wrote it: the coordinator takes
-- only its own clients' rows.
CREATE FUNCTION perf_stamp_backend() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.pid := pg_catalog.pg_backend_pid();
    NEW.written_at := pg_catalog.clock_timestamp();
    RETURN NEW;
END
$$;
CREATE TRIGGER perf_load_client_seconds_backend BEFORE INSERT OR UPDATE ON perf_load_client_seconds
    FOR EACH ROW EXECUTE FUNCTION @extschema@.perf_stamp_backend();

-- Capacity searches (perf_capacity).
CREATE SEQUENCE perf_capacity_runs_capacity_id_seq;
CREATE TABLE perf_capacity_runs (
    capacity_id     bigint PRIMARY KEY,
    run_id          bigint REFERENCES perf_runs (run_id) ON DELETE CASCADE,
    started_at      timestamptz NOT NULL,
    script          text NOT NULL,
    clients         integer NOT NULL,
    arrivals        text NOT NULL,
    target_p95_ms   float8 NOT NULL,
    step_ms         bigint NOT NULL,
    steps           integer NOT NULL,
    capacity_tps    float8,
    knee_tps        float8,
    notes           text
);
CREATE TABLE perf_capacity_steps (
    capacity_id     bigint NOT NULL REFERENCES perf_capacity_runs ON DELETE CASCADE,
    step            integer NOT NULL,
    load_id         bigint REFERENCES perf_load_runs ON DELETE SET NULL,
    offered_rate    float8 NOT NULL,
    achieved_tps    float8,
    p50_ms          float8,
    p95_ms          float8,
    p99_ms          float8,
    service_p95_ms  float8,
    failed          bigint,
    behind          bigint,
    met             boolean NOT NULL,
    capacity        boolean NOT NULL DEFAULT false,
    knee            boolean NOT NULL DEFAULT false,
    PRIMARY KEY (capacity_id, step)
);
SELECT pg_catalog.pg_extension_config_dump('perf_load_client_seconds', '');
SELECT pg_catalog.pg_extension_config_dump('perf_capacity_runs', '');
SELECT pg_catalog.pg_extension_config_dump('perf_capacity_steps', '');
SELECT pg_catalog.pg_extension_config_dump('perf_capacity_runs_capacity_id_seq', '');
REVOKE ALL ON perf_load_client_seconds, perf_capacity_runs, perf_capacity_steps FROM PUBLIC;

-- The registry's capacity tests, and the plan's (off by default).
ALTER TABLE perf_tests DROP CONSTRAINT perf_tests_kind_check;
ALTER TABLE perf_tests ADD CONSTRAINT perf_tests_kind_check
    CHECK (kind IN ('timed_query', 'count_check', 'dml', 'isolation_sweep', 'concurrency', 'load', 'single_tenant', 'capacity'));
ALTER TABLE perf_tests ADD COLUMN target_rate numeric
    CHECK (target_rate OPERATOR(pg_catalog.>) 0 AND target_rate OPERATOR(pg_catalog.<=) 1000000);
INSERT INTO perf_tests (test_id, scenario, name, kind, query_type, target_ms, clients, iterations, warmup,
                        requires_extension, builtin, enabled, target_rate, description, sql) VALUES
('L.capacity', 7, 'Capacity: the highest offered rate within p95 100 ms (10 clients)', 'capacity', 'load', 100, 10, 10, 0,
 'pg_trgm', true, false, 50,
 'Open-loop steps of rising offered rate (perf_capacity), response time counted from when each transaction was due; PASS when the capacity reaches target_rate.',
 'plan');

-- perf_load_test gains arrivals and skip_late and returns service times, and
-- perf_load_preset returns them too: both are created anew. Grants made in an update
-- script would count as the extension's own (pg_init_privs) and vanish on dump and
-- restore, so roles that could execute the old ones are named in a WARNING instead.
DO $upgrade$
DECLARE
    grantees text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT a.grantee::pg_catalog.regrole::text, ', ')
      INTO grantees
      FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
     WHERE p.oid IN ('perf_load_test(integer, integer, interval, text, text, interval, double precision, double precision)'::pg_catalog.regprocedure::pg_catalog.oid,
                     'perf_load_preset(text, text, double precision)'::pg_catalog.regprocedure::pg_catalog.oid)
       AND a.grantee OPERATOR(pg_catalog.<>) 0::pg_catalog.oid AND a.grantee OPERATOR(pg_catalog.<>) p.proowner;
    IF grantees IS NOT NULL THEN
        RAISE WARNING 'pg_perfsuite 0.4.0: perf_load_test and perf_load_preset return response and service times; % could execute the old ones', grantees
            USING HINT = 'Run SELECT perf_grant_operator(role) again for each of them.';
    END IF;
END
$upgrade$;
DROP FUNCTION perf_load_test(integer, integer, interval, text, text, interval, double precision, double precision);
DROP FUNCTION perf_load_preset(text, text, double precision);
CREATE  FUNCTION "perf_load_test"(
	"clients" INT DEFAULT 10, /* Option < i32 > */
	"transactions" INT DEFAULT 100, /* Option < i32 > */
	"duration" interval DEFAULT NULL, /* Option < pgrx :: datum :: Interval > */
	"script" TEXT DEFAULT 'plan', /* Option < & str > */
	"target_schema" TEXT DEFAULT 'public', /* Option < & str > */
	"ramp_up" interval DEFAULT NULL, /* Option < pgrx :: datum :: Interval > */
	"latency_limit_ms" double precision DEFAULT 100, /* Option < f64 > */
	"rate" double precision DEFAULT NULL, /* Option < f64 > */
	"arrivals" TEXT DEFAULT 'poisson', /* Option < & str > */
	"skip_late" bool DEFAULT false /* Option < bool > */
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
	"over_limit_pct" double precision,  /* Option < f64 > */
	"skipped" bigint,  /* i64 */
	"service_p50_ms" double precision,  /* Option < f64 > */
	"service_p95_ms" double precision,  /* Option < f64 > */
	"service_p99_ms" double precision,  /* Option < f64 > */
	"lag_p95_ms" double precision  /* Option < f64 > */
)
VOLATILE
SET search_path TO pg_catalog, @extschema@, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'perf_load_test_wrapper';
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
	"over_limit_pct" double precision,  /* Option < f64 > */
	"skipped" bigint,  /* i64 */
	"service_p50_ms" double precision,  /* Option < f64 > */
	"service_p95_ms" double precision,  /* Option < f64 > */
	"service_p99_ms" double precision,  /* Option < f64 > */
	"lag_p95_ms" double precision  /* Option < f64 > */
)
VOLATILE
SET search_path TO pg_catalog, @extschema@, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'perf_load_preset_wrapper';

-- perf_capacity: how much load the server takes within a p95 target.
CREATE  FUNCTION "perf_capacity"(
	"script" TEXT DEFAULT 'plan', /* Option < & str > */
	"target_p95_ms" double precision DEFAULT 100, /* Option < f64 > */
	"clients" INT DEFAULT 10, /* Option < i32 > */
	"target_schema" TEXT DEFAULT 'public', /* Option < & str > */
	"step_duration" interval DEFAULT '5 seconds', /* Option < pgrx :: datum :: Interval > */
	"start_rate" double precision DEFAULT 50, /* Option < f64 > */
	"max_steps" INT DEFAULT 12, /* Option < i32 > */
	"arrivals" TEXT DEFAULT 'poisson' /* Option < & str > */
) RETURNS TABLE (
	"capacity_id" bigint,  /* i64 */
	"step" INT,  /* i32 */
	"offered_rate" double precision,  /* f64 */
	"achieved_tps" double precision,  /* Option < f64 > */
	"p95_ms" double precision,  /* Option < f64 > */
	"service_p95_ms" double precision,  /* Option < f64 > */
	"failed" bigint,  /* i64 */
	"met" bool,  /* bool */
	"capacity" bool,  /* bool */
	"knee" bool,  /* bool */
	"load_id" bigint  /* i64 */
)
VOLATILE
SET search_path TO pg_catalog, @extschema@, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'perf_capacity_wrapper';
REVOKE EXECUTE ON FUNCTION perf_load_test(integer, integer, interval, text, text, interval, double precision, double precision, text, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_load_preset(text, text, double precision) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_capacity(text, double precision, integer, text, interval, double precision, integer, text) FROM PUBLIC;

-- What \df+, \dt+ and \dv+ show: the same comments as a fresh install (sql/finalize.sql).
COMMENT ON FUNCTION perf_run_all(text, integer, bigint, boolean, boolean, double precision) IS
    'Run the whole test plan against target_schema (installing the reference schema and the plan''s data if needed); one row per test with its verdict. In a background worker unless background => false.';
COMMENT ON FUNCTION perf_run(text, text, integer, bigint, boolean, boolean, double precision) IS
    'Run the tests whose id matches a LIKE pattern (''1.%'', ''5.3-all-tables''), as perf_run_all does; one row per test.';
COMMENT ON FUNCTION perf_report(bigint, text) IS
    'The plan''s Reporting Template for a run (the latest when NULL), as markdown, html, json or tap.';
COMMENT ON FUNCTION perf_summary(interval, bigint) IS
    'Runs of the last period: verdict counts, the slowest tests and what failed.';
COMMENT ON FUNCTION perf_compare(bigint, bigint, double precision, double precision) IS
    'Each test of a run against its baseline (the last earlier run of the same schema and scale that ran it, or a pinned run): regressed, improved, within noise or unstable plan, with the statistics behind the verdict and any plan change.';
COMMENT ON FUNCTION perf_history(text, text, double precision) IS
    'One test across the completed runs of a schema and scale: its figure, noise band, plan fingerprint, the canary, and the runs where it shifted (change points).';
COMMENT ON FUNCTION perf_set_baseline(bigint) IS
    'Pin a completed run as the baseline perf_compare and the report compare with, for its schema.';
COMMENT ON FUNCTION perf_clear_baseline(text) IS
    'Unpin the baseline of a schema: comparisons go back to the previous run.';
COMMENT ON FUNCTION perf_schedule(text, text, text, text, integer) IS
    'Schedule runs with pg_cron (a cron expression); returns the job id.';
COMMENT ON FUNCTION perf_unschedule(text) IS
    'Remove a run schedule made by perf_schedule.';
COMMENT ON FUNCTION perf_generate(integer, integer, bigint, text) IS
    'Generate the plan''s scenario-5 data: tenants x customers each with their conversations and events, seeded and reproducible, recorded in the ledger of generated companies.';
COMMENT ON FUNCTION generate_test_customers(uuid, integer, uuid, bigint, text) IS
    'The plan''s helper, in Rust: generate customers (with conversations and events) for one company.';
COMMENT ON FUNCTION log_performance_test(text, text, numeric, integer, text) IS
    'The plan''s helper: record one measurement in performance_test_results.';
COMMENT ON FUNCTION perf_cleanup(text) IS
    'Delete what pg_perfsuite generated in a schema (the companies in its ledger and their rows); never anything else.';
COMMENT ON FUNCTION perf_install_schema(text) IS
    'Install the reference customer-management schema (tables, indexes, triggers, row-level security) into an empty schema.';
COMMENT ON FUNCTION perf_load_test(integer, integer, interval, text, text, interval, double precision, double precision, text, boolean) IS
    'A load test from background workers (pgbench -c/-t/-T/-R): closed loop, or open loop with rate (Poisson or regular arrivals, response time from when each transaction was due); the summary row, details in the perf_load_* tables.';
COMMENT ON FUNCTION perf_load_preset(text, text, double precision) IS
    'One of the plan''s load shapes by name: jmeter (50 clients over 10 s for 300 s), pgbench (10 clients x 100) or write (10 concurrent writers).';
COMMENT ON FUNCTION perf_capacity(text, double precision, integer, text, interval, double precision, integer, text) IS
    'The highest offered rate whose p95 response time meets a target: open-loop steps of rising rate, then a bisection; one row per step, the capacity and the knee marked.';
COMMENT ON FUNCTION perf_scaling(double precision[], text, text, bigint, integer, boolean) IS
    'Run the timed tests at several data scales and fit how each grows with the data (log-log slope), flagging the ones that grow faster than they should.';
COMMENT ON FUNCTION perf_scaling_results(bigint) IS
    'The measurements of a scaling sweep, one row per test and scale.';
COMMENT ON FUNCTION perf_scaling_report(bigint, text) IS
    'The report of a scaling sweep (markdown or html): slopes, flags, extrapolation.';
COMMENT ON FUNCTION perf_free_worker_slots() IS
    'Background-worker slots the calling role may take now (runs, second sessions and load clients each take one).';
COMMENT ON FUNCTION perf_slow_queries(interval) IS
    'The plan''s monitoring query: active queries running longer than a threshold.';
COMMENT ON FUNCTION perf_grant_operator(text) IS
    'Make a role an operator: everything it needs to run the plan and read results, granted from the extension''s own membership list.';
COMMENT ON FUNCTION perf_revoke_operator(text) IS
    'Take back what perf_grant_operator granted.';
COMMENT ON FUNCTION perf_ledger_record(text, uuid) IS
    'Internal (SECURITY DEFINER): record a generated company in the ledger perf_cleanup trusts.';
COMMENT ON FUNCTION perf_ledger_forget(text) IS
    'Internal (SECURITY DEFINER): forget the ledger''s companies of a schema after cleanup.';
COMMENT ON FUNCTION perf_stamp_backend() IS
    'Trigger: stamps the backend that wrote a load client''s hand-over row; the coordinator takes only its own clients'' rows.';
COMMENT ON FUNCTION perf_stamp_author() IS
    'Trigger: stamps the role that wrote a registry test or load script into its author column; stored SQL runs with that role''s rights.';

COMMENT ON TABLE performance_test_results IS
    'The plan''s results table, one row per test of a run: figures, verdict, notes, plan, typed findings, waits and resources.';
COMMENT ON TABLE perf_runs IS
    'One row per run: when, where, status, overall verdict, counts, settings, data volume, state and canary.';
COMMENT ON TABLE perf_tests IS
    'The test registry: the plan''s tests (builtin) and your own; each row says what to run, how, and its targets.';
COMMENT ON TABLE perf_generated_companies IS
    'The ledger of companies pg_perfsuite generated, per schema: what perf_cleanup may delete. Written only by the extension.';
COMMENT ON TABLE perf_scaling_sweeps IS
    'Scaling sweeps (perf_scaling): the scales, the tests and the runs of each.';
COMMENT ON TABLE perf_load_scripts IS
    'Load scripts (pgbench-style statements with :variables); each runs with the rights of its author.';
COMMENT ON TABLE perf_load_runs IS
    'One row per load test: throughput, response/service/lag percentiles from HDR histograms, failures, skipped and behind, the whole test''s histograms.';
COMMENT ON TABLE perf_load_intervals IS
    'Per second of a load test (by when transactions were due): throughput, percentiles, active clients, and that second''s histograms.';
COMMENT ON TABLE perf_load_clients IS
    'Each load client''s progress: done, failed, skipped, behind, status and first error.';
COMMENT ON TABLE perf_load_client_seconds IS
    'Histograms the load clients hand to the coordinator, per client and second; merged into perf_load_runs and perf_load_intervals, then deleted.';
COMMENT ON TABLE perf_load_samples IS
    'A bounded sample of load-test transactions: the first 50 of each client, when each was due, its response and service time.';
COMMENT ON TABLE perf_load_statements IS
    'Calls and total time per statement of a load script, per client.';
COMMENT ON TABLE perf_snapshots IS
    'Monitoring samples: once a second during a load test and once per test of a run (CPU, memory, disk, lock waits, slow queries, connections).';
COMMENT ON TABLE perf_capacity_runs IS
    'Capacity searches (perf_capacity): the target, the clients, the capacity and the knee found.';
COMMENT ON TABLE perf_capacity_steps IS
    'Each step of a capacity search: offered rate, achieved throughput, p95, whether it met the target, its load test.';

COMMENT ON VIEW perf_progress IS
    'Runs in progress and recent: tests done of total, the current test, elapsed time.';
COMMENT ON VIEW perf_load_statement_stats IS
    'Calls and mean time per statement of each load test, over all clients.';
COMMENT ON VIEW perf_lock_waits IS
    'The plan''s lock-wait query: blocked and blocking sessions, users and statements.';

COMMENT ON SEQUENCE perf_runs_run_id_seq IS 'Run numbers.';
COMMENT ON SEQUENCE performance_test_results_result_id_seq IS 'Result numbers.';
COMMENT ON SEQUENCE perf_load_runs_load_id_seq IS 'Load test numbers.';
COMMENT ON SEQUENCE perf_capacity_runs_capacity_id_seq IS 'Capacity search numbers.';
COMMENT ON SEQUENCE perf_scaling_sweeps_sweep_id_seq IS 'Scaling sweep numbers.';
