-- The measurements of a scaling sweep ($1): every timed result of its runs with the
-- run's volume (customers in the schema when the run ended), the test's target and
-- its EXPLAIN (ANALYZE) plan, smallest volume first. Monitoring rows (M.*)
-- and results without a time (errors, skips) are left out.
SELECT r.test_id, coalesce(r.test_name, r.test_id), r.statistic, r.target_ms::pg_catalog.float8,
       (p.data_volume ->> 'customers')::pg_catalog.float8, r.execution_time_ms::pg_catalog.float8, r.plan
  FROM perf_scaling_sweeps s
  JOIN perf_runs p ON p.run_id = ANY (s.run_ids)
  JOIN performance_test_results r ON r.run_id = p.run_id
 WHERE s.sweep_id = $1
   AND r.execution_time_ms IS NOT NULL
   AND r.test_id NOT LIKE 'M.%'
   AND p.data_volume ? 'customers'
 ORDER BY r.test_id COLLATE "C", 5, r.run_id
