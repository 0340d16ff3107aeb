//! perf_capacity's search, run: each step is an open-loop load test at one offered
//! rate (load::coordinator), judged against the p95 target; workload::capacity decides
//! the next rate, the answer and the knee; store::capacity records the steps.

use std::time::Duration;

use pgrx::prelude::*;

use super::coordinator::{self, LoadOptions};
use crate::store::capacity::{self as store, StepRow};
use crate::workload::capacity::{self as search, Counts, Search, Step};
use crate::workload::schedule::Arrivals;

pub struct CapacityOptions<'a> {
    pub script: &'a str,
    pub target_schema: &'a str,
    pub clients: i32,
    pub target_p95_ms: f64,
    pub step: Duration,
    pub start_rate: f64,
    pub max_steps: usize,
    pub arrivals: Arrivals,
    pub run_id: Option<i64>,
}

/// What the search found.
pub struct Outcome {
    pub capacity_id: i64,
    pub steps: Vec<StepRow>,
    /// Index into `steps` of the answer and of the knee.
    pub capacity: Option<usize>,
    pub knee: Option<usize>,
    /// Some rate above the answer missed the target (otherwise the capacity is only
    /// "at least" the answer).
    pub bracketed: bool,
}

impl Outcome {
    pub fn capacity_tps(&self) -> Option<f64> {
        self.capacity.map(|i| self.steps[i].offered_rate)
    }

    /// The offered rate at which latency turned upward.
    pub fn knee_tps(&self) -> Option<f64> {
        self.knee.map(|i| self.steps[i].offered_rate)
    }
}

/// The highest rate a step may offer: a million transactions a second, perf_load_test's
/// own limit.
const MAX_RATE: f64 = 1_000_000.0;
/// The lowest: one transaction a second over all clients.
const MIN_RATE: f64 = 1.0;
/// Transactions each client is offered in a step at the lowest rate a search tries.
const TRANSACTIONS_PER_CLIENT: f64 = 10.0;

pub fn run(o: &CapacityOptions) -> Outcome {
    if o.step.as_secs_f64() * o.max_steps as f64 > 86_400.0 {
        crate::errors::bad_argument(
            format!(
                "max_steps ({}) steps of step_duration ({} s) could take more than 24 hours",
                o.max_steps,
                o.step.as_secs_f64()
            ),
            Some("Shorten step_duration or lower max_steps: the whole search runs in the calling transaction."),
        );
    }
    let capacity_id = store::next_capacity_id();
    store::start(&store::Search {
        capacity_id,
        run_id: o.run_id,
        script: o.script,
        clients: o.clients,
        arrivals: o.arrivals.as_str(),
        target_p95_ms: o.target_p95_ms,
        step_ms: o.step.as_millis() as i64,
    });
    // The lowest rate gives each client about ten transactions a step: fewer would
    // leave some clients none (the first is due one gap in) and a p95 of a handful.
    let min_rate = MIN_RATE.max(TRANSACTIONS_PER_CLIENT * f64::from(o.clients) / o.step.as_secs_f64());
    let plan =
        Search { start_rate: o.start_rate, max_steps: o.max_steps, tolerance: 0.05, min_rate, max_rate: MAX_RATE };
    let mut steps: Vec<Step> = Vec::new();
    let mut rows: Vec<StepRow> = Vec::new();
    while let Some(rate) = plan.next_rate(&steps) {
        let load = coordinator::run(&LoadOptions {
            script: o.script,
            target_schema: o.target_schema,
            clients: o.clients,
            transactions: 0,
            duration: o.step,
            ramp_up: Duration::ZERO,
            rate: Some(rate),
            arrivals: o.arrivals,
            latency_limit_ms: o.target_p95_ms,
            skip_late: false,
            run_id: o.run_id,
        });
        let r = crate::store::load::summary(load.load_id);
        let counts = Counts { done: r.transactions - r.failed, failed: r.failed, skipped: r.skipped, behind: r.behind };
        let met = search::met(counts, r.p95_ms, o.target_p95_ms);
        let row = StepRow {
            step: rows.len() as i32 + 1,
            load_id: load.load_id,
            offered_rate: rate,
            achieved_tps: r.tps,
            p50_ms: r.p50_ms,
            p95_ms: r.p95_ms,
            p99_ms: r.p99_ms,
            service_p95_ms: r.service_p95_ms,
            failed: r.failed,
            behind: r.behind,
            met,
        };
        notice!(
            "capacity step {}: offered {rate:.1}/s, achieved {}/s, p95 {} ms (service {} ms), {} failed, {} behind: {}",
            row.step,
            fmt(r.tps, 1),
            fmt(r.p95_ms, 2),
            fmt(r.service_p95_ms, 2),
            r.failed,
            r.behind,
            if met { "met" } else { "missed" }
        );
        store::add_step(capacity_id, &row);
        steps.push(Step { offered_rate: rate, p95_ms: r.p95_ms, met });
        rows.push(row);
    }
    let (capacity, knee) = (search::capacity(&steps), search::knee(&steps));
    let bracketed = search::bracketed(&steps);
    let out = Outcome { capacity_id, steps: rows, capacity, knee, bracketed };
    let notes = match out.capacity_tps() {
        Some(c) => format!(
            "{}{c:.1} transactions/s offered met p95 <= {} ms with {} clients{}{}",
            if bracketed { "" } else { "at least " },
            o.target_p95_ms,
            o.clients,
            out.knee_tps().map(|k| format!("; latency turns upward at about {k:.1}/s offered")).unwrap_or_default(),
            if bracketed { "" } else { " (no rate tried missed it: raise max_steps or start_rate to find the limit)" }
        ),
        None => format!(
            "no offered rate down to {:.1}/s met p95 <= {} ms with {} clients",
            out.steps.iter().map(|s| s.offered_rate).fold(f64::MAX, f64::min),
            o.target_p95_ms,
            o.clients
        ),
    };
    notice!("capacity: {notes}");
    store::finish(
        capacity_id,
        out.steps.len() as i32,
        capacity.map(|i| out.steps[i].step),
        knee.map(|i| out.steps[i].step),
        out.capacity_tps(),
        out.knee_tps(),
        &notes,
    );
    out
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}")).unwrap_or_else(|| "n/a".into())
}
