//! The caller's side of a background run: find the run the worker started, relay each
//! finished test as a NOTICE, stop the worker when the caller is cancelled, and notice
//! a worker that died.

use pgrx::bgworkers::DynamicBackgroundWorker;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::raise;
use crate::pg::signals;
use crate::store::runs as record;

use crate::errors::OrInternal;
use crate::pg::latch::nap;

fn stopped(worker: &DynamicBackgroundWorker) -> bool {
    worker.pid().is_err()
}

/// The worker waiting for a lock this transaction holds would wait for ever, since
/// this transaction waits for the worker: stop it and say why.
fn refuse_if_worker_waits_for_us(pid: i32) {
    let blocked = Spi::get_one_with_args::<bool>(
        "SELECT pg_catalog.pg_backend_pid() = ANY (pg_catalog.pg_blocking_pids($1))",
        &[pid.into()],
    )
    .or_internal("pg_blocking_pids")
    .unwrap_or(false);
    if blocked {
        raise(
            Code::ERRCODE_LOCK_NOT_AVAILABLE,
            format!("the background run (worker PID {pid}) is waiting for a lock held by this transaction"),
            Some("Commit or roll back what this transaction changed before calling perf_run_all(), or pass background => false to run inside this transaction."),
        );
    }
}

/// A waiting caller reads what the worker commits, so it needs a fresh snapshot per
/// query: READ COMMITTED.
pub fn require_read_committed() {
    if crate::pg::xact::uses_one_snapshot() {
        raise(
            Code::ERRCODE_FEATURE_NOT_SUPPORTED,
            "waiting for a background run needs READ COMMITTED: at REPEATABLE READ or SERIALIZABLE the worker's results stay invisible to this transaction",
            Some("Call it outside an explicit REPEATABLE READ transaction, or pass wait => false (returns the run id) or background => false."),
        );
    }
}

/// The run the worker with `pid` started, once its first step has committed.
pub fn await_run_id(worker: &DynamicBackgroundWorker, pid: i32) -> i64 {
    // The worker's start time, as soon as its statistics entry is up (it appears while
    // the worker connects, a few ms after the postmaster reports it started).
    let mut started: Option<String> = None;
    guard_cancel(pid, || loop {
        for _ in 0..100 {
            if started.is_some() || stopped(worker) {
                break;
            }
            started = record::backend_start_of(pid);
            if started.is_none() {
                nap(10);
            }
        }
        if let Some(id) = started.as_deref().and_then(|s| record::run_started_by(pid, s)) {
            raise_failed_start(id);
            return id;
        }
        if stopped(worker) {
            if let Some(id) = record::failed_start_by(pid) {
                raise_failed_start(id);
            }
            raise(
                Code::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                format!("the background worker (PID {pid}) stopped before starting the run"),
                Some("See the server log for its error; a second run started at the same moment is the usual cause."),
            );
        }
        refuse_if_worker_waits_for_us(pid);
        nap(100);
    })
}

/// A run its worker refused before the first test: raise the worker's own error here,
/// with its SQLSTATE, as if the caller had made the check itself.
fn raise_failed_start(run_id: i64) {
    if let Some((state, message)) = record::failed_start(run_id) {
        crate::errors::SqlError::new(crate::errors::code_of(&state), crate::report::one_line(&message)).raise();
    }
}

/// Relay finished tests as NOTICEs until the worker stops; then make sure the run is
/// not left marked running. Returns the run's final status.
pub fn follow(worker: &DynamicBackgroundWorker, pid: i32, run_id: i64) -> String {
    let mut last_result = 0i64;
    guard_cancel(pid, || loop {
        let done = stopped(worker);
        last_result = relay_new_results(run_id, last_result);
        if done {
            break;
        }
        refuse_if_worker_waits_for_us(pid);
        nap(250);
    });
    record::reap_stale_runs();
    let (status, notes) = record::status_and_notes(run_id);
    if status != "completed" {
        warning!("pg_perfsuite run {run_id} ended {status}: {}", crate::report::one_line(&notes));
    }
    status
}

fn relay_new_results(run_id: i64, after: i64) -> i64 {
    let mut last = after;
    for (id, line) in record::results_after(run_id, after) {
        // Names and notes are operators' text: no control character reaches the
        // caller's terminal.
        notice!("{}", crate::report::one_line(&line));
        last = id;
    }
    last
}

/// Run `f`; if the caller is cancelled meanwhile (Ctrl-C, pg_cancel_backend,
/// statement_timeout), cancel the worker's run too before giving up.
fn guard_cancel<T>(pid: i32, f: impl FnOnce() -> T) -> T {
    PgTryBuilder::new(std::panic::AssertUnwindSafe(f))
        .catch_others(|e| {
            signals::send_cancel(pid);
            e.rethrow()
        })
        .execute()
}
