//! Orchestration of a run: its steps (mode), the run lock, the tenant context, the
//! timing loop, one test and a whole run, 5.4's two sessions, recording results, the
//! per-test time limit, and the caller's side of a background run (follow).

pub mod canary;
pub mod candidate;
pub mod cleanup;
pub mod cold;
pub mod concurrency;
pub mod context;
pub mod follow;
pub mod isolation;
pub mod lock;
pub mod mode;
pub mod observe;
pub mod run;
pub mod test;
pub mod timed;
pub mod timelimit;
