//! Facts from `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` output.
//!
//! The JSON is an array with one object per statement: `{"Plan": {...}, "Planning Time":
//! ms, "Execution Time": ms, "Triggers": [...]}`. Every node may carry "Plans" (children),
//! "Node Type", "Relation Name", "Index Name", "Actual Rows", "Actual Loops" and buffer
//! counters; buffer counters of a node include its children, so totals come from the root.

use serde_json::Value;

pub mod shape;

/// What a test needs to know about how PostgreSQL executed a query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanFacts {
    pub planning_ms: Option<f64>,
    pub execution_ms: Option<f64>,
    /// Rows the top node returned (per loop times loops).
    pub rows: Option<f64>,
    pub shared_hit: i64,
    pub shared_read: i64,
    pub shared_written: i64,
    pub temp_read: i64,
    pub temp_written: i64,
    /// Relations read by a sequential scan, in plan order, without repeats.
    pub seq_scans: Vec<String>,
    /// Indexes used by index, index-only and bitmap index scans, without repeats.
    pub indexes: Vec<String>,
    /// One line per node ("Index Scan using idx on customers"), for notes and reports.
    pub nodes: Vec<String>,
    /// Per-trigger totals from EXPLAIN ANALYZE's "Triggers" section (row-level and
    /// AFTER triggers of the explained statement).
    pub triggers: Vec<TriggerTime>,
    /// The plan's "Memory usage (work_mem)" metric: the most memory one sort, hash or
    /// hash aggregate held ("Sort Space Used" of an in-memory sort, "Peak Memory
    /// Usage"), in kB. Each such node may use up to work_mem (hashes: times
    /// hash_mem_multiplier).
    pub work_mem_kb: Option<i64>,
    /// Nodes that did not fit in work_mem, e.g. "Sort (external merge, 2304 kB on
    /// disk)", "Hash (4 batches)", "HashAggregate (3 batches, 1024 kB on disk)".
    pub spills: Vec<Spill>,
}

/// One plan node that spilled to disk because work_mem was too small.
#[derive(Debug, Clone, PartialEq)]
pub struct Spill {
    pub node: String,
    /// kB written to disk, when EXPLAIN says.
    pub disk_kb: Option<i64>,
    /// Batches of a hash or hash aggregate (1 fits in memory).
    pub batches: Option<i64>,
    pub detail: String,
}

impl std::fmt::Display for Spill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.node, self.detail)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TriggerTime {
    pub name: String,
    pub relation: String,
    pub calls: i64,
    pub time_ms: f64,
}

/// Why there are no plan facts.
#[derive(Debug, Clone, PartialEq)]
pub enum NoPlan {
    /// EXPLAIN of REFRESH, VACUUM and other utility statements: PostgreSQL's JSON output
    /// is just the string "Utility Statement". Nothing is wrong.
    Utility,
    /// Output that is not EXPLAIN's JSON.
    Unreadable(String),
}

impl std::fmt::Display for NoPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoPlan::Utility => f.write_str("a utility statement has no plan"),
            NoPlan::Unreadable(why) => write!(f, "plan not read: {why}"),
        }
    }
}

impl From<&str> for NoPlan {
    fn from(why: &str) -> NoPlan {
        NoPlan::Unreadable(why.to_string())
    }
}

impl PlanFacts {
    /// Parse the text of EXPLAIN's JSON output.
    #[cfg(test)]
    pub fn from_json_text(text: &str) -> Result<PlanFacts, NoPlan> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| NoPlan::Unreadable(format!("EXPLAIN output is not JSON: {e}")))?;
        PlanFacts::from_json(&v)
    }

    pub fn from_json(v: &Value) -> Result<PlanFacts, NoPlan> {
        let top = match v {
            Value::Array(a) => a.first().ok_or("EXPLAIN output is an empty array")?,
            other => other,
        };
        let plan = top.get("Plan").ok_or(match top {
            Value::String(s) if s == "Utility Statement" => NoPlan::Utility,
            _ => NoPlan::from("EXPLAIN output has no \"Plan\""),
        })?;
        let mut facts = PlanFacts {
            planning_ms: top.get("Planning Time").and_then(Value::as_f64),
            execution_ms: top.get("Execution Time").and_then(Value::as_f64),
            rows: match (
                plan.get("Actual Rows").and_then(Value::as_f64),
                plan.get("Actual Loops").and_then(Value::as_f64),
            ) {
                (Some(r), Some(l)) => Some(r * l.max(1.0)),
                (r, _) => r,
            },
            shared_hit: int(plan, "Shared Hit Blocks"),
            shared_read: int(plan, "Shared Read Blocks"),
            shared_written: int(plan, "Shared Written Blocks"),
            temp_read: int(plan, "Temp Read Blocks"),
            temp_written: int(plan, "Temp Written Blocks"),
            ..PlanFacts::default()
        };
        walk(plan, &mut facts);
        if let Some(Value::Array(ts)) = top.get("Triggers") {
            facts.triggers = ts
                .iter()
                .map(|t| TriggerTime {
                    name: t.get("Trigger Name").and_then(Value::as_str).unwrap_or("?").to_string(),
                    relation: t.get("Relation").and_then(Value::as_str).unwrap_or("?").to_string(),
                    calls: t.get("Calls").and_then(Value::as_i64).unwrap_or(0),
                    time_ms: t.get("Time").and_then(Value::as_f64).unwrap_or(0.0),
                })
                .collect();
        }
        Ok(facts)
    }

    /// Share of shared-buffer block requests served from cache, in percent; `None` when
    /// the query touched no shared buffers.
    pub fn cache_hit_ratio(&self) -> Option<f64> {
        let total = self.shared_hit + self.shared_read;
        (total > 0).then(|| 100.0 * self.shared_hit as f64 / total as f64)
    }

    /// Whether a sequential scan read `relation`.
    pub fn seq_scans_on(&self, relation: &str) -> bool {
        self.seq_scans.iter().any(|r| r == relation)
    }

    pub fn uses_index(&self, index: &str) -> bool {
        self.indexes.iter().any(|i| i == index)
    }

    /// A short human description: the scans, e.g. "Index Scan using idx on customers".
    pub fn scan_summary(&self) -> String {
        let scans: Vec<&str> = self.nodes.iter().map(String::as_str).filter(|n| n.contains("Scan")).collect();
        scans.join("; ")
    }
}

/// The scan node that reads the most rows (returned plus removed by its filter, over
/// all loops), described as "Seq Scan on customers read 110000 rows (109950 removed by
/// its filter)": the node a query's growth with the data comes from.
pub fn heaviest_scan(v: &Value) -> Option<String> {
    let top = match v {
        Value::Array(a) => a.first()?,
        other => other,
    };
    let mut best: Option<(f64, String)> = None;
    let mut stack = vec![top.get("Plan")?];
    while let Some(node) = stack.pop() {
        if let Some(Value::Array(children)) = node.get("Plans") {
            stack.extend(children.iter());
        }
        let node_type = node.get("Node Type").and_then(Value::as_str).unwrap_or("?");
        if !node_type.ends_with("Scan") {
            continue;
        }
        let f = |k: &str| node.get(k).and_then(Value::as_f64).unwrap_or(0.0);
        let loops = f("Actual Loops").max(1.0);
        let removed = (f("Rows Removed by Filter") + f("Rows Removed by Index Recheck")) * loops;
        let read = f("Actual Rows") * loops + removed;
        let mut what = node_type.to_string();
        if let Some(i) = node.get("Index Name").and_then(Value::as_str) {
            what.push_str(&format!(" using {i}"));
        }
        if let Some(r) = node.get("Relation Name").and_then(Value::as_str) {
            what.push_str(&format!(" on {r}"));
        }
        let mut text = format!("{what} read {read:.0} rows");
        if removed > 0.0 {
            text.push_str(&format!(" ({removed:.0} removed by its filter)"));
        }
        if best.as_ref().is_none_or(|(b, _)| read > *b) {
            best = Some((read, text));
        }
    }
    best.map(|(_, text)| text)
}

fn int(node: &Value, key: &str) -> i64 {
    node.get(key).and_then(Value::as_i64).unwrap_or(0)
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x == item) {
        list.push(item.to_string());
    }
}

/// Sort and hash memory of one node, and whether it spilled.
fn memory(node: &Value, node_type: &str, facts: &mut PlanFacts) {
    let mut held = |kb: i64| facts.work_mem_kb = Some(facts.work_mem_kb.unwrap_or(0).max(kb));
    let sort_kb = node.get("Sort Space Used").and_then(Value::as_i64);
    let on_disk = node.get("Sort Space Type").and_then(Value::as_str) == Some("Disk");
    match sort_kb {
        Some(kb) if !on_disk => held(kb),
        _ => {}
    }
    if let Some(kb) = node.get("Peak Memory Usage").and_then(Value::as_i64) {
        held(kb);
    }
    let batches =
        node.get("Hash Batches").or_else(|| node.get("HashAgg Batches")).and_then(Value::as_i64).filter(|b| *b > 1);
    let disk_kb = if on_disk { sort_kb } else { node.get("Disk Usage").and_then(Value::as_i64).filter(|kb| *kb > 0) };
    if batches.is_none() && disk_kb.is_none() {
        return;
    }
    let name = match node.get("Strategy").and_then(Value::as_str) {
        Some("Hashed") if node_type == "Aggregate" => "HashAggregate".to_string(),
        _ => node_type.to_string(),
    };
    let mut detail = Vec::new();
    if let Some(m) = node.get("Sort Method").and_then(Value::as_str) {
        detail.push(m.to_string());
    }
    if let Some(b) = batches {
        detail.push(format!("{b} batches"));
    }
    if let Some(kb) = disk_kb {
        detail.push(format!("{kb} kB on disk"));
    }
    facts.spills.push(Spill { node: name, disk_kb, batches, detail: detail.join(", ") });
}

fn walk(node: &Value, facts: &mut PlanFacts) {
    let node_type = node.get("Node Type").and_then(Value::as_str).unwrap_or("?");
    let relation = node.get("Relation Name").and_then(Value::as_str);
    let index = node.get("Index Name").and_then(Value::as_str);

    if node_type == "Seq Scan" {
        if let Some(r) = relation {
            push_unique(&mut facts.seq_scans, r);
        }
    }
    if let Some(i) = index {
        push_unique(&mut facts.indexes, i);
    }
    let mut line = node_type.to_string();
    if let Some(i) = index {
        line.push_str(&format!(" using {i}"));
    }
    if let Some(r) = relation {
        line.push_str(&format!(" on {r}"));
    }
    facts.nodes.push(line);
    memory(node, node_type, facts);

    if let Some(Value::Array(children)) = node.get("Plans") {
        for child in children {
            walk(child, facts);
        }
    }
}

/// One `Seq Scan` node of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqScan {
    pub relation: String,
    pub filter: Option<String>,
    pub rows_read: f64,
    pub rows_kept: f64,
}

pub fn seq_scan_nodes(plan: &Value) -> Vec<SeqScan> {
    fn walk(node: &Value, out: &mut Vec<SeqScan>) {
        if node.get("Node Type").and_then(Value::as_str) == Some("Seq Scan") {
            let loops = node.get("Actual Loops").and_then(Value::as_f64).unwrap_or(1.0).max(1.0);
            let kept = node.get("Actual Rows").and_then(Value::as_f64).unwrap_or(0.0) * loops;
            let removed = node.get("Rows Removed by Filter").and_then(Value::as_f64).unwrap_or(0.0) * loops;
            out.push(SeqScan {
                relation: node.get("Relation Name").and_then(Value::as_str).unwrap_or("?").to_string(),
                filter: node.get("Filter").and_then(Value::as_str).map(str::to_string),
                rows_read: kept + removed,
                rows_kept: kept,
            });
        }
        if let Some(Value::Array(children)) = node.get("Plans") {
            for c in children {
                walk(c, out);
            }
        }
    }
    let mut out = Vec::new();
    for p in top_plans(plan) {
        walk(p, &mut out);
    }
    out
}

/// The top plan node of each statement of an EXPLAIN (FORMAT JSON) document (an array
/// of statements, or one statement).
fn top_plans(plan: &Value) -> Vec<&Value> {
    let statements: Vec<&Value> = match plan {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    statements.into_iter().filter_map(|s| s.get("Plan")).collect()
}

/// Every table and index the plan reads ("Relation Name", "Index Name"), in the order
/// first met, each once: what a cold-cache measurement evicts.
pub fn touched_relations(plan: &Value) -> Vec<String> {
    fn walk(node: &Value, out: &mut Vec<String>) {
        for key in ["Relation Name", "Index Name"] {
            if let Some(name) = node.get(key).and_then(Value::as_str) {
                if !out.iter().any(|n| n == name) {
                    out.push(name.to_string());
                }
            }
        }
        if let Some(Value::Array(children)) = node.get("Plans") {
            for c in children {
                walk(c, out);
            }
        }
    }
    let mut out = Vec::new();
    for p in top_plans(plan) {
        walk(p, &mut out);
    }
    out
}

/// The estimated total cost of the first statement's top plan node (EXPLAIN without
/// ANALYZE gives estimates only); 0 when there is none.
pub fn total_cost(plan: &Value) -> f64 {
    let top = match plan {
        Value::Array(a) => a.first(),
        other => Some(other),
    };
    top.and_then(|s| s.get("Plan")).and_then(|p| p.get("Total Cost")).and_then(Value::as_f64).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_scan_that_reads_the_most_rows() {
        let plan: Value = serde_json::from_str(
            r#"[{"Plan": {"Node Type": "Limit", "Actual Rows": 50, "Actual Loops": 1, "Plans": [
                 {"Node Type": "Nested Loop", "Actual Rows": 50, "Actual Loops": 1, "Plans": [
                   {"Node Type": "Seq Scan", "Relation Name": "customers", "Actual Rows": 50, "Actual Loops": 1,
                    "Rows Removed by Filter": 99000},
                   {"Node Type": "Index Scan", "Index Name": "idx_m", "Relation Name": "customer_metrics",
                    "Actual Rows": 1, "Actual Loops": 50}]}]}}]"#,
        )
        .unwrap();
        assert_eq!(
            heaviest_scan(&plan).unwrap(),
            "Seq Scan on customers read 99050 rows (99000 removed by its filter)"
        );
        let utility: Value = serde_json::from_str(r#"["Utility Statement"]"#).unwrap();
        assert_eq!(heaviest_scan(&utility), None);
    }

    // Shape of PostgreSQL 15's output for test 1.1 (trimmed).
    const SAMPLE: &str = r#"[{"Plan": {"Node Type": "Limit", "Actual Rows": 50, "Actual Loops": 1,
        "Shared Hit Blocks": 95, "Shared Read Blocks": 5, "Temp Read Blocks": 0, "Temp Written Blocks": 0,
        "Plans": [{"Node Type": "Nested Loop", "Plans": [
            {"Node Type": "Index Scan", "Index Name": "idx_customers_not_deleted", "Relation Name": "customers"},
            {"Node Type": "Index Scan", "Index Name": "idx_customer_metrics_customer", "Relation Name": "customer_metrics"},
            {"Node Type": "Seq Scan", "Relation Name": "companies"},
            {"Node Type": "Seq Scan", "Relation Name": "companies"}]}]},
        "Planning Time": 0.25, "Triggers": [{"Trigger Name": "vc_usage_sync_customer", "Relation": "VC Usage",
        "Time": 12.5, "Calls": 100}], "Execution Time": 1.5}]"#;

    #[test]
    fn reads_times_rows_and_buffers() {
        let f = PlanFacts::from_json_text(SAMPLE).unwrap();
        assert_eq!(f.planning_ms, Some(0.25));
        assert_eq!(f.execution_ms, Some(1.5));
        assert_eq!(f.rows, Some(50.0));
        assert_eq!((f.shared_hit, f.shared_read), (95, 5));
        assert_eq!(f.cache_hit_ratio(), Some(95.0));
        assert_eq!(f.triggers.len(), 1);
        assert_eq!((f.triggers[0].name.as_str(), f.triggers[0].calls), ("vc_usage_sync_customer", 100));
        assert_eq!(f.triggers[0].time_ms / f.triggers[0].calls as f64, 0.125);
    }

    #[test]
    fn finds_scans_and_indexes() {
        let f = PlanFacts::from_json_text(SAMPLE).unwrap();
        assert_eq!(f.seq_scans, vec!["companies"]);
        assert!(f.seq_scans_on("companies") && !f.seq_scans_on("customers"));
        assert!(f.uses_index("idx_customers_not_deleted"));
        assert!(!f.uses_index("idx_customers_email"));
        assert!(f.scan_summary().starts_with("Index Scan using idx_customers_not_deleted on customers"));
    }

    #[test]
    fn sort_and_hash_memory_and_spills() {
        let f = PlanFacts::from_json_text(
            r#"[{"Plan": {"Node Type": "Sort", "Sort Method": "external merge", "Sort Space Used": 2304, "Sort Space Type": "Disk",
                 "Plans": [{"Node Type": "Hash Join", "Plans": [
                   {"Node Type": "Seq Scan", "Relation Name": "a"},
                   {"Node Type": "Hash", "Hash Batches": 4, "Original Hash Batches": 1, "Peak Memory Usage": 4033,
                    "Plans": [{"Node Type": "Seq Scan", "Relation Name": "b"}]}]},
                   {"Node Type": "Aggregate", "Strategy": "Hashed", "HashAgg Batches": 1, "Peak Memory Usage": 217, "Disk Usage": 0}]}}]"#,
        )
        .unwrap();
        assert_eq!(f.work_mem_kb, Some(4033), "the in-memory peak, not the sort on disk");
        let spills: Vec<String> = f.spills.iter().map(|s| s.to_string()).collect();
        assert_eq!(spills, ["Sort (external merge, 2304 kB on disk)", "Hash (4 batches)"]);
        let quiet = PlanFacts::from_json_text(
            r#"[{"Plan": {"Node Type": "Sort", "Sort Method": "quicksort", "Sort Space Used": 25, "Sort Space Type": "Memory"}}]"#,
        )
        .unwrap();
        assert_eq!((quiet.work_mem_kb, quiet.spills.len()), (Some(25), 0));
        let none = PlanFacts::from_json_text(r#"[{"Plan": {"Node Type": "Seq Scan", "Relation Name": "a"}}]"#).unwrap();
        assert_eq!(none.work_mem_kb, None);
    }

    #[test]
    fn rejects_what_is_not_a_plan() {
        assert!(PlanFacts::from_json_text("{}").is_err());
        assert!(PlanFacts::from_json_text("[]").is_err());
        assert!(PlanFacts::from_json_text("not json").is_err());
        assert_eq!(PlanFacts::from_json_text(r#"["Utility Statement"]"#).unwrap_err(), NoPlan::Utility);
        assert_eq!(NoPlan::Utility.to_string(), "a utility statement has no plan");
        assert_eq!(
            PlanFacts::from_json_text("[]").unwrap_err().to_string(),
            "plan not read: EXPLAIN output is an empty array"
        );
        let no_buffers = PlanFacts::from_json_text(r#"[{"Plan": {"Node Type": "Result"}}]"#).unwrap();
        assert_eq!(no_buffers.cache_hit_ratio(), None);
    }

    #[test]
    fn touched_relations_lists_tables_and_indexes_once() {
        let plan: Value = serde_json::from_str(
            r#"[{"Plan": {"Node Type": "Nested Loop", "Plans": [
                {"Node Type": "Index Scan", "Relation Name": "customers", "Index Name": "idx_a"},
                {"Node Type": "Bitmap Heap Scan", "Relation Name": "customers", "Plans": [
                    {"Node Type": "Bitmap Index Scan", "Index Name": "idx_b"}]},
                {"Node Type": "Seq Scan", "Relation Name": "customer_metrics"}]}}]"#,
        )
        .unwrap();
        assert_eq!(touched_relations(&plan), vec!["customers", "idx_a", "idx_b", "customer_metrics"]);
    }
}
