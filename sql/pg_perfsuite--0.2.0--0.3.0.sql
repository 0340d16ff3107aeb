-- pg_perfsuite 0.2.0 -> 0.3.0, run by ALTER EXTENSION pg_perfsuite UPDATE.
-- Keeps every run, result and user-added test; after it the catalog equals a fresh
-- 0.3.0 install (scripts/test-upgrade.sh compares the two, object by object).
\echo Use "ALTER EXTENSION pg_perfsuite UPDATE TO '0.3.0'" to load this file. \quit

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

-- A result's findings, as data the reports read (suite::finding). Results recorded
-- before this version keep NULL: their notes stay as they were written.
ALTER TABLE performance_test_results ADD COLUMN findings jsonb;
-- What each test waited on and what it cost (pg::waits, pg::usage).
ALTER TABLE performance_test_results ADD COLUMN waits jsonb;
ALTER TABLE performance_test_results ADD COLUMN resources jsonb;
-- The canary of each run (runner::canary), for perf_history.
ALTER TABLE perf_runs ADD COLUMN canary_ms double precision;
-- The state each run measured, and its fingerprint (plan changes between equal states
-- are unstable plans).
ALTER TABLE perf_runs ADD COLUMN state text;
ALTER TABLE perf_runs ADD COLUMN state_fingerprint text;

-- Plan shapes and their fingerprints: plan changes between runs (explain::shape).
ALTER TABLE performance_test_results ADD COLUMN plan_shape text[];
ALTER TABLE performance_test_results ADD COLUMN plan_fingerprint text;

-- A test's place in the report, as registry data rather than test ids in the code.
ALTER TABLE perf_tests ADD COLUMN report_row text;
ALTER TABLE perf_tests ADD COLUMN plan_baseline_ms numeric
    CHECK (plan_baseline_ms OPERATOR(pg_catalog.>) 0 AND plan_baseline_ms OPERATOR(pg_catalog.<=) 86400000);
ALTER TABLE perf_tests ADD COLUMN report_role text CHECK (report_role IN ('dedup_check', 'metrics_refresh'));
UPDATE perf_tests SET report_row = v.report_row, plan_baseline_ms = v.baseline
  FROM (VALUES ('1.1', 'Customer List', 500), ('2.1', 'Customer Search', 300), ('1.3', 'Customer Detail', 400),
               ('3.1', 'Trigger Performance', NULL), ('5.3-all-tables', 'Multi-tenant Isolation', NULL))
       AS v(test_id, report_row, baseline)
 WHERE perf_tests.test_id OPERATOR(pg_catalog.=) v.test_id AND perf_tests.builtin;
UPDATE perf_tests SET report_role = 'dedup_check'
 WHERE test_id IN ('R.dedup-email', 'R.dedup-phone', 'L.2-dedup') AND builtin;
UPDATE perf_tests SET report_role = 'metrics_refresh' WHERE test_id OPERATOR(pg_catalog.=) 'R.metrics-refresh' AND builtin;
ALTER TABLE perf_tests ADD COLUMN measures_writes boolean NOT NULL DEFAULT false;
UPDATE perf_tests SET measures_writes = true WHERE test_id IN ('3.1', '4.1') AND builtin;

-- perf_compare compares each test with the last run that ran it and says whether its
-- plan changed: two more columns, so it is created anew. Grants made in an update
-- script would count as the extension's own (pg_init_privs) and vanish on dump and
-- restore, so roles that could execute the old one are named in a WARNING instead.
DO $upgrade$
DECLARE
    grantees text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT a.grantee::pg_catalog.regrole::text, ', ')
      INTO grantees
      FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
     WHERE p.oid OPERATOR(pg_catalog.=)
               'perf_compare(bigint, bigint, double precision, double precision)'::pg_catalog.regprocedure::pg_catalog.oid
       AND a.grantee OPERATOR(pg_catalog.<>) 0::pg_catalog.oid AND a.grantee OPERATOR(pg_catalog.<>) p.proowner;
    IF grantees IS NOT NULL THEN
        RAISE WARNING 'pg_perfsuite 0.3.0: perf_compare returns two more columns (plan_changed, plan_change); % could execute the old one', grantees
            USING HINT = 'Run SELECT perf_grant_operator(role) again for each of them.';
    END IF;
END
$upgrade$;
DROP FUNCTION perf_compare(bigint, bigint, double precision, double precision);
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
	"current_run" bigint,  /* i64 */
	"plan_changed" bool,  /* Option < bool > */
	"plan_change" TEXT  /* Option < String > */
)
STABLE
SET search_path TO pg_catalog, @extschema@, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'perf_compare_wrapper';

-- perf_history: one test across the runs of a schema, with its change points.
CREATE  FUNCTION "perf_history"(
	"test_id" TEXT, /* Option < & str > */
	"target_schema" TEXT DEFAULT 'public', /* Option < & str > */
	"scale" double precision DEFAULT 1 /* Option < f64 > */
) RETURNS TABLE (
	"run_id" bigint,  /* i64 */
	"started_at" timestamp with time zone,  /* Option < pgrx :: datum :: TimestampWithTimeZone > */
	"scale" double precision,  /* f64 */
	"status" TEXT,  /* String */
	"figure_ms" double precision,  /* f64 */
	"band_low_ms" double precision,  /* Option < f64 > */
	"band_high_ms" double precision,  /* Option < f64 > */
	"plan_fingerprint" TEXT,  /* Option < String > */
	"plan_changed" bool,  /* Option < bool > */
	"canary_ms" double precision,  /* Option < f64 > */
	"canary_change_point" bool,  /* Option < bool > */
	"change_point" bool,  /* bool */
	"shift" TEXT  /* Option < String > */
)
STABLE
SET search_path TO pg_catalog, @extschema@, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'perf_history_wrapper';
