-- pg_perfsuite's own tables: runs, results, and the scenario registry.
-- They belong to the extension; pg_extension_config_dump makes pg_dump keep their rows.

-- CREATE EXTENSION runs this script as a superuser with the extension's schema on the
-- search_path: whatever a role that may CREATE there plants (a look-alike of a built-in
-- function or operator, a better-matching overload) could run as that superuser, now or
-- bound into a view. Refuse unless every role that may CREATE in the schema is trusted.
-- May CREATE: the schema's owner, every grantee of CREATE (PUBLIC is never trusted), the
-- database's owner where pg_database_owner is one of those, and every member of any of
-- them, inherited or not (a member may SET ROLE). Trusted: superusers, current_user and
-- every role it is a member of through pg_auth_members (not pg_has_role, which says yes
-- to every role for a superuser). Nothing here can be planted: every function and
-- operator is pg_catalog's by name.
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
        MESSAGE = pg_catalog.format('schema %s can be written by %s (CREATE%s): pg_perfsuite will not install or update there, because objects %s creates could run as the superuser during CREATE EXTENSION',
                                    '@extschema@', who, what,
                                    CASE WHEN writer OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'any role' ELSE 'that role' END),
        DETAIL = pg_catalog.format('Trusted: superusers, %I and the roles it is a member of. Every role that may CREATE in the schema (its owner, CREATE grantees, the database''s owner through pg_database_owner, and their members) must be one of them.',
                                   CURRENT_USER),
        HINT = pg_catalog.format('Install it into a schema only trusted roles may write: CREATE SCHEMA perfsuite; CREATE EXTENSION pg_perfsuite SCHEMA perfsuite; or %s.',
                                 remedy);
END
$trust$;

-- A database where the plan was tried by hand already has the plan's results table and
-- maybe its PL/pgSQL helpers. CREATE TABLE would fail on the table without saying what
-- to do, and leftover helpers would make calls ambiguous: refuse, naming exactly what
-- to rename or drop. Nothing of the user's is changed.
DO $guard$
DECLARE
    found text;
BEGIN
    SELECT pg_catalog.string_agg(what, ', ' ORDER BY what) INTO found FROM (
        SELECT 'table ' OPERATOR(pg_catalog.||) c.oid::pg_catalog.regclass::text AS what
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace::pg_catalog.oid
           AND c.relname IN ('performance_test_results', 'perf_runs', 'perf_tests', 'perf_generated_companies',
                             'perf_load_scripts', 'perf_load_runs', 'perf_load_clients', 'perf_load_samples',
                             'perf_load_statements', 'perf_load_intervals', 'perf_snapshots',
                             'perf_load_client_seconds', 'perf_capacity_runs', 'perf_capacity_steps')
        UNION ALL
        SELECT 'function ' OPERATOR(pg_catalog.||) p.oid::pg_catalog.regprocedure::text
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace::pg_catalog.oid
           AND p.proname IN ('generate_test_customers', 'log_performance_test')) x;
    IF found IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = '42P07',
            MESSAGE = pg_catalog.format('schema %s already has %s (from running the test plan by hand?); pg_perfsuite creates objects of these names and changed nothing',
                                        '@extschema@', found),
            HINT = 'Keep your results under another name and drop the hand-made helpers, e.g. '
                   'ALTER TABLE performance_test_results RENAME TO performance_test_results_manual; '
                   'DROP FUNCTION generate_test_customers(uuid, integer, uuid); '
                   'DROP FUNCTION log_performance_test(varchar, varchar, numeric, integer, text); '
                   'then CREATE EXTENSION pg_perfsuite again.';
    END IF;
END
$guard$;

-- One row per perf_run_all() / perf_run() call.
CREATE TABLE perf_runs (
    run_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at      timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished_at     timestamptz,
    status          text NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'completed', 'failed', 'cancelled', 'aborted')),
    overall         text CHECK (overall IN ('PASS', 'WARN', 'FAIL', 'ERROR', 'SKIP')),
    pattern         text NOT NULL DEFAULT '%',
    target_schema   text NOT NULL,
    run_by          name NOT NULL DEFAULT current_user,
    -- The process running the tests (a background worker, or the caller's backend)
    -- and its start time: together they tell a live run from one whose process died.
    backend_pid     integer NOT NULL DEFAULT pg_catalog.pg_backend_pid(),
    backend_start   timestamptz,
    launcher_pid    integer,        -- the session that asked for a background run
    origin          text DEFAULT pg_catalog.current_setting('application_name'),
    current_test    text,           -- progress: the test running now
    tests_done      integer NOT NULL DEFAULT 0,
    pg_version      text NOT NULL DEFAULT pg_catalog.version(),
    server_version_num integer NOT NULL DEFAULT pg_catalog.current_setting('server_version_num')::integer,
    settings        jsonb,          -- planner/memory settings in force during the run
    data_volume     jsonb,          -- row counts of the tables under test
    -- Checklist and risk-factor facts: caches (DISCARD ALL evicts nothing), pg_stat_statements, free
    -- worker slots at the start, index size of the tables under test once the data is
    -- in place and at the end (growth = bloat signal).
    cache_state     text,
    stat_statements text,
    top_statements  jsonb,      -- post-test "Analyze query statistics": pg_stat_statements' top 5 since the run's reset
    worker_slots_free integer,
    index_bytes_start bigint,
    index_bytes_end bigint,
    tests_total     integer,
    tests_passed    integer,
    tests_warned    integer,
    tests_failed    integer,
    tests_errored   integer,
    tests_skipped   integer,
    notes           text,
    -- Why a run failed before it could start (a background worker's own error), so
    -- the caller can raise it with its SQLSTATE.
    error_sqlstate  text,
    error_message   text,
    -- The run later runs are compared with (perf_set_baseline); one per schema.
    pinned_baseline boolean NOT NULL DEFAULT false,
    -- The plan's environment at this multiple of its volume (perf_run_all(scale => N)).
    scale           double precision NOT NULL DEFAULT 1,
    -- The canary: fixed work that reads no table, timed at the start of the run (ms,
    -- median of 7); it moves with the machine, not with the schema (perf_history).
    canary_ms       double precision,
    -- The state the run measured: what its environment step did (the seed's data, what
    -- earlier runs left removed), and a fingerprint of the seed, the scale, the schema's
    -- definition and the settings (sql/queries/state_fingerprint.sql): two runs with the
    -- same fingerprint measured the same state.
    state           text,
    state_fingerprint text
);
CREATE UNIQUE INDEX perf_runs_one_baseline ON perf_runs (target_schema) WHERE pinned_baseline;

-- The plan's results table: its seven columns first, in its order, then what a run records.
CREATE TABLE performance_test_results (
    test_name           varchar(100),
    test_timestamp      timestamptz DEFAULT pg_catalog.now(),
    query_type          varchar(50),
    execution_time_ms   numeric,
    rows_returned       integer,
    cache_hit_ratio     numeric,
    notes               text,
    result_id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id              bigint REFERENCES perf_runs (run_id) ON DELETE CASCADE,
    test_id             text,
    status              text CHECK (status IN ('PASS', 'WARN', 'FAIL', 'ERROR', 'SKIP')),
    statistic           text,       -- which figure execution_time_ms is (p95, avg, per_record, ...)
    target_ms           numeric,
    acceptable_ms       numeric,
    iterations          integer,
    min_ms              numeric,
    avg_ms              numeric,
    p50_ms              numeric,
    p95_ms              numeric,
    p99_ms              numeric,
    max_ms              numeric,
    stddev_ms           numeric,
    planning_ms         numeric,    -- from the EXPLAIN (ANALYZE) run
    explain_ms          numeric,    -- execution time EXPLAIN ANALYZE reported (inflated by its own timing)
    shared_hit_blocks   bigint,
    shared_read_blocks  bigint,
    temp_blocks         bigint,
    work_mem_kb         bigint,     -- most memory one sort/hash node held (kB): the plan's "Memory usage (work_mem)"
    seq_scans           text[],     -- relations read by Seq Scan
    index_scans         text[],     -- indexes used
    expected_value      numeric,
    actual_value        numeric,
    error_sqlstate      text,
    error_message       text,
    plan                jsonb,      -- EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) output
    samples_ms          double precision[], -- every timed iteration, in order: perf_compare's statistics
    cold_ms             numeric,    -- pg_perfsuite.cold_cache: the statistic over the cold executions
    cold_samples_ms     double precision[],
    evicted             jsonb,      -- what was evicted before them (shared buffers, OS pages, relations)
    -- What the test found beside its figure, one object per finding tagged by "kind"
    -- (seq_scan, index_not_used, trigger, spill, rows_visible, lock_wait, ...); the
    -- reports take their evidence from here. NULL: recorded before 0.3.0.
    findings            jsonb,
    -- What the backends running the test waited on, sampled every 10 ms:
    -- {"interval_ms", "samples", "backends", "events": [{"event", "samples", "share"}]};
    -- "CPU" is a backend running with no wait event.
    waits               jsonb,
    -- What the test cost its backend: cpu_ms (user, system), buffers (shared_hit,
    -- shared_read, shared_dirtied, shared_written, temp_read, temp_written), WAL
    -- (wal_records, wal_fpi, wal_bytes), storage I/O (read_bytes, write_bytes), and the
    -- CPU of the other backends it started (other_backends, other_cpu_ms).
    resources           jsonb,
    -- The plan's shape (node types, strategies, indexes, relations; no estimates or
    -- measurements) and its fingerprint: what tells a plan change between runs.
    plan_shape          text[],
    plan_fingerprint    text
);
CREATE INDEX performance_test_results_run ON performance_test_results (run_id, test_id);
CREATE INDEX performance_test_results_time ON performance_test_results (test_timestamp);

-- The scenario registry: every test the runner executes is a row here. Built-in rows
-- come from the Phase 3B plan; a DBA may add, disable or change rows with plain SQL.
CREATE TABLE perf_tests (
    test_id         text PRIMARY KEY CHECK (test_id OPERATOR(pg_catalog.~) '^[A-Za-z0-9_.-]+$'),
    scenario        integer NOT NULL CHECK (scenario OPERATOR(pg_catalog.>=) 0),
    name            text NOT NULL CHECK (name OPERATOR(pg_catalog.<>) ''),
    -- timed_query: warm-up + N timed runs of a read query, verdict on a statistic
    -- count_check: the query returns one number, PASS when it equals expected_value
    -- dml: setup_sql then sql, N times, each rolled back (the last one kept when
    --      commit_last); verdict per record when records is set
    -- isolation_sweep: as the tenant, every table with a company_id column shows only
    --      the tenant's rows (and no soft-deleted customers); PASS on 0 leaks
    -- concurrency: a second session (a background worker) runs concurrent_sql and holds
    --      its locks; sql must then finish without waiting longer than target_ms
    -- single_tenant: sql timed with every company but tenant_company deleted first (rolled
    --      back); verdict on compare_to's figure over this one (degradation with tenants)
    -- load: `clients` background workers run the load script named in sql (see
    --      perf_load_scripts), `iterations` transactions each; verdict on p95
    -- capacity: open-loop steps of rising offered rate with `clients` clients running the
    --      load script named in sql (perf_capacity), at most `iterations` steps; PASS
    --      when the highest rate whose p95 met target_ms reaches target_rate
    kind            text NOT NULL CHECK (kind IN ('timed_query', 'count_check', 'dml', 'isolation_sweep', 'concurrency', 'load', 'single_tenant', 'capacity')),
    clients         integer CHECK (clients BETWEEN 1 AND 1000),
    query_type      text NOT NULL DEFAULT 'select',
    sql             text,
    setup_sql       text,           -- dml: run before sql in every iteration, untimed
    explain_sql     text,           -- statement to EXPLAIN when sql is not a single statement
    concurrent_sql  text,           -- concurrency: what the second session runs and holds
    statistic       text NOT NULL DEFAULT 'p95'
                    CHECK (statistic IN ('min', 'avg', 'p50', 'p95', 'p99', 'max')),
    target_ms       numeric CHECK (target_ms OPERATOR(pg_catalog.>) 0),
    acceptable_ms   numeric CHECK (acceptable_ms OPERATOR(pg_catalog.>) 0),
    records         integer CHECK (records OPERATOR(pg_catalog.>) 0),   -- targets are per record (ms / records)
    expected_value  numeric,        -- count_check
    commit_last     boolean NOT NULL DEFAULT false,
    iterations      integer NOT NULL DEFAULT 20 CHECK (iterations BETWEEN 1 AND 100000),
    warmup          integer NOT NULL DEFAULT 3 CHECK (warmup BETWEEN 0 AND 10000),
    assert_index    text,           -- plan assertion: this index must appear in the plan
    assert_no_seqscan text,         -- plan assertion: no Seq Scan on this relation
    run_as          text NOT NULL DEFAULT 'owner' CHECK (run_as IN ('owner', 'tenant')),
    tenant_company  uuid,
    compare_to      text,           -- report this test's figure against another test's (e.g. tenant vs owner)
    requires_extension text,        -- SKIP (with the reason) when this extension is not installed
    enabled         boolean NOT NULL DEFAULT true,
    builtin         boolean NOT NULL DEFAULT false,
    description     text,
    -- The role that last wrote this test's SQL: stamped by perf_stamp_author, never
    -- taken from the writer. The runner runs the SQL with the rights of a role the
    -- author may act as, or refuses it (42501).
    author          name NOT NULL DEFAULT current_user,
    -- concurrency: the second session lets go of its locks after this long, and the
    -- wait for them is measured (5.4-same); NULL: it holds them until this session is done
    hold_ms         integer CHECK (hold_ms BETWEEN 1 AND 60000),
    -- count checks: expected_value is the count at the plan's volume (scale 1) and is
    -- multiplied by the run's scale (a count of one company's generated customers)
    expected_scales boolean NOT NULL DEFAULT false,
    -- The test's place in the report: the Reporting Template's "Detailed Results" row it
    -- answers, the plan's "Baseline Performance (Current State)" figure it is compared
    -- with, and a part beyond its own row (dedup_check: a count of duplicate customers
    -- whose failure gets the dedup advice; metrics_refresh: the refresh of
    -- customer_metrics, a line of the risk assessment).
    report_row      text,
    plan_baseline_ms numeric CHECK (plan_baseline_ms OPERATOR(pg_catalog.>) 0 AND plan_baseline_ms OPERATOR(pg_catalog.<=) 86400000),
    report_role     text CHECK (report_role IN ('dedup_check', 'metrics_refresh')),
    -- One of the plan's insert and update tests: timed again with each candidate index
    -- the run measures, for its write penalty (pg_perfsuite.measure_advice).
    measures_writes boolean NOT NULL DEFAULT false,
    -- capacity: the offered rate (transactions per second over all clients) the p95
    -- target must hold at; NULL: PASS when any rate meets it
    target_rate     numeric CHECK (target_rate OPERATOR(pg_catalog.>) 0 AND target_rate OPERATOR(pg_catalog.<=) 1000000),
    CHECK (acceptable_ms IS NULL OR target_ms IS NULL OR acceptable_ms OPERATOR(pg_catalog.>=) target_ms),
    CHECK (run_as OPERATOR(pg_catalog.=) 'owner' OR tenant_company IS NOT NULL),
    CONSTRAINT perf_tests_single_tenant_needs_company CHECK (kind OPERATOR(pg_catalog.<>) 'single_tenant' OR tenant_company IS NOT NULL),
    CONSTRAINT perf_tests_sql_required CHECK (kind OPERATOR(pg_catalog.=) 'isolation_sweep' OR pg_catalog.btrim(coalesce(sql, '')) OPERATOR(pg_catalog.<>) ''),
    CONSTRAINT perf_tests_expected_value_required CHECK (kind OPERATOR(pg_catalog.<>) 'count_check' OR expected_value IS NOT NULL),
    CONSTRAINT perf_tests_sweep_needs_tenant CHECK (kind OPERATOR(pg_catalog.<>) 'isolation_sweep' OR run_as OPERATOR(pg_catalog.=) 'tenant'),
    CONSTRAINT perf_tests_concurrent_sql_required CHECK (kind OPERATOR(pg_catalog.<>) 'concurrency' OR pg_catalog.btrim(coalesce(concurrent_sql, '')) OPERATOR(pg_catalog.<>) '')
);

-- Who wrote a row's SQL is recorded by the database, not by the writer: every INSERT
-- stamps current_user; an UPDATE that changes the SQL (or tries to change the author)
-- stamps the updater. Changing only harmless columns (enabled, targets) keeps the
-- author, so a superuser disabling an operator's test does not adopt its SQL.
CREATE FUNCTION perf_stamp_author() RETURNS trigger
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
CREATE TRIGGER perf_tests_author BEFORE INSERT OR UPDATE ON perf_tests
    FOR EACH ROW EXECUTE FUNCTION @extschema@.perf_stamp_author();

-- The companies pg_perfsuite created (and so may delete): perf_cleanup() removes
-- exactly these and what belongs to them; a company that existed before is never
-- listed, even when it has one of the plan's UUIDs.
CREATE TABLE perf_generated_companies (
    target_schema   text NOT NULL,
    company_id      uuid NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    created_by      name NOT NULL DEFAULT current_user,
    PRIMARY KEY (target_schema, company_id)
);

SELECT pg_catalog.pg_extension_config_dump('perf_generated_companies', '');
SELECT pg_catalog.pg_extension_config_dump('perf_runs', '');
SELECT pg_catalog.pg_extension_config_dump('performance_test_results', '');
SELECT pg_catalog.pg_extension_config_dump('perf_tests', 'WHERE NOT builtin');
-- Their identity sequences too: unmarked, a restored sequence would start again at 1
-- and the next run would collide with the restored history (23505).
SELECT pg_catalog.pg_extension_config_dump('perf_runs_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('performance_test_results_result_id_seq', '');

-- Only the extension's functions (and their callers with privileges) write these.
REVOKE ALL ON perf_runs, performance_test_results, perf_tests, perf_generated_companies FROM PUBLIC;
