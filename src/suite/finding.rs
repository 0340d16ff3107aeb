//! What a test found beside its figure, as data. The runner records a result's
//! findings with it (`performance_test_results.findings`, jsonb, tagged by `kind`);
//! every report format takes its evidence and advice from them. The notes column stays
//! a sentence for people: no layer reads another's sentences to find out what happened.

use serde::{Deserialize, Serialize};

use crate::explain::shape::ShapeChange;
use crate::explain::{seq_scan_nodes, PlanFacts};

/// A sequential scan is worth an index when it reads at least this many rows...
pub const SEQ_SCAN_MIN_ROWS: f64 = 1000.0;
/// ...and keeps at most this share of them (the query is selective).
pub const SEQ_SCAN_MAX_KEPT: f64 = 0.10;
/// The plan's Trigger Performance requirement: "individual trigger execution < 10 ms".
pub const TRIGGER_BUDGET_MS: f64 = 10.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// A sequential scan that read many rows to keep few of them: an index candidate.
    SeqScan { relation: String, rows_read: f64, rows_kept: f64, filter: Option<String> },
    /// The registry's plan assertion "the plan uses this index" does not hold.
    IndexNotUsed { index: String, scans: Vec<String> },
    /// The registry's plan assertion "no sequential scan on this relation" does not hold.
    SeqScanOn { relation: String },
    /// A trigger the measured statement fired (foreign-key checks are summed apart).
    /// `budget_ms` is set for trigger tests, which the plan holds to a per-call limit.
    Trigger {
        name: String,
        relation: String,
        calls: i64,
        total_ms: f64,
        statement_ms: Option<f64>,
        budget_ms: Option<f64>,
    },
    /// The foreign-key checks the statement made, summed.
    ForeignKeyChecks { calls: i64, total_ms: f64 },
    /// A sort or hash that did not fit in work_mem and went to disk.
    Spill { node: String, detail: String, disk_kb: Option<i64> },
    /// Isolation: a tenant table without row-level security.
    RlsDisabled { table: String },
    /// Isolation: rows of other companies (or soft-deleted ones) the tenant could read,
    /// with the policies for SELECT then in force (none: empty).
    RowsVisible { table: String, rows: i64, policies: Vec<String> },
    /// Isolation: the tenant pointed its row at another company's row (`statements`:
    /// UPDATE, INSERT) because the foreign key on `column` leaves out company_id.
    ReferenceAccepted { table: String, parent: String, column: String, statements: Vec<String> },
    /// A concurrency test's wait for the second session's row locks. `held_ms`: how long
    /// the second session held them on purpose; `timed_out`: lock_timeout ended the wait.
    LockWait { waited_ms: f64, other_pid: i32, rows: Option<i64>, held_ms: Option<f64>, timed_out: bool },
    /// A count check's number is not the one expected.
    CountMismatch { actual: Option<f64>, expected: f64 },
    /// The machine crossed one of the plan's monitoring limits while these tests ran.
    Saturated { metric: String, peak_pct: f64, limit_pct: f64, tests: Vec<String> },
    /// The same query, timed alone with one tenant and among all of them.
    Degradation { compared_with: String, all_tenants_ms: f64, alone_ms: f64 },
    /// A capacity search: the highest offered rate (transactions per second) whose p95
    /// response time met `target_p95_ms`, where latency turned upward, and the rate the
    /// registry asks for (`required_rate`).
    Capacity {
        capacity_id: i64,
        capacity_tps: Option<f64>,
        /// Some rate above the capacity missed the target; otherwise it is a lower bound.
        #[serde(default)]
        bracketed: bool,
        knee_tps: Option<f64>,
        required_rate: Option<f64>,
        target_p95_ms: f64,
        clients: i32,
        steps: usize,
    },
    /// The per-test time budget stopped the timed iterations early.
    BudgetSpent { ran: i64, planned: i64, budget_s: u64 },
    /// The plan is not the one the same test had in `previous_run` (same schema and
    /// scale): what it reads now and no longer. `same_state`: both runs measured the same
    /// state (seed, scale, schema definition, settings), so the plan is unstable.
    PlanChanged {
        previous_run: i64,
        change: ShapeChange,
        #[serde(default)]
        same_state: bool,
    },
    /// A candidate index (`ddl`, as typed in the schema) built in a rolled-back
    /// subtransaction: the test's median without and with it, whether the plan used it,
    /// and the plan's write tests without and with it.
    IndexMeasured { ddl: String, before_ms: f64, after_ms: f64, used: bool, build_ms: f64, writes: Vec<WriteCost> },
    /// A candidate index that was not measured, and why.
    IndexNotMeasured { ddl: String, reason: String },
}

/// One write test's median without and with a candidate index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteCost {
    pub test_id: String,
    pub before_ms: f64,
    pub after_ms: f64,
}

/// An index is recommended only when it made the test at least this much faster.
pub const WORTH_AN_INDEX: f64 = 1.5;

impl Finding {
    /// A measured index's speed-up (median without / with) and write penalty in percent
    /// (the write tests' medians summed, with against without).
    pub fn measured(&self) -> Option<(f64, Option<f64>)> {
        let Finding::IndexMeasured { before_ms, after_ms, writes, .. } = self else { return None };
        let speedup = before_ms / after_ms.max(1e-6);
        let (b, a): (f64, f64) = writes.iter().fold((0.0, 0.0), |(b, a), w| (b + w.before_ms, a + w.after_ms));
        let penalty = (b > 0.0).then(|| 100.0 * (a - b) / b);
        Some((speedup, penalty))
    }
}

impl Finding {
    /// The findings an executed plan gives: large unselective sequential scans, the
    /// registry's plan assertions that do not hold, triggers (held to the plan's budget
    /// when `trigger_test`), foreign-key checks and spills.
    pub fn from_plan(
        facts: &PlanFacts,
        plan: &serde_json::Value,
        assert_index: Option<&str>,
        assert_no_seqscan: Option<&str>,
        trigger_test: bool,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        if let Some(index) = assert_index.filter(|i| !facts.uses_index(i)) {
            let scans = facts.nodes.iter().filter(|n| n.contains("Scan")).cloned().collect();
            out.push(Finding::IndexNotUsed { index: index.to_string(), scans });
        }
        if let Some(relation) = assert_no_seqscan.filter(|r| facts.seq_scans_on(r)) {
            out.push(Finding::SeqScanOn { relation: relation.to_string() });
        }
        for s in seq_scan_nodes(plan) {
            if s.rows_read >= SEQ_SCAN_MIN_ROWS && s.rows_kept <= s.rows_read * SEQ_SCAN_MAX_KEPT {
                out.push(Finding::SeqScan {
                    relation: s.relation,
                    rows_read: s.rows_read,
                    rows_kept: s.rows_kept,
                    filter: s.filter,
                });
            }
        }
        let (fk, own): (Vec<_>, Vec<_>) =
            facts.triggers.iter().partition(|t| t.name.starts_with("RI_ConstraintTrigger"));
        for t in own {
            out.push(Finding::Trigger {
                name: t.name.clone(),
                relation: t.relation.clone(),
                calls: t.calls,
                total_ms: t.time_ms,
                statement_ms: facts.execution_ms,
                budget_ms: trigger_test.then_some(TRIGGER_BUDGET_MS),
            });
        }
        if !fk.is_empty() {
            out.push(Finding::ForeignKeyChecks {
                calls: fk.iter().map(|t| t.calls).sum(),
                total_ms: fk.iter().map(|t| t.time_ms).sum(),
            });
        }
        for s in &facts.spills {
            out.push(Finding::Spill { node: s.node.clone(), detail: s.detail.clone(), disk_kb: s.disk_kb });
        }
        out
    }

    /// Whether this finding alone makes the test fail: a plan assertion that does not
    /// hold, or a trigger over the plan's per-call budget.
    pub fn fails_test(&self) -> bool {
        match self {
            Finding::IndexNotUsed { .. } | Finding::SeqScanOn { .. } => true,
            Finding::Trigger { budget_ms: Some(b), .. } => self.trigger_ms_per_call().is_some_and(|ms| ms > *b),
            _ => false,
        }
    }

    fn trigger_ms_per_call(&self) -> Option<f64> {
        match self {
            Finding::Trigger { calls, total_ms, .. } => Some(if *calls > 0 { total_ms / *calls as f64 } else { 0.0 }),
            _ => None,
        }
    }
}

/// One sentence per finding: the evidence as a DBA reads it, in the notes and in every
/// report's recommendations.
impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::SeqScan { relation, rows_read, rows_kept, filter } => write!(
                f,
                "Seq Scan on {relation} read {rows_read:.0} rows to keep {rows_kept:.0} (Filter: {})",
                filter.as_deref().unwrap_or("no filter")
            ),
            Finding::IndexNotUsed { index, scans } => write!(
                f,
                "plan does not use index {index} (scans: {})",
                if scans.is_empty() { "none".to_string() } else { scans.join("; ") }
            ),
            Finding::SeqScanOn { relation } => write!(f, "plan has a Seq Scan on {relation}"),
            Finding::Trigger { name, relation, calls, total_ms, statement_ms, budget_ms } => {
                let per_call = self.trigger_ms_per_call().unwrap_or(0.0);
                write!(f, "trigger {name} on {relation}: {calls} calls, {per_call:.3} ms each, {total_ms:.1} ms in all")?;
                if let Some(s) = statement_ms.filter(|s| *s > 0.0) {
                    write!(f, ", {:.0} % of the statement", 100.0 * total_ms / s)?;
                }
                match budget_ms {
                    Some(b) if per_call > *b => write!(f, ", over the plan's {b} ms per call"),
                    _ => Ok(()),
                }
            }
            Finding::ForeignKeyChecks { calls, total_ms } => {
                write!(f, "foreign-key checks: {calls} calls, {total_ms:.3} ms in all")
            }
            Finding::Spill { node, detail, .. } => write!(f, "{node} ({detail}) did not fit in work_mem"),
            Finding::RlsDisabled { table } => write!(f, "{table}: row-level security is not enabled"),
            Finding::RowsVisible { table, rows, policies } => write!(
                f,
                "{table}: {rows} rows of other companies or soft-deleted visible (policies for SELECT: {})",
                if policies.is_empty() { "none".to_string() } else { policies.join(", ") }
            ),
            Finding::ReferenceAccepted { table, parent, column, statements } => write!(
                f,
                "{table}: the tenant's {} pointed its row at another company's {parent} row through {column} \
                 (the foreign key does not include company_id)",
                statements.join(" and ")
            ),
            Finding::LockWait { waited_ms, other_pid, rows, held_ms, timed_out } => {
                let rows = rows.map(|n| format!(" {n}")).unwrap_or_default();
                match (timed_out, held_ms) {
                    (true, None) => write!(
                        f,
                        "blocked: waited {waited_ms:.0} ms (lock_timeout) for locks held by the second session (PID {other_pid})"
                    ),
                    (true, Some(h)) => write!(
                        f,
                        "blocked: still waiting after {waited_ms:.0} ms (lock_timeout), though the second session \
                         (PID {other_pid}) ended its transaction on the same rows after {h:.0} ms"
                    ),
                    (false, Some(h)) => write!(
                        f,
                        "waited its turn: finished in {waited_ms:.1} ms, {:.1} ms beyond the {h:.0} ms the second \
                         session (PID {other_pid}) held the same{rows} rows",
                        (waited_ms - h).max(0.0)
                    ),
                    (false, None) => write!(
                        f,
                        "no blocking: finished in {waited_ms:.3} ms while the second session (PID {other_pid}) held{rows} updated rows"
                    ),
                }
            }
            Finding::CountMismatch { actual: Some(a), expected } => write!(f, "{a}, expected {expected}"),
            Finding::CountMismatch { actual: None, expected } => write!(f, "query returned NULL, expected {expected}"),
            Finding::Saturated { metric, peak_pct, limit_pct, tests } => write!(
                f,
                "{metric} peak {peak_pct:.1} % (plan: < {limit_pct} %) during {}: those timings were taken on a saturated machine",
                tests.join(", ")
            ),
            Finding::Degradation { compared_with, all_tenants_ms, alone_ms } => write!(
                f,
                "degradation with all tenants: {:.2}x (test {compared_with} {all_tenants_ms:.3} ms vs alone {alone_ms:.3} ms)",
                all_tenants_ms / alone_ms.max(1e-9)
            ),
            Finding::PlanChanged { previous_run, change, same_state: false } => {
                write!(f, "{change} (since run {previous_run})")
            }
            Finding::PlanChanged { previous_run, change, same_state: true } => write!(
                f,
                "unstable plan: {change}, on the same data, schema and settings as run {previous_run}"
            ),
            Finding::IndexMeasured { ddl, before_ms, after_ms, used, build_ms, writes } => {
                let (speedup, penalty) = self.measured().unwrap_or((1.0, None));
                write!(
                    f,
                    "measured {ddl} (built in {build_ms:.0} ms, rolled back): median {before_ms:.3} -> {after_ms:.3} ms, \
                     {speedup:.2}x{}",
                    if *used { "" } else { ", the plan did not use it" }
                )?;
                match penalty {
                    Some(p) => {
                        let tests: Vec<&str> = writes.iter().map(|w| w.test_id.as_str()).collect();
                        write!(f, "; write penalty {p:+.1} % on {}", tests.join(", "))
                    }
                    None => write!(f, "; write penalty not measured"),
                }
            }
            Finding::IndexNotMeasured { ddl, reason } => write!(f, "{ddl} not measured: {reason}"),
            Finding::Capacity {
                capacity_id,
                capacity_tps,
                bracketed,
                knee_tps,
                required_rate,
                target_p95_ms,
                clients,
                steps,
            } => {
                let at_least = if *bracketed { "" } else { "at least " };
                match capacity_tps {
                    Some(c) => write!(
                        f,
                        "capacity {at_least}{c:.1} transactions/s within p95 {target_p95_ms} ms ({clients} clients"
                    )?,
                    None => write!(f, "no offered rate met p95 {target_p95_ms} ms ({clients} clients")?,
                }
                write!(f, ", {steps} steps: capacity search {capacity_id})")?;
                if let Some(k) = knee_tps {
                    write!(f, "; latency turns upward at about {k:.1}/s")?;
                }
                match (capacity_tps, required_rate) {
                    (Some(c), Some(r)) => write!(f, "; required {r:.1}/s: {:.1}x", c / r),
                    (None, Some(r)) => write!(f, "; required {r:.1}/s"),
                    _ => Ok(()),
                }
            }
            Finding::BudgetSpent { ran, planned, budget_s } => write!(
                f,
                "stopped after {ran} of {planned} iterations: the {budget_s} s time budget per test was spent"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan() -> serde_json::Value {
        json!([{"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "customers",
            "Actual Rows": 50, "Actual Loops": 1, "Rows Removed by Filter": 9950,
            "Filter": "(company_id = 'x'::uuid)"}]}, "Execution Time": 100.0,
            "Triggers": [{"Trigger Name": "sync", "Relation": "vc", "Calls": 4, "Time": 80.0},
                         {"Trigger Name": "RI_ConstraintTrigger_c_1", "Relation": "vc", "Calls": 4, "Time": 1.0}]}])
    }

    #[test]
    fn a_plan_gives_typed_findings() {
        let p = plan();
        let facts = PlanFacts::from_json(&p).unwrap();
        let found = Finding::from_plan(&facts, &p, Some("idx_customers_not_deleted"), Some("customers"), true);
        let kinds: Vec<_> = found.iter().map(|f| serde_json::to_value(f).unwrap()["kind"].clone()).collect();
        assert_eq!(kinds, vec!["index_not_used", "seq_scan_on", "seq_scan", "trigger", "foreign_key_checks"]);
        assert_eq!(
            found[2].to_string(),
            "Seq Scan on customers read 10000 rows to keep 50 (Filter: (company_id = 'x'::uuid))"
        );
        assert_eq!(
            found[3].to_string(),
            "trigger sync on vc: 4 calls, 20.000 ms each, 80.0 ms in all, 80 % of the statement, over the plan's 10 ms per call"
        );
        assert!(found[0].fails_test() && found[1].fails_test() && !found[2].fails_test() && found[3].fails_test());
        // Not a trigger test: the same trigger has no budget and fails nothing.
        let found = Finding::from_plan(&facts, &p, None, None, false);
        assert!(found.iter().all(|f| !f.fails_test()), "{found:?}");
    }

    #[test]
    fn findings_round_trip_as_tagged_json() {
        let f = Finding::ReferenceAccepted {
            table: "customer_notes".into(),
            parent: "customers".into(),
            column: "customer_id".into(),
            statements: vec!["UPDATE".into(), "INSERT".into()],
        };
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["kind"], "reference_accepted");
        assert_eq!(serde_json::from_value::<Finding>(v).unwrap(), f);
    }
}
