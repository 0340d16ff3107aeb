//! A test as the registry (`perf_tests`) defines it.

use super::stats::Statistic;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Warm-up, N timed executions of a read query, one EXPLAIN ANALYZE; verdict on a statistic.
    TimedQuery,
    /// The query returns one number; PASS when it equals `expected_value`.
    CountCheck,
    /// A data change, timed over iterations that are rolled back (the last one kept
    /// when `commit_last`); verdict per record when `records` is set.
    Dml,
    /// As the tenant, every tenant table shows only the tenant's live rows.
    IsolationSweep,
    /// Two sessions at once (5.4): `sql` here while a second session holds the locks
    /// of `concurrent_sql`; FAIL when this one waits for the other. With `hold_ms`
    /// (5.4-same: the same hot rows) the other session lets go after that long and the
    /// wait is measured: FAIL only when it outlasts the other's transaction by more
    /// than the acceptable band.
    Concurrency,
    /// The plan's load test: `clients` background workers run the load script named in
    /// `sql`, `iterations` transactions each; verdict on p95 against the latency limit.
    Load,
    /// How much load the server takes within `target_ms` (p95 response time): the load
    /// script named in `sql`, `clients` clients, open-loop steps of rising rate (at most
    /// `iterations`); PASS when the highest rate that met the target reaches
    /// `target_rate` (without one: when any rate met it).
    Capacity,
    /// `sql` timed as for timed_query, but alone: inside a rolled-back subtransaction
    /// every company other than `tenant_company` is deleted first. Judged on the ratio
    /// of `compare_to` (the same query among all tenants) to this.
    SingleTenant,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "timed_query" => Some(Kind::TimedQuery),
            "count_check" => Some(Kind::CountCheck),
            "dml" => Some(Kind::Dml),
            "isolation_sweep" => Some(Kind::IsolationSweep),
            "concurrency" => Some(Kind::Concurrency),
            "load" => Some(Kind::Load),
            "capacity" => Some(Kind::Capacity),
            "single_tenant" => Some(Kind::SingleTenant),
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
    /// The role that wrote the test, when the caller has rights its author lacks (set
    /// by the runner, never read from the registry).
    Author(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestDef {
    pub test_id: String,
    pub scenario: i32,
    pub name: String,
    pub kind: Kind,
    pub query_type: String,
    /// The statement(s) under test; empty for an isolation sweep.
    pub sql: String,
    /// DML: run before `sql` in every iteration, untimed.
    pub setup_sql: Option<String>,
    /// The single statement to EXPLAIN when `sql` holds several.
    pub explain_sql: Option<String>,
    pub statistic: Statistic,
    pub target_ms: Option<f64>,
    pub acceptable_ms: Option<f64>,
    /// Targets are per record: the measured time is divided by this.
    pub records: Option<i32>,
    pub expected_value: Option<f64>,
    pub commit_last: bool,
    pub iterations: i32,
    pub warmup: i32,
    pub run_as: RunAs,
    /// Plan assertions: an index the plan must use, a relation it must not seq-scan.
    pub assert_index: Option<String>,
    pub assert_no_seqscan: Option<String>,
    /// Another test of the same run whose figure this one is reported against.
    pub compare_to: Option<String>,
    /// An extension the test needs (pg_trgm for fuzzy search); SKIP without it.
    pub requires_extension: Option<String>,
    /// Load tests: concurrent clients.
    pub clients: Option<i32>,
    /// Concurrency tests: how long the second session holds its locks before it lets
    /// go (None: until this session is done, so any wait is a block).
    pub hold_ms: Option<i32>,
    /// Count checks: `expected_value` is at the plan's volume, times the run's scale.
    pub expected_scales: bool,
    /// The company a tenant test runs as, or the one a single_tenant test keeps.
    pub tenant_company: Option<String>,
    /// The role that last wrote the test's SQL (stamped by the registry's trigger).
    pub author: String,
    /// One of the plan's insert and update tests, timed again with a candidate index to
    /// measure its write penalty (runner::candidate).
    pub measures_writes: bool,
    /// Capacity tests: the offered rate (transactions per second) the target must hold at.
    pub target_rate: Option<f64>,
}

impl Kind {
    /// Kinds whose result is a time that can grow with the data.
    pub fn is_timed(self) -> bool {
        matches!(self, Kind::TimedQuery | Kind::SingleTenant | Kind::Dml)
    }
}

impl TestDef {
    /// The plan's `test_name` column is varchar(100): "1.1 Customer list pagination".
    pub fn display_name(&self) -> String {
        let full = format!("{} {}", self.test_id, self.name);
        full.chars().take(100).collect()
    }

    /// The statement EXPLAIN is run on.
    pub fn explain_target(&self) -> &str {
        self.explain_sql.as_deref().unwrap_or(&self.sql)
    }
}

/// SQL as a DBA may type it: surrounding blanks and trailing semicolons removed, so it
/// can be wrapped or prefixed with EXPLAIN.
pub fn normalize_sql(sql: &str) -> String {
    sql.trim().trim_end_matches(|c: char| c == ';' || c.is_whitespace()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_is_trimmed_of_trailing_semicolons() {
        assert_eq!(normalize_sql("  SELECT 1;; \n"), "SELECT 1");
        assert_eq!(normalize_sql("SELECT ';'"), "SELECT ';'");
    }

    #[test]
    fn kinds_parse() {
        for k in ["timed_query", "count_check", "dml", "isolation_sweep", "concurrency"] {
            assert!(Kind::parse(k).is_some(), "{k}");
        }
        assert!(Kind::parse("bogus").is_none());
    }
}
