//! The ledger of generated companies (`perf_generated_companies`). Reading it, and
//! the bodies of the only two functions that write it (api::ledger, SECURITY DEFINER).

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use pgrx::spi::quote_identifier;

use crate::errors::{raise, OrInternal};
use crate::pg::catalog::own_schema_q;
use crate::sut::ownership::has_companies;

/// One entry: a company pg_perfsuite generated, and the role that generated it.
pub struct Entry {
    pub company: pgrx::Uuid,
    pub generated_by: String,
}

/// The entries of `schema`, grouped by the role that generated them.
pub fn entries(schema: &str) -> Vec<Entry> {
    Spi::connect(|c| {
        c.select(
            "SELECT company_id, created_by::text FROM perf_generated_companies WHERE target_schema = $1 ORDER BY created_by, company_id",
            None,
            &[schema.into()],
        )?
        .map(|r| {
            Ok(Entry {
                company: r.get::<pgrx::Uuid>(1)?.or_internal("company_id is NOT NULL"),
                generated_by: r.get::<String>(2)?.unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .or_internal("perf_generated_companies")
}

/// Forget the entries whose company is gone (through the ledger's own function).
pub fn forget_deleted(schema: &str) -> i64 {
    Spi::get_one_with_args::<i64>(
        &format!("SELECT {}.perf_ledger_forget($1)", crate::pg::catalog::own_schema_q()),
        &[schema.into()],
    )
    .or_internal("forget companies")
    .unwrap_or(0)
}

/// Companies in `schema` that pg_perfsuite did not create (0 when there is no
/// companies table yet).
pub fn foreign_companies(schema: &str) -> i64 {
    if !has_companies(schema) {
        return 0;
    }
    let table = format!("{}.companies", pgrx::spi::quote_identifier(schema));
    Spi::get_one_with_args::<i64>(
        &format!(
            "SELECT pg_catalog.count(*) FROM {table} c WHERE NOT EXISTS \
               (SELECT 1 FROM perf_generated_companies g WHERE g.target_schema = $1 AND g.company_id = c.id)"
        ),
        &[schema.into()],
    )
    .or_internal("foreign companies")
    .unwrap_or(0)
}

/// Refuse to run against data pg_perfsuite did not generate, unless the caller opted in.
pub fn refuse_foreign_data(schema: &str, allowed: bool) {
    if allowed {
        return;
    }
    let n = foreign_companies(schema);
    if n > 0 {
        raise(
            Code::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!(
                "schema \"{schema}\" holds {n} compan{} that pg_perfsuite did not generate; the plan is for staging or test databases only, and its scenarios insert, update and soft-delete rows",
                if n == 1 { "y" } else { "ies" }
            ),
            Some("Run it in a throwaway database or another schema (target_schema => 'perf_sut'), or opt in with SET pg_perfsuite.allow_existing_data = on. Its writes touch only the plan's own companies (11111111-…, aaaaaaaa-…), never yours."),
        );
    }
}

/// The companies table of `schema`, refused unless reading it as the extension owner
/// runs nobody else's code: an ordinary table, and no row-level security policy that
/// would be evaluated with the owner's rights.
/// Its `id` must be exactly uuid: any other type would be compared through a cast,
/// and a cast from a type its owner made runs that owner's function.
fn companies_table(schema: &str) -> String {
    let safe = Spi::get_one_with_args::<bool>(
        "SELECT c.relkind IN ('r', 'p') \
                AND (NOT c.relrowsecurity OR r.rolsuper OR r.rolbypassrls) \
                AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid \
                              AND a.attname OPERATOR(pg_catalog.=) 'id' AND NOT a.attisdropped \
                              AND a.atttypid OPERATOR(pg_catalog.=) 'pg_catalog.uuid'::pg_catalog.regtype) \
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

/// Run `f` (a read of the schema under test) as the role that called the SECURITY
/// DEFINER function, in a security-restricted operation.
fn as_caller<T>(f: impl FnOnce() -> T) -> T {
    crate::pg::secctx::restricted(crate::pg::roles::outer_user(), f)
}

/// Record that the calling transaction generated `company` in `schema` (the body of
/// the SECURITY DEFINER perf_ledger_record): only a row this transaction wrote, and
/// the role that called in as the generator.
pub fn record_generated(schema: &str, company: pgrx::Uuid) -> bool {
    let table = companies_table(schema);
    // The schema's table is read with the caller's rights, restricted: only the
    // ledger's own row is written with the owner's.
    let (rows, xmin) = as_caller(|| {
        Spi::get_two_with_args::<i64, i64>(
            &format!(
                "SELECT pg_catalog.count(*), pg_catalog.min(xmin::text::int8) FROM {table} WHERE id OPERATOR(pg_catalog.=) $1"
            ),
            &[company.into()],
        )
        .unwrap_or((None, None))
    });
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

/// Forget the entries of `schema` whose company no longer exists there (the body of
/// perf_ledger_forget).
pub fn forget_gone(schema: &str) -> i64 {
    let table = companies_table(schema);
    let listed: Vec<pgrx::Uuid> = Spi::get_one_with_args::<Vec<pgrx::Uuid>>(
        &format!(
            "SELECT pg_catalog.array_agg(company_id) FROM {}.perf_generated_companies WHERE target_schema = $1",
            own_schema_q()
        ),
        &[schema.into()],
    )
    .or_internal("ledger entries")
    .unwrap_or_default();
    // Which of them still exist: read with the caller's rights, restricted.
    let present: Vec<pgrx::Uuid> = as_caller(|| {
        Spi::get_one_with_args::<Vec<pgrx::Uuid>>(
            &format!(
                "SELECT pg_catalog.array_agg(id) FROM {table} WHERE id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.uuid[])"
            ),
            &[listed.into()],
        )
        .or_internal("companies still present")
        .unwrap_or_default()
    });
    Spi::get_one_with_args::<i64>(
        &format!(
            "WITH d AS (DELETE FROM {}.perf_generated_companies g WHERE g.target_schema = $1 \
                          AND g.company_id <> ALL ($2::pg_catalog.uuid[]) RETURNING 1) \
             SELECT pg_catalog.count(*) FROM d",
            own_schema_q()
        ),
        &[schema.into(), present.into()],
    )
    .or_internal("ledger delete")
    .unwrap_or(0)
}
