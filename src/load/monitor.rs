//! What the plan's "Monitoring During Tests" watches, sampled while a load test runs:
//! long-running active queries, lock waits, the database's cache hit ratio, and the
//! machine's CPU and memory from /proc where it is readable.

use pgrx::prelude::*;

/// Busy and total jiffies from the first line of /proc/stat ("cpu  user nice system idle iowait ...").
pub fn parse_proc_stat(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    if v.len() < 4 {
        return None;
    }
    let total: u64 = v.iter().sum();
    let idle = v[3] + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// Used share of memory (1 - MemAvailable / MemTotal) from /proc/meminfo.
pub fn parse_meminfo(text: &str) -> Option<f64> {
    let field = |name: &str| -> Option<f64> {
        text.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok()
    };
    let (total, available) = (field("MemTotal:")?, field("MemAvailable:")?);
    (total > 0.0).then(|| (1.0 - available / total) * 100.0)
}

/// CPU busy % between two /proc/stat readings.
pub fn cpu_busy_pct(before: (u64, u64), after: (u64, u64)) -> Option<f64> {
    let (busy, total) = (after.0.checked_sub(before.0)?, after.1.checked_sub(before.1)?);
    (total > 0).then(|| busy as f64 / total as f64 * 100.0)
}

pub fn read_cpu() -> Option<(u64, u64)> {
    parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)
}

pub fn read_mem_used_pct() -> Option<f64> {
    parse_meminfo(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub offset_ms: f64,
    pub slow_queries: i64,
    pub lock_waits: i64,
    pub cache_hit_ratio: Option<f64>,
    pub cpu_busy_pct: Option<f64>,
    pub mem_used_pct: Option<f64>,
}

/// Database-side figures now (pg_stat_activity is re-read, not the transaction's snapshot).
pub fn sample_database(slow_ms: f64) -> (i64, i64, Option<f64>) {
    Spi::run("SELECT pg_catalog.pg_stat_clear_snapshot()").expect("pg_stat_clear_snapshot");
    let row = Spi::get_three_with_args::<i64, i64, f64>(
        "SELECT (SELECT count(*) FROM pg_catalog.pg_stat_activity \
                  WHERE state <> 'idle' AND pid <> pg_catalog.pg_backend_pid() \
                    AND clock_timestamp() - query_start > $1 * interval '1 millisecond'), \
                (SELECT count(*) FROM pg_catalog.pg_stat_activity \
                  WHERE cardinality(pg_catalog.pg_blocking_pids(pid)) > 0), \
                (SELECT blks_hit::float8 / nullif(blks_hit + blks_read, 0) \
                   FROM pg_catalog.pg_stat_database WHERE datname = current_database())",
        &[slow_ms.into()],
    )
    .expect("monitoring sample");
    (row.0.unwrap_or(0), row.1.unwrap_or(0), row.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_parsing() {
        let a = parse_proc_stat("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n").unwrap();
        assert_eq!(a, (150, 1000));
        let b = parse_proc_stat("cpu  200 0 100 850 50 0 0 0 0 0\n").unwrap();
        assert_eq!(cpu_busy_pct(a, b), Some(75.0));
        assert_eq!(parse_meminfo("MemTotal:  1000 kB\nMemFree: 10 kB\nMemAvailable:  250 kB\n"), Some(75.0));
        assert!(parse_proc_stat("nonsense").is_none());
    }
}
