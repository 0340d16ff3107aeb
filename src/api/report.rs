//! perf_report: a run's report in markdown, JSON, TAP or HTML, built from the tables.

use pgrx::prelude::*;

use crate::errors::{bad_argument, required};
use crate::report::{self, target, Format};
use crate::store;

/// A run's report: the plan's Reporting Template (markdown), or 'json', 'tap', 'html'.
/// Defaults to the latest run.
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn perf_report(run_id: default!(Option<i64>, "NULL"), format: default!(Option<&str>, "'markdown'")) -> String {
    let name = required(format, "format");
    let fmt = Format::parse(name)
        .unwrap_or_else(|| bad_argument(format!("format must be one of {}, not \"{name}\"", Format::NAMES), None));
    let mut data = store::report::load(run_id);
    target::metrics_freshness(&mut data);
    target::hypothetical_indexes(&mut data);
    report::render(&data, fmt)
}
