use pgrx::prelude::*;

use crate::runner::run::{execute, Options};

/// Row type of perf_run_all()/perf_run(); the #[pg_extern] signatures spell it out
/// because pgrx reads the column names from the written tuple.
type RunRow = (
    name!(run_id, i64),
    name!(test_id, String),
    name!(name, String),
    name!(statistic, Option<String>),
    name!(target_ms, Option<f64>),
    name!(measured_ms, Option<f64>),
    name!(status, String),
    name!(notes, Option<String>),
);

/// Default seed of the scenario data, so that two runs test the same data.
const DEFAULT_SEED: i64 = 42;

fn rows(run_id: i64, results: Vec<crate::suite::result::TestResult>) -> TableIterator<'static, RunRow> {
    TableIterator::new(results.into_iter().map(move |r| {
        (run_id, r.test_id, r.name, r.statistic, r.target_ms, r.execution_time_ms, r.status, r.notes)
    }))
}

/// Run the whole Phase 3B plan: install the reference schema if absent, prepare the
/// scenario data, run every enabled test, record and return the verdicts.
#[pg_extern(volatile)]
#[search_path(@extschema@, pg_catalog)]
fn perf_run_all(
    target_schema: default!(Option<&str>, "'public'"),
    iterations: default!(Option<i32>, "NULL"),
    seed: default!(Option<i64>, "42"),
) -> TableIterator<
    'static,
    (
        name!(run_id, i64),
        name!(test_id, String),
        name!(name, String),
        name!(statistic, Option<String>),
        name!(target_ms, Option<f64>),
        name!(measured_ms, Option<f64>),
        name!(status, String),
        name!(notes, Option<String>),
    ),
> {
    let (run_id, results) = execute(&Options {
        target_schema,
        pattern: "%",
        iterations,
        seed: seed.unwrap_or(DEFAULT_SEED) as u64,
    });
    rows(run_id, results)
}

/// Run the tests whose id matches a LIKE pattern ('1.%' for scenario 1, '2.1' for one test).
#[pg_extern(volatile)]
#[search_path(@extschema@, pg_catalog)]
fn perf_run(
    pattern: Option<&str>,
    target_schema: default!(Option<&str>, "'public'"),
    iterations: default!(Option<i32>, "NULL"),
    seed: default!(Option<i64>, "42"),
) -> TableIterator<
    'static,
    (
        name!(run_id, i64),
        name!(test_id, String),
        name!(name, String),
        name!(statistic, Option<String>),
        name!(target_ms, Option<f64>),
        name!(measured_ms, Option<f64>),
        name!(status, String),
        name!(notes, Option<String>),
    ),
> {
    let pattern = crate::errors::required(pattern, "pattern");
    let (run_id, results) = execute(&Options {
        target_schema,
        pattern,
        iterations,
        seed: seed.unwrap_or(DEFAULT_SEED) as u64,
    });
    rows(run_id, results)
}
