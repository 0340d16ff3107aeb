//! One test's outcome, shaped like a `performance_test_results` row.

use serde::Serialize;

use super::finding::Finding;
use super::model::TestDef;
use super::stats::Summary;
use super::verdict::Verdict;
use crate::explain::PlanFacts;
use crate::pg::usage::Resources;
use crate::pg::waits::WaitProfile;

/// Field names are the column names of `performance_test_results` (all but its
/// identity and its timestamp): `columns()` lists them for the INSERT, and a test
/// in the server compares them with the table, so the two cannot drift apart.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TestResult {
    pub test_name: String,
    pub query_type: String,
    pub execution_time_ms: Option<f64>,
    pub rows_returned: Option<i64>,
    pub cache_hit_ratio: Option<f64>,
    pub notes: Option<String>,
    pub run_id: i64,
    pub test_id: String,
    pub status: String,
    pub statistic: Option<String>,
    pub target_ms: Option<f64>,
    pub acceptable_ms: Option<f64>,
    pub iterations: Option<i32>,
    pub min_ms: Option<f64>,
    pub avg_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub stddev_ms: Option<f64>,
    pub planning_ms: Option<f64>,
    pub explain_ms: Option<f64>,
    pub shared_hit_blocks: Option<i64>,
    pub shared_read_blocks: Option<i64>,
    pub temp_blocks: Option<i64>,
    /// Most memory one sort or hash of the plan held, kB (the plan's work_mem metric).
    pub work_mem_kb: Option<i64>,
    pub seq_scans: Option<Vec<String>>,
    pub index_scans: Option<Vec<String>>,
    pub expected_value: Option<f64>,
    pub actual_value: Option<f64>,
    pub error_sqlstate: Option<String>,
    pub error_message: Option<String>,
    pub plan: Option<serde_json::Value>,
    /// The plan's shape (explain::shape), and its fingerprint: what perf_compare and the
    /// next run compare to tell a plan change.
    pub plan_shape: Option<Vec<String>>,
    pub plan_fingerprint: Option<String>,
    /// Every timed iteration (ms, in order), for perf_compare's statistical test.
    pub samples_ms: Option<Vec<f64>>,
    /// Cold-cache figure (the test's statistic over its cold executions), when made.
    pub cold_ms: Option<f64>,
    pub cold_samples_ms: Option<Vec<f64>>,
    /// What was evicted before the cold executions (runner::cold::Eviction).
    pub evicted: Option<serde_json::Value>,
    /// What the test found beside its figure (suite::finding), for the reports.
    pub findings: Vec<Finding>,
    /// What the backends running the test waited on, sampled every 10 ms.
    pub waits: Option<WaitProfile>,
    /// What the test cost: CPU, buffers, WAL, storage I/O.
    pub resources: Option<Resources>,
    #[serde(skip)]
    pub verdict: Option<Verdict>,
}

/// Milliseconds rounded to microseconds: what a timer on a noisy machine can claim.
pub fn ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl TestResult {
    /// The columns a result fills: the field names as serialized (in name order).
    pub fn columns() -> Vec<String> {
        match serde_json::to_value(TestResult::default()) {
            Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
            // Invariant: a struct of plain fields serializes to a JSON object.
            _ => unreachable!("TestResult serializes to an object"),
        }
    }

    pub fn for_test(run_id: i64, t: &TestDef) -> TestResult {
        TestResult {
            test_name: t.display_name(),
            query_type: t.query_type.clone(),
            run_id,
            test_id: t.test_id.clone(),
            target_ms: t.target_ms,
            acceptable_ms: t.acceptable_ms,
            ..TestResult::default()
        }
    }

    /// Append a sentence to the notes ("a; b").
    pub fn add_note(&mut self, note: &str) {
        self.notes = Some(match self.notes.take() {
            Some(n) if !n.is_empty() => format!("{n}; {note}"),
            _ => note.to_string(),
        });
    }

    /// Record a finding, and its sentence in the notes.
    pub fn add_finding(&mut self, f: Finding) {
        self.add_note(&f.to_string());
        self.findings.push(f);
    }

    pub fn set_verdict(&mut self, v: Verdict) {
        self.status = v.as_str().to_string();
        self.verdict = Some(v);
    }

    /// Fill the latency columns from a summary; `execution_time_ms` is the judged figure.
    pub fn set_timing(&mut self, s: &Summary, statistic: super::stats::Statistic) {
        self.iterations = Some(s.n as i32);
        self.statistic = Some(statistic.name().to_string());
        self.execution_time_ms = Some(ms(s.statistic(statistic)));
        self.min_ms = Some(ms(s.min));
        self.avg_ms = Some(ms(s.avg));
        self.p50_ms = Some(ms(s.p50));
        self.p95_ms = Some(ms(s.p95));
        self.p99_ms = Some(ms(s.p99));
        self.max_ms = Some(ms(s.max));
        self.stddev_ms = Some(ms(s.stddev));
    }

    pub fn set_plan(&mut self, facts: &PlanFacts, plan: serde_json::Value) {
        self.planning_ms = facts.planning_ms.map(ms);
        self.explain_ms = facts.execution_ms.map(ms);
        self.shared_hit_blocks = Some(facts.shared_hit);
        self.shared_read_blocks = Some(facts.shared_read);
        self.temp_blocks = Some(facts.temp_read + facts.temp_written);
        self.work_mem_kb = facts.work_mem_kb;
        self.cache_hit_ratio = facts.cache_hit_ratio().map(|r| (r * 100.0).round() / 100.0);
        self.seq_scans = Some(facts.seq_scans.clone());
        self.index_scans = Some(facts.indexes.clone());
        let shape = crate::explain::shape::plan_shape(&plan);
        self.plan_fingerprint = Some(crate::explain::shape::fingerprint(&shape));
        self.plan_shape = Some(shape);
        self.plan = Some(plan);
    }

    pub fn set_error(&mut self, sqlstate: &str, message: &str) {
        self.set_verdict(Verdict::Error);
        self.error_sqlstate = Some(sqlstate.to_string());
        self.error_message = Some(message.to_string());
        self.notes = Some(format!("ERROR {sqlstate}: {message}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::stats::Statistic;

    #[test]
    fn serializes_with_column_names() {
        let mut r = TestResult { test_id: "1.1".into(), run_id: 7, ..TestResult::default() };
        r.set_timing(&Summary::of(&[1.0, 2.0, 3.0]).unwrap(), Statistic::P95);
        r.set_verdict(Verdict::Warn);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["status"], "WARN");
        assert_eq!(v["statistic"], "p95");
        assert_eq!(v["execution_time_ms"], 2.9);
        assert_eq!(v["iterations"], 3);
        assert!(v.get("verdict").is_none() && v.get("name").is_none());
        assert_eq!(v["findings"], serde_json::json!([]));
        let columns = TestResult::columns();
        assert!(columns.contains(&"findings".to_string()) && !columns.contains(&"verdict".to_string()));
    }

    #[test]
    fn error_sets_status_and_note() {
        let mut r = TestResult::default();
        r.set_error("42P01", "relation \"nope\" does not exist");
        assert_eq!(r.status, "ERROR");
        assert_eq!(r.notes.as_deref(), Some("ERROR 42P01: relation \"nope\" does not exist"));
        assert_eq!(ms(1.23456), 1.235);
    }
}
