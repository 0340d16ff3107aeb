//! The ledger of generated companies (`perf_generated_companies`) decides what
//! perf_cleanup may delete, so nobody writes it directly: operators may only read it.
//! These two functions are the only writers. They run with the extension owner's
//! rights (SECURITY DEFINER, search_path pg_catalog then pg_temp) and check that what
//! they are told is true:
//! - a company is recorded only if its row was written by the calling transaction
//!   itself (its xmin is one of this transaction's ids), so an existing company can
//!   never be slipped in;
//! - an entry is forgotten only once its company row is gone.
//!
//! Every entry records the role that generated it; perf_cleanup deletes a company with
//! that role's rights (see runner::cleanup), never more.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::OrInternal;
use crate::errors::{raise, required};
use crate::pg::catalog::own_schema_q;

/// The companies table of `schema`, refused unless reading it as the extension owner
/// runs nobody else's code: an ordinary table, and no row-level security policy that
/// would be evaluated with the owner's rights.
fn companies_table(schema: &str) -> String {
    let safe = Spi::get_one_with_args::<bool>(
        "SELECT c.relkind IN ('r', 'p') \
                AND (NOT c.relrowsecurity OR r.rolsuper OR r.rolbypassrls) \
           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, \
                pg_catalog.pg_roles r \
          WHERE n.nspname = $1 AND c.relname = 'companies' AND r.rolname = current_user",
        &[schema.into()],
    )
    .ok()
    .flatten()
    .unwrap_or(false);
    if !safe {
        raise(
            Code::ERRCODE_WRONG_OBJECT_TYPE,
            format!("schema \"{schema}\" has no ordinary companies table the ledger can check"),
            None,
        );
    }
    format!("{}.companies", quote_identifier(schema))
}

/// Record that the calling transaction generated company `company_id` in `target_schema`.
#[pg_extern(volatile, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn perf_ledger_record(target_schema: Option<&str>, company_id: Option<pgrx::Uuid>) -> bool {
    let schema = required(target_schema, "target_schema");
    let company = required(company_id, "company_id");
    let table = companies_table(schema);
    let (rows, xmin) = Spi::get_two_with_args::<i64, i64>(
        &format!("SELECT pg_catalog.count(*), pg_catalog.min(xmin::text::int8) FROM {table} WHERE id = $1"),
        &[company.into()],
    )
    .unwrap_or((None, None));
    let ours = xmin.is_some_and(|x| crate::pg::xact::is_current_transaction_id(x as u32));
    if rows != Some(1) || !ours {
        raise(
            Code::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("company {company} in schema \"{schema}\" was not created by this transaction; only companies pg_perfsuite generates are recorded"),
            None,
        );
    }
    let generated_by = crate::pg::roles::outer_user();
    Spi::get_one_with_args::<bool>(
        &format!(
            "WITH ins AS (INSERT INTO {}.perf_generated_companies (target_schema, company_id, created_by) \
                          SELECT $1, $2, r.rolname FROM pg_catalog.pg_roles r WHERE r.oid = $3 \
                          ON CONFLICT DO NOTHING RETURNING 1) \
             SELECT EXISTS (SELECT 1 FROM ins)",
            own_schema_q()
        ),
        &[schema.into(), company.into(), generated_by.into()],
    )
    .or_internal("ledger insert")
    .unwrap_or(false)
}

/// Forget the ledger entries of `target_schema` whose company no longer exists there.
#[pg_extern(volatile, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn perf_ledger_forget(target_schema: Option<&str>) -> i64 {
    let schema = required(target_schema, "target_schema");
    let table = companies_table(schema);
    Spi::get_one_with_args::<i64>(
        &format!(
            "WITH d AS (DELETE FROM {}.perf_generated_companies g WHERE g.target_schema = $1 \
                          AND NOT EXISTS (SELECT 1 FROM {table} c WHERE c.id = g.company_id) RETURNING 1) \
             SELECT pg_catalog.count(*) FROM d",
            own_schema_q()
        ),
        &[schema.into()],
    )
    .or_internal("ledger delete")
    .unwrap_or(0)
}
