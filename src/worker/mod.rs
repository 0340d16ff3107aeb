//! The background worker's entry point: what a worker process runs when the
//! postmaster starts it for a job (a run, 5.4's second session, a load client).
//! Launching workers and encoding their jobs is PostgreSQL glue (pg::bgworker, pg::job);
//! the caller's side of a background run is orchestration (runner::follow).

pub mod entry;
