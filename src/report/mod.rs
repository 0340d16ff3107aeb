//! Reports of a run: the plan's Reporting Template in markdown, plus JSON for tools,
//! TAP for pg_prove and a self-contained HTML page with charts. Everything here is pure:
//! `api::report` loads a `ReportData` from the tables and hands it over.

pub mod advice;
pub(crate) mod html;
mod markdown;
pub mod model;
pub mod scaling;
pub mod summary;
mod tap;
pub mod target;
pub use tap::one_line;

use model::ReportData;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Markdown,
    Json,
    Tap,
    Html,
}

impl Format {
    pub const NAMES: &'static str = "markdown, json, tap, html";

    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "markdown" | "md" => Some(Format::Markdown),
            "json" => Some(Format::Json),
            "tap" => Some(Format::Tap),
            "html" => Some(Format::Html),
            _ => None,
        }
    }
}

/// The report of `data` in `format`, calling `interrupts` through the comparison with
/// the previous run (the one part whose cost grows with stored data; computed once).
pub fn render(data: &ReportData, format: Format, interrupts: &dyn Fn()) -> String {
    let recs = advice::recommend(data);
    let changes = || summary::vs_previous(data, interrupts);
    match format {
        Format::Markdown => markdown::render(data, &recs, &changes()),
        Format::Tap => tap::render(data),
        Format::Html => html::render(data, &recs),
        Format::Json => {
            let doc = serde_json::json!({
                "run": data.run,
                "counts": summary::counts(&data.results),
                "success_criteria": summary::criteria(data),
                "vs_plan_baseline": summary::vs_plan_baseline(data).into_iter()
                    .map(|(what, c)| serde_json::json!({"what": what, "change": c})).collect::<Vec<_>>(),
                "previous_run": data.previous.as_ref().map(|p| p.run_id),
                "vs_previous": changes(),
                "results": data.results,
                "recommendations": recs,
            });
            // Invariant: a serde_json::Value always serializes. (Pure code keeps .expect:
            // it must not link PostgreSQL's error machinery into the unit tests.)
            serde_json::to_string_pretty(&doc).expect("a JSON value serializes")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::model::*;
    use super::*;

    /// A run with every verdict, a previous run, and evidence for two recommendations.
    fn sample() -> ReportData {
        let timed = |id: &str, status: Verdict, target: f64, measured: f64| ResultRow {
            test_id: id.into(),
            name: format!("test {id}"),
            kind: Some("timed_query".into()),
            statistic: Some("p95".into()),
            status,
            target_ms: Some(target),
            measured_ms: Some(measured),
            p95_ms: Some(measured),
            notes: Some(format!("p95 {measured} ms")),
            ..Default::default()
        };
        let mut slow = timed("1.1", Verdict::Fail, 50.0, 75.0);
        slow.scenario = Some(1);
        slow.waits = Some(crate::pg::waits::profile(vec![("CPU".into(), 8), ("IO:DataFileRead".into(), 2)], 1));
        slow.resources =
            Some(Resources { cpu_ms: 5.0, cpu_user_ms: 4.0, cpu_system_ms: 1.0, shared_read: 7, ..Default::default() });
        slow.report_row = Some("Customer List".into());
        slow.plan_baseline_ms = Some(500.0);
        slow.findings = vec![Finding::SeqScan {
            relation: "customers".into(),
            rows_read: 10000.0,
            rows_kept: 50.0,
            filter: Some("(company_id = 'x'::uuid)".into()),
        }];
        let mut errored = timed("1.2", Verdict::Error, 30.0, 0.0);
        errored.measured_ms = None;
        errored.error_sqlstate = Some("42703".into());
        errored.error_message = Some("column \"nope\" does not exist".into());
        errored.notes = Some("ERROR 42703: column \"nope\" does not exist".into());
        let check = ResultRow {
            test_id: "3.2".into(),
            name: "All bulk customers created".into(),
            kind: Some("count_check".into()),
            status: Verdict::Pass,
            expected_value: Some(100.0),
            actual_value: Some(100.0),
            ..Default::default()
        };
        let skipped = ResultRow {
            test_id: "5.4".into(),
            name: "Concurrent updates".into(),
            kind: Some("concurrency".into()),
            target_ms: Some(500.0),
            status: Verdict::Skip,
            notes: Some("SKIP: needs a background worker".into()),
            ..Default::default()
        };
        ReportData {
            run: RunInfo { run_id: 7, status: "completed".into(), overall: Some("FAIL".into()), ..Default::default() },
            results: vec![
                slow,
                errored,
                timed("1.3", Verdict::Warn, 100.0, 120.0),
                timed("2.1", Verdict::Pass, 30.0, 2.0),
                check,
                skipped,
            ],
            previous: Some(PreviousRun {
                run_id: 6,
                started_at: None,
                measured: [("1.1".to_string(), 30.0), ("2.1".to_string(), 2.0)].into_iter().collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn query_logging_line_follows_the_setting() {
        assert_eq!(markdown::query_logging(None), None);
        assert!(markdown::query_logging(Some("-1"))
            .unwrap()
            .contains("ALTER SYSTEM SET log_min_duration_statement = '100ms'"));
        assert!(markdown::query_logging(Some("250ms"))
            .unwrap()
            .starts_with("Query logging: statements over 250ms are logged"));
        let mut data = sample();
        data.run.settings.insert("log_min_duration_statement".into(), "-1".into());
        assert!(render(&data, Format::Markdown, &|| {}).contains("- Query logging: off"));
    }

    #[test]
    fn markdown_has_the_load_tests_monitoring_peaks() {
        let mut data = sample();
        assert!(!render(&data, Format::Markdown, &|| {}).contains("During the load test"), "nothing without samples");
        data.run.monitoring = Some(Monitoring {
            samples: 12,
            max_lock_waits: Some(3),
            max_slow_queries: Some(1),
            min_cache_hit_ratio: Some(0.998),
            cpu_peak_pct: Some(85.0),
            mem_peak_pct: Some(40.0),
            max_connections_used: Some(12),
            max_connections: Some(100),
            blocks_read_peak_per_s: Some(42.0),
            disk_read_peak_kbs: Some(512.0),
            disk_write_peak_kbs: Some(2048.4),
        });
        let md = render(&data, Format::Markdown, &|| {});
        assert!(md.contains("max 3 lock waits, max 1 queries over the latency limit, cache hit 99.8 % at its lowest, CPU peak 85.0 %"), "{md}");
        assert!(md.contains("at most 12 client connections of max_connections 100"), "{md}");
        assert!(
            md.contains(
                "peak 512 kB/s read and 2048 kB/s written on the machine, 42 blocks/s read into shared buffers"
            ),
            "{md}"
        );
    }

    #[test]
    fn markdown_has_every_verdict_and_number() {
        let md = render(&sample(), Format::Markdown, &|| {});
        assert!(md.contains("Overall Result: **FAIL** (2 passed, 1 warned, 1 failed, 1 errors, 1 skipped)"), "{md}");
        assert!(md.contains("Critical Issues: 1.1 test 1.1 (FAIL); 1.2 test 1.2 (ERROR)"), "{md}");
        assert!(md.contains("| Customer List | 1.1 | <50 ms | 75.0 ms | FAIL |"), "{md}");
        assert!(
            md.contains("| 1.1 | test 1.1 | p95 | 50.0 | - | 75.0 | - | 75.0 | - | FAIL | +150.0 %, regressed |"),
            "{md}"
        );
        assert!(md.contains("Against run 6: 1 of 2 timed tests regressed"), "{md}");
        assert!(md.contains("| 3.2 | All bulk customers created | 100 | 100 | PASS |"), "{md}");
        assert!(md.contains("Customer List 75.0 ms vs 500 ms, 6.7x faster"), "{md}");
        assert!(md.contains("**seq_scan**: test 1.1 (FAIL): Seq Scan on customers read 10000 rows to keep 50"), "{md}");
        assert!(md.contains("**error**: test 1.2 raised 42703"), "{md}");
        assert!(
            md.contains("| 1.1 | CPU 80 %, IO:DataFileRead 20 % (10 samples) | CPU 5.00 ms (4.00 user, 1.00 system); buffers 0 hit, 7 read,"),
            "{md}"
        );
        assert!(!md.contains("Schedule production deployment"), "a failing run is not ready: {md}");
    }

    #[test]
    fn tap_follows_pg_prove_conventions() {
        let tap = render(&sample(), Format::Tap, &|| {});
        let lines: Vec<&str> = tap.lines().collect();
        assert_eq!(lines[0], "1..6");
        let tests: Vec<&str> =
            lines.iter().copied().filter(|l| l.starts_with("ok ") || l.starts_with("not ok ")).collect();
        assert_eq!(tests.len(), 6);
        for (i, l) in tests.iter().enumerate() {
            let n = l.trim_start_matches("not ").trim_start_matches("ok ").split(' ').next().unwrap();
            assert_eq!(n, (i + 1).to_string(), "tests are numbered in order: {l}");
        }
        assert!(tests[0].starts_with("not ok 1 - 1.1"));
        assert!(tests[1].starts_with("not ok 2 - 1.2"));
        assert_eq!(tests[2], "ok 3 - 1.3 test 1.3");
        assert_eq!(tests[5], "ok 6 - 5.4 Concurrent updates # SKIP needs a background worker");
        assert!(lines
            .iter()
            .all(|l| l.starts_with("ok ") || l.starts_with("not ok ") || l.starts_with("# ") || l.starts_with("1..")));
        assert_eq!(*lines.last().unwrap(), "# Looks like you failed 2 tests of 6");
    }

    #[test]
    fn json_carries_results_and_recommendations() {
        let v: serde_json::Value = serde_json::from_str(&render(&sample(), Format::Json, &|| {})).unwrap();
        assert_eq!(v["counts"]["fail"], 1);
        assert_eq!(v["results"].as_array().unwrap().len(), 6);
        assert_eq!(v["results"][0]["measured_ms"], 75.0);
        assert_eq!(v["vs_previous"][0]["test_id"], "1.1");
        assert_eq!(v["vs_previous"][0]["regression"], true);
        let kinds: Vec<&str> =
            v["recommendations"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, vec!["seq_scan", "error"]);
    }

    #[test]
    fn html_is_self_contained_and_charts_carry_the_numbers() {
        let html = render(&sample(), Format::Html, &|| {});
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("<script src") && !html.contains("<link"), "no external resources");
        assert!(html.contains("data-test=\"1.1\" data-p95=\"75\" data-target=\"50\""), "{html}");
        assert!(html.contains("<td class=\"FAIL\">FAIL</td>"));
        // A stacked bar per scenario of what its tests waited on.
        assert!(html.contains("<svg id=\"waits\""), "{html}");
        assert!(
            html.contains("data-event=\"CPU\" data-share=\"0.800\"><title>CPU: 8 samples (80 %)</title>"),
            "{html}"
        );
    }
}
