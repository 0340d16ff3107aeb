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
    Spi::run_with_args(
        "INSERT INTO performance_test_results (test_name, query_type, execution_time_ms, rows_returned, notes) \
         VALUES ($1, $2, $3, $4, $5)",
        &[p_test_name.into(), p_query_type.into(), p_execution_time_ms.into(), p_rows_returned.into(), p_notes.into()],
    )
    .unwrap_or_else(|e| crate::errors::internal("recording the result", e));
}
