//! Figures every format shows: the Reporting Template's success-criteria rows, the
//! comparison with the previous run and with the plan's baseline, verdict counts.

use serde::Serialize;

use super::model::{Finding, MonitorPoint, ReportData, Resources, ResultRow, Verdict, WaitProfile};
use crate::suite::noise::{self, Movement};

/// A change beyond this share of the previous figure counts as a regression or improvement.
pub const CHANGE_THRESHOLD: f64 = 0.10;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Criterion {
    pub scenario: String,
    pub test_id: String,
    pub target: String,
    pub actual: String,
    pub status: Verdict,
}

/// The Reporting Template's "Detailed Results" rows: the results whose test the
/// registry gives a row of the template (perf_tests.report_row), in run order.
pub fn criteria(data: &ReportData) -> Vec<Criterion> {
    data.results
        .iter()
        .filter_map(|r| {
            let scenario = r.report_row.clone()?;
            let (target, actual) = if r.kind.as_deref() == Some("isolation_sweep") {
                ("0 leaks".to_string(), format!("{} leaks", fmt_num(r.actual_value.unwrap_or(0.0))))
            } else {
                let unit = if r.records.is_some() { " per record" } else { "" };
                (
                    r.target_ms.map(|t| format!("<{} ms{unit}", fmt_num(t))).unwrap_or_else(|| "-".into()),
                    r.measured_ms.map(|m| format!("{} ms{unit}", fmt_ms(m))).unwrap_or_else(|| "-".into()),
                )
            };
            Some(Criterion { scenario, test_id: r.test_id.clone(), target, actual, status: r.status })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub test_id: String,
    pub before_ms: f64,
    pub after_ms: f64,
    /// Negative is faster.
    pub change_pct: f64,
    pub regression: bool,
    pub line: String,
    /// Judged over the samples of both runs (vs the previous run only).
    pub movement: Option<Movement>,
    /// The evidence: median ratio, its interval, the p-value.
    pub detail: Option<String>,
    /// The test's plan is not the one it had in its last earlier run (a finding of the
    /// result): what it reads now and no longer, next to the figure it may explain.
    pub plan_change: Option<String>,
}

/// `after` against `before`: "40.0 % faster", "12.5 % slower", "unchanged"; at twice
/// as fast or more, "20.0x faster" (a percentage near 100 says little).
pub fn change(test_id: &str, before: f64, after: f64) -> Change {
    let pct = if before > 0.0 { (after - before) / before * 100.0 } else { 0.0 };
    let line = if pct.abs() < CHANGE_THRESHOLD * 100.0 {
        format!("unchanged ({pct:+.1} %)")
    } else if after > 0.0 && after * 2.0 <= before {
        format!("{:.1}x faster", before / after)
    } else if pct < 0.0 {
        format!("{:.1} % faster", -pct)
    } else {
        format!("{pct:.1} % slower")
    };
    Change {
        test_id: test_id.to_string(),
        before_ms: before,
        after_ms: after,
        change_pct: pct,
        regression: pct >= CHANGE_THRESHOLD * 100.0,
        line,
        movement: None,
        detail: None,
        plan_change: None,
    }
}

/// Per timed test, this run against the previous (or pinned) run, judged over both
/// runs' samples (suite::noise): the line reads "+25.0 %, regressed". `interrupts` is
/// called through every judgement, so that the server can cancel a report over large
/// stored samples.
pub fn vs_previous(data: &ReportData, interrupts: &dyn Fn()) -> Vec<Change> {
    let Some(prev) = &data.previous else { return vec![] };
    data.results
        .iter()
        .filter(|r| r.target_ms.is_some())
        .filter_map(|r| {
            let (before, after) = (*prev.measured.get(&r.test_id)?, r.measured_ms?);
            let mut c = change(&r.test_id, before, after);
            let empty = Vec::new();
            let before_samples = prev.samples.get(&r.test_id).unwrap_or(&empty);
            let history = prev.noise_history.get(&r.test_id).unwrap_or(&empty);
            let j = noise::judge_interruptible(
                before_samples,
                &r.samples_ms,
                (before, after),
                history,
                noise::Bar::default(),
                interrupts,
            );
            c.plan_change = r.findings.iter().find_map(|f| match f {
                Finding::PlanChanged { .. } => Some(f.to_string()),
                _ => None,
            });
            // Another plan for the same state is the planner's instability, not the build's.
            let unstable = r.findings.iter().any(|f| matches!(f, Finding::PlanChanged { same_state: true, .. }));
            c.regression = !unstable && j.movement == Movement::Regressed;
            let plan = c.plan_change.as_ref().map(|p| format!("; {p}")).unwrap_or_default();
            let verdict = if unstable { "unstable plan" } else { j.movement.as_str() };
            c.line = format!("{:+.1} %, {verdict}{plan}", c.change_pct);
            c.movement = Some(j.movement);
            c.detail = Some(j.describe());
            Some(c)
        })
        .collect()
}

/// The plan's "Baseline Performance (Current State)" figures against this run: the
/// results whose test the registry gives one (perf_tests.plan_baseline_ms).
pub fn vs_plan_baseline(data: &ReportData) -> Vec<(String, Change)> {
    data.results
        .iter()
        .filter_map(|r| {
            let base = r.plan_baseline_ms?;
            let what = r.report_row.clone().unwrap_or_else(|| r.name.clone());
            Some((what, change(&r.test_id, base, r.measured_ms?)))
        })
        .collect()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub error: usize,
    pub skip: usize,
}

pub fn counts(results: &[ResultRow]) -> Counts {
    let n = |v: Verdict| results.iter().filter(|r| r.status == v).count();
    Counts {
        pass: n(Verdict::Pass),
        warn: n(Verdict::Warn),
        fail: n(Verdict::Fail),
        error: n(Verdict::Error),
        skip: n(Verdict::Skip),
    }
}

/// The tests that block a release: failed or errored.
pub fn critical(results: &[ResultRow]) -> Vec<&ResultRow> {
    results.iter().filter(|r| r.status.failed()).collect()
}

/// The test's top `n` waits with their shares, "CPU 85 %, IO:DataFileRead 12 % (40
/// samples)", or why there is none.
pub fn top_waits(w: &WaitProfile, n: usize) -> String {
    if w.samples == 0 {
        return format!("too short for a {} ms sample", w.interval_ms);
    }
    let top: Vec<String> = w.events.iter().take(n).map(|e| format!("{} {:.0} %", e.event, e.share * 100.0)).collect();
    format!("{} ({} samples)", top.join(", "), w.samples)
}

/// What a test cost, in one line: CPU, buffers, WAL, storage I/O, other backends.
pub fn resources_line(r: &Resources) -> String {
    let io = match (r.read_bytes, r.write_bytes) {
        (Some(rd), Some(wr)) => format!("; storage {} read, {} written", bytes(rd), bytes(wr)),
        _ => String::new(),
    };
    let others = if r.other_backends > 0 {
        format!("; {} other backends {} ms CPU", r.other_backends, fmt_ms(r.other_cpu_ms))
    } else {
        String::new()
    };
    format!(
        "CPU {} ms ({} user, {} system); buffers {} hit, {} read, {} dirtied, {} written; temp {} blocks; \
         WAL {} records, {} ({} full-page images){io}{others}",
        fmt_ms(r.cpu_ms),
        fmt_ms(r.cpu_user_ms),
        fmt_ms(r.cpu_system_ms),
        r.shared_hit,
        r.shared_read,
        r.shared_dirtied,
        r.shared_written,
        r.temp_read + r.temp_written,
        r.wal_records,
        bytes(r.wal_bytes),
        r.wal_fpi
    )
}

/// Bytes in B, kB, MB or GB (powers of 1024), one decimal above bytes.
pub fn bytes(n: i64) -> String {
    let units = ["kB", "MB", "GB", "TB", "PB", "EB"];
    if n.unsigned_abs() < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = "B";
    for u in units {
        if v.abs() < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// Per scenario (in the order first met), the waits of its tests summed.
pub fn scenario_waits(results: &[ResultRow]) -> Vec<(Option<i32>, WaitProfile)> {
    // (scenario, (event, samples) of its tests, most backends one test watched)
    type Scenario = (Option<i32>, Vec<(String, u64)>, u64);
    let mut per: Vec<Scenario> = Vec::new();
    for r in results {
        let Some(w) = r.waits.as_ref().filter(|w| w.samples > 0) else { continue };
        let i = match per.iter().position(|p| p.0 == r.scenario) {
            Some(i) => i,
            None => {
                per.push((r.scenario, Vec::new(), 0));
                per.len() - 1
            }
        };
        per[i].1.extend(w.events.iter().map(|e| (e.event.clone(), e.samples)));
        per[i].2 = per[i].2.max(w.backends);
    }
    per.into_iter().map(|(s, named, backends)| (s, crate::pg::waits::profile(named, backends))).collect()
}

/// A rate or a throughput as the tables show it: one decimal, or in exponent form when
/// no one would read the digits (a stored figure may be anything).
pub fn fmt_rate(v: f64) -> String {
    if v.abs() < 1e9 {
        format!("{v:.1}")
    } else {
        format!("{v:.3e}")
    }
}

/// The load tests' table (markdown and HTML): headers, then a row per load test.
pub const LOAD_HEADERS: [&str; 9] = [
    "Load test",
    "Script",
    "Clients",
    "Offered /s",
    "Achieved /s",
    "Response p50 / p95 / p99 ms",
    "Service p95 / p99 ms",
    "Lag p95 ms",
    "Failed / skipped / behind",
];

pub fn load_rows(data: &ReportData) -> Vec<Vec<String>> {
    let ms = |v: Option<f64>| v.map(fmt_ms).unwrap_or_else(|| "-".into());
    let n = |v: Option<i64>| v.unwrap_or(0).to_string();
    data.load_tests
        .iter()
        .map(|l| {
            vec![
                l.load_id.to_string(),
                l.script.clone(),
                l.clients.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
                match l.rate {
                    Some(r) => format!("{} ({})", fmt_rate(r), l.arrivals.as_deref().unwrap_or("poisson")),
                    None => "back to back".into(),
                },
                l.tps.map(fmt_rate).unwrap_or_else(|| "-".into()),
                format!("{} / {} / {}", ms(l.p50_ms), ms(l.p95_ms), ms(l.p99_ms)),
                format!("{} / {}", ms(l.service_p95_ms), ms(l.service_p99_ms)),
                ms(l.lag_p95_ms),
                format!("{} / {} / {}", n(l.failed), n(l.skipped), n(l.behind)),
            ]
        })
        .collect()
}

/// The capacity steps' table: headers, then a row per step.
pub const CAPACITY_HEADERS: [&str; 6] = ["Step", "Offered /s", "Achieved /s", "p95 ms", "Service p95 ms", "Target met"];

pub fn capacity_rows(data: &ReportData) -> Vec<Vec<String>> {
    let ms = |v: Option<f64>| v.map(fmt_ms).unwrap_or_else(|| "-".into());
    data.capacity
        .iter()
        .map(|s| {
            let mark = match (s.capacity, s.knee) {
                (true, true) => " (capacity, knee)",
                (true, false) => " (capacity)",
                (false, true) => " (knee)",
                _ => "",
            };
            vec![
                format!("{}{mark}", s.step),
                fmt_rate(s.offered_rate),
                s.achieved_tps.map(fmt_rate).unwrap_or_else(|| "-".into()),
                ms(s.p95_ms),
                ms(s.service_p95_ms),
                if s.met { "yes".into() } else { "no".into() },
            ]
        })
        .collect()
}

/// One sentence per capacity search of the run: its answer.
pub fn capacity_answers(data: &ReportData) -> Vec<String> {
    let mut ids: Vec<i64> = data.capacity.iter().map(|s| s.capacity_id).collect();
    ids.dedup();
    ids.into_iter()
        .map(|id| {
            let steps: Vec<_> = data.capacity.iter().filter(|s| s.capacity_id == id).collect();
            let first = steps[0];
            let target = first.target_p95_ms.map(fmt_num).unwrap_or_else(|| "-".into());
            let clients = first.clients.unwrap_or(0);
            let knee = steps.iter().find(|s| s.knee).and_then(|s| s.achieved_tps);
            let knee = knee.map(|k| format!("; latency turns upward at about {}/s", fmt_rate(k))).unwrap_or_default();
            match steps.iter().find(|s| s.capacity) {
                Some(c) => format!(
                    "Capacity (search {id}, script {}, {clients} clients): {} transactions/s within p95 {target} ms{knee}.",
                    first.script,
                    fmt_rate(c.offered_rate)
                ),
                None => format!(
                    "Capacity (search {id}, script {}, {clients} clients): no offered rate met p95 {target} ms{knee}.",
                    first.script
                ),
            }
        })
        .collect()
}

/// Milliseconds with precision that suits their size.
pub fn fmt_ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A number without a needless ".0".
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::*;

    #[test]
    fn changes_read_the_right_way_round() {
        assert_eq!(change("x", 500.0, 25.0).line, "20.0x faster");
        assert_eq!(change("x", 10.0, 6.0).line, "40.0 % faster");
        let slower = change("x", 10.0, 12.5);
        assert_eq!(slower.line, "25.0 % slower");
        assert!(slower.regression);
        let same = change("x", 10.0, 10.5);
        assert_eq!(same.line, "unchanged (+5.0 %)");
        assert!(!same.regression);
    }

    #[test]
    fn criteria_rows_come_from_results() {
        let data = ReportData {
            results: vec![
                ResultRow {
                    test_id: "1.1".into(),
                    report_row: Some("Customer List".into()),
                    status: Verdict::Pass,
                    target_ms: Some(50.0),
                    measured_ms: Some(3.456),
                    ..Default::default()
                },
                ResultRow {
                    test_id: "1.2".into(),
                    status: Verdict::Fail,
                    measured_ms: Some(9.0),
                    ..Default::default()
                },
                ResultRow {
                    test_id: "3.1".into(),
                    report_row: Some("Trigger Performance".into()),
                    status: Verdict::Warn,
                    target_ms: Some(10.0),
                    records: Some(100),
                    measured_ms: Some(12.26),
                    ..Default::default()
                },
                ResultRow {
                    test_id: "5.3-all-tables".into(),
                    report_row: Some("Multi-tenant Isolation".into()),
                    kind: Some("isolation_sweep".into()),
                    status: Verdict::Fail,
                    actual_value: Some(3.0),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let c = criteria(&data);
        assert_eq!(
            c.iter().map(|c| c.scenario.as_str()).collect::<Vec<_>>(),
            ["Customer List", "Trigger Performance", "Multi-tenant Isolation"]
        );
        assert_eq!((c[0].target.as_str(), c[0].actual.as_str(), c[0].status), ("<50 ms", "3.46 ms", Verdict::Pass));
        assert_eq!((c[1].target.as_str(), c[1].actual.as_str()), ("<10 ms per record", "12.3 ms per record"));
        assert_eq!((c[2].actual.as_str(), c[2].status), ("3 leaks", Verdict::Fail));
    }
}

/// The peaks of one scenario's monitoring samples.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScenarioPeak {
    /// None: samples of tests not in the registry.
    pub scenario: Option<i32>,
    pub samples: usize,
    pub cpu_pct: Option<f64>,
    pub mem_pct: Option<f64>,
    pub lock_waits: Option<i64>,
    pub slow_queries: Option<i64>,
    pub connections: Option<i64>,
    pub disk_read_kbs: Option<f64>,
    pub disk_write_kbs: Option<f64>,
}

/// Per scenario (in the order first met), the highest value of each monitored figure.
pub fn scenario_peaks(points: &[MonitorPoint]) -> Vec<ScenarioPeak> {
    fn max_f(a: Option<f64>, b: Option<f64>) -> Option<f64> {
        match (a, b) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        }
    }
    let mut out: Vec<ScenarioPeak> = Vec::new();
    for p in points {
        let i = match out.iter().position(|s| s.scenario == p.scenario) {
            Some(i) => i,
            None => {
                out.push(ScenarioPeak { scenario: p.scenario, ..ScenarioPeak::default() });
                out.len() - 1
            }
        };
        let s = &mut out[i];
        s.samples += 1;
        s.cpu_pct = max_f(s.cpu_pct, p.cpu_pct);
        s.mem_pct = max_f(s.mem_pct, p.mem_pct);
        s.lock_waits = s.lock_waits.max(p.lock_waits);
        s.slow_queries = s.slow_queries.max(p.slow_queries);
        s.connections = s.connections.max(p.connections);
        s.disk_read_kbs = max_f(s.disk_read_kbs, p.disk_read_kbs);
        s.disk_write_kbs = max_f(s.disk_write_kbs, p.disk_write_kbs);
    }
    out
}

#[cfg(test)]
mod peak_tests {
    use super::*;
    use crate::pg::waits::WaitShare;

    #[test]
    fn waits_and_resources_read_as_a_dba_reads_them() {
        let w = |events: &[(&str, u64)]| {
            crate::pg::waits::profile(events.iter().map(|(e, n)| (e.to_string(), *n)).collect(), 1)
        };
        assert_eq!(top_waits(&w(&[]), 3), "too short for a 10 ms sample");
        assert_eq!(
            top_waits(&w(&[("CPU", 3), ("Lock:transactionid", 1)]), 3),
            "CPU 75 %, Lock:transactionid 25 % (4 samples)"
        );
        assert_eq!(
            (bytes(512), bytes(2048), bytes(3 * 1024 * 1024)),
            ("512 B".into(), "2.0 kB".into(), "3.0 MB".into())
        );
        assert_eq!(bytes(i64::MIN), "-8.0 EB");
        let r = Resources {
            cpu_ms: 2.5,
            cpu_user_ms: 2.0,
            cpu_system_ms: 0.5,
            wal_records: 4,
            wal_bytes: 4096,
            ..Resources::default()
        };
        assert_eq!(
            resources_line(&r),
            "CPU 2.50 ms (2.00 user, 0.50 system); buffers 0 hit, 0 read, 0 dirtied, 0 written; temp 0 blocks; WAL 4 records, 4.0 kB (0 full-page images)"
        );
        let row = |scenario, events: &[(&str, u64)]| ResultRow {
            scenario: Some(scenario),
            waits: Some(w(events)),
            ..ResultRow::default()
        };
        let per = scenario_waits(&[
            row(1, &[("CPU", 2)]),
            row(5, &[("Lock:tuple", 1)]),
            row(1, &[("CPU", 1), ("IO:DataFileRead", 1)]),
        ]);
        assert_eq!(per.len(), 2);
        assert_eq!(per[0].1.events[0], WaitShare { event: "CPU".into(), samples: 3, share: 0.75 });
    }

    #[test]
    fn peaks_are_per_scenario() {
        let p = |scenario, cpu, waits| MonitorPoint {
            scenario: Some(scenario),
            cpu_pct: cpu,
            lock_waits: Some(waits),
            ..MonitorPoint::default()
        };
        let peaks = scenario_peaks(&[p(1, Some(10.0), 0), p(1, Some(40.0), 2), p(5, None, 1), p(5, Some(95.0), 0)]);
        assert_eq!(peaks.len(), 2);
        assert_eq!(
            (peaks[0].scenario, peaks[0].samples, peaks[0].cpu_pct, peaks[0].lock_waits),
            (Some(1), 2, Some(40.0), Some(2))
        );
        assert_eq!((peaks[1].cpu_pct, peaks[1].lock_waits), (Some(95.0), Some(1)));
    }
}
