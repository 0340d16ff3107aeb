//! One run at a time per database: an advisory lock on ("perf", 1). A run in the
//! caller's session holds it for its transaction; a background run for the worker's
//! whole life (across its transactions).

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::raise;

/// The lock's two keys: "perf" and 1 (runs).
pub const KEY_CLASS: i32 = 0x7065_7266; // 1885696614, also used by tests
pub const KEY_RUNS: i32 = 1;

/// The backend holding the run lock, if another one does.
pub fn holder() -> Option<i32> {
    Spi::get_one_with_args::<i32>(
        "SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND database = \
         (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) \
         AND classid = $1::int4::oid AND objid = $2::int4::oid AND objsubid = 2 AND granted \
         AND pid <> pg_catalog.pg_backend_pid() LIMIT 1",
        &[KEY_CLASS.into(), KEY_RUNS.into()],
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
    let run = Spi::get_one_with_args::<i64>(
        "SELECT max(run_id) FROM perf_runs WHERE status = 'running' AND backend_pid = $1",
        &[pid.into()],
    )
    .ok()
    .flatten();
    let which = match run {
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

fn try_lock(function: &str) {
    let got = Spi::get_one_with_args::<bool>(
        &format!("SELECT pg_catalog.{function}($1, $2)"),
        &[KEY_CLASS.into(), KEY_RUNS.into()],
    )
    .expect("advisory lock")
    .unwrap_or(false);
    if !got {
        busy(holder().unwrap_or(0))
    }
}

/// For a run in the caller's transaction.
pub fn acquire_run_lock_xact() {
    try_lock("pg_try_advisory_xact_lock")
}

/// For a background worker: held until the worker exits.
pub fn acquire_run_lock_session() {
    try_lock("pg_try_advisory_lock")
}
