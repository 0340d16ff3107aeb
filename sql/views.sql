-- Progress of runs, readable from any session while a background run works. A run
-- whose process is gone shows as aborted here even before the next run marks it so.
CREATE VIEW perf_progress AS
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

-- The plan's analysis query ("Query to analyze test results") over a time window, or
-- over one run: per test, how often it ran and the spread of its recorded figures.
CREATE FUNCTION perf_summary(since interval DEFAULT '1 hour', run bigint DEFAULT NULL)
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
