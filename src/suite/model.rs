//! A test as the registry (`perf_tests`) defines it.

use super::stats::Statistic;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Warm-up, N timed executions, one EXPLAIN ANALYZE; verdict on a statistic.
    TimedQuery,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "timed_query" => Some(Kind::TimedQuery),
            _ => None,
        }
    }
}

/// Who a test runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunAs {
    /// The caller (normally the tables' owner or a superuser: RLS does not apply).
    Owner,
    /// The plain tenant role, with `app.current_company_id` set to this company.
    Tenant(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestDef {
    pub test_id: String,
    pub scenario: i32,
    pub name: String,
    pub kind: Kind,
    pub query_type: String,
    pub sql: String,
    pub statistic: Statistic,
    pub target_ms: Option<f64>,
    pub acceptable_ms: Option<f64>,
    pub iterations: i32,
    pub warmup: i32,
    pub run_as: RunAs,
    /// Plan assertions: an index the plan must use, a relation it must not seq-scan.
    pub assert_index: Option<String>,
    pub assert_no_seqscan: Option<String>,
}

impl TestDef {
    /// The plan's `test_name` column is varchar(100): "1.1 Customer list pagination".
    pub fn display_name(&self) -> String {
        let full = format!("{} {}", self.test_id, self.name);
        full.chars().take(100).collect()
    }
}
