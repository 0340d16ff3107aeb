//! What a report is built from: one run, its results, the run before it, and a few
//! facts about the database read when the report is made. Loaded as one JSON document
//! (see `api::report`), so everything here is plain data and the renderers are pure.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub use crate::pg::usage::Resources;
pub use crate::pg::waits::WaitProfile;
pub use crate::suite::finding::Finding;
pub use crate::suite::verdict::Verdict;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportData {
    pub run: RunInfo,
    #[serde(default)]
    pub results: Vec<ResultRow>,
    /// The previous completed run over the same tests and schema, when there is one.
    pub previous: Option<PreviousRun>,
    #[serde(default)]
    pub health: Health,
    /// p95 trend per test over recent runs (oldest first), for charts.
    #[serde(default)]
    pub history: Vec<HistoryPoint>,
    /// The run's monitoring samples, in time order, each tied to its test.
    #[serde(default)]
    pub monitor: Vec<MonitorPoint>,
    /// The run's load tests (not the steps of a capacity search).
    #[serde(default)]
    pub load_tests: Vec<LoadTest>,
    /// The steps of the run's capacity searches, in order.
    #[serde(default)]
    pub capacity: Vec<CapacityStep>,
}

/// One load test: response times count from when each transaction was due, service
/// times from when it started (equal without a rate).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadTest {
    pub load_id: i64,
    pub script: String,
    pub clients: Option<i64>,
    pub rate: Option<f64>,
    pub arrivals: Option<String>,
    pub transactions: Option<i64>,
    pub failed: Option<i64>,
    pub skipped: Option<i64>,
    pub behind: Option<i64>,
    pub tps: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub service_p95_ms: Option<f64>,
    pub service_p99_ms: Option<f64>,
    pub lag_p95_ms: Option<f64>,
}

/// One step of a capacity search.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CapacityStep {
    pub capacity_id: i64,
    pub step: i64,
    pub offered_rate: f64,
    pub achieved_tps: Option<f64>,
    pub p95_ms: Option<f64>,
    pub service_p95_ms: Option<f64>,
    pub met: bool,
    pub capacity: bool,
    pub knee: bool,
    pub target_p95_ms: Option<f64>,
    pub clients: Option<i64>,
    pub script: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MonitorPoint {
    pub test_id: String,
    pub scenario: Option<i32>,
    pub offset_ms: Option<f64>,
    pub cpu_pct: Option<f64>,
    pub mem_pct: Option<f64>,
    pub lock_waits: Option<i64>,
    pub slow_queries: Option<i64>,
    pub connections: Option<i64>,
    pub disk_read_kbs: Option<f64>,
    pub disk_write_kbs: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RunInfo {
    pub run_id: i64,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub status: String,
    pub overall: Option<String>,
    pub pattern: String,
    pub target_schema: String,
    pub run_by: String,
    pub origin: Option<String>,
    /// The environment's multiple of the plan's volume (perf_run_all(scale => N)).
    pub scale: Option<f64>,
    pub pg_version: String,
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    #[serde(default)]
    pub data_volume: BTreeMap<String, i64>,
    pub database: String,
    pub database_size: String,
    pub notes: Option<String>,
    pub cache_state: Option<String>,
    pub stat_statements: Option<String>,
    /// pg_stat_statements' most expensive statements since the run's reset (a row
    /// operators may write: an entry that does not read as one is left out).
    #[serde(deserialize_with = "lenient_list")]
    pub top_statements: Vec<TopStatement>,
    pub worker_slots_free: Option<i64>,
    pub index_bytes_start: Option<i64>,
    pub index_bytes_end: Option<i64>,
    /// Monitoring samples taken during the run's load test.
    pub monitoring: Option<Monitoring>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TopStatement {
    pub query: String,
    pub calls: i64,
    pub total_ms: f64,
    pub mean_ms: f64,
    pub rows: i64,
    pub shared_blks_read: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Monitoring {
    pub samples: i64,
    pub max_lock_waits: Option<i64>,
    pub max_slow_queries: Option<i64>,
    pub min_cache_hit_ratio: Option<f64>,
    pub cpu_peak_pct: Option<f64>,
    pub mem_peak_pct: Option<f64>,
    pub max_connections_used: Option<i64>,
    pub max_connections: Option<i64>,
    pub blocks_read_peak_per_s: Option<f64>,
    pub disk_read_peak_kbs: Option<f64>,
    pub disk_write_peak_kbs: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ResultRow {
    pub test_id: String,
    pub name: String,
    pub scenario: Option<i32>,
    pub kind: Option<String>,
    pub query_type: Option<String>,
    pub run_as: Option<String>,
    pub compare_to: Option<String>,
    pub records: Option<i32>,
    pub statistic: Option<String>,
    pub target_ms: Option<f64>,
    pub acceptable_ms: Option<f64>,
    pub measured_ms: Option<f64>,
    pub status: Verdict,
    pub notes: Option<String>,
    pub iterations: Option<i32>,
    pub min_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub shared_hit_blocks: Option<i64>,
    pub shared_read_blocks: Option<i64>,
    pub temp_blocks: Option<i64>,
    pub work_mem_kb: Option<i64>,
    pub expected_value: Option<f64>,
    pub actual_value: Option<f64>,
    pub error_sqlstate: Option<String>,
    pub error_message: Option<String>,
    /// The test's statement (from the registry), for hypothetical-index checks.
    #[serde(skip_serializing)]
    pub sql: Option<String>,
    /// Who wrote the test's SQL (perf_tests.author): only SQL this session may run as
    /// its author is planned for the hypothetical-index check.
    #[serde(skip_serializing)]
    pub author: Option<String>,
    /// EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of the test's statement; read for advice,
    /// left out of the JSON report (it stays in performance_test_results.plan).
    #[serde(skip_serializing)]
    pub plan: Option<Value>,
    /// Every timed iteration, for the noise-aware comparison with the previous run.
    #[serde(skip_serializing)]
    pub samples_ms: Vec<f64>,
    /// The cold-cache figure and what was evicted for it (pg_perfsuite.cold_cache).
    pub cold_ms: Option<f64>,
    pub evicted: Option<Value>,
    /// What the test found (NULL for results recorded before findings were kept).
    /// Results are rows operators may write: a finding that does not read as one of
    /// the kinds is left out, never a reason to fail the report.
    #[serde(deserialize_with = "lenient_list")]
    pub findings: Vec<Finding>,
    /// The registry's word on the test's place in the report (perf_tests).
    pub report_row: Option<String>,
    pub plan_baseline_ms: Option<f64>,
    #[serde(deserialize_with = "lenient")]
    pub report_role: Option<ReportRole>,
    /// What the test's backends waited on, and what it cost (NULL before 0.3.0).
    #[serde(deserialize_with = "lenient")]
    pub waits: Option<WaitProfile>,
    #[serde(deserialize_with = "lenient")]
    pub resources: Option<Resources>,
}

/// A test's part in the report beyond its own row, as the registry says
/// (perf_tests.report_role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportRole {
    /// A count of duplicate customers that must be 0: its failure gets the dedup advice.
    DedupCheck,
    /// The refresh of customer_metrics: its figure is a line of the risk assessment.
    MetricsRefresh,
}

/// The elements of a list that read as `T`; anything else is left out.
fn lenient_list<'de, D: serde::Deserializer<'de>, T: serde::de::DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect(),
        _ => Vec::new(),
    })
}

/// A value that does not read as a `T` is left out (None).
fn lenient<'de, D: serde::Deserializer<'de>, T: serde::de::DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    Ok(serde_json::from_value(Value::deserialize(d)?).ok())
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PreviousRun {
    pub run_id: i64,
    pub started_at: Option<String>,
    /// test_id → the figure its verdict was made on.
    #[serde(default)]
    pub measured: BTreeMap<String, f64>,
    /// test_id → its timed iterations.
    #[serde(default, skip_serializing)]
    pub samples: BTreeMap<String, Vec<f64>>,
    /// Pinned with perf_set_baseline rather than simply the run before.
    pub pinned: bool,
    /// test_id → its median (or figure) in earlier runs: its noise band's history.
    #[serde(default, skip_serializing)]
    pub noise_history: BTreeMap<String, Vec<f64>>,
}

/// Facts read from the database when the report is made.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Health {
    /// Database-wide buffer cache hit ratio since statistics were last reset (0..1).
    pub cache_hit_ratio: Option<f64>,
    pub blocks_read: Option<i64>,
    /// Active customers that have no row in customer_metrics (a stale view).
    pub metrics_missing: Option<i64>,
    pub active_customers: Option<i64>,
    /// Why the run's schema was not read for this report (its writers are not the
    /// reader's to trust, or it is gone or not readable); None when it was read.
    pub target_not_read: Option<String>,
    /// Installed extensions that change what can be recommended.
    pub hypopg: bool,
    /// hypopg's verdict on each recommended index (keyed by its CREATE INDEX statement).
    pub hypothetical: std::collections::BTreeMap<String, Hypothetical>,
}

/// What the planner did with a hypothetical index (hypopg): used or not, and the
/// statement's estimated total cost without and with it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Hypothetical {
    pub used: bool,
    pub cost_before: f64,
    pub cost_after: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HistoryPoint {
    pub run_id: i64,
    pub test_id: String,
    pub measured_ms: f64,
}
