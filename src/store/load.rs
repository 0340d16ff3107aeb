//! Load tests in pg_perfsuite's tables: scripts, the clients' progress and samples,
//! the aggregated run row, per-second intervals and monitoring snapshots.

use crate::errors::OrInternal;
use pgrx::prelude::*;

/// A load script as the registry holds it.
pub struct Script {
    pub text: String,
    pub variables: serde_json::Value,
    /// Who wrote it (stamped by perf_stamp_author).
    pub author: String,
}

pub fn script(name: &str) -> Option<Script> {
    Spi::connect(|c| {
        let rows = c.select(
            "SELECT script, variables, author::text FROM perf_load_scripts WHERE name = $1",
            None,
            &[name.into()],
        )?;
        let mut found = None;
        for r in rows {
            found = Some(Script {
                text: r.get::<String>(1)?.unwrap_or_default(),
                variables: r.get::<pgrx::JsonB>(2)?.map(|j| j.0).unwrap_or(serde_json::Value::Null),
                author: r.get::<String>(3)?.unwrap_or_default(),
            });
        }
        Ok::<_, pgrx::spi::Error>(found)
    })
    .unwrap_or_else(|e| crate::errors::internal("reading perf_load_scripts", e))
}

pub fn next_load_id() -> i64 {
    Spi::get_one::<i64>("SELECT pg_catalog.nextval('perf_load_runs_load_id_seq'::pg_catalog.regclass)")
        .unwrap_or_else(|e| crate::errors::internal("numbering the load test", e))
        .or_internal("nextval returns a value")
}

/// Clients still marked running whose process is gone (killed, or the server
/// restarted) are marked aborted, as stale runs are.
pub fn reap_stale_clients() {
    Spi::run(
        "UPDATE perf_load_clients c SET status = 'aborted', updated_at = pg_catalog.clock_timestamp(), \
                error = coalesce(error, 'its process (PID ' || pid::text || ') ended before the client finished') \
          WHERE status = 'running' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a \
                                                     WHERE a.pid = c.pid AND a.backend_type = 'pg_perfsuite')",
    )
    .or_internal("reap stale load clients");
}

/// Transactions done and failed so far over all clients of a load test.
pub fn client_totals(load_id: i64) -> (i64, i64) {
    Spi::get_two_with_args::<i64, i64>(
        "SELECT coalesce(pg_catalog.sum(done), 0)::bigint, coalesce(pg_catalog.sum(failed), 0)::bigint \
           FROM perf_load_clients WHERE load_id = $1",
        &[load_id.into()],
    )
    .map(|(a, b)| (a.unwrap_or(0), b.unwrap_or(0)))
    .unwrap_or((0, 0))
}

/// One client's progress (committed by the client, once a second and at the end).
pub fn report_client(load_id: i64, client: i32, done: i64, failed: i64, status: &str, error: Option<&str>) {
    Spi::run_with_args(
        "INSERT INTO perf_load_clients (load_id, client, pid, done, failed, status, error, updated_at) \
         VALUES ($1, $2, pg_catalog.pg_backend_pid(), $3, $4, $5, $6, pg_catalog.clock_timestamp()) \
         ON CONFLICT (load_id, client) DO UPDATE SET done = $3, failed = $4, status = $5, \
                error = coalesce($6, perf_load_clients.error), updated_at = pg_catalog.clock_timestamp()",
        &[load_id.into(), client.into(), done.into(), failed.into(), status.into(), error.into()],
    )
    .or_internal("perf_load_clients");
}

/// Every transaction of one client: its start offset, latency and outcome.
pub fn write_samples(load_id: i64, client: i32, offsets: Vec<f64>, latencies: Vec<f64>, oks: Vec<bool>) {
    Spi::run_with_args(
        "INSERT INTO perf_load_samples (load_id, client, txn, offset_ms, latency_ms, ok) \
         SELECT $1, $2, t.n, t.o, t.l, t.k \
           FROM ROWS FROM (pg_catalog.unnest($3::float8[]), pg_catalog.unnest($4::float8[]), pg_catalog.unnest($5::bool[])) \
                WITH ORDINALITY AS t(o, l, k, n)",
        &[load_id.into(), client.into(), offsets.into(), latencies.into(), oks.into()],
    )
    .or_internal("perf_load_samples");
}

/// Calls and total time per statement of one client.
pub fn write_statements(load_id: i64, client: i32, sqls: Vec<String>, calls: Vec<i64>, totals: Vec<f64>) {
    Spi::run_with_args(
        "INSERT INTO perf_load_statements (load_id, client, statement_no, sql, calls, total_ms) \
         SELECT $1, $2, t.n, t.s, t.c, t.m \
           FROM ROWS FROM (pg_catalog.unnest($3::text[]), pg_catalog.unnest($4::int8[]), pg_catalog.unnest($5::float8[])) \
                WITH ORDINALITY AS t(s, c, m, n)",
        &[load_id.into(), client.into(), sqls.into(), calls.into(), totals.into()],
    )
    .or_internal("perf_load_statements");
}

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub offset_ms: f64,
    pub slow_queries: i64,
    pub lock_waits: i64,
    pub cache_hit_ratio: Option<f64>,
    pub cpu_busy_pct: Option<f64>,
    pub mem_used_pct: Option<f64>,
    /// Client connections now (background workers not counted).
    pub connections: i64,
    /// Blocks this database read into shared buffers per second (from the OS or disk).
    pub blocks_read_per_s: Option<f64>,
    pub disk_read_kbs: Option<f64>,
    pub disk_write_kbs: Option<f64>,
}

/// What a load test's row records besides what its samples give.
pub struct LoadRecord<'a> {
    pub load_id: i64,
    pub run_id: Option<i64>,
    pub started_at: Option<pgrx::datum::TimestampWithTimeZone>,
    pub script: &'a str,
    pub clients: i32,
    pub transactions: i32,
    pub duration_ms: i64,
    pub ramp_up_ms: i64,
    pub latency_limit_ms: f64,
}

/// Aggregate the clients' samples into the run row, per-second intervals and snapshots.
pub fn record(r: &LoadRecord, snapshots: &[Snapshot]) {
    let load_id = r.load_id;
    // Every client has stopped: one still marked running was killed.
    reap_stale_clients();
    let errors = Spi::get_one_with_args::<String>(
        "SELECT pg_catalog.concat_ws('; ', \
                    (SELECT pg_catalog.string_agg('client ' || client::text || ': ' || error, '; ' ORDER BY client) \
                       FROM perf_load_clients WHERE load_id = $1 AND error IS NOT NULL), \
                    (SELECT nullif(pg_catalog.count(*) FILTER (WHERE status = 'finished'), $2)::text || ' of ' || $2::text \
                            || ' clients finished; the others stopped early (see the server log)' \
                       FROM perf_load_clients WHERE load_id = $1))",
        &[load_id.into(), (r.clients as i64).into()],
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
            r.run_id.into(),
            r.started_at.into(),
            r.script.into(),
            r.clients.into(),
            r.transactions.into(),
            r.duration_ms.into(),
            r.ramp_up_ms.into(),
            r.latency_limit_ms.into(),
            errors.into(),
        ],
    )
    .or_internal("perf_load_runs");
    Spi::run_with_args(
        "INSERT INTO perf_load_intervals (load_id, second, transactions, failed, tps, lat_avg_ms, lat_p95_ms, active_clients) \
         SELECT $1, pg_catalog.floor(offset_ms / 1000)::int AS s, pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE NOT ok), pg_catalog.count(*), pg_catalog.avg(latency_ms), \
                pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms), pg_catalog.count(DISTINCT client) \
           FROM perf_load_samples WHERE load_id = $1 GROUP BY s",
        &[load_id.into()],
    )
    .or_internal("perf_load_intervals");
    for s in snapshots {
        insert_snapshot(Some(load_id), r.run_id, None, s);
    }
}

/// One monitoring sample: of a load test (once a second), or of one test of a run.
pub fn insert_snapshot(load_id: Option<i64>, run_id: Option<i64>, test_id: Option<&str>, s: &Snapshot) {
    Spi::run_with_args(
        "INSERT INTO perf_snapshots (load_id, run_id, test_id, offset_ms, slow_queries, lock_waits, cache_hit_ratio, \
                cpu_busy_pct, mem_used_pct, connections, blocks_read_per_s, disk_read_kbs, disk_write_kbs) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        &[
            load_id.into(),
            run_id.into(),
            test_id.into(),
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
    .or_internal("perf_snapshots");
}

/// Tie a load test's samples to the test of the run it served.
pub fn tag_snapshots(load_id: i64, test_id: &str) {
    Spi::run_with_args("UPDATE perf_snapshots SET test_id = $2 WHERE load_id = $1", &[load_id.into(), test_id.into()])
        .or_internal("tag perf_snapshots");
}

/// (test_id, CPU %, memory %) of every sample of a run, for the plan's thresholds.
pub fn run_samples(run_id: i64) -> Vec<(String, Option<f64>, Option<f64>)> {
    Spi::connect(|c| {
        c.select(
            "SELECT coalesce(test_id, '?'), cpu_busy_pct::float8, mem_used_pct::float8 FROM perf_snapshots \
              WHERE run_id = $1 ORDER BY taken_at",
            None,
            &[run_id.into()],
        )?
        .map(|r| Ok((r.get::<String>(1)?.unwrap_or_default(), r.get::<f64>(2)?, r.get::<f64>(3)?)))
        .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .or_internal("read perf_snapshots")
}

/// A load test's summary row.
#[derive(Debug, Default)]
pub struct Summary {
    pub clients: i32,
    pub transactions: i64,
    pub failed: i64,
    pub tps: Option<f64>,
    pub min_ms: Option<f64>,
    pub avg_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub stddev_ms: Option<f64>,
    pub over_limit_pct: Option<f64>,
    pub clients_finished: i64,
    pub notes: Option<String>,
}

pub fn summary(load_id: i64) -> Summary {
    Spi::connect(|c| {
        let rows = c.select(
            "SELECT clients, transactions, failed, tps, lat_min_ms, lat_avg_ms, lat_p50_ms, lat_p95_ms, lat_p99_ms, \
                    lat_max_ms, lat_stddev_ms, over_limit_pct, clients_finished, notes \
               FROM perf_load_runs WHERE load_id = $1",
            None,
            &[load_id.into()],
        )?;
        let r = rows.first();
        Ok::<_, pgrx::spi::Error>(Summary {
            clients: r.get(1)?.unwrap_or(0),
            transactions: r.get(2)?.unwrap_or(0),
            failed: r.get(3)?.unwrap_or(0),
            tps: r.get(4)?,
            min_ms: r.get(5)?,
            avg_ms: r.get(6)?,
            p50_ms: r.get(7)?,
            p95_ms: r.get(8)?,
            p99_ms: r.get(9)?,
            max_ms: r.get(10)?,
            stddev_ms: r.get(11)?,
            over_limit_pct: r.get(12)?,
            clients_finished: r.get(13)?.unwrap_or(0),
            notes: r.get(14)?,
        })
    })
    .unwrap_or_else(|e| crate::errors::internal("reading perf_load_runs", e))
}
