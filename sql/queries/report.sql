-- Everything a report needs, as one JSON document, in one statement (one snapshot).
-- Figures are rows operators may write: history and comparisons keep only finite,
-- non-negative ones (a NaN numeric compares greater than every number).
-- $1: the run (NULL: the latest). No such run: no row at all.
WITH r AS (
    SELECT * FROM perf_runs WHERE run_id = coalesce($1, (SELECT pg_catalog.max(run_id) FROM perf_runs))
), prev AS (
    -- The baseline pinned for the run's schema (perf_set_baseline), else the run before.
    SELECT p.run_id, p.started_at, p.pinned_baseline FROM perf_runs p, r
     WHERE p.run_id <> r.run_id
       AND (p.pinned_baseline AND p.target_schema = r.target_schema
            OR p.run_id < r.run_id AND p.status = 'completed'
               AND p.pattern = r.pattern AND p.target_schema = r.target_schema)
     ORDER BY p.pinned_baseline DESC, p.run_id DESC LIMIT 1
), recent AS (
    SELECT p.run_id FROM perf_runs p, r
     WHERE p.run_id <= r.run_id AND p.status = 'completed'
       AND p.pattern = r.pattern AND p.target_schema = r.target_schema
     ORDER BY p.run_id DESC LIMIT 20
), db AS (
    SELECT blks_hit, blks_read FROM pg_catalog.pg_stat_database WHERE datname = pg_catalog.current_database()
)
SELECT pg_catalog.jsonb_build_object(
  'run', (SELECT pg_catalog.jsonb_build_object(
            'run_id', run_id, 'started_at', pg_catalog.date_trunc('second', started_at)::text,
            'finished_at', pg_catalog.date_trunc('second', finished_at)::text, 'status', coalesce(status, ''), 'overall', overall,
            'pattern', coalesce(pattern, ''), 'target_schema', coalesce(target_schema, ''), 'run_by', coalesce(run_by::text, ''),
            'origin', origin, 'scale', scale, 'pg_version', coalesce(pg_version, ''),
            -- Setting values as text, volumes as whole numbers a bigint holds: the shapes
            -- the report reads, whatever an operator wrote in these columns.
            'settings', coalesce((SELECT pg_catalog.jsonb_object_agg(e.key, e.value #>> '{}')
                                    FROM pg_catalog.jsonb_each(CASE WHEN pg_catalog.jsonb_typeof(settings) = 'object'
                                                                    THEN settings ELSE '{}' END) e), '{}'),
            'data_volume', coalesce((SELECT pg_catalog.jsonb_object_agg(e.key, pg_catalog.trunc((e.value #>> '{}')::numeric))
                                       FROM pg_catalog.jsonb_each(CASE WHEN pg_catalog.jsonb_typeof(data_volume) = 'object'
                                                                       THEN data_volume ELSE '{}' END) e
                                      WHERE pg_catalog.jsonb_typeof(e.value) = 'number'
                                        AND (e.value #>> '{}')::numeric BETWEEN -9e18 AND 9e18), '{}'),
            'database', pg_catalog.current_database(),
            'database_size', pg_catalog.pg_size_pretty(pg_catalog.pg_database_size(pg_catalog.current_database())),
            'notes', notes, 'cache_state', cache_state, 'stat_statements', stat_statements,
            'top_statements', coalesce(top_statements, '[]'),
            'worker_slots_free', worker_slots_free, 'index_bytes_start', index_bytes_start,
            'index_bytes_end', index_bytes_end,
            'monitoring', (SELECT CASE WHEN pg_catalog.count(*) > 0 THEN pg_catalog.jsonb_build_object(
                               'samples', pg_catalog.count(*), 'max_lock_waits', pg_catalog.max(lock_waits), 'max_slow_queries', pg_catalog.max(slow_queries),
                               'min_cache_hit_ratio', pg_catalog.min(cache_hit_ratio), 'cpu_peak_pct', pg_catalog.max(cpu_busy_pct),
                               'mem_peak_pct', pg_catalog.max(mem_used_pct), 'max_connections_used', pg_catalog.max(connections),
                               'max_connections', pg_catalog.current_setting('max_connections')::int,
                               'blocks_read_peak_per_s', pg_catalog.max(blocks_read_per_s),
                               'disk_read_peak_kbs', pg_catalog.max(disk_read_kbs), 'disk_write_peak_kbs', pg_catalog.max(disk_write_kbs)) END
                             FROM perf_snapshots s WHERE s.run_id = r.run_id)) FROM r),
  'results', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
            'test_id', coalesce(x.test_id, ''), 'name', coalesce(t.name, x.test_name::text, x.test_id, ''), 'scenario', t.scenario,
            'kind', t.kind, 'query_type', x.query_type, 'run_as', t.run_as, 'compare_to', t.compare_to,
            'records', t.records, 'statistic', x.statistic, 'target_ms', x.target_ms,
            'acceptable_ms', x.acceptable_ms, 'measured_ms', x.execution_time_ms, 'status', coalesce(x.status, 'SKIP'),
            'notes', x.notes, 'iterations', x.iterations, 'min_ms', x.min_ms, 'p50_ms', x.p50_ms,
            'p95_ms', x.p95_ms, 'p99_ms', x.p99_ms, 'max_ms', x.max_ms,
            'shared_hit_blocks', x.shared_hit_blocks, 'shared_read_blocks', x.shared_read_blocks,
            'temp_blocks', x.temp_blocks, 'work_mem_kb', x.work_mem_kb, 'expected_value', x.expected_value, 'actual_value', x.actual_value,
            'error_sqlstate', x.error_sqlstate, 'error_message', x.error_message, 'plan', x.plan,
            'sql', coalesce(t.explain_sql, t.sql), 'author', t.author, 'samples_ms', coalesce(x.samples_ms, '{}'),
            'cold_ms', x.cold_ms, 'evicted', x.evicted, 'findings', x.findings, 'waits', x.waits, 'resources', x.resources,
            'report_row', t.report_row, 'plan_baseline_ms', t.plan_baseline_ms, 'report_role', t.report_role)
            ORDER BY x.result_id), '[]')
            FROM performance_test_results x LEFT JOIN perf_tests t USING (test_id)
           WHERE x.run_id = (SELECT run_id FROM r)),
  'previous', (SELECT pg_catalog.jsonb_build_object('run_id', p.run_id, 'started_at', p.started_at::text,
            'measured', coalesce((SELECT pg_catalog.jsonb_object_agg(test_id, execution_time_ms) FROM performance_test_results
                                   WHERE run_id = p.run_id AND test_id IS NOT NULL AND execution_time_ms BETWEEN 0 AND 1e15), '{}'),
            'samples', coalesce((SELECT pg_catalog.jsonb_object_agg(test_id, samples_ms) FROM performance_test_results
                                  WHERE run_id = p.run_id AND test_id IS NOT NULL AND samples_ms IS NOT NULL), '{}'),
            'pinned', p.pinned_baseline,
            -- Per test, its median (or figure) in up to 10 completed runs before this
            -- one: what its noise band is learned from (suite::noise).
            'noise_history', coalesce((
                SELECT pg_catalog.jsonb_object_agg(t.test_id, t.figures) FROM (
                    SELECT h.test_id, pg_catalog.jsonb_agg(h.figure ORDER BY h.run_id) AS figures
                      FROM (SELECT x.test_id, x.run_id,
                                   coalesce((SELECT pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY s)
                                               FROM pg_catalog.unnest(x.samples_ms) AS s), x.execution_time_ms::float8) AS figure,
                                   pg_catalog.row_number() OVER (PARTITION BY x.test_id ORDER BY x.run_id DESC) AS n
                              FROM performance_test_results x JOIN perf_runs q ON q.run_id = x.run_id, r
                             WHERE x.run_id < r.run_id AND q.status = 'completed' AND q.target_schema = r.target_schema
                               AND x.test_id IS NOT NULL AND x.execution_time_ms BETWEEN 0 AND 1e15) h
                     WHERE h.n <= 10
                     GROUP BY h.test_id) t), '{}'))
            FROM prev p),
  'monitor', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                 'test_id', s.test_id, 'scenario', t.scenario, 'offset_ms', s.offset_ms, 'cpu_pct', s.cpu_busy_pct,
                 'mem_pct', s.mem_used_pct, 'lock_waits', s.lock_waits, 'slow_queries', s.slow_queries,
                 'connections', s.connections, 'disk_read_kbs', s.disk_read_kbs, 'disk_write_kbs', s.disk_write_kbs)
                 ORDER BY s.taken_at), '[]')
            FROM perf_snapshots s LEFT JOIN perf_tests t USING (test_id)
           WHERE s.run_id = (SELECT run_id FROM r) AND s.test_id IS NOT NULL),
  'history', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('run_id', h.run_id, 'test_id', h.test_id,
                                                            'measured_ms', h.execution_time_ms) ORDER BY h.run_id), '[]')
            FROM performance_test_results h
           WHERE h.run_id IN (SELECT run_id FROM recent) AND h.target_ms IS NOT NULL
             AND h.execution_time_ms BETWEEN 0 AND 1e15 AND h.test_id IS NOT NULL),
  -- The run's load tests (response time from when each transaction was due, service
  -- time from when it started) and its capacity searches' steps: bounded in number and
  -- in the length of their text, whatever operators wrote into these rows.
  'load_tests', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                 'load_id', l.load_id, 'script', pg_catalog.left(l.script, 200), 'clients', l.clients, 'rate', l.rate,
                 'arrivals', pg_catalog.left(l.arrivals, 20),
                 'transactions', l.transactions, 'failed', l.failed, 'skipped', l.skipped, 'behind', l.behind, 'tps', l.tps,
                 'p50_ms', l.lat_p50_ms, 'p95_ms', l.lat_p95_ms, 'p99_ms', l.lat_p99_ms,
                 'service_p95_ms', l.service_p95_ms, 'service_p99_ms', l.service_p99_ms, 'lag_p95_ms', l.lag_p95_ms)
                 ORDER BY l.load_id), '[]')
            FROM (SELECT * FROM perf_load_runs l
                   WHERE l.run_id = (SELECT run_id FROM r)
                     AND NOT EXISTS (SELECT 1 FROM perf_capacity_steps s WHERE s.load_id = l.load_id)
                   ORDER BY l.load_id LIMIT 100) l),
  'capacity', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                 'capacity_id', s.capacity_id, 'step', s.step, 'offered_rate', s.offered_rate, 'achieved_tps', s.achieved_tps,
                 'p95_ms', s.p95_ms, 'service_p95_ms', s.service_p95_ms, 'met', s.met, 'capacity', s.capacity, 'knee', s.knee,
                 'target_p95_ms', c.target_p95_ms, 'clients', c.clients, 'script', pg_catalog.left(c.script, 200))
                 ORDER BY s.capacity_id, s.step), '[]')
            FROM (SELECT s.* FROM perf_capacity_steps s JOIN perf_capacity_runs c USING (capacity_id)
                   WHERE c.run_id = (SELECT run_id FROM r) ORDER BY s.capacity_id, s.step LIMIT 500) s
            JOIN perf_capacity_runs c USING (capacity_id)),
  'health', pg_catalog.jsonb_build_object(
            'cache_hit_ratio', (SELECT blks_hit::float8 / nullif(blks_hit + blks_read, 0) FROM db),
            'blocks_read', (SELECT blks_read FROM db),
            'hypopg', EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'hypopg'))
) FROM r
