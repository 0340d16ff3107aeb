//! One run at a time per database: a transaction-level advisory lock.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::raise;

/// The lock's two keys: "perf" and 1 (runs).
const KEY_CLASS: i32 = 0x7065_7266; // 1885696614, also used by tests
const KEY_RUNS: i32 = 1;

/// Take the run lock until the end of the transaction, or raise 55006 naming the
/// backend that holds it.
pub fn acquire_run_lock() {
    let got = Spi::get_one_with_args::<bool>(
        "SELECT pg_catalog.pg_try_advisory_xact_lock($1, $2)",
        &[KEY_CLASS.into(), KEY_RUNS.into()],
    )
    .expect("pg_try_advisory_xact_lock")
    .unwrap_or(false);
    if got {
        return;
    }
    let holder = Spi::get_one_with_args::<i32>(
        "SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND database = \
         (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) \
         AND classid = $1::int4::oid AND objid = $2::int4::oid AND objsubid = 2 AND granted LIMIT 1",
        &[KEY_CLASS.into(), KEY_RUNS.into()],
    )
    .ok()
    .flatten();
    let who = holder.map(|p| format!(" (backend PID {p})")).unwrap_or_default();
    raise(
        Code::ERRCODE_OBJECT_IN_USE,
        format!("another pg_perfsuite run is already in progress in this database{who}; nothing was changed"),
        Some(&match holder {
            Some(p) => format!("Wait for it to finish, or stop it with SELECT pg_cancel_backend({p});"),
            None => "Wait for it to finish.".to_string(),
        }),
    )
}
