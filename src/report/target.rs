//! What a report adds from the schema under test, beyond the run's own records: the
//! freshness of customer_metrics, and (with hypopg) whether each index a
//! recommendation proposes would be used. Both only read; hypothetical indexes live in
//! backend memory and are reset.
//!
//! The reader is often a superuser and the run's schema someone else's: both go
//! through the gate of sut::gate (the schema's writers must be trusted by the reader,
//! the relations must be the kinds expected) and run inside a security-restricted
//! operation as the reader. A schema that fails the gate is left unread and the report
//! says why.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;

use super::model::{Hypothetical, ReportData};
use crate::errors::OrInternal;
use crate::explain::{total_cost, PlanFacts};
use crate::pg::catalog::extension_schema_q;
use crate::pg::roles::{self, Decision};
use crate::pg::secctx;
use crate::pg::subxact::{in_subtransaction, OnSuccess};
use crate::sut::gate;

/// Whether the report may read the run's schema; when not, the reason is kept for
/// the report (once).
fn gate_open(data: &mut ReportData) -> bool {
    match gate::why_not_read(&data.run.target_schema) {
        None => true,
        Some(why) => {
            data.health.target_not_read = Some(why);
            false
        }
    }
}

/// With hypopg installed: for each index a recommendation proposes, would the planner
/// use it for the test's statement, and at what estimated cost? Evaluated with
/// hypothetical indexes only (nothing is built); a statement that cannot be planned
/// any more (schema gone, tables changed) is left without a verdict.
pub fn hypothetical_indexes(data: &mut ReportData) {
    if !data.health.hypopg || data.health.target_not_read.is_some() || !gate_open(data) {
        return;
    }
    let Some(hypo) = extension_schema_q("hypopg") else { return };
    let search_path = [
        Some("pg_catalog".to_string()),
        Some(quote_identifier(&data.run.target_schema)),
        extension_schema_q("pg_trgm"),
        Some(hypo.clone()),
    ]
    .into_iter()
    .flatten()
    .chain(std::iter::once("pg_temp".to_string()))
    .collect::<Vec<_>>()
    .join(", ");
    for rec in crate::report::advice::recommend(data) {
        let (Some(ddl), Some(test_id)) = (rec.index_ddl, rec.test_id) else { continue };
        let Some(sql) = data.results.iter().find(|r| r.test_id == test_id).and_then(|r| r.sql.clone()) else {
            continue;
        };
        // Planning can run the SQL's functions (constant folding): only SQL whose author
        // may act as this session's role is planned here.
        let author =
            data.results.iter().find(|r| r.test_id == test_id).and_then(|r| r.author.clone()).unwrap_or_default();
        if roles::decision_for(&author, None) != Decision::AsIs {
            continue;
        }
        let me = secctx::current_user();
        let verdict = in_subtransaction(OnSuccess::Rollback, || {
            secctx::restricted(me, || {
                Spi::run_with_args(
                    "SELECT pg_catalog.set_config('search_path', $1, true)",
                    &[search_path.as_str().into()],
                )
                .or_internal("search_path");
                let before = plan_cost(&sql);
                Spi::run_with_args(&format!("SELECT {hypo}.hypopg_create_index($1)"), &[ddl.as_str().into()])
                    .or_internal("hypopg_create_index");
                let after = explain(&sql);
                Hypothetical {
                    // hypopg names its indexes "<oid>btree_...".
                    used: PlanFacts::from_json(&after).is_ok_and(|f| f.indexes.iter().any(|i| i.starts_with('<'))),
                    cost_before: before,
                    cost_after: total_cost(&after),
                }
            })
        });
        // Hypothetical indexes live in backend memory, not in the transaction: drop
        // them whether or not the check succeeded.
        let _ = Spi::run(&format!("SELECT {hypo}.hypopg_reset()"));
        if let Ok(h) = verdict {
            data.health.hypothetical.insert(ddl, h);
        }
    }
}

fn explain(sql: &str) -> serde_json::Value {
    Spi::connect(|c| c.select(&format!("EXPLAIN (FORMAT JSON) {sql}"), None, &[])?.first().get_one::<pgrx::Json>())
        .or_internal("EXPLAIN")
        .map(|j| j.0)
        .unwrap_or_default()
}

fn plan_cost(sql: &str) -> f64 {
    total_cost(&explain(sql))
}

/// Active customers with no customer_metrics row: the view is stale. Read only when
/// the schema passes the gate, customers is a table and customer_metrics a
/// materialized view or table, and the reader may read both.
pub fn metrics_freshness(data: &mut ReportData) {
    if !gate_open(data) {
        return;
    }
    let schema = &data.run.target_schema;
    let (Some(customers), Some(metrics)) =
        (gate::relation_of_kind(schema, "customers", "rp"), gate::relation_of_kind(schema, "customer_metrics", "mrp"))
    else {
        return;
    };
    let me = secctx::current_user();
    let (missing, active) = secctx::restricted(me, || {
        Spi::get_two::<i64, i64>(&format!(
            "SELECT pg_catalog.count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM {metrics} m WHERE m.customer_id OPERATOR(pg_catalog.=) c.id)), pg_catalog.count(*) \
               FROM {customers} c WHERE c.deleted_at IS NULL"
        ))
        .or_internal("metrics freshness")
    });
    data.health.metrics_missing = missing;
    data.health.active_customers = active;
}
