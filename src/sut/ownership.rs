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
use crate::pg::roles::{self, Decision};
use crate::pg::subxact::{in_subtransaction, OnSuccess};

/// Whether `schema` has a companies table (the root of all tenant data).
pub fn has_companies(schema: &str) -> bool {
    let table = format!("{}.companies", pgrx::spi::quote_identifier(schema));
    Spi::get_one_with_args::<bool>("SELECT pg_catalog.to_regclass($1) IS NOT NULL", &[table.as_str().into()])
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
            "SELECT pg_catalog.count(*) FROM {table} c WHERE NOT EXISTS \
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
                    "WITH d AS (DELETE FROM {} WHERE {} RETURNING 1) SELECT pg_catalog.count(*) FROM d",
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
/// them. Returns rows deleted per table. Running it twice deletes nothing the second
/// time. Each company is deleted with the rights of the role that generated it (see
/// pg::roles): entries of a role this session may neither act as nor become are left
/// alone, with a NOTICE.
pub fn cleanup(target: &Target) -> Vec<(String, i64)> {
    let entries: Vec<(pgrx::Uuid, String)> = Spi::connect(|c| {
        c.select(
            "SELECT company_id, created_by::text FROM perf_generated_companies WHERE target_schema = $1 ORDER BY created_by, company_id",
            None,
            &[target.schema.as_str().into()],
        )?
        .map(|r| Ok((r.get::<pgrx::Uuid>(1)?.expect("company_id is NOT NULL"), r.get::<String>(2)?.unwrap_or_default())))
        .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .expect("generated companies");
    let mut totals: Vec<(String, i64)> = TENANT_TABLES.iter().map(|(t, _)| (t.to_string(), 0)).collect();
    let mut generators: Vec<&str> = entries.iter().map(|(_, by)| by.as_str()).collect();
    generators.dedup();
    for by in generators {
        let ids: Vec<pgrx::Uuid> = entries.iter().filter(|(_, b)| b == by).map(|(id, _)| *id).collect();
        let switch_to = match roles::decision_for(by, None) {
            Decision::AsIs => None,
            Decision::AsAuthor(role) => Some(role),
            Decision::Refused => {
                notice!(
                    "{} companies generated by role \"{by}\" were left alone: this session may neither act as that role nor become it",
                    ids.len()
                );
                continue;
            }
        };
        // Each generator's companies in a subtransaction of their own, as that role: if
        // its rights do not reach every row, nothing of that group is deleted.
        let n_ids = ids.len();
        let deleted = in_subtransaction(OnSuccess::Commit, || {
            let saved = Spi::get_one::<String>("SELECT pg_catalog.current_setting('role')").ok().flatten();
            if let Some(role) = &switch_to {
                Spi::run_with_args("SELECT pg_catalog.set_config('role', $1, true)", &[role.as_str().into()]).expect("SET ROLE");
            }
            let rows = delete_tenant_rows(target, &Companies::These(ids), true);
            // A setting made in a released subtransaction outlives it: put the role back.
            if switch_to.is_some() {
                let saved = saved.unwrap_or_else(|| "none".into());
                Spi::run_with_args("SELECT pg_catalog.set_config('role', $1, true)", &[saved.as_str().into()]).expect("RESET ROLE");
            }
            rows
        });
        match deleted {
            Ok(rows) => {
                for (total, (_, n)) in totals.iter_mut().zip(rows) {
                    total.1 += n;
                }
            }
            Err(e) => notice!(
                "{n_ids} companies generated by role \"{by}\" were left alone: deleting them with that role's rights failed: {} ({})",
                e.message,
                e.sqlstate
            ),
        }
    }
    Spi::run(&format!("REFRESH MATERIALIZED VIEW {}", target.rel("customer_metrics"))).expect("refresh customer_metrics");
    let forgotten = Spi::get_one_with_args::<i64>(
        &format!("SELECT {}.perf_ledger_forget($1)", crate::pg::catalog::own_schema_q()),
        &[target.schema.as_str().into()],
    )
    .expect("forget companies")
    .unwrap_or(0);
    totals.push(("perf_generated_companies".to_string(), forgotten));
    totals
}
