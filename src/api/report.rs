//! perf_report: a run's report in markdown, JSON, TAP or HTML, built from the tables.

use pgrx::prelude::*;

use crate::errors::{bad_argument, required};
use crate::explain::shape::ShapeChange;
use crate::report::{self, target, Format};
use crate::store;
use crate::suite::noise;

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
    report::render(&data, fmt, &|| {
        pgrx::check_for_interrupts!();
    })
}

/// Each timed test of `run` (default: the latest) against `baseline` (default: the
/// run pinned with perf_set_baseline for the run's schema, else, per test, the last
/// earlier completed run of the same schema and scale that ran it), judged over both
/// runs' per-iteration samples: `regressed`, `improved` or `within noise`, with the
/// effect size and its confidence, and whether the plan changed and how; a plan that
/// changed between two runs of the same state is `unstable plan`, not a regression.
/// Nothing to compare is said in a NOTICE with the reason.
/// `threshold_pct` and `min_change_ms` are the smallest change of the median worth
/// flagging, relative and absolute (docs/regressions.md).
#[pg_extern(stable)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
#[allow(clippy::type_complexity)]
fn perf_compare(
    run: default!(Option<i64>, "NULL"),
    baseline: default!(Option<i64>, "NULL"),
    threshold_pct: default!(Option<f64>, "10"),
    min_change_ms: default!(Option<f64>, "0.1"),
) -> TableIterator<
    'static,
    (
        name!(test_id, String),
        name!(test_name, String),
        name!(statistic, Option<String>),
        name!(baseline_ms, f64),
        name!(current_ms, f64),
        name!(change_pct, Option<f64>),
        name!(change, String),
        name!(regression, bool),
        name!(verdict, String),
        name!(median_ratio, Option<f64>),
        name!(ratio_low, Option<f64>),
        name!(ratio_high, Option<f64>),
        name!(p_value, Option<f64>),
        name!(cliffs_delta, Option<f64>),
        name!(noise_band_pct, f64),
        name!(method, String),
        name!(baseline_run, i64),
        name!(current_run, i64),
        name!(plan_changed, Option<bool>),
        name!(plan_change, Option<String>),
    ),
> {
    let threshold = match threshold_pct {
        Some(t) if t.is_finite() && (0.0..=1000.0).contains(&t) => t / 100.0,
        other => bad_argument(
            format!(
                "threshold_pct must be a number from 0 to 1000 (got {})",
                other.map(|t| t.to_string()).unwrap_or_else(|| "NULL".into())
            ),
            Some("It is the smallest change of a test's median, in percent, that counts as a regression."),
        ),
    };
    let min_change_ms = match min_change_ms {
        Some(m) if m.is_finite() && m >= 0.0 => m,
        other => bad_argument(
            format!(
                "min_change_ms must be a number of at least 0 (got {})",
                other.map(|t| t.to_string()).unwrap_or_else(|| "NULL".into())
            ),
            None,
        ),
    };
    let bar = noise::Bar { threshold, min_change_ms };
    let pairs = store::compare::pairs(run, baseline);
    if pairs.is_empty() {
        notice!("perf_compare: nothing to compare: {}", store::compare::why_no_pairs(run, baseline));
    }
    let rows: Vec<_> = pairs
        .into_iter()
        .map(|p| {
            let j = noise::judge_interruptible(
                &p.baseline_samples,
                &p.current_samples,
                (p.baseline_ms, p.current_ms),
                &p.history,
                bar,
                &|| {
                    pgrx::check_for_interrupts!();
                },
            );
            let pct = (p.baseline_ms > 0.0).then(|| round(100.0 * (p.current_ms - p.baseline_ms) / p.baseline_ms, 1));
            // Unknown when either result has no plan shape (recorded before 0.3.0, or
            // a test without a plan).
            let known = !p.baseline_shape.is_empty() && !p.current_shape.is_empty();
            let change = known.then(|| ShapeChange::between(&p.baseline_shape, &p.current_shape)).flatten();
            // Another plan for the same state (seed, scale, schema, settings) is not the
            // build's regression or improvement: the planner sits near a tipping point.
            let unstable = p.same_state && change.is_some();
            let verdict = if unstable { "unstable plan".to_string() } else { j.movement.as_str().to_string() };
            (
                p.test_id,
                p.test_name,
                p.statistic,
                p.baseline_ms,
                p.current_ms,
                pct,
                j.describe(),
                !unstable && j.movement == noise::Movement::Regressed,
                verdict,
                j.ratio.is_finite().then(|| round(j.ratio, 3)),
                j.ratio_low.map(|v| round(v, 3)),
                j.ratio_high.map(|v| round(v, 3)),
                j.p_value,
                j.cliffs_delta.map(|v| round(v, 3)),
                round(100.0 * j.band, 1),
                j.method,
                p.baseline_run,
                p.current_run,
                known.then_some(change.is_some()),
                change.map(|c| c.to_string()),
            )
        })
        .collect();
    TableIterator::new(rows)
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}
