//! A whole run: lock, schema, the plan's environment, then scenario by scenario its
//! data and its tests, every result recorded as soon as it is known.
//!
//! The same code runs in two modes. In a background worker every step is a
//! transaction of its own, committed when the step ends, so other sessions watch the
//! run progress and results survive a later failure. In the caller's session
//! (`background => false`) the steps are part of the caller's transaction: nothing is
//! visible before the call returns, and a ROLLBACK undoes the run (what-if runs).

use pgrx::prelude::*;

use crate::errors::SqlError;
use crate::pg::subxact::{in_subtransaction, OnSuccess};
use crate::runner::mode::Mode;
use crate::runner::test::RunSetting;
use crate::runner::{canary, candidate, cold, lock, observe, test, timelimit};
use crate::store::{registry, runs as record};
use crate::suite::finding::Finding;
use crate::suite::model::{Kind, TestDef};
use crate::suite::result::TestResult;
use crate::suite::setup;
use crate::sut;

pub struct Options<'a> {
    pub target_schema: &'a str,
    pub pattern: &'a str,
    pub iterations: Option<i32>,
    pub seed: u64,
    /// pg_perfsuite.allow_existing_data of the caller.
    pub allow_existing_data: bool,
    /// pg_perfsuite.keep_data of the caller: false ends the run with a cleanup.
    pub keep_data: bool,
    /// pg_perfsuite.trust_schema_owners of the caller (superuser-only).
    pub trust_schema_owners: bool,
    /// pg_perfsuite.cold_cache of the caller: also measure timed queries cold.
    pub cold_cache: bool,
    /// The plan's environment at this multiple of its volume (1: the plan's).
    pub scale: f64,
    /// Only the timed tests (timed queries, single-tenant and DML timings): a scaling
    /// sweep's runs.
    pub timed_only: bool,
    /// pg_perfsuite.measure_advice of the caller: build each candidate index in a
    /// rolled-back subtransaction and measure what it gains and costs (runner::candidate).
    pub measure_advice: bool,
}

/// Checks that need no lock and change nothing; the caller runs them before a worker
/// is launched so that bad input is reported to it, not to a worker log.
pub fn precheck(opts: &Options) -> Vec<TestDef> {
    if let Some(n) = opts.iterations {
        if !(1..=100_000).contains(&n) {
            crate::errors::bad_argument(format!("iterations must be between 1 and 100000 (got {n})"), None);
        }
    }
    setup::check_scale(opts.scale);
    let mut tests = registry::load(opts.pattern);
    if opts.timed_only {
        tests.retain(|t| t.kind.is_timed());
    }
    if tests.is_empty() {
        crate::errors::raise(
            pgrx::PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("no enabled test matches pattern \"{}\"", opts.pattern),
            Some("Patterns are LIKE patterns on perf_tests.test_id, e.g. '1.%' or '2.1'; see SELECT test_id, name, enabled FROM perf_tests."),
        );
    }
    if opts.cold_cache {
        cold::require_superuser();
    }
    sut::install::check(opts.target_schema, opts.trust_schema_owners);
    crate::store::ledger::refuse_foreign_data(opts.target_schema, opts.allow_existing_data);
    tests
}

/// A run that has begun: its row, its tests, its schema.
pub struct Begun {
    pub run_id: i64,
    pub tests: Vec<TestDef>,
    pub target: sut::Target,
}

/// Start a run: reap dead runs, take the run lock, install or check the schema,
/// write the run row.
pub fn begin(opts: &Options, mode: Mode, launcher_pid: Option<i32>) -> Begun {
    mode.step(|| {
        record::reap_stale_runs();
        let tests = precheck(opts);
        match mode {
            Mode::Session => lock::acquire_run_lock_xact(),
            Mode::Worker => lock::acquire_run_lock_session(),
        }
        let target = sut::ensure_schema(Some(opts.target_schema), opts.trust_schema_owners);
        setup::refuse_other_scale(&target, opts.scale);
        // The monitoring thresholds' verdict rows end every run: they count as tests.
        let total = tests.len() as i32 + observe::THRESHOLD_ROWS;
        let run_id = record::start_run(&target, opts.pattern, total, launcher_pid, opts.scale);
        notice!(
            "pg_perfsuite run {run_id}: {} tests against schema \"{}\" at scale {}",
            tests.len(),
            target.schema,
            opts.scale
        );
        Begun { run_id, tests, target }
    })
}

/// Everything after `begin`: environment, scenarios, tests, the run's summary.
pub fn execute(begun: &Begun, opts: &Options, mode: Mode) -> Vec<TestResult> {
    let Begun { run_id, ref tests, ref target } = *begun;
    let mut results: Vec<TestResult> = Vec::with_capacity(tests.len());
    let mut notes = Vec::new();
    // The plan's test environment first; if it cannot be built, no test can run.
    let env_error = mode.step(|| {
        let built = prepared("environment setup", &mut notes, || setup::environment(target, opts.seed, opts.scale));
        if built.is_none() {
            record::record_index_bytes(run_id, "index_bytes_start", record::index_bytes(target));
            record::record_state(run_id, target, opts.seed, opts.scale, notes.last().map(String::as_str).unwrap_or(""));
        }
        built
    });
    // Dead rows earlier runs and the put-back left change the plans' costs until
    // autovacuum comes by: a background run vacuums the tables under test itself (a
    // run in the caller's transaction cannot).
    if env_error.is_none() {
        let vacuumed = match mode {
            Mode::Worker => {
                let relations: Vec<String> =
                    crate::sut::columns::relation_names().iter().map(|t| target.rel(t)).collect();
                // VACUUM skips, with a WARNING only, what the role does not own: said here.
                let (mine, others) = mode.step(|| record::vacuumable(&relations));
                let skipped = if others.is_empty() {
                    String::new()
                } else {
                    format!(" ({} not vacuumed: the run's role does not own them)", others.join(", "))
                };
                match crate::pg::maintenance::vacuum_analyze(&mine) {
                    Ok(()) if mine.is_empty() => format!("tables under test not vacuumed{skipped}"),
                    Ok(()) => format!("tables under test vacuumed and analyzed{skipped}"),
                    // A cancel or shutdown that arrived during VACUUM stops the run, as
                    // anywhere else: raised again inside a step.
                    Err(e) if e.is_cancel() || e.is_shutdown() => mode.step(|| e.raise()),
                    Err(e) => format!("tables under test not vacuumed: {}", e.message),
                }
            }
            Mode::Session => {
                "tables under test analyzed, not vacuumed (a run in the caller's transaction cannot VACUUM)".to_string()
            }
        };
        mode.step(|| record::append_state(run_id, &vacuumed));
    }
    // Then the plan's pre-test checklist, in its order: data generated, caches (warm,
    // or cold where the server can evict them), statistics reset, so
    // pg_stat_statements sees the tests and not the data generation.
    let evictor = mode.step(|| {
        let (evictor, cache_state) = cache_plan(opts.cold_cache);
        record::pre_test_checklist(run_id, &cache_state);
        record::record_canary(run_id, canary::measure());
        evictor
    });
    let setting = RunSetting {
        run_id,
        target,
        iterations: opts.iterations,
        mode,
        cold: evictor,
        scale: opts.scale,
        measure_advice: opts.measure_advice,
    };
    let mut scenario = None;
    let mut setup_error: Option<SqlError> = None;
    let run_started = std::time::Instant::now();
    for t in tests {
        let result = mode.step(|| {
            record::mark_current_test(run_id, &t.test_id);
            // Each scenario's own data is prepared just before its tests, in a
            // subtransaction of its own: a failed setup turns that scenario's tests
            // into ERROR results.
            if scenario != Some(t.scenario) {
                scenario = Some(t.scenario);
                setup_error = env_error.clone().or_else(|| {
                    let what = format!("scenario {} setup", t.scenario);
                    prepared(&what, &mut notes, || setup::prepare(t.scenario, target))
                });
            }
            let probe = observe::probe();
            let result = one_test(t, &setting, setup_error.as_ref(), &results);
            record::insert_result(&result);
            crate::store::load::insert_snapshot(
                None,
                Some(run_id),
                Some(&t.test_id),
                &observe::sample_since(&probe, run_started),
            );
            if mode == Mode::Session {
                notice!(
                    "{}",
                    crate::report::one_line(&format!(
                        "{} {}: {}",
                        result.status,
                        result.test_name,
                        result.notes.as_deref().unwrap_or("")
                    ))
                );
            }
            result
        });
        results.push(result);
    }
    // The plan's "During Test Checklist" thresholds, judged over every test's samples.
    if !tests.is_empty() {
        mode.step(|| {
            let samples = crate::store::load::run_samples(run_id);
            let cpu: Vec<_> = samples.iter().map(|(t, c, _)| (t.clone(), *c)).collect();
            let mem: Vec<_> = samples.iter().map(|(t, _, m)| (t.clone(), *m)).collect();
            for r in [
                observe::threshold_result(
                    run_id,
                    "M.cpu",
                    "CPU usage",
                    observe::CPU_LIMIT_PCT,
                    &observe::peak(&cpu, observe::CPU_LIMIT_PCT),
                ),
                observe::threshold_result(
                    run_id,
                    "M.memory",
                    "Memory usage",
                    observe::MEMORY_LIMIT_PCT,
                    &observe::peak(&mem, observe::MEMORY_LIMIT_PCT),
                ),
            ] {
                record::insert_result(&r);
                results.push(r);
            }
        });
    }
    finish(run_id, target, opts, mode, &results, &notes);
    results
}

/// How this run treats caches, and the checklist's line saying so. Warm unless cold
/// figures were asked for and the server can evict shared buffers; never "cold" when
/// it cannot.
fn cache_plan(cold_requested: bool) -> (Option<cold::Evictor>, String) {
    const WARM: &str = "warm: every timed test runs its warm-up executions before timing; DISCARD ALL does not evict shared buffers or the OS cache";
    if !cold_requested {
        return (
            None,
            format!("{WARM} (SET pg_perfsuite.cold_cache = on adds cold figures where the server can evict)"),
        );
    }
    match cold::detect() {
        cold::Capability::Cold(ev) => {
            let how = if ev.per_relation { "pg_buffercache_evict_relation" } else { "pg_buffercache_evict per buffer" };
            (
                Some(ev),
                format!(
                    "warm and cold: verdicts on the warm figures; each timed query is also run up to {} times cold, \
                     its plan's tables and indexes evicted before each run from shared buffers ({how}) and the OS \
                     page cache (posix_fadvise DONTNEED), what was evicted recorded in performance_test_results.evicted",
                    cold::MAX_COLD_ITERATIONS
                ),
            )
        }
        cold::Capability::Impossible(why) => {
            warning!("pg_perfsuite.cold_cache: no cold figures in this run: {why}");
            (None, format!("{WARM}; cold figures were asked for (pg_perfsuite.cold_cache) but cannot be made: {why}; no figure of this run is cold"))
        }
    }
}

/// Run a preparation step in a subtransaction of its own; its note (if any) is kept,
/// its error returned as "<what> failed: ...".
fn prepared(what: &str, notes: &mut Vec<String>, step: impl FnOnce() -> String) -> Option<SqlError> {
    match in_subtransaction(OnSuccess::Commit, step) {
        Ok(note) => {
            if !note.is_empty() {
                notice!("{note}");
                notes.push(note);
            }
            None
        }
        Err(e) => Some(SqlError { message: format!("{what} failed: {}", e.message), ..e }),
    }
}

/// One test's judged result: ERROR when its scenario could not be set up; otherwise
/// the whole test in a subtransaction of its own, so whatever escapes it (its time
/// limit firing anywhere, an error outside its measured part) ends this test as ERROR
/// and the run goes on. Then compared with the earlier test it names, if any.
fn one_test(t: &TestDef, run: &RunSetting, setup_error: Option<&SqlError>, earlier: &[TestResult]) -> TestResult {
    let as_error = |e: &SqlError| {
        let mut r = TestResult::for_test(run.run_id, t);
        r.set_error(&e.sqlstate(), &e.message);
        r
    };
    let mut result = match setup_error {
        Some(e) => as_error(e),
        None => {
            let locks = crate::pg::lock::advisory_held();
            // What the test waits on and spends, from its first statement to its last.
            let sampler = crate::pg::waits::Sampler::start();
            let before = crate::pg::usage::now();
            let mut result = timelimit::with_test_time_limit(|| {
                in_subtransaction(OnSuccess::Commit, || {
                    let result = test::run_test(t, run);
                    // A limit that ran out while the test's own code caught the cancel
                    // still ends the test.
                    crate::pg::timeout::check_deadline();
                    result
                })
                .map_err(timelimit::explain)
            })
            .unwrap_or_else(|e| as_error(&e));
            let mut spent = crate::pg::usage::now().since(&before);
            let (waits, others) = sampler.finish();
            (spent.other_backends, spent.other_cpu_ms) = (others.backends, (others.cpu_ms * 1000.0).round() / 1000.0);
            result.waits = Some(waits);
            result.resources = Some(spent);
            // The index advice, measured after the test's own figures, waits and cost,
            // under a time limit of its own (pg_perfsuite.test_time_limit): a limit that
            // runs out ends the measurement, not the test.
            let mut advised = result.clone();
            match timelimit::with_test_time_limit(|| {
                in_subtransaction(OnSuccess::Commit, || candidate::measure_advice(t, run, &mut advised))
                    .map_err(timelimit::explain)
            }) {
                Ok(()) => result = advised,
                Err(e) if e.is_cancel() => {
                    result.add_note("index advice not measured: its measurement ran past pg_perfsuite.test_time_limit")
                }
                Err(e) => result.add_note(&format!("index advice not measured: {}", e.message)),
            }
            // Nothing the test's SQL took for the session outlives it.
            crate::pg::lock::release_advisory_since(&locks);
            result
        }
    };
    if let Some(other) = &t.compare_to {
        if let Some(note) = compare_note(&result, other, earlier) {
            result.add_note(&note);
        }
        if t.kind == Kind::SingleTenant {
            judge_degradation(&mut result, other, earlier);
        }
    }
    result
}

/// The post-test checklist: index growth, query statistics, the run's summary, and the
/// test data removed when pg_perfsuite.keep_data is off.
fn finish(run_id: i64, target: &sut::Target, opts: &Options, mode: Mode, results: &[TestResult], notes: &[String]) {
    mode.step(|| {
        record::record_index_bytes(run_id, "index_bytes_end", record::index_bytes(target));
        record::record_top_statements(run_id);
        record::finish_run(run_id, results, record::data_volume(target), &notes.join("; "))
    });
    if !opts.keep_data {
        mode.step(|| {
            let removed = crate::runner::cleanup::cleanup(target);
            let customers = removed.iter().find(|(t, _)| t == "customers").map(|(_, n)| *n).unwrap_or(0);
            let note = format!("test data removed (keep_data off): {customers} customers of the generated companies");
            notice!("{note}");
            record::append_note(run_id, &note);
        });
    }
}

/// A single-tenant measurement is judged by how much slower the same query is among
/// all tenants (the earlier test `other`).
fn judge_degradation(this: &mut TestResult, other_id: &str, earlier: &[TestResult]) {
    let many = earlier.iter().find(|r| r.test_id == other_id).and_then(|r| r.execution_time_ms);
    if let (Some(many), Some(one), None) = (many, this.execution_time_ms, &this.error_sqlstate) {
        let verdict = crate::suite::verdict::degradation(many, one);
        this.set_verdict(verdict.max(this.verdict.unwrap_or(verdict)));
        this.add_finding(Finding::Degradation {
            compared_with: other_id.to_string(),
            all_tenants_ms: many,
            alone_ms: one,
        });
    }
}

/// "3.4x test 2.1 (12.000 ms vs 3.500 ms)": this result against an earlier one.
fn compare_note(this: &TestResult, other_id: &str, earlier: &[TestResult]) -> Option<String> {
    let other = earlier.iter().find(|r| r.test_id == other_id)?;
    let (a, b) = (this.execution_time_ms?, other.execution_time_ms?);
    (b > 0.0).then(|| format!("{:.1}x test {other_id} ({a:.3} ms vs {b:.3} ms)", a / b))
}
