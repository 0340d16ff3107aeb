//! The per-test time limit's clock. Two timers of this crate's own (registered with
//! PostgreSQL's timeout module, so neither touches the caller's statement_timeout):
//! - at the deadline, a cancel: the running statement fails with 57014, as
//!   pg_cancel_backend would make it;
//! - in a background worker, a grace period later, a termination: code that catches
//!   the cancel (a PL/pgSQL `EXCEPTION WHEN query_canceled` in a loop) cannot hold the
//!   run, because FATAL cannot be caught.
//!
//! Between statements the runner calls `check_deadline`, so a limit that expired while
//! a test's own code swallowed the cancel still ends the test. A cancel is told apart
//! from the caller's by the clock (`limit_expired`), never by message text.
//! The timeout functions (utils/timeout.h) are not in pgrx's bindings.

use pgrx::pg_sys;
use std::cell::Cell;
use std::ffi::c_int;
use std::time::{Duration, Instant};

unsafe extern "C-unwind" {
    fn RegisterTimeout(id: c_int, handler: extern "C" fn()) -> c_int;
    fn enable_timeout_after(id: c_int, delay_ms: c_int);
    fn disable_timeout(id: c_int, keep_indicator: bool);
}

/// `USER_TIMEOUT` in `enum TimeoutId` (utils/timeout.h): the first id extensions may
/// register. PostgreSQL 17 inserted TRANSACTION_TIMEOUT before it.
const USER_TIMEOUT: c_int = if cfg!(any(feature = "pg15", feature = "pg16")) { 12 } else { 13 };

/// How long after the cancel a worker's test may take to end before the worker is
/// terminated.
const GRACE: Duration = Duration::from_secs(5);

thread_local! {
    /// When the armed limit runs out; None while no limit is armed.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// The two timers' ids, registered on first use in this process.
    static TIMERS: Cell<Option<(c_int, c_int)>> = const { Cell::new(None) };
}

/// Runs in the SIGALRM handler: only flags and the latch, as PostgreSQL's own
/// StatementTimeoutHandler.
extern "C" fn cancel_now() {
    // SAFETY: sig_atomic_t flags and the process latch, which signal handlers may set.
    unsafe {
        pg_sys::QueryCancelPending = 1;
        pg_sys::InterruptPending = 1;
        pg_sys::SetLatch(pg_sys::MyLatch);
    }
}

/// As `cancel_now`, but a termination: ProcessInterrupts raises FATAL.
extern "C" fn terminate_now() {
    // SAFETY: as above.
    unsafe {
        pg_sys::ProcDiePending = 1;
        pg_sys::InterruptPending = 1;
        pg_sys::SetLatch(pg_sys::MyLatch);
    }
}

fn timers() -> (c_int, c_int) {
    TIMERS.with(|t| {
        *t.get().get_or_insert_with(|| {
            // SAFETY: registering handlers with the timeout module, initialised in every
            // connected backend and worker; each process registers once.
            let ids =
                unsafe { (RegisterTimeout(USER_TIMEOUT, cancel_now), RegisterTimeout(USER_TIMEOUT, terminate_now)) };
            t.set(Some(ids));
            ids
        })
    })
}

fn in_background_worker() -> bool {
    // SAFETY: a read of a backend-local pointer, set only in background workers.
    unsafe { !pg_sys::MyBgworkerEntry.is_null() }
}

/// Arm the limit: after `ms` the running statement is cancelled (57014); in a
/// background worker, `GRACE` later the worker is terminated if the test still runs.
pub fn arm(ms: i32) {
    // The timer fires no earlier than `ms`; the deadline is a hair earlier so that a
    // timer firing exactly on time counts as expired.
    let ms = ms.max(1);
    DEADLINE.with(|d| d.set(Some(Instant::now() + Duration::from_millis(ms as u64) - Duration::from_micros(500))));
    let (cancel, terminate) = timers();
    // SAFETY: ids registered above in this process.
    unsafe {
        enable_timeout_after(cancel, ms);
        if in_background_worker() {
            enable_timeout_after(terminate, ms.saturating_add(GRACE.as_millis() as i32));
        }
    }
}

pub fn disarm() {
    DEADLINE.with(|d| d.set(None));
    if let Some((cancel, terminate)) = TIMERS.with(Cell::get) {
        // SAFETY: as above; disabling an inactive timeout is a no-op.
        unsafe {
            disable_timeout(cancel, false);
            disable_timeout(terminate, false);
        }
    }
}

/// Whether a cancel (57014) arriving now belongs to an armed time limit (and so is a
/// test result) rather than to the caller (and so stops the run): a limit is armed and
/// its time is up. Decided by the clock alone, so it holds in every lc_messages.
pub fn limit_expired() -> bool {
    DEADLINE.with(Cell::get).is_some_and(|d| Instant::now() >= d)
}

/// Between a test's statements: pending interrupts first, then the limit. Raises 57014
/// when the armed limit has run out, even if the test's own code caught the cancel.
pub fn check_deadline() {
    pgrx::check_for_interrupts!();
    if limit_expired() {
        crate::errors::raise(
            pgrx::PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
            "the test ran past its time limit (pg_perfsuite.test_time_limit)".to_string(),
            None,
        );
    }
}
