//! Running code someone else wrote with that role's rights, inside a boundary the
//! server keeps, not this crate (see docs/security.md).
//!
//! PostgreSQL runs a table owner's code during REFRESH MATERIALIZED VIEW, VACUUM and
//! CREATE INDEX the same way: `SetUserIdAndSecContext(owner, SECURITY_LOCAL_USERID_CHANGE
//! | SECURITY_RESTRICTED_OPERATION)`. Inside that context the server itself refuses SET
//! ROLE, RESET ROLE, SET SESSION AUTHORIZATION and `set_config('role', ...)` (they are
//! GUC_NOT_WHILE_SEC_REST settings), temporary tables, PREPARE, cursors WITH HOLD,
//! LISTEN and DISCARD: SQL run here cannot leave the identity it was given, and cannot
//! leave state behind that code with other rights would later pick up. Settings it
//! changes are rolled back when the context ends (a GUC nest level, as those commands
//! use), so a test's `SET search_path` cannot steer the extension's own SQL after it.
//!
//! Aborting a (sub)transaction restores the identity it started with; the context is
//! restored explicitly too, on success and on error, before the error travels on.

use pgrx::pg_sys;
use pgrx::prelude::*;
use std::ffi::c_int;
use std::panic::AssertUnwindSafe;

/// What the server is told: the user id is changed locally (SET ROLE refused) and the
/// operation is security-restricted.
const RESTRICTED: c_int = (pg_sys::SECURITY_LOCAL_USERID_CHANGE | pg_sys::SECURITY_RESTRICTED_OPERATION) as c_int;

/// The identity in force: the current user id and the security-context bits.
#[derive(Debug, Clone, Copy)]
struct Identity {
    user: pg_sys::Oid,
    context: c_int,
}

fn current() -> Identity {
    let (mut user, mut context) = (pg_sys::InvalidOid, 0);
    // SAFETY: reads two backend-local globals into the locals given.
    unsafe { pg_sys::GetUserIdAndSecContext(&mut user, &mut context) };
    Identity { user, context }
}

fn set(id: Identity) {
    // SAFETY: sets two backend-local globals; the role is one the caller looked up (an
    // OID of pg_authid), exactly as PostgreSQL's own maintenance commands do.
    unsafe { pg_sys::SetUserIdAndSecContext(id.user, id.context) }
}

/// The role code runs as now (after SET ROLE or a SECURITY DEFINER switch).
pub fn current_user() -> pg_sys::Oid {
    current().user
}

/// Run `f` as `role` inside a security-restricted operation, then put the caller's
/// identity and every setting `f` changed back, whether `f` returns or raises.
pub fn restricted<T>(role: pg_sys::Oid, f: impl FnOnce() -> T) -> T {
    as_user(role, true, f)
}

/// Run `f` as `role` with SET ROLE and SET SESSION AUTHORIZATION refused by the server
/// (a local user-id change, as inside a SECURITY DEFINER function) and, when
/// `restricted`, inside a security-restricted operation as well; then put the caller's
/// identity and every setting `f` changed back, whether `f` returns or raises.
///
/// Why not always restricted: PostgreSQL's own REFRESH MATERIALIZED VIEW CONCURRENTLY
/// creates a temporary table, which a security-restricted operation refuses. SQL whose
/// author the caller trusts (itself, a role it belongs to, a superuser) may need it and
/// cannot harm the caller; SQL by anyone else always runs restricted, so that it cannot
/// leave a temporary view or table behind in a session that runs with more rights.
pub fn as_user<T>(role: pg_sys::Oid, restricted: bool, f: impl FnOnce() -> T) -> T {
    let caller = current();
    let flags = if restricted { RESTRICTED } else { pg_sys::SECURITY_LOCAL_USERID_CHANGE as c_int };
    // SAFETY: a new GUC nest level is popped below on both paths (AtEOXact_GUC with
    // the level it returned), the way PostgreSQL's maintenance commands pair them.
    let level = unsafe { pg_sys::NewGUCNestLevel() };
    set(Identity { user: role, context: caller.context | flags });
    PgTryBuilder::new(AssertUnwindSafe(f))
        .finally(|| {
            set(caller);
            // SAFETY: `level` is the nest level pushed above; isCommit = false undoes
            // every setting changed inside it (the caller's own are below it).
            unsafe { pg_sys::AtEOXact_GUC(false, level) };
        })
        .execute()
}

/// For a background worker's whole session: act as `role` from now on, in a context
/// where the server refuses every identity change (and, when `restricted`, every
/// security-restricted command too). Called between transactions, so that each later
/// transaction starts with (and, if it aborts, returns to) this identity.
pub fn become_for_session(role: pg_sys::Oid, restricted: bool) {
    let flags = if restricted { RESTRICTED } else { pg_sys::SECURITY_LOCAL_USERID_CHANGE as c_int };
    set(Identity { user: role, context: current().context | flags });
}
