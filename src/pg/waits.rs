//! Wait events of the backends that run a test, sampled without shared_preload_libraries.
//!
//! PostgreSQL keeps each backend's current wait event in one 32-bit word of its PGPROC
//! in shared memory; the backend writes it without a lock and pg_stat_activity reads it
//! the same way. A helper thread of this backend reads that word every
//! [`INTERVAL`] for this backend and for every backend started while it samples
//! (`bgworker::start` calls [`watch`]: 5.4's second session, load clients). The thread
//! only reads memory and /proc: it calls nothing of PostgreSQL's and never takes a
//! signal (`threads`). The words are named afterwards, in the backend's own thread. A
//! zero word is "CPU": the backend is running, not waiting (pg_wait_sampling counts it
//! the same way).
//!
//! The other backends' CPU time is read from /proc/<pid>/stat by the same thread every
//! [`CPU_EVERY`] ticks, counted from 0 (the test started them): a backend that ends
//! between two reads loses what it spent since the last one.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use pgrx::pg_sys;
use serde::{Deserialize, Serialize};

/// How often the wait events are read: pg_wait_sampling's default period.
pub const INTERVAL: Duration = Duration::from_millis(10);
/// Other backends' CPU is read every this many ticks (100 ms).
const CPU_EVERY: u64 = 10;

/// What the watched backends were doing, sample by sample.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WaitProfile {
    pub interval_ms: u64,
    /// One per watched backend per tick; 0 when the test ended before the first tick.
    pub samples: u64,
    /// Backends watched: this one and those the test started.
    pub backends: u64,
    /// Per event ("CPU", "Lock:transactionid", "IO:DataFileRead"), most sampled first.
    pub events: Vec<WaitShare>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WaitShare {
    pub event: String,
    pub samples: u64,
    /// Of all samples, 0..1.
    pub share: f64,
}

/// CPU the other watched backends spent while they were watched.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OtherCpu {
    pub backends: u64,
    pub cpu_ms: f64,
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    ticks: AtomicU64,
    pids: Mutex<Vec<i32>>,
    /// wait_event_info → samples.
    counts: Mutex<BTreeMap<u32, u64>>,
    /// Other backends: pid → (clock ticks of CPU when first read, when last read).
    cpu: Mutex<BTreeMap<i32, (u64, u64)>>,
}

/// A poisoned lock here only means the sampler thread panicked mid-update: the counts
/// are still counts.
fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The sampler of the test now running in this backend, for `watch`.
static CURRENT: Mutex<Option<Arc<Shared>>> = Mutex::new(None);

/// Sampling from `start` until `finish` (or until dropped, when an error unwinds).
pub struct Sampler {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Watch `pid` too, when a sampler is running in this backend.
pub fn watch(pid: i32) {
    if let Some(s) = locked(&CURRENT).as_ref() {
        locked(&s.pids).push(pid);
    }
}

impl Sampler {
    pub fn start() -> Sampler {
        // SAFETY: MyProcPid is set at backend start and never changes.
        let own = unsafe { pg_sys::MyProcPid };
        let shared = Arc::new(Shared { pids: Mutex::new(vec![own]), ..Shared::default() });
        // SAFETY: ProcGlobal is set up by the postmaster before any backend starts and
        // lives in shared memory for the life of the server; allProcs is an array of
        // allProcCount PGPROCs there.
        let (base, count) =
            unsafe { ((*pg_sys::ProcGlobal).allProcs as usize, (*pg_sys::ProcGlobal).allProcCount as usize) };
        let procs = Procs { base, count };
        let for_thread = shared.clone();
        let thread = super::threads::spawn_quiet_owned(move || sample(&for_thread, procs, own));
        *locked(&CURRENT) = Some(shared.clone());
        Sampler { shared, thread: Some(thread) }
    }

    fn stop(&mut self) {
        *locked(&CURRENT) = None;
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }

    /// Stop, and name what was seen.
    pub fn finish(mut self) -> (WaitProfile, OtherCpu) {
        self.stop();
        let counts = locked(&self.shared.counts).clone();
        let named: Vec<(String, u64)> = counts.into_iter().map(|(info, n)| (event_name(info), n)).collect();
        let backends = locked(&self.shared.pids).len() as u64;
        let cpu = locked(&self.shared.cpu);
        let ticks: u64 = cpu.values().map(|(first, last)| last.saturating_sub(*first)).sum();
        let other = OtherCpu { backends: cpu.len() as u64, cpu_ms: ticks as f64 * 1000.0 / clock_ticks_per_second() };
        (profile(named, backends), other)
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Shares of each event, most sampled first (equal counts by name).
pub fn profile(named: Vec<(String, u64)>, backends: u64) -> WaitProfile {
    let mut merged: BTreeMap<String, u64> = BTreeMap::new();
    for (event, n) in named {
        *merged.entry(event).or_default() += n;
    }
    let samples: u64 = merged.values().sum();
    let mut events: Vec<WaitShare> = merged
        .into_iter()
        .map(|(event, n)| WaitShare { event, samples: n, share: n as f64 / samples.max(1) as f64 })
        .collect();
    events.sort_by(|a, b| b.samples.cmp(&a.samples).then_with(|| a.event.cmp(&b.event)));
    WaitProfile { interval_ms: INTERVAL.as_millis() as u64, samples, backends, events }
}

/// "CPU" for no wait; otherwise "Type:Event" as pg_stat_activity shows them.
fn event_name(info: u32) -> String {
    if info == 0 {
        return "CPU".into();
    }
    // SAFETY: both return a pointer to a static string (or NULL) for any word; called
    // in the backend's own thread.
    let (kind, event) = unsafe { (pg_sys::pgstat_get_wait_event_type(info), pg_sys::pgstat_get_wait_event(info)) };
    let text = |p: *const std::ffi::c_char| {
        // SAFETY: a non-NULL result is a NUL-terminated static string.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    };
    format!("{}:{}", text(kind).unwrap_or_else(|| "?".into()), text(event).unwrap_or_else(|| format!("{info:#x}")))
}

/// Where the PGPROC array is, as plain numbers the thread may hold.
#[derive(Clone, Copy)]
struct Procs {
    base: usize,
    count: usize,
}

impl Procs {
    /// (pid, wait_event_info) of slot `i`.
    fn read(&self, i: usize) -> (i32, u32) {
        debug_assert!(i < self.count);
        // SAFETY: i < count, so the slot is inside the PGPROC array in shared memory,
        // mapped for the life of the process. Both fields are single aligned words
        // their backend writes with plain stores; a volatile read sees some value it
        // wrote, which is all a sample needs.
        unsafe {
            let p = (self.base as *const pg_sys::PGPROC).add(i);
            (std::ptr::read_volatile(&(*p).pid), std::ptr::read_volatile(&(*p).wait_event_info))
        }
    }

    fn find(&self, pid: i32, hint: Option<usize>) -> Option<usize> {
        if let Some(i) = hint.filter(|i| self.read(*i).0 == pid) {
            return Some(i);
        }
        (0..self.count).find(|i| self.read(*i).0 == pid)
    }
}

/// The helper thread: one sample per watched backend per tick until told to stop.
fn sample(s: &Shared, procs: Procs, own: i32) {
    let mut slots: BTreeMap<i32, usize> = BTreeMap::new();
    loop {
        std::thread::park_timeout(INTERVAL);
        if s.stop.load(Ordering::Relaxed) {
            return;
        }
        let pids = locked(&s.pids).clone();
        let tick = s.ticks.fetch_add(1, Ordering::Relaxed);
        let mut seen = Vec::with_capacity(pids.len());
        for pid in &pids {
            let Some(i) = procs.find(*pid, slots.get(pid).copied()) else { continue };
            slots.insert(*pid, i);
            seen.push(procs.read(i).1);
        }
        {
            let mut counts = locked(&s.counts);
            for info in seen {
                *counts.entry(info).or_default() += 1;
            }
        }
        if tick.is_multiple_of(CPU_EVERY) {
            for pid in pids.iter().filter(|p| **p != own) {
                if let Some(t) = proc_cpu_ticks(*pid) {
                    // A backend the test started spent all its CPU for the test: from 0.
                    locked(&s.cpu).entry(*pid).and_modify(|e| e.1 = t).or_insert((0, t));
                }
            }
        }
    }
}

/// utime + stime of a process, in clock ticks, from /proc/<pid>/stat.
fn proc_cpu_ticks(pid: i32) -> Option<u64> {
    parse_pid_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Fields 14 and 15 of /proc/<pid>/stat (utime, stime). The command name (field 2) is
/// in parentheses and may hold spaces, so fields are counted after its last ')'.
pub fn parse_pid_stat(text: &str) -> Option<u64> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_sorted_and_merged() {
        let p = profile(
            vec![("CPU".into(), 6), ("Lock:transactionid".into(), 3), ("IO:DataFileRead".into(), 1), ("CPU".into(), 2)],
            2,
        );
        assert_eq!(p.samples, 12);
        assert_eq!(
            p.events.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(),
            ["CPU", "Lock:transactionid", "IO:DataFileRead"]
        );
        assert_eq!(p.events[0].samples, 8);
        assert!((p.events[1].share - 0.25).abs() < 1e-12);
        assert_eq!(profile(vec![], 1).events, vec![]);
    }

    #[test]
    fn pid_stat_fields_after_the_command() {
        let line = "4242 (postgres: bg (x) y) S 1 2 3 4 5 6 7 8 9 10 120 35 0 0 20 0 1 0";
        assert_eq!(parse_pid_stat(line), Some(155));
        assert_eq!(parse_pid_stat("garbage"), None);
    }
}
