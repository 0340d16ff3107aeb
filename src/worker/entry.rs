//! The worker's entry point: connect, take on the role the job runs as, do the job.
//!
//! A worker connects as the caller's login role (PostgreSQL 15 and 16 cannot connect a
//! worker as a NOLOGIN role) and then acts as the job's role for the rest of its life
//! in a context where the server refuses every identity change (pg::secctx): SQL run
//! here cannot SET ROLE, RESET ROLE or SET SESSION AUTHORIZATION its way back to the
//! login role. Load clients and 5.4's second session, which run nothing but a script
//! or a test's SQL, are security-restricted as a whole; a run's worker restricts each
//! test (runner::context) and keeps temporary tables for its own set-up work.

use pgrx::bgworkers::BackgroundWorker;
use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::errors::{OrInternal, SqlError};
use crate::pg::job::{unpack_oids, Flags, Job};
use crate::pg::signals;
use crate::runner::concurrency;
use crate::runner::mode::Mode;
use crate::runner::run::{self, Options};
use crate::store::runs;

#[pg_guard]
#[no_mangle]
pub extern "C-unwind" fn pg_perfsuite_worker_main(arg: pg_sys::Datum) {
    signals::install_signal_handlers();
    let (database, login_role) = unpack_oids(arg.value() as u64);
    BackgroundWorker::connect_worker_to_spi_by_oid(
        Some(pg_sys::Oid::from_u32(database)),
        Some(pg_sys::Oid::from_u32(login_role)),
    );
    // Invariant: bgw_extra holds what pg::bgworker::launch encoded.
    let job = Job::decode(BackgroundWorker::get_extra())
        .unwrap_or_else(|e| crate::errors::internal("reading the worker's job", e));
    match job {
        Job::Run { schema, pattern, iterations, seed, role, time_limit_ms, flags, scale } => {
            settle_session(role, Some(time_limit_ms), false);
            let flags = Flags::from_bits(flags);
            run_suite(&Options {
                target_schema: &schema,
                pattern: &pattern,
                iterations,
                seed: seed as u64,
                allow_existing_data: flags.allow_existing_data,
                keep_data: flags.keep_data,
                trust_schema_owners: flags.trust_schema_owners,
                cold_cache: flags.cold_cache,
                timed_only: flags.timed_only,
                measure_advice: flags.measure_advice,
                scale,
            })
        }
        Job::LoadClient {
            load_id,
            client,
            script,
            schema,
            transactions,
            duration_ms,
            delay_ms,
            pace_ns,
            arrivals,
            skip_us,
            role,
        } => {
            settle_session(role, None, true);
            crate::load::client::run(&crate::load::client::ClientJob {
                load_id,
                client,
                script_name: &script,
                schema: &schema,
                transactions,
                duration: std::time::Duration::from_millis(duration_ms.max(0) as u64),
                start_delay: std::time::Duration::from_millis(delay_ms.max(0) as u64),
                schedule: (pace_ns > 0).then(|| {
                    let arrivals = crate::workload::schedule::Arrivals::parse(&arrivals).unwrap_or_else(|| {
                        crate::errors::internal(
                            "reading a load client's job",
                            format!("unknown arrivals \"{arrivals}\""),
                        )
                    });
                    (arrivals, std::time::Duration::from_nanos(pace_ns as u64))
                }),
                skip_late: (skip_us > 0).then(|| std::time::Duration::from_micros(skip_us as u64)),
            })
        }
        Job::Hold { test_id, schema, role } => {
            settle_session(role, None, true);
            concurrency::hold(&test_id, &schema)
        }
    }
}

/// Make the worker's session like the caller's function call: search_path pinned to
/// the extension's schema (as the SQL functions pin it), the caller's test time limit,
/// and the job's role (0: the login role) taken on for good, `restricted` or not.
fn settle_session(role: u32, time_limit_ms: Option<i32>, restricted: bool) {
    Mode::Worker.step(|| {
        let path = format!("pg_catalog, {}, pg_temp", crate::pg::catalog::own_schema_q());
        Spi::run_with_args("SELECT pg_catalog.set_config('search_path', $1, false)", &[path.into()])
            .or_internal("search_path");
        if let Some(ms) = time_limit_ms {
            Spi::run_with_args(
                "SELECT pg_catalog.set_config('pg_perfsuite.test_time_limit', $1, false)",
                &[ms.to_string().into()],
            )
            .or_internal("test_time_limit");
            // A run's own writes never wait forever: a role that may lock one of the
            // extension's tables (operators may) can then fail a run, not hold it.
            // Tests set their own lock_timeout where their point is a wait (5.4).
            Spi::run("SELECT pg_catalog.set_config('lock_timeout', '60s', false)").or_internal("lock_timeout");
        }
        if role != 0 && crate::pg::roles::role_name(role).is_none() {
            crate::errors::raise(
                pgrx::PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                format!("role {role}, which the run was started as, no longer exists"),
                None,
            )
        }
    });
    // Between transactions: every later transaction starts as this role, and one that
    // aborts comes back to it.
    let who = if role == 0 { crate::pg::roles::session_user() } else { pg_sys::Oid::from_u32(role) };
    crate::pg::secctx::become_for_session(who, restricted);
}

fn run_suite(opts: &Options) {
    let launcher = crate::pg::bgworker::launcher_pid();
    // A run refused at its start (the checks the caller made, repeated here under the
    // run lock) leaves a failed run row with the error's SQLSTATE, which the waiting
    // caller raises as its own.
    let begun = PgTryBuilder::new(|| Ok(run::begin(opts, Mode::Worker, Some(launcher))))
        .catch_others(|e| {
            crate::pg::xact::abort_current_transaction();
            Err(SqlError::from_caught(&e))
        })
        .execute();
    let begun = match begun {
        Ok(b) => b,
        Err(err) => return record_failed_start(opts, launcher, &err),
    };
    let failure = PgTryBuilder::new(|| {
        run::execute(&begun, opts, Mode::Worker);
        None
    })
    .catch_others(|e| {
        // The failed step's transaction is still open: end it, then record why the run stopped.
        crate::pg::xact::abort_current_transaction();
        Some(SqlError::from_caught(&e))
    })
    .execute();
    if let Some(err) = failure {
        let status = if err.is_cancel() { "cancelled" } else { "failed" };
        let note = format!("{status}: {} ({})", err.message, err.sqlstate());
        Mode::Worker.step(|| runs::end_run(begun.run_id, status, &note));
    }
}

fn record_failed_start(opts: &Options, launcher: i32, err: &SqlError) {
    let status = if err.is_cancel() { "cancelled" } else { "failed" };
    Mode::Worker.step(|| runs::failed_before_start(opts.pattern, opts.target_schema, status, launcher, err));
}
