//! One load-test client: a background worker that runs the script's statements as one
//! transaction, again and again (a count or until a deadline), like one pgbench client.
//! Plans are prepared once and kept across transactions. With a rate the client follows
//! an open-loop schedule (workload::schedule): each transaction has a time it is due, and its
//! response time counts from then, so a stall of the server shows in the latency of
//! every transaction that was due during it (no coordinated omission). Latencies go
//! into per-second histograms (workload::recorder), handed over once a second with the
//! progress (so the coordinator can print pgbench-style progress lines) and at the end
//! with a bounded sample of transactions.

use pgrx::bgworkers::BackgroundWorker;
use pgrx::prelude::*;
use pgrx::spi::OwnedPreparedStatement;
use rand::SeedableRng;
use std::time::{Duration, Instant};

use super::script::{self, Statement};
use crate::errors::{bad_argument, raise, OrInternal, SqlError};
use crate::pg::catalog::{extension_schema_q, own_schema_q};
use crate::store::load as store;
use crate::workload::recorder::{ClientSecond, Recorder, Sample};
use crate::workload::schedule::{Arrivals, Schedule};
use pgrx::PgSqlErrorCode as Code;

/// What one client is asked to do (from its Job).
pub struct ClientJob<'a> {
    pub load_id: i64,
    pub client: i32,
    pub script_name: &'a str,
    /// The schema holding the tables under test.
    pub schema: &'a str,
    /// Transactions to run; 0 means run until `duration` (which, when set, also caps a
    /// transaction count).
    pub transactions: i32,
    pub duration: Duration,
    /// Wait this long before the first transaction (ramp-up).
    pub start_delay: Duration,
    /// This client's share of the target rate (pgbench -R, divided among the clients):
    /// how transactions arrive and their mean gap; None runs them back to back.
    pub schedule: Option<(Arrivals, Duration)>,
    /// With a schedule: a transaction already this late when its turn comes is skipped
    /// (pgbench --latency-limit with -R).
    pub skip_late: Option<Duration>,
}

fn load_script(name: &str) -> (Vec<Statement>, serde_json::Value) {
    // Checked by the coordinator before the clients start; a script deleted or
    // changed since then is the user's doing and gets a clear error.
    let script = store::script(name).unwrap_or_else(|| {
        raise(Code::ERRCODE_UNDEFINED_OBJECT, format!("load script \"{name}\" does not exist (any more)"), None)
    });
    // The role this client acts as was decided for the author the coordinator saw; the
    // script read now may have been rewritten by another role since.
    if !crate::pg::roles::author_may_act_as_current(&script.author) {
        raise(
            Code::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!(
                "load script \"{name}\" is now by role \"{}\", which may not act as this client's role; not run",
                script.author
            ),
            None,
        );
    }
    let statements =
        script::parse(&script.text).unwrap_or_else(|e| bad_argument(format!("load script \"{name}\": {e}"), None));
    (statements, script.variables)
}

fn prepare(statements: &[Statement]) -> Vec<OwnedPreparedStatement> {
    Spi::connect(|c| {
        statements
            .iter()
            .map(|s| {
                let types = vec![PgOid::BuiltIn(PgBuiltInOids::TEXTOID); s.vars.len()];
                c.prepare_mut(s.sql.as_str(), &types).map(|p| p.keep())
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .unwrap_or_else(|e| crate::errors::internal("preparing the load script", e))
}

/// The plan's unqualified SQL finds the tables, then pg_trgm's operators, then
/// pg_perfsuite's own tables (where this client reports).
fn set_search_path(schema: &str) {
    let path = [
        Some("pg_catalog".to_string()),
        Some(pgrx::spi::quote_identifier(schema)),
        extension_schema_q("pg_trgm"),
        Some(own_schema_q()),
        Some("pg_temp".to_string()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    Spi::run_with_args("SELECT pg_catalog.set_config('search_path', $1, false)", &[path.into()])
        .or_internal("search_path");
}

/// One transaction of the script, timed per statement; the error (message and
/// SQLSTATE) when it failed. Cancel and shutdown stop the client, as they would stop a
/// pgbench client.
fn one_transaction(
    prepared: &[OwnedPreparedStatement],
    args: &[Vec<String>],
    per_statement: &mut [(i64, f64)],
) -> Option<String> {
    PgTryBuilder::new(std::panic::AssertUnwindSafe(|| {
        // One SPI connection per transaction, not per statement: this is the timed path.
        BackgroundWorker::transaction(std::panic::AssertUnwindSafe(|| {
            Spi::connect_mut(|c| {
                for (i, (stmt, a)) in prepared.iter().zip(args).enumerate() {
                    let s0 = Instant::now();
                    let datums: Vec<pgrx::datum::DatumWithOid> = a.iter().map(|v| v.as_str().into()).collect();
                    c.update(stmt, None, &datums)?;
                    per_statement[i].0 += 1;
                    per_statement[i].1 += s0.elapsed().as_secs_f64() * 1000.0;
                }
                Ok::<_, pgrx::spi::Error>(())
            })
            .unwrap_or_else(|e| crate::errors::internal("running a load transaction", e));
        }));
        None
    }))
    .catch_others(|e| {
        let err = SqlError::from_caught(&e);
        if err.is_cancel() || err.is_shutdown() {
            e.rethrow()
        }
        // End the failed transaction before the next one.
        crate::pg::xact::abort_current_transaction();
        Some(format!("{} ({})", err.message, err.sqlstate()))
    })
    .execute()
}

pub fn run(job: &ClientJob) {
    // The load test's clock: the coordinator launches every client at its start, one
    // after another (each launch waits for the worker to start), so offsets from here
    // put the clients on one time line up to that launch time (per-second intervals
    // show the ramp-up) and a duration ends for all at about the same moment, as in
    // JMeter.
    let launched = Instant::now();
    BackgroundWorker::transaction(|| set_search_path(job.schema));
    let (statements, values) = BackgroundWorker::transaction(|| load_script(job.script_name));
    let prepared = BackgroundWorker::transaction(|| prepare(&statements));
    report_progress(job, &Progress::default(), &[], "running", None);
    // Ramp-up and pacing wait on the latch: cancel, terminate and ProcSignalBarriers
    // (DROP DATABASE anywhere in the cluster) are served at once.
    crate::pg::latch::sleep_for(job.start_delay);
    // Variables drawn from a generator seeded by the client's number only: client N of
    // every load test draws the same sequence, so runs of the same build put the same
    // workload on the same state (only the interleaving of the clients differs).
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(job.client as u64);
    let started = Instant::now();
    let mut schedule = job.schedule.map(|(arrivals, gap)| Schedule::new(arrivals, gap, job.client));
    let deadline = launched + job.duration;
    let timed = !job.duration.is_zero();
    let mut recorder = Recorder::new();
    let mut per_statement = vec![(0i64, 0f64); statements.len()];
    let mut progress = Progress::default();
    let mut first_error: Option<String> = None;
    let mut last_report = Instant::now();
    let mut n = 0;
    while !(job.transactions > 0 && n >= job.transactions) {
        // When this transaction is due: on the schedule, or now (back to back).
        let due = match schedule.as_mut() {
            Some(s) => started + s.next().unwrap_or_default(),
            None => Instant::now(),
        };
        if timed && due >= deadline {
            break;
        }
        crate::pg::latch::sleep_until(due);
        if timed && Instant::now() >= deadline {
            // Due before the end but never started: the server was behind. Counted, so
            // an overloaded test cannot look like one that kept up.
            let left = if job.transactions > 0 { (job.transactions - n - 1).max(0) as u64 } else { u64::MAX };
            let more =
                schedule.as_mut().map_or(0, |s| s.count_before(deadline.saturating_duration_since(started), left));
            progress.behind += 1 + i64::try_from(more).unwrap_or(i64::MAX);
            break;
        }
        n += 1;
        pgrx::check_for_interrupts!();
        let begin = Instant::now();
        let lag = begin - due;
        if job.skip_late.is_some_and(|limit| lag > limit) {
            recorder.skip(due - launched);
            progress.skipped += 1;
            continue;
        }
        let args: Vec<Vec<String>> = statements
            .iter()
            .map(|s| script::pick(&s.vars, &values, &mut rng).unwrap_or_else(|e| bad_argument(e, None)))
            .collect();
        let outcome = one_transaction(&prepared, &args, &mut per_statement);
        recorder.record(due - launched, lag, begin.elapsed(), outcome.is_none());
        progress.done += 1;
        if let Some(e) = outcome {
            progress.failed += 1;
            first_error.get_or_insert(e);
        }
        if last_report.elapsed() >= Duration::from_secs(1) {
            // The seconds closed so far go with the progress: a client holds one open
            // second in memory, however long the test.
            report_progress(job, &progress, &recorder.take_closed(), "running", first_error.as_deref());
            last_report = Instant::now();
        }
    }
    let (first, last) = recorder.span();
    progress.first_ms = first.map(|d| d.as_secs_f64() * 1000.0);
    progress.last_ms = last.map(|d| d.as_secs_f64() * 1000.0);
    let (seconds, sample) = recorder.finish();
    write_results(job, &sample, &statements, &per_statement);
    report_progress(job, &progress, &seconds, "finished", first_error.as_deref());
}

/// A client's counters, committed once a second and at the end.
#[derive(Default)]
struct Progress {
    done: i64,
    failed: i64,
    skipped: i64,
    behind: i64,
    first_ms: Option<f64>,
    last_ms: Option<f64>,
}

/// The client's counters and the seconds it closed since the last report, in one
/// transaction committed without waiting for its WAL to reach the disk: these rows are
/// worth losing in a crash rather than adding a flush a second per client to the load
/// being measured (the setting is local to this transaction).
fn report_progress(job: &ClientJob, p: &Progress, seconds: &[ClientSecond], status: &str, error: Option<&str>) {
    BackgroundWorker::transaction(|| {
        crate::pg::guc::set_local("synchronous_commit", "off");
        if !seconds.is_empty() {
            store::write_client_seconds(job.load_id, job.client, seconds);
        }
        store::report_client(&store::ClientProgress {
            load_id: job.load_id,
            client: job.client,
            done: p.done,
            failed: p.failed,
            skipped: p.skipped,
            behind: p.behind,
            first_ms: p.first_ms,
            last_ms: p.last_ms,
            status,
            error,
        })
    });
}

fn write_results(job: &ClientJob, sample: &[Sample], statements: &[Statement], per_statement: &[(i64, f64)]) {
    BackgroundWorker::transaction(|| {
        store::write_sample(job.load_id, job.client, sample);
        store::write_statements(
            job.load_id,
            job.client,
            statements.iter().map(|s| s.sql.clone()).collect(),
            per_statement.iter().map(|p| p.0).collect(),
            per_statement.iter().map(|p| p.1).collect(),
        );
    });
}
