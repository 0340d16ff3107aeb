//! perf_scaling: the timed tests at several scales, and what grows with the data.

use pgrx::prelude::*;

use crate::errors::{bad_argument, required};
use crate::report::scaling::SweepReport;
use crate::store::scaling as store;
use crate::suite::scaling::judge;
use crate::suite::setup::{check_scale, customers_per_company, TENANTS};

/// Most scales one sweep runs.
const MAX_SCALES: usize = 10;

/// Run the timed tests matching `pattern` once per scale (smallest first; each an
/// ordinary run, recorded, its data removed before the next scale), then per test: the
/// growth of its figure against the customers in the schema (log-log slope and fit),
/// a flag when it grows in proportion to the data (naming the plan node that reads the
/// most rows), and its figure extrapolated to `at_customers` (default ten times the
/// largest volume) against its target.
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
#[allow(clippy::type_complexity)]
fn perf_scaling(
    scales: default!(Option<Vec<Option<f64>>>, "'{1,10,100}'"),
    target_schema: default!(Option<&str>, "'public'"),
    pattern: default!(Option<&str>, "'%'"),
    at_customers: default!(Option<i64>, "NULL"),
    iterations: default!(Option<i32>, "NULL"),
    background: default!(Option<bool>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(sweep_id, i64),
        name!(test_id, String),
        name!(name, String),
        name!(statistic, Option<String>),
        name!(target_ms, Option<f64>),
        name!(slope, Option<f64>),
        name!(r2, Option<f64>),
        name!(growth, Option<String>),
        name!(flagged, bool),
        name!(extrapolated_ms, Option<f64>),
        name!(reaches_target_at, Option<f64>),
        name!(note, String),
    ),
> {
    let scales = checked_scales(required(scales, "scales"));
    let target_schema = required(target_schema, "target_schema");
    let pattern = required(pattern, "pattern");
    let largest = scales.last().copied().unwrap_or(1.0);
    let at = at_customers.unwrap_or(10 * (i64::from(TENANTS) + 1) * customers_per_company(largest));
    if at < 1 {
        bad_argument(format!("at_customers must be at least 1 (got {at})"), None);
    }
    // Refused before a sweep is recorded, as each of its runs would be.
    crate::sut::install::check(target_schema, crate::gucs::trust_schema_owners());
    let sweep_id = store::start_sweep(target_schema, pattern, &scales, at);
    for &scale in &scales {
        // perf_run_all's default seed: every scale draws the plan's data the same way.
        let mut opts = crate::api::run::options(Some(target_schema), pattern, iterations, Some(42), Some(scale));
        // Only timed tests, and every scale starts from its own data.
        opts.timed_only = true;
        // A sweep measures growth with the data, not index candidates.
        opts.measure_advice = false;
        opts.keep_data = false;
        let rows = crate::api::run::start(&opts, background, Some(true));
        let run_id = rows.first().and_then(|r| r.0).unwrap_or_else(|| {
            crate::errors::internal("perf_scaling", format!("the run at scale {scale} returned no run id"))
        });
        store::add_run(sweep_id, run_id);
        notice!("perf_scaling {sweep_id}: scale {scale} measured in run {run_id}");
    }
    store::finish_sweep(sweep_id);
    TableIterator::new(verdict_rows(sweep_id, at as f64, target_schema, &scales))
}

/// A finished sweep's verdicts again, as perf_scaling returned them (the latest sweep
/// when NULL): read from its runs, nothing is run.
#[pg_extern(stable)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
#[allow(clippy::type_complexity)]
fn perf_scaling_results(
    sweep_id: default!(Option<i64>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(sweep_id, i64),
        name!(test_id, String),
        name!(name, String),
        name!(statistic, Option<String>),
        name!(target_ms, Option<f64>),
        name!(slope, Option<f64>),
        name!(r2, Option<f64>),
        name!(growth, Option<String>),
        name!(flagged, bool),
        name!(extrapolated_ms, Option<f64>),
        name!(reaches_target_at, Option<f64>),
        name!(note, String),
    ),
> {
    let (id, at) = store::sweep(sweep_id);
    let (schema, scales) = store::sweep_facts(id);
    TableIterator::new(verdict_rows(id, at as f64, &schema, &scales))
}

/// One row per test of a sweep: its fit and verdict.
type VerdictRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<String>,
    bool,
    Option<f64>,
    Option<f64>,
    String,
);

fn verdict_rows(sweep_id: i64, at_customers: f64, schema: &str, scales: &[f64]) -> Vec<VerdictRow> {
    sweep_report(sweep_id, at_customers, schema, scales)
        .tests
        .into_iter()
        .map(|(s, v)| {
            (
                sweep_id,
                s.test_id,
                s.name,
                s.statistic,
                s.target_ms,
                v.fit.map(|f| f.slope),
                v.fit.map(|f| f.r2),
                v.growth.map(|g| g.label().to_string()),
                v.flagged,
                v.extrapolated_ms,
                v.reaches_target_at,
                v.note,
            )
        })
        .collect()
}

/// A sweep's report: 'markdown' (default) or 'html' (with a log-log chart of every
/// test's figure against the customers). Defaults to the latest sweep.
#[pg_extern(stable)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn perf_scaling_report(
    sweep_id: default!(Option<i64>, "NULL"),
    format: default!(Option<&str>, "'markdown'"),
) -> String {
    let format = required(format, "format");
    let (id, at) = store::sweep(sweep_id);
    let (schema, scales) = store::sweep_facts(id);
    let report = sweep_report(id, at as f64, &schema, &scales);
    match format.to_ascii_lowercase().as_str() {
        "markdown" | "md" => crate::report::scaling::markdown(&report),
        "html" => crate::report::html::scaling_page(&report),
        _ => bad_argument(format!("format must be one of markdown, html, not \"{format}\""), None),
    }
}

fn sweep_report(sweep_id: i64, at_customers: f64, schema: &str, scales: &[f64]) -> SweepReport {
    let tests = store::series(sweep_id)
        .into_iter()
        .map(|s| {
            let v = judge(&s, at_customers);
            (s, v)
        })
        .collect();
    SweepReport { sweep_id, target_schema: schema.to_string(), scales: scales.to_vec(), at_customers, tests }
}

/// The scales, each checked, sorted, without repeats; at least two, at most MAX_SCALES.
fn checked_scales(scales: Vec<Option<f64>>) -> Vec<f64> {
    let mut s: Vec<f64> = scales.into_iter().map(|x| required(x, "scales element")).collect();
    for &x in &s {
        check_scale(x);
    }
    s.sort_by(f64::total_cmp);
    s.dedup();
    if !(2..=MAX_SCALES).contains(&s.len()) {
        bad_argument(
            format!("scales must hold between 2 and {MAX_SCALES} different values (got {})", s.len()),
            Some("A growth needs at least two volumes, e.g. scales => '{1,10,100}'."),
        );
    }
    s
}
