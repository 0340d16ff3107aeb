//! A whole run: lock, schema, then scenario by scenario its data and its tests, every
//! result recorded as soon as it is known.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::raise;
use crate::runner::subxact::{in_subtransaction, OnSuccess, SqlError};
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

    let mut results: Vec<TestResult> = Vec::with_capacity(tests.len());
    let mut notes = Vec::new();
    // The plan's test environment first; if it cannot be built, no test can run.
    let env_error = match in_subtransaction(OnSuccess::Commit, || setup::environment(&target, opts.seed)) {
        Ok(note) => {
            notice!("{note}");
            notes.push(note);
            None
        }
        Err(e) => Some(SqlError { message: format!("environment setup failed: {}", e.message), ..e }),
    };
    let mut scenario = None;
    let mut setup_error: Option<SqlError> = None;
    for t in &tests {
        // Each scenario's own data is prepared just before its tests, in a subtransaction
        // of its own: a failed setup turns that scenario's tests into ERROR results.
        if scenario != Some(t.scenario) {
            scenario = Some(t.scenario);
            setup_error = match &env_error {
                Some(e) => Some(e.clone()),
                None => match in_subtransaction(OnSuccess::Commit, || setup::prepare(t.scenario, &target)) {
                    Ok(note) => {
                        if !note.is_empty() {
                            notice!("{note}");
                            notes.push(note);
                        }
                        None
                    }
                    Err(e) => Some(SqlError {
                        message: format!("scenario {} setup failed: {}", t.scenario, e.message),
                        ..e
                    }),
                },
            };
        }
        let mut result = match &setup_error {
            Some(e) => {
                let mut r = TestResult::for_test(run_id, t);
                r.set_error(&e.sqlstate, &e.message);
                r
            }
            None => test::run_test(run_id, t, &target, opts.iterations),
        };
        if let Some(other) = &t.compare_to {
            if let Some(note) = compare_note(&result, other, &results) {
                result.notes = Some(format!("{}; {note}", result.notes.unwrap_or_default()));
            }
        }
        record::insert_result(&result);
        notice!("{} {}: {}", result.status, result.test_name, result.notes.as_deref().unwrap_or(""));
        results.push(result);
    }
    record::finish_run(run_id, &results, record::data_volume(&target), &notes.join("; "));
    (run_id, results)
}

/// "3.4x test 2.1 (12.000 ms vs 3.500 ms)": this result against an earlier one.
fn compare_note(this: &TestResult, other_id: &str, earlier: &[TestResult]) -> Option<String> {
    let other = earlier.iter().find(|r| r.test_id == other_id)?;
    let (a, b) = (this.execution_time_ms?, other.execution_time_ms?);
    (b > 0.0).then(|| format!("{:.1}x test {other_id} ({a:.3} ms vs {b:.3} ms)", a / b))
}
