//! perf_report: a run's report in markdown, JSON, TAP or HTML, built from the tables.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;

use crate::errors::{bad_argument, raise, required};
use crate::report::model::{Hypothetical, ReportData};
use crate::report::{self, Format};
use crate::pg::subxact::{in_subtransaction, OnSuccess};

/// Everything a report needs, as one JSON document, in one statement (one snapshot).
const LOAD: &str = r#"
WITH r AS (
    SELECT * FROM perf_runs WHERE run_id = coalesce($1, (SELECT pg_catalog.max(run_id) FROM perf_runs))
), prev AS (
    SELECT p.run_id, p.started_at FROM perf_runs p, r
     WHERE p.run_id < r.run_id AND p.status = 'completed'
       AND p.pattern = r.pattern AND p.target_schema = r.target_schema
     ORDER BY p.run_id DESC LIMIT 1
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
            'finished_at', pg_catalog.date_trunc('second', finished_at)::text, 'status', status, 'overall', overall,
            'pattern', pattern, 'target_schema', target_schema, 'run_by', run_by, 'origin', origin,
            'pg_version', pg_version, 'settings', coalesce(settings, '{}'), 'data_volume', coalesce(data_volume, '{}'),
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
            'test_id', x.test_id, 'name', coalesce(t.name, x.test_name::text), 'scenario', t.scenario,
            'kind', t.kind, 'query_type', x.query_type, 'run_as', t.run_as, 'compare_to', t.compare_to,
            'records', t.records, 'statistic', x.statistic, 'target_ms', x.target_ms,
            'acceptable_ms', x.acceptable_ms, 'measured_ms', x.execution_time_ms, 'status', x.status,
            'notes', x.notes, 'iterations', x.iterations, 'min_ms', x.min_ms, 'p50_ms', x.p50_ms,
            'p95_ms', x.p95_ms, 'p99_ms', x.p99_ms, 'max_ms', x.max_ms,
            'shared_hit_blocks', x.shared_hit_blocks, 'shared_read_blocks', x.shared_read_blocks,
            'temp_blocks', x.temp_blocks, 'work_mem_kb', x.work_mem_kb, 'expected_value', x.expected_value, 'actual_value', x.actual_value,
            'error_sqlstate', x.error_sqlstate, 'error_message', x.error_message, 'plan', x.plan,
            'sql', coalesce(t.explain_sql, t.sql))
            ORDER BY x.result_id), '[]')
            FROM performance_test_results x LEFT JOIN perf_tests t USING (test_id)
           WHERE x.run_id = (SELECT run_id FROM r)),
  'previous', (SELECT pg_catalog.jsonb_build_object('run_id', p.run_id, 'started_at', p.started_at::text,
            'measured', coalesce((SELECT pg_catalog.jsonb_object_agg(test_id, execution_time_ms) FROM performance_test_results
                                   WHERE run_id = p.run_id AND test_id IS NOT NULL AND execution_time_ms IS NOT NULL), '{}'))
            FROM prev p),
  'history', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('run_id', h.run_id, 'test_id', h.test_id,
                                                            'measured_ms', h.execution_time_ms) ORDER BY h.run_id), '[]')
            FROM performance_test_results h
           WHERE h.run_id IN (SELECT run_id FROM recent) AND h.target_ms IS NOT NULL
             AND h.execution_time_ms IS NOT NULL AND h.test_id IS NOT NULL),
  'health', pg_catalog.jsonb_build_object(
            'cache_hit_ratio', (SELECT blks_hit::float8 / nullif(blks_hit + blks_read, 0) FROM db),
            'blocks_read', (SELECT blks_read FROM db),
            'hypopg', EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'hypopg'))
) FROM r
"#;

fn load(run_id: Option<i64>) -> ReportData {
    // No such run: the statement returns no row at all.
    let doc = Spi::get_one_with_args::<pgrx::JsonB>(LOAD, &[run_id.into()]).ok().flatten();
    let Some(pgrx::JsonB(doc)) = doc else {
        match run_id {
            Some(id) => raise(
                pgrx::PgSqlErrorCode::ERRCODE_NO_DATA_FOUND,
                format!("run {id} does not exist"),
                Some("SELECT run_id, started_at, status FROM perf_runs ORDER BY run_id DESC; lists the runs."),
            ),
            None => raise(
                pgrx::PgSqlErrorCode::ERRCODE_NO_DATA_FOUND,
                "there are no runs to report on",
                Some("Run SELECT * FROM perf_run_all(); first."),
            ),
        }
    };
    let mut data: ReportData = serde_json::from_value(doc).unwrap_or_else(|e| error!("report data: {e}"));
    metrics_freshness(&mut data);
    hypothetical_indexes(&mut data);
    data
}

/// With hypopg installed: for each index a recommendation proposes, would the planner
/// use it for the test's statement, and at what estimated cost? Evaluated with
/// hypothetical indexes only (nothing is built); a statement that cannot be planned
/// any more (schema gone, tables changed) is left without a verdict.
fn hypothetical_indexes(data: &mut ReportData) {
    if !data.health.hypopg {
        return;
    }
    let schema_of = |ext: &str| {
        Spi::get_one_with_args::<String>(
            "SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension e \
               JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1",
            &[ext.into()],
        )
        .ok()
        .flatten()
    };
    let Some(hypo) = schema_of("hypopg") else { return };
    let search_path = [Some("pg_catalog".to_string()), Some(quote_identifier(&data.run.target_schema)), schema_of("pg_trgm"), Some(hypo.clone())]
        .into_iter()
        .flatten()
        .chain(std::iter::once("pg_temp".to_string()))
        .collect::<Vec<_>>()
        .join(", ");
    for rec in crate::report::advice::recommend(data) {
        let (Some(ddl), Some(test_id)) = (rec.index_ddl, rec.test_id) else { continue };
        let Some(sql) = data.results.iter().find(|r| r.test_id == test_id).and_then(|r| r.sql.clone()) else { continue };
        // Planning can run the SQL's functions (constant folding): only SQL whose author
        // may act as this session's role is planned here.
        let author = Spi::get_one_with_args::<String>("SELECT author::text FROM perf_tests WHERE test_id = $1", &[test_id.as_str().into()])
            .ok()
            .flatten()
            .unwrap_or_default();
        if crate::pg::roles::decision_for(&author, None) != crate::pg::roles::Decision::AsIs {
            continue;
        }
        let verdict = in_subtransaction(OnSuccess::Rollback, || {
            Spi::run_with_args("SELECT pg_catalog.set_config('search_path', $1, true)", &[search_path.as_str().into()])
                .expect("search_path");
            let before = plan_cost(&sql);
            Spi::run_with_args(&format!("SELECT {hypo}.hypopg_create_index($1)"), &[ddl.as_str().into()])
                .expect("hypopg_create_index");
            let after = explain(&sql);
            Hypothetical {
                // hypopg names its indexes "<oid>btree_...": compact JSON text, no spaces.
                used: after.to_string().contains("\"Index Name\":\"<"),
                cost_before: before,
                cost_after: total_cost(&after),
            }
        });
        // Hypothetical indexes live in backend memory, not in the transaction: drop
        // them whether or not the check succeeded.
        let _ = Spi::run(&format!("SELECT {hypo}.hypopg_reset()"));
        if let Ok(h) = verdict {
            data.health.hypothetical.insert(ddl, h);
        }
    }
}

fn explain(sql: &str) -> serde_json::Value {
    Spi::connect(|c| c.select(&format!("EXPLAIN (FORMAT JSON) {sql}"), None, &[])?.first().get_one::<pgrx::Json>())
        .expect("EXPLAIN")
        .map(|j| j.0)
        .unwrap_or_default()
}

fn total_cost(plan: &serde_json::Value) -> f64 {
    plan.get(0).and_then(|s| s.get("Plan")).and_then(|p| p.get("Total Cost")).and_then(|c| c.as_f64()).unwrap_or(0.0)
}

fn plan_cost(sql: &str) -> f64 {
    total_cost(&explain(sql))
}

/// Active customers with no customer_metrics row: the view is stale. Read only when
/// both relations still exist and the caller may read them.
fn metrics_freshness(data: &mut ReportData) {
    let schema = quote_identifier(&data.run.target_schema);
    let (customers, metrics) = (format!("{schema}.customers"), format!("{schema}.customer_metrics"));
    let readable = Spi::get_one_with_args::<bool>(
        "SELECT pg_catalog.to_regclass($1) IS NOT NULL AND pg_catalog.to_regclass($2) IS NOT NULL \
            AND pg_catalog.has_table_privilege($1, 'SELECT') AND pg_catalog.has_table_privilege($2, 'SELECT')",
        &[customers.as_str().into(), metrics.as_str().into()],
    )
    .expect("metrics check")
    .unwrap_or(false);
    if !readable {
        return;
    }
    let (missing, active) = Spi::get_two::<i64, i64>(&format!(
        "SELECT pg_catalog.count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM {metrics} m WHERE m.customer_id = c.id)), pg_catalog.count(*) \
           FROM {customers} c WHERE c.deleted_at IS NULL"
    ))
    .expect("metrics freshness");
    data.health.metrics_missing = missing;
    data.health.active_customers = active;
}

/// A run's report: the plan's Reporting Template (markdown), or 'json', 'tap', 'html'.
/// Defaults to the latest run.
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn perf_report(run_id: default!(Option<i64>, "NULL"), format: default!(Option<&str>, "'markdown'")) -> String {
    let name = required(format, "format");
    let fmt = Format::parse(name).unwrap_or_else(|| {
        bad_argument(format!("format must be one of {}, not \"{name}\"", Format::NAMES), None)
    });
    report::render(&load(run_id), fmt)
}
