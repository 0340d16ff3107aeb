//! Whole-run monitoring: the plan's "during test" figures (CPU, memory, disk I/O, lock
//! waits, slow queries, connections) for every test of a run, not only the load test,
//! and its thresholds (CPU < 80 %, memory < 90 %) as verdict rows.
//!
//! Each test is bracketed by a probe: CPU and disk figures are rates over the test's
//! own duration (from /proc counters read before and after; CPU only when the test was
//! long enough to measure it), memory, connections, lock waits and slow queries are
//! read when it ends. A load test also samples once a second
//! while it runs (load::coordinator); those samples are tied to its test too.

use std::time::Instant;

use crate::load::monitor;
use crate::store::load::Snapshot;
use crate::suite::finding::Finding;
use crate::suite::result::TestResult;
use crate::suite::verdict::Verdict;

/// A query running longer than this when a test ends counts as slow (the default of
/// perf_slow_queries, the plan's slow-query monitor).
const SLOW_MS: f64 = 100.0;

/// Verdict rows each run ends with (M.cpu, M.memory).
pub const THRESHOLD_ROWS: i32 = 2;

/// The plan's "During Test Checklist" thresholds.
pub const CPU_LIMIT_PCT: f64 = 80.0;
pub const MEMORY_LIMIT_PCT: f64 = 90.0;

/// The counters at the start of one test.
pub fn probe() -> monitor::Counters {
    monitor::Counters::read(&monitor::sample_database(SLOW_MS))
}

/// The test's sample, from its probe to now; `offset_ms` is when it ended, from the
/// run's start.
pub fn sample_since(probe: &monitor::Counters, run_started: Instant) -> Snapshot {
    let db = monitor::sample_database(SLOW_MS);
    probe.sample_until(&monitor::Counters::read(&db), &db, run_started.elapsed().as_secs_f64() * 1000.0)
}

/// The peak of one figure over a run's snapshots, and the tests during which it went
/// over its limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Peak {
    pub peak: Option<f64>,
    pub over: Vec<String>,
}

/// `samples`: (test_id, figure) per snapshot of the run.
pub fn peak(samples: &[(String, Option<f64>)], limit: f64) -> Peak {
    let peak = samples.iter().filter_map(|(_, v)| *v).fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let mut over: Vec<String> = Vec::new();
    for (test, v) in samples {
        if v.is_some_and(|v| v >= limit) && !over.contains(test) {
            over.push(test.clone());
        }
    }
    Peak { peak, over }
}

/// A verdict row for one of the plan's thresholds: PASS under it, WARN over it (the
/// machine was saturated while those tests ran, so their timings say as much about
/// the machine as about the database), SKIP when the figure cannot be read here.
pub fn threshold_result(run_id: i64, test_id: &str, what: &str, limit: f64, p: &Peak) -> TestResult {
    let mut r = TestResult {
        test_name: format!("{what} during the run (plan: < {limit} %)"),
        query_type: "monitor".into(),
        run_id,
        test_id: test_id.into(),
        expected_value: Some(limit),
        actual_value: p.peak.map(|v| (v * 10.0).round() / 10.0),
        execution_time_ms: None,
        ..TestResult::default()
    };
    match p.peak {
        None => {
            r.set_verdict(Verdict::Skip);
            r.notes = Some(format!(
                "SKIP: no {what} figure: no test lasted long enough to measure it, or this system does not show it"
            ));
        }
        Some(v) if p.over.is_empty() => {
            r.set_verdict(Verdict::Pass);
            r.notes = Some(format!("peak {v:.1} % < {limit} %"));
        }
        Some(v) => {
            r.set_verdict(Verdict::Warn);
            r.add_finding(Finding::Saturated {
                metric: what.to_string(),
                peak_pct: v,
                limit_pct: limit,
                tests: p.over.clone(),
            });
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: &str, v: Option<f64>) -> (String, Option<f64>) {
        (t.to_string(), v)
    }

    #[test]
    fn peak_names_the_tests_over_the_limit_once() {
        let p = peak(&[s("1.1", Some(20.0)), s("L.1", Some(95.0)), s("L.1", Some(99.0)), s("2.1", None)], 80.0);
        assert_eq!(p, Peak { peak: Some(99.0), over: vec!["L.1".into()] });
        assert_eq!(peak(&[s("1.1", None)], 80.0), Peak { peak: None, over: vec![] });
    }

    #[test]
    fn thresholds_become_verdicts() {
        let under = threshold_result(1, "M.cpu", "CPU", 80.0, &peak(&[s("1.1", Some(35.0))], 80.0));
        assert_eq!((under.status.as_str(), under.actual_value), ("PASS", Some(35.0)));
        let over = threshold_result(1, "M.cpu", "CPU", 80.0, &peak(&[s("L.1", Some(100.0))], 80.0));
        assert_eq!(over.status, "WARN");
        assert!(over.notes.as_deref().unwrap().contains("during L.1"), "{:?}", over.notes);
        assert!(
            matches!(&over.findings[..], [Finding::Saturated { tests, peak_pct, .. }] if tests == &["L.1"] && *peak_pct == 100.0),
            "{:?}",
            over.findings
        );
        let unknown = threshold_result(1, "M.memory", "Memory", 90.0, &peak(&[], 90.0));
        assert_eq!(unknown.status, "SKIP");
    }
}
