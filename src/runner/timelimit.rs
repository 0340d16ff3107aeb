//! The per-test time limit of background runs. A worker's SPI queries are not subject
//! to statement_timeout (only a client backend arms it per statement), so the worker
//! arms PostgreSQL's statement timer itself around each test. A test that exceeds it
//! is cancelled and recorded as an ERROR (57014, "statement timeout"); the run goes on.
//! In the caller's session the caller's own statement_timeout governs the whole call.

use std::cell::Cell;

use crate::gucs;
use crate::worker::ffi;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

/// Whether a statement-timeout cancel right now belongs to a test's time limit (and so
/// is a test result) rather than to the caller (and so stops the run).
pub fn limit_armed() -> bool {
    ARMED.with(Cell::get)
}

/// Run `f` under the per-test limit (`pg_perfsuite.test_time_limit`) when `enabled`.
pub fn with_test_time_limit<T>(enabled: bool, f: impl FnOnce() -> T) -> T {
    let ms = gucs::test_time_limit_ms();
    if !enabled || ms <= 0 {
        return f();
    }
    ffi::arm_statement_timeout(ms);
    ARMED.with(|a| a.set(true));
    // Disarm on every way out, including an error unwinding through here.
    struct Disarm;
    impl Drop for Disarm {
        fn drop(&mut self) {
            ARMED.with(|a| a.set(false));
            ffi::disarm_statement_timeout();
        }
    }
    let _guard = Disarm;
    f()
}
