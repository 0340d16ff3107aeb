//! Starting a dynamic background worker for a job, connected to the caller's database.

use pgrx::bgworkers::{BackgroundWorkerBuilder, DynamicBackgroundWorker};
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use super::job::{pack_oids, Job};
use crate::errors::{raise, OrInternal};

/// The role a worker acts as (pg::secctx::become_for_session): the caller's current
/// role when it differs from the session's login role (a worker can only connect as a
/// login role); 0 when they are the same.
pub fn role_to_assume() -> u32 {
    // SAFETY: plain reads of backend-local identity state.
    let (current, session) = unsafe { (pg_sys::GetUserId(), pg_sys::GetSessionUserId()) };
    if current == session {
        0
    } else {
        current.to_u32()
    }
}

/// Background-worker slots not in use now: max_worker_processes minus the processes
/// in pg_stat_activity that are background workers. Bgworkers show their own type
/// there, so the count excludes every process type that is *not* one (PostgreSQL
/// 15-18, including 17's walsummarizer and slotsync worker and 18's io workers).
/// pg_stat_activity hides other roles' backend_type from a role without
/// pg_read_all_stats, so this fixed query of the crate's own is read as the bootstrap
/// superuser, in a security-restricted operation.
pub fn free_worker_slots() -> i64 {
    super::secctx::restricted(pg_sys::Oid::from_u32(pg_sys::BOOTSTRAP_SUPERUSERID), || {
        Spi::run("SELECT pg_catalog.pg_stat_clear_snapshot()").or_internal("pg_stat_clear_snapshot");
        Spi::get_one::<i64>(
            "SELECT pg_catalog.current_setting('max_worker_processes')::pg_catalog.int4 \
                  OPERATOR(pg_catalog.-) (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity \
                      WHERE backend_type OPERATOR(pg_catalog.<>) ALL (ARRAY['client backend', 'autovacuum launcher', 'autovacuum worker', \
                            'background writer', 'checkpointer', 'walwriter', 'startup', 'walreceiver', \
                            'walsender', 'archiver', 'logger', 'standalone backend', 'walsummarizer', \
                            'slotsync worker', 'io worker']::pg_catalog.text[]))",
        )
        .or_internal("worker slots")
        .unwrap_or(0)
    })
}

/// The slots the current role may take now: all free ones for a superuser; for any
/// other role, those beyond `pg_perfsuite.reserved_worker_slots`.
pub fn usable_worker_slots() -> i64 {
    usable_worker_slots_for(super::roles::is_superuser())
}

/// The slots workers acting as a superuser (`superuser`) or another role may take.
pub fn usable_worker_slots_for(superuser: bool) -> i64 {
    let free = free_worker_slots();
    if superuser {
        free
    } else {
        (free - i64::from(crate::gucs::reserved_worker_slots())).max(0)
    }
}

/// Launch a worker for `job`; raises 53400 with a HINT when no worker slot is free.
pub fn launch(job: &Job, title: &str) -> DynamicBackgroundWorker {
    let extra = job.encode().unwrap_or_else(|e| {
        crate::errors::bad_argument(e, Some("Use a shorter pattern, or run in this session with background => false."))
    });
    // SAFETY: plain reads of backend-local globals.
    let (database, login_role, me) =
        unsafe { (pg_sys::MyDatabaseId.to_u32(), pg_sys::GetSessionUserId().to_u32(), pg_sys::MyProcPid) };
    BackgroundWorkerBuilder::new(title)
        .set_type("pg_perfsuite")
        .set_library("pg_perfsuite")
        .set_function("pg_perfsuite_worker_main")
        .enable_spi_access()
        .set_argument(Some(pg_sys::Datum::from(pack_oids(database, login_role))))
        .set_extra(&extra)
        .set_notify_pid(me)
        .load_dynamic()
        .unwrap_or_else(|_| {
            // SAFETY: read of a GUC's backing variable.
            let slots = unsafe { pg_sys::max_worker_processes };
            raise(
                Code::ERRCODE_CONFIGURATION_LIMIT_EXCEEDED,
                format!("could not start a background worker: all {slots} max_worker_processes slots are in use"),
                Some("Raise max_worker_processes in postgresql.conf (needs a restart), wait for other workers (parallel query, pg_cron, replication) to finish, or run in this session with background => false."),
            )
        })
}

/// Start `job` and wait until the postmaster has started it; returns the worker and its PID.
pub fn start(job: &Job, title: &str) -> (DynamicBackgroundWorker, i32) {
    let worker = launch(job, title);
    match worker.wait_for_startup() {
        Ok(pid) => {
            // A backend a test starts is part of the test's wait profile.
            super::waits::watch(pid);
            (worker, pid)
        }
        Err(status) => raise(
            Code::ERRCODE_CONFIGURATION_LIMIT_EXCEEDED,
            format!("the background worker did not start ({status:?})"),
            Some("See the server log; or run in this session with background => false."),
        ),
    }
}

/// In a background worker: the backend that launched it (and is told when it stops).
pub fn launcher_pid() -> i32 {
    // SAFETY: MyBgworkerEntry is set for the life of a background worker, and this is
    // called only from one.
    unsafe { (*pg_sys::MyBgworkerEntry).bgw_notify_pid }
}
