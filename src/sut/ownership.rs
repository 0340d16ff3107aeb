//! Which tenant data pg_perfsuite created, and nothing else: the safety check before a
//! run ("run only on staging/test", made enforceable) and `perf_cleanup()`.
//!
//! A company is ours exactly when `perf_generated_companies` lists it for the schema;
//! `suite::setup::ensure_company` records it in the same statement that inserts it.
//! Everything under a company (users, customers and their keys, conversations,
//! summaries, events) belongs to it through `company_id` / `customer_id`.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use super::install::Target;
use crate::errors::raise;

/// Whether `schema` has a companies table (the root of all tenant data).
pub fn has_companies(schema: &str) -> bool {
    let table = format!("{}.companies", pgrx::spi::quote_identifier(schema));
    Spi::get_one_with_args::<bool>("SELECT to_regclass($1) IS NOT NULL", &[table.as_str().into()])
        .expect("regclass")
        .unwrap_or(false)
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
            "SELECT count(*) FROM {table} c WHERE NOT EXISTS \
               (SELECT 1 FROM perf_generated_companies g WHERE g.target_schema = $1 AND g.company_id = c.id)"
        ),
        &[schema.into()],
    )
    .expect("foreign companies")
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

/// The tenant tables, children first (a user's schema may not cascade), each with the
/// condition that ties a row to the companies chosen by `{pred}` ("= ANY($1)", "<> $1").
const TENANT_TABLES: &[(&str, &str)] = &[
    ("customer_matching_keys", "customer_id IN (SELECT id FROM {customers} WHERE company_id {pred})"),
    ("customer_events", "customer_id IN (SELECT id FROM {customers} WHERE company_id {pred})"),
    ("customer_conversation_summaries", "customer_id IN (SELECT id FROM {customers} WHERE company_id {pred})"),
    ("VC Usage", "company_id {pred}"),
    ("customers", "company_id {pred}"),
    ("users", "company_id {pred}"),
    ("companies", "id {pred}"),
];

/// Whose rows `delete_tenant_rows` removes.
pub enum Companies {
    These(Vec<pgrx::Uuid>),
    AllBut(pgrx::Uuid),
}

/// Delete the chosen companies' rows from every tenant table, children first; the
/// users and companies rows themselves only when `with_companies`. Rows per table.
pub fn delete_tenant_rows(target: &Target, which: &Companies, with_companies: bool) -> Vec<(String, i64)> {
    let customers = target.rel("customers");
    let pred = match which {
        Companies::These(_) => "= ANY($1)",
        Companies::AllBut(_) => "<> $1",
    };
    let tables = if with_companies { TENANT_TABLES } else { &TENANT_TABLES[..5] };
    tables
        .iter()
        .map(|(table, condition)| {
            let arg = match which {
                Companies::These(ids) => ids.clone().into(),
                Companies::AllBut(id) => (*id).into(),
            };
            let n = Spi::get_one_with_args::<i64>(
                &format!(
                    "WITH d AS (DELETE FROM {} WHERE {} RETURNING 1) SELECT count(*) FROM d",
                    target.rel(table),
                    condition.replace("{customers}", &customers).replace("{pred}", pred)
                ),
                &[arg],
            )
            .expect("delete tenant rows")
            .unwrap_or(0);
            (table.to_string(), n)
        })
        .collect()
}

/// Delete every row of the companies pg_perfsuite created in `target`, then forget
/// them. Returns rows deleted per table. Running it twice deletes nothing the second time.
pub fn cleanup(target: &Target) -> Vec<(String, i64)> {
    let ids: Vec<pgrx::Uuid> = Spi::connect(|c| {
        c.select(
            "SELECT company_id FROM perf_generated_companies WHERE target_schema = $1",
            None,
            &[target.schema.as_str().into()],
        )?
        .map(|r| r.get::<pgrx::Uuid>(1).map(|v| v.expect("company_id")))
        .collect::<Result<Vec<_>, _>>()
    })
    .expect("generated companies");
    let mut out = delete_tenant_rows(target, &Companies::These(ids), true);
    Spi::run(&format!("REFRESH MATERIALIZED VIEW {}", target.rel("customer_metrics"))).expect("refresh customer_metrics");
    let forgotten = Spi::get_one_with_args::<i64>(
        "WITH d AS (DELETE FROM perf_generated_companies WHERE target_schema = $1 RETURNING 1) SELECT count(*) FROM d",
        &[target.schema.as_str().into()],
    )
    .expect("forget companies")
    .unwrap_or(0);
    out.push(("perf_generated_companies".to_string(), forgotten));
    out
}
