//! perf_history: one test across the runs of a schema, with the runs where its figure
//! shifted (suite::changepoint) and what moved with it.

use pgrx::prelude::*;

use crate::errors::required;
use crate::store;
use crate::suite::changepoint::{self, Cause};

/// The smallest shift of a median that counts (as perf_compare's defaults).
const MIN_CHANGE: f64 = 0.10;
const MIN_CHANGE_MS: f64 = 0.1;

/// One row per completed run of `target_schema` at `scale` that has a figure for
/// `test_id` (the latest 500, oldest first): its figure (median of its samples), its noise band
/// (their interquartile range), whether its plan changed since the row before, the
/// run's canary, and `change_point`: the run where a lasting shift of the figure began
/// (E-divisive means, 5 % false-alarm level; docs/regressions.md), with what moved with
/// it in `shift`.
#[pg_extern(stable)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
#[allow(clippy::type_complexity)]
fn perf_history(
    test_id: Option<&str>,
    target_schema: default!(Option<&str>, "'public'"),
    scale: default!(Option<f64>, "1"),
) -> TableIterator<
    'static,
    (
        name!(run_id, i64),
        name!(started_at, Option<pgrx::datum::TimestampWithTimeZone>),
        name!(scale, f64),
        name!(status, String),
        name!(figure_ms, f64),
        name!(band_low_ms, Option<f64>),
        name!(band_high_ms, Option<f64>),
        name!(plan_fingerprint, Option<String>),
        name!(plan_changed, Option<bool>),
        name!(canary_ms, Option<f64>),
        name!(canary_change_point, Option<bool>),
        name!(change_point, bool),
        name!(shift, Option<String>),
    ),
> {
    let test_id = required(test_id, "test_id");
    let schema = required(target_schema, "target_schema");
    let scale = required(scale, "scale");
    let points = store::history::points(test_id, schema, scale);
    if points.is_empty() {
        notice!(
            "perf_history: no completed run of schema \"{schema}\" at scale {scale} has a figure for test \"{test_id}\""
        );
    }
    let figures: Vec<f64> = points.iter().map(|p| p.figure_ms).collect();
    let interrupts = || {
        pgrx::check_for_interrupts!();
    };
    let shifts = changepoint::change_points_interruptible(&figures, MIN_CHANGE, MIN_CHANGE_MS, &interrupts);
    // The canary over the runs that have one, its shifts mapped back to those runs.
    let with_canary: Vec<usize> = (0..points.len()).filter(|i| points[*i].canary_ms.is_some()).collect();
    let canary: Vec<f64> = with_canary.iter().filter_map(|i| points[*i].canary_ms).collect();
    let canary_shifts: Vec<usize> = changepoint::change_points_interruptible(&canary, MIN_CHANGE, 0.0, &interrupts)
        .into_iter()
        .map(|k| with_canary[k])
        .collect();
    let plan_changed = |i: usize| -> Option<bool> {
        let before = points.get(i.checked_sub(1)?)?.plan_fingerprint.as_ref()?;
        Some(points[i].plan_fingerprint.as_ref()? != before)
    };
    let rows: Vec<_> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let change_point = shifts.contains(&i);
            let shift = change_point.then(|| {
                let known = i > 0 && points[i - 1].canary_ms.is_some() && p.canary_ms.is_some();
                Cause::of(i, &canary_shifts, known, plan_changed(i) == Some(true)).to_string()
            });
            (
                p.run_id,
                p.started_at,
                p.scale,
                p.status.clone(),
                p.figure_ms,
                p.band_low_ms,
                p.band_high_ms,
                p.plan_fingerprint.clone(),
                plan_changed(i),
                p.canary_ms,
                p.canary_ms.map(|_| canary_shifts.contains(&i)),
                change_point,
                shift,
            )
        })
        .collect();
    TableIterator::new(rows)
}
