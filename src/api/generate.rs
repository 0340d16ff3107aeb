use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::{bad_argument, raise, required, OrInternal};
use crate::generate::seed::refresh_metrics;
use crate::generate::writer::{self, Request};
use crate::sut::{self, Target};

/// Largest `p_count` accepted in one call (100x the plan's largest tenant).
pub const MAX_COUNT: i32 = 10_000_000;

/// Drop-in replacement of the plan's PL/pgSQL `generate_test_customers`: the same
/// customers, matching keys (through the schema's triggers), 3-10 conversations and
/// 3-7 events each, a metrics refresh and the same NOTICEs, written in batches.
/// `p_seed` makes the data reproducible; `p_schema` names where the tables are.
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn generate_test_customers(
    p_company_id: Option<pgrx::Uuid>,
    p_count: Option<i32>,
    p_user_id: Option<pgrx::Uuid>,
    p_seed: default!(Option<i64>, "NULL"),
    p_schema: default!(Option<&str>, "'public'"),
) {
    let company = required(p_company_id, "p_company_id");
    let count = required(p_count, "p_count");
    let user = required(p_user_id, "p_user_id");
    if !(1..=MAX_COUNT).contains(&count) {
        bad_argument(
            format!("p_count must be between 1 and {MAX_COUNT} (got {count})"),
            Some("Generate larger volumes in several calls."),
        );
    }
    let target = sut::ensure_schema(p_schema, crate::gucs::trust_schema_owners());
    check_company_and_user(&target, company, user);
    let seed = p_seed.map(|s| s as u64).unwrap_or_else(fresh_seed);
    let children = writer::Children::plan(&target);
    let counts = writer::write(&Request {
        target: &target,
        company_id: company,
        user_id: user,
        count: count as i64,
        seed,
        progress_notices: true,
        children: &children,
        copy: None,
    });
    refresh_metrics(&target);
    notice!("foreign keys of generated rows: {}", children.describe());
    notice!(
        "Successfully generated {} customers for company {} ({} conversations, {} events, seed {seed})",
        counts.customers,
        company,
        counts.conversations,
        counts.events
    );
}

/// The company must exist and the user must belong to it; checked before any write.
fn check_company_and_user(target: &Target, company: pgrx::Uuid, user: pgrx::Uuid) {
    let company_exists = Spi::get_one_with_args::<bool>(
        &format!("SELECT EXISTS (SELECT 1 FROM {} WHERE id = $1)", target.rel("companies")),
        &[company.into()],
    )
    .or_internal("company lookup")
    .unwrap_or(false);
    if !company_exists {
        raise(
            Code::ERRCODE_FOREIGN_KEY_VIOLATION,
            format!("p_company_id {company} does not exist in {}", target.rel("companies")),
            Some("Insert the company (and its user) first, as the plan's scenario setup does."),
        );
    }
    // A scalar subquery: one row even when the user does not exist.
    let user_company = Spi::get_one_with_args::<pgrx::Uuid>(
        &format!("SELECT (SELECT company_id FROM {} WHERE id = $1 LIMIT 1)", target.rel("users")),
        &[user.into()],
    )
    .or_internal("user lookup");
    match user_company {
        None => raise(
            Code::ERRCODE_FOREIGN_KEY_VIOLATION,
            format!("p_user_id {user} does not exist in {}", target.rel("users")),
            None,
        ),
        Some(c) if c != company => bad_argument(
            format!("p_user_id {user} belongs to company {c}, not to p_company_id {company}"),
            Some("Pass a user of the same company."),
        ),
        Some(_) => {}
    }
}

/// A seed for calls that give none: time and process id; reported in the final NOTICE
/// so that the data can be reproduced.
fn fresh_seed() -> u64 {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    nanos ^ ((std::process::id() as u64) << 32)
}

/// Scenario 5's generator: companies 1..`companies` with the plan's UUID patterns
/// (`aaaaaaaa-aaaa-aaaa-aaaa-00000000000N`, users `bbbbbbbb-…`), `customers_per_company`
/// customers each, `customer_metrics` refreshed once. Returns what was written.
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn perf_generate(
    companies: default!(Option<i32>, "10"),
    customers_per_company: default!(Option<i32>, "1000"),
    seed: default!(Option<i64>, "42"),
    target_schema: default!(Option<&str>, "'public'"),
) -> TableIterator<
    'static,
    (
        name!(companies, i32),
        name!(customers, i64),
        name!(conversations, i64),
        name!(events, i64),
        name!(matching_keys, i64),
        name!(elapsed_ms, f64),
    ),
> {
    let companies = required(companies, "companies");
    let per_company = required(customers_per_company, "customers_per_company");
    let seed = required(seed, "seed");
    if !(1..=MAX_TENANTS).contains(&companies) {
        bad_argument(format!("companies must be between 1 and {MAX_TENANTS} (got {companies})"), None);
    }
    if !(1..=MAX_COUNT).contains(&per_company) {
        bad_argument(format!("customers_per_company must be between 1 and {MAX_COUNT} (got {per_company})"), None);
    }
    let total = i64::from(companies) * i64::from(per_company);
    if total > MAX_TOTAL {
        bad_argument(
            format!("companies x customers_per_company must be at most {MAX_TOTAL} customers (got {companies} x {per_company} = {total})"),
            Some("About 16 rows are written per customer; generate larger volumes in several schemas, or in several calls with fewer companies."),
        );
    }
    let target = sut::ensure_schema(target_schema, crate::gucs::trust_schema_owners());
    refuse_tenants_with_data(&target, companies);
    let (f, bulk) = crate::generate::bulk::load(&target, |copy| {
        crate::generate::tenants::fill(&target, companies, per_company, seed as u64, false, copy)
    });
    crate::generate::seed::refresh_metrics(&target);
    if let Some(b) = bulk {
        notice!("{}", b.describe());
    }
    // The generated companies' keys (a key carries its customer's company): one scan of
    // the keys, where a join to their customers cost a second at 1M customers.
    let generated: Vec<String> = (1..=companies).map(crate::generate::tenants::company_id).collect();
    let keys = Spi::get_one_with_args::<i64>(
        &format!(
            "SELECT pg_catalog.count(*) FROM {} WHERE company_id = ANY ($1::text[]::uuid[])",
            target.rel("customer_matching_keys")
        ),
        &[generated.into()],
    )
    .or_internal("key count")
    .unwrap_or(0);
    TableIterator::once((companies, f.counts.customers, f.counts.conversations, f.counts.events, keys, f.elapsed_ms))
}

/// Largest number of tenants `perf_generate` creates in one call.
pub const MAX_TENANTS: i32 = 1000;

/// Most customers `perf_generate` writes in one call (100 times the plan's ten tenants
/// of 1000 customers, ~160M rows in all).
pub const MAX_TOTAL: i64 = 10_000_000;

/// perf_generate writes each tenant from scratch with the plan's UUIDs; tenants that
/// already have customers (from a run, or an earlier call) would collide on them. The
/// outcome is a clear refusal before anything is written, never a partial top-up.
fn refuse_tenants_with_data(target: &Target, companies: i32) {
    let filled: Vec<String> = (1..=companies)
        .map(crate::generate::tenants::company_id)
        .filter(|c| crate::generate::seed::customer_count(target, c) > 0)
        .collect();
    if let Some(first) = filled.first() {
        raise(
            Code::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!(
                "{} of the {companies} tenants already have customers in schema \"{}\" (first: company {first}); perf_generate writes tenants from scratch and changed nothing",
                filled.len(),
                target.schema
            ),
            Some(&format!(
                "Remove pg_perfsuite's generated data first with SELECT * FROM perf_cleanup({}), or generate into another schema.",
                pgrx::spi::quote_literal(&target.schema)
            )),
        );
    }
}
