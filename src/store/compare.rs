//! The pairs perf_compare judges: each timed test of a run and of its baseline, with
//! their per-iteration samples.

use pgrx::prelude::*;

use crate::errors::{bad_argument, OrInternal};

const PAIRS: &str = include_str!("../../sql/queries/compare.sql");

/// One timed test in both runs.
#[derive(Debug, Clone)]
pub struct Pair {
    pub test_id: String,
    pub test_name: String,
    pub statistic: Option<String>,
    pub baseline_ms: f64,
    pub current_ms: f64,
    pub baseline_samples: Vec<f64>,
    pub current_samples: Vec<f64>,
    pub baseline_run: i64,
    pub current_run: i64,
    /// The test's median (or figure) in up to 10 earlier runs, oldest first.
    pub history: Vec<f64>,
}

fn require_run(run: Option<i64>, what: &str) {
    let Some(id) = run else { return };
    let exists =
        Spi::get_one_with_args::<bool>("SELECT EXISTS (SELECT 1 FROM perf_runs WHERE run_id = $1)", &[id.into()])
            .or_internal("look up a run")
            .unwrap_or(false);
    if !exists {
        bad_argument(
            format!("{what} {id} does not exist"),
            Some("SELECT run_id, started_at, status FROM perf_runs ORDER BY run_id DESC; lists the runs."),
        );
    }
}

/// The pairs of `run` (latest when None) against `baseline` (pinned or previous when
/// None); 22023 when a named run does not exist.
pub fn pairs(run: Option<i64>, baseline: Option<i64>) -> Vec<Pair> {
    require_run(run, "run");
    require_run(baseline, "baseline run");
    Spi::connect(|c| {
        c.select(PAIRS, None, &[run.into(), baseline.into()])?
            .map(|r| {
                Ok(Pair {
                    test_id: r.get::<String>(1)?.unwrap_or_default(),
                    test_name: r.get::<String>(2)?.unwrap_or_default(),
                    statistic: r.get::<String>(3)?,
                    baseline_ms: r.get::<f64>(4)?.unwrap_or_default(),
                    current_ms: r.get::<f64>(5)?.unwrap_or_default(),
                    baseline_samples: samples(r.get::<Vec<Option<f64>>>(6)?),
                    current_samples: samples(r.get::<Vec<Option<f64>>>(7)?),
                    baseline_run: r.get::<i64>(8)?.unwrap_or_default(),
                    current_run: r.get::<i64>(9)?.unwrap_or_default(),
                    history: samples(r.get::<Vec<Option<f64>>>(10)?),
                })
            })
            .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .or_internal("read the runs to compare")
}

fn samples(v: Option<Vec<Option<f64>>>) -> Vec<f64> {
    v.unwrap_or_default().into_iter().flatten().collect()
}
