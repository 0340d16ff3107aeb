//! Index advice, measured. For a timed query whose plan has a sequential scan worth an
//! index (a `seq_scan` finding), the index its filter asks for is built inside a
//! subtransaction that is always rolled back; the query is timed again with it, and the
//! plan's write tests (the registry's `measures_writes`: its insert and update tests)
//! are timed without and with it for the write penalty. Nothing outlives the
//! subtransaction. The report then recommends only what was measured to help.
//!
//! Bounded: a relation larger than `MAX_RELATION_BYTES` is skipped, with the reason;
//! write tests get `WRITE_ITERATIONS` timed executions each; the whole measurement has
//! a time limit of its own, as long as a test's (runner::run). Only
//! tests whose SQL runs with the run's own rights are measured. It runs after the test
//! (its figures, waits and cost do not include it), under a time limit of its own.

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::errors::{OrInternal, SqlError};
use crate::pg::roles::{self, Decision};
use crate::pg::subxact::{in_subtransaction, OnSuccess};
use crate::runner::{context, test, timed};
use crate::suite::candidate::Candidate;
use crate::suite::finding::{Finding, WriteCost};
use crate::suite::model::{Kind, RunAs, TestDef};
use crate::suite::result::{ms, TestResult};
use crate::suite::stats::median;
use crate::sut::Target;

/// Larger relations are not indexed for a measurement (1 GiB).
const MAX_RELATION_BYTES: i64 = 1 << 30;
const WRITE_ITERATIONS: i32 = 5;
/// At most this many candidates per test.
const MAX_CANDIDATES: usize = 2;

/// Measure the index advice of a timed query's result, apart from the test's own
/// figures, waits and cost (runner::run calls it after them). The candidate index is
/// built from the plan of the test's SQL: only for SQL this run's role wrote or
/// trusts, never for SQL run as another author.
pub fn measure_advice(t: &TestDef, run: &test::RunSetting, result: &mut TestResult) {
    if !run.measure_advice || t.kind != Kind::TimedQuery || roles::decision_for(&t.author, None) != Decision::AsIs {
        return;
    }
    let ctx = context::Context::new(run.target, &t.run_as, &t.author);
    let iterations = run.iterations.unwrap_or(t.iterations).max(1);
    measure(result, t, run.target, &ctx, iterations);
}

/// Measure the candidate index of each sequential scan the result found, adding an
/// `IndexMeasured` or `IndexNotMeasured` finding for each. A time limit or cancel
/// propagates; any other error of the measurement is the candidate's reason.
fn measure(result: &mut TestResult, t: &TestDef, target: &Target, ctx: &context::Context, iterations: i32) {
    let mut candidates: Vec<Candidate> = Vec::new();
    for f in &result.findings {
        if let Finding::SeqScan { relation, filter: Some(filter), .. } = f {
            if let Some(c) = Candidate::for_filter(relation, filter).filter(|c| !candidates.contains(c)) {
                candidates.push(c);
            }
        }
    }
    let Some(before) = result.samples_ms.as_deref().filter(|s| !s.is_empty()).map(median) else { return };
    let writes = write_tests(target);
    for c in candidates.into_iter().take(MAX_CANDIDATES) {
        let ddl = c.plain_ddl();
        let found = match one(&c, t, target, ctx, iterations, &writes) {
            Ok(Measured::Done { after_ms, used, build_ms, writes }) => {
                Finding::IndexMeasured { ddl, before_ms: ms(before), after_ms: ms(after_ms), used, build_ms, writes }
            }
            Ok(Measured::Skipped(reason)) => Finding::IndexNotMeasured { ddl, reason },
            Err(e) if e.is_cancel() || e.is_shutdown() => e.raise(),
            Err(e) => Finding::IndexNotMeasured { ddl, reason: format!("{} ({})", e.message, e.sqlstate()) },
        };
        result.add_finding(found);
    }
}

enum Measured {
    Done { after_ms: f64, used: bool, build_ms: f64, writes: Vec<WriteCost> },
    Skipped(String),
}

/// One candidate: its write tests without it, then, in a subtransaction rolled back,
/// the index built, the query and the write tests with it.
fn one(
    c: &Candidate,
    t: &TestDef,
    target: &Target,
    ctx: &context::Context,
    iterations: i32,
    writes: &[(TestDef, context::Context)],
) -> Result<Measured, SqlError> {
    let relation = target.rel(&c.relation);
    let bytes = Spi::get_one_with_args::<i64>(
        "SELECT pg_catalog.pg_total_relation_size(pg_catalog.to_regclass($1))",
        &[relation.as_str().into()],
    )
    .or_internal("relation size");
    let Some(bytes) = bytes else { return Ok(Measured::Skipped(format!("{relation} is not a table here"))) };
    if bytes > MAX_RELATION_BYTES {
        return Ok(Measured::Skipped(format!(
            "{relation} takes {} MB, more than the {} MB a measurement builds an index on",
            bytes >> 20,
            MAX_RELATION_BYTES >> 20
        )));
    }
    let trgm_ops = match crate::pg::catalog::extension_schema_q("pg_trgm") {
        Some(s) => format!("{s}.gin_trgm_ops"),
        None if c.trigram => return Ok(Measured::Skipped("pg_trgm is not installed".into())),
        None => String::new(),
    };
    let ddl = c.ddl(&relation, &trgm_ops);
    let before: Vec<(String, Option<f64>)> =
        writes.iter().map(|(w, wctx)| (w.test_id.clone(), write_ms(w, wctx))).collect();
    in_subtransaction(OnSuccess::Rollback, || {
        // The relation's indexes before the build: the candidate is the one not among them.
        let existing = Spi::get_one_with_args::<Vec<pg_sys::Oid>>(
            "SELECT coalesce(pg_catalog.array_agg(i.indexrelid), '{}') FROM pg_catalog.pg_index i \
              WHERE i.indrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1)",
            &[relation.as_str().into()],
        )
        .or_internal("the relation's indexes")
        .unwrap_or_default();
        let started = std::time::Instant::now();
        Spi::run(&ddl).unwrap_or_else(|e| crate::errors::internal("building the candidate index", e));
        let build_ms = ms(started.elapsed().as_secs_f64() * 1000.0);
        let index = Spi::get_one_with_args::<String>(
            "SELECT i.indexrelid::pg_catalog.regclass::pg_catalog.text FROM pg_catalog.pg_index i \
              WHERE i.indrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1) \
                AND i.indexrelid OPERATOR(pg_catalog.<>) ALL ($2)",
            &[relation.as_str().into(), existing.into()],
        )
        .or_internal("the candidate index")
        .unwrap_or_default();
        let m = ctx.run(|| timed::measure_query(&t.sql, t.warmup, iterations));
        let short = |name: &str| name.rsplit('.').next().unwrap_or(name).trim_matches('"').to_string();
        let used = m
            .plan
            .as_ref()
            .and_then(|p| crate::explain::PlanFacts::from_json(p).ok())
            .is_some_and(|f| f.indexes.iter().any(|i| short(i) == short(&index)));
        let writes: Vec<WriteCost> = writes
            .iter()
            .zip(&before)
            .filter_map(|((w, wctx), (id, b))| {
                Some(WriteCost { test_id: id.clone(), before_ms: ms((*b)?), after_ms: ms(write_ms(w, wctx)?) })
            })
            .collect();
        Measured::Done { after_ms: median(&m.samples_ms), used, build_ms, writes }
    })
}

/// The plan's write tests: built-in rows marked `measures_writes` whose SQL this run's
/// role trusts (it runs them with its own rights). Another role's row marked so is
/// not run: it would slow a run that did not ask for it.
fn write_tests(target: &Target) -> Vec<(TestDef, context::Context)> {
    crate::store::registry::load_builtin_writes()
        .into_iter()
        .filter(|w| roles::decision_for(&w.author, None) == Decision::AsIs)
        .map(|w| {
            let ctx = context::Context::new(target, &RunAs::Owner, &w.author);
            (TestDef { commit_last: false, warmup: 1, iterations: WRITE_ITERATIONS, ..w }, ctx)
        })
        .collect()
}

/// The median of a write test's timed executions (each rolled back), or None when it
/// failed here (a time limit or cancel still propagates).
fn write_ms(w: &TestDef, ctx: &context::Context) -> Option<f64> {
    match test::run_dml(w, ctx, w.iterations) {
        Ok(m) if !m.samples_ms.is_empty() => Some(median(&m.samples_ms)),
        Ok(_) => None,
        Err(e) if e.is_cancel() || e.is_shutdown() => e.raise(),
        Err(_) => None,
    }
}
