use pgrx::prelude::*;

/// The plan's `log_performance_test`: one row into `performance_test_results`
/// (same arguments, same effect; run_id and the extra columns stay NULL).
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn log_performance_test(
    p_test_name: Option<&str>,
    p_query_type: Option<&str>,
    p_execution_time_ms: Option<pgrx::AnyNumeric>,
    p_rows_returned: Option<i32>,
    p_notes: default!(Option<&str>, "NULL"),
) {
    crate::store::runs::log_result(p_test_name, p_query_type, p_execution_time_ms, p_rows_returned, p_notes);
}
