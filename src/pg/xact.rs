//! Transaction state the crate needs to read or end by hand.

use pgrx::pg_sys;

/// End the current (failed) top-level transaction, as PostgresMain does after an error.
/// For background-worker code that caught an error in a transaction it started and
/// goes on (the next load transaction, recording why a run stopped).
pub fn abort_current_transaction() {
    // SAFETY: called between steps of a background worker, in its top-level memory
    // context, after the error was caught: exactly where PostgresMain would call it.
    unsafe { pg_sys::AbortCurrentTransaction() };
}

/// Whether `xid` is the id of this transaction or of one of its subtransactions.
pub fn is_current_transaction_id(xid: u32) -> bool {
    // SAFETY: a plain query of this backend's transaction state.
    unsafe { pg_sys::TransactionIdIsCurrentTransactionId(xid.into()) }
}

/// REPEATABLE READ or SERIALIZABLE: every statement sees the transaction's first snapshot.
pub fn uses_one_snapshot() -> bool {
    // SAFETY: read of the transaction's isolation level.
    unsafe { pg_sys::XactIsoLevel >= pg_sys::XACT_REPEATABLE_READ as i32 }
}

/// Free the SPI tuple table of the statement just executed. pgrx releases tuple tables
/// only at SPI_finish; a loop of thousands of executions frees each one itself.
///
/// # Safety
/// No `SpiTupleTable` borrowing `SPI_tuptable` may be alive.
pub unsafe fn free_last_tuptable() {
    // SAFETY: the caller guarantees nothing borrows the table.
    unsafe { pg_sys::SPI_freetuptable(pg_sys::SPI_tuptable) };
}
