//! Test 5.4: two sessions updating at once must not block each other. The second
//! session is a background worker ("hold"): it runs the test's `concurrent_sql` first,
//! keeps its transaction (and row locks) open, and waits on a handshake lock that this
//! session holds (one no SQL can take, so no other role can stall the test). This
//! session then runs the test's `sql` under `lock_timeout`, releases the handshake, and
//! both commit. Any wait on the other session's locks ends in a lock timeout: never a
//! hang.
//!
//! 5.4-same (the plan's "lock contention on hot records"): both sessions update the
//! same rows, and the test has `hold_ms`. The second session then stops waiting for
//! the handshake after `hold_ms` (its own lock_timeout) and commits, like a real
//! transaction that ends; this session's statement waits for those rows, and the wait
//! is measured. Its lock_timeout is `hold_ms` plus the acceptable band, so a wait that
//! outlasts the other transaction is still a block, never a hang.

use pgrx::bgworkers::DynamicBackgroundWorker;
use pgrx::prelude::*;
use std::time::{Duration, Instant};

use crate::errors::{OrInternal, SqlError};
use crate::pg::bgworker::start;
use crate::pg::job::Job;
use crate::pg::latch::nap;
use crate::pg::lock::{self, Key, Mode, Scope, PG_LOCKS_FILTER};
use crate::pg::subxact::{in_subtransaction, OnSuccess};
use crate::runner::context;
use crate::runner::timed;
use crate::suite::model::TestDef;
use crate::sut::Target;

/// How long the second session may take to reach its hold.
const HOLD_TIMEOUT: Duration = Duration::from_secs(30);

pub enum Outcome {
    /// This session's statement finished after `elapsed_ms` (with `hold_ms`, that
    /// includes its wait for the other session's transaction).
    NoWait { elapsed_ms: f64, other_pid: i32, other_rows: i64 },
    /// It waited for the other session's locks until `lock_timeout_ms`.
    Blocked { lock_timeout_ms: i32, other_pid: i32 },
    /// The other session found nothing to lock (its data is not committed yet).
    NothingHeld { other_pid: i32 },
}

/// Rows the holder locked, once it waits on the handshake (it reports the count in its
/// application_name); `None` if it stopped first.
fn wait_for_hold(worker: &DynamicBackgroundWorker, pid: i32) -> Option<i64> {
    let started = Instant::now();
    while started.elapsed() < HOLD_TIMEOUT {
        let waiting = Spi::get_one_with_args::<bool>(
            &format!("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE {PG_LOCKS_FILTER} AND pid = $2 AND NOT granted)"),
            &[(Key::Handshake as i32).into(), pid.into()],
        )
        .or_internal("pg_locks")
        .unwrap_or(false);
        if waiting {
            // pg_stat_activity is snapshotted per transaction: clear it to see the update.
            Spi::run("SELECT pg_catalog.pg_stat_clear_snapshot()").or_internal("pg_stat_clear_snapshot");
            let name = Spi::get_one_with_args::<String>(
                "SELECT application_name FROM pg_catalog.pg_stat_activity WHERE pid = $1",
                &[pid.into()],
            )
            .ok()
            .flatten()
            .unwrap_or_default();
            return Some(name.rsplit("rows=").next().and_then(|n| n.parse().ok()).unwrap_or(0));
        }
        // Asked of the postmaster, not pg_stat_activity: that view is snapshotted per
        // transaction and may predate the worker's connection.
        if worker.pid().is_err() {
            return None;
        }
        nap(20);
    }
    None
}

/// This session's side of test `t`. Everything, the handshake included, happens inside
/// one subtransaction, so a per-test time limit or any error ends this test as an
/// ERROR result and the run goes on.
pub fn run(t: &TestDef, target: &Target, ctx: &context::Context, as_role: u32) -> Result<Outcome, SqlError> {
    let band_ms = t.acceptable_ms.or(t.target_ms).unwrap_or(1000.0).round().max(1.0) as i32;
    let lock_timeout_ms = t.hold_ms.map_or(band_ms, |hold| hold + band_ms);
    let job = Job::Hold { test_id: t.test_id.clone(), schema: target.schema.clone(), role: as_role };
    // Only a run takes it, and runs exclude each other, so this does not wait.
    lock::acquire(Key::Handshake, Mode::Exclusive, Scope::Session);
    let outcome = in_subtransaction(OnSuccess::Commit, || {
        let (worker, pid) = start(&job, &format!("pg_perfsuite {} second session", t.test_id));
        let held = wait_for_hold(&worker, pid);
        match held {
            None => crate::errors::raise(
                pgrx::PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                format!("the second session (PID {pid}) stopped before holding its locks"),
                Some("See the server log for its error."),
            ),
            Some(0) => Outcome::NothingHeld { other_pid: pid },
            Some(rows) => {
                let attempt = ctx.run(|| {
                    Spi::run(&format!("SET LOCAL lock_timeout = {lock_timeout_ms}")).or_internal("lock_timeout");
                    in_subtransaction(OnSuccess::Commit, || timed::time_statement(None, &t.sql))
                });
                match attempt {
                    Ok((elapsed_ms, _)) => Outcome::NoWait { elapsed_ms, other_pid: pid, other_rows: rows },
                    Err(e) if e.code == pgrx::PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE => {
                        Outcome::Blocked { lock_timeout_ms, other_pid: pid }
                    }
                    Err(e) => e.raise(),
                }
            }
        }
    });
    // Let the holder commit and go, whatever happened here.
    lock::release(Key::Handshake, Mode::Exclusive, Scope::Session);
    outcome
}

/// The second session (a worker): run the concurrent statement, report the rows it
/// locked, hold them until the handshake lock is released, commit.
pub fn hold(test_id: &str, schema: &str) {
    crate::runner::mode::Mode::Worker.step(|| {
        let (sql, hold_ms, author) = crate::store::registry::concurrent_sql(test_id).unwrap_or_else(|| {
            crate::errors::raise(
                pgrx::PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                format!("test {test_id} has no concurrent_sql (or is not committed)"),
                None,
            )
        });
        // The role this session acts as was decided for the author the run saw; the
        // SQL read now may be another role's.
        if !crate::pg::roles::author_may_act_as_current(&author) {
            crate::errors::raise(
                pgrx::PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("test {test_id}'s concurrent_sql is now by role \"{author}\", which may not act as this session's role; not run"),
                None,
            )
        }
        Spi::run_with_args(
            "SELECT pg_catalog.set_config('search_path', 'pg_catalog, ' || pg_catalog.quote_ident($1) || ', pg_temp', true)",
            &[schema.into()],
        )
        .or_internal("search_path");
        Spi::run("SET LOCAL lock_timeout = '60s'").or_internal("lock_timeout");
        // A caller running in its own transaction may have created the tables this
        // session cannot see yet: that is "nothing to hold", reported as 0 rows.
        let sql = crate::suite::model::normalize_sql(&sql);
        let rows = match in_subtransaction(OnSuccess::Commit, || timed::time_statement(None, &sql)) {
            Ok((_, rows)) => rows,
            Err(e) if e.code == pgrx::PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE => 0,
            Err(e) => e.raise(),
        };
        Spi::run_with_args(
            "SELECT pg_catalog.set_config('application_name', $1, false)",
            &[format!("pg_perfsuite hold {test_id} rows={rows}").into()],
        )
        .or_internal("application_name");
        match hold_ms {
            // Wait (interruptibly, under lock_timeout) until the first session releases it.
            None => lock::acquire(Key::Handshake, Mode::Share, Scope::Transaction),
            // A transaction that ends on its own: after hold_ms the wait gives up (its
            // lock_timeout) and the row locks go with the commit.
            Some(hold) => {
                Spi::run(&format!("SET LOCAL lock_timeout = {}", hold.max(1))).or_internal("lock_timeout");
                match in_subtransaction(OnSuccess::Commit, || {
                    lock::acquire(Key::Handshake, Mode::Share, Scope::Transaction)
                }) {
                    Ok(()) => {}
                    Err(e) if e.code == pgrx::PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE => {}
                    Err(e) => e.raise(),
                }
            }
        }
    })
}
