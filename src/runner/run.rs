//! A whole run: lock, schema, scenario data, every selected test, recorded results.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::raise;
use crate::runner::subxact::{in_subtransaction, OnSuccess};
use crate::runner::{lock, record, test};
use crate::suite::result::TestResult;
use crate::suite::{registry, setup};
use crate::sut;

pub struct Options<'a> {
    pub target_schema: Option<&'a str>,
    pub pattern: &'a str,
    pub iterations: Option<i32>,
    pub seed: u64,
}

/// Run every enabled test whose id matches `pattern`; returns the run id and results.
pub fn execute(opts: &Options) -> (i64, Vec<TestResult>) {
    if let Some(n) = opts.iterations {
        if !(1..=100_000).contains(&n) {
            crate::errors::bad_argument(format!("iterations must be between 1 and 100000 (got {n})"), None);
        }
    }
    let tests = registry::load(opts.pattern);
    if tests.is_empty() {
        raise(
            Code::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("no enabled test matches pattern \"{}\"", opts.pattern),
            Some("Patterns are LIKE patterns on perf_tests.test_id, e.g. '1.%' or '2.1'; see SELECT test_id, name, enabled FROM perf_tests."),
        );
    }
    lock::acquire_run_lock();
    let target = sut::ensure_schema(opts.target_schema);
    let run_id = record::start_run(&target, opts.pattern);
    notice!("pg_perfsuite run {run_id}: {} tests against schema \"{}\"", tests.len(), target.schema);

    // Scenario data, each scenario's setup in its own subtransaction: a failed setup
    // turns that scenario's tests into ERROR results instead of ending the run.
    let mut scenarios: Vec<i32> = tests.iter().map(|t| t.scenario).collect();
    scenarios.dedup();
    let mut notes = Vec::new();
    let mut failed_setup = Vec::new();
    for s in &scenarios {
        match in_subtransaction(OnSuccess::Commit, || setup::prepare(*s, &target, opts.seed)) {
            Ok(note) if !note.is_empty() => {
                notice!("{note}");
                notes.push(note);
            }
            Ok(_) => {}
            Err(e) => failed_setup.push((*s, e)),
        }
    }
    setup::analyze(&target);

    let mut results = Vec::with_capacity(tests.len());
    for t in &tests {
        let result = match failed_setup.iter().find(|(s, _)| *s == t.scenario) {
            Some((_, e)) => {
                let mut r = TestResult::for_test(run_id, t);
                r.set_error(&e.sqlstate, &format!("scenario {} setup failed: {}", t.scenario, e.message));
                r
            }
            None => test::run_test(run_id, t, &target, opts.iterations),
        };
        record::insert_result(&result);
        notice!("{} {}: {}", result.status, result.test_name, result.notes.as_deref().unwrap_or(""));
        results.push(result);
    }
    record::finish_run(run_id, &results, record::data_volume(&target), &notes.join("; "));
    (run_id, results)
}
