//! Tests that need a real server (`cargo pgrx test`). Pure logic is tested beside it.
//! Each #[pg_test] runs in its own transaction, rolled back at the end.

mod cache;
mod cleanup;
mod generate;
mod grants;
mod report;
mod run;
mod scale;
mod schema;
mod security;

use pgrx::prelude::*;

/// Scalar result of a query that must return one non-NULL row.
pub fn one<T: pgrx::FromDatum + pgrx::IntoDatum>(sql: &str) -> T {
    Spi::get_one::<T>(sql).unwrap_or_else(|e| panic!("{sql}: {e}")).unwrap_or_else(|| panic!("{sql}: NULL"))
}

pub fn run(sql: &str) {
    Spi::run(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Run `sql`, expecting an error; returns it (with its SQLSTATE).
pub fn refused(sql: &str) -> crate::errors::SqlError {
    use crate::pg::subxact::{in_subtransaction, OnSuccess};
    in_subtransaction(OnSuccess::Rollback, || run(sql)).expect_err(sql)
}

/// Test sessions run in parallel in one database, and a second concurrent run is
/// refused by design, and tests that install the reference schema or grant roles change
/// shared catalog rows (the tenant role, schema ACLs) that they would otherwise deadlock
/// on: every such test first takes this test-only lock ("perf", 99), held to the end of
/// its transaction.
pub const SERIALIZE_SQL: &str = "SELECT pg_advisory_xact_lock(1885696614, 99)";

pub fn serialize_runs() {
    run(SERIALIZE_SQL);
}

/// Two companies A and B, each with one user, in the reference schema.
pub const COMPANY_A: &str = "aaaaaaaa-0000-0000-0000-00000000000a";
pub const COMPANY_B: &str = "aaaaaaaa-0000-0000-0000-00000000000b";
pub const USER_A: &str = "bbbbbbbb-0000-0000-0000-00000000000a";
pub const USER_B: &str = "bbbbbbbb-0000-0000-0000-00000000000b";

pub fn two_companies() {
    run("SELECT perf_install_schema()");
    two_companies_in("public");
}

/// Companies A and B with their users in `schema`, which has the reference tables.
pub fn two_companies_in(schema: &str) {
    run(&format!(
        "INSERT INTO {schema}.companies (id, name) VALUES ('{COMPANY_A}', 'A'), ('{COMPANY_B}', 'B');
         INSERT INTO {schema}.users (id, email, company_id) VALUES ('{USER_A}', 'a@a', '{COMPANY_A}'), ('{USER_B}', 'b@b', '{COMPANY_B}');"
    ));
}
