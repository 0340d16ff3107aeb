//! pg_perfsuite: the Phase 3B customer-management performance test plan, run inside
//! PostgreSQL. This file only wires modules and SQL together.

use pgrx::prelude::*;

// Layers, each importing only from its own layer or below (docs/architecture.md):
//   entry points     api, worker
//   orchestration    runner, load
//   store            store (queries on the extension's own tables)
//   domain           suite, generate, sut, access, report, explain
//   base             pg (PostgreSQL glue), errors, gucs
mod access;
mod api;
mod errors;
mod explain;
mod generate;
mod gucs;
mod load;
mod pg;
mod report;
mod runner;
mod store;
mod suite;
mod sut;
mod worker;
mod workload;

#[cfg(any(test, feature = "pg_test"))]
mod tests;

pgrx::pg_module_magic!();

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    // Errors raised from Rust carry a backtrace in their DETAIL when backtraces are
    // captured; a DBA should see the message, never Rust frames. RUST_LIB_BACKTRACE
    // governs only std::backtrace capture (not panics printed by the runtime), and a
    // developer who sets it keeps it.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // A backend is single-threaded while it loads a library, so changing the
        // environment here races with nothing.
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    gucs::init();
}

extension_sql_file!("../sql/results_tables.sql", name = "results_tables", bootstrap);
extension_sql_file!("../sql/suite_phase3b.sql", name = "suite_phase3b", requires = ["results_tables"]);
extension_sql_file!("../sql/suite_requirements.sql", name = "suite_requirements", requires = ["suite_phase3b"]);
extension_sql_file!("../sql/load.sql", name = "load", requires = ["results_tables"]);
extension_sql_file!("../sql/views.sql", name = "views", requires = ["results_tables"]);
extension_sql_file!("../sql/scaling.sql", name = "scaling", requires = ["results_tables"]);

// Functions that write data are not for PUBLIC: a DBA grants them to whoever may run tests.
extension_sql_file!("../sql/finalize.sql", name = "privileges", finalize);

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    /// The #[pg_test] cluster: worker slots for background runs, and (PostgreSQL 15,
    /// where Debian ships it) pg_stat_statements preloaded for the run's query
    /// statistics. The client-driven tests (pgrx-tests/) get a cluster of their own.
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        let mut conf = vec!["max_worker_processes = 24"];
        if cfg!(feature = "pg15") {
            conf.push("shared_preload_libraries = 'pg_stat_statements'");
        }
        conf
    }
}
