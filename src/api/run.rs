use pgrx::prelude::*;

use crate::gucs;
use crate::pg::bgworker as launch;
use crate::pg::job::{Flags, Job};
use crate::runner::follow as wait;
use crate::runner::lock;
use crate::runner::mode::Mode;
use crate::runner::run::{self, Options};

use crate::store::runs::{rows_of_run, RunRow as Row};

/// Shared body of perf_run_all / perf_run (and each run of perf_scaling).
pub(crate) fn start(opts: &Options, background: Option<bool>, wait_for_it: Option<bool>) -> Vec<Row> {
    let background = background.unwrap_or_else(gucs::background_default);
    let wait_for_it = wait_for_it.unwrap_or(true);
    if !background {
        let begun = run::begin(opts, Mode::Session, None);
        run::execute(&begun, opts, Mode::Session);
        return rows_of_run(begun.run_id);
    }
    // Everything that can be refused is refused here, before a worker exists. Nothing
    // is written here: the worker would wait for this transaction's row locks while
    // this transaction waits for the worker (stale runs are reaped by the worker).
    // The checks read the target schema's tables. They run in a subtransaction rolled
    // back at once, so that their locks go with it: a worker that alters those tables
    // (a bulk load does) would otherwise wait for this transaction, which waits for it
    // (a second run in one transaction, as perf_scaling makes).
    crate::pg::subxact::in_subtransaction(crate::pg::subxact::OnSuccess::Rollback, || {
        run::precheck(opts);
    })
    .unwrap_or_else(|e| e.raise());
    lock::refuse_if_running();
    if wait_for_it {
        wait::require_read_committed();
    }
    let job = Job::Run {
        schema: opts.target_schema.to_string(),
        pattern: opts.pattern.to_string(),
        iterations: opts.iterations,
        seed: opts.seed as i64,
        role: launch::role_to_assume(),
        time_limit_ms: gucs::test_time_limit_ms(),
        flags: Flags {
            allow_existing_data: opts.allow_existing_data,
            keep_data: opts.keep_data,
            trust_schema_owners: opts.trust_schema_owners,
            cold_cache: opts.cold_cache,
            timed_only: opts.timed_only,
            measure_advice: opts.measure_advice,
        }
        .bits(),
        scale: opts.scale,
    };
    let (worker, pid) = launch::start(&job, "pg_perfsuite run");
    let run_id = wait::await_run_id(&worker, pid);
    if !wait_for_it {
        return vec![(
            Some(run_id),
            None,
            Some(format!("running in background worker PID {pid}; follow it in perf_progress")),
            None,
            None,
            None,
            Some("running".to_string()),
            None,
        )];
    }
    wait::follow(&worker, pid, run_id);
    rows_of_run(run_id)
}

/// A run's options from the SQL arguments and the caller's pg_perfsuite settings.
pub(crate) fn options<'a>(
    target_schema: Option<&'a str>,
    pattern: &'a str,
    iterations: Option<i32>,
    seed: Option<i64>,
    scale: Option<f64>,
) -> Options<'a> {
    Options {
        target_schema: crate::errors::required(target_schema, "target_schema"),
        pattern,
        iterations,
        seed: crate::errors::required(seed, "seed") as u64,
        allow_existing_data: gucs::allow_existing_data(),
        keep_data: gucs::keep_data(),
        trust_schema_owners: gucs::trust_schema_owners(),
        cold_cache: gucs::cold_cache(),
        timed_only: false,
        measure_advice: gucs::measure_advice(),
        scale: crate::errors::required(scale, "scale"),
    }
}

/// Run the whole Phase 3B plan: install the reference schema if absent, build the
/// plan's test environment (at `scale` times the plan's volume), prepare each scenario, run every enabled test, record and
/// return the verdicts. By default in a background worker that commits each step
/// (results survive failures; other sessions see progress) while this call waits.
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
// pgrx reads the result columns from this signature (name!), so it cannot be a type alias.
#[allow(clippy::type_complexity)]
fn perf_run_all(
    target_schema: default!(Option<&str>, "'public'"),
    iterations: default!(Option<i32>, "NULL"),
    seed: default!(Option<i64>, "42"),
    background: default!(Option<bool>, "NULL"),
    wait: default!(Option<bool>, "true"),
    scale: default!(Option<f64>, "1"),
) -> TableIterator<
    'static,
    (
        name!(run_id, Option<i64>),
        name!(test_id, Option<String>),
        name!(name, Option<String>),
        name!(statistic, Option<String>),
        name!(target_ms, Option<f64>),
        name!(measured_ms, Option<f64>),
        name!(status, Option<String>),
        name!(notes, Option<String>),
    ),
> {
    let pattern = "%";
    TableIterator::new(start(&options(target_schema, pattern, iterations, seed, scale), background, wait))
}

/// Run the tests whose id matches a LIKE pattern ('1.%' for scenario 1, '2.1' for one test).
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
// pgrx reads the result columns from this signature (name!), so it cannot be a type alias.
#[allow(clippy::type_complexity)]
fn perf_run(
    pattern: Option<&str>,
    target_schema: default!(Option<&str>, "'public'"),
    iterations: default!(Option<i32>, "NULL"),
    seed: default!(Option<i64>, "42"),
    background: default!(Option<bool>, "NULL"),
    wait: default!(Option<bool>, "true"),
    scale: default!(Option<f64>, "1"),
) -> TableIterator<
    'static,
    (
        name!(run_id, Option<i64>),
        name!(test_id, Option<String>),
        name!(name, Option<String>),
        name!(statistic, Option<String>),
        name!(target_ms, Option<f64>),
        name!(measured_ms, Option<f64>),
        name!(status, Option<String>),
        name!(notes, Option<String>),
    ),
> {
    let pattern = crate::errors::required(pattern, "pattern");
    TableIterator::new(start(&options(target_schema, pattern, iterations, seed, scale), background, wait))
}
