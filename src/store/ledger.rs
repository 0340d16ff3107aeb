//! The ledger of generated companies (`perf_generated_companies`): reading it. Only
//! the SECURITY DEFINER functions of api::ledger write it.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::raise;
use crate::errors::OrInternal;
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
