//! Seeding the tables under test: a company and its user (recorded in the ledger),
//! counts, the closing metrics refresh and ANALYZE. Shared by the plan's scenario data
//! (suite::setup) and the multi-tenant generator (tenants).

use pgrx::prelude::*;

use super::model::parse_uuid;
use crate::errors::OrInternal;
use crate::sut::Target;

/// Insert a company and its user unless they exist (works without unique constraints).
/// A company inserted here is recorded in `perf_generated_companies`, so that
/// `perf_cleanup()` can later remove exactly what pg_perfsuite created.
pub fn ensure_company(target: &Target, company: &str, name: &str, user: &str, email: &str) {
    let inserted = Spi::get_one_with_args::<bool>(
        &format!(
            "WITH ins AS (INSERT INTO {c} (id, name) SELECT $1::uuid, $2 \
                           WHERE NOT EXISTS (SELECT 1 FROM {c} WHERE id = $1::uuid) RETURNING id) \
             SELECT EXISTS (SELECT 1 FROM ins)",
            c = target.rel("companies")
        ),
        &[company.into(), name.into()],
    )
    .or_internal("company row")
    .unwrap_or(false);
    if inserted {
        // Through the ledger's own function: nobody may write the ledger directly.
        Spi::run_with_args(
            &format!("SELECT {}.perf_ledger_record($1, $2::uuid)", crate::pg::catalog::own_schema_q()),
            &[target.schema.as_str().into(), company.into()],
        )
        .or_internal("ledger entry");
    }
    Spi::run_with_args(
        &format!(
            "INSERT INTO {u} (id, email, company_id) SELECT $1::uuid, $2, $3::uuid WHERE NOT EXISTS (SELECT 1 FROM {u} WHERE id = $1::uuid)",
            u = target.rel("users")
        ),
        &[user.into(), email.into(), company.into()],
    )
    .or_internal("user row");
}

pub fn customer_count(target: &Target, company: &str) -> i64 {
    Spi::get_one_with_args::<i64>(
        &format!("SELECT pg_catalog.count(*) FROM {} WHERE company_id = $1::uuid", target.rel("customers")),
        &[company.into()],
    )
    .or_internal("customer count")
    .unwrap_or(0)
}

pub fn refresh_metrics(target: &Target) {
    Spi::run(&format!("REFRESH MATERIALIZED VIEW {}", target.rel("customer_metrics")))
        .or_internal("refresh customer_metrics");
}

/// Refresh planner statistics of the tables under test (the plan's remediation step 3,
/// done up front so that plans reflect the generated data).
pub fn analyze(target: &Target) {
    for rel in crate::sut::columns::relation_names() {
        Spi::run(&format!("ANALYZE {}", target.rel(rel))).or_internal("ANALYZE");
    }
}

/// A uuid from text this crate wrote (the plan's constant and pattern ids).
pub fn uuid(text: &str) -> pgrx::Uuid {
    // Invariant: only called with the plan's fixed ids and their generated patterns.
    pgrx::Uuid::from_bytes(parse_uuid(text).or_internal("a well-formed constant uuid"))
}
