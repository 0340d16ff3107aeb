//! What the plan's "Monitoring During Tests" and "During Test Checklist" watch, sampled
//! while a load test runs: long-running active queries, lock waits, the database's cache
//! hit ratio and block reads, client connections against max_connections (the "connection
//! pool exhaustion" risk), and the machine's CPU, memory and disk I/O from /proc where
//! it is readable.

use crate::errors::OrInternal;
pub use crate::store::load::Snapshot;
use pgrx::prelude::*;
use std::time::Instant;

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

/// CPU is measured over at least this many clock ticks (all CPUs together; 100 per
/// second per CPU): over a shorter interval the figure is a tick or two, so 0 or 100 %.
const MIN_CPU_TICKS: u64 = 100;

/// CPU busy % between two /proc/stat readings; None over too short an interval.
pub fn cpu_busy_pct(before: (u64, u64), after: (u64, u64)) -> Option<f64> {
    let (busy, total) = (after.0.checked_sub(before.0)?, after.1.checked_sub(before.1)?);
    (total >= MIN_CPU_TICKS).then(|| busy as f64 / total as f64 * 100.0)
}

/// The machine's and this database's cumulative counters at one moment: two readings
/// make a monitoring sample of the interval between them.
pub struct Counters {
    at: Instant,
    cpu: Option<(u64, u64)>,
    disk: Option<(u64, u64)>,
    blocks: Option<u64>,
}

impl Counters {
    /// Read now; `db` is a database sample taken now (it carries the block reads).
    pub fn read(db: &DbSample) -> Counters {
        Counters { at: Instant::now(), cpu: read_cpu(), disk: read_disk_kb(), blocks: db.blocks_read }
    }

    /// The sample of the interval from `self` to `now` (`db` read with `now`): CPU and
    /// disk as rates over it, the rest as `db` and /proc/meminfo say at its end.
    pub fn sample_until(&self, now: &Counters, db: &DbSample, offset_ms: f64) -> Snapshot {
        let secs = now.at.duration_since(self.at).as_secs_f64();
        Snapshot {
            offset_ms,
            slow_queries: db.slow_queries,
            lock_waits: db.lock_waits,
            cache_hit_ratio: db.cache_hit_ratio,
            cpu_busy_pct: self.cpu.zip(now.cpu).and_then(|(a, b)| cpu_busy_pct(a, b)),
            mem_used_pct: read_mem_used_pct(),
            connections: db.connections,
            blocks_read_per_s: per_second(self.blocks, db.blocks_read, secs),
            disk_read_kbs: per_second(self.disk.map(|d| d.0), now.disk.map(|d| d.0), secs),
            disk_write_kbs: per_second(self.disk.map(|d| d.1), now.disk.map(|d| d.1), secs),
        }
    }
}

pub fn read_cpu() -> Option<(u64, u64)> {
    parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// kB read from and written to disk since boot (pgpgin, pgpgout of /proc/vmstat, which
/// the kernel counts in kB), machine-wide.
pub fn parse_vmstat(text: &str) -> Option<(u64, u64)> {
    let field = |name: &str| -> Option<u64> {
        text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    };
    Some((field("pgpgin")?, field("pgpgout")?))
}

pub fn read_disk_kb() -> Option<(u64, u64)> {
    parse_vmstat(&std::fs::read_to_string("/proc/vmstat").ok()?)
}

/// Rate per second of a cumulative counter between two readings.
pub fn per_second(before: Option<u64>, after: Option<u64>, secs: f64) -> Option<f64> {
    let delta = after?.checked_sub(before?)?;
    (secs > 0.0).then(|| delta as f64 / secs)
}

pub fn read_mem_used_pct() -> Option<f64> {
    parse_meminfo(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

/// Database-side figures at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct DbSample {
    pub slow_queries: i64,
    pub lock_waits: i64,
    pub cache_hit_ratio: Option<f64>,
    pub connections: i64,
    /// Cumulative blks_read of this database.
    pub blocks_read: Option<u64>,
}

/// Database-side figures now (pg_stat_activity is re-read, not the transaction's snapshot).
pub fn sample_database(slow_ms: f64) -> DbSample {
    Spi::run("SELECT pg_catalog.pg_stat_clear_snapshot()").or_internal("pg_stat_clear_snapshot");
    Spi::connect(|c| {
        let row = c
            .select(
                "SELECT (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity \
                          WHERE state <> 'idle' AND pid <> pg_catalog.pg_backend_pid() \
                            AND pg_catalog.clock_timestamp() - query_start > $1 * interval '1 millisecond'), \
                        (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity \
                          WHERE pg_catalog.cardinality(pg_catalog.pg_blocking_pids(pid)) > 0), \
                        (SELECT blks_hit::float8 / nullif(blks_hit + blks_read, 0) \
                           FROM pg_catalog.pg_stat_database WHERE datname = pg_catalog.current_database()), \
                        (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend'), \
                        (SELECT blks_read FROM pg_catalog.pg_stat_database WHERE datname = pg_catalog.current_database())",
                None,
                &[slow_ms.into()],
            )?
            .first();
        Ok::<_, pgrx::spi::Error>(DbSample {
            slow_queries: row.get::<i64>(1)?.unwrap_or(0),
            lock_waits: row.get::<i64>(2)?.unwrap_or(0),
            cache_hit_ratio: row.get::<f64>(3)?,
            connections: row.get::<i64>(4)?.unwrap_or(0),
            blocks_read: row.get::<i64>(5)?.map(|b| b.max(0) as u64),
        })
    })
    .or_internal("monitoring sample")
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
        let blink = parse_proc_stat("cpu  101 0 50 800 50 0 0 0 0 0\n").unwrap();
        assert_eq!(cpu_busy_pct(a, blink), None, "one tick is not a measurement");
        assert_eq!(parse_meminfo("MemTotal:  1000 kB\nMemFree: 10 kB\nMemAvailable:  250 kB\n"), Some(75.0));
        assert!(parse_proc_stat("nonsense").is_none());
        let v = parse_vmstat("nr_free_pages 10\npgpgin 1000\npgpgout 5000\npgpgin_extra 7\n").unwrap();
        assert_eq!(v, (1000, 5000));
        assert_eq!(per_second(Some(1000), Some(3000), 2.0), Some(1000.0));
        assert_eq!(per_second(Some(3000), Some(1000), 2.0), None, "a counter that went back (reset) gives nothing");
        assert_eq!(per_second(None, Some(1), 1.0), None);
    }
}
