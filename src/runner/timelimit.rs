//! The per-test time limit of background runs: the worker arms PostgreSQL's statement
//! timer around each test (see pg::timeout). A test that exceeds it is cancelled and
//! recorded as an ERROR (57014); the run goes on. In the caller's session the caller's
//! own statement_timeout governs the whole call.

use crate::gucs;
use crate::pg::timeout;

/// Run `f` under the per-test limit (`pg_perfsuite.test_time_limit`) when `enabled`.
pub fn with_test_time_limit<T>(enabled: bool, f: impl FnOnce() -> T) -> T {
    let ms = gucs::test_time_limit_ms();
    if !enabled || ms <= 0 {
        return f();
    }
    timeout::arm(ms);
    // Disarm on every way out, including an error unwinding through here.
    struct Disarm;
    impl Drop for Disarm {
        fn drop(&mut self) {
            timeout::disarm();
        }
    }
    let _guard = Disarm;
    f()
}
