#[pgrx::pg_schema]
mod tests {
    use crate::tests::{one, run, serialize_runs};
    use pgrx::prelude::*;

    #[pg_test]
    fn log_performance_test_writes_the_plans_row() {
        run("SELECT log_performance_test('manual check', 'select', 12.5, 50)");
        run("SELECT log_performance_test('with notes', 'select', 1, 1, 'n')");
        assert_eq!(
            one::<String>(
                "SELECT test_name || '|' || query_type || '|' || execution_time_ms || '|' || rows_returned || '|' || coalesce(notes, '-') \
                 FROM performance_test_results WHERE test_name = 'manual check'"
            ),
            "manual check|select|12.5|50|-"
        );
        assert_eq!(one::<i64>("SELECT count(*) FROM performance_test_results WHERE notes = 'n' AND test_timestamp IS NOT NULL"), 1);
    }

    #[pg_test]
    fn writing_functions_are_not_public() {
        for f in ["perf_run_all(text,integer,bigint)", "perf_install_schema(text)",
                  "generate_test_customers(uuid,integer,uuid,bigint,text)",
                  "log_performance_test(text,text,numeric,integer,text)"] {
            run("CREATE ROLE perf_nobody NOLOGIN");
            assert!(!one::<bool>(&format!("SELECT has_function_privilege('perf_nobody', '{f}', 'EXECUTE')")), "{f} is executable by PUBLIC");
            run("DROP ROLE perf_nobody");
        }
    }

    #[pg_test]
    fn run_all_judges_scenario_1_and_records_it() {
        serialize_runs();
        let rows = Spi::connect(|c| {
            c.select("SELECT test_id, status, measured_ms, target_ms, run_id FROM perf_run_all(iterations => 3)", None, &[])
                .unwrap()
                .map(|r| {
                    (
                        r.get::<String>(1).unwrap().unwrap(),
                        r.get::<String>(2).unwrap().unwrap(),
                        r.get::<f64>(3).unwrap(),
                        r.get::<f64>(4).unwrap(),
                        r.get::<i64>(5).unwrap().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        });
        let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(ids, vec!["1.1", "1.2", "1.3"]);
        for (id, status, measured, target, _) in &rows {
            assert!(["PASS", "WARN", "FAIL"].contains(&status.as_str()), "{id}: {status}");
            assert!(measured.unwrap() > 0.0 && target.is_some(), "{id}");
        }
        let run_id = rows[0].4;
        // The plan's data exists: 1000 customers of the load-test company, metrics refreshed.
        assert_eq!(one::<i64>("SELECT count(*) FROM customers WHERE company_id = '11111111-1111-1111-1111-111111111111'"), 1000);
        assert_eq!(one::<i64>("SELECT count(*) FROM customer_metrics WHERE total_conversations BETWEEN 3 AND 10"), 1000);
        // Recorded: one result per test, with timings, plan facts and the run's summary.
        assert_eq!(one::<i64>(&format!(
            "SELECT count(*) FROM performance_test_results WHERE run_id = {run_id} AND iterations = 3 \
             AND p95_ms >= p50_ms AND max_ms >= p95_ms AND plan IS NOT NULL AND cache_hit_ratio BETWEEN 0 AND 100"
        )), 3);
        assert_eq!(one::<i64>(&format!(
            "SELECT rows_returned FROM performance_test_results WHERE run_id = {run_id} AND test_id = '1.1'"
        )), 50);
        assert_eq!(one::<String>(&format!(
            "SELECT status || '/' || tests_total || '/' || (data_volume->>'customers') FROM perf_runs WHERE run_id = {run_id}"
        )), "completed/3/1000");
        assert!(one::<bool>(&format!(
            "SELECT 'idx_customers_not_deleted' = ANY(index_scans) FROM performance_test_results WHERE run_id = {run_id} AND test_id = '1.1'"
        )));
    }

    /// Verdicts come from the registry's bands: generous targets pass, impossible ones
    /// fail, a broken query is an ERROR and the run goes on, a plan assertion can fail.
    #[pg_test]
    fn verdicts_follow_targets_errors_and_assertions() {
        serialize_runs();
        run("UPDATE perf_tests SET enabled = false");
        run("INSERT INTO perf_tests (test_id, scenario, name, kind, sql, target_ms, acceptable_ms, iterations, warmup) VALUES
             ('9.1', 9, 'generous', 'timed_query', 'SELECT count(*) FROM customers', 100000, NULL, 2, 0),
             ('9.2', 9, 'impossible', 'timed_query', 'SELECT pg_sleep(0.002), count(*) FROM customers', 0.001, 0.002, 2, 0),
             ('9.3', 9, 'broken', 'timed_query', 'SELECT * FROM no_such_table', 10, NULL, 2, 0),
             ('9.4', 9, 'after the broken one', 'timed_query', 'SELECT 1', 100000, NULL, 2, 0)");
        run("INSERT INTO perf_tests (test_id, scenario, name, kind, sql, target_ms, iterations, warmup, assert_index) VALUES
             ('9.5', 9, 'index assertion', 'timed_query', 'SELECT * FROM customers WHERE customer_name = ''x''', 100000, 1, 0, 'no_such_index')");
        let got: Vec<(String, String, Option<String>)> = Spi::connect(|c| {
            c.select("SELECT test_id, status, notes FROM perf_run('9.%', iterations => 2)", None, &[])
                .unwrap()
                .map(|r| (r.get(1).unwrap().unwrap(), r.get(2).unwrap().unwrap(), r.get(3).unwrap()))
                .collect()
        });
        let status: Vec<(&str, &str)> = got.iter().map(|(i, s, _)| (i.as_str(), s.as_str())).collect();
        assert_eq!(status, vec![("9.1", "PASS"), ("9.2", "FAIL"), ("9.3", "ERROR"), ("9.4", "PASS"), ("9.5", "FAIL")]);
        assert!(got[2].2.as_deref().unwrap().contains("42P01"), "{:?}", got[2].2);
        assert!(got[4].2.as_deref().unwrap().contains("does not use index no_such_index"), "{:?}", got[4].2);
        assert_eq!(one::<String>("SELECT error_sqlstate FROM performance_test_results WHERE test_id = '9.3'"), "42P01");
        assert_eq!(one::<String>("SELECT overall FROM perf_runs ORDER BY run_id DESC LIMIT 1"), "ERROR");
    }

    #[pg_test(error = "no enabled test matches pattern \"nothing%\"")]
    fn run_rejects_pattern_without_tests() {
        run("SELECT * FROM perf_run('nothing%')");
    }

    #[pg_test(error = "iterations must be between 1 and 100000 (got 0)")]
    fn run_rejects_bad_iterations() {
        run("SELECT * FROM perf_run_all(iterations => 0)");
    }

    #[pg_test(error = "new row for relation \"perf_tests\" violates check constraint \"perf_tests_target_ms_check\"")]
    fn registry_rejects_negative_target() {
        run("INSERT INTO perf_tests (test_id, scenario, name, kind, sql, target_ms) VALUES ('x', 1, 'x', 'timed_query', 'SELECT 1', -5)");
    }
}
