//! Rows into a table through PostgreSQL's own COPY FROM (binary format): `BeginCopyFrom` with a data
//! callback (as file_fdw reads its files), then `CopyFrom`, which buffers rows and
//! writes them with multi-row inserts through a bulk-insert buffer strategy, and with
//! FREEZE (rows written frozen, the visibility map set, as `COPY ... FREEZE` does) when
//! the table was truncated in the current subtransaction.
//!
//! Only the generator's bulk load calls this, into tables it owns and has just
//! truncated: COPY's own permission and row-level-security checks (in DoCopy, which is
//! bypassed here) would pass for the owner anyway, and that is checked by the caller.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CString};

use pgrx::pg_sys;
use pgrx::PgMemoryContexts;

use crate::errors::OrInternal;

thread_local! {
    /// The text COPY is reading: bytes and the position reached. A backend runs one
    /// COPY at a time, on one thread.
    static INPUT: RefCell<(Vec<u8>, usize)> = const { RefCell::new((Vec::new(), 0)) };
}

/// COPY's data source: hands out the next bytes of INPUT; 0 is the end of the data.
unsafe extern "C-unwind" fn read_input(outbuf: *mut c_void, _minread: c_int, maxread: c_int) -> c_int {
    INPUT.with(|input| {
        let mut input = input.borrow_mut();
        let (data, pos) = &mut *input;
        let n = (data.len() - *pos).min(maxread.max(0) as usize);
        // SAFETY: COPY passes a buffer of at least `maxread` bytes; n <= maxread and
        // the source range lies inside `data`.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr().add(*pos), outbuf.cast::<u8>(), n) };
        *pos += n;
        n as c_int
    })
}

fn cstring(s: &str) -> CString {
    // Invariant: callers pass column names and option names, which have no NUL.
    CString::new(s).or_internal("a name without NUL bytes")
}

/// COPY `data` (a complete stream in COPY's binary format) into `relid`'s `columns`.
/// With `freeze`, the table must have been created or truncated in the current
/// subtransaction (PostgreSQL checks and errors otherwise). Returns the rows copied;
/// `data` is handed back empty, its buffer kept for the caller to write over.
pub fn copy_binary(relid: pg_sys::Oid, columns: &[&str], data: &mut Vec<u8>, freeze: bool) -> u64 {
    INPUT.with(|input| *input.borrow_mut() = (std::mem::take(data), 0));
    let names: Vec<CString> = columns.iter().map(|c| cstring(c)).collect();
    let (freeze_name, format_name, binary) = (cstring("freeze"), cstring("format"), cstring("binary"));
    // Everything COPY allocates lives in a context of its own, deleted afterwards, so
    // thousands of calls keep the backend's memory flat.
    let copied = unsafe {
        // SAFETY: a transaction is open (the caller runs SPI in it); the relation is
        // locked by the caller (ACCESS EXCLUSIVE, from setting its indexes aside) and
        // opened here for the duration of the call; every pointer handed to COPY is
        // palloc'd in the current memory context or outlives the call; a PostgreSQL
        // error inside unwinds through pgrx's guards and the transaction's abort
        // releases the relation and the memory.
        let mut context = PgMemoryContexts::new("pg_perfsuite copy");
        context.switch_to(|_| {
            let rel = pg_sys::table_open(relid, pg_sys::RowExclusiveLock as _);
            let pstate = pg_sys::make_parsestate(std::ptr::null_mut());
            // COPY FROM reads its target from the range table (entry 1).
            pg_sys::addRangeTableEntryForRelation(
                pstate,
                rel,
                pg_sys::RowExclusiveLock as _,
                std::ptr::null_mut(),
                false,
                false,
            );
            let mut attnames: *mut pg_sys::List = std::ptr::null_mut();
            for n in &names {
                let node = pg_sys::makeString(pg_sys::pstrdup(n.as_ptr()));
                attnames = pg_sys::lappend(attnames, node.cast());
            }
            let format = pg_sys::makeDefElem(
                pg_sys::pstrdup(format_name.as_ptr()),
                pg_sys::makeString(pg_sys::pstrdup(binary.as_ptr())).cast(),
                -1,
            );
            let mut options = pg_sys::lappend(std::ptr::null_mut(), format.cast());
            if freeze {
                // A DefElem without an argument is `true` (defGetBoolean).
                let opt = pg_sys::makeDefElem(pg_sys::pstrdup(freeze_name.as_ptr()), std::ptr::null_mut(), -1);
                options = pg_sys::lappend(options, opt.cast());
            }
            let cstate = pg_sys::BeginCopyFrom(
                pstate,
                rel,
                std::ptr::null_mut(),
                std::ptr::null::<c_char>(),
                false,
                Some(read_input),
                attnames,
                options,
            );
            let copied = pg_sys::CopyFrom(cstate);
            pg_sys::EndCopyFrom(cstate);
            pg_sys::table_close(rel, pg_sys::NoLock as _);
            copied
        })
    };
    *data = INPUT.with(|input| std::mem::take(&mut input.borrow_mut().0));
    data.clear();
    copied
}

/// Whether COPY FREEZE is possible in this transaction state: PostgreSQL refuses it
/// ("because of prior transaction activity") when snapshots other than the current
/// statement's are registered or a portal is ready to fetch from.
pub fn freeze_possible() -> bool {
    // SAFETY: plain reads of the snapshot manager's and portal manager's state.
    unsafe { pg_sys::ThereAreNoPriorRegisteredSnapshots() && pg_sys::ThereAreNoReadyPortals() }
}

/// The current transaction's start (what now() returns), in microseconds since
/// 2000-01-01 UTC.
pub fn transaction_start_micros() -> i64 {
    // SAFETY: reads the transaction's start timestamp; a transaction is open.
    unsafe { pg_sys::GetCurrentTransactionStartTimestamp() }
}
