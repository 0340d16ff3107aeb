//! Cold-cache runs: real eviction where the server can evict shared buffers, and an
//! honest "warm" where it cannot.

#[pgrx::pg_schema]
mod tests {
    use crate::tests::{one, refused, run, serialize_runs};
    use pgrx::prelude::*;

    fn can_evict() -> bool {
        one::<bool>(
            "SELECT current_setting('server_version_num')::int >= 170000 \
                AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_buffercache')",
        )
    }

    #[pg_test]
    fn cold_figures_are_real_where_the_server_can_evict_and_never_claimed_where_not() {
        serialize_runs();
        run("SET LOCAL pg_perfsuite.cold_cache = on");
        run("SELECT * FROM perf_run('1.1', iterations => 3, background => false)");
        let state = one::<String>("SELECT cache_state FROM perf_runs ORDER BY run_id DESC LIMIT 1");
        let (cold, notes) = Spi::get_two::<f64, String>(
            "SELECT cold_ms::float8, notes FROM performance_test_results WHERE test_id = '1.1' ORDER BY result_id DESC LIMIT 1",
        )
        .unwrap();
        let notes = notes.unwrap();
        if can_evict() {
            assert!(state.starts_with("warm and cold"), "{state}");
            assert!(cold.is_some_and(|c| c > 0.0), "{cold:?} {notes}");
            let (evicted, left, relations) = Spi::get_three::<i64, i64, bool>(
                "SELECT (evicted->>'shared_buffers_evicted')::int8, (evicted->>'shared_buffers_left')::int8, \
                        evicted->'relations' ? 'customers' \
                   FROM performance_test_results WHERE test_id = '1.1' ORDER BY result_id DESC LIMIT 1",
            )
            .unwrap();
            // The warm run left the list query's pages in shared buffers: they were
            // evicted, and none was left behind.
            assert!(evicted.unwrap() > 0, "{notes}");
            assert_eq!(left, Some(0), "{notes}");
            assert_eq!(relations, Some(true), "{notes}");
            assert!(notes.contains("cold: p95"), "{notes}");
            let samples = one::<i32>(
                "SELECT array_length(cold_samples_ms, 1) FROM performance_test_results WHERE test_id = '1.1' ORDER BY result_id DESC LIMIT 1",
            );
            assert_eq!(samples, 3);
            let md = one::<String>("SELECT perf_report()");
            assert!(md.contains("### Cold cache") && md.contains("| 1.1 | p95 |"), "{md}");
        } else {
            assert!(state.contains("cannot be made") && state.contains("no figure of this run is cold"), "{state}");
            assert_eq!(cold, None);
            assert!(!notes.contains("cold:"), "{notes}");
            assert!(!one::<String>("SELECT perf_report()").contains("### Cold cache"));
        }
    }

    #[pg_test]
    fn a_warm_run_says_how_to_get_cold_figures() {
        serialize_runs();
        run("SELECT * FROM perf_run('1.1', iterations => 1, background => false)");
        let state = one::<String>("SELECT cache_state FROM perf_runs ORDER BY run_id DESC LIMIT 1");
        assert!(state.starts_with("warm:") && state.contains("pg_perfsuite.cold_cache = on"), "{state}");
        assert!(one::<bool>(
            "SELECT cold_ms IS NULL AND evicted IS NULL FROM performance_test_results WHERE test_id = '1.1' ORDER BY result_id DESC LIMIT 1"
        ));
    }

    #[pg_test]
    fn cold_runs_need_a_superuser() {
        serialize_runs();
        run("CREATE ROLE cold_op NOLOGIN NOSUPERUSER; SELECT * FROM perf_grant_operator('cold_op')");
        run("SET LOCAL ROLE cold_op; SET LOCAL pg_perfsuite.cold_cache = on");
        let runs = one::<i64>("SELECT count(*) FROM perf_runs");
        let e = refused("SELECT * FROM perf_run('1.1', iterations => 1, background => false)");
        assert_eq!(e.sqlstate(), "42501", "{e:?}");
        assert!(e.message.contains("pg_perfsuite.cold_cache needs a superuser"), "{e:?}");
        assert_eq!(one::<i64>("SELECT count(*) FROM perf_runs"), runs, "refused before any row was written");
    }
}
