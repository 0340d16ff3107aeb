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
    /// Both plans' shapes (explain::shape); empty when a result has none.
    pub baseline_shape: Vec<String>,
    pub current_shape: Vec<String>,
    /// Both runs measured the same state (perf_runs.state_fingerprint).
    pub same_state: bool,
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
                    baseline_shape: r
                        .get::<Vec<Option<String>>>(11)?
                        .unwrap_or_default()
                        .into_iter()
                        .flatten()
                        .collect(),
                    current_shape: r
                        .get::<Vec<Option<String>>>(12)?
                        .unwrap_or_default()
                        .into_iter()
                        .flatten()
                        .collect(),
                    same_state: r.get::<bool>(13)?.unwrap_or(false),
                })
            })
            .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .or_internal("read the runs to compare")
}

/// Why `pairs` found nothing to compare, in a sentence naming the runs.
pub fn why_no_pairs(run: Option<i64>, baseline: Option<i64>) -> String {
    Spi::get_one_with_args::<String>(
        "WITH cur AS (SELECT run_id, target_schema, scale FROM perf_runs \
                       WHERE run_id = coalesce($1, (SELECT pg_catalog.max(run_id) FROM perf_runs))) \
         SELECT CASE \
           WHEN NOT EXISTS (SELECT 1 FROM cur) THEN 'there are no runs yet' \
           WHEN NOT EXISTS (SELECT 1 FROM performance_test_results x, cur WHERE x.run_id = cur.run_id \
                              AND x.target_ms IS NOT NULL AND x.execution_time_ms IS NOT NULL) \
             THEN pg_catalog.format('run %s has no timed results to compare', cur.run_id) \
           WHEN $2 IS NOT NULL \
             THEN pg_catalog.format('baseline run %s has a timed result for none of run %s''s timed tests', $2, cur.run_id) \
           WHEN EXISTS (SELECT 1 FROM perf_runs p WHERE p.pinned_baseline AND p.target_schema = cur.target_schema \
                          AND p.run_id <> cur.run_id) \
             THEN pg_catalog.format('the baseline pinned for schema %s has none of run %s''s timed tests', \
                                    cur.target_schema, cur.run_id) \
           ELSE pg_catalog.format('no completed run before run %s ran its timed tests on schema %s at scale %s', \
                                  cur.run_id, cur.target_schema, cur.scale) END \
           FROM (SELECT 1) one LEFT JOIN cur ON true",
        &[run.into(), baseline.into()],
    )
    .or_internal("why nothing is compared")
    .unwrap_or_default()
}

fn samples(v: Option<Vec<Option<f64>>>) -> Vec<f64> {
    v.unwrap_or_default().into_iter().flatten().collect()
}
