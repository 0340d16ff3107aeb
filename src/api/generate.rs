use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::{bad_argument, raise, required};
use crate::generate::writer::{self, Request};
use crate::suite::setup::refresh_metrics;
use crate::sut::{self, Target};

/// Largest `p_count` accepted in one call (100x the plan's largest tenant).
pub const MAX_COUNT: i32 = 10_000_000;

/// Drop-in replacement of the plan's PL/pgSQL `generate_test_customers`: the same
/// customers, matching keys (through the schema's triggers), 3-10 conversations and
/// 3-7 events each, a metrics refresh and the same NOTICEs, written in batches.
/// `p_seed` makes the data reproducible; `p_schema` names where the tables are.
#[pg_extern(volatile)]
#[search_path(@extschema@, pg_catalog)]
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
    let target = sut::ensure_schema(p_schema);
    check_company_and_user(&target, company, user);
    let seed = p_seed.map(|s| s as u64).unwrap_or_else(fresh_seed);
    let counts = writer::write(&Request {
        target: &target,
        company_id: company,
        user_id: user,
        count: count as i64,
        seed,
        progress_notices: true,
    });
    refresh_metrics(&target);
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
    .expect("company lookup")
    .unwrap_or(false);
    if !company_exists {
        raise(
            Code::ERRCODE_FOREIGN_KEY_VIOLATION,
            format!("p_company_id {company} does not exist in {}", target.rel("companies")),
            Some("Insert the company (and its user) first, as the plan's scenario setup does."),
        );
    }
    let user_company = Spi::get_one_with_args::<pgrx::Uuid>(
        &format!("SELECT company_id FROM {} WHERE id = $1", target.rel("users")),
        &[user.into()],
    )
    .expect("user lookup");
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
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ ((std::process::id() as u64) << 32)
}
