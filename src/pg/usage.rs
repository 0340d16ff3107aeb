//! What this backend spends: its CPU time (getrusage of the backend's own thread, so a
//! helper thread's is not counted), the buffers and WAL PostgreSQL counts for it
//! (pgBufferUsage and pgWalUsage, the counters behind EXPLAIN (BUFFERS, WAL) and
//! pg_stat_statements; a parallel query's workers add theirs when they finish), and the
//! bytes it made the kernel read from and write to storage (/proc/self/io's read_bytes
//! and write_bytes: real I/O, not page-cache hits).

use pgrx::pg_sys;
use serde::{Deserialize, Serialize};

/// Counters at one moment, or the difference between two moments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    pub cpu_ms: f64,
    pub cpu_user_ms: f64,
    pub cpu_system_ms: f64,
    pub shared_hit: i64,
    pub shared_read: i64,
    pub shared_dirtied: i64,
    pub shared_written: i64,
    pub temp_read: i64,
    pub temp_written: i64,
    pub wal_records: i64,
    pub wal_fpi: i64,
    pub wal_bytes: i64,
    /// None where /proc/self/io cannot be read.
    pub read_bytes: Option<i64>,
    pub write_bytes: Option<i64>,
    /// The other backends the test started (5.4's second session, load clients) and
    /// the CPU they spent, read from /proc while they ran (`waits`).
    pub other_backends: u64,
    pub other_cpu_ms: f64,
}

/// This backend's counters now.
pub fn now() -> Resources {
    // SAFETY: both are plain structs of this backend, updated only by its own thread
    // (this one); copying them is a read.
    let (b, w) = unsafe { (pg_sys::pgBufferUsage, pg_sys::pgWalUsage) };
    let (user, system) = thread_cpu_ms();
    let io = std::fs::read_to_string("/proc/self/io").ok();
    let io_field = |name: &str| io.as_deref().and_then(|t| parse_io(t, name));
    Resources {
        cpu_ms: user + system,
        cpu_user_ms: user,
        cpu_system_ms: system,
        shared_hit: b.shared_blks_hit,
        shared_read: b.shared_blks_read,
        shared_dirtied: b.shared_blks_dirtied,
        shared_written: b.shared_blks_written,
        temp_read: b.temp_blks_read,
        temp_written: b.temp_blks_written,
        wal_records: w.wal_records,
        wal_fpi: w.wal_fpi,
        wal_bytes: w.wal_bytes as i64,
        read_bytes: io_field("read_bytes"),
        write_bytes: io_field("write_bytes"),
        other_backends: 0,
        other_cpu_ms: 0.0,
    }
}

impl Resources {
    /// What was spent from `before` to `self`.
    pub fn since(&self, before: &Resources) -> Resources {
        let ms = |a: f64, b: f64| ((a - b).max(0.0) * 1000.0).round() / 1000.0;
        let opt = |a: Option<i64>, b: Option<i64>| Some((a? - b?).max(0));
        Resources {
            cpu_ms: ms(self.cpu_ms, before.cpu_ms),
            cpu_user_ms: ms(self.cpu_user_ms, before.cpu_user_ms),
            cpu_system_ms: ms(self.cpu_system_ms, before.cpu_system_ms),
            shared_hit: self.shared_hit - before.shared_hit,
            shared_read: self.shared_read - before.shared_read,
            shared_dirtied: self.shared_dirtied - before.shared_dirtied,
            shared_written: self.shared_written - before.shared_written,
            temp_read: self.temp_read - before.temp_read,
            temp_written: self.temp_written - before.temp_written,
            wal_records: self.wal_records - before.wal_records,
            wal_fpi: self.wal_fpi - before.wal_fpi,
            wal_bytes: self.wal_bytes - before.wal_bytes,
            read_bytes: opt(self.read_bytes, before.read_bytes),
            write_bytes: opt(self.write_bytes, before.write_bytes),
            other_backends: self.other_backends,
            other_cpu_ms: self.other_cpu_ms,
        }
    }
}

/// User and system CPU of the calling thread, ms.
fn thread_cpu_ms() -> (f64, f64) {
    // SAFETY: rusage is plain data (zeroes are a valid value) and getrusage fills the
    // struct it is given; RUSAGE_THREAD is Linux's, the only platform this supports.
    let (rc, u) = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        (libc::getrusage(libc::RUSAGE_THREAD, &mut u), u)
    };
    if rc != 0 {
        return (0.0, 0.0);
    }
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    (ms(u.ru_utime), ms(u.ru_stime))
}

/// One "name: value" line of /proc/<pid>/io.
pub fn parse_io(text: &str, name: &str) -> Option<i64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':')?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_lines_and_differences() {
        let io = "rchar: 10\nwchar: 20\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n";
        assert_eq!(parse_io(io, "read_bytes"), Some(4096));
        assert_eq!(parse_io(io, "write_bytes"), Some(8192));
        assert_eq!(parse_io(io, "bytes"), None);
        let before = Resources { cpu_ms: 1.0, wal_bytes: 100, read_bytes: Some(10), ..Resources::default() };
        let after = Resources {
            cpu_ms: 3.5,
            wal_bytes: 350,
            read_bytes: Some(30),
            write_bytes: Some(5),
            ..Resources::default()
        };
        let d = after.since(&before);
        assert_eq!((d.cpu_ms, d.wal_bytes, d.read_bytes, d.write_bytes), (2.5, 250, Some(20), None));
    }
}
