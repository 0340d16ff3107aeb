use pgrx::prelude::*;

use crate::errors::bad_argument;

/// The longest execution time a result may record: a day, in ms. The plan's targets
/// are in milliseconds; anything longer is a unit mistake or garbage, and one stored
/// NaN or 1e300 would poison every average, comparison and report over the table.
const MAX_EXECUTION_MS: f64 = 86_400_000.0;

/// The plan's `log_performance_test`: one row into `performance_test_results`
/// (same arguments, same effect; run_id and the extra columns stay NULL). The figures
/// are checked first: a finite time from 0 to a day, a row count of at least 0.
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn log_performance_test(
    p_test_name: Option<&str>,
    p_query_type: Option<&str>,
    p_execution_time_ms: Option<pgrx::AnyNumeric>,
    p_rows_returned: Option<i32>,
    p_notes: default!(Option<&str>, "NULL"),
) {
    if let Some(ms) = &p_execution_time_ms {
        let v = f64::try_from(ms.clone()).unwrap_or(f64::NAN);
        if !(0.0..=MAX_EXECUTION_MS).contains(&v) {
            bad_argument(
                format!("p_execution_time_ms must be a number of milliseconds from 0 to {MAX_EXECUTION_MS} (got {ms})"),
                Some("Pass the measured time in milliseconds, e.g. extract(epoch from clock_timestamp() - started) * 1000."),
            );
        }
    }
    if let Some(n) = p_rows_returned.filter(|n| *n < 0) {
        bad_argument(format!("p_rows_returned must be 0 or more (got {n})"), None);
    }
    crate::store::runs::log_result(p_test_name, p_query_type, p_execution_time_ms, p_rows_returned, p_notes);
}
