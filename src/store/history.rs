//! One test's figures across the runs of a schema, for perf_history.

use pgrx::prelude::*;

use crate::errors::OrInternal;

const HISTORY: &str = include_str!("../../sql/queries/history.sql");

/// One run of the test.
#[derive(Debug, Clone)]
pub struct Point {
    pub run_id: i64,
    pub started_at: Option<pgrx::datum::TimestampWithTimeZone>,
    pub scale: f64,
    pub status: String,
    pub figure_ms: f64,
    pub band_low_ms: Option<f64>,
    pub band_high_ms: Option<f64>,
    pub plan_fingerprint: Option<String>,
    pub canary_ms: Option<f64>,
}

/// Oldest first; at most the latest 500 completed runs.
pub fn points(test_id: &str, target_schema: &str, scale: f64) -> Vec<Point> {
    Spi::connect(|c| {
        c.select(HISTORY, None, &[test_id.into(), target_schema.into(), scale.into()])?
            .map(|r| {
                Ok(Point {
                    run_id: r.get::<i64>(1)?.unwrap_or_default(),
                    started_at: r.get::<pgrx::datum::TimestampWithTimeZone>(2)?,
                    scale: r.get::<f64>(3)?.unwrap_or(1.0),
                    status: r.get::<String>(4)?.unwrap_or_default(),
                    figure_ms: r.get::<f64>(5)?.unwrap_or_default(),
                    band_low_ms: r.get::<f64>(6)?,
                    band_high_ms: r.get::<f64>(7)?,
                    plan_fingerprint: r.get::<String>(8)?,
                    canary_ms: r.get::<f64>(9)?,
                })
            })
            .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .or_internal("read a test's history")
}
