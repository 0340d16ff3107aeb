//! Running tests: the subtransaction guard, the timing loop, the tenant context, the
//! run lock, recording, and a whole run.

pub mod concurrency;
pub mod context;
pub mod isolation;
pub mod lock;
pub mod record;
pub mod run;
pub mod test;
pub mod timed;
pub mod timelimit;
