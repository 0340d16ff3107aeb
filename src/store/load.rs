//! Load tests in pg_perfsuite's tables: scripts, the clients' progress, their seconds
//! (histograms handed to the coordinator) and sample, the merged run row with its
//! histograms, per-second intervals and monitoring snapshots.

use crate::errors::OrInternal;
use crate::workload::aggregate::{Second, Totals};
use crate::workload::histogram::Latencies;
use crate::workload::recorder::{ClientSecond, Sample};
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
/// restarted) are marked aborted, as stale runs are. A process is looked for by its
/// pid alone: a role that is not a superuser does not see other roles' backend types
/// in pg_stat_activity, and would otherwise take another role's live clients for dead.
pub fn reap_stale_clients() {
    Spi::run(
        "UPDATE perf_load_clients c SET status = 'aborted', updated_at = pg_catalog.clock_timestamp(), \
                error = coalesce(error, 'its process (PID ' || pid::text || ') ended before the client finished') \
          WHERE status = 'running' AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid = c.pid)",
    )
    .or_internal("reap stale load clients");
}

/// What the test's own clients counted (transactions run, and skipped), from the
/// progress rows of the processes launched as them: checked against what their
/// hand-over rows hold once merged.
pub fn clients_counted(load_id: i64, clients: &[(i32, i32)]) -> (i64, i64) {
    let numbers: Vec<i32> = clients.iter().map(|c| c.0).collect();
    let pids: Vec<i32> = clients.iter().map(|c| c.1).collect();
    Spi::get_two_with_args::<i64, i64>(
        "SELECT coalesce(pg_catalog.sum(c.done), 0)::bigint, coalesce(pg_catalog.sum(c.skipped), 0)::bigint \
           FROM perf_load_clients c \
           JOIN ROWS FROM (pg_catalog.unnest($2::int4[]), pg_catalog.unnest($3::int4[])) AS k(client, pid) \
                ON k.client = c.client AND k.pid = c.pid \
          WHERE c.load_id = $1",
        &[load_id.into(), numbers.into(), pids.into()],
    )
    .map(|(a, b)| (a.unwrap_or(0), b.unwrap_or(0)))
    .or_internal("perf_load_clients")
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

/// One client's counters (committed by the client, once a second and at the end).
pub struct ClientProgress<'a> {
    pub load_id: i64,
    pub client: i32,
    pub done: i64,
    pub failed: i64,
    pub skipped: i64,
    pub behind: i64,
    /// When its first transaction was due and its last one ended, from the test's start.
    pub first_ms: Option<f64>,
    pub last_ms: Option<f64>,
    pub status: &'a str,
    pub error: Option<&'a str>,
}

pub fn report_client(p: &ClientProgress) {
    Spi::run_with_args(
        "INSERT INTO perf_load_clients (load_id, client, pid, done, failed, status, error, updated_at, skipped, behind, first_ms, last_ms) \
         VALUES ($1, $2, pg_catalog.pg_backend_pid(), $3, $4, $5, $6, pg_catalog.clock_timestamp(), $7, $8, $9, $10) \
         ON CONFLICT (load_id, client) DO UPDATE SET done = $3, failed = $4, status = $5, \
                error = coalesce($6, perf_load_clients.error), updated_at = pg_catalog.clock_timestamp(), \
                skipped = $7, behind = $8, first_ms = $9, last_ms = $10",
        &[
            p.load_id.into(),
            p.client.into(),
            p.done.into(),
            p.failed.into(),
            p.status.into(),
            p.error.into(),
            p.skipped.into(),
            p.behind.into(),
            p.first_ms.into(),
            p.last_ms.into(),
        ],
    )
    .or_internal("perf_load_clients");
}

/// One client's seconds, handed to the coordinator (which merges and removes them).
pub fn write_client_seconds(load_id: i64, client: i32, seconds: &[ClientSecond]) {
    let col = |f: fn(&ClientSecond) -> i64| seconds.iter().map(f).collect::<Vec<i64>>();
    let hist = |f: fn(&ClientSecond) -> &Vec<u8>| seconds.iter().map(|s| f(s).clone()).collect::<Vec<Vec<u8>>>();
    Spi::run_with_args(
        "INSERT INTO perf_load_client_seconds (load_id, client, second, done, failed, skipped, response, service, lag, pid) \
         SELECT $1, $2, t.s, t.d, t.f, t.k, t.r, t.v, t.l, pg_catalog.pg_backend_pid() \
           FROM ROWS FROM (pg_catalog.unnest($3::int4[]), pg_catalog.unnest($4::int8[]), pg_catalog.unnest($5::int8[]), \
                           pg_catalog.unnest($6::int8[]), pg_catalog.unnest($7::bytea[]), pg_catalog.unnest($8::bytea[]), \
                           pg_catalog.unnest($9::bytea[])) AS t(s, d, f, k, r, v, l)",
        &[
            load_id.into(),
            client.into(),
            seconds.iter().map(|s| s.second).collect::<Vec<i32>>().into(),
            col(|s| s.done).into(),
            col(|s| s.failed).into(),
            col(|s| s.skipped).into(),
            hist(|s| &s.response).into(),
            hist(|s| &s.service).into(),
            hist(|s| &s.lag).into(),
        ],
    )
    .or_internal("perf_load_client_seconds");
}

/// A hand-over row larger than this (its three histograms together) is not one of ours:
/// a client's second encodes in a few kilobytes at most. Such a row is not read.
const MAX_HAND_OVER_BYTES: i32 = 64 * 1024;
/// Hand-over rows are read this many at a time.
const HAND_OVER_BATCH: i64 = 500;

/// One hand-over row as read: None when it was too large to be one of ours.
pub type HandedOver = (i32, Option<ClientSecond>);

/// Every second the load test's own clients handed over, in order of second then
/// client, a batch at a time (memory stays bounded whatever the table holds). Rows are
/// stamped with the backend that wrote them (perf_stamp_backend): only those written
/// by the process each client number was launched as are taken. Returns how many rows
/// for this load test were written by anyone else.
pub fn for_each_client_second(load_id: i64, clients: &[(i32, i32)], mut f: impl FnMut(HandedOver)) -> i64 {
    let numbers: Vec<i32> = clients.iter().map(|c| c.0).collect();
    let pids: Vec<i32> = clients.iter().map(|c| c.1).collect();
    let mut after: (i32, i32) = (i32::MIN, i32::MIN);
    loop {
        let batch: Vec<(i32, i32, Option<ClientSecond>)> = Spi::connect(|c| {
            c.select(
                "SELECT h.second, h.client, h.done, h.failed, h.skipped, NOT z.fits, \
                        CASE WHEN z.fits THEN h.response END, CASE WHEN z.fits THEN h.service END, \
                        CASE WHEN z.fits THEN h.lag END \
                   FROM perf_load_client_seconds h \
                   JOIN ROWS FROM (pg_catalog.unnest($2::int4[]), pg_catalog.unnest($3::int4[])) AS k(client, pid) \
                        ON k.client = h.client AND k.pid = h.pid \
                  CROSS JOIN LATERAL (SELECT pg_catalog.length(h.response) + pg_catalog.length(h.service) \
                                             + pg_catalog.length(h.lag) <= $6 AS fits) z \
                  WHERE h.load_id = $1 AND (h.second, h.client) > ($4, $5) \
                  ORDER BY h.second, h.client LIMIT $7",
                None,
                &[
                    load_id.into(),
                    numbers.clone().into(),
                    pids.clone().into(),
                    after.0.into(),
                    after.1.into(),
                    MAX_HAND_OVER_BYTES.into(),
                    HAND_OVER_BATCH.into(),
                ],
            )?
            .map(|r| {
                let (second, client) = (r.get::<i32>(1)?.unwrap_or(0), r.get::<i32>(2)?.unwrap_or(0));
                let row = (!r.get::<bool>(6)?.unwrap_or(true)).then(|| -> Result<ClientSecond, pgrx::spi::Error> {
                    Ok(ClientSecond {
                        second,
                        done: r.get(3)?.unwrap_or(0),
                        failed: r.get(4)?.unwrap_or(0),
                        skipped: r.get(5)?.unwrap_or(0),
                        response: r.get(7)?.unwrap_or_default(),
                        service: r.get(8)?.unwrap_or_default(),
                        lag: r.get(9)?.unwrap_or_default(),
                    })
                });
                Ok((second, client, row.transpose()?))
            })
            .collect::<Result<Vec<_>, pgrx::spi::Error>>()
        })
        .or_internal("reading perf_load_client_seconds");
        let Some(last) = batch.last() else { break };
        after = (last.0, last.1);
        let full = batch.len() as i64 == HAND_OVER_BATCH;
        for (_, client, row) in batch {
            f((client, row));
        }
        if !full {
            break;
        }
    }
    Spi::get_one_with_args::<i64>(
        "SELECT pg_catalog.count(*) FROM perf_load_client_seconds h WHERE h.load_id = $1 \
            AND NOT EXISTS (SELECT 1 FROM ROWS FROM (pg_catalog.unnest($2::int4[]), pg_catalog.unnest($3::int4[])) AS k(client, pid) \
                             WHERE k.client = h.client AND k.pid = h.pid)",
        &[load_id.into(), numbers.into(), pids.into()],
    )
    .or_internal("counting foreign hand-over rows")
    .unwrap_or(0)
}

/// Before a load test starts: rows already there for its number were planted (the
/// sequence is readable), and go.
pub fn clear_for(load_id: i64) {
    Spi::run_with_args(
        "DELETE FROM perf_load_client_seconds WHERE load_id = $1; \
         DELETE FROM perf_load_clients WHERE load_id = $1; \
         DELETE FROM perf_load_samples WHERE load_id = $1; \
         DELETE FROM perf_load_statements WHERE load_id = $1",
        &[load_id.into()],
    )
    .or_internal("clearing the load test's number");
}

/// Load tests other than `load_id` with hand-over rows still waiting to be merged.
pub fn handed_over_elsewhere(load_id: i64) -> Vec<i64> {
    Spi::connect(|c| {
        c.select(
            "SELECT DISTINCT load_id FROM perf_load_client_seconds WHERE load_id <> $1 ORDER BY 1",
            None,
            &[load_id.into()],
        )?
        .map(|r| Ok(r.get::<i64>(1)?.unwrap_or(0)))
        .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .or_internal("reading perf_load_client_seconds")
}

/// The hand-over rows of a load test whose coordinator is gone (it was cancelled: it
/// will never merge them).
pub fn drop_hand_over(load_id: i64) {
    Spi::run_with_args("DELETE FROM perf_load_client_seconds WHERE load_id = $1", &[load_id.into()])
        .or_internal("perf_load_client_seconds");
}

/// The first transactions of one client: when each was due, its response and service time.
pub fn write_sample(load_id: i64, client: i32, sample: &[Sample]) {
    Spi::run_with_args(
        "INSERT INTO perf_load_samples (load_id, client, txn, offset_ms, latency_ms, ok, service_ms) \
         SELECT $1, $2, t.n, t.o, t.l, t.k, t.s \
           FROM ROWS FROM (pg_catalog.unnest($3::int8[]), pg_catalog.unnest($4::float8[]), pg_catalog.unnest($5::float8[]), \
                           pg_catalog.unnest($6::bool[]), pg_catalog.unnest($7::float8[])) AS t(n, o, l, k, s)",
        &[
            load_id.into(),
            client.into(),
            sample.iter().map(|s| s.txn).collect::<Vec<i64>>().into(),
            sample.iter().map(|s| s.due_ms).collect::<Vec<f64>>().into(),
            sample.iter().map(|s| s.lag_ms + s.service_ms).collect::<Vec<f64>>().into(),
            sample.iter().map(|s| s.ok).collect::<Vec<bool>>().into(),
            sample.iter().map(|s| s.service_ms).collect::<Vec<f64>>().into(),
        ],
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

/// What a load test's row records besides what its clients measured.
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
    /// Offered rate over all clients, how arrivals were drawn, and whether late ones
    /// were skipped.
    pub rate: Option<f64>,
    pub arrivals: Option<&'a str>,
    pub skip_late: bool,
}

/// The load test's row, before its seconds are written (they refer to it); `record`
/// fills in its figures.
pub fn open_run(r: &LoadRecord) {
    Spi::run_with_args(
        "INSERT INTO perf_load_runs (load_id, run_id, started_at, script, clients, transactions_per_client, duration_ms, \
                ramp_up_ms, latency_limit_ms, rate, arrivals, skip_late) \
         VALUES ($1, $2, coalesce($3, pg_catalog.clock_timestamp()), $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            r.load_id.into(),
            r.run_id.into(),
            r.started_at.into(),
            r.script.into(),
            r.clients.into(),
            r.transactions.into(),
            r.duration_ms.into(),
            r.ramp_up_ms.into(),
            r.latency_limit_ms.into(),
            r.rate.into(),
            r.arrivals.into(),
            r.skip_late.into(),
        ],
    )
    .or_internal("perf_load_runs");
}

/// Percentiles of a histogram as the columns hold them.
fn figures(h: &Latencies) -> [Option<f64>; 8] {
    [
        h.min_ms(),
        h.mean_ms(),
        h.stddev_ms(),
        h.quantile_ms(0.5),
        h.quantile_ms(0.9),
        h.quantile_ms(0.95),
        h.quantile_ms(0.99),
        h.max_ms(),
    ]
}

/// Record a load test whose clients have all stopped and whose seconds were written
/// (`write_interval`): the run row from the whole test's histograms, the monitoring
/// snapshots; then the clients' hand-over rows go. `said`: what the coordinator found
/// while merging (rows left out, counts that disagree), for the notes and a WARNING.
pub fn record(r: &LoadRecord, m: &Totals, said: &[String], snapshots: &[Snapshot]) {
    let load_id = r.load_id;
    // Every client has stopped: one still marked running was killed.
    reap_stale_clients();
    let mut errors = Spi::get_one_with_args::<String>(
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
    if m.unreadable > 0 {
        let e = format!("{} client seconds had histograms pg_perfsuite did not write and were left out", m.unreadable);
        errors = Some(errors.map(|x| format!("{x}; {e}")).unwrap_or(e));
    }
    for e in said {
        errors = Some(errors.map(|x| format!("{x}; {e}")).unwrap_or_else(|| e.clone()));
    }
    if let Some(e) = &errors {
        warning!("load test {load_id}: {e}");
    }
    let [min, avg, stddev, p50, p90, p95, p99, max] = figures(&m.response);
    let [_, s_avg, _, s_p50, _, s_p95, s_p99, s_max] = figures(&m.service);
    let [_, l_avg, _, _, _, l_p95, _, l_max] = figures(&m.lag);
    let over = (m.done > 0).then(|| 100.0 * m.response.count_over_ms(r.latency_limit_ms) as f64 / m.done as f64);
    let args: Vec<pgrx::datum::DatumWithOid> = vec![
        load_id.into(),
        (m.done + m.failed).into(),
        m.failed.into(),
        min.into(),
        avg.into(),
        stddev.into(),
        p50.into(),
        p90.into(),
        p95.into(),
        p99.into(),
        max.into(),
        over.into(),
        errors.into(),
        m.skipped.into(),
        s_avg.into(),
        s_p50.into(),
        s_p95.into(),
        s_p99.into(),
        s_max.into(),
        l_avg.into(),
        l_p95.into(),
        l_max.into(),
        m.response.encode().into(),
        m.service.encode().into(),
        m.lag.encode().into(),
        m.done.into(),
    ];
    Spi::run_with_args(
        "UPDATE perf_load_runs SET transactions = $2, failed = $3, elapsed_ms = c.elapsed, \
                tps = $26 / nullif(c.elapsed / 1000.0, 0), lat_min_ms = $4, lat_avg_ms = $5, lat_stddev_ms = $6, \
                lat_p50_ms = $7, lat_p90_ms = $8, lat_p95_ms = $9, lat_p99_ms = $10, lat_max_ms = $11, \
                over_limit_pct = $12, clients_finished = c.finished, notes = $13, skipped = $14, behind = c.behind, \
                service_avg_ms = $15, service_p50_ms = $16, service_p95_ms = $17, service_p99_ms = $18, \
                service_max_ms = $19, lag_avg_ms = $20, lag_p95_ms = $21, lag_max_ms = $22, response_hist = $23, \
                service_hist = $24, lag_hist = $25 \
           FROM (SELECT pg_catalog.max(last_ms) AS elapsed, coalesce(pg_catalog.sum(behind), 0)::bigint AS behind, \
                        pg_catalog.count(*) FILTER (WHERE status = 'finished') AS finished \
                   FROM perf_load_clients WHERE load_id = $1) c \
          WHERE perf_load_runs.load_id = $1",
        &args,
    )
    .or_internal("perf_load_runs");
    Spi::run_with_args("DELETE FROM perf_load_client_seconds WHERE load_id = $1", &[load_id.into()])
        .or_internal("perf_load_client_seconds");
    for s in snapshots {
        insert_snapshot(Some(load_id), r.run_id, None, s);
    }
}

/// One second of a load test, all clients merged.
pub fn write_interval(load_id: i64, s: &Second) {
    let [_, avg, _, _, _, p95, p99, _] = figures(&s.response);
    let [.., sp95, _, _] = figures(&s.service);
    let [.., lp95, _, _] = figures(&s.lag);
    Spi::run_with_args(
        "INSERT INTO perf_load_intervals (load_id, second, transactions, failed, tps, lat_avg_ms, lat_p95_ms, \
                active_clients, skipped, lat_p99_ms, service_p95_ms, lag_p95_ms, response_hist, service_hist, lag_hist) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        &[
            load_id.into(),
            s.second.into(),
            (s.done + s.failed).into(),
            s.failed.into(),
            (s.done as f64).into(),
            avg.into(),
            p95.into(),
            s.active_clients.into(),
            s.skipped.into(),
            p99.into(),
            sp95.into(),
            lp95.into(),
            s.response.encode().into(),
            s.service.encode().into(),
            s.lag.encode().into(),
        ],
    )
    .or_internal("perf_load_intervals");
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
    pub skipped: i64,
    pub behind: i64,
    pub service_p50_ms: Option<f64>,
    pub service_p95_ms: Option<f64>,
    pub service_p99_ms: Option<f64>,
    pub lag_p95_ms: Option<f64>,
}

pub fn summary(load_id: i64) -> Summary {
    Spi::connect(|c| {
        let rows = c.select(
            "SELECT clients, transactions, failed, tps, lat_min_ms, lat_avg_ms, lat_p50_ms, lat_p95_ms, lat_p99_ms, \
                    lat_max_ms, lat_stddev_ms, over_limit_pct, clients_finished, notes, coalesce(skipped, 0), \
                    coalesce(behind, 0), service_p50_ms, service_p95_ms, service_p99_ms, lag_p95_ms \
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
            skipped: r.get(15)?.unwrap_or(0),
            behind: r.get(16)?.unwrap_or(0),
            service_p50_ms: r.get(17)?,
            service_p95_ms: r.get(18)?,
            service_p99_ms: r.get(19)?,
            lag_p95_ms: r.get(20)?,
        })
    })
    .unwrap_or_else(|e| crate::errors::internal("reading perf_load_runs", e))
}
