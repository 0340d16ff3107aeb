//! perf_load_test: the plan's pgbench run (and its JMeter thread group's semantics)
//! from background workers, results as percentiles in tables.

use pgrx::prelude::*;
use std::time::Duration;

use crate::errors::{bad_argument, required, OrInternal};
use crate::load::coordinator::{self, LoadOptions};
use crate::load::preset;
use crate::workload::schedule::Arrivals;

fn millis(v: Option<pgrx::datum::Interval>, arg: &str) -> Duration {
    let Some(iv) = v else { return Duration::ZERO };
    let ms = Spi::get_one_with_args::<f64>("SELECT (extract(epoch FROM $1::interval) * 1000)::float8", &[iv.into()])
        .or_internal("interval")
        .unwrap_or(0.0);
    if !(0.0..=86_400_000.0).contains(&ms) {
        bad_argument(format!("{arg} must be between 0 and 24 hours (got {ms} ms)"), None);
    }
    Duration::from_millis(ms as u64)
}

/// The `arrivals` argument: 'poisson' or 'regular'.
fn arrivals_arg(arrivals: Option<&str>) -> Arrivals {
    let name = required(arrivals, "arrivals");
    Arrivals::parse(name)
        .unwrap_or_else(|| bad_argument(format!("arrivals must be 'poisson' or 'regular', not \"{name}\""), None))
}

/// The longest a load test may plan to take (ramp-up plus its transactions at `rate`).
const MAX_PLANNED: Duration = Duration::from_secs(24 * 3600);

/// Ramp-up and rate must fit the test: with a duration, the ramp-up must end before it
/// and every client must get at least one transaction in it; with a transaction count,
/// ramp-up plus the paced transactions must fit in a day. Otherwise a worker would sit
/// in a wait for hours holding a slot.
fn check_timing(clients: i32, transactions: i32, duration: Duration, ramp_up: Duration, rate: Option<f64>) {
    let clients_f = f64::from(clients.max(1));
    if transactions == 0 {
        if ramp_up >= duration {
            bad_argument(
                format!(
                    "ramp_up ({} ms) must be shorter than duration ({} ms)",
                    ramp_up.as_millis(),
                    duration.as_millis()
                ),
                Some("Clients start spread over ramp_up; the test runs for duration from the first client's start."),
            );
        }
        if let Some(r) = rate {
            let pace_s = clients_f / r;
            if pace_s > duration.as_secs_f64() {
                bad_argument(
                    format!("rate {r} gives each of the {clients} clients one transaction every {pace_s:.1} s, longer than duration ({} s)", duration.as_secs_f64()),
                    Some("Raise rate or duration, or use fewer clients."),
                );
            }
        }
    } else {
        let paced_s = rate.map(|r| f64::from(transactions) * clients_f / r).unwrap_or(0.0);
        let planned_s = ramp_up.as_secs_f64() + paced_s;
        if planned_s > MAX_PLANNED.as_secs_f64() {
            bad_argument(
                format!(
                    "ramp_up plus {transactions} transactions per client at rate {} would take {planned_s:.3e} s, more than 24 hours",
                    rate.unwrap_or(0.0)
                ),
                Some("Raise rate, or lower transactions or ramp_up."),
            );
        }
    }
}

/// The summary row perf_load_test and perf_load_preset return.
type SummaryRow = (
    i64,
    i32,
    i64,
    i64,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    i64,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

/// Run a load test: `clients` background workers each running `script` as one
/// transaction, `transactions` times (or for `duration`), with an optional ramp-up;
/// prints a progress line per second; returns the summary (also in perf_load_runs).
/// With `rate` the load is open-loop: transactions arrive on a schedule (`arrivals`:
/// 'poisson' or 'regular') and lat_* are response times counted from when each was due;
/// service_* count from when it started and lag_p95_ms is the difference. With
/// `skip_late`, a transaction already later than latency_limit_ms when its turn comes
/// is skipped (pgbench --latency-limit).
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
// pgrx reads the result columns from this signature (name!), so it cannot be a type alias.
#[allow(clippy::type_complexity)]
#[allow(clippy::too_many_arguments)]
fn perf_load_test(
    clients: default!(Option<i32>, "10"),
    transactions: default!(Option<i32>, "100"),
    duration: default!(Option<pgrx::datum::Interval>, "NULL"),
    script: default!(Option<&str>, "'plan'"),
    target_schema: default!(Option<&str>, "'public'"),
    ramp_up: default!(Option<pgrx::datum::Interval>, "NULL"),
    latency_limit_ms: default!(Option<f64>, "100"),
    rate: default!(Option<f64>, "NULL"),
    arrivals: default!(Option<&str>, "'poisson'"),
    skip_late: default!(Option<bool>, "false"),
) -> TableIterator<
    'static,
    (
        name!(load_id, i64),
        name!(clients, i32),
        name!(transactions, i64),
        name!(failed, i64),
        name!(tps, Option<f64>),
        name!(lat_avg_ms, Option<f64>),
        name!(lat_p50_ms, Option<f64>),
        name!(lat_p95_ms, Option<f64>),
        name!(lat_p99_ms, Option<f64>),
        name!(lat_max_ms, Option<f64>),
        name!(over_limit_pct, Option<f64>),
        name!(skipped, i64),
        name!(service_p50_ms, Option<f64>),
        name!(service_p95_ms, Option<f64>),
        name!(service_p99_ms, Option<f64>),
        name!(lag_p95_ms, Option<f64>),
    ),
> {
    let clients = required(clients, "clients");
    let duration_ms = millis(duration, "duration");
    let transactions = if duration.is_some() { 0 } else { required(transactions, "transactions") };
    if duration.is_none() && !(1..=1_000_000).contains(&transactions) {
        bad_argument(format!("transactions must be between 1 and 1000000 per client (got {transactions})"), None);
    }
    if duration.is_some() && duration_ms.is_zero() {
        bad_argument("duration must be longer than 0", None);
    }
    let rate = rate.inspect(|&r| {
        if !(r.is_finite() && r > 0.0 && r <= 1_000_000.0) {
            bad_argument(format!("rate must be between 0 and 1000000 transactions per second (got {r})"), None);
        }
    });
    let arrivals = arrivals_arg(arrivals);
    let skip_late = required(skip_late, "skip_late");
    if skip_late && rate.is_none() {
        bad_argument(
            "skip_late needs a rate",
            Some("Transactions are late against a schedule; without rate they run back to back and none is ever late."),
        );
    }
    let opts = LoadOptions {
        script: required(script, "script"),
        target_schema: required(target_schema, "target_schema"),
        clients,
        transactions,
        duration: duration_ms,
        ramp_up: millis(ramp_up, "ramp_up"),
        rate,
        arrivals,
        latency_limit_ms: required(latency_limit_ms, "latency_limit_ms"),
        skip_late,
        run_id: None,
    };
    TableIterator::once(load_test(&opts))
}

/// Run one of the plan's load-test shapes by name: 'jmeter' (its JMeter thread group:
/// 50 clients started over 10 s, 300 s, each response under 100 ms), 'pgbench' (10
/// clients x 100 transactions) or 'write' (the auto-sync trigger under 10 concurrent
/// writers). `latency_limit_ms` overrides the preset's assertion.
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
#[allow(clippy::type_complexity)]
fn perf_load_preset(
    preset: default!(Option<&str>, "'jmeter'"),
    target_schema: default!(Option<&str>, "'public'"),
    latency_limit_ms: default!(Option<f64>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(load_id, i64),
        name!(clients, i32),
        name!(transactions, i64),
        name!(failed, i64),
        name!(tps, Option<f64>),
        name!(lat_avg_ms, Option<f64>),
        name!(lat_p50_ms, Option<f64>),
        name!(lat_p95_ms, Option<f64>),
        name!(lat_p99_ms, Option<f64>),
        name!(lat_max_ms, Option<f64>),
        name!(over_limit_pct, Option<f64>),
        name!(skipped, i64),
        name!(service_p50_ms, Option<f64>),
        name!(service_p95_ms, Option<f64>),
        name!(service_p99_ms, Option<f64>),
        name!(lag_p95_ms, Option<f64>),
    ),
> {
    let name = required(preset, "preset");
    let Some(p) = preset::find(name) else {
        bad_argument(format!("preset must be one of {}, not \"{name}\"", preset::names()), None)
    };
    // A schema the caller may not trust is refused first, whatever the server's size.
    crate::sut::install::check(required(target_schema, "target_schema"), crate::gucs::trust_schema_owners());
    // The preset's size is the point: say what the server needs rather than shrink it.
    coordinator::require_slots(p.clients, &format!("the {} preset", p.name), crate::pg::roles::is_superuser());
    let opts = LoadOptions {
        script: p.script,
        target_schema: required(target_schema, "target_schema"),
        clients: p.clients,
        transactions: p.transactions,
        duration: p.duration,
        ramp_up: p.ramp_up,
        rate: None,
        arrivals: Arrivals::Poisson,
        latency_limit_ms: latency_limit_ms.unwrap_or(p.latency_limit_ms),
        skip_late: false,
        run_id: None,
    };
    notice!("load preset {}: {}", p.name, p.description);
    TableIterator::once(load_test(&opts))
}

/// Checks shared by both entry points, the run, and its summary row.
fn load_test(opts: &LoadOptions) -> SummaryRow {
    let limit = opts.latency_limit_ms;
    if !(limit.is_finite() && limit > 0.0) {
        bad_argument(format!("latency_limit_ms must be a number greater than 0 (got {limit})"), None);
    }
    crate::sut::install::check(opts.target_schema, crate::gucs::trust_schema_owners());
    crate::runner::follow::require_read_committed();
    check_timing(opts.clients, opts.transactions, opts.duration, opts.ramp_up, opts.rate);
    let out = coordinator::run(opts);
    let r = crate::store::load::summary(out.load_id);
    (
        out.load_id,
        r.clients,
        r.transactions,
        r.failed,
        r.tps,
        r.avg_ms,
        r.p50_ms,
        r.p95_ms,
        r.p99_ms,
        r.max_ms,
        r.over_limit_pct,
        r.skipped,
        r.service_p50_ms,
        r.service_p95_ms,
        r.service_p99_ms,
        r.lag_p95_ms,
    )
}

/// Background-worker slots the calling role may take now: max_worker_processes minus
/// the workers running, less pg_perfsuite.reserved_worker_slots for a role that is not
/// a superuser. How many load clients, runs and second sessions it can start.
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn perf_free_worker_slots() -> i64 {
    crate::pg::bgworker::usable_worker_slots()
}

/// How much load the server takes within a latency target: open-loop steps of rising
/// offered rate (`start_rate`, doubled while the target holds), then a bisection
/// between the highest rate that met it and the lowest that did not, each step a load
/// test of `step_duration` with `clients` clients running `script`. A step meets the
/// target when its p95 response time (from when each transaction was due) is within
/// `target_p95_ms`, nothing failed and at least 95 % of the transactions due were done.
/// One row per step; `capacity` marks the answer (the highest rate that met the target)
/// and `knee` where latency turned upward. Recorded in perf_capacity_runs and
/// perf_capacity_steps.
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
#[allow(clippy::type_complexity)]
#[allow(clippy::too_many_arguments)]
fn perf_capacity(
    script: default!(Option<&str>, "'plan'"),
    target_p95_ms: default!(Option<f64>, "100"),
    clients: default!(Option<i32>, "10"),
    target_schema: default!(Option<&str>, "'public'"),
    step_duration: default!(Option<pgrx::datum::Interval>, "'5 seconds'"),
    start_rate: default!(Option<f64>, "50"),
    max_steps: default!(Option<i32>, "12"),
    arrivals: default!(Option<&str>, "'poisson'"),
) -> TableIterator<
    'static,
    (
        name!(capacity_id, i64),
        name!(step, i32),
        name!(offered_rate, f64),
        name!(achieved_tps, Option<f64>),
        name!(p95_ms, Option<f64>),
        name!(service_p95_ms, Option<f64>),
        name!(failed, i64),
        name!(met, bool),
        name!(capacity, bool),
        name!(knee, bool),
        name!(load_id, i64),
    ),
> {
    let target = required(target_p95_ms, "target_p95_ms");
    if !(target.is_finite() && target > 0.0 && target <= 3_600_000.0) {
        bad_argument(format!("target_p95_ms must be between 0 and 3600000 (got {target})"), None);
    }
    let clients = required(clients, "clients");
    if !(1..=1000).contains(&clients) {
        bad_argument(format!("clients must be between 1 and 1000 (got {clients})"), None);
    }
    let step = millis(Some(required(step_duration, "step_duration")), "step_duration");
    if step < Duration::from_secs(1) || step > Duration::from_secs(3600) {
        bad_argument(format!("step_duration must be between 1 second and 1 hour (got {} ms)", step.as_millis()), None);
    }
    let start = required(start_rate, "start_rate");
    if !(start.is_finite() && start > 0.0 && start <= 1_000_000.0) {
        bad_argument(format!("start_rate must be between 0 and 1000000 transactions per second (got {start})"), None);
    }
    let max_steps = required(max_steps, "max_steps");
    if !(1..=50).contains(&max_steps) {
        bad_argument(format!("max_steps must be between 1 and 50 (got {max_steps})"), None);
    }
    let arrivals = arrivals_arg(arrivals);
    let schema = required(target_schema, "target_schema");
    crate::sut::install::check(schema, crate::gucs::trust_schema_owners());
    crate::runner::follow::require_read_committed();
    let out = crate::load::capacity::run(&crate::load::capacity::CapacityOptions {
        script: required(script, "script"),
        target_schema: schema,
        clients,
        target_p95_ms: target,
        step,
        start_rate: start,
        max_steps: max_steps as usize,
        arrivals,
        run_id: None,
    });
    let rows: Vec<_> = out
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                out.capacity_id,
                s.step,
                s.offered_rate,
                s.achieved_tps,
                s.p95_ms,
                s.service_p95_ms,
                s.failed,
                s.met,
                out.capacity == Some(i),
                out.knee == Some(i),
                s.load_id,
            )
        })
        .collect();
    TableIterator::new(rows)
}
