-- The timed tests of one run next to the same tests of its baseline, with every
-- iteration's sample, and the test's history: its median (or, without samples, its
-- recorded figure) in up to 10 earlier completed runs of the schema, oldest first. $1: the run (NULL: the latest); $2: the baseline (NULL: the
-- run pinned for the run's schema with perf_set_baseline, else the previous completed
-- run over the same tests and schema).
WITH cur AS (
    SELECT run_id, pattern, target_schema FROM perf_runs
     WHERE run_id = coalesce($1, (SELECT pg_catalog.max(run_id) FROM perf_runs))
), base AS (
    SELECT coalesce($2,
                    (SELECT p.run_id FROM perf_runs p, cur
                      WHERE p.pinned_baseline AND p.target_schema = cur.target_schema AND p.run_id <> cur.run_id),
                    (SELECT p.run_id FROM perf_runs p, cur
                      WHERE p.run_id < cur.run_id AND p.status = 'completed'
                        AND p.pattern = cur.pattern AND p.target_schema = cur.target_schema
                      ORDER BY p.run_id DESC LIMIT 1)) AS run_id
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
                   AND p.target_schema = (SELECT target_schema FROM cur) AND x.execution_time_ms IS NOT NULL
                 ORDER BY x.run_id DESC LIMIT 10) h)
  FROM performance_test_results c
  JOIN performance_test_results b ON b.test_id = c.test_id AND b.run_id = (SELECT run_id FROM base)
 WHERE c.run_id = (SELECT run_id FROM cur) AND c.target_ms IS NOT NULL
   AND c.execution_time_ms IS NOT NULL AND b.execution_time_ms IS NOT NULL
 ORDER BY c.test_id
