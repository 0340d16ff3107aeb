//! Test 5.4: two sessions updating at once must not block each other. The second
//! session is a background worker ("hold"): it runs the test's `concurrent_sql` first,
//! keeps its transaction (and row locks) open, and waits on a handshake advisory lock
//! that this session holds. This session then runs the test's `sql` under
//! `lock_timeout`, releases the handshake, and both commit. Any wait on the other
//! session's locks ends in a lock timeout: never a hang.

use pgrx::bgworkers::DynamicBackgroundWorker;
use pgrx::prelude::*;
use std::time::{Duration, Instant};

use crate::runner::context;
use crate::runner::lock::KEY_CLASS;
use crate::runner::subxact::{in_subtransaction, OnSuccess, SqlError};
use crate::runner::timed;
use crate::suite::model::TestDef;
use crate::sut::Target;
use crate::worker::job::Job;
use crate::worker::launch::{role_to_assume, start};

/// Second key of the handshake lock ("perf", 2).
const KEY_HANDSHAKE: i32 = 2;
/// How long the second session may take to reach its hold.
const HOLD_TIMEOUT: Duration = Duration::from_secs(30);

pub enum Outcome {
    /// This session's statement finished after `elapsed_ms`.
    NoWait { elapsed_ms: f64, other_pid: i32, other_rows: i64 },
    /// It waited for the other session's locks until `lock_timeout_ms`.
    Blocked { lock_timeout_ms: i32, other_pid: i32 },
    /// The other session found nothing to lock (its data is not committed yet).
    NothingHeld { other_pid: i32 },
}

fn handshake(function: &str) {
    Spi::run_with_args(
        &format!("SELECT pg_catalog.{function}($1, $2)"),
        &[KEY_CLASS.into(), KEY_HANDSHAKE.into()],
    )
    .expect("handshake lock");
}

/// Rows the holder locked, once it waits on the handshake (it reports the count in its
/// application_name); `None` if it stopped first.
fn wait_for_hold(worker: &DynamicBackgroundWorker, pid: i32) -> Option<i64> {
    let started = Instant::now();
    while started.elapsed() < HOLD_TIMEOUT {
        let waiting = Spi::get_one_with_args::<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE pid = $1 AND locktype = 'advisory' \
               AND classid = $2::int4::oid AND objid = $3::int4::oid AND NOT granted)",
            &[pid.into(), KEY_CLASS.into(), KEY_HANDSHAKE.into()],
        )
        .expect("pg_locks")
        .unwrap_or(false);
        if waiting {
            // pg_stat_activity is snapshotted per transaction: clear it to see the update.
            Spi::run("SELECT pg_catalog.pg_stat_clear_snapshot()").expect("pg_stat_clear_snapshot");
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
        std::thread::sleep(Duration::from_millis(20));
        pgrx::check_for_interrupts!();
    }
    None
}

/// This session's side of test `t`.
pub fn run(t: &TestDef, target: &Target) -> Result<Outcome, SqlError> {
    let lock_timeout_ms = t.target_ms.unwrap_or(1000.0).round().max(1.0) as i32;
    handshake("pg_advisory_lock");
    let job = Job::Hold { t: t.test_id.clone(), s: target.schema.clone(), k: KEY_HANDSHAKE as i64, u: role_to_assume() };
    let outcome = in_subtransaction(OnSuccess::Commit, || {
        let (worker, pid) = start(&job, &format!("pg_perfsuite {} second session", t.test_id));
        let held = wait_for_hold(&worker, pid);
        match held {
            None => error!("the second session (PID {pid}) stopped before holding its locks; see the server log"),
            Some(0) => Outcome::NothingHeld { other_pid: pid },
            Some(rows) => {
                let saved = context::enter(target, &t.run_as);
                Spi::run(&format!("SET LOCAL lock_timeout = {lock_timeout_ms}")).expect("lock_timeout");
                let attempt = in_subtransaction(OnSuccess::Commit, || timed::time_statement(None, &t.sql));
                saved.restore();
                match attempt {
                    Ok((elapsed_ms, _)) => Outcome::NoWait { elapsed_ms, other_pid: pid, other_rows: rows },
                    Err(e) if e.sqlstate == "55P03" => Outcome::Blocked { lock_timeout_ms, other_pid: pid },
                    Err(e) => error!("{} ({})", e.message, e.sqlstate),
                }
            }
        }
    });
    // Let the holder commit and go, whatever happened here.
    handshake("pg_advisory_unlock");
    outcome
}

/// The second session (a worker): run the concurrent statement, report the rows it
/// locked, hold them until the handshake lock is released, commit.
pub fn hold(test_id: &str, schema: &str, key: i64) {
    crate::runner::run::Mode::Worker.step(|| {
        let sql = Spi::get_one_with_args::<String>(
            "SELECT concurrent_sql FROM perf_tests WHERE test_id = $1",
            &[test_id.into()],
        )
        .expect("perf_tests")
        .unwrap_or_else(|| error!("test {test_id} has no concurrent_sql (or is not committed)"));
        Spi::run_with_args("SELECT pg_catalog.set_config('search_path', quote_ident($1) || ', pg_catalog', true)", &[schema.into()])
            .expect("search_path");
        Spi::run("SET LOCAL lock_timeout = '60s'").expect("lock_timeout");
        // A caller running in its own transaction may have created the tables this
        // session cannot see yet: that is "nothing to hold", reported as 0 rows.
        let sql = crate::suite::model::normalize_sql(&sql);
        let rows = match in_subtransaction(OnSuccess::Commit, || timed::time_statement(None, &sql)) {
            Ok((_, rows)) => rows,
            Err(e) if e.sqlstate == "42P01" => 0,
            Err(e) => error!("{} ({})", e.message, e.sqlstate),
        };
        Spi::run(&format!("SET application_name = 'pg_perfsuite hold {test_id} rows={rows}'")).expect("application_name");
        Spi::run_with_args(
            "SELECT pg_catalog.pg_advisory_xact_lock_shared($1, $2::int4)",
            &[KEY_CLASS.into(), (key as i32).into()],
        )
        .expect("handshake wait");
    })
}
