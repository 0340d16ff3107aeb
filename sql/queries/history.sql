-- One test's history on one schema: per completed run (the latest 500, oldest first)
-- its figure (the median of its samples, or its recorded figure without samples), the
-- interquartile range of its samples (its noise band), its plan's fingerprint, and the
-- run's canary. $1: the test, $2: the schema, $3: the scale (runs at other scales
-- measured other data: a series of their own).
SELECT h.run_id, h.started_at, h.scale, h.status, h.figure, h.band_low, h.band_high, h.plan_fingerprint,
       h.canary_ms
  FROM (SELECT p.run_id, p.started_at, p.scale, x.status, x.plan_fingerprint, p.canary_ms,
               coalesce((SELECT pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY s)
                           FROM pg_catalog.unnest(x.samples_ms[1:100000]) AS s), x.execution_time_ms::float8) AS figure,
               (SELECT pg_catalog.percentile_cont(0.25) WITHIN GROUP (ORDER BY s)
                  FROM pg_catalog.unnest(x.samples_ms[1:100000]) AS s) AS band_low,
               (SELECT pg_catalog.percentile_cont(0.75) WITHIN GROUP (ORDER BY s)
                  FROM pg_catalog.unnest(x.samples_ms[1:100000]) AS s) AS band_high
          FROM perf_runs p
          CROSS JOIN LATERAL (SELECT r.* FROM performance_test_results r
                               WHERE r.run_id = p.run_id AND r.test_id = $1
                                 AND r.execution_time_ms BETWEEN 0 AND 1e15
                               ORDER BY r.result_id DESC LIMIT 1) x
         WHERE p.target_schema = $2 AND p.scale = $3 AND p.status = 'completed'
         ORDER BY p.run_id DESC LIMIT 500) h
 ORDER BY h.run_id
