//! Load as tests of a run: kind 'load' in the registry (the plan's pgbench run, judged
//! on p95 against the JMeter latency assertion) and kind 'capacity' (how much load the
//! server takes within that latency, judged against the rate the registry asks for).

use std::time::Duration;

use super::coordinator::{self, LoadOptions};
use crate::suite::model::TestDef;
use crate::suite::result::{ms, TestResult};
use crate::suite::verdict::{time_band, Verdict};
use crate::sut::Target;
use crate::workload::schedule::Arrivals;

pub struct Outcome {
    load_id: i64,
    clients: i32,
    wanted: i32,
}

/// A run's load test stops after this long even when its clients have transactions
/// left: at a scale where the script's statements take seconds, the plan's 100
/// transactions per client would hold the run for an hour to confirm a FAIL the first
/// minute already shows. The note says when it stopped and how far it got.
pub const TIME_CAP: Duration = Duration::from_secs(30);

/// As many of the test's clients as there are free worker slots (leaving one), so a
/// default max_worker_processes still runs it; the note says so.
fn clients_for(t: &TestDef) -> i32 {
    let wanted = t.clients.unwrap_or(10);
    // Clients running another role's script act as that role: the reserve applies.
    let as_superuser = crate::pg::roles::is_superuser()
        && crate::store::load::script(&t.sql).is_some_and(|s| crate::pg::roles::name_is_superuser(&s.author));
    wanted.min((crate::pg::bgworker::usable_worker_slots_for(as_superuser) - 1).max(1) as i32)
}

/// Run the test's load (with [`clients_for`] clients).
pub fn run(run_id: i64, t: &TestDef, target: &Target) -> Outcome {
    let wanted = t.clients.unwrap_or(10);
    let clients = clients_for(t);
    let opts = LoadOptions {
        script: &t.sql,
        target_schema: &target.schema,
        clients,
        transactions: t.iterations,
        duration: TIME_CAP,
        ramp_up: Duration::ZERO,
        rate: None,
        arrivals: Arrivals::Poisson,
        latency_limit_ms: t.target_ms.unwrap_or(100.0),
        skip_late: false,
        run_id: Some(run_id),
    };
    let out = coordinator::run(&opts);
    crate::store::load::tag_snapshots(out.load_id, &t.test_id);
    Outcome { load_id: out.load_id, clients, wanted }
}

pub fn judge(result: &mut TestResult, t: &TestDef, o: Outcome) {
    let r = crate::store::load::summary(o.load_id);
    let (txns, failed, tps, over, finished, notes) =
        (r.transactions, r.failed, r.tps.unwrap_or(0.0), r.over_limit_pct.unwrap_or(0.0), r.clients_finished, r.notes);
    let [min, avg, p50, p95, p99, max, stddev] =
        [r.min_ms, r.avg_ms, r.p50_ms, r.p95_ms, r.p99_ms, r.max_ms, r.stddev_ms].map(|v| v.map(ms));
    result.statistic = Some("p95".into());
    result.iterations = Some(txns as i32);
    result.rows_returned = Some(txns);
    (result.min_ms, result.avg_ms, result.p50_ms, result.p95_ms, result.p99_ms, result.max_ms, result.stddev_ms) =
        (min, avg, p50, p95, p99, max, stddev);
    result.execution_time_ms = p95;
    let mut verdict = time_band(p95.unwrap_or(f64::MAX), t.target_ms, t.acceptable_ms);
    if failed > 0 || finished < o.clients as i64 {
        verdict = verdict.max(Verdict::Fail);
    }
    let planned = i64::from(o.clients) * i64::from(t.iterations);
    let cut_short = if txns < planned && finished == o.clients as i64 && failed == 0 {
        verdict = verdict.max(Verdict::Warn);
        format!(
            "; stopped at the {} s cap after {txns} of {planned} transactions: the server could not keep up",
            TIME_CAP.as_secs()
        )
    } else {
        String::new()
    };
    result.set_verdict(verdict);
    let capped = if o.clients < o.wanted {
        format!(" (of the {} planned: max_worker_processes leaves only that many free)", o.wanted)
    } else {
        String::new()
    };
    result.notes = Some(format!(
        "load test {}: {} clients{capped} x {} transactions, {tps:.1} tps, p50 {:.2} ms, p95 {:.2} ms, {failed} failed, {over:.1} % over {} ms{cut_short}{}",
        o.load_id,
        o.clients,
        t.iterations,
        p50.unwrap_or(0.0),
        p95.unwrap_or(0.0),
        t.target_ms.unwrap_or(100.0),
        notes.map(|n| format!("; {n}")).unwrap_or_default()
    ));
}

/// A run's capacity search steps for this long each: long enough for a few hundred
/// transactions at the rates that matter, short enough for a run.
pub const CAPACITY_STEP: Duration = Duration::from_secs(2);

pub struct CapacityOutcome {
    found: crate::load::capacity::Outcome,
    clients: i32,
    wanted: i32,
}

/// Search the capacity with the test's script and clients: start at the rate the
/// registry asks for (or 50/s), at most `iterations` steps.
pub fn run_capacity(run_id: i64, t: &TestDef, target: &Target) -> CapacityOutcome {
    let clients = clients_for(t);
    let found = crate::load::capacity::run(&crate::load::capacity::CapacityOptions {
        script: &t.sql,
        target_schema: &target.schema,
        clients,
        target_p95_ms: t.target_ms.unwrap_or(100.0),
        step: CAPACITY_STEP,
        start_rate: t.target_rate.unwrap_or(50.0),
        max_steps: t.iterations.clamp(1, 50) as usize,
        arrivals: Arrivals::Poisson,
        run_id: Some(run_id),
    });
    CapacityOutcome { found, clients, wanted: t.clients.unwrap_or(10) }
}

/// PASS when the capacity reaches the rate the registry asks for (without one, when
/// any rate met the target); the figure is the p95 at the capacity.
pub fn judge_capacity(result: &mut TestResult, t: &TestDef, o: CapacityOutcome) {
    let found = &o.found;
    let at = found.capacity.map(|i| &found.steps[i]);
    result.statistic = Some("p95".into());
    result.iterations = Some(found.steps.len() as i32);
    result.p95_ms = at.and_then(|s| s.p95_ms).map(ms);
    result.execution_time_ms = result.p95_ms;
    let enough = match (found.capacity_tps(), t.target_rate) {
        (Some(c), Some(r)) => c >= r,
        (Some(_), None) => true,
        (None, _) => false,
    };
    result.set_verdict(if enough { Verdict::Pass } else { Verdict::Fail });
    result.add_finding(crate::suite::finding::Finding::Capacity {
        capacity_id: found.capacity_id,
        capacity_tps: found.capacity_tps(),
        bracketed: found.bracketed,
        knee_tps: found.knee_tps(),
        required_rate: t.target_rate,
        target_p95_ms: t.target_ms.unwrap_or(100.0),
        clients: o.clients,
        steps: found.steps.len(),
    });
    let capped = if o.clients < o.wanted {
        format!(" (of the {} planned: max_worker_processes leaves only that many free)", o.wanted)
    } else {
        String::new()
    };
    result.notes = Some(format!("{} clients{capped}", o.clients));
}
