-- Figures are rows operators may write: only finite, non-negative ones are read (a
-- numeric NaN compares greater than every number, 1e400 is no float8).
-- The timed tests of one run, each next to its baseline result, with every iteration's
-- sample, both plan shapes, whether both runs measured the same state, and the test's history: its median (or, without samples,
-- its recorded figure) in up to 10 earlier completed runs of the schema, oldest first.
-- $1: the run (NULL: the latest). $2: the baseline run (NULL: the run pinned for the
-- run's schema with perf_set_baseline; without one, each test's own baseline: the last
-- earlier completed run of the same schema and scale that ran it, so a run of a few
-- tests is compared with whichever runs last ran each of them).
WITH cur AS (
    SELECT run_id, target_schema, scale FROM perf_runs
     WHERE run_id = coalesce($1, (SELECT pg_catalog.max(run_id) FROM perf_runs))
), chosen AS (
    SELECT coalesce($2,
                    (SELECT p.run_id FROM perf_runs p, cur
                      WHERE p.pinned_baseline AND p.target_schema = cur.target_schema AND p.run_id <> cur.run_id))
           AS run_id
)
SELECT c.test_id, c.test_name::text, c.statistic,
       b.execution_time_ms::float8, c.execution_time_ms::float8,
       -- A run records at most 100000 samples a test (perf_tests.iterations); a result
       -- rewritten with more is read up to that many, so memory stays bounded.
       coalesce(b.samples_ms[1:100000], '{}'), coalesce(c.samples_ms[1:100000], '{}'),
       b.run_id, c.run_id,
       (SELECT coalesce(pg_catalog.array_agg(h.figure ORDER BY h.run_id), '{}')
          FROM (SELECT x.run_id,
                       coalesce((SELECT pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY s)
                                   FROM pg_catalog.unnest(x.samples_ms[1:100000]) AS s), x.execution_time_ms::float8) AS figure
                  FROM performance_test_results x JOIN perf_runs p ON p.run_id = x.run_id
                 WHERE x.test_id = c.test_id AND x.run_id < c.run_id AND p.status = 'completed'
                   AND p.target_schema = (SELECT target_schema FROM cur) AND p.scale = (SELECT scale FROM cur)
                   AND x.execution_time_ms BETWEEN 0 AND 1e15
                 ORDER BY x.run_id DESC LIMIT 10) h),
       b.plan_shape[1:1000], c.plan_shape[1:1000],
       -- Both runs measured the same state (seed, scale, schema definition, settings).
       coalesce((SELECT s.state_fingerprint FROM perf_runs s WHERE s.run_id = b.run_id)
                = (SELECT s.state_fingerprint FROM perf_runs s WHERE s.run_id = c.run_id), false)
  FROM performance_test_results c
  CROSS JOIN LATERAL (
        SELECT x.* FROM performance_test_results x JOIN perf_runs p ON p.run_id = x.run_id, cur
         WHERE x.test_id = c.test_id AND x.execution_time_ms BETWEEN 0 AND 1e15
           AND CASE WHEN (SELECT run_id FROM chosen) IS NOT NULL THEN x.run_id = (SELECT run_id FROM chosen)
                    ELSE x.run_id < c.run_id AND p.status = 'completed'
                         AND p.target_schema = cur.target_schema AND p.scale = cur.scale END
         ORDER BY x.run_id DESC, x.result_id DESC LIMIT 1) b
 WHERE c.run_id = (SELECT run_id FROM cur) AND c.target_ms IS NOT NULL
   AND c.execution_time_ms BETWEEN 0 AND 1e15
 ORDER BY c.test_id
