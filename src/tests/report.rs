//! Reports built from runs with known results: exactly those verdicts and numbers, a
//! recommendation only when its evidence is present, TAP as pg_prove reads it.

#[pgrx::pg_schema]
mod tests {
    use crate::tests::{one, refused, run};
    use pgrx::prelude::*;

    /// Two completed runs over the same tests; the second has every verdict and a plan
    /// with a large unselective Seq Scan on test 1.1. Returns the second run's id.
    fn known_runs(with_seq_scan: bool) -> i64 {
        // Background client tests commit runs of their own; "latest run" must be ours.
        crate::tests::serialize_runs();
        let first = one::<i64>(
            "INSERT INTO perf_runs (pattern, target_schema, status, overall, backend_start) \
             VALUES ('%', 'report_fixture', 'completed', 'PASS', now()) RETURNING run_id",
        );
        run(&format!(
            "INSERT INTO performance_test_results (run_id, test_id, test_name, status, target_ms, execution_time_ms, statistic)
             VALUES ({first}, '1.1', 'fx list', 'PASS', 50, 20, 'p95'),
                    ({first}, '2.1', 'fx search', 'PASS', 30, 10, 'p95')"
        ));
        let second = one::<i64>(
            "INSERT INTO perf_runs (pattern, target_schema, status, overall, backend_start) \
             VALUES ('%', 'report_fixture', 'completed', 'FAIL', now()) RETURNING run_id",
        );
        // What the runner would have found in that plan (suite::finding): the report
        // reads the findings, never the plan or the notes, for its advice. Results are
        // rows operators may write: findings that are not one (2.1, 5.4) are left out.
        let findings = if with_seq_scan {
            r#"'[{"kind": "seq_scan", "relation": "customers", "rows_read": 20050, "rows_kept": 50,
                 "filter": "(company_id = ''x''::uuid)"}]'"#
        } else {
            "'[]'"
        };
        let plan = if with_seq_scan {
            r#"'[{"Plan": {"Node Type": "Seq Scan", "Relation Name": "customers", "Actual Rows": 50, "Actual Loops": 1,
                 "Rows Removed by Filter": 20000, "Filter": "(company_id = ''x''::uuid)"}}]'"#
        } else {
            r#"'[{"Plan": {"Node Type": "Index Scan", "Index Name": "idx_customers_company", "Relation Name": "customers",
                 "Actual Rows": 50, "Actual Loops": 1}}]'"#
        };
        run(&format!(
            "INSERT INTO performance_test_results (run_id, test_id, test_name, status, target_ms, execution_time_ms, statistic,
                                                  p50_ms, p95_ms, expected_value, actual_value, error_sqlstate, error_message, notes, plan, findings)
             VALUES ({second}, '1.1', 'fx list', 'FAIL', 50, 80, 'p95', 60, 80, NULL, NULL, NULL, NULL, 'p95 80 ms', {plan}, {findings}),
                    ({second}, '2.1', 'fx search', 'WARN', 30, 40, 'p95', 30, 40, NULL, NULL, NULL, NULL, 'p95 40 ms', NULL,
                     '[{{\"kind\": \"no_such_kind\"}}, 42, {{\"kind\": \"seq_scan\"}}]'),
                    ({second}, '1.2', 'Customer count with filters', 'ERROR', 30, NULL, 'p95', NULL, NULL, NULL, NULL, '42703',
                     'column \"nope\" does not exist', 'ERROR 42703: column \"nope\" does not exist', NULL, NULL),
                    ({second}, '3.2', 'All bulk customers created', 'PASS', NULL, NULL, NULL, NULL, NULL, 100, 100, NULL, NULL, '100 = expected 100', NULL, NULL),
                    ({second}, '5.4', 'Concurrent updates', 'SKIP', 500, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'SKIP: no second session', NULL, '\"not a list\"')"
        ));
        second
    }

    /// Runs and results are rows operators may write: whatever they hold (numbers no
    /// float holds, nesting no reader takes, values of the wrong shape, NULL names),
    /// every format of the report is made, and what could not be read is said.
    #[pg_test]
    fn a_report_survives_whatever_is_stored() {
        crate::tests::serialize_runs();
        let id = one::<i64>(
            "INSERT INTO perf_runs (pattern, target_schema, status, overall, backend_start, settings, data_volume, top_statements) \
             VALUES ('%', 'report_fixture', 'completed', 'FAIL', now(), '{\"work_mem\": 5}', '{\"customers\": 1e30, \"x\": \"y\"}', \
                     '[{\"query\": 1}, {\"query\": \"SELECT 1\", \"calls\": 2, \"total_ms\": 1, \"mean_ms\": 1, \"rows\": 1, \"shared_blks_read\": 0}]') \
             RETURNING run_id",
        );
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        run(&format!(
            "INSERT INTO performance_test_results (run_id, test_id, test_name, status, target_ms, execution_time_ms, statistic, waits, resources, findings)
             VALUES ({id}, '1.1', 'x', 'FAIL', 1e400, 80, 'p95', '{deep}', '{{\"wal_bytes\": -9223372036854775808}}', '[{{\"kind\": \"seq_scan\", \"relation\": \"c\", \"rows_read\": 1e400, \"rows_kept\": 1}}]'),
                    ({id}, 'nope.1', NULL, 'PASS', 10, 5, 'p95', NULL, '{{\"cpu_ms\": 1e400}}', NULL),
                    ({id}, NULL, NULL, 'PASS', NULL, NULL, NULL, NULL, NULL, NULL)"
        ));
        for format in ["markdown", "json", "tap", "html"] {
            let out = one::<String>(&format!("SELECT perf_report({id}, '{format}')"));
            assert!(out.contains("1.1"), "{format}: {out}");
        }
        let md = one::<String>(&format!("SELECT perf_report({id})"));
        assert!(md.contains("work_mem"), "settings are read as text: {md}");
    }

    #[pg_test]
    fn markdown_report_states_the_runs_verdicts_and_numbers() {
        let id = known_runs(true);
        let md = one::<String>(&format!("SELECT perf_report({id})"));
        assert!(md.contains(&format!("**Run**: {id} (completed)")), "{md}");
        assert!(md.contains("Overall Result: **FAIL** (1 passed, 1 warned, 1 failed, 1 errors, 1 skipped)"), "{md}");
        assert!(md.contains("| Customer List | 1.1 | <50 ms | 80.0 ms | FAIL |"), "{md}");
        assert!(md.contains("| Customer Search | 2.1 | <30 ms | 40.0 ms | WARN |"), "{md}");
        assert!(
            md.contains(
                "| 1.1 | Customer list pagination | p95 | 50.0 | - | 80.0 | 60.0 | 80.0 | - | FAIL | +300.0 %, regressed |"
            ),
            "{md}"
        );
        assert!(md.contains(&format!("Against run {}: 2 of 2 timed tests regressed", id - 1)), "{md}");
        assert!(md.contains("| 3.2 | All bulk customers created | 100 | 100 | PASS |"), "{md}");
        assert!(md.contains("**seq_scan**: test 1.1 (FAIL): Seq Scan on customers read 20050 rows to keep 50"), "{md}");
        assert!(md.contains("CREATE INDEX ON customers (company_id)"), "{md}");
        assert!(md.contains("**error**: test 1.2 raised 42703"), "{md}");
        // The latest run is the default.
        assert!(one::<String>("SELECT perf_report()").contains(&format!("**Run**: {id} (completed)")));
    }

    #[pg_test]
    fn no_evidence_no_recommendation() {
        let id = known_runs(false);
        let md = one::<String>(&format!("SELECT perf_report({id})"));
        assert!(!md.contains("**seq_scan**"), "{md}");
        assert!(md.contains("**error**"), "the errored test is still reported: {md}");
    }

    #[pg_test]
    fn tap_json_and_html_formats() {
        let id = known_runs(true);
        let tap = one::<String>(&format!("SELECT perf_report({id}, 'tap')"));
        let lines: Vec<&str> = tap.lines().collect();
        assert_eq!(lines[0], "1..5", "{tap}");
        let verdicts: Vec<&str> =
            lines.iter().copied().filter(|l| l.starts_with("ok ") || l.starts_with("not ok ")).collect();
        assert_eq!(
            verdicts,
            vec![
                "not ok 1 - 1.1 Customer list pagination",
                "ok 2 - 2.1 Fuzzy name search",
                "not ok 3 - 1.2 Customer count with filters",
                "ok 4 - 3.2 All bulk customers created",
                "ok 5 - 5.4 Concurrent updates from two companies do not block # SKIP no second session",
            ]
        );
        let json: serde_json::Value =
            serde_json::from_str(&one::<String>(&format!("SELECT perf_report({id}, 'json')"))).unwrap();
        assert_eq!(json["run"]["run_id"], id);
        assert_eq!(json["counts"]["error"], 1);
        assert_eq!(json["results"][0]["measured_ms"], 80.0);
        assert_eq!(json["vs_previous"][0]["regression"], true);
        let html = one::<String>(&format!("SELECT perf_report({id}, 'html')"));
        assert!(html.contains("data-test=\"1.1\" data-p95=\"80\" data-target=\"50\""), "{html}");
        assert!(html.contains("<title>run"), "trend chart over the two runs: {html}");
    }

    #[pg_test]
    fn summary_and_compare() {
        let id = known_runs(true);
        let (runs, p95) = Spi::get_two::<i64, pgrx::AnyNumeric>(
            "SELECT test_runs, p95_ms FROM perf_summary() WHERE test_name = 'fx list'",
        )
        .unwrap();
        assert_eq!(runs, Some(2));
        assert_eq!(p95.unwrap().to_string(), "77.00");
        let only =
            one::<i64>(&format!("SELECT test_runs FROM perf_summary(run => {id}) WHERE test_name = 'fx search'"));
        assert_eq!(only, 1);
        // The fixture keeps no samples (as results recorded by 0.1.0): the threshold
        // decides, and the row says so.
        let line = one::<String>(&format!(
            "SELECT verdict || '|' || regression || '|' || change_pct || '|' || method \
               FROM perf_compare({id}) WHERE test_id = '1.1'"
        ));
        assert_eq!(
            line,
            "regressed|true|300|figures only: 0 + 0 samples (a test needs 5 per run); band 50 % (fewer than 3 earlier runs to learn it from)"
        );
        let reverse = one::<String>(&format!(
            "SELECT verdict || '|' || regression || '|' || baseline_run FROM perf_compare({}, baseline => {id}) WHERE test_id = '1.1'",
            id - 1
        ));
        assert_eq!(reverse, format!("improved|false|{id}"));
    }

    /// Three completed runs of schema noise_fixture with 20 samples per timed test:
    /// 1.1 jitters around 2 ms in every run; 2.1 doubles in the second and third.
    fn runs_with_samples() -> (i64, i64, i64) {
        crate::tests::serialize_runs();
        let mut ids = Vec::new();
        for (k, search_ms) in [(0, 2.0), (1, 4.0), (2, 4.0)] {
            let id = one::<i64>(
                "INSERT INTO perf_runs (pattern, target_schema, status, overall, backend_start) \
                 VALUES ('%', 'noise_fixture', 'completed', 'PASS', now()) RETURNING run_id",
            );
            // Jitter of a few percent that differs per run, like a real machine's.
            run(&format!(
                "INSERT INTO performance_test_results (run_id, test_id, test_name, status, target_ms, execution_time_ms, statistic, samples_ms)
                 SELECT {id}, t, t, 'PASS', 50, pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY v), 'p95', pg_catalog.array_agg(v)
                   FROM (SELECT t, CASE t WHEN '1.1' THEN 2.0 ELSE {search_ms} END * (0.95 + ((i * 7 + {k} * 3) % 20) / 200.0) AS v
                           FROM pg_catalog.generate_series(1, 20) i, (VALUES ('1.1'), ('2.1')) x(t)) s
                  GROUP BY t"
            ));
            ids.push(id);
        }
        (ids[0], ids[1], ids[2])
    }

    fn compared(sql: &str) -> Vec<(String, String, i64)> {
        Spi::connect(|c| {
            c.select(sql, None, &[])
                .unwrap()
                .map(|r| (r.get(1).unwrap().unwrap(), r.get(2).unwrap().unwrap(), r.get(3).unwrap().unwrap()))
                .collect()
        })
    }

    #[pg_test]
    fn compare_judges_samples_and_follows_a_pinned_baseline() {
        let (a, b, c) = runs_with_samples();
        let rows = compared(&format!("SELECT test_id, verdict, baseline_run FROM perf_compare({b})"));
        assert_eq!(rows, vec![("1.1".into(), "within noise".into(), a), ("2.1".into(), "regressed".into(), a)]);
        let (p, low, method) = Spi::get_three::<f64, f64, String>(&format!(
            "SELECT p_value, ratio_low, method FROM perf_compare({b}) WHERE test_id = '2.1'"
        ))
        .unwrap();
        assert!(p.unwrap() < 0.001 && low.unwrap() > 1.8, "{p:?} {low:?}");
        assert_eq!(
            method.unwrap(),
            "Mann-Whitney U over 20 + 20 samples; band 50 % (fewer than 3 earlier runs to learn it from)"
        );
        // By default c is compared with b (the run before): nothing moved.
        let rows = compared(&format!("SELECT test_id, verdict, baseline_run FROM perf_compare({c})"));
        assert_eq!(rows, vec![("1.1".into(), "within noise".into(), b), ("2.1".into(), "within noise".into(), b)]);
        // Pinned, a stays the reference until cleared.
        let pinned = one::<String>(&format!(
            "SELECT pinned_run || '|' || coalesce(replaced_run::text, '-') FROM perf_set_baseline({a})"
        ));
        assert_eq!(pinned, format!("{a}|-"));
        let rows = compared(&format!("SELECT test_id, verdict, baseline_run FROM perf_compare({c})"));
        assert_eq!(rows[1], ("2.1".into(), "regressed".into(), a));
        let md = one::<String>(&format!("SELECT perf_report({c})"));
        assert!(
            md.contains(&format!("Against run {a} (pinned baseline): 1 of 2 timed tests regressed beyond noise")),
            "{md}"
        );
        assert!(md.contains("2.1 regressed: median x2."), "{md}");
        // Pinning another run replaces it; clearing goes back to the run before.
        let replaced = one::<i64>(&format!("SELECT replaced_run FROM perf_set_baseline({b})"));
        assert_eq!(replaced, a);
        assert_eq!(one::<i64>("SELECT perf_clear_baseline('noise_fixture')"), b);
        let rows = compared(&format!("SELECT test_id, verdict, baseline_run FROM perf_compare({c})"));
        assert_eq!(rows[1].2, b);
    }

    #[pg_test]
    fn set_baseline_refuses_what_cannot_be_a_baseline() {
        let (a, _, _) = runs_with_samples();
        let e = refused("SELECT * FROM perf_set_baseline(NULL)");
        assert_eq!((e.sqlstate().as_str(), e.message.as_str()), ("22004", "run must not be NULL"));
        let e = refused("SELECT * FROM perf_set_baseline(999999)");
        assert_eq!((e.sqlstate().as_str(), e.message.as_str()), ("22023", "run 999999 does not exist"));
        run(&format!("UPDATE perf_runs SET status = 'failed' WHERE run_id = {a}"));
        let e = refused(&format!("SELECT * FROM perf_set_baseline({a})"));
        assert_eq!(e.sqlstate(), "22023");
        assert!(e.message.contains("only a completed run can be a baseline"), "{e:?}");
        let e = refused("SELECT * FROM perf_compare(threshold_pct => -1)");
        assert!(e.message.contains("threshold_pct must be a number from 0 to 1000"), "{e:?}");
    }

    #[cfg(feature = "pg15")]
    #[pg_test]
    fn hypopg_says_whether_the_recommended_index_would_be_used() {
        crate::tests::serialize_runs();
        run("CREATE EXTENSION IF NOT EXISTS hypopg");
        run("CREATE SCHEMA hypo_s");
        // Build the environment, then take away the indexes the list query uses.
        run("SELECT count(*) FROM perf_run('5.2', target_schema => 'hypo_s', iterations => 1, background => false)");
        run("DROP INDEX hypo_s.idx_customers_not_deleted; DROP INDEX hypo_s.idx_customers_email; ANALYZE hypo_s.customers");
        run("SELECT count(*) FROM perf_run('5.2', target_schema => 'hypo_s', iterations => 1, background => false)");
        let md = one::<String>("SELECT perf_report()");
        assert!(md.contains("**seq_scan**: test 5.2"), "{md}");
        assert!(md.contains("CREATE INDEX ON customers (company_id) WHERE deleted_at IS NULL"), "{md}");
        assert!(md.contains("hypopg: the planner would use this index, estimated cost"), "{md}");
        // Nothing was built: no real index on company_id appeared.
        assert_eq!(one::<i64>("SELECT count(*) FROM pg_indexes WHERE schemaname = 'hypo_s' AND tablename = 'customers' AND indexdef LIKE '%(company_id)%'"), 0);
    }

    #[pg_test(error = "format must be one of markdown, json, tap, html, not \"pdf\"")]
    fn unknown_format_is_refused() {
        known_runs(false);
        run("SELECT perf_report(NULL, 'pdf')");
    }

    #[pg_test(error = "run -5 does not exist")]
    fn unknown_run_is_refused() {
        run("SELECT perf_report(-5)");
    }
}
