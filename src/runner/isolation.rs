//! The isolation sweep: as a tenant, read every table of the target schema that
//! carries a company_id column (found in the catalog, so a table a DBA adds later is
//! covered) and count the rows that belong to another company, plus soft-deleted
//! rows of tables with a deleted_at column. Then the other direction: as the tenant,
//! try to point one of its own rows of every table with a customer_id (user_id,
//! created_by_user_id) at another company's customer (user): an UPDATE and an INSERT,
//! rolled back. Row-level security filters what a tenant reads, but a foreign key is
//! checked by the table's owner: one on `customer_id` alone accepts any company's
//! customer.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;

use crate::errors::{OrInternal, SqlError};
use crate::pg::subxact::{in_subtransaction, OnSuccess};
use crate::runner::context;
use crate::suite::finding::Finding;
use crate::suite::model::RunAs;
use crate::sut::Target;

/// One tenant table as the catalog describes it.
struct TenantTable {
    name: String,
    /// The column naming the company: company_id, or id for the companies table.
    key: &'static str,
    has_deleted_at: bool,
    rls_enabled: bool,
    tenant_can_select: bool,
    /// Rows of other companies (or soft-deleted), seen as the owner.
    foreign_rows: i64,
}

pub struct SweepOutcome {
    pub leaks: i64,
    /// Tables without row-level security, rows the tenant could read, and references to
    /// another company's rows it could make.
    pub findings: Vec<Finding>,
    /// Tables whose references were tried and refused.
    pub references_refused: Vec<String>,
    pub checked: Vec<String>,
    pub not_granted: Vec<String>,
    pub not_exercised: Vec<String>,
}

fn leak_filter(t: &TenantTable) -> String {
    let mut f = format!("{} IS DISTINCT FROM $1::uuid", quote_identifier(t.key));
    if t.has_deleted_at {
        f.push_str(" OR deleted_at IS NOT NULL");
    }
    f
}

fn tenant_tables(target: &Target, company: &str) -> Vec<TenantTable> {
    let listed: Vec<(String, bool, bool, bool, bool)> = Spi::connect(|c| {
        c.select(
            "SELECT c.relname::text, \
                    EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'company_id' AND NOT a.attisdropped), \
                    EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'deleted_at' AND NOT a.attisdropped), \
                    c.relrowsecurity, pg_catalog.has_table_privilege($2, c.oid, 'SELECT') \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
              WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'm', 'v') \
                AND (c.relname = 'companies' OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
                                                         AND a.attname = 'company_id' AND NOT a.attisdropped)) \
              ORDER BY c.relname",
            None,
            &[target.schema.as_str().into(), target.tenant_role.as_str().into()],
        )?
        .map(|r| Ok((r.get(1)?.unwrap_or_default(), r.get(2)?.unwrap_or(false), r.get(3)?.unwrap_or(false),
                     r.get(4)?.unwrap_or(false), r.get(5)?.unwrap_or(false))))
        .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .or_internal("tenant tables from the catalog");

    listed
        .into_iter()
        .map(|(name, has_company_id, has_deleted_at, rls_enabled, tenant_can_select)| {
            let mut t = TenantTable {
                key: if has_company_id { "company_id" } else { "id" },
                name,
                has_deleted_at,
                rls_enabled,
                tenant_can_select,
                foreign_rows: 0,
            };
            t.foreign_rows = Spi::get_one_with_args::<i64>(
                &format!("SELECT pg_catalog.count(*) FROM {} WHERE {}", target.rel(&t.name), leak_filter(&t)),
                &[company.into()],
            )
            .or_internal("owner count")
            .unwrap_or(0);
            t
        })
        .collect()
}

/// The policies that decide what a SELECT on the table sees, each as "name PERMISSIVE
/// to roles USING (expr)": what a DBA must look at when tenant rows leak.
fn read_policies(target: &Target, table: &str) -> Vec<String> {
    let listed = Spi::get_one_with_args::<Vec<String>>(
        "SELECT pg_catalog.array_agg(pg_catalog.format('%s %s to %s USING (%s)', policyname, permissive, \
                                                        pg_catalog.array_to_string(roles, ','), coalesce(qual, 'true')) \
                                     ORDER BY policyname) \
           FROM pg_catalog.pg_policies \
          WHERE schemaname = $1 AND tablename = $2 AND cmd IN ('SELECT', 'ALL')",
        &[target.schema.as_str().into(), table.into()],
    )
    .or_internal("pg_policies");
    listed.unwrap_or_default()
}

/// Sweep every tenant table as the tenant of `company`.
pub fn sweep(target: &Target, company: &str) -> Result<SweepOutcome, SqlError> {
    let tables = tenant_tables(target, company);
    let tenant = context::Context::for_own_sql(target, &RunAs::Tenant(company.to_string()));
    let mut out = SweepOutcome {
        leaks: 0,
        findings: vec![],
        references_refused: vec![],
        checked: vec![],
        not_granted: vec![],
        not_exercised: vec![],
    };
    for t in &tables {
        if !t.tenant_can_select {
            out.not_granted.push(t.name.clone());
            continue;
        }
        if !t.rls_enabled {
            out.findings.push(Finding::RlsDisabled { table: t.name.clone() });
        }
        // Read as the tenant, in a subtransaction that is always rolled back.
        let (visible, leaked) = in_subtransaction(OnSuccess::Rollback, || {
            tenant
                .run(|| {
                    Spi::get_two_with_args::<i64, i64>(
                        &format!(
                            "SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE {}) FROM {}",
                            leak_filter(t),
                            target.rel(&t.name)
                        ),
                        &[company.into()],
                    )
                })
                .or_internal("tenant count")
        })?;
        let (visible, leaked) = (visible.unwrap_or(0), leaked.unwrap_or(0));
        if leaked > 0 {
            out.leaks += leaked;
            out.findings.push(Finding::RowsVisible {
                table: t.name.clone(),
                rows: leaked,
                policies: read_policies(target, &t.name),
            });
        }
        if t.foreign_rows == 0 {
            out.not_exercised.push(t.name.clone());
        }
        out.checked.push(format!("{} ({visible} own rows)", t.name));
    }
    cross_tenant_references(target, company, &tenant, &mut out)?;
    Ok(out)
}

/// The columns through which a tenant's row names another row of the same company,
/// and the table that row lives in: what the reference check tries for every table
/// that has the column and company_id.
const REFERENCES: &[(&str, &str)] =
    &[("customer_id", "customers"), ("user_id", "users"), ("created_by_user_id", "users")];

/// A row of `parent` that belongs to another company, read with the run's rights (the
/// tenant cannot see it).
fn foreign_row(target: &Target, parent: &str, company: &str) -> Option<pgrx::Uuid> {
    Spi::get_one_with_args::<pgrx::Uuid>(
        &format!(
            "SELECT id FROM {} WHERE company_id OPERATOR(pg_catalog.<>) $1::pg_catalog.uuid ORDER BY id LIMIT 1",
            target.rel(parent)
        ),
        &[company.into()],
    )
    .ok()
    .flatten()
}

/// The tables that have both company_id and `column`, with the columns an INSERT
/// copying one of their rows must name (all but the primary key's and generated ones).
fn referencing_tables(target: &Target, column: &str) -> Vec<(String, Vec<String>)> {
    Spi::connect(|c| {
        c.select(
            "SELECT c.relname::text, \
                    pg_catalog.array_agg(pg_catalog.quote_ident(a.attname) ORDER BY a.attnum) \
                      FILTER (WHERE NOT a.attisdropped AND a.attnum OPERATOR(pg_catalog.>) 0 AND a.attgenerated OPERATOR(pg_catalog.=) '' \
                                AND a.attidentity OPERATOR(pg_catalog.<>) 'a' \
                                AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid OPERATOR(pg_catalog.=) c.oid \
                                                  AND i.indisprimary AND a.attnum OPERATOR(pg_catalog.=) ANY (i.indkey))) \
               FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace \
               JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid \
              WHERE n.nspname OPERATOR(pg_catalog.=) $1 AND c.relkind IN ('r', 'p') \
              GROUP BY c.oid, c.relname \
             HAVING pg_catalog.bool_or(a.attname OPERATOR(pg_catalog.=) $2 AND NOT a.attisdropped) \
                AND pg_catalog.bool_or(a.attname OPERATOR(pg_catalog.=) 'company_id' AND NOT a.attisdropped) \
              ORDER BY 1",
            None,
            &[target.schema.as_str().into(), column.into()],
        )?
        .map(|r| Ok((r.get::<String>(1)?.unwrap_or_default(), r.get::<Vec<String>>(2)?.unwrap_or_default())))
        .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .or_internal("tables that reference another tenant row")
}

/// As the tenant, in subtransactions that are always rolled back: point one of its
/// own rows at another company's customer (or user), and copy one with that reference.
/// Either one succeeding is a leak in the other direction; refused (23503, or RLS) is
/// the schema keeping tenants apart; no own row to try with leaves it unexercised.
fn cross_tenant_references(
    target: &Target,
    company: &str,
    tenant: &context::Context,
    out: &mut SweepOutcome,
) -> Result<(), SqlError> {
    for (column, parent) in REFERENCES {
        let Some(foreign) = foreign_row(target, parent, company) else { continue };
        let q = quote_identifier(column);
        for (table, columns) in referencing_tables(target, column) {
            let rel = target.rel(&table);
            let own_row = format!(
                "(SELECT ctid FROM {rel} WHERE {q} IS NOT NULL AND company_id OPERATOR(pg_catalog.=) $2::pg_catalog.uuid LIMIT 1)"
            );
            let copied: Vec<String> =
                columns.iter().map(|c| if c == &q { "$1".to_string() } else { c.clone() }).collect();
            let attempts = [
                ("UPDATE", format!("UPDATE {rel} SET {q} = $1 WHERE ctid OPERATOR(pg_catalog.=) {own_row}")),
                (
                    "INSERT",
                    format!(
                        "INSERT INTO {rel} ({}) SELECT {} FROM {rel} WHERE ctid OPERATOR(pg_catalog.=) {own_row}",
                        columns.join(", "),
                        copied.join(", ")
                    ),
                ),
            ];
            let mut accepted = Vec::new();
            let mut tried = false;
            for (what, sql) in attempts {
                let done = in_subtransaction(OnSuccess::Rollback, || {
                    tenant.run(|| {
                        Spi::connect_mut(|c| c.update(&sql, None, &[foreign.into(), company.into()]).map(|t| t.len()))
                            .or_internal("cross-tenant reference")
                    })
                });
                match done {
                    Ok(0) => {}
                    Ok(_) => {
                        tried = true;
                        accepted.push(what);
                    }
                    Err(e) if e.is_cancel() => return Err(e),
                    // Refused: the foreign key, a policy's WITH CHECK, a trigger, or the
                    // tenant's privileges.
                    Err(_) => tried = true,
                }
            }
            let what = format!("{table}.{column}");
            if !accepted.is_empty() {
                out.findings.push(Finding::ReferenceAccepted {
                    table,
                    parent: parent.to_string(),
                    column: column.to_string(),
                    statements: accepted.iter().map(|s| s.to_string()).collect(),
                });
            } else if tried {
                out.references_refused.push(what);
            }
        }
    }
    Ok(())
}
