//! The two ways a run executes. In a background worker every step is a transaction of
//! its own, committed when the step ends, so other sessions watch the run progress and
//! results survive a later failure. In the caller's session (`background => false`)
//! the steps are part of the caller's transaction: nothing is visible before the call
//! returns, and a ROLLBACK undoes the run (what-if runs).

use pgrx::bgworkers::BackgroundWorker;
use std::panic::AssertUnwindSafe;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Session,
    Worker,
}

impl Mode {
    /// One step of the run: its own committed transaction in a worker, part of the
    /// caller's transaction in a session.
    pub fn step<T>(self, f: impl FnOnce() -> T) -> T {
        match self {
            Mode::Session => f(),
            Mode::Worker => BackgroundWorker::transaction(AssertUnwindSafe(f)),
        }
    }
}
