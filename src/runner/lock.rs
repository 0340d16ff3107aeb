//! One run at a time per database. A run in the caller's session holds the run lock
//! for its transaction; a background run for the worker's whole life (across its
//! transactions). The lock is one no SQL can take (see `pg::lock`), so a role with
//! nothing but CONNECT cannot block runs by holding it. Nobody ever waits for it:
//! a second run is refused at once.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::raise;
use crate::pg::lock::{self, Key, Mode, Scope, PG_LOCKS_FILTER};

/// The backend holding the run lock, if another one does.
pub fn holder() -> Option<i32> {
    Spi::get_one_with_args::<i32>(
        &format!(
            "SELECT pid FROM pg_catalog.pg_locks WHERE {PG_LOCKS_FILTER} AND granted \
               AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) \
               AND pid <> pg_catalog.pg_backend_pid() LIMIT 1"
        ),
        &[(Key::Runs as i32).into()],
    )
    .ok()
    .flatten()
}

/// Raise 55006 naming the run in progress (checked before anything is written).
pub fn refuse_if_running() {
    if let Some(pid) = holder() {
        busy(pid)
    }
}

fn busy(pid: i32) -> ! {
    let which = match crate::store::runs::running_run_of(pid) {
        Some(id) => format!("run {id} is already in progress in this database (backend PID {pid})"),
        None => format!("another pg_perfsuite run is already in progress in this database (backend PID {pid})"),
    };
    raise(
        Code::ERRCODE_OBJECT_IN_USE,
        format!("{which}; nothing was changed"),
        Some(&format!(
            "Wait for it to finish (SELECT * FROM perf_progress), or stop it with SELECT pg_cancel_backend({pid});"
        )),
    )
}

fn take(scope: Scope) {
    if !lock::try_acquire(Key::Runs, Mode::Exclusive, scope) {
        busy(holder().unwrap_or(0))
    }
}

/// For a run in the caller's transaction.
pub fn acquire_run_lock_xact() {
    take(Scope::Transaction)
}

/// For a background worker: held until the worker exits.
pub fn acquire_run_lock_session() {
    take(Scope::Session)
}
