//! What a report is built from: one run, its results, the run before it and the
//! recent history, read in one statement (one snapshot).

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::{raise, OrInternal};
use crate::report::model::ReportData;

const LOAD: &str = include_str!("../../sql/queries/report.sql");

/// The report data of `run_id` (the latest run when None); P0002 when there is none.
pub fn load(run_id: Option<i64>) -> ReportData {
    let doc = Spi::get_one_with_args::<pgrx::JsonB>(LOAD, &[run_id.into()]).ok().flatten();
    let Some(pgrx::JsonB(doc)) = doc else {
        match run_id {
            Some(id) => raise(
                Code::ERRCODE_NO_DATA_FOUND,
                format!("run {id} does not exist"),
                Some("SELECT run_id, started_at, status FROM perf_runs ORDER BY run_id DESC; lists the runs."),
            ),
            None => raise(
                Code::ERRCODE_NO_DATA_FOUND,
                "there are no runs to report on",
                Some("Run SELECT * FROM perf_run_all(); first."),
            ),
        }
    };
    // Invariant: the document is built by LOAD with the fields ReportData declares
    // (all optional or defaulted); a mismatch is a bug in this file, not user input.
    serde_json::from_value(doc).or_internal("report document matches ReportData")
}
