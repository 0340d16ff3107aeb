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

/// Refill `customer_metrics` after a generation. The view aggregates every conversation
/// and event per customer, one hash entry per customer: with the session's work_mem
/// (4 MB by default) its hash aggregates spill to disk from about 10^5 customers on.
/// Refilling it after a load is maintenance work, so the one statement runs with
/// work_mem = maintenance_work_mem and hash_mem_multiplier = 1, the settings PostgreSQL
/// gives its own foreign-key validation query; the caller's are put back right after
/// (an error aborts the transaction, which puts them back too).
pub fn refresh_metrics(target: &Target) {
    let memory = crate::pg::guc::current("maintenance_work_mem");
    crate::pg::guc::with_local(&[("work_mem", &memory), ("hash_mem_multiplier", "1")], || {
        Spi::run(&format!("REFRESH MATERIALIZED VIEW {}", target.rel("customer_metrics")))
            .or_internal("refresh customer_metrics")
    });
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
