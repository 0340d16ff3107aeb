//! The coordinating side of a load test (the caller, or the run's worker): check
//! slots, start one worker per client, print progress every second, sample the
//! monitoring figures, stop every client when cancelled, then aggregate what the
//! clients committed into one perf_load_runs row with intervals and snapshots.

use pgrx::bgworkers::DynamicBackgroundWorker;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::monitor::{self, Snapshot};
use super::script;
use crate::errors::{bad_argument, raise};
use crate::pg::job::Job;
use crate::pg::roles::{self, Decision};
use crate::pg::{bgworker as launch, signals};

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
    pub latency_limit_ms: f64,
    pub run_id: Option<i64>,
}

/// Every refusal happens here, before any worker starts. Returns the role the clients
/// run the script as (0: this session's own), decided by who wrote the script.
pub fn check(opts: &LoadOptions) -> u32 {
    if !opts.latency_limit_ms.is_finite() || opts.latency_limit_ms <= 0.0 {
        bad_argument(format!("latency_limit_ms must be a number greater than 0 (got {})", opts.latency_limit_ms), None);
    }
    let free = launch::free_worker_slots();
    if opts.clients < 1 || opts.clients as i64 > free.max(0) {
        raise(
            if opts.clients < 1 {
                Code::ERRCODE_INVALID_PARAMETER_VALUE
            } else {
                Code::ERRCODE_CONFIGURATION_LIMIT_EXCEEDED
            },
            format!(
                "clients must be between 1 and {} (the free background-worker slots), got {}",
                free.max(0),
                opts.clients
            ),
            Some("Each client is a background worker: raise max_worker_processes (restart needed) for more clients."),
        );
    }
    let script = Spi::connect(|c| {
        let rows = c.select(
            "SELECT script, variables, author::text FROM perf_load_scripts WHERE name = $1",
            None,
            &[opts.script.into()],
        )?;
        let mut found = None;
        for r in rows {
            found = Some((
                r.get::<String>(1)?.unwrap_or_default(),
                r.get::<pgrx::JsonB>(2)?,
                r.get::<String>(3)?.unwrap_or_default(),
            ));
        }
        Ok::<_, pgrx::spi::Error>(found)
    })
    .unwrap_or(None);
    let Some((text, vars, author)) = script else {
        bad_argument(
            format!("script \"{}\" does not exist", opts.script),
            Some("SELECT name, description FROM perf_load_scripts; lists them; add yours with INSERT INTO perf_load_scripts (name, script, variables)."),
        )
    };
    let statements =
        script::parse(&text).unwrap_or_else(|e| bad_argument(format!("script \"{}\": {e}", opts.script), None));
    let values = vars.map(|v| v.0).unwrap_or(serde_json::Value::Null);
    if let Err(e) = script::check_variables(&statements, &values) {
        bad_argument(format!("script \"{}\": {e}", opts.script), None);
    }
    match roles::decision_for(&author, None) {
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
    }
}

/// Clients still marked running whose process is gone (killed, or the server
/// restarted) are marked aborted, as stale runs are.
pub fn reap_stale_clients() {
    Spi::run(
        "UPDATE perf_load_clients c SET status = 'aborted', updated_at = pg_catalog.clock_timestamp(), \
                error = coalesce(error, 'its process (PID ' || pid || ') ended before the client finished') \
          WHERE status = 'running' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a \
                                                     WHERE a.pid = c.pid AND a.backend_type = 'pg_perfsuite')",
    )
    .expect("reap stale load clients");
}

pub struct Outcome {
    pub load_id: i64,
}

fn cancel_all(pids: &[i32]) {
    for pid in pids {
        signals::send_cancel(*pid);
    }
}

pub fn run(opts: &LoadOptions) -> Outcome {
    let role = check(opts);
    reap_stale_clients();
    let load_id = Spi::get_one::<i64>("SELECT pg_catalog.nextval('perf_load_runs_load_id_seq'::pg_catalog.regclass)")
        .expect("load id")
        .expect("load id");
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
                pace_us: opts.rate.map(|r| (1_000_000.0 * opts.clients as f64 / r) as i64).unwrap_or(0),
                role,
            };
            let started = launch::start(&job, &format!("pg_perfsuite load {load_id} client {c}"));
            pids.lock().expect("pids").push(started.1);
            workers.push(started);
        }
        follow(opts, load_id, &workers, &mut snapshots);
    }))
    .catch_others(|e| {
        cancel_all(&pids.lock().map(|p| p.clone()).unwrap_or_default());
        e.rethrow()
    })
    .execute();
    record(opts, load_id, started_at, &snapshots);
    Outcome { load_id }
}

/// One line per second, like `pgbench -P 1`, until every client has stopped.
fn follow(opts: &LoadOptions, load_id: i64, workers: &[(DynamicBackgroundWorker, i32)], snapshots: &mut Vec<Snapshot>) {
    let start = Instant::now();
    let mut cpu_before = monitor::read_cpu();
    let mut disk_before = monitor::read_disk_kb();
    let mut blocks_before = monitor::sample_database(opts.latency_limit_ms).blocks_read;
    let mut last_done = 0i64;
    let mut last_tick = Instant::now();
    loop {
        let all_stopped = workers.iter().all(|(w, _)| w.pid().is_err());
        crate::pg::latch::nap(200);
        if last_tick.elapsed() >= Duration::from_secs(1) || all_stopped {
            let (done, failed) = Spi::get_two_with_args::<i64, i64>(
                "SELECT coalesce(pg_catalog.sum(done), 0)::bigint, coalesce(pg_catalog.sum(failed), 0)::bigint FROM perf_load_clients WHERE load_id = $1",
                &[load_id.into()],
            )
            .map(|(a, b)| (a.unwrap_or(0), b.unwrap_or(0)))
            .unwrap_or((0, 0));
            let secs = last_tick.elapsed().as_secs_f64();
            let db = monitor::sample_database(opts.latency_limit_ms);
            let (slow, waits) = (db.slow_queries, db.lock_waits);
            let cpu_now = monitor::read_cpu();
            let disk_now = monitor::read_disk_kb();
            let cpu = match (cpu_before, cpu_now) {
                (Some(a), Some(b)) => monitor::cpu_busy_pct(a, b),
                _ => None,
            };
            cpu_before = cpu_now;
            let snap = Snapshot {
                offset_ms: start.elapsed().as_secs_f64() * 1000.0,
                slow_queries: slow,
                lock_waits: waits,
                cache_hit_ratio: db.cache_hit_ratio,
                cpu_busy_pct: cpu,
                mem_used_pct: monitor::read_mem_used_pct(),
                connections: db.connections,
                blocks_read_per_s: monitor::per_second(blocks_before, db.blocks_read, secs),
                disk_read_kbs: monitor::per_second(disk_before.map(|d| d.0), disk_now.map(|d| d.0), secs),
                disk_write_kbs: monitor::per_second(disk_before.map(|d| d.1), disk_now.map(|d| d.1), secs),
            };
            disk_before = disk_now;
            blocks_before = db.blocks_read;
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

/// Aggregate the clients' samples into the run row, per-second intervals and snapshots.
fn record(
    opts: &LoadOptions,
    load_id: i64,
    started_at: Option<pgrx::datum::TimestampWithTimeZone>,
    snapshots: &[Snapshot],
) {
    // Every client has stopped: one still marked running was killed.
    reap_stale_clients();
    let errors = Spi::get_one_with_args::<String>(
        "SELECT pg_catalog.concat_ws('; ', \
                    (SELECT pg_catalog.string_agg('client ' || client || ': ' || error, '; ' ORDER BY client) \
                       FROM perf_load_clients WHERE load_id = $1 AND error IS NOT NULL), \
                    (SELECT nullif(pg_catalog.count(*) FILTER (WHERE status = 'finished'), $2) || ' of ' || $2 \
                            || ' clients finished; the others stopped early (see the server log)' \
                       FROM perf_load_clients WHERE load_id = $1))",
        &[load_id.into(), (opts.clients as i64).into()],
    )
    .ok()
    .flatten()
    .filter(|s| !s.is_empty());
    if let Some(e) = &errors {
        warning!("load test {load_id}: {e}");
    }
    Spi::run_with_args(
        "INSERT INTO perf_load_runs (load_id, run_id, started_at, script, clients, transactions_per_client, duration_ms, \
                ramp_up_ms, latency_limit_ms, transactions, failed, elapsed_ms, tps, lat_min_ms, lat_avg_ms, lat_stddev_ms, \
                lat_p50_ms, lat_p90_ms, lat_p95_ms, lat_p99_ms, lat_max_ms, over_limit_pct, clients_finished, notes) \
         SELECT $1, $2, coalesce($3, pg_catalog.clock_timestamp()), $4, $5, $6, $7, $8, $9, pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE NOT ok), \
                pg_catalog.max(offset_ms + latency_ms), pg_catalog.count(*) FILTER (WHERE ok) / nullif(pg_catalog.max(offset_ms + latency_ms) / 1000.0, 0), \
                pg_catalog.min(latency_ms), pg_catalog.avg(latency_ms), pg_catalog.stddev(latency_ms), \
                pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms), pg_catalog.percentile_cont(0.9) WITHIN GROUP (ORDER BY latency_ms), \
                pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms), pg_catalog.percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms), \
                pg_catalog.max(latency_ms), 100.0 * pg_catalog.count(*) FILTER (WHERE latency_ms > $9) / nullif(pg_catalog.count(*), 0), \
                (SELECT pg_catalog.count(*) FROM perf_load_clients WHERE load_id = $1 AND status = 'finished'), $10 \
           FROM perf_load_samples WHERE load_id = $1",
        &[
            load_id.into(),
            opts.run_id.into(),
            started_at.into(),
            opts.script.into(),
            opts.clients.into(),
            opts.transactions.into(),
            (opts.duration.as_millis() as i64).into(),
            (opts.ramp_up.as_millis() as i64).into(),
            opts.latency_limit_ms.into(),
            errors.into(),
        ],
    )
    .expect("perf_load_runs");
    Spi::run_with_args(
        "INSERT INTO perf_load_intervals (load_id, second, transactions, failed, tps, lat_avg_ms, lat_p95_ms) \
         SELECT $1, pg_catalog.floor(offset_ms / 1000)::int AS s, pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE NOT ok), pg_catalog.count(*), pg_catalog.avg(latency_ms), \
                pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) \
           FROM perf_load_samples WHERE load_id = $1 GROUP BY s",
        &[load_id.into()],
    )
    .expect("perf_load_intervals");
    for s in snapshots {
        Spi::run_with_args(
            "INSERT INTO perf_snapshots (load_id, run_id, offset_ms, slow_queries, lock_waits, cache_hit_ratio, cpu_busy_pct, mem_used_pct, \
                    connections, blocks_read_per_s, disk_read_kbs, disk_write_kbs) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                load_id.into(),
                opts.run_id.into(),
                s.offset_ms.into(),
                s.slow_queries.into(),
                s.lock_waits.into(),
                s.cache_hit_ratio.into(),
                s.cpu_busy_pct.into(),
                s.mem_used_pct.into(),
                s.connections.into(),
                s.blocks_read_per_s.into(),
                s.disk_read_kbs.into(),
                s.disk_write_kbs.into(),
            ],
        )
        .expect("perf_snapshots");
    }
}
