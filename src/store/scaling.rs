//! Scaling sweeps: their rows in `perf_scaling_sweeps` and the measurements of their runs.

use pgrx::prelude::*;

use crate::errors::{bad_argument, OrInternal};

const POINTS: &str = include_str!("../../sql/queries/scaling_points.sql");

/// A new sweep's row; returns its id.
pub fn start_sweep(target_schema: &str, pattern: &str, scales: &[f64], at_customers: i64) -> i64 {
    Spi::get_one_with_args::<i64>(
        "INSERT INTO perf_scaling_sweeps (target_schema, pattern, scales, at_customers) \
         VALUES ($1, $2, $3, $4) RETURNING sweep_id",
        &[target_schema.into(), pattern.into(), scales.to_vec().into(), at_customers.into()],
    )
    .or_internal("insert perf_scaling_sweeps")
    .or_internal("sweep_id")
}

pub fn add_run(sweep_id: i64, run_id: i64) {
    Spi::run_with_args(
        "UPDATE perf_scaling_sweeps SET run_ids = run_ids || $2 WHERE sweep_id = $1",
        &[sweep_id.into(), run_id.into()],
    )
    .or_internal("record a sweep's run");
}

pub fn finish_sweep(sweep_id: i64) {
    Spi::run_with_args(
        "UPDATE perf_scaling_sweeps SET finished_at = pg_catalog.clock_timestamp() WHERE sweep_id = $1",
        &[sweep_id.into()],
    )
    .or_internal("finish a sweep");
}

/// The sweep asked for (the latest when None), refused with 22023 when unknown.
/// Returns (sweep_id, at_customers).
pub fn sweep(sweep_id: Option<i64>) -> (i64, i64) {
    let found = Spi::get_two_with_args::<i64, i64>(
        "SELECT sweep_id, at_customers FROM perf_scaling_sweeps \
          WHERE sweep_id = coalesce($1, (SELECT pg_catalog.max(sweep_id) FROM perf_scaling_sweeps))",
        &[sweep_id.into()],
    );
    match found {
        Ok((Some(id), Some(at))) => (id, at),
        _ => bad_argument(
            match sweep_id {
                Some(id) => format!("sweep {id} does not exist"),
                None => "there is no scaling sweep yet".to_string(),
            },
            Some("SELECT * FROM perf_scaling(); runs one; SELECT sweep_id, scales, run_ids FROM perf_scaling_sweeps; lists them."),
        ),
    }
}

/// One timed result of a sweep's run.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub test_id: String,
    pub test_name: String,
    pub statistic: Option<String>,
    pub target_ms: Option<f64>,
    pub customers: f64,
    pub ms: f64,
    pub plan: Option<serde_json::Value>,
}

/// Every timed result of `sweep_id`'s runs, per test, smallest volume first.
pub fn measurements(sweep_id: i64) -> Vec<Measurement> {
    Spi::connect(|c| {
        c.select(POINTS, None, &[sweep_id.into()])?
            .map(|row| {
                Ok(Measurement {
                    test_id: row.get::<String>(1)?.unwrap_or_default(),
                    test_name: row.get::<String>(2)?.unwrap_or_default(),
                    statistic: row.get::<String>(3)?,
                    target_ms: row.get::<f64>(4)?,
                    customers: row.get::<f64>(5)?.unwrap_or(0.0),
                    ms: row.get::<f64>(6)?.unwrap_or(0.0),
                    plan: row.get::<pgrx::JsonB>(7)?.map(|j| j.0),
                })
            })
            .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .or_internal("sweep measurements")
}

/// The sweep's measurements as one series per test (smallest volume first), with the
/// scans of each plan and the heaviest scan at the largest volume.
pub fn series(sweep_id: i64) -> Vec<crate::suite::scaling::Series> {
    use crate::explain::{heaviest_scan, PlanFacts};
    use crate::suite::scaling::{Point, Series};
    let mut out: Vec<Series> = Vec::new();
    let mut largest_plan: Vec<Option<serde_json::Value>> = Vec::new();
    for m in measurements(sweep_id) {
        if out.last().is_none_or(|s| s.test_id != m.test_id) {
            out.push(Series {
                test_id: m.test_id.clone(),
                name: m.test_name.clone(),
                statistic: m.statistic.clone(),
                target_ms: m.target_ms,
                ..Series::default()
            });
            largest_plan.push(None);
        }
        let (s, last_plan) = (out.last_mut().or_internal("series"), largest_plan.last_mut().or_internal("plan"));
        s.points.push(Point { customers: m.customers, ms: m.ms });
        let scans = m.plan.as_ref().and_then(|p| PlanFacts::from_json(p).ok()).map(|f| f.scan_summary());
        s.scans.push(scans.unwrap_or_default());
        *last_plan = m.plan;
    }
    for (s, plan) in out.iter_mut().zip(largest_plan) {
        s.heaviest_at_largest = plan.as_ref().and_then(heaviest_scan);
    }
    out
}

/// A sweep's schema and scales.
pub fn sweep_facts(sweep_id: i64) -> (String, Vec<f64>) {
    let (schema, scales) = Spi::get_two_with_args::<String, Vec<f64>>(
        "SELECT target_schema, scales FROM perf_scaling_sweeps WHERE sweep_id = $1",
        &[sweep_id.into()],
    )
    .or_internal("sweep facts");
    (schema.unwrap_or_default(), scales.unwrap_or_default())
}
