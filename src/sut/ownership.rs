//! Tenant data in the schema under test, company by company: everything under a company
//! (users, customers and their keys, conversations, summaries, events) belongs to it
//! through `company_id` / `customer_id`. Which companies pg_perfsuite created is the
//! ledger's business (store::ledger); deleting them is runner::cleanup's.

use pgrx::prelude::*;

use super::install::Target;
use crate::errors::OrInternal;

/// Whether `schema` has a companies table (the root of all tenant data).
pub fn has_companies(schema: &str) -> bool {
    let table = format!("{}.companies", pgrx::spi::quote_identifier(schema));
    Spi::get_one_with_args::<bool>("SELECT pg_catalog.to_regclass($1) IS NOT NULL", &[table.as_str().into()])
        .or_internal("regclass")
        .unwrap_or(false)
}

/// The tenant tables, children first (a user's schema may not cascade), each with the
/// condition that ties a row to the companies chosen by `{pred}` ("= ANY($1)", "<> $1").
pub const TENANT_TABLES: &[(&str, &str)] = &[
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
                    "WITH d AS (DELETE FROM {} WHERE {} RETURNING 1) SELECT pg_catalog.count(*) FROM d",
                    target.rel(table),
                    condition.replace("{customers}", &customers).replace("{pred}", pred)
                ),
                &[arg],
            )
            .or_internal("delete tenant rows")
            .unwrap_or(0);
            (table.to_string(), n)
        })
        .collect()
}

/// Leave only `company`'s rows in the tenant tables below users and companies, the
/// fast way a superuser may take: its rows are copied aside, the tables truncated
/// together, the rows put back with triggers and foreign-key checks off (they were
/// consistent and stay so), the copies dropped. Work in proportion to the one tenant,
/// where deleting everyone else's rows is work in proportion to all of them (and
/// leaves the tables full of dead rows). Only inside a subtransaction the caller rolls
/// back: TRUNCATE is undone with it.
pub fn keep_only_tenant_by_truncate(target: &Target, company: pgrx::Uuid) {
    let customers = target.rel("customers");
    let tables = &TENANT_TABLES[..5];
    for (i, (table, condition)) in tables.iter().enumerate() {
        Spi::run_with_args(
            &format!(
                "CREATE TEMPORARY TABLE pg_perfsuite_keep_{i} ON COMMIT DROP AS SELECT * FROM {} WHERE {}",
                target.rel(table),
                condition.replace("{customers}", &customers).replace("{pred}", "= $1")
            ),
            &[company.into()],
        )
        .or_internal("copy one tenant's rows aside");
    }
    let all: Vec<String> = tables.iter().map(|(t, _)| target.rel(t)).collect();
    crate::pg::guc::with_local(&[("session_replication_role", "replica")], || {
        Spi::run(&format!("TRUNCATE {}", all.join(", "))).or_internal("truncate the tenant tables");
        // Parents first.
        for (i, (table, _)) in tables.iter().enumerate().rev() {
            Spi::run(&format!(
                "INSERT INTO {} OVERRIDING SYSTEM VALUE SELECT * FROM pg_temp.pg_perfsuite_keep_{i}",
                target.rel(table)
            ))
            .or_internal("put one tenant's rows back");
            Spi::run(&format!("DROP TABLE pg_temp.pg_perfsuite_keep_{i}")).or_internal("drop the copy");
        }
    });
}

/// Whether the tenant tables below users and companies can be truncated together: no
/// table outside them has a foreign key into them (TRUNCATE would refuse).
pub fn truncatable(target: &Target) -> bool {
    let tables: Vec<String> = TENANT_TABLES[..5].iter().map(|(t, _)| target.rel(t)).collect();
    Spi::get_one_with_args::<bool>(
        "SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c \
          WHERE c.contype = 'f' AND c.confrelid = ANY ($1::pg_catalog.regclass[]::pg_catalog.oid[]) \
            AND c.conrelid <> ALL ($1::pg_catalog.regclass[]::pg_catalog.oid[]))",
        &[tables.into()],
    )
    .or_internal("foreign keys into the tenant tables")
    .unwrap_or(false)
}
