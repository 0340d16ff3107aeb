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
       coalesce(r.finished_at, clock_timestamp()) - r.started_at AS elapsed,
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
SET search_path = @extschema@, pg_catalog
AS $$
    SELECT test_name,
           query_type,
           count(*),
           avg(execution_time_ms)::numeric(10,2),
           min(execution_time_ms)::numeric(10,2),
           max(execution_time_ms)::numeric(10,2),
           stddev(execution_time_ms)::numeric(10,2),
           (percentile_cont(0.95) WITHIN GROUP (ORDER BY execution_time_ms))::numeric(10,2),
           (percentile_cont(0.99) WITHIN GROUP (ORDER BY execution_time_ms))::numeric(10,2),
           count(*) FILTER (WHERE status IN ('PASS', 'WARN')),
           count(*) FILTER (WHERE status IN ('FAIL', 'ERROR'))
      FROM performance_test_results
     WHERE CASE WHEN run IS NULL THEN test_timestamp > now() - since ELSE run_id = run END
     GROUP BY test_name, query_type
     ORDER BY test_name, query_type
$$;

-- Run history: each timed test of one run against another (by default the latest run
-- against the completed run before it over the same tests and schema).
CREATE FUNCTION perf_compare(run bigint DEFAULT NULL, baseline bigint DEFAULT NULL,
                             threshold_pct numeric DEFAULT 10)
RETURNS TABLE (test_id text, test_name varchar, statistic text, baseline_ms numeric, current_ms numeric,
               change_pct numeric, change text, regression boolean)
LANGUAGE sql STABLE
SET search_path = @extschema@, pg_catalog
AS $$
    WITH cur AS (
        SELECT * FROM perf_runs WHERE run_id = coalesce(run, (SELECT max(run_id) FROM perf_runs))
    ), base AS (
        SELECT coalesce(baseline, (SELECT p.run_id FROM perf_runs p, cur
                                    WHERE p.run_id < cur.run_id AND p.status = 'completed'
                                      AND p.pattern = cur.pattern AND p.target_schema = cur.target_schema
                                    ORDER BY p.run_id DESC LIMIT 1)) AS run_id
    ), pairs AS (
        SELECT c.test_id, c.test_name, c.statistic, b.execution_time_ms AS before, c.execution_time_ms AS after,
               round((c.execution_time_ms - b.execution_time_ms) / nullif(b.execution_time_ms, 0) * 100, 1) AS pct
          FROM performance_test_results c
          JOIN performance_test_results b ON b.test_id = c.test_id AND b.run_id = (SELECT run_id FROM base)
         WHERE c.run_id = (SELECT run_id FROM cur) AND c.target_ms IS NOT NULL
           AND c.execution_time_ms IS NOT NULL AND b.execution_time_ms IS NOT NULL
    )
    SELECT test_id, test_name, statistic, before, after, pct,
           CASE WHEN abs(pct) < threshold_pct THEN 'unchanged (' || pct || ' %)'
                WHEN pct < 0 THEN -pct || ' % faster'
                ELSE pct || ' % slower' END,
           pct >= threshold_pct
      FROM pairs
     ORDER BY test_id
$$;
