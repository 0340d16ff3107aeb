//! VACUUM (ANALYZE) from a background worker. VACUUM refuses to run inside a
//! transaction block or a function (SPI is one); a background worker between two of its
//! transactions is neither, so it does what PostgreSQL's own top level does with a
//! VACUUM statement: start a transaction command, parse the statement, hand it to
//! ExecVacuum as top level (VACUUM commits that transaction and works on each table in
//! transactions of its own, then starts one more), and commit.

use std::ffi::CString;

use pgrx::pg_sys;
use pgrx::PgTryBuilder;

use crate::errors::SqlError;

/// VACUUM (ANALYZE) the given relations (already quoted and qualified). Only in a
/// background worker, outside a transaction. An error (a lock it could not get, a
/// relation gone, a cancel) is returned, the transaction aborted: the caller raises a
/// cancel or shutdown again where a transaction can carry it.
pub fn vacuum_analyze(relations: &[String]) -> Result<(), SqlError> {
    if relations.is_empty() {
        return Ok(());
    }
    let sql = CString::new(format!("VACUUM (ANALYZE) {}", relations.join(", ")))
        .map_err(|e| SqlError::new(pgrx::PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, e.to_string()))?;
    // SAFETY: called by a background worker between its transactions (runner::run in
    // worker mode), the one state in which PostgreSQL's top level runs VACUUM:
    // StartTransactionCommand begins the transaction VACUUM expects to find and commit;
    // the parse tree lives in a memory context of its own that outlives those
    // transactions and is deleted at the end; on error the transaction is aborted as
    // PostgresMain does after an ERROR, and the error state was flushed by the catch.
    unsafe {
        let cxt = pg_sys::AllocSetContextCreateExtended(
            pg_sys::TopMemoryContext,
            c"pg_perfsuite vacuum".as_ptr(),
            pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
            pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
            pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
        );
        // VACUUM keeps its working memory under PortalContext, which a worker has not
        // set: ours, for the call, so an error cannot leave a context of its own behind.
        let portal = pg_sys::PortalContext;
        pg_sys::PortalContext = cxt;
        let outcome = PgTryBuilder::new(|| {
            pg_sys::StartTransactionCommand();
            let old = pg_sys::MemoryContextSwitchTo(cxt);
            let parsed = pg_sys::raw_parser(sql.as_ptr(), pg_sys::RawParseMode::RAW_PARSE_DEFAULT);
            let pstate = pg_sys::make_parsestate(std::ptr::null_mut());
            pg_sys::MemoryContextSwitchTo(old);
            // One statement: a List whose first cell points to its RawStmt.
            if parsed.is_null() || (*parsed).length < 1 {
                pg_sys::CommitTransactionCommand();
                return Err(SqlError::new(
                    pgrx::PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                    "the VACUUM statement did not parse",
                ));
            }
            let raw = (*(*parsed).elements).ptr_value as *mut pg_sys::RawStmt;
            pg_sys::ExecVacuum(pstate, (*raw).stmt as *mut pg_sys::VacuumStmt, true);
            pg_sys::CommitTransactionCommand();
            Ok(())
        })
        .catch_others(|e| {
            pg_sys::AbortCurrentTransaction();
            Err(SqlError::from_caught(&e))
        })
        .execute();
        pg_sys::PortalContext = portal;
        pg_sys::MemoryContextDelete(cxt);
        outcome
    }
}
