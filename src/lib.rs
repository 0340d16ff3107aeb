//! pg_perfsuite: the Phase 3B customer-management performance test plan, run inside
//! PostgreSQL. This file only wires modules and SQL together.

use pgrx::prelude::*;

mod api;
mod errors;
mod explain;
mod generate;
mod runner;
mod suite;
mod sut;

#[cfg(any(test, feature = "pg_test"))]
mod tests;

pgrx::pg_module_magic!();

extension_sql_file!("../sql/results_tables.sql", name = "results_tables", bootstrap);
extension_sql_file!("../sql/suite_phase3b.sql", name = "suite_phase3b", requires = ["results_tables"]);

// Functions that write data are not for PUBLIC: a DBA grants them to whoever may run tests.
extension_sql!(
    r#"
REVOKE EXECUTE ON FUNCTION perf_install_schema(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION log_performance_test(text, text, numeric, integer, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION generate_test_customers(uuid, integer, uuid, bigint, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_run_all(text, integer, bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_run(text, text, integer, bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION perf_generate(integer, integer, bigint, text) FROM PUBLIC;
"#,
    name = "privileges",
    finalize
);

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
