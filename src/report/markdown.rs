//! The plan's "Reporting Template", filled in from a run.

use std::fmt::Write;

use super::advice::Recommendation;
use super::model::{Monitoring, ReportData, ReportRole, ResultRow, Verdict};
use super::summary::{self, fmt_ms, fmt_num};
use crate::suite::noise;

/// Markdown table cells must not contain pipes or newlines.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// One table row: every cell through `cell`, so no text, whoever wrote it, can add
/// or shift a column.
fn table_row(o: &mut String, cells: &[&str]) {
    let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
    let _ = writeln!(o, "| {} |", cells.join(" | "));
}

fn opt_ms(v: Option<f64>) -> String {
    v.map(fmt_ms).unwrap_or_else(|| "-".into())
}

pub fn render(data: &ReportData, recs: &[Recommendation], changes: &[summary::Change]) -> String {
    let mut o = String::new();
    header(&mut o, data);
    executive_summary(&mut o, data, changes);
    criteria(&mut o, data);
    detailed_results(&mut o, data, changes);
    where_the_time_went(&mut o, data);
    load_and_capacity(&mut o, data);
    cold_cache(&mut o, data);
    checks(&mut o, data);
    checklist(&mut o, data);
    findings(&mut o, data);
    recommendations(&mut o, recs);
    next_steps(&mut o, data, recs);
    no_raw_html(&o)
}

/// Markdown passes raw HTML through to whoever renders it, and test names, notes and
/// schema names are written by operators. This renderer writes no HTML and no links of
/// its own, so the finished document is made inert in one place: every `<` that could
/// open a tag, comment or processing instruction, and every `&` that could start an
/// entity, is written as an entity, and every `](` that would make a link or an image
/// (`[x](javascript:...)`, a tracking `![i](https://...)`) is escaped. GitHub's
/// markdown also turns bare `https://...`, `www.` and `name@host` into links: a
/// zero-width space after `:` of `://`, after `www` and after `@` keeps them text (they
/// read the same). A `<` before a space or a digit ("p < 0.001") stays as typed. (Line
/// breaks in operators' text are gone before rendering: store::report.)
fn no_raw_html(doc: &str) -> String {
    let mut out = String::with_capacity(doc.len());
    let mut chars = doc.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        match c {
            '<' if next.is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')) => {
                out.push_str("&lt;")
            }
            '&' if next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '#') => out.push_str("&amp;"),
            ']' if next == Some('(') => out.push_str("]\\"),
            _ => out.push(c),
        }
    }
    out.replace("://", ":\u{200B}//").replace("www.", "www\u{200B}.").replace('@', "@\u{200B}")
}

/// Test date, environment, settings, data volume, the run itself.
fn header(o: &mut String, data: &ReportData) {
    let run = &data.run;
    let vol = |t: &str| run.data_volume.get(t).copied().unwrap_or(0);
    let _ = writeln!(o, "# Performance Test Report\n");
    let _ = writeln!(o, "**Test Date**: {}  ", run.started_at.as_deref().unwrap_or("-"));
    let _ = writeln!(
        o,
        "**Environment**: {} — database `{}` ({}), schema `{}`  ",
        run.pg_version, run.database, run.database_size, run.target_schema
    );
    let _ = writeln!(
        o,
        "**Settings**: {}  ",
        run.settings.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
    );
    if let Some(why) = &data.health.target_not_read {
        let _ = writeln!(o, "**Schema under test**: {why}; the figures read from it are left out  ");
    }
    let _ = writeln!(
        o,
        "**Data Volume**: {} customers, {} conversations ({} companies, {} matching keys, {} events) at scale {} of the plan's volume (targets unchanged)  ",
        vol("customers"),
        vol("VC Usage"),
        vol("companies"),
        vol("customer_matching_keys"),
        vol("customer_events"),
        run.scale.unwrap_or(1.0)
    );
    let _ = writeln!(
        o,
        "**Run**: {} ({}), tests `{}`, by {}{}, {} → {}\n",
        run.run_id,
        run.status,
        run.pattern,
        run.run_by,
        run.origin.as_deref().filter(|s| !s.is_empty()).map(|s| format!(" via {s}")).unwrap_or_default(),
        run.started_at.as_deref().unwrap_or("-"),
        run.finished_at.as_deref().unwrap_or("not finished"),
    );
}

/// Overall verdict, critical issues, against the plan's baseline and the previous run.
fn executive_summary(o: &mut String, data: &ReportData, changes: &[summary::Change]) {
    let run = &data.run;
    let c = summary::counts(&data.results);
    let _ = writeln!(o, "## Executive Summary\n");
    let _ = writeln!(
        o,
        "- Overall Result: **{}** ({} passed, {} warned, {} failed, {} errors, {} skipped)",
        run.overall.as_deref().unwrap_or(&run.status),
        c.pass,
        c.warn,
        c.fail,
        c.error,
        c.skip
    );
    let critical = summary::critical(&data.results);
    if critical.is_empty() {
        let _ = writeln!(o, "- Critical Issues: none");
    } else {
        let _ = writeln!(
            o,
            "- Critical Issues: {}",
            critical.iter().map(|r| format!("{} {} ({})", r.test_id, r.name, r.status)).collect::<Vec<_>>().join("; ")
        );
    }
    let base = summary::vs_plan_baseline(data);
    if !base.is_empty() {
        let _ = writeln!(
            o,
            "- Performance Improvement (vs the plan's baseline): {}",
            base.iter()
                .map(|(what, ch)| format!(
                    "{what} {} ms vs {} ms, {}",
                    fmt_ms(ch.after_ms),
                    fmt_num(ch.before_ms),
                    ch.line
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    if let Some(prev) = &data.previous {
        let regressions: Vec<_> = changes.iter().filter(|c| c.regression).collect();
        let _ = writeln!(
            o,
            "- Against run {}{}: {} of {} timed tests regressed beyond noise (samples differ at p < {}; median slower by more than the test's noise band, at least {} %, and by {} ms or more){}",
            prev.run_id,
            if prev.pinned { " (pinned baseline)" } else { "" },
            regressions.len(),
            changes.len(),
            noise::ALPHA,
            (noise::DEFAULT_THRESHOLD * 100.0) as i64,
            noise::DEFAULT_MIN_CHANGE_MS,
            if regressions.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    regressions
                        .iter()
                        .map(|c| format!("{} {}", c.test_id, c.detail.as_deref().unwrap_or(&c.line)))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            }
        );
    }
    if run.status != "completed" {
        let _ = writeln!(o, "- The run did not complete: {} ({})", run.status, run.notes.as_deref().unwrap_or(""));
    }
}

/// The plan's Success Criteria table.
fn criteria(o: &mut String, data: &ReportData) {
    let _ = writeln!(o, "\n## Success Criteria Summary\n");
    let _ = writeln!(o, "| Test Scenario | Test | Target | Actual | Status |");
    let _ = writeln!(o, "|---|---|---|---|---|");
    for cr in summary::criteria(data) {
        table_row(o, &[&cr.scenario, &cr.test_id, &cr.target, &cr.actual, cr.status.as_str()]);
    }
}

/// Every timed test: target, acceptable, actual, percentiles, change since the previous run.
fn detailed_results(o: &mut String, data: &ReportData, changes: &[summary::Change]) {
    let _ = writeln!(o, "\n## Detailed Results\n");
    let _ = writeln!(
        o,
        "| Test | Name | Statistic | Target | Acceptable | Actual | p50 | p95 | p99 | Status | vs previous |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|---|---|");
    for r in data.results.iter().filter(|r| is_timed(r)) {
        // Percentiles are recorded per execution; a per-record test is judged per record.
        let per = r.records.map(f64::from).unwrap_or(1.0);
        let pct = |v: Option<f64>| opt_ms(v.map(|x| x / per));
        let prev =
            changes.iter().find(|c| c.test_id == r.test_id).map(|c| c.line.clone()).unwrap_or_else(|| "-".into());
        table_row(
            o,
            &[
                &r.test_id,
                &r.name,
                r.statistic.as_deref().unwrap_or("-"),
                &opt_ms(r.target_ms),
                &opt_ms(r.acceptable_ms),
                &opt_ms(r.measured_ms),
                &pct(r.p50_ms),
                &pct(r.p95_ms),
                &pct(r.p99_ms),
                r.status.as_str(),
                &prev,
            ],
        );
    }
}

/// The plan's "During Test Checklist" for every scenario: peaks of each test's sample
/// (CPU and disk as rates over the test, the rest when it ended).
fn monitoring_per_scenario(o: &mut String, data: &ReportData) {
    let peaks = summary::scenario_peaks(&data.monitor);
    if peaks.is_empty() {
        return;
    }
    let pct = |v: Option<f64>| v.map(|v| format!("{v:.0} %")).unwrap_or_else(|| "-".into());
    let num = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
    let kbs = |v: Option<f64>| v.map(|v| format!("{v:.0}")).unwrap_or_else(|| "-".into());
    let _ = writeln!(o, "- Monitoring per scenario (peaks; plan: CPU < 80 %, memory < 90 %):\n");
    let _ = writeln!(o, "  | Scenario | Samples | CPU | Memory | Lock waits | Slow queries | Connections | Disk read kB/s | Disk write kB/s |");
    let _ = writeln!(o, "  |---|---|---|---|---|---|---|---|---|");
    for p in peaks {
        let _ = writeln!(
            o,
            "  | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            p.scenario.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            p.samples,
            pct(p.cpu_pct),
            pct(p.mem_pct),
            num(p.lock_waits),
            num(p.slow_queries),
            num(p.connections),
            kbs(p.disk_read_kbs),
            kbs(p.disk_write_kbs)
        );
    }
    let _ = writeln!(o);
}

/// Per test, what its backends waited on (sampled every 10 ms) and what it cost.
fn where_the_time_went(o: &mut String, data: &ReportData) {
    let rows: Vec<&ResultRow> = data
        .results
        .iter()
        .filter(|r| r.status != Verdict::Skip && (r.waits.is_some() || r.resources.is_some()))
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n### Where the time went\n");
    let _ = writeln!(o, "| Test | Top waits | Cost |");
    let _ = writeln!(o, "|---|---|---|");
    for r in rows {
        let waits = r.waits.as_ref().map(|w| summary::top_waits(w, 3)).unwrap_or_else(|| "-".into());
        let cost = r.resources.as_ref().map(summary::resources_line).unwrap_or_else(|| "-".into());
        table_row(o, &[&r.test_id, &waits, &cost]);
    }
}

/// The run's load tests (response against service time) and its capacity searches.
fn load_and_capacity(o: &mut String, data: &ReportData) {
    if !data.load_tests.is_empty() {
        let _ = writeln!(o, "\n### Load tests\n");
        let _ = writeln!(
            o,
            "Response time counts from when each transaction was due (with a rate, on its schedule), service time from when it started; the difference is schedule lag.\n"
        );
        table_row(o, &summary::LOAD_HEADERS);
        let _ = writeln!(o, "|{}", "---|".repeat(summary::LOAD_HEADERS.len()));
        for row in summary::load_rows(data) {
            table_row(o, &row.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
    if !data.capacity.is_empty() {
        let _ = writeln!(o, "\n### Capacity\n");
        for answer in summary::capacity_answers(data) {
            let _ = writeln!(o, "{answer}\n");
        }
        table_row(o, &summary::CAPACITY_HEADERS);
        let _ = writeln!(o, "|{}", "---|".repeat(summary::CAPACITY_HEADERS.len()));
        for row in summary::capacity_rows(data) {
            table_row(o, &row.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
}

/// Warm and cold figures side by side, when the run made cold ones
/// (pg_perfsuite.cold_cache); the cache line of the environment says why not otherwise.
fn cold_cache(o: &mut String, data: &ReportData) {
    let cold: Vec<&ResultRow> = data.results.iter().filter(|r| r.cold_ms.is_some()).collect();
    if cold.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n### Cold cache\n");
    let _ = writeln!(o, "| Test | Statistic | Warm | Cold | Cold / warm | Evicted before each cold run |");
    let _ = writeln!(o, "|---|---|---|---|---|---|");
    for r in cold {
        let ratio = match (r.measured_ms, r.cold_ms) {
            (Some(w), Some(c)) if w > 0.0 => format!("{:.1}x", c / w),
            _ => "-".into(),
        };
        let evicted = r.evicted.as_ref().map(describe_eviction).unwrap_or_else(|| "-".into());
        table_row(
            o,
            &[
                &r.test_id,
                r.statistic.as_deref().unwrap_or("-"),
                &opt_ms(r.measured_ms),
                &opt_ms(r.cold_ms),
                &ratio,
                &evicted,
            ],
        );
    }
}

/// "customers, idx_a: 120 shared buffers (0 left), OS pages 300 -> 0 of 310".
fn describe_eviction(e: &serde_json::Value) -> String {
    let n = |k: &str| e.get(k).and_then(serde_json::Value::as_i64).unwrap_or(0);
    let os = |k: &str| e.get("os").and_then(|o| o.get(k)).and_then(serde_json::Value::as_i64).unwrap_or(0);
    let relations: Vec<&str> = e
        .get("relations")
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    format!(
        "{}: {} shared buffers ({} left), OS pages {} -> {} of {}",
        relations.join(", "),
        n("shared_buffers_evicted"),
        n("shared_buffers_left"),
        os("resident_before"),
        os("resident_after"),
        os("pages")
    )
}

/// Counts, leaks and other checks that compare a number.
fn checks(o: &mut String, data: &ReportData) {
    let _ = writeln!(o, "\n## Data Integrity and Multi-tenant Checks\n");
    let _ = writeln!(o, "| Test | Check | Expected | Actual | Status | Notes |");
    let _ = writeln!(o, "|---|---|---|---|---|---|");
    for r in data.results.iter().filter(|r| !is_timed(r)) {
        table_row(
            o,
            &[
                &r.test_id,
                &r.name,
                &r.expected_value.map(fmt_num).unwrap_or_else(|| "-".into()),
                &r.actual_value.map(fmt_num).unwrap_or_else(|| "-".into()),
                r.status.as_str(),
                r.notes.as_deref().unwrap_or(""),
            ],
        );
    }
}

/// The plan's pre- and post-test checklists and its risk factors.
fn checklist(o: &mut String, data: &ReportData) {
    let run = &data.run;
    let _ = writeln!(o, "\n## Checklist and Risk Factors\n");
    let _ = writeln!(o, "- Caches: {}", run.cache_state.as_deref().unwrap_or("not recorded"));
    let _ = writeln!(o, "- pg_stat_statements: {}", run.stat_statements.as_deref().unwrap_or("not recorded"));
    if !run.top_statements.is_empty() {
        let _ = writeln!(o, "- Query statistics (pg_stat_statements since this run's reset), by total time:");
        for (i, t) in run.top_statements.iter().enumerate() {
            let _ = writeln!(
                o,
                "  {}. `{}`: {} calls, {} ms in all, {} ms each, {} rows, {} blocks read",
                i + 1,
                t.query.replace('`', "'"),
                t.calls,
                fmt_ms(t.total_ms),
                fmt_ms(t.mean_ms),
                t.rows,
                t.shared_blks_read
            );
        }
    }
    if let Some(line) = query_logging(run.settings.get("log_min_duration_statement").map(String::as_str)) {
        let _ = writeln!(o, "- {line}");
    }
    if let Some(free) = run.worker_slots_free {
        let _ = writeln!(o, "- Background-worker slots free at the start: {free} (connection/worker exhaustion risk)");
    }
    if let (Some(a), Some(b)) = (run.index_bytes_start, run.index_bytes_end) {
        let growth = if a > 0 { (b - a) as f64 / a as f64 * 100.0 } else { 0.0 };
        let _ = writeln!(o, "- Index size of the tables under test: {a} → {b} bytes ({growth:+.1} %, bloat signal)");
    }
    for r in data.results.iter().filter(|r| r.kind.as_deref() == Some("concurrency")) {
        let _ = writeln!(o, "- Lock contention ({}): {} {}", r.test_id, r.status, r.notes.as_deref().unwrap_or(""));
    }
    if let Some(m) = &run.monitoring {
        monitoring(o, m);
    }
    monitoring_per_scenario(o, data);
    if let Some(r) = data.results.iter().find(|r| r.report_role == Some(ReportRole::MetricsRefresh)) {
        let _ = writeln!(
            o,
            "- Materialized-view refresh: {} ms ({})",
            r.measured_ms.map(fmt_ms).unwrap_or_else(|| "-".into()),
            r.status
        );
    }
}

/// Monitoring peaks of the load test.
fn monitoring(o: &mut String, m: &Monitoring) {
    let pct = |v: Option<f64>, scale: f64| v.map(|x| format!("{:.1} %", x * scale)).unwrap_or_else(|| "n/a".into());
    let _ = writeln!(
        o,
        "- During the load test ({} samples): max {} lock waits, max {} queries over the latency limit, cache hit {} at its lowest, CPU peak {}, memory peak {}",
        m.samples,
        m.max_lock_waits.unwrap_or(0),
        m.max_slow_queries.unwrap_or(0),
        pct(m.min_cache_hit_ratio, 100.0),
        pct(m.cpu_peak_pct, 1.0),
        pct(m.mem_peak_pct, 1.0)
    );
    if let Some(used) = m.max_connections_used {
        let _ = writeln!(
            o,
            "- Connections during the load test: at most {used} client connections of max_connections {} (connection pool exhaustion risk)",
            m.max_connections.map(|c| c.to_string()).unwrap_or_else(|| "?".into())
        );
    }
    let rate = |v: Option<f64>, unit: &str| v.map(|x| format!("{x:.0} {unit}")).unwrap_or_else(|| "n/a".into());
    let _ = writeln!(
        o,
        "- Disk I/O during the load test: peak {} read and {} written on the machine, {} read into shared buffers by this database",
        rate(m.disk_read_peak_kbs, "kB/s"),
        rate(m.disk_write_peak_kbs, "kB/s"),
        rate(m.blocks_read_peak_per_s, "blocks/s")
    );
}

/// Timed tests that did not pass, with their notes.
fn findings(o: &mut String, data: &ReportData) {
    let findings: Vec<&ResultRow> = data.results.iter().filter(|r| is_timed(r) && r.status != Verdict::Pass).collect();
    if !findings.is_empty() {
        let _ = writeln!(o, "\n### Findings\n");
        for r in findings {
            let _ = writeln!(o, "- **{} {}** ({}): {}", r.test_id, r.name, r.status, r.notes.as_deref().unwrap_or(""));
        }
    }
}

fn recommendations(o: &mut String, recs: &[Recommendation]) {
    let _ = writeln!(o, "\n## Recommendations\n");
    if recs.is_empty() {
        let _ = writeln!(o, "None: this run shows no evidence of a problem.");
    }
    for (i, rec) in recs.iter().enumerate() {
        let _ = writeln!(o, "{}. **{}**: {}  \n   → {}", i + 1, rec.kind, rec.evidence, rec.action);
    }
}

fn next_steps(o: &mut String, data: &ReportData, recs: &[Recommendation]) {
    let run = &data.run;
    let c = summary::counts(&data.results);
    let _ = writeln!(o, "\n## Next Steps\n");
    if !recs.is_empty() {
        let _ = writeln!(o, "- [ ] Implement the recommendations above");
    }
    let retest: Vec<&str> =
        data.results.iter().filter(|r| r.status.needs_attention()).map(|r| r.test_id.as_str()).collect();
    if !retest.is_empty() {
        let _ = writeln!(
            o,
            "- [ ] Re-test problem areas: {}",
            retest.iter().map(|t| format!("`perf_run('{t}')`")).collect::<Vec<_>>().join(", ")
        );
    }
    if c.fail == 0 && c.error == 0 && run.status == "completed" {
        let _ = writeln!(o, "- [ ] Schedule production deployment");
    }
    let _ = writeln!(o, "- [ ] Plan monitoring strategy: `perf_schedule('0 3 * * *')` runs this plan nightly; compare runs with `perf_compare()`");
}

/// The plan's "Enable query logging" (before) and "Review slow query log" (after), from
/// the run's log_min_duration_statement.
pub fn query_logging(setting: Option<&str>) -> Option<String> {
    Some(match setting? {
        "-1" => "Query logging: off (log_min_duration_statement = -1), so there is no slow query log to review; \
                 the plan's pre-test step: ALTER SYSTEM SET log_min_duration_statement = '100ms'; SELECT pg_reload_conf();"
            .to_string(),
        "0" => "Query logging: every statement is logged (log_min_duration_statement = 0); review the server log for slow ones".to_string(),
        v => format!("Query logging: statements over {v} are logged (log_min_duration_statement); review the server log for this run's window"),
    })
}

/// Timed tests have a target in milliseconds; checks compare a count.
pub fn is_timed(r: &ResultRow) -> bool {
    r.target_ms.is_some() && !matches!(r.kind.as_deref(), Some("count_check" | "isolation_sweep"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_text_makes_no_markup_links_or_columns() {
        let doc =
            no_raw_html("<b>x</b> &amp; [a](javascript:1) https://evil.example/ www.evil.com me@evil.com p < 0.001");
        assert!(!doc.contains("<b>") && !doc.contains("](") && doc.contains("&amp;amp;"), "{doc}");
        assert!(!doc.contains("://") && !doc.contains("www.") && !doc.contains("@e"), "{doc}");
        assert!(doc.contains("p < 0.001"), "{doc}");
        let mut o = String::new();
        table_row(&mut o, &["Customer List | 4.2 | <30 ms | 0.1 ms | PASS |", "FAIL"]);
        assert_eq!(o, "| Customer List \\| 4.2 \\| <30 ms \\| 0.1 ms \\| PASS \\| | FAIL |\n");
    }
}
