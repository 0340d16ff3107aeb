//! Running one registry test and judging it.

use crate::explain::PlanFacts;
use crate::runner::context;
use crate::runner::subxact::{in_subtransaction, OnSuccess};
use crate::runner::timed;
use crate::suite::model::{Kind, TestDef};
use crate::suite::result::TestResult;
use crate::suite::stats::Summary;
use crate::suite::assertions;
use crate::suite::verdict::{time_band, Verdict};
use crate::sut::Target;

/// Run `t` and return its judged result. Errors inside the test become an ERROR
/// result; cancellation propagates.
pub fn run_test(run_id: i64, t: &TestDef, target: &Target, iterations: Option<i32>) -> TestResult {
    let mut result = TestResult::for_test(run_id, t);
    match t.kind {
        Kind::TimedQuery => {
            let iterations = iterations.unwrap_or(t.iterations).max(1);
            // Read-only measurement: always rolled back, which also undoes the role switch.
            let outcome = in_subtransaction(OnSuccess::Rollback, || {
                context::enter(target, &t.run_as);
                timed::measure(&t.sql, t.warmup, iterations)
            });
            match outcome {
                Ok(m) => judge_timed(&mut result, t, m),
                Err(e) => result.set_error(&e.sqlstate, &e.message),
            }
        }
    }
    result
}

fn judge_timed(result: &mut TestResult, t: &TestDef, m: timed::Measurement) {
    let summary = Summary::of(&m.samples_ms).expect("at least one iteration");
    result.set_timing(&summary, t.statistic);
    result.rows_returned = Some(m.rows);
    let measured = summary.statistic(t.statistic);
    let mut verdict = time_band(measured, t.target_ms, t.acceptable_ms);
    let mut broken = Vec::new();
    let scans = match PlanFacts::from_json(&m.plan) {
        Ok(facts) => {
            broken = assertions::failed(&facts, t.assert_index.as_deref(), t.assert_no_seqscan.as_deref());
            let s = facts.scan_summary();
            result.set_plan(&facts, m.plan);
            s
        }
        Err(e) => format!("plan not read: {e}"),
    };
    if !broken.is_empty() {
        verdict = verdict.max(Verdict::Fail);
    }
    result.set_verdict(verdict);
    let target = match (t.target_ms, t.acceptable_ms) {
        (Some(tg), Some(ac)) => format!(" (target <{tg} ms, acceptable <{ac} ms)"),
        (Some(tg), None) => format!(" (target <{tg} ms)"),
        _ => String::new(),
    };
    let broken = if broken.is_empty() { String::new() } else { format!("{}; ", broken.join("; ")) };
    result.notes = Some(format!(
        "{broken}{} {:.3} ms{target} over {} runs, min {:.3} max {:.3}; {} rows; {scans}",
        t.statistic.name(),
        measured,
        summary.n,
        summary.min,
        summary.max,
        m.rows
    ));
}
