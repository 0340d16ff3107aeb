//! The isolation sweep: as a tenant, read every table of the target schema that
//! carries a company_id column (found in the catalog, so a table a DBA adds later is
//! covered) and count the rows that belong to another company, plus soft-deleted
//! rows of tables with a deleted_at column.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;

use crate::errors::{OrInternal, SqlError};
use crate::pg::subxact::{in_subtransaction, OnSuccess};
use crate::runner::context;
use crate::suite::model::RunAs;
use crate::sut::install::TENANT_ROLE;
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
    pub findings: Vec<String>,
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
            &[target.schema.as_str().into(), TENANT_ROLE.into()],
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

/// The policies that decide what a SELECT on the table sees, as "name PERMISSIVE USING
/// (expr)", or "none": what a DBA must look at when tenant rows leak.
fn read_policies(target: &Target, table: &str) -> String {
    let listed = Spi::get_one_with_args::<String>(
        "SELECT pg_catalog.string_agg(pg_catalog.format('%s %s to %s USING (%s)', policyname, permissive, \
                                                         pg_catalog.array_to_string(roles, ','), coalesce(qual, 'true')), \
                                      ', ' ORDER BY policyname) \
           FROM pg_catalog.pg_policies \
          WHERE schemaname = $1 AND tablename = $2 AND cmd IN ('SELECT', 'ALL')",
        &[target.schema.as_str().into(), table.into()],
    )
    .or_internal("pg_policies");
    listed.unwrap_or_else(|| "none".into())
}

/// Sweep every tenant table as the tenant of `company`.
pub fn sweep(target: &Target, company: &str) -> Result<SweepOutcome, SqlError> {
    let tables = tenant_tables(target, company);
    let mut out =
        SweepOutcome { leaks: 0, findings: vec![], checked: vec![], not_granted: vec![], not_exercised: vec![] };
    for t in &tables {
        if !t.tenant_can_select {
            out.not_granted.push(t.name.clone());
            continue;
        }
        if !t.rls_enabled {
            out.findings.push(format!("{}: row-level security is not enabled", t.name));
        }
        // Read as the tenant, in a subtransaction that is always rolled back.
        let (visible, leaked) = in_subtransaction(OnSuccess::Rollback, || {
            context::enter(target, &RunAs::Tenant(company.to_string()));
            Spi::get_two_with_args::<i64, i64>(
                &format!(
                    "SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE {}) FROM {}",
                    leak_filter(t),
                    target.rel(&t.name)
                ),
                &[company.into()],
            )
            .or_internal("tenant count")
        })?;
        let (visible, leaked) = (visible.unwrap_or(0), leaked.unwrap_or(0));
        if leaked > 0 {
            out.leaks += leaked;
            out.findings.push(format!(
                "{}: {leaked} rows of other companies or soft-deleted visible (policies for SELECT: {})",
                t.name,
                read_policies(target, &t.name)
            ));
        }
        if t.foreign_rows == 0 {
            out.not_exercised.push(t.name.clone());
        }
        out.checked.push(format!("{} ({visible} own rows)", t.name));
    }
    Ok(out)
}
