//! Locks no SQL statement can take.
//!
//! Advisory locks are open to every role with CONNECT: anyone could hold
//! `pg_advisory_lock(k)` and block every run. These locks use the lock manager's
//! `LOCKTAG_USERLOCK` tag type, which PostgreSQL keeps for extensions and never hands
//! out through SQL, so only this library's code can acquire one. They show in pg_locks
//! as `locktype = 'userlock'` with `classid = 'perf'` and `objid` = the key.
//! They live in the user lock method (like advisory locks): a session-scoped one
//! survives the commits of a background worker's many transactions and is released
//! when the process exits.

use pgrx::pg_sys;

/// `'perf'` as four ASCII bytes: the classid shown in pg_locks.
pub const CLASS: u32 = 0x7065_7266;

/// What a lock protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// One run at a time per database.
    Runs = 1,
    /// Test 5.4's handshake: the second session waits on it until this session is done.
    Handshake = 2,
    /// A load test's coordinator holds it (with the load test's number) while it runs:
    /// whoever can take it knows the coordinator is gone.
    LoadTest = 3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Share,
    Exclusive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Released at the end of the transaction.
    Transaction,
    /// Held across transactions until released or the process exits.
    Session,
}

/// The lock's tag: this database, `'perf'`, then (objid, objsubid in pg_locks) the key
/// and 0 for the single locks, or the thing's number and the key for numbered ones.
fn tag(key: Key, id: u32) -> pg_sys::LOCKTAG {
    // SAFETY: MyDatabaseId is a plain backend-local global, set once connected.
    let database = unsafe { pg_sys::MyDatabaseId }.to_u32();
    let (field3, field4) = match key {
        Key::LoadTest => (id, key as u16),
        _ => (key as u32, 0),
    };
    pg_sys::LOCKTAG {
        locktag_field1: database,
        locktag_field2: CLASS,
        locktag_field3: field3,
        locktag_field4: field4,
        locktag_type: pg_sys::LockTagType::LOCKTAG_USERLOCK as u8,
        locktag_lockmethodid: pg_sys::USER_LOCKMETHOD as u8,
    }
}

fn lockmode(mode: Mode) -> pg_sys::LOCKMODE {
    (match mode {
        Mode::Share => pg_sys::ShareLock,
        Mode::Exclusive => pg_sys::ExclusiveLock,
    }) as pg_sys::LOCKMODE
}

/// Take the lock if it is free now; false when another process holds a conflicting one.
pub fn try_acquire(key: Key, mode: Mode, scope: Scope) -> bool {
    try_acquire_id(key, 0, mode, scope)
}

/// `try_acquire` of the lock of one numbered thing (a load test).
pub fn try_acquire_id(key: Key, id: u32, mode: Mode, scope: Scope) -> bool {
    let tag = tag(key, id);
    // SAFETY: a fully initialised LOCKTAG of the user lock method and a valid mode;
    // dontWait = true never sleeps. The lock manager copies the tag.
    let got = unsafe { pg_sys::LockAcquire(&tag, lockmode(mode), scope == Scope::Session, true) };
    got != pg_sys::LockAcquireResult::LOCKACQUIRE_NOT_AVAIL
}

/// Wait for the lock. The wait is the lock manager's: it wakes for cancel and
/// terminate, and honours lock_timeout and the deadlock detector.
pub fn acquire(key: Key, mode: Mode, scope: Scope) {
    acquire_id(key, 0, mode, scope)
}

/// `acquire` of the lock of one numbered thing.
pub fn acquire_id(key: Key, id: u32, mode: Mode, scope: Scope) {
    let tag = tag(key, id);
    // SAFETY: as in try_acquire; dontWait = false sleeps in ProcSleep, which checks
    // for interrupts and raises on lock_timeout.
    unsafe {
        pg_sys::LockAcquire(&tag, lockmode(mode), scope == Scope::Session, false);
    }
}

/// Release a lock taken with the same key, mode and scope (a no-op with a WARNING
/// from PostgreSQL when it is not held).
pub fn release(key: Key, mode: Mode, scope: Scope) {
    release_id(key, 0, mode, scope)
}

/// `release` of the lock of one numbered thing.
pub fn release_id(key: Key, id: u32, mode: Mode, scope: Scope) {
    let tag = tag(key, id);
    // SAFETY: as in try_acquire.
    unsafe {
        pg_sys::LockRelease(&tag, lockmode(mode), scope == Scope::Session);
    }
}

/// The pg_locks filter that finds one of these locks (`$1` = the key).
pub const PG_LOCKS_FILTER: &str = "locktype = 'userlock' AND classid = 1885696614::oid AND objid = $1::int4::oid";

/// The advisory locks this session holds now, as (key columns of pg_locks, mode).
pub type AdvisoryLock = (i64, i64, i32, String);

pub fn advisory_held() -> Vec<AdvisoryLock> {
    pgrx::spi::Spi::connect(|c| {
        c.select(
            "SELECT classid::pg_catalog.int8, objid::pg_catalog.int8, objsubid::pg_catalog.int4, mode::pg_catalog.text \
               FROM pg_catalog.pg_locks \
              WHERE locktype OPERATOR(pg_catalog.=) 'advisory' AND pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid() AND granted",
            None,
            &[],
        )?
        .map(|r| Ok((r.get(1)?.unwrap_or(0), r.get(2)?.unwrap_or(0), r.get(3)?.unwrap_or(0), r.get(4)?.unwrap_or_default())))
        .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .unwrap_or_else(|e| crate::errors::internal("advisory locks held", e))
}

/// Release the session-level advisory locks taken since `before` was read: SQL a test
/// ran (`pg_advisory_lock`) would otherwise keep them in this session, a superuser's or
/// the run's worker, after the test, and block whoever else uses those keys. A lock a
/// transaction took ends with it; unlocking one is a no-op that returns false.
pub fn release_advisory_since(before: &[AdvisoryLock]) {
    for (classid, objid, subid, mode) in advisory_held() {
        if before.iter().any(|b| *b == (classid, objid, subid, mode.clone())) {
            continue;
        }
        let shared = if mode == "ShareLock" { "_shared" } else { "" };
        // objsubid 1: one bigint key, split into its two halves; 2: two int4 keys.
        let (sql, args): (String, Vec<pgrx::datum::DatumWithOid>) = if subid == 1 {
            (format!("SELECT pg_catalog.pg_advisory_unlock{shared}($1)"), vec![((classid << 32) | objid).into()])
        } else {
            (
                format!("SELECT pg_catalog.pg_advisory_unlock{shared}($1, $2)"),
                vec![(classid as u32 as i32).into(), (objid as u32 as i32).into()],
            )
        };
        // A key can be held many times over; release every hold (as many calls as the
        // test made to take them), waking for interrupts on the way. pg_locks does not
        // tell a session lock from a transaction's, and unlocking a transaction's lock
        // is a no-op with a WARNING: kept from the client, and from the server log where
        // the role may say so (log_min_messages is a superuser's setting).
        let quiet: &[(&str, &str)] = if super::roles::is_superuser() {
            &[("client_min_messages", "error"), ("log_min_messages", "error")]
        } else {
            &[("client_min_messages", "error")]
        };
        crate::pg::guc::with_local(quiet, || {
            for n in 0u64.. {
                if !pgrx::spi::Spi::get_one_with_args::<bool>(&sql, &args).ok().flatten().unwrap_or(false) {
                    break;
                }
                if n % 1000 == 999 {
                    pgrx::check_for_interrupts!();
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn class_is_perf() {
        assert_eq!(super::CLASS.to_be_bytes(), *b"perf");
        assert!(super::PG_LOCKS_FILTER.contains(&super::CLASS.to_string()));
    }
}
