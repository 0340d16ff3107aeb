//! The per-test time limit (`pg_perfsuite.test_time_limit`), in the caller's session
//! and in a background run alike: a deadline armed around each test (see pg::timeout)
//! and checked between its statements. A test that exceeds it ends as an ERROR
//! (57014) saying so; the run goes on.

use crate::errors::SqlError;
use crate::gucs;
use crate::pg::timeout;

/// Run `f` under the per-test limit, when one is set.
pub fn with_test_time_limit<T>(f: impl FnOnce() -> T) -> T {
    let ms = gucs::test_time_limit_ms();
    if ms <= 0 {
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

/// A cancel that the limit caused, told in words a DBA can act on (decided by the
/// clock while the limit is still armed, not by the message).
pub fn explain(e: SqlError) -> SqlError {
    if e.is_cancel() && timeout::limit_expired() {
        let ms = gucs::test_time_limit_ms();
        SqlError {
            message: format!(
                "the test ran past its time limit of {ms} ms (pg_perfsuite.test_time_limit) and was stopped"
            ),
            ..e
        }
    } else {
        e
    }
}
