//! The PostgreSQL layer: everything that talks to the server below the level of SQL
//! and everything pgrx does not offer in a usable form. Subtransactions and the one
//! error type, background-worker launch and job encoding, signal handlers, locks that
//! SQL cannot take, waits that wake on the latch, the statement timer, role and
//! catalog lookups, settings set for a piece of work, COPY FROM fed from memory, helper threads kept out of signal handling, what a backend spends (CPU, buffers, WAL, storage I/O) and what the backends of a test wait on. Nothing here knows about tests, runs or reports. Every `unsafe`
//! block in the crate lives here, with a `// SAFETY:` line.

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
