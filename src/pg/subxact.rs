//! Running a piece of work in an internal subtransaction, as PL/pgSQL's
//! `BEGIN ... EXCEPTION` does, so that one failing test becomes a recorded result
//! instead of aborting the whole run.
//!
//! pgrx 0.18 has no subtransaction API and turns SQL errors into Rust panics; this is
//! the only module that starts or ends subtransactions.

use pgrx::pg_sys;
use pgrx::prelude::*;
use std::panic::AssertUnwindSafe;

use crate::errors::SqlError;

/// What to do with the subtransaction when the work succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSuccess {
    /// Keep its effects (RELEASE SAVEPOINT).
    Commit,
    /// Undo its effects anyway (ROLLBACK TO SAVEPOINT): for measurements that must not
    /// leave data, role or setting changes behind.
    Rollback,
}

/// Errors that mean "stop everything" rather than "this test failed": a cancel request
/// (Ctrl-C, pg_cancel_backend, the caller's statement_timeout) and a shutdown. The one
/// cancel that is a test result is a background run's own per-test time limit firing,
/// told apart by the clock, not by the (translated) message text.
fn must_propagate(e: &SqlError) -> bool {
    if e.code == pgrx::PgSqlErrorCode::ERRCODE_QUERY_CANCELED {
        !crate::pg::timeout::limit_expired()
    } else {
        e.is_shutdown()
    }
}

/// Run `work` in a subtransaction. On error the subtransaction is rolled back and the
/// error returned, except cancellation and shutdown, which are re-raised after the
/// rollback so that a cancelled run really stops.
pub fn in_subtransaction<T>(on_success: OnSuccess, work: impl FnOnce() -> T) -> Result<T, SqlError> {
    // SAFETY: we are in a backend inside a transaction (every caller is a SQL function).
    // BeginInternalSubTransaction switches to the subtransaction's memory context and
    // resource owner; we note the caller's and restore both after release or rollback,
    // exactly as PL/pgSQL's exec_stmt_block does.
    let (caller_cxt, caller_owner) = unsafe { (pg_sys::CurrentMemoryContext, pg_sys::CurrentResourceOwner) };
    unsafe {
        pg_sys::BeginInternalSubTransaction(std::ptr::null());
        pg_sys::MemoryContextSwitchTo(caller_cxt);
    }

    let work = AssertUnwindSafe(work);
    // The caught error is large, but it lives only until it is turned into a SqlError below.
    #[allow(clippy::result_large_err)]
    let outcome = PgTryBuilder::new(move || Ok(work())).catch_others(Err).execute();

    let finish_ok = outcome.is_ok() && on_success == OnSuccess::Commit;
    // SAFETY: the subtransaction begun above is still the current one: `work` ran to
    // completion or its error was caught (pgrx already flushed the error state).
    unsafe {
        if finish_ok {
            pg_sys::ReleaseCurrentSubTransaction();
        } else {
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
        }
        pg_sys::MemoryContextSwitchTo(caller_cxt);
        pg_sys::CurrentResourceOwner = caller_owner;
    }

    outcome.map_err(|caught| {
        let err = SqlError::from_caught(&caught);
        if must_propagate(&err) {
            caught.rethrow();
        }
        err
    })
}
