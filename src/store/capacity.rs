//! Capacity searches in pg_perfsuite's tables: one row per search, one per step (each
//! step is a load test of its own in perf_load_runs).

use crate::errors::OrInternal;
use pgrx::prelude::*;

pub fn next_capacity_id() -> i64 {
    Spi::get_one::<i64>("SELECT pg_catalog.nextval('perf_capacity_runs_capacity_id_seq'::pg_catalog.regclass)")
        .or_internal("numbering the capacity search")
        .or_internal("nextval returns a value")
}

/// What the search was asked.
pub struct Search<'a> {
    pub capacity_id: i64,
    pub run_id: Option<i64>,
    pub script: &'a str,
    pub clients: i32,
    pub arrivals: &'a str,
    pub target_p95_ms: f64,
    pub step_ms: i64,
}

/// One step as recorded.
#[derive(Debug, Clone, Default)]
pub struct StepRow {
    pub step: i32,
    pub load_id: i64,
    pub offered_rate: f64,
    pub achieved_tps: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub service_p95_ms: Option<f64>,
    pub failed: i64,
    pub behind: i64,
    pub met: bool,
}

/// The search's row, written before its first step so the steps can point at it.
pub fn start(s: &Search) {
    Spi::run_with_args(
        "INSERT INTO perf_capacity_runs (capacity_id, run_id, started_at, script, clients, arrivals, target_p95_ms, step_ms, steps) \
         VALUES ($1, $2, pg_catalog.clock_timestamp(), $3, $4, $5, $6, $7, 0)",
        &[
            s.capacity_id.into(),
            s.run_id.into(),
            s.script.into(),
            s.clients.into(),
            s.arrivals.into(),
            s.target_p95_ms.into(),
            s.step_ms.into(),
        ],
    )
    .or_internal("perf_capacity_runs");
}

pub fn add_step(capacity_id: i64, r: &StepRow) {
    Spi::run_with_args(
        "INSERT INTO perf_capacity_steps (capacity_id, step, load_id, offered_rate, achieved_tps, p50_ms, p95_ms, p99_ms, \
                service_p95_ms, failed, behind, met) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            capacity_id.into(),
            r.step.into(),
            r.load_id.into(),
            r.offered_rate.into(),
            r.achieved_tps.into(),
            r.p50_ms.into(),
            r.p95_ms.into(),
            r.p99_ms.into(),
            r.service_p95_ms.into(),
            r.failed.into(),
            r.behind.into(),
            r.met.into(),
        ],
    )
    .or_internal("perf_capacity_steps");
}

/// The answer: which step is the capacity and which the knee, and the figures.
pub fn finish(
    capacity_id: i64,
    steps: i32,
    capacity_step: Option<i32>,
    knee_step: Option<i32>,
    capacity_tps: Option<f64>,
    knee_tps: Option<f64>,
    notes: &str,
) {
    Spi::run_with_args(
        "UPDATE perf_capacity_steps SET capacity = coalesce(step = $2, false), knee = coalesce(step = $3, false) WHERE capacity_id = $1",
        &[capacity_id.into(), capacity_step.into(), knee_step.into()],
    )
    .or_internal("perf_capacity_steps");
    Spi::run_with_args(
        "UPDATE perf_capacity_runs SET steps = $2, capacity_tps = $3, knee_tps = $4, notes = $5 WHERE capacity_id = $1",
        &[capacity_id.into(), steps.into(), capacity_tps.into(), knee_tps.into(), notes.into()],
    )
    .or_internal("perf_capacity_runs");
}
