//! The per-test time limit's clock: PostgreSQL's statement timer, armed and disarmed
//! by hand (a background worker's SPI queries are not subject to statement_timeout,
//! since only a client backend arms it per statement), and the deadline that tells a
//! cancel caused by the limit from any other cancel. The timeout functions
//! (utils/timeout.h) are not in pgrx's bindings.

use std::cell::Cell;
use std::ffi::c_int;
use std::time::{Duration, Instant};

unsafe extern "C-unwind" {
    fn enable_timeout_after(id: c_int, delay_ms: c_int);
    fn disable_timeout(id: c_int, keep_indicator: bool);
}

/// `STATEMENT_TIMEOUT` in `enum TimeoutId` (utils/timeout.h): the fourth entry in
/// PostgreSQL 13 through 18.
const STATEMENT_TIMEOUT: c_int = 3;

thread_local! {
    /// When the armed limit runs out; None while no limit is armed.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Arm the statement timer: after `ms` the running query is cancelled (57014).
pub fn arm(ms: i32) {
    // The timer fires no earlier than `ms`; the deadline is a hair earlier so that a
    // timer firing exactly on time counts as expired.
    let ms = ms.max(1);
    DEADLINE.with(|d| d.set(Some(Instant::now() + Duration::from_millis(ms as u64) - Duration::from_micros(500))));
    // SAFETY: the timeout module is initialised in every connected backend and worker.
    unsafe { enable_timeout_after(STATEMENT_TIMEOUT, ms) }
}

pub fn disarm() {
    DEADLINE.with(|d| d.set(None));
    // SAFETY: as above; disabling an inactive timeout is a no-op.
    unsafe { disable_timeout(STATEMENT_TIMEOUT, false) }
}

/// Whether a cancel (57014) arriving now belongs to an armed time limit (and so is a
/// test result) rather than to the caller (and so stops the run): a limit is armed and
/// its time is up. Decided by the clock alone, so it holds in every lc_messages.
pub fn limit_expired() -> bool {
    DEADLINE.with(Cell::get).is_some_and(|d| Instant::now() >= d)
}
