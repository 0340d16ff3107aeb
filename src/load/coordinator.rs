//! The coordinating side of a load test (the caller, or the run's worker): check
//! slots, start one worker per client, print progress every second, sample the
//! monitoring figures, stop every client when cancelled, then merge the histograms the
//! clients committed into one perf_load_runs row with intervals and snapshots.

use pgrx::bgworkers::DynamicBackgroundWorker;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::monitor::{self, Snapshot};
use super::script;
use crate::errors::{bad_argument, raise, OrInternal};
use crate::pg::job::Job;
use crate::pg::lock::{self, Key, Mode, Scope};
use crate::pg::roles::{self, Decision};
use crate::pg::{bgworker as launch, signals};
use crate::store::load as store;
use crate::workload::aggregate::Merger;
use crate::workload::schedule::Arrivals;

pub struct LoadOptions<'a> {
    pub script: &'a str,
    pub target_schema: &'a str,
    pub clients: i32,
    /// Per client; 0 when `duration` governs.
    pub transactions: i32,
    pub duration: Duration,
    pub ramp_up: Duration,
    /// Target transactions per second over all clients (pgbench -R); None: as fast as possible.
    pub rate: Option<f64>,
    /// How transactions arrive at `rate`.
    pub arrivals: Arrivals,
    pub latency_limit_ms: f64,
    /// With a rate: skip a transaction already later than latency_limit_ms when its
    /// turn comes (pgbench --latency-limit).
    pub skip_late: bool,
    pub run_id: Option<i64>,
}

/// 53400 unless `clients` background workers can start now for this role, naming the
/// max_worker_processes that would let them (the workers running now plus these) and,
/// for a role that is not a superuser, the slots kept for superusers.
pub fn require_slots(clients: i32, what: &str, superuser: bool) {
    let free = launch::free_worker_slots().max(0);
    let usable = launch::usable_worker_slots_for(superuser);
    if i64::from(clients) <= usable {
        return;
    }
    let max = Spi::get_one::<i32>("SELECT pg_catalog.current_setting('max_worker_processes')::pg_catalog.int4")
        .or_internal("max_worker_processes")
        .unwrap_or(0);
    let running = i64::from(max) - free;
    let reserved = free - usable;
    let kept = if reserved > 0 {
        format!(", {reserved} of the free ones kept for superusers by pg_perfsuite.reserved_worker_slots")
    } else {
        String::new()
    };
    raise(
        Code::ERRCODE_CONFIGURATION_LIMIT_EXCEEDED,
        format!(
            "{what} needs {clients} background-worker slots for its clients, and {usable} may be used \
             (max_worker_processes = {max}, {running} workers running{kept})"
        ),
        Some(&format!(
            "Set max_worker_processes to at least {} in postgresql.conf and restart the server, or use fewer clients.",
            running + reserved + i64::from(clients)
        )),
    );
}

/// Every refusal happens here, before any worker starts. Returns the role the clients
/// run the script as (0: this session's own), decided by who wrote the script.
pub fn check(opts: &LoadOptions) -> u32 {
    if !opts.latency_limit_ms.is_finite() || opts.latency_limit_ms <= 0.0 {
        bad_argument(format!("latency_limit_ms must be a number greater than 0 (got {})", opts.latency_limit_ms), None);
    }
    if opts.clients < 1 {
        bad_argument(format!("clients must be at least 1 (got {})", opts.clients), None);
    }
    let Some(store::Script { text, variables: values, author }) = store::script(opts.script) else {
        bad_argument(
            format!("script \"{}\" does not exist", opts.script),
            Some("SELECT name, description FROM perf_load_scripts; lists them; add yours with INSERT INTO perf_load_scripts (name, script, variables)."),
        )
    };
    let statements =
        script::parse(&text).unwrap_or_else(|e| bad_argument(format!("script \"{}\": {e}", opts.script), None));
    if let Err(e) = script::check_variables(&statements, &values) {
        bad_argument(format!("script \"{}\": {e}", opts.script), None);
    }
    let role = match roles::decision_for(&author, None) {
        Decision::AsIs => launch::role_to_assume(),
        Decision::AsAuthor(role) => roles::role_oid(&role).unwrap_or(0),
        Decision::Refused => raise(
            Code::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!(
                "load script \"{}\" was written by role \"{author}\", and this session's role may neither act as it nor become it",
                opts.script
            ),
            Some("Run the load test as that role (or one that may SET ROLE to it), or rewrite the script as this role (UPDATE perf_load_scripts SET script = script WHERE name = ... makes you its author)."),
        ),
    };
    // The clients act as `role`: the reserve applies unless that is a superuser.
    require_slots(opts.clients, "the load test", crate::pg::roles::oid_is_superuser(role));
    role
}

pub struct Outcome {
    pub load_id: i64,
}

/// The load test's number is this coordinator's until its transaction ends (a lock no
/// SQL can take: pg::lock), and whatever was planted under it goes. Hand-over rows of
/// other load tests whose coordinator no longer holds its lock were left by a
/// cancelled test and go too; those of a coordinator still at work stay.
fn claim(load_id: i64) {
    let id = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    lock::acquire_id(Key::LoadTest, id(load_id), Mode::Exclusive, Scope::Transaction);
    store::clear_for(load_id);
    for other in store::handed_over_elsewhere(load_id) {
        if lock::try_acquire_id(Key::LoadTest, id(other), Mode::Exclusive, Scope::Transaction) {
            store::drop_hand_over(other);
            lock::release_id(Key::LoadTest, id(other), Mode::Exclusive, Scope::Transaction);
        }
    }
}

/// End every client at once when the load test itself is stopped (cancelled, or its
/// test's time limit ran out): terminated, not cancelled, since a script may catch a
/// cancel and go on holding its worker slot.
fn stop_all(pids: &[i32]) {
    for pid in pids {
        signals::send_terminate(*pid);
    }
}

pub fn run(opts: &LoadOptions) -> Outcome {
    let role = check(opts);
    store::reap_stale_clients();
    let load_id = store::next_load_id();
    claim(load_id);
    // The clients' PIDs, for the cancel path below (a Mutex can cross catch_unwind).
    let pids: Mutex<Vec<i32>> = Mutex::new(Vec::new());
    let started_at =
        Spi::get_one::<pgrx::datum::TimestampWithTimeZone>("SELECT pg_catalog.clock_timestamp()").ok().flatten();
    let mut snapshots = Vec::new();
    PgTryBuilder::new(std::panic::AssertUnwindSafe(|| {
        let mut workers: Vec<(DynamicBackgroundWorker, i32)> = Vec::new();
        for c in 0..opts.clients {
            let delay_ms =
                if opts.clients > 1 { opts.ramp_up.as_millis() as i64 * c as i64 / opts.clients as i64 } else { 0 };
            let job = Job::LoadClient {
                load_id,
                client: c,
                script: opts.script.to_string(),
                schema: opts.target_schema.to_string(),
                transactions: opts.transactions,
                duration_ms: opts.duration.as_millis() as i64,
                delay_ms,
                pace_ns: opts.rate.map(|r| (1e9 * opts.clients as f64 / r) as i64).unwrap_or(0),
                arrivals: opts.arrivals.as_str().to_string(),
                skip_us: if opts.skip_late && opts.rate.is_some() {
                    (opts.latency_limit_ms * 1000.0) as i64
                } else {
                    0
                },
                role,
            };
            let started = launch::start(&job, &format!("pg_perfsuite load {load_id} client {c}"));
            pids.lock().or_internal("pids").push(started.1);
            workers.push(started);
        }
        follow(opts, load_id, &workers, &mut snapshots);
    }))
    .catch_others(|e| {
        stop_all(&pids.lock().map(|p| p.clone()).unwrap_or_default());
        e.rethrow()
    })
    .execute();
    let record = store::LoadRecord {
        load_id,
        run_id: opts.run_id,
        started_at,
        script: opts.script,
        clients: opts.clients,
        transactions: opts.transactions,
        duration_ms: opts.duration.as_millis() as i64,
        ramp_up_ms: opts.ramp_up.as_millis() as i64,
        latency_limit_ms: opts.latency_limit_ms,
        rate: opts.rate,
        arrivals: opts.rate.map(|_| opts.arrivals.as_str()),
        skip_late: opts.skip_late && opts.rate.is_some(),
    };
    store::open_run(&record);
    // Every client has stopped: their seconds merge into the test's histograms, one
    // second at a time, each written as it closes.
    let launched = pids.lock().map(|p| p.clone()).unwrap_or_default();
    let clients: Vec<(i32, i32)> = launched.iter().enumerate().map(|(c, pid)| (c as i32, *pid)).collect();
    let mut merger = Merger::new();
    let foreign = store::for_each_client_second(load_id, &clients, |(client, row)| {
        pgrx::check_for_interrupts!();
        match row {
            Some(row) => {
                if let Some(second) = merger.push(client, &row) {
                    store::write_interval(load_id, &second);
                }
            }
            None => merger.skip_unreadable(),
        }
    });
    let (last, totals) = merger.finish();
    if let Some(second) = last {
        store::write_interval(load_id, &second);
    }
    let mut said = Vec::new();
    if foreign > 0 {
        said.push(format!("{foreign} hand-over rows written by sessions other than this test's clients were left out"));
    }
    // The clients' own counters against what their hand-over rows held: rows changed or
    // deleted while the test ran (the tables are operators' to write) show here.
    let (counted, skipped) = store::clients_counted(load_id, &clients);
    if (counted, skipped) != (totals.done + totals.failed, totals.skipped) {
        said.push(format!(
            "the clients counted {counted} transactions ({skipped} skipped) and their histograms hold {} ({} skipped): \
             a client stopped early, or hand-over rows were changed or removed while the test ran; \
             its figures are not to be trusted",
            totals.done + totals.failed,
            totals.skipped
        ));
    }
    store::record(&record, &totals, &said, &snapshots);
    Outcome { load_id }
}

/// One line per second, like `pgbench -P 1`, until every client has stopped.
fn follow(opts: &LoadOptions, load_id: i64, workers: &[(DynamicBackgroundWorker, i32)], snapshots: &mut Vec<Snapshot>) {
    let start = Instant::now();
    let mut before = monitor::Counters::read(&monitor::sample_database(opts.latency_limit_ms));
    let mut last_done = 0i64;
    let mut last_tick = Instant::now();
    loop {
        let all_stopped = workers.iter().all(|(w, _)| w.pid().is_err());
        crate::pg::latch::nap(200);
        if last_tick.elapsed() >= Duration::from_secs(1) || all_stopped {
            let (done, failed) = store::client_totals(load_id);
            let secs = last_tick.elapsed().as_secs_f64();
            let db = monitor::sample_database(opts.latency_limit_ms);
            let (slow, waits) = (db.slow_queries, db.lock_waits);
            let now = monitor::Counters::read(&db);
            let snap = before.sample_until(&now, &db, start.elapsed().as_secs_f64() * 1000.0);
            before = now;
            notice!(
                "progress: {:.1} s, {:.1} tps, {done} done, {failed} failed, {slow} slow queries, {waits} lock waits, cpu {}",
                start.elapsed().as_secs_f64(),
                (done - last_done) as f64 / secs.max(1e-3),
                snap.cpu_busy_pct.map(|c| format!("{c:.0} %")).unwrap_or_else(|| "n/a".into())
            );
            snapshots.push(snap);
            last_done = done;
            last_tick = Instant::now();
        }
        if all_stopped {
            break;
        }
    }
}
