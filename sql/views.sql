-- Progress of runs, readable from any session while a background run works. A run
-- whose process is gone shows as aborted here even before the next run marks it so.
CREATE VIEW perf_progress AS
SELECT r.run_id,
       CASE WHEN r.status = 'running'
                 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a
                                  WHERE a.pid = r.backend_pid
                                    AND a.backend_start IS NOT DISTINCT FROM r.backend_start)
            THEN 'aborted' ELSE r.status END       AS status,
       r.tests_done,
       r.tests_total,
       r.current_test,
       r.started_at,
       r.finished_at,
       coalesce(r.finished_at, pg_catalog.clock_timestamp()) - r.started_at AS elapsed,
       r.overall,
       r.backend_pid,
       r.launcher_pid,
       r.origin
  FROM perf_runs r
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
      FROM performance_test_results
     WHERE CASE WHEN run IS NULL THEN test_timestamp > pg_catalog.now() - since ELSE run_id = run END
     GROUP BY test_name, query_type
     ORDER BY test_name, query_type
$$;

-- Run history: each timed test of one run against another (by default the latest run
-- against the completed run before it over the same tests and schema).
CREATE FUNCTION perf_compare(run bigint DEFAULT NULL, baseline bigint DEFAULT NULL,
                             threshold_pct numeric DEFAULT 10)
RETURNS TABLE (test_id text, test_name varchar, statistic text, baseline_ms numeric, current_ms numeric,
               change_pct numeric, change text, regression boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    -- A run that does not exist is an error, not an empty comparison.
    IF run IS NOT NULL AND NOT EXISTS (SELECT 1 FROM perf_runs r WHERE r.run_id = run) THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('run %s does not exist', run),
              HINT = 'SELECT run_id, started_at, status FROM perf_runs ORDER BY run_id DESC; lists the runs.';
    END IF;
    IF baseline IS NOT NULL AND NOT EXISTS (SELECT 1 FROM perf_runs r WHERE r.run_id = baseline) THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('baseline run %s does not exist', baseline),
              HINT = 'SELECT run_id, started_at, status FROM perf_runs ORDER BY run_id DESC; lists the runs.';
    END IF;
    IF threshold_pct IS NULL OR threshold_pct = 'NaN'::numeric OR threshold_pct < 0 THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
              MESSAGE = pg_catalog.format('threshold_pct must be a number of at least 0 (got %s)', coalesce(threshold_pct::text, 'NULL'));
    END IF;
    RETURN QUERY
    WITH cur AS (
        SELECT * FROM perf_runs WHERE run_id = coalesce(run, (SELECT pg_catalog.max(run_id) FROM perf_runs))
    ), base AS (
        SELECT coalesce(baseline, (SELECT p.run_id FROM perf_runs p, cur
                                    WHERE p.run_id < cur.run_id AND p.status = 'completed'
                                      AND p.pattern = cur.pattern AND p.target_schema = cur.target_schema
                                    ORDER BY p.run_id DESC LIMIT 1)) AS run_id
    ), pairs AS (
        SELECT c.test_id, c.test_name, c.statistic, b.execution_time_ms AS before, c.execution_time_ms AS after,
               pg_catalog.round((c.execution_time_ms - b.execution_time_ms) / nullif(b.execution_time_ms, 0) * 100, 1) AS pct
          FROM performance_test_results c
          JOIN performance_test_results b ON b.test_id = c.test_id AND b.run_id = (SELECT run_id FROM base)
         WHERE c.run_id = (SELECT run_id FROM cur) AND c.target_ms IS NOT NULL
           AND c.execution_time_ms IS NOT NULL AND b.execution_time_ms IS NOT NULL
    )
    SELECT p.test_id::text, p.test_name::varchar, p.statistic::text, p.before, p.after, p.pct,
           CASE WHEN pg_catalog.abs(p.pct) < threshold_pct THEN 'unchanged (' || p.pct::text || ' %)'
                WHEN p.pct < 0 THEN (-p.pct)::text || ' % faster'
                ELSE p.pct::text || ' % slower' END,
           p.pct >= threshold_pct
      FROM pairs p
     ORDER BY p.test_id;
END
$$;
