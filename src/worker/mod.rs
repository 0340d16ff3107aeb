//! Background workers: the only place that launches them or runs in them.
//! `launch` starts a dynamic worker for a `Job`; `main` is the worker's entry point;
//! `wait` is the caller's side of a background run (progress, cancellation, results).

pub mod ffi;
pub mod job;
pub mod launch;
pub mod main;
pub mod wait;
