//! Recommendations derived from evidence in a run's results: each one names the test
//! and the evidence (plan node, numbers) and appears only when that evidence is there.
//! The evidence is the results' typed findings (suite::finding) and the registry's
//! facts about each test; nothing here reads the notes or knows a test by its id.

use serde::Serialize;

use super::model::{Finding, Health, ReportData, ReportRole, ResultRow, Verdict};
use crate::suite::candidate::Candidate;
use crate::suite::finding::WORTH_AN_INDEX;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Recommendation {
    /// Short kind, stable for tools: seq_scan, cache, trigger, rls_leakproof, stale_metrics,
    /// plan_assertion, work_mem, error, isolation, lock_contention, duplicates, machine.
    pub kind: &'static str,
    pub test_id: Option<String>,
    pub evidence: String,
    pub action: String,
    /// The index a seq_scan recommendation proposes, as one statement (checked with
    /// hypopg when it is installed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_ddl: Option<String>,
    /// For an index measured in a rolled-back subtransaction (runner::candidate): the
    /// test's median without it over the median with it, and the write tests' change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_speedup: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_penalty_pct: Option<f64>,
}

/// Below this database-wide hit ratio (with real reads behind it) shared_buffers is small.
const CACHE_HIT_MIN: f64 = 0.99;
const CACHE_MIN_READS: i64 = 1000;

pub fn recommend(data: &ReportData) -> Vec<Recommendation> {
    let mut out = Vec::new();
    for r in &data.results {
        errored(r, &mut out);
        plan_assertion(r, &mut out);
        if matches!(r.status, Verdict::Fail | Verdict::Warn) || r.kind.as_deref() == Some("timed_query") {
            seq_scans(r, &data.health, &mut out);
        }
        trigger(r, &mut out);
        isolation(r, &mut out);
        contention(r, &mut out);
        duplicates(r, &mut out);
        saturated(r, &mut out);
        rls_leakproof(r, data, &mut out);
        plan_changed(r, &mut out);
        work_mem(r, data.run.settings.get("work_mem").map(String::as_str), &mut out);
    }
    cache(data, &mut out);
    stale_metrics(data, &mut out);
    out
}

fn errored(r: &ResultRow, out: &mut Vec<Recommendation>) {
    if r.status == Verdict::Error {
        out.push(Recommendation {
            kind: "error",
            test_id: Some(r.test_id.clone()),
            evidence: format!(
                "test {} raised {}: {}",
                r.test_id,
                r.error_sqlstate.as_deref().unwrap_or("an error"),
                r.error_message.as_deref().or(r.notes.as_deref()).unwrap_or("(no message)")
            ),
            action:
                "Fix the schema or the test's SQL (perf_tests.sql) so the test can run; an errored test proves nothing."
                    .into(),
            ..Recommendation::default()
        });
    }
}

fn plan_assertion(r: &ResultRow, out: &mut Vec<Recommendation>) {
    for f in &r.findings {
        if matches!(f, Finding::IndexNotUsed { .. } | Finding::SeqScanOn { .. }) {
            out.push(Recommendation {
                kind: "plan_assertion",
                test_id: Some(r.test_id.clone()),
                evidence: format!("test {}: {f}", r.test_id),
                action: "Run ANALYZE on the table; check the index exists and is valid (pg_index.indisvalid); \
                         compare the plan with enable_seqscan = off to see the index path's estimated cost."
                    .into(),
                ..Recommendation::default()
            });
        }
    }
}

/// A sequential scan worth an index: the index its filter asks for, recommended when
/// it was measured to make the test at least `WORTH_AN_INDEX` faster (with its write
/// penalty), not recommended when measured to help less, and offered as an estimate
/// (hypopg, when installed) when it could not be measured.
fn seq_scans(r: &ResultRow, health: &Health, out: &mut Vec<Recommendation>) {
    for f in &r.findings {
        let Finding::SeqScan { relation, filter, .. } = f else { continue };
        let candidate = filter.as_deref().and_then(|filter| Candidate::for_filter(relation, filter));
        let ddl = candidate.as_ref().map(Candidate::plain_ddl);
        let measured = ddl.as_ref().and_then(|d| {
            r.findings.iter().find(
                |m| matches!(m, Finding::IndexMeasured { ddl, .. } | Finding::IndexNotMeasured { ddl, .. } if ddl == d),
            )
        });
        let (speedup, penalty) = match measured.and_then(Finding::measured) {
            Some((s, p)) => (Some(s), p),
            None => (None, None),
        };
        // An index the plan did not use made nothing faster, whatever the clock said.
        let used = !matches!(measured, Some(Finding::IndexMeasured { used: false, .. }));
        let trigram = candidate.as_ref().is_some_and(|c| c.trigram);
        let (index_ddl, action) = match (&ddl, speedup) {
            (Some(d), Some(s)) if s >= WORTH_AN_INDEX && used => (
                Some(d.clone()),
                format!(
                    "{d};  measured: {s:.1}x faster{}{}, then ANALYZE {relation}.",
                    penalty.map(|p| format!(", write penalty {p:+.1} %")).unwrap_or_default(),
                    if trigram { " (pg_trgm; serves LIKE/ILIKE with a leading wildcard)" } else { "" }
                ),
            ),
            (Some(d), Some(_)) if !used => (
                None,
                format!(
                    "No index: {d} was built and measured, and the plan did not use it. Rewrite the query so \
                     that an index on {relation} can serve it, or accept the scan."
                ),
            ),
            (Some(d), Some(s)) => (
                None,
                format!(
                    "No index: {d} was built and measured at {s:.2}x, less than the {WORTH_AN_INDEX}x worth its \
                     write cost. Rewrite the query so that an index on {relation} can serve it, or accept the scan."
                ),
            ),
            (Some(d), None) if trigram => (
                Some(d.clone()),
                format!("{d};  (pg_trgm; serves LIKE/ILIKE with a leading wildcard), then ANALYZE {relation} and re-run the test (estimated, not measured)."),
            ),
            (Some(d), None) => (
                Some(d.clone()),
                format!("{d};  then ANALYZE {relation} and re-run the test (estimated, not measured)."),
            ),
            (None, _) => (
                None,
                format!(
                    "Rewrite the query so it can use an index on {relation}, or accept the scan if the table stays small."
                ),
            ),
        };
        let hypo = index_ddl.as_ref().and_then(|d| health.hypothetical.get(d)).map(|h| {
            if h.used {
                format!(
                    "; hypopg: the planner would use this index, estimated cost {:.1} → {:.1}",
                    h.cost_before, h.cost_after
                )
            } else {
                format!("; hypopg: the planner would not use this index (estimated cost stays {:.1})", h.cost_before)
            }
        });
        let measured = measured.map(|m| format!("; {m}")).unwrap_or_default();
        out.push(Recommendation {
            kind: "seq_scan",
            test_id: Some(r.test_id.clone()),
            evidence: format!("test {} ({}): {f}{}{measured}", r.test_id, r.status, hypo.unwrap_or_default()),
            action,
            index_ddl,
            measured_speedup: speedup.map(|s| (s * 100.0).round() / 100.0),
            write_penalty_pct: penalty.map(|p| (p * 10.0).round() / 10.0),
        });
    }
}

fn trigger(r: &ResultRow, out: &mut Vec<Recommendation>) {
    let is_trigger_test = r.query_type.as_deref().is_some_and(|q| q.contains("trigger"));
    if !is_trigger_test || !matches!(r.status, Verdict::Fail | Verdict::Warn) {
        return;
    }
    // Every trigger the measured statement fired, costliest first, with its share of
    // the statement's time: the one to work on is named, with its measured cost.
    let mut triggers: Vec<(f64, &Finding)> = r
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Trigger { total_ms, .. } => Some((*total_ms, f)),
            _ => None,
        })
        .collect();
    triggers.sort_by(|a, b| b.0.total_cmp(&a.0));
    let slowest: String = triggers.iter().map(|(_, f)| format!("; {f}")).collect();
    out.push(Recommendation {
        kind: "trigger",
        test_id: Some(r.test_id.clone()),
        evidence: format!(
            "test {} ({}): {:.2} ms{} against a target of {} ms{slowest}",
            r.test_id,
            r.status,
            r.measured_ms.unwrap_or(0.0),
            if r.records.is_some() { " per record" } else { "" },
            r.target_ms.map(|t| t.to_string()).unwrap_or_else(|| "?".into()),
        ),
        action: "The plan's trigger remediation: 1. disable non-critical triggers temporarily; 2. convert to async \
                 processing (LISTEN/NOTIFY); 3. batch operations (statement-level triggers with transition tables); \
                 4. optimize the trigger function's lookups (each needs an index); 5. consider a queue-based approach."
            .into(),
        ..Recommendation::default()
    });
}

/// A failed isolation sweep: one recommendation per table that leaked, naming the table
/// and what lets the rows through (row-level security off, the policies in force, which
/// PostgreSQL combines with OR when they are permissive, or a foreign key without the
/// company).
fn isolation(r: &ResultRow, out: &mut Vec<Recommendation>) {
    if r.status != Verdict::Fail {
        return;
    }
    for f in &r.findings {
        let action = match f {
            Finding::RlsDisabled { table } => format!(
                "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; and give it a policy that limits rows to the tenant's \
                 company, e.g. CREATE POLICY tenant_isolation ON {table} USING (company_id = <the tenant's company>)."
            ),
            Finding::RowsVisible { table, policies, .. } if policies.is_empty() => format!(
                "{table} has row-level security but no policy for SELECT reaches the tenant: check that the tenant role \
                 does not own the table or have BYPASSRLS, or use ALTER TABLE {table} FORCE ROW LEVEL SECURITY."
            ),
            Finding::RowsVisible { table, .. } => format!(
                "Permissive policies are combined with OR, so one that does not restrict company_id (USING (true), or a \
                 test on another column) opens {table} to every tenant: rewrite it to compare company_id with the \
                 tenant's company (and deleted_at IS NULL where rows are soft-deleted), or add that test AS RESTRICTIVE."
            ),
            Finding::ReferenceAccepted { table, parent, column, .. } => format!(
                "A foreign key on {column} alone is checked by the table's owner, past row-level security, so a tenant \
                 can attach {table} rows to another company's {parent} row. Reference it together with its company: \
                 ALTER TABLE {parent} ADD UNIQUE (id, company_id); then on {table} replace the foreign key with \
                 FOREIGN KEY (company_id, {column}) REFERENCES {parent} (company_id, id)."
            ),
            _ => continue,
        };
        out.push(Recommendation {
            kind: "isolation",
            test_id: Some(r.test_id.clone()),
            evidence: format!("test {}: {f}", r.test_id),
            action,
            ..Recommendation::default()
        });
    }
}

/// A concurrency test that waited past its band: two sessions fought over row locks.
fn contention(r: &ResultRow, out: &mut Vec<Recommendation>) {
    if !matches!(r.status, Verdict::Fail | Verdict::Warn) {
        return;
    }
    let Some(wait) = r.findings.iter().find(|f| matches!(f, Finding::LockWait { .. })) else { return };
    out.push(Recommendation {
        kind: "lock_contention",
        test_id: Some(r.test_id.clone()),
        evidence: format!("test {} ({}): {wait}", r.test_id, r.status),
        action: "Updates of different tenants must not touch the same rows: check that both statements filter by \
                 company_id through an index (a slow statement holds its row locks longer). For the same hot rows, \
                 keep the transactions short, lock rows in one order (ORDER BY id) so two sessions cannot deadlock, \
                 and let queue-like work skip busy rows (FOR UPDATE SKIP LOCKED)."
            .into(),
        ..Recommendation::default()
    });
}

/// A duplicate-customer check that failed: the dedup promise of the auto-sync trigger
/// (or of the data) does not hold.
fn duplicates(r: &ResultRow, out: &mut Vec<Recommendation>) {
    if r.report_role != Some(ReportRole::DedupCheck) || r.status != Verdict::Fail {
        return;
    }
    let found = r.findings.iter().find(|f| matches!(f, Finding::CountMismatch { .. }));
    out.push(Recommendation {
        kind: "duplicates",
        test_id: Some(r.test_id.clone()),
        evidence: format!(
            "test {}: {}",
            r.test_id,
            found.map(ToString::to_string).unwrap_or_else(|| "the check failed".into())
        ),
        action: "One person got several live customers. Make the auto-sync trigger serialize on the person (the \
                 reference trigger takes a transaction advisory lock on company + email or phone before it looks the \
                 customer up) and back it with a unique index, e.g. ON customers (company_id, lower(customer_email)) \
                 WHERE deleted_at IS NULL."
            .into(),
        ..Recommendation::default()
    });
}

/// The plan's monitoring limits were crossed: the named tests ran on a saturated machine.
fn saturated(r: &ResultRow, out: &mut Vec<Recommendation>) {
    for f in r.findings.iter().filter(|f| matches!(f, Finding::Saturated { .. })) {
        out.push(Recommendation {
            kind: "machine",
            test_id: Some(r.test_id.clone()),
            evidence: format!("{}: {f}", r.name),
            action: "Read those tests' timings as taken under saturation: compare with a run on an idle machine, give \
                     the server more CPU or memory, or run the load tests with fewer clients."
                .into(),
            ..Recommendation::default()
        });
    }
}

/// A sort or hash of the test's plan that did not fit in work_mem and went to disk:
/// the plan's slow-query remediation step 6, "Tune work_mem if needed", with the size.
fn work_mem(r: &ResultRow, work_mem: Option<&str>, out: &mut Vec<Recommendation>) {
    let spills: Vec<(&str, &str, Option<i64>)> = r
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Spill { node, detail, disk_kb } => Some((node.as_str(), detail.as_str(), *disk_kb)),
            _ => None,
        })
        .collect();
    if spills.is_empty() {
        return;
    }
    // An in-memory sort needs more than its on-disk form; twice the largest spill,
    // rounded up to a power of two in MB, is a first value to try.
    let largest_kb = spills.iter().filter_map(|s| s.2).max().unwrap_or(0);
    let suggestion = if largest_kb > 0 {
        let mb = ((2 * largest_kb) as f64 / 1024.0).ceil().max(1.0) as u64;
        format!("try SET work_mem = '{}MB' for this workload", mb.next_power_of_two())
    } else {
        "raise it step by step until the node reports one batch".to_string()
    };
    let nodes: Vec<String> = spills.iter().map(|(node, detail, _)| format!("{node} ({detail})")).collect();
    out.push(Recommendation {
        kind: "work_mem",
        test_id: Some(r.test_id.clone()),
        evidence: format!(
            "test {}: {} did not fit in work_mem ({})",
            r.test_id,
            nodes.join(", "),
            work_mem.unwrap_or("unknown")
        ),
        action: format!(
            "The plan's remediation step 6, tune work_mem: {suggestion} (per role: ALTER ROLE app SET work_mem; \
             per query: SET LOCAL work_mem inside its transaction), then re-run the test. Raising it server-wide \
             multiplies by every sort and hash of every session."
        ),
        ..Recommendation::default()
    });
}

/// The test's plan is not the one it had in its last earlier run on the same schema and
/// scale: said next to the figure, whatever the verdict, since a plan that changes
/// between runs is either a change someone made or an unstable plan.
fn plan_changed(r: &ResultRow, out: &mut Vec<Recommendation>) {
    for f in r.findings.iter().filter(|f| matches!(f, Finding::PlanChanged { .. })) {
        if matches!(f, Finding::PlanChanged { same_state: true, .. }) {
            out.push(Recommendation {
                kind: "unstable_plan",
                test_id: Some(r.test_id.clone()),
                evidence: format!("test {} ({}): {f}", r.test_id, r.status),
                action: "Nothing the plan depends on changed (the same data from the same seed, the same schema and \
                         settings), yet the planner chose differently: its estimates sit near a tipping point, and the \
                         statistics ANALYZE samples decide the plan. Give the query an index that fits it clearly, or \
                         raise the statistics target of the filtered columns (ALTER TABLE ... ALTER COLUMN ... SET \
                         STATISTICS 1000) and ANALYZE, then run twice more and compare."
                    .into(),
                ..Recommendation::default()
            });
            continue;
        }
        out.push(Recommendation {
            kind: "plan_change",
            test_id: Some(r.test_id.clone()),
            evidence: format!(
                "test {} ({}, {} ms): {f}",
                r.test_id,
                r.status,
                r.measured_ms.map(super::summary::fmt_ms).unwrap_or_else(|| "-".into())
            ),
            action: "If nobody changed the schema on purpose: check that the index still exists and is valid \
                     (pg_index.indisvalid), run ANALYZE on the tables the plan reads, and compare both runs' plans \
                     (performance_test_results.plan). A plan that changes between runs on the same data is unstable: \
                     give the query an index that fits it, or raise the statistics target of the filtered columns."
                .into(),
            ..Recommendation::default()
        });
    }
}

/// A tenant-run test that is slow while the same query as the owner is not: RLS stops
/// the trigram index being used (docs/plan-corrections.md).
fn rls_leakproof(r: &ResultRow, data: &ReportData, out: &mut Vec<Recommendation>) {
    if r.run_as.as_deref() != Some("tenant") || !matches!(r.status, Verdict::Fail | Verdict::Warn) {
        return;
    }
    let Some(other) = r.compare_to.as_deref().and_then(|id| data.results.iter().find(|o| o.test_id == id)) else {
        return;
    };
    if other.status != Verdict::Pass {
        return;
    }
    out.push(Recommendation {
        kind: "rls_leakproof",
        test_id: Some(r.test_id.clone()),
        evidence: format!(
            "test {} as the tenant: {:.2} ms ({}); the same query as the owner (test {}): {:.2} ms (PASS)",
            r.test_id,
            r.measured_ms.unwrap_or(0.0),
            r.status,
            other.test_id,
            other.measured_ms.unwrap_or(0.0)
        ),
        action: "pg_trgm's %, similarity(), LIKE and ILIKE are not LEAKPROOF, so under row-level security the planner \
                 cannot use the trigram index before the policy filter and scans the tenant's rows instead. Search \
                 through a SECURITY DEFINER function that applies company_id itself, or keep tenants small enough for the scan."
            .into(),
        ..Recommendation::default()
    });
}

fn cache(data: &ReportData, out: &mut Vec<Recommendation>) {
    let (Some(ratio), Some(reads)) = (data.health.cache_hit_ratio, data.health.blocks_read) else { return };
    if ratio >= CACHE_HIT_MIN || reads < CACHE_MIN_READS {
        return;
    }
    let sb = data.run.settings.get("shared_buffers").cloned().unwrap_or_else(|| "?".into());
    out.push(Recommendation {
        kind: "cache",
        test_id: None,
        evidence: format!(
            "database cache hit ratio {:.2} % ({reads} blocks read from outside shared buffers), shared_buffers = {sb}",
            ratio * 100.0
        ),
        action: "Raise shared_buffers (about 25 % of RAM is the usual start; needs a restart) so the working set of \
                 the tenant tables stays in memory, then re-run."
            .into(),
        ..Recommendation::default()
    });
}

fn stale_metrics(data: &ReportData, out: &mut Vec<Recommendation>) {
    let Some(missing) = data.health.metrics_missing.filter(|m| *m > 0) else { return };
    out.push(Recommendation {
        kind: "stale_metrics",
        test_id: None,
        evidence: format!(
            "{missing} of {} active customers have no row in customer_metrics",
            data.health.active_customers.unwrap_or(0)
        ),
        action: format!(
            "REFRESH MATERIALIZED VIEW CONCURRENTLY {}.customer_metrics; and schedule it (e.g. with pg_cron) as \
             often as the application needs fresh metrics.",
            data.run.target_schema
        ),
        ..Recommendation::default()
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::*;
    use crate::suite::finding::WriteCost;
    use serde_json::{json, Value};

    fn row(id: &str, status: Verdict) -> ResultRow {
        ResultRow {
            test_id: id.into(),
            name: id.into(),
            status,
            kind: Some("timed_query".into()),
            ..Default::default()
        }
    }

    /// The findings the runner records for an executed plan.
    fn found(plan: Value, trigger_test: bool) -> Vec<Finding> {
        let facts = crate::explain::PlanFacts::from_json(&plan).unwrap();
        Finding::from_plan(&facts, &plan, None, None, trigger_test)
    }

    fn seq_plan(read: f64, kept: f64) -> Value {
        json!([{"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "customers",
            "Actual Rows": kept, "Actual Loops": 1, "Rows Removed by Filter": read - kept,
            "Filter": "((deleted_at IS NULL) AND (company_id = '11111111-1111-1111-1111-111111111111'::uuid))"}]}}])
    }

    #[test]
    fn seq_scan_needs_a_large_unselective_scan() {
        let mut r = row("1.1", Verdict::Fail);
        r.findings = found(seq_plan(10_000.0, 50.0), false);
        let data = ReportData { results: vec![r.clone()], ..Default::default() };
        let recs = recommend(&data);
        assert_eq!(recs.len(), 1, "{recs:?}");
        assert_eq!(recs[0].kind, "seq_scan");
        assert!(recs[0].evidence.contains("read 10000 rows to keep 50"), "{}", recs[0].evidence);
        assert!(
            recs[0].action.starts_with("CREATE INDEX ON customers (company_id) WHERE deleted_at IS NULL"),
            "{}",
            recs[0].action
        );
        // Small table, or a scan that keeps most rows: nothing to recommend.
        r.findings = found(seq_plan(500.0, 5.0), false);
        assert!(recommend(&ReportData { results: vec![r.clone()], ..Default::default() }).is_empty());
        r.findings = found(seq_plan(10_000.0, 9_000.0), false);
        assert!(recommend(&ReportData { results: vec![r], ..Default::default() }).is_empty());
    }

    #[test]
    fn a_measured_index_is_recommended_only_when_it_helped() {
        let mut r = row("2.4", Verdict::Pass);
        r.findings = found(seq_plan(10_000.0, 50.0), false);
        let ddl = "CREATE INDEX ON customers (company_id) WHERE deleted_at IS NULL".to_string();
        let measured = |after_ms: f64| Finding::IndexMeasured {
            ddl: ddl.clone(),
            before_ms: 12.0,
            after_ms,
            used: true,
            build_ms: 40.0,
            writes: vec![WriteCost { test_id: "3.1".into(), before_ms: 100.0, after_ms: 103.0 }],
        };
        r.findings.push(measured(1.0));
        let recs = recommend(&ReportData { results: vec![r.clone()], ..Default::default() });
        assert_eq!((recs[0].measured_speedup, recs[0].write_penalty_pct), (Some(12.0), Some(3.0)));
        assert_eq!(recs[0].index_ddl.as_deref(), Some(ddl.as_str()));
        assert!(recs[0].action.contains("measured: 12.0x faster, write penalty +3.0 %"), "{}", recs[0].action);
        // Faster by the clock, but the plan did not use it: no index.
        r.findings.pop();
        r.findings.push(match measured(1.0) {
            Finding::IndexMeasured { ddl, before_ms, after_ms, build_ms, writes, .. } => {
                Finding::IndexMeasured { ddl, before_ms, after_ms, used: false, build_ms, writes }
            }
            other => other,
        });
        let recs = recommend(&ReportData { results: vec![r.clone()], ..Default::default() });
        assert_eq!(recs[0].index_ddl, None);
        assert!(recs[0].action.contains("the plan did not use it"), "{}", recs[0].action);
        // Measured to help less than 1.5x: no index is recommended.
        r.findings.pop();
        r.findings.push(measured(10.0));
        let recs = recommend(&ReportData { results: vec![r], ..Default::default() });
        assert_eq!(recs[0].index_ddl, None);
        assert!(recs[0].action.starts_with("No index: "), "{}", recs[0].action);
    }

    #[test]
    fn a_plan_change_on_the_same_state_is_an_unstable_plan() {
        let change = crate::explain::shape::ShapeChange::between(
            &["Bitmap Heap Scan on customers".to_string(), "  Bitmap Index Scan using trgm on customers".to_string()],
            &["Index Scan using idx_customers_not_deleted on customers".to_string()],
        )
        .unwrap();
        let mut r = row("2.1", Verdict::Pass);
        r.findings = vec![Finding::PlanChanged { previous_run: 4, change: change.clone(), same_state: true }];
        let recs = recommend(&ReportData { results: vec![r.clone()], ..Default::default() });
        assert_eq!(recs.iter().map(|r| r.kind).collect::<Vec<_>>(), vec!["unstable_plan"]);
        assert!(recs[0].evidence.contains("unstable plan: plan changed: no longer uses trgm"), "{}", recs[0].evidence);
        r.findings = vec![Finding::PlanChanged { previous_run: 4, change, same_state: false }];
        let recs = recommend(&ReportData { results: vec![r], ..Default::default() });
        assert_eq!(recs.iter().map(|r| r.kind).collect::<Vec<_>>(), vec!["plan_change"]);
    }

    #[test]
    fn work_mem_only_when_a_node_spilled() {
        let mut r = row("1.1", Verdict::Pass);
        r.findings = found(
            json!([{"Plan": {"Node Type": "Sort", "Sort Method": "external merge", "Sort Space Used": 2304,
                             "Sort Space Type": "Disk", "Plans": [{"Node Type": "Index Scan", "Index Name": "i", "Relation Name": "customers"}]}}]),
            false,
        );
        let mut data = ReportData { results: vec![r.clone()], ..Default::default() };
        data.run.settings.insert("work_mem".into(), "64kB".into());
        let recs = recommend(&data);
        assert_eq!(recs.len(), 1, "{recs:?}");
        assert_eq!(recs[0].kind, "work_mem");
        assert_eq!(recs[0].evidence, "test 1.1: Sort (external merge, 2304 kB on disk) did not fit in work_mem (64kB)");
        assert!(recs[0].action.contains("try SET work_mem = '8MB'"), "{}", recs[0].action);
        r.findings = found(
            json!([{"Plan": {"Node Type": "Sort", "Sort Method": "quicksort", "Sort Space Used": 25, "Sort Space Type": "Memory"}}]),
            false,
        );
        assert!(recommend(&ReportData { results: vec![r], ..Default::default() }).is_empty());
    }

    #[test]
    fn rls_only_when_the_owner_passes() {
        let mut tenant = row("2.1-tenant", Verdict::Fail);
        tenant.run_as = Some("tenant".into());
        tenant.compare_to = Some("2.1".into());
        let owner = row("2.1", Verdict::Pass);
        let recs = recommend(&ReportData { results: vec![tenant.clone(), owner], ..Default::default() });
        assert_eq!(recs.iter().map(|r| r.kind).collect::<Vec<_>>(), vec!["rls_leakproof"]);
        let owner_slow = row("2.1", Verdict::Fail);
        assert!(recommend(&ReportData { results: vec![tenant, owner_slow], ..Default::default() }).is_empty());
    }

    #[test]
    fn cache_trigger_metrics_errors_and_assertions() {
        let mut data = ReportData {
            health: Health {
                cache_hit_ratio: Some(0.90),
                blocks_read: Some(50_000),
                metrics_missing: Some(0),
                ..Default::default()
            },
            ..Default::default()
        };
        data.run.settings.insert("shared_buffers".into(), "16384 8kB".into());
        let mut trig = row("3.1", Verdict::Warn);
        trig.kind = Some("dml".into());
        trig.query_type = Some("insert_trigger".into());
        trig.records = Some(100);
        trig.measured_ms = Some(12.5);
        trig.target_ms = Some(10.0);
        let mut err = row("1.2", Verdict::Error);
        err.error_sqlstate = Some("42P01".into());
        err.error_message = Some("relation \"x\" does not exist".into());
        let mut asserted = row("4.2", Verdict::Fail);
        asserted.findings = vec![Finding::IndexNotUsed {
            index: "idx_customers_not_deleted".into(),
            scans: vec!["Seq Scan on customers".into()],
        }];
        // The same words in the notes are not evidence: only findings are read.
        let mut said = row("4.3", Verdict::Fail);
        said.notes = Some("plan does not use index idx_customers_not_deleted".into());
        data.results = vec![trig, err, asserted, said];
        let kinds: Vec<_> = recommend(&data).iter().map(|r| r.kind).collect();
        assert_eq!(kinds, vec!["trigger", "error", "plan_assertion", "cache"]);
        data.health.cache_hit_ratio = Some(0.999);
        data.health.metrics_missing = Some(3);
        data.health.active_customers = Some(10);
        let kinds: Vec<_> = recommend(&data).iter().map(|r| r.kind).collect();
        assert_eq!(kinds, vec!["trigger", "error", "plan_assertion", "stale_metrics"]);
    }

    #[test]
    fn a_leaking_table_is_named_with_what_lets_rows_through() {
        let mut sweep = row("5.3-all-tables", Verdict::Fail);
        sweep.kind = Some("isolation_sweep".into());
        sweep.findings = vec![
            Finding::RowsVisible {
                table: "customers".into(),
                rows: 5,
                policies: vec![
                    "open_all PERMISSIVE to public USING (true)".into(),
                    "tenant_read PERMISSIVE to public USING ((company_id = x))".into(),
                ],
            },
            Finding::RlsDisabled { table: "customer_events".into() },
            Finding::ReferenceAccepted {
                table: "customer_notes".into(),
                parent: "customers".into(),
                column: "customer_id".into(),
                statements: vec!["UPDATE".into()],
            },
        ];
        let data = ReportData { results: vec![sweep], ..Default::default() };
        let recs = recommend(&data);
        assert_eq!(recs.iter().map(|r| r.kind).collect::<Vec<_>>(), vec!["isolation", "isolation", "isolation"]);
        assert!(recs[0].evidence.contains("customers: 5 rows") && recs[0].evidence.contains("open_all PERMISSIVE"));
        assert!(recs[0].action.contains("combined with OR") && recs[0].action.contains("opens customers"));
        assert!(recs[1].action.starts_with("ALTER TABLE customer_events ENABLE ROW LEVEL SECURITY"), "{:?}", recs[1]);
        assert!(recs[2].action.contains("FOREIGN KEY (company_id, customer_id) REFERENCES customers"), "{:?}", recs[2]);
    }

    #[test]
    fn trigger_advice_names_every_trigger_with_its_cost() {
        let mut trig = row("3.1", Verdict::Fail);
        trig.kind = Some("dml".into());
        trig.query_type = Some("insert_trigger".into());
        trig.measured_ms = Some(2.0);
        trig.target_ms = Some(1.0);
        trig.findings = found(
            json!([{"Plan": {"Node Type": "ModifyTable"}, "Execution Time": 100.0,
                "Triggers": [{"Trigger Name": "cheap", "Relation": "VC Usage", "Calls": 100, "Time": 5.0},
                             {"Trigger Name": "vc_usage_sync_customer", "Relation": "VC Usage", "Calls": 100, "Time": 80.0}]}]),
            true,
        );
        let data = ReportData { results: vec![trig], ..Default::default() };
        let e = &recommend(&data)[0].evidence;
        assert!(
            e.contains("trigger vc_usage_sync_customer on VC Usage: 100 calls, 0.800 ms each, 80.0 ms in all, 80 % of the statement; trigger cheap"),
            "{e}"
        );
    }

    #[test]
    fn blocking_duplicates_and_saturation_each_get_their_advice() {
        let mut blocked = row("5.4", Verdict::Fail);
        blocked.kind = Some("concurrency".into());
        blocked.findings =
            vec![Finding::LockWait { waited_ms: 1000.0, other_pid: 7, rows: None, held_ms: None, timed_out: true }];
        let mut dup = row("L.2-dedup", Verdict::Fail);
        dup.report_role = Some(ReportRole::DedupCheck);
        dup.findings = vec![Finding::CountMismatch { actual: Some(2.0), expected: 0.0 }];
        // A count check the registry gives no dedup role gets no dedup advice.
        let mut other_count = row("R.dedup-email", Verdict::Fail);
        other_count.findings = vec![Finding::CountMismatch { actual: Some(2.0), expected: 0.0 }];
        let mut cpu = row("M.cpu", Verdict::Warn);
        cpu.query_type = Some("monitor".into());
        cpu.findings = vec![Finding::Saturated {
            metric: "CPU usage".into(),
            peak_pct: 100.0,
            limit_pct: 80.0,
            tests: vec!["L.1".into()],
        }];
        let data = ReportData { results: vec![blocked, dup, other_count, cpu], ..Default::default() };
        let recs = recommend(&data);
        assert_eq!(recs.iter().map(|r| r.kind).collect::<Vec<_>>(), vec!["lock_contention", "duplicates", "machine"]);
        assert!(recs[0].evidence.contains("waited 1000 ms"), "{:?}", recs[0]);
        assert_eq!(recs[1].evidence, "test L.2-dedup: 2, expected 0");
        assert!(recs[2].evidence.contains("during L.1"), "{:?}", recs[2]);
    }
}
