//! Plan assertions (see docs/plan-corrections.md, test 4.2): "this index is used", "no sequential scan on X".

use crate::explain::PlanFacts;

/// The assertions that failed, each as a sentence naming the plan node at fault.
pub fn failed(facts: &PlanFacts, uses_index: Option<&str>, no_seqscan_on: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(idx) = uses_index {
        if !facts.uses_index(idx) {
            let scans = facts.scan_summary();
            out.push(format!(
                "plan does not use index {idx} (scans: {})",
                if scans.is_empty() { "none" } else { &scans }
            ));
        }
    }
    if let Some(rel) = no_seqscan_on {
        if facts.seq_scans_on(rel) {
            out.push(format!("plan has a Seq Scan on {rel}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(seq: &[&str], idx: &[&str]) -> PlanFacts {
        PlanFacts {
            seq_scans: seq.iter().map(|s| s.to_string()).collect(),
            indexes: idx.iter().map(|s| s.to_string()).collect(),
            nodes: seq.iter().map(|s| format!("Seq Scan on {s}")).collect(),
            ..PlanFacts::default()
        }
    }

    #[test]
    fn index_assertion() {
        assert!(failed(&facts(&[], &["idx_customers_not_deleted"]), Some("idx_customers_not_deleted"), None).is_empty());
        let f = failed(&facts(&["customers"], &[]), Some("idx_customers_not_deleted"), None);
        assert_eq!(f, vec!["plan does not use index idx_customers_not_deleted (scans: Seq Scan on customers)"]);
    }

    #[test]
    fn seqscan_assertion() {
        assert!(failed(&facts(&["companies"], &[]), None, Some("customers")).is_empty());
        assert_eq!(
            failed(&facts(&["customers"], &[]), None, Some("customers")),
            vec!["plan has a Seq Scan on customers"]
        );
        assert!(failed(&facts(&["customers"], &[]), None, None).is_empty());
    }
}
