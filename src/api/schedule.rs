use pgrx::prelude::*;
use pgrx::spi::quote_literal;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::{raise, required, OrInternal};
use crate::pg::subxact::{in_subtransaction, OnSuccess};

/// pg_cron must be preloaded and created in this database; say exactly what is missing.
fn require_pg_cron() {
    let created =
        Spi::get_one::<bool>("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron')")
            .or_internal("pg_extension")
            .unwrap_or(false);
    if created {
        return;
    }
    // shared_preload_libraries is readable only by superusers and pg_read_all_settings:
    // a role that may not read it is told what it can act on, not a 42501 about a
    // setting it did not ask for.
    let preloaded = in_subtransaction(OnSuccess::Rollback, || {
        Spi::get_one::<bool>(
            "SELECT 'pg_cron' OPERATOR(pg_catalog.=) ANY(pg_catalog.string_to_array(pg_catalog.replace(pg_catalog.current_setting('shared_preload_libraries'), ' ', ''), ','))",
        )
        .or_internal("shared_preload_libraries")
        .unwrap_or(false)
    });
    let preloaded = match preloaded {
        Ok(p) => p,
        Err(e) if e.code == Code::ERRCODE_INSUFFICIENT_PRIVILEGE => raise(
            Code::ERRCODE_FEATURE_NOT_SUPPORTED,
            "scheduling needs the pg_cron extension in this database, and it is not there",
            Some("Ask a superuser to load pg_cron (shared_preload_libraries, cron.database_name) and run CREATE EXTENSION pg_cron in this database, or to schedule the run with cron.schedule_in_database from pg_cron's database."),
        ),
        Err(e) => e.raise(),
    };
    let db = Spi::get_one::<String>("SELECT pg_catalog.current_database()::text").or_internal("db").unwrap_or_default();
    if !preloaded {
        raise(
            Code::ERRCODE_FEATURE_NOT_SUPPORTED,
            "scheduling needs pg_cron, which is not loaded by this server",
            Some(&format!(
                "Add to postgresql.conf:\n  shared_preload_libraries = 'pg_cron'\n  cron.database_name = '{db}'\nrestart PostgreSQL, then run CREATE EXTENSION pg_cron; in database {db}."
            )),
        );
    }
    let cron_db = Spi::get_one::<String>("SELECT pg_catalog.current_setting('cron.database_name', true)")
        .ok()
        .flatten()
        .unwrap_or_else(|| "postgres".into());
    if cron_db != db {
        // pg_cron can be created only in cron.database_name; from there it schedules
        // jobs for any database.
        raise(
            Code::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!("scheduling needs pg_cron, which works in database \"{cron_db}\" (cron.database_name), not in \"{db}\""),
            Some(&format!(
                "In database {cron_db} (with CREATE EXTENSION pg_cron there), run:\n  SELECT cron.schedule_in_database('pg_perfsuite', '0 3 * * *', 'SELECT count(*) FROM {}.perf_run_all()', {});\nor set cron.database_name = '{db}' in postgresql.conf and restart.",
                crate::pg::catalog::own_schema_q(),
                pgrx::spi::quote_literal(&db)
            )),
        );
    }
    raise(
        Code::ERRCODE_FEATURE_NOT_SUPPORTED,
        "scheduling needs the pg_cron extension in this database",
        Some(&format!("Run CREATE EXTENSION pg_cron; here (database {db} is cron.database_name).")),
    )
}

/// Schedule the plan with pg_cron (`schedule` in cron syntax). Calling it again with
/// the same `job_name` updates that job. Returns pg_cron's job id.
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn perf_schedule(
    schedule: Option<&str>,
    job_name: default!(Option<&str>, "'pg_perfsuite'"),
    pattern: default!(Option<&str>, "'%'"),
    target_schema: default!(Option<&str>, "'public'"),
    iterations: default!(Option<i32>, "NULL"),
) -> i64 {
    let schedule = required(schedule, "schedule");
    let job_name = required(job_name, "job_name");
    let pattern = required(pattern, "pattern");
    let target_schema = required(target_schema, "target_schema");
    if let Some(n) = iterations {
        if !(1..=100_000).contains(&n) {
            crate::errors::bad_argument(format!("iterations must be between 1 and 100000 (got {n})"), None);
        }
    }
    require_pg_cron();
    // pg_cron stores a command text, so the values are quoted as literals (no bind
    // parameters exist at that point); the function is named with its schema.
    let command = format!(
        "SELECT pg_catalog.count(*) FROM {}.perf_run({}, target_schema => {}, iterations => {})",
        crate::pg::catalog::own_schema_q(),
        quote_literal(pattern),
        quote_literal(target_schema),
        iterations.map(|n| n.to_string()).unwrap_or_else(|| "NULL".into())
    );
    // pg_cron reports a schedule it cannot parse without a SQLSTATE (XX000): that is the
    // caller's argument, so it is raised again as 22023 naming it.
    let scheduled = in_subtransaction(OnSuccess::Commit, || {
        Spi::get_one_with_args::<i64>(
            "SELECT cron.schedule($1, $2, $3)",
            &[job_name.into(), schedule.into(), command.into()],
        )
        .unwrap_or_else(|e| crate::errors::internal("calling cron.schedule", e))
    });
    match scheduled {
        Ok(Some(id)) => id,
        Ok(None) => crate::errors::internal("calling cron.schedule", "no job id returned"),
        Err(e) if e.code == Code::ERRCODE_INTERNAL_ERROR => crate::errors::bad_argument(
            format!("schedule \"{schedule}\" was refused by pg_cron: {}", e.message),
            Some("pg_cron takes cron syntax ('0 3 * * *': minute hour day month weekday) or '@daily'-style names."),
        ),
        Err(e) => e.raise(),
    }
}

/// Remove a schedule made by perf_schedule; false when there was none of that name.
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn perf_unschedule(job_name: default!(Option<&str>, "'pg_perfsuite'")) -> bool {
    let job_name = required(job_name, "job_name");
    require_pg_cron();
    let exists = Spi::get_one_with_args::<bool>(
        "SELECT EXISTS (SELECT 1 FROM cron.job WHERE jobname = $1 AND username = current_user)",
        &[job_name.into()],
    )
    .or_internal("cron.job")
    .unwrap_or(false);
    exists
        && Spi::get_one_with_args::<bool>("SELECT cron.unschedule($1)", &[job_name.into()])
            .or_internal("cron.unschedule")
            .unwrap_or(false)
}
