//! A plan's shape: what the planner chose, without what it estimated or what the
//! execution measured. Two executions of the same plan have the same shape; a new
//! index, a dropped one, a join order or strategy that changed give another.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One line per node, depth-first, indented two spaces per level: the node type, its
/// strategy or join type, the index and relation it reads ("Index Scan using
/// idx_customers_not_deleted on customers"). Costs, row counts, timings, buffers and
/// the workers a parallel node got are left out.
pub fn plan_shape(plan: &Value) -> Vec<String> {
    fn walk(node: &Value, depth: usize, out: &mut Vec<String>) {
        let s = |k: &str| node.get(k).and_then(Value::as_str);
        let mut line = format!("{}{}", "  ".repeat(depth), s("Node Type").unwrap_or("?"));
        for qualifier in [s("Strategy"), s("Join Type")].into_iter().flatten() {
            line.push_str(&format!(" ({qualifier})"));
        }
        if let Some(i) = s("Index Name") {
            line.push_str(&format!(" using {i}"));
        }
        if let Some(r) = s("Relation Name") {
            line.push_str(&format!(" on {r}"));
        }
        out.push(line);
        if let Some(Value::Array(children)) = node.get("Plans") {
            for c in children {
                walk(c, depth + 1, out);
            }
        }
    }
    let statements: Vec<&Value> = match plan {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    for p in statements.into_iter().filter_map(|s| s.get("Plan")) {
        walk(p, 0, &mut out);
    }
    out
}

/// A short fingerprint of a shape: FNV-1a (64 bits) over its lines, in hex. Written
/// out here rather than taken from std's hasher, whose output may change between Rust
/// releases: a fingerprint stored today must match one computed by a later build.
pub fn fingerprint(shape: &[String]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for line in shape {
        for b in line.bytes().chain(std::iter::once(b'\n')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// What changed from one shape to another, by what the plan reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShapeChange {
    pub indexes_no_longer_used: Vec<String>,
    pub indexes_now_used: Vec<String>,
    /// Relations read by a sequential scan now, not before (and the other way).
    pub seq_scans_new: Vec<String>,
    pub seq_scans_gone: Vec<String>,
    /// The first line that differs, before and after, when the reads stayed the same
    /// (a join order or strategy changed).
    pub first_difference: Option<(String, String)>,
}

impl ShapeChange {
    /// None when the shapes are the same.
    pub fn between(before: &[String], after: &[String]) -> Option<ShapeChange> {
        if before == after {
            return None;
        }
        let (idx_b, seq_b) = reads(before);
        let (idx_a, seq_a) = reads(after);
        let minus = |x: &[String], y: &[String]| x.iter().filter(|i| !y.contains(i)).cloned().collect::<Vec<_>>();
        let mut c = ShapeChange {
            indexes_no_longer_used: minus(&idx_b, &idx_a),
            indexes_now_used: minus(&idx_a, &idx_b),
            seq_scans_new: minus(&seq_a, &seq_b),
            seq_scans_gone: minus(&seq_b, &seq_a),
            first_difference: None,
        };
        if c.indexes_no_longer_used.is_empty()
            && c.indexes_now_used.is_empty()
            && c.seq_scans_new.is_empty()
            && c.seq_scans_gone.is_empty()
        {
            let n = before.len().max(after.len());
            let line =
                |s: &[String], i: usize| s.get(i).map(|l| l.trim().to_string()).unwrap_or_else(|| "(none)".into());
            c.first_difference =
                (0..n).find(|i| before.get(*i) != after.get(*i)).map(|i| (line(before, i), line(after, i)));
        }
        Some(c)
    }
}

impl std::fmt::Display for ShapeChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if !self.indexes_no_longer_used.is_empty() {
            parts.push(format!("no longer uses {}", self.indexes_no_longer_used.join(", ")));
        }
        if !self.seq_scans_new.is_empty() {
            parts.push(format!("now a Seq Scan on {}", self.seq_scans_new.join(", ")));
        }
        if !self.indexes_now_used.is_empty() {
            parts.push(format!("now uses {}", self.indexes_now_used.join(", ")));
        }
        if !self.seq_scans_gone.is_empty() {
            parts.push(format!("no Seq Scan on {} any more", self.seq_scans_gone.join(", ")));
        }
        if let Some((b, a)) = &self.first_difference {
            parts.push(format!("{b} became {a}"));
        }
        write!(f, "plan changed: {}", parts.join("; "))
    }
}

/// Indexes a shape reads, and relations it reads with a sequential scan.
fn reads(shape: &[String]) -> (Vec<String>, Vec<String>) {
    let mut indexes = Vec::new();
    let mut seq = Vec::new();
    for line in shape {
        let line = line.trim();
        if let Some((_, rest)) = line.split_once(" using ") {
            let index = rest.split(" on ").next().unwrap_or(rest).to_string();
            if !indexes.contains(&index) {
                indexes.push(index);
            }
        }
        if let Some(rel) = line.strip_prefix("Seq Scan on ") {
            if !seq.iter().any(|s| s == rel) {
                seq.push(rel.to_string());
            }
        }
    }
    (indexes, seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with_index() -> Value {
        json!([{"Plan": {"Node Type": "Limit", "Actual Rows": 50, "Total Cost": 12.5, "Plans": [
            {"Node Type": "Index Scan", "Index Name": "idx_customers_not_deleted", "Relation Name": "customers",
             "Actual Rows": 50, "Total Cost": 11.0}]}}])
    }

    fn without_index() -> Value {
        json!([{"Plan": {"Node Type": "Limit", "Actual Rows": 50, "Plans": [
            {"Node Type": "Sort", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "customers", "Actual Rows": 900}]}]}}])
    }

    #[test]
    fn shape_leaves_out_estimates_and_measurements() {
        let shape = plan_shape(&with_index());
        assert_eq!(shape, vec!["Limit", "  Index Scan using idx_customers_not_deleted on customers"]);
        let mut other_run = with_index();
        other_run[0]["Plan"]["Actual Rows"] = json!(7);
        other_run[0]["Plan"]["Plans"][0]["Total Cost"] = json!(99.0);
        assert_eq!(fingerprint(&plan_shape(&other_run)), fingerprint(&shape));
        assert_ne!(fingerprint(&plan_shape(&without_index())), fingerprint(&shape));
        // Fixed forever: a stored fingerprint must match what any later build computes.
        assert_eq!(fingerprint(&["Limit".to_string()]), "b15d461e13d039da");
    }

    #[test]
    fn a_change_names_the_index_and_the_scan() {
        let c = ShapeChange::between(&plan_shape(&with_index()), &plan_shape(&without_index())).unwrap();
        assert_eq!(
            c.to_string(),
            "plan changed: no longer uses idx_customers_not_deleted; now a Seq Scan on customers"
        );
        assert!(ShapeChange::between(&plan_shape(&with_index()), &plan_shape(&with_index())).is_none());
        let hash = vec!["Hash Join (Inner)".to_string()];
        let merge = vec!["Merge Join (Inner)".to_string()];
        assert_eq!(
            ShapeChange::between(&hash, &merge).unwrap().to_string(),
            "plan changed: Hash Join (Inner) became Merge Join (Inner)"
        );
    }
}
