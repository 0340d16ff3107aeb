//! Writing runs and results to the extension's tables.

use pgrx::prelude::*;

use crate::errors::OrInternal;
use crate::suite::result::TestResult;
use crate::suite::verdict::Verdict;
use crate::sut::Target;

/// Settings that change how queries run; recorded with every run.
const SETTINGS: &[&str] = &[
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "random_page_cost",
    "jit",
    "max_parallel_workers_per_gather",
    "max_worker_processes",
    "track_io_timing",
    "log_min_duration_statement",
];

pub fn start_run(target: &Target, pattern: &str, tests_total: i32, launcher_pid: Option<i32>, scale: f64) -> i64 {
    let settings: Vec<String> = SETTINGS.iter().map(|s| s.to_string()).collect();
    Spi::get_one_with_args::<i64>(
        "INSERT INTO perf_runs (pattern, target_schema, settings, tests_total, launcher_pid, scale, origin, backend_start) \
         SELECT $1, $2, pg_catalog.jsonb_object_agg(name, pg_catalog.current_setting(name)), $4, $5, $6, \
                coalesce((SELECT coalesce(nullif(application_name, ''), backend_type) \
                            FROM pg_catalog.pg_stat_activity WHERE pid = $5), pg_catalog.current_setting('application_name')), \
                (SELECT backend_start FROM pg_catalog.pg_stat_activity WHERE pid = pg_catalog.pg_backend_pid()) \
           FROM pg_catalog.pg_settings WHERE name = ANY($3) \
         RETURNING run_id",
        &[pattern.into(), target.schema.as_str().into(), settings.into(), tests_total.into(), launcher_pid.into(), scale.into()],
    )
    .or_internal("insert perf_runs")
    .or_internal("run_id")
}

/// Progress: the test now running (visible to others once the step commits).
pub fn mark_current_test(run_id: i64, test_id: &str) {
    Spi::run_with_args("UPDATE perf_runs SET current_test = $2 WHERE run_id = $1", &[run_id.into(), test_id.into()])
        .or_internal("update perf_runs progress");
}

/// Runs still marked running whose process is gone (its pid absent, or reused by a
/// process that started later) are marked aborted; their results stay.
pub fn reap_stale_runs() {
    Spi::run(
        "UPDATE perf_runs r SET status = 'aborted', finished_at = pg_catalog.clock_timestamp(), current_test = NULL, \
                notes = pg_catalog.concat_ws('; ', notes, 'its process (PID ' || backend_pid::text || ') ended before the run finished') \
          WHERE status = 'running' AND backend_pid <> pg_catalog.pg_backend_pid() \
            AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a \
                             WHERE a.pid = r.backend_pid AND a.backend_start IS NOT DISTINCT FROM r.backend_start)",
    )
    .or_internal("reap stale runs");
}

pub fn insert_result(r: &TestResult) {
    let doc = pgrx::JsonB(serde_json::to_value(r).or_internal("result as JSON"));
    // The result's own fields, and the time it was recorded: the column list comes
    // from the type (TestResult::columns), checked against the table by a test.
    let columns = format!("test_timestamp, {}", TestResult::columns().join(", "));
    Spi::run_with_args(
        &format!(
            "INSERT INTO performance_test_results ({columns}) \
             SELECT {columns} FROM pg_catalog.jsonb_populate_record(NULL::performance_test_results, \
                    $1 || pg_catalog.jsonb_build_object('test_timestamp', pg_catalog.clock_timestamp()))"
        ),
        &[doc.into()],
    )
    .or_internal("insert performance_test_results");
    Spi::run_with_args("UPDATE perf_runs SET tests_done = tests_done + 1 WHERE run_id = $1", &[r.run_id.into()])
        .or_internal("update perf_runs progress");
}

/// The state the run measures: what its environment step did, and the fingerprint of
/// its seed, scale, schema definition and settings (sql/queries/state_fingerprint.sql).
pub fn record_state(run_id: i64, target: &Target, seed: u64, scale: f64, state: &str) {
    Spi::run_with_args(
        &format!(
            "UPDATE perf_runs SET state = $5, state_fingerprint = ({}) WHERE run_id = $4",
            include_str!("../../sql/queries/state_fingerprint.sql")
        ),
        &[target.schema.as_str().into(), (seed as i64).into(), scale.into(), run_id.into(), state.into()],
    )
    .or_internal("record the run's state");
}

/// Of `relations` (qualified, quoted), those the current role may VACUUM (it owns them,
/// or is a superuser) and the others.
pub fn vacuumable(relations: &[String]) -> (Vec<String>, Vec<String>) {
    let mine: Vec<bool> = Spi::get_one_with_args::<Vec<bool>>(
        "SELECT pg_catalog.array_agg(coalesce(pg_catalog.pg_has_role(c.relowner, 'USAGE'), false) \
                                     OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = CURRENT_USER) \
                                     ORDER BY r.n) \
           FROM pg_catalog.unnest($1::text[]) WITH ORDINALITY AS r(name, n) \
           LEFT JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(r.name)",
        &[relations.to_vec().into()],
    )
    .or_internal("who may vacuum the tables under test")
    .unwrap_or_default();
    let (yes, no): (Vec<_>, Vec<_>) =
        relations.iter().zip(mine.iter().chain(std::iter::repeat(&false))).partition(|(_, m)| **m);
    (yes.into_iter().map(|(r, _)| r.clone()).collect(), no.into_iter().map(|(r, _)| r.clone()).collect())
}

/// Add a sentence to the run's state.
pub fn append_state(run_id: i64, sentence: &str) {
    Spi::run_with_args(
        "UPDATE perf_runs SET state = pg_catalog.concat_ws('; ', state, $2) WHERE run_id = $1",
        &[run_id.into(), sentence.into()],
    )
    .or_internal("update the run's state");
}

/// The run's canary figure (runner::canary).
pub fn record_canary(run_id: i64, ms: f64) {
    Spi::run_with_args("UPDATE perf_runs SET canary_ms = $2 WHERE run_id = $1", &[run_id.into(), ms.into()])
        .or_internal("record the canary");
}

/// The plan shape `test_id` had last before `run_id`, in a run of the same schema and
/// scale: that run, the shape, and whether that run measured the same state as this
/// one (the same state fingerprint).
pub fn previous_plan_shape(run_id: i64, test_id: &str, schema: &str, scale: f64) -> Option<(i64, Vec<String>, bool)> {
    Spi::connect(|c| {
        let rows = c.select(
            "SELECT x.run_id, x.plan_shape, \
                    coalesce(p.state_fingerprint = (SELECT state_fingerprint FROM perf_runs WHERE run_id = $2), false) \
               FROM performance_test_results x JOIN perf_runs p ON p.run_id = x.run_id \
              WHERE x.test_id = $1 AND x.run_id < $2 AND p.target_schema = $3 AND p.scale = $4 \
                AND p.status = 'completed' AND x.plan_shape IS NOT NULL \
              ORDER BY x.run_id DESC, x.result_id DESC LIMIT 1",
            None,
            &[test_id.into(), run_id.into(), schema.into(), scale.into()],
        )?;
        let mut found = None;
        for r in rows {
            if let (Some(run), Some(shape)) = (r.get::<i64>(1)?, r.get::<Vec<String>>(2)?) {
                found = Some((run, shape, r.get::<bool>(3)?.unwrap_or(false)));
            }
        }
        Ok::<_, pgrx::spi::Error>(found)
    })
    .or_internal("the previous plan of a test")
}

pub fn append_note(run_id: i64, note: &str) {
    Spi::run_with_args(
        "UPDATE perf_runs SET notes = pg_catalog.concat_ws('; ', notes, $2) WHERE run_id = $1",
        &[run_id.into(), note.into()],
    )
    .or_internal("update perf_runs notes");
}

/// Bytes of all indexes on the tables under test.
pub fn index_bytes(target: &Target) -> i64 {
    let relations: Vec<String> = crate::sut::columns::relation_names().iter().map(|t| target.rel(t)).collect();
    Spi::get_one_with_args::<i64>(
        "SELECT pg_catalog.sum(pg_catalog.pg_indexes_size(r::regclass))::bigint FROM pg_catalog.unnest($1::text[]) AS r",
        &[relations.into()],
    )
    .or_internal("index sizes")
    .unwrap_or(0)
}

/// The pre-test checklist, as far as a server can do it: reset pg_stat_statements when
/// it is installed and the caller may; say honestly that caches are warm; count free
/// background-worker slots. Recorded in the run row.
pub fn pre_test_checklist(run_id: i64, cache_state: &str) {
    // Only this database's entries are reset (userid 0 = any, dbid = this database,
    // queryid 0 = any): other databases' statistics are not ours to clear.
    let stat_statements = Spi::get_one::<String>(
        "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_stat_statements') \
                     THEN 'not installed' \
                     WHEN NOT pg_catalog.has_function_privilege((SELECT p.oid FROM pg_catalog.pg_proc p \
                              JOIN pg_catalog.pg_extension e ON e.extnamespace = p.pronamespace \
                             WHERE e.extname = 'pg_stat_statements' AND p.proname = 'pg_stat_statements_reset' \
                               AND p.pronargs >= 3 LIMIT 1), 'EXECUTE') \
                     THEN 'not reset: no privilege on pg_stat_statements_reset' \
                     WHEN pg_catalog.strpos(pg_catalog.current_setting('shared_preload_libraries'), 'pg_stat_statements') = 0 \
                     THEN 'not reset: installed, but not in shared_preload_libraries, so it collects nothing' \
                     ELSE 'reset (this database only)' END",
    )
    .or_internal("pg_stat_statements state")
    .unwrap_or_default();
    if stat_statements.starts_with("reset") {
        let schema = crate::pg::catalog::extension_schema_q("pg_stat_statements").unwrap_or_default();
        Spi::run(&format!(
            "SELECT {}.pg_stat_statements_reset(0::pg_catalog.oid, \
                    (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()), 0::pg_catalog.int8)",
            schema
        ))
        .or_internal("pg_stat_statements_reset");
    }
    let free_slots = crate::pg::bgworker::free_worker_slots();
    Spi::run_with_args(
        "UPDATE perf_runs SET stat_statements = $2, cache_state = $4, worker_slots_free = $3 WHERE run_id = $1",
        &[run_id.into(), stat_statements.into(), free_slots.into(), cache_state.into()],
    )
    .or_internal("record pre-test checklist");
}

/// The post-test checklist's "Analyze query statistics": when this run reset
/// pg_stat_statements, the five statements of this database that took the most time
/// since then (the run's own bookkeeping on pg_perfsuite's tables left out). With
/// pg_stat_statements.track = top (the default) these are the background run's and the
/// load clients' statements, which are top level in their workers.
pub fn record_top_statements(run_id: i64) {
    let reset = Spi::get_one_with_args::<bool>(
        "SELECT stat_statements LIKE 'reset%' FROM perf_runs WHERE run_id = $1",
        &[run_id.into()],
    )
    .or_internal("run lookup")
    .unwrap_or(false);
    if !reset {
        return;
    }
    let schema = crate::pg::catalog::extension_schema_q("pg_stat_statements");
    let Some(schema) = schema else { return };
    Spi::run_with_args(
        &format!(
            "UPDATE perf_runs SET top_statements = ( \
               SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object( \
                        'query', pg_catalog.left(pg_catalog.regexp_replace(s.query, '\\s+', ' ', 'g'), 200), 'calls', s.calls, \
                        'total_ms', pg_catalog.round(s.total_exec_time::numeric, 3), 'mean_ms', pg_catalog.round(s.mean_exec_time::numeric, 3), \
                        'rows', s.rows, 'shared_blks_read', s.shared_blks_read) ORDER BY s.total_exec_time DESC), '[]') \
                 FROM (SELECT * FROM {schema}.pg_stat_statements \
                        WHERE dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) \
                          AND query !~ '(perf_runs|performance_test_results|perf_tests|perf_load_|perf_snapshots|perf_generated_companies|pg_stat_statements)' \
                        ORDER BY total_exec_time DESC LIMIT 5) s) \
             WHERE run_id = $1"
        ),
        &[run_id.into()],
    )
    .or_internal("record top statements");
}

pub fn record_index_bytes(run_id: i64, column: &str, bytes: i64) {
    debug_assert!(matches!(column, "index_bytes_start" | "index_bytes_end"));
    Spi::run_with_args(
        &format!("UPDATE perf_runs SET {column} = $2 WHERE run_id = $1"),
        &[run_id.into(), bytes.into()],
    )
    .or_internal("record index size");
}

/// Row counts of the tables under test.
pub fn data_volume(target: &Target) -> pgrx::JsonB {
    let parts: Vec<String> = [
        "companies",
        "users",
        "customers",
        "customer_matching_keys",
        "VC Usage",
        "customer_events",
        "customer_conversation_summaries",
        "customer_metrics",
    ]
    .iter()
    .map(|t| format!("'{t}', (SELECT pg_catalog.count(*) FROM {})", target.rel(t)))
    .collect();
    Spi::get_one::<pgrx::JsonB>(&format!("SELECT pg_catalog.jsonb_build_object({})", parts.join(", ")))
        .or_internal("data volume")
        .or_internal("jsonb")
}

pub fn finish_run(run_id: i64, results: &[TestResult], volume: pgrx::JsonB, notes: &str) {
    let count = |v: Verdict| results.iter().filter(|r| r.verdict == Some(v)).count() as i32;
    let overall = Verdict::overall(results.iter().filter_map(|r| r.verdict));
    Spi::run_with_args(
        "UPDATE perf_runs SET finished_at = pg_catalog.clock_timestamp(), status = 'completed', overall = $2, current_test = NULL, \
                data_volume = $3, tests_total = $4, tests_passed = $5, tests_warned = $6, tests_failed = $7, \
                tests_errored = $8, tests_skipped = $9, notes = nullif($10, '') \
          WHERE run_id = $1",
        &[
            run_id.into(),
            overall.as_str().into(),
            volume.into(),
            (results.len() as i32).into(),
            count(Verdict::Pass).into(),
            count(Verdict::Warn).into(),
            count(Verdict::Fail).into(),
            count(Verdict::Error).into(),
            count(Verdict::Skip).into(),
            notes.into(),
        ],
    )
    .or_internal("update perf_runs");
}

/// When the process `pid` started (pg_stat_activity), as text; None when it is gone.
/// Other roles' rows hide it, so it tells this session's own worker from a run row
/// someone else wrote with the same PIDs.
pub fn backend_start_of(pid: i32) -> Option<String> {
    // The statistics snapshot of this transaction may predate the worker.
    Spi::run("SELECT pg_catalog.pg_stat_clear_snapshot()").or_internal("pg_stat_clear_snapshot");
    Spi::get_one_with_args::<String>(
        "SELECT backend_start::pg_catalog.text FROM pg_catalog.pg_stat_activity WHERE pid OPERATOR(pg_catalog.=) $1",
        &[pid.into()],
    )
    .ok()
    .flatten()
}

/// The run a background worker started for this session, once its first step committed:
/// the row with the worker's PID, this session's PID and the worker's start time.
/// Operators may write perf_runs rows, PIDs included; a worker's start time to the
/// microsecond is not theirs to see.
pub fn run_started_by(worker_pid: i32, worker_start: &str) -> Option<i64> {
    Spi::get_one_with_args::<i64>(
        "SELECT pg_catalog.max(run_id) FROM perf_runs WHERE backend_pid = $1 AND launcher_pid = pg_catalog.pg_backend_pid() \
            AND backend_start OPERATOR(pg_catalog.=) $2::pg_catalog.timestamptz",
        &[worker_pid.into(), worker_start.into()],
    )
    .unwrap_or_else(|e| crate::errors::internal("looking up the run", e))
}

/// A run refused at its start by worker `worker_pid` of this session during this
/// statement, for a worker that ended before its start time could be read. Only such a
/// failed start is looked up this way, so a forged row can at worst change which error
/// a failing start reports, never pass for a run.
pub fn failed_start_by(worker_pid: i32) -> Option<i64> {
    Spi::get_one_with_args::<i64>(
        "SELECT pg_catalog.max(run_id) FROM perf_runs WHERE backend_pid = $1 AND launcher_pid = pg_catalog.pg_backend_pid() \
            AND backend_start OPERATOR(pg_catalog.>=) pg_catalog.statement_timestamp() \
            AND status IN ('failed', 'cancelled') AND tests_total OPERATOR(pg_catalog.=) 0",
        &[worker_pid.into()],
    )
    .unwrap_or_else(|e| crate::errors::internal("looking up the run", e))
}

/// The run in progress in process `pid`, if any.
pub fn running_run_of(pid: i32) -> Option<i64> {
    Spi::get_one_with_args::<i64>(
        "SELECT pg_catalog.max(run_id) FROM perf_runs WHERE status = 'running' AND backend_pid = $1",
        &[pid.into()],
    )
    .ok()
    .flatten()
}

/// The error a run's worker recorded when it failed before its first test.
pub fn failed_start(run_id: i64) -> Option<(String, String)> {
    match Spi::get_two_with_args::<String, String>(
        "SELECT error_sqlstate, error_message FROM perf_runs WHERE run_id = $1",
        &[run_id.into()],
    ) {
        Ok((Some(state), Some(message))) => Some((state, message)),
        _ => None,
    }
}

/// A run's status and notes.
pub fn status_and_notes(run_id: i64) -> (String, String) {
    let (status, notes) = Spi::get_two_with_args::<String, String>(
        "SELECT status, notes FROM perf_runs WHERE run_id = $1",
        &[run_id.into()],
    )
    .unwrap_or((None, None));
    (status.unwrap_or_default(), notes.unwrap_or_default())
}

/// Results of a run recorded after result `after`, as (result_id, "STATUS name: notes").
pub fn results_after(run_id: i64, after: i64) -> Vec<(i64, String)> {
    Spi::connect_mut(|c| {
        c.update(
            "SELECT result_id, status || ' ' || test_name || ': ' || coalesce(notes, '') \
               FROM performance_test_results WHERE run_id = $1 AND result_id > $2 ORDER BY result_id",
            None,
            &[run_id.into(), after.into()],
        )?
        .map(|r| Ok((r.get(1)?.unwrap_or(0), r.get(2)?.unwrap_or_default())))
        .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .unwrap_or_else(|e| crate::errors::internal("reading new results", e))
}

/// One row a run returns to its caller.
pub type RunRow = (
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<f64>,
    Option<f64>,
    Option<String>,
    Option<String>,
);

/// The rows a run returns: one per test, from the results table.
pub fn rows_of_run(run_id: i64) -> Vec<RunRow> {
    Spi::connect_mut(|c| {
        c.update(
            "SELECT r.run_id, r.test_id, coalesce(t.name, r.test_name::text), r.statistic, r.target_ms::float8, \
                    r.execution_time_ms::float8, r.status, r.notes \
               FROM performance_test_results r LEFT JOIN perf_tests t USING (test_id) \
              WHERE r.run_id = $1 ORDER BY r.result_id",
            None,
            &[run_id.into()],
        )?
        .map(|r| Ok((r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)))
        .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .unwrap_or_else(|e| crate::errors::internal("reading the run's results", e))
}

/// log_performance_test: one row in the plan's own shape, outside any run.
pub fn log_result(
    test_name: Option<&str>,
    query_type: Option<&str>,
    execution_time_ms: Option<pgrx::AnyNumeric>,
    rows_returned: Option<i32>,
    notes: Option<&str>,
) {
    Spi::run_with_args(
        "INSERT INTO performance_test_results (test_name, query_type, execution_time_ms, rows_returned, notes) \
         VALUES ($1, $2, $3, $4, $5)",
        &[test_name.into(), query_type.into(), execution_time_ms.into(), rows_returned.into(), notes.into()],
    )
    .unwrap_or_else(|e| crate::errors::internal("recording the result", e));
}

/// A run that stopped (cancelled or failed): its status, and why, added to its notes.
pub fn end_run(run_id: i64, status: &str, note: &str) {
    Spi::run_with_args(
        "UPDATE perf_runs SET status = $2, finished_at = pg_catalog.clock_timestamp(), current_test = NULL, \
                notes = pg_catalog.concat_ws('; ', notes, $3) WHERE run_id = $1",
        &[run_id.into(), status.into(), note.into()],
    )
    .or_internal("recording the run's end");
}

/// A run its worker refused before the first test: a row of its own with the error's
/// SQLSTATE and message, which the waiting caller raises (runner::follow).
pub fn failed_before_start(pattern: &str, schema: &str, status: &str, launcher: i32, err: &crate::errors::SqlError) {
    Spi::run_with_args(
        "INSERT INTO perf_runs (pattern, target_schema, status, finished_at, launcher_pid, tests_total, \
                                error_sqlstate, error_message, notes, backend_start) \
         VALUES ($1, $2, $3, pg_catalog.clock_timestamp(), $4, 0, $5, $6, $3 || ' before its first test: ' || $6, \
                 (SELECT backend_start FROM pg_catalog.pg_stat_activity WHERE pid = pg_catalog.pg_backend_pid()))",
        &[
            pattern.into(),
            schema.into(),
            status.into(),
            launcher.into(),
            err.sqlstate().as_str().into(),
            err.message.as_str().into(),
        ],
    )
    .or_internal("recording the failed start");
}
