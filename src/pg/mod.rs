//! The PostgreSQL layer: what talks to the server below the level of SQL, and what
//! pgrx does not offer in a usable form: subtransactions, background-worker launch
//! and job encoding, signal handlers, locks SQL cannot take, waits that wake on the
//! latch, the statement timer, role and catalog lookups, settings set for a piece of
//! work, COPY FROM fed from memory, VACUUM from a worker, helper threads kept out of
//! signal handling, what a backend spends (CPU, buffers, WAL, storage I/O) and what
//! the backends of a test wait on.
//!
//! What it knows of the layers above is kept to two things: the jobs a worker is
//! launched with (`job.rs`: a run's arguments, a second session's, a load client's)
//! and the per-test time limit (`timeout.rs`). The one error type is `crate::errors`,
//! beside this layer. `unsafe` blocks live here, each with a `// SAFETY:` line, but
//! two: the settings' prefix reservation (`gucs.rs`) and the timing loop's call of
//! `xact::free_last_tuptable` (`runner/timed.rs`), whose contract it keeps.

pub mod bgworker;
pub mod catalog;
pub mod copy;
pub mod guc;
pub mod job;
pub mod latch;
pub mod lock;
pub mod maintenance;
pub mod oscache;
pub mod roles;
pub mod secctx;
pub mod signals;
pub mod subxact;
pub mod threads;
pub mod timeout;
pub mod usage;
pub mod waits;
pub mod xact;
