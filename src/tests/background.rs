//! Background runs, tested from plain #[test]s over real client connections, because
//! what they test must commit (a worker sees only committed data, and other sessions
//! watch its progress). Each test works in its own schema and holds the test-only
//! serialization lock for its whole life.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    /// Starts the shared test cluster (through any #[pg_test]) for the client tests.
    #[pg_test]
    fn ready() {}
}

/// Plain #[test]s: compiled only into the test binary (they use dev-dependencies).
#[cfg(test)]
mod client {
    use postgres::Client;
    use std::time::{Duration, Instant};

    /// A committing connection to the test database, holding the serialization lock, with
    /// `schema` created.
    fn connect(schema: &str) -> Client {
        pgrx_tests::run_test("ready", None, crate::pg_test::postgresql_conf_options()).expect("test cluster");
        let (mut c, _) = pgrx_tests::client().expect("client");
        c.batch_execute("SET client_min_messages = warning; SELECT pg_advisory_lock(1885696614, 99)").unwrap();
        // pg_trgm in public, where every role's runs can use it (a run that finds no
        // pg_trgm creates it in its own target schema, which another role cannot use
        // and a DROP SCHEMA ... CASCADE would remove).
        c.batch_execute(
            "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
                 CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public; END IF; END $$",
        )
        .unwrap();
        c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")).unwrap();
        c
    }

    fn second() -> Client {
        let (mut c, _) = pgrx_tests::client().expect("client");
        c.batch_execute("SET client_min_messages = warning").unwrap();
        c
    }

    fn until<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = f() {
                return v;
            }
            assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn run_status(c: &mut Client, run_id: i64) -> (String, i32, i32) {
        let r = c.query_one("SELECT status, tests_done, tests_total FROM perf_progress WHERE run_id = $1", &[&run_id]).unwrap();
        (r.get(0), r.get(1), r.get(2))
    }

    #[test]
    fn background_run_is_visible_while_it_runs_and_5_4_detects_blocking() {
        let mut a = connect("bg_full");
        // A copy of 5.4 where both sessions update the same ten customers: must report blocking.
        a.batch_execute(
            "DELETE FROM perf_tests WHERE test_id = '5.4-same';
             INSERT INTO perf_tests (test_id, scenario, name, kind, target_ms, sql, concurrent_sql)
             SELECT '5.4-same', 5, 'same company (must block)', 'concurrency', 500, concurrent_sql, concurrent_sql
               FROM perf_tests WHERE test_id = '5.4'",
        )
        .unwrap();
        let row = a
            .query_one("SELECT run_id, status FROM perf_run_all(target_schema => 'bg_full', iterations => 1, wait => false)", &[])
            .unwrap();
        let (run_id, status): (Option<i64>, Option<String>) = (row.get(0), row.get(1));
        let run_id = run_id.unwrap();
        assert_eq!(status.as_deref(), Some("running"));

        // Another session watches the run progress, then finish.
        let mut b = second();
        let mut seen_partial = false;
        let (status, done, total) = until("the background run to finish", Duration::from_secs(240), || {
            let (s, d, t) = run_status(&mut b, run_id);
            if s == "running" && d > 0 && d < t {
                seen_partial = true;
            }
            (s != "running").then_some((s, d, t))
        });
        assert_eq!(status, "completed");
        assert_eq!((done, total), (31, 31));
        assert!(seen_partial, "progress was never visible mid-run");
        let results: Vec<(String, String, String)> = b
            .query("SELECT test_id, status, notes FROM performance_test_results WHERE run_id = $1 ORDER BY result_id", &[&run_id])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        // Remove the extra registry row before asserting, so a failure here cannot leak
        // it into other tests' runs.
        a.batch_execute("DELETE FROM perf_tests WHERE test_id = '5.4-same'").unwrap();
        let get = |id: &str| results.iter().find(|r| r.0 == id).unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(get("5.4").1, "PASS", "{}", get("5.4").2);
        assert!(get("5.4").2.contains("held 10 updated rows"), "{}", get("5.4").2);
        assert_eq!(get("5.4-same").1, "FAIL", "{}", get("5.4-same").2);
        assert!(get("5.4-same").2.starts_with("blocked"), "{}", get("5.4-same").2);
        // The plan's load test ran with real clients and has a verdict and its figures
        // (SKIP, with the reason, on a server without pg_trgm).
        let (_, l1, l1_notes) = get("L.1");
        let trgm: bool = b.query_one("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')", &[]).unwrap().get(0);
        if trgm {
            assert!(["PASS", "WARN", "FAIL"].contains(&l1.as_str()), "{l1} {l1_notes}");
            assert!(l1_notes.starts_with("load test ") && l1_notes.contains(" x 100 transactions"), "{l1_notes}");
            let load_rows: i64 = b.query_one("SELECT count(*) FROM perf_load_runs WHERE run_id = $1", &[&run_id]).unwrap().get(0);
            assert_eq!(load_rows, 1);
        } else {
            assert_eq!((l1.as_str(), l1_notes.as_str()), ("SKIP", "SKIP: needs the pg_trgm extension, which this server does not have"));
        }
    }

    #[test]
    fn waiting_caller_gets_rows_and_a_second_run_is_refused() {
        let mut a = connect("bg_wait");
        let rows = a.query("SELECT test_id, status FROM perf_run('1.2', target_schema => 'bg_wait', iterations => 1)", &[]).unwrap();
        assert_eq!(rows.len(), 1);
        let status: String = rows[0].get(1);
        assert!(["PASS", "WARN", "FAIL"].contains(&status.as_str()), "{status}");

        // While one background run works, another is refused, naming it, and changes nothing.
        let started = a
            .query_one("SELECT run_id FROM perf_run('1.%', target_schema => 'bg_wait', iterations => 200, wait => false)", &[])
            .unwrap();
        let run_id: i64 = started.get::<_, Option<i64>>(0).unwrap();
        let mut b = second();
        let runs_before: i64 = b.query_one("SELECT count(*) FROM perf_runs", &[]).unwrap().get(0);
        let err = b.query("SELECT * FROM perf_run('1.2', target_schema => 'bg_wait')", &[]).unwrap_err();
        let db = err.as_db_error().expect("a database error");
        assert_eq!(db.code().code(), "55006");
        assert!(db.message().contains(&format!("run {run_id} is already in progress")), "{}", db.message());
        let runs_after: i64 = b.query_one("SELECT count(*) FROM perf_runs", &[]).unwrap().get(0);
        assert_eq!(runs_before, runs_after);
        until("the run to end", Duration::from_secs(120), || (run_status(&mut b, run_id).0 != "running").then_some(()));
    }

    /// A generation far too large to finish is stopped by statement_timeout within a
    /// batch or two, and its transaction leaves nothing behind (nor the replica setting
    /// the batched foreign-key checks use).
    #[test]
    fn generator_is_cancellable_and_leaves_nothing() {
        let mut a = connect("gen_cancel");
        a.batch_execute(
            "SELECT perf_install_schema('gen_cancel');
             INSERT INTO gen_cancel.companies (id, name) VALUES ('aaaaaaaa-0000-0000-0000-0000000000c1', 'C');
             INSERT INTO gen_cancel.users (id, email, company_id) VALUES ('bbbbbbbb-0000-0000-0000-0000000000c1', 'c@c', 'aaaaaaaa-0000-0000-0000-0000000000c1');
             SET statement_timeout = '700ms'",
        )
        .unwrap();
        let start = Instant::now();
        // Two million customers: minutes of work at any speed this suite runs at.
        let err = a
            .query(
                "SELECT generate_test_customers('aaaaaaaa-0000-0000-0000-0000000000c1', 2000000, 'bbbbbbbb-0000-0000-0000-0000000000c1', 1, 'gen_cancel')",
                &[],
            )
            .unwrap_err();
        let took = start.elapsed();
        assert_eq!(err.as_db_error().map(|e| e.code().code()), Some("57014"), "{err}");
        assert!(took < Duration::from_secs(30), "cancel took {took:?}");
        a.batch_execute("RESET statement_timeout").unwrap();
        let left: i64 = a
            .query_one(
                "SELECT (SELECT count(*) FROM gen_cancel.customers) + (SELECT count(*) FROM gen_cancel.\"VC Usage\")
                      + (SELECT count(*) FROM gen_cancel.customer_events) + (SELECT count(*) FROM gen_cancel.customer_matching_keys)",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(left, 0);
        let role: String = a.query_one("SHOW session_replication_role", &[]).unwrap().get(0);
        assert_eq!(role, "origin");
        a.batch_execute("DROP SCHEMA gen_cancel CASCADE").unwrap();
    }

    /// A login role that is not a superuser, after perf_grant_operator and with a schema
    /// of its own, runs scenario 1 in the background: its worker connects as that role.
    #[test]
    fn an_operator_role_runs_in_the_background() {
        let mut a = connect("opbg");
        a.batch_execute(
            "DROP ROLE IF EXISTS perf_op_bg; CREATE ROLE perf_op_bg LOGIN NOSUPERUSER;
             SELECT * FROM perf_grant_operator('perf_op_bg');
             ALTER SCHEMA opbg OWNER TO perf_op_bg;
             DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
                 CREATE EXTENSION IF NOT EXISTS pg_trgm; END IF; END $$",
        )
        .unwrap();
        let port: String = a.query_one("SHOW port", &[]).unwrap().get(0);
        let db: String = a.query_one("SELECT current_database()::text", &[]).unwrap().get(0);
        let mut op = postgres::Config::new()
            .host("localhost")
            .port(port.parse().unwrap())
            .user("perf_op_bg")
            .dbname(&db)
            .connect(postgres::NoTls)
            .expect("connect as perf_op_bg");
        op.batch_execute("SET client_min_messages = warning").unwrap();
        let rows: Vec<String> = op
            .query("SELECT test_id || ' ' || status FROM perf_run('1.%', target_schema => 'opbg', iterations => 2)", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(rows, ["1.1 PASS", "1.2 PASS", "1.3 PASS"]);
        let (by, backend): (String, String) = {
            let r = a
                .query_one(
                    "SELECT run_by::text, coalesce(origin, '') FROM perf_runs WHERE target_schema = 'opbg' ORDER BY run_id DESC LIMIT 1",
                    &[],
                )
                .unwrap();
            (r.get(0), r.get(1))
        };
        assert_eq!(by, "perf_op_bg", "origin {backend}");
        drop(op);
        a.batch_execute(
            "DROP SCHEMA opbg CASCADE; SELECT * FROM perf_revoke_operator('perf_op_bg');
             DROP OWNED BY perf_op_bg; DROP ROLE perf_op_bg",
        )
        .unwrap();
    }

    #[test]
    fn cancelling_the_caller_cancels_the_run() {
        let mut a = connect("bg_cancel");
        a.batch_execute("SET statement_timeout = '1500ms'").unwrap();
        let err = a.query("SELECT * FROM perf_run_all(target_schema => 'bg_cancel', iterations => 500)", &[]).unwrap_err();
        assert_eq!(err.as_db_error().map(|e| e.code().code()), Some("57014"), "{err}");
        a.batch_execute("RESET statement_timeout").unwrap();
        let mut b = second();
        let run_id: i64 = b
            .query_one("SELECT max(run_id) FROM perf_runs WHERE target_schema = 'bg_cancel'", &[])
            .unwrap()
            .get(0);
        let status = until("the worker to record the cancellation", Duration::from_secs(60), || {
            let s = run_status(&mut b, run_id).0;
            (s != "running").then_some(s)
        });
        assert_eq!(status, "cancelled");
        let notes: String = b.query_one("SELECT notes FROM perf_runs WHERE run_id = $1", &[&run_id]).unwrap().get(0);
        assert!(notes.contains("57014"), "{notes}");
    }

    #[test]
    fn a_killed_worker_leaves_an_aborted_run_with_its_results() {
        let mut a = connect("bg_kill");
        let row = a
            .query_one("SELECT run_id FROM perf_run('1.%', target_schema => 'bg_kill', iterations => 5000, wait => false)", &[])
            .unwrap();
        let run_id: i64 = row.get::<_, Option<i64>>(0).unwrap();
        let mut b = second();
        // Let it record at least one result, then kill its process.
        until("a first result", Duration::from_secs(120), || (run_status(&mut b, run_id).1 > 0).then_some(()));
        let pid: i32 = b.query_one("SELECT backend_pid FROM perf_runs WHERE run_id = $1", &[&run_id]).unwrap().get(0);
        b.batch_execute(&format!("SELECT pg_terminate_backend({pid})")).unwrap();
        let status = until("the run to show aborted", Duration::from_secs(30), || {
            let s = run_status(&mut b, run_id).0;
            (s == "aborted").then_some(s)
        });
        assert_eq!(status, "aborted");
        // The next run marks it so in the table for good; recorded results stay.
        a.query("SELECT * FROM perf_run('1.2', target_schema => 'bg_kill', iterations => 1)", &[]).unwrap();
        let (s, kept): (String, i64) = {
            let r = b
                .query_one(
                    "SELECT status, (SELECT count(*) FROM performance_test_results WHERE run_id = $1) FROM perf_runs WHERE run_id = $1",
                    &[&run_id],
                )
                .unwrap();
            (r.get(0), r.get(1))
        };
        assert_eq!(s, "aborted");
        assert!(kept >= 1);
    }

    #[test]
    fn the_per_test_time_limit_stops_a_runaway_test_and_the_run_goes_on() {
        let mut a = connect("bg_limit");
        a.batch_execute(
            "DELETE FROM perf_tests WHERE test_id LIKE 'x.limit%';
             INSERT INTO perf_tests (test_id, scenario, name, kind, sql, target_ms, iterations, warmup)
             VALUES ('x.limit1', 9, 'runaway', 'timed_query', 'SELECT pg_sleep(5)', 10, 1, 0),
                    ('x.limit2', 9, 'after it', 'timed_query', 'SELECT 1', 10, 1, 0);
             SET pg_perfsuite.test_time_limit = '300ms'",
        )
        .unwrap();
        let rows = a.query("SELECT test_id, status, notes FROM perf_run('x.limit%', target_schema => 'bg_limit')", &[]).unwrap();
        let got: Vec<(String, String, String)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
        a.batch_execute("DELETE FROM perf_tests WHERE test_id LIKE 'x.limit%'; RESET pg_perfsuite.test_time_limit").unwrap();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].1, "ERROR", "{got:?}");
        assert!(got[0].2.contains("57014") && got[0].2.contains("statement timeout"), "{got:?}");
        assert_eq!(got[1].1, "PASS", "the run goes on after the limit fired: {got:?}");
    }

    /// The plan's data, committed, in `schema` (a one-test background run builds it).
    fn committed_environment(c: &mut Client, schema: &str) {
        c.query(&format!("SELECT * FROM perf_run('1.2', target_schema => '{schema}', iterations => 1)"), &[]).unwrap();
    }

    #[test]
    fn load_test_runs_clients_and_records_percentiles() {
        let mut a = connect("bg_load");
        committed_environment(&mut a, "bg_load");
        let script = if a.query_one("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')", &[]).unwrap().get(0) {
            "plan"
        } else {
            "plan-list"
        };
        let r = a
            .query_one(
                "SELECT load_id, transactions, failed, lat_p50_ms, lat_p95_ms, lat_max_ms, tps FROM perf_load_test(clients => 3, transactions => 20, script => $1, target_schema => 'bg_load')",
                &[&script],
            )
            .unwrap();
        let (load_id, n, failed): (i64, i64, i64) = (r.get(0), r.get(1), r.get(2));
        let (p50, p95, max, tps): (Option<f64>, Option<f64>, Option<f64>, Option<f64>) = (r.get(3), r.get(4), r.get(5), r.get(6));
        let clients: Vec<String> = a
            .query("SELECT format('%s %s %s %s', client, status, done, error) FROM perf_load_clients WHERE load_id = $1", &[&load_id])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!((n, failed), (60, 0), "{clients:?}");
        let (p50, p95, max, tps) = (p50.unwrap(), p95.unwrap(), max.unwrap(), tps.unwrap());
        assert!(0.0 < p50 && p50 <= p95 && p95 <= max && tps > 0.0, "{p50} {p95} {max} {tps}");
        let per_statement: Vec<i64> = a
            .query("SELECT calls::bigint FROM perf_load_statement_stats WHERE load_id = $1 ORDER BY statement_no", &[&load_id])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(per_statement, if script == "plan" { vec![60, 60] } else { vec![60] });
        let intervals: i64 = a.query_one("SELECT sum(transactions)::bigint FROM perf_load_intervals WHERE load_id = $1", &[&load_id]).unwrap().get(0);
        assert_eq!(intervals, 60);
        let snaps: i64 = a.query_one("SELECT count(*) FROM perf_snapshots WHERE load_id = $1", &[&load_id]).unwrap().get(0);
        assert!(snaps >= 1);
        // This session is a client connection, so every sample counts at least one; the
        // I/O rates are there when /proc/vmstat is readable (it is on Linux).
        let (min_conn, disk): (i32, Option<f64>) = {
            let r = a
                .query_one("SELECT min(connections), max(disk_write_kbs) FROM perf_snapshots WHERE load_id = $1", &[&load_id])
                .unwrap();
            (r.get(0), r.get(1))
        };
        assert!(min_conn >= 1, "{min_conn}");
        if std::path::Path::new("/proc/vmstat").exists() {
            assert!(disk.is_some_and(|d| d >= 0.0), "{disk:?}");
        }

        // A failing statement is counted and recorded, and does not hang the others.
        a.batch_execute(
            "INSERT INTO perf_load_scripts (name, script, variables) VALUES ('flaky', 'SELECT 1 / :d::int;', '{\"d\": [\"0\", \"1\"]}')
             ON CONFLICT (name) DO NOTHING",
        )
        .unwrap();
        let r = a.query_one("SELECT load_id, transactions, failed FROM perf_load_test(clients => 2, transactions => 40, script => 'flaky', target_schema => 'bg_load')", &[]).unwrap();
        let (flaky_id, n, failed): (i64, i64, i64) = (r.get(0), r.get(1), r.get(2));
        assert_eq!(n, 80);
        assert!(failed > 0 && failed < 80, "{failed}");
        let notes: String = a.query_one("SELECT notes FROM perf_load_runs WHERE load_id = $1", &[&flaky_id]).unwrap().get(0);
        assert!(notes.contains("division by zero"), "{notes}");

        // Duration-bound: runs about that long.
        let r = a.query_one("SELECT transactions, failed FROM perf_load_test(clients => 2, duration => '2 seconds', script => 'flaky', target_schema => 'bg_load')", &[]).unwrap();
        assert!(r.get::<_, i64>(0) > 2);

        // Target rate (pgbench -R): 2 clients, 20 tps in all, for 2 s: about 40
        // transactions, never more than the schedule allows (21 starts per client).
        let paced: i64 = a
            .query_one("SELECT transactions FROM perf_load_test(clients => 2, duration => '2 seconds', rate => 20, script => 'plan-list', target_schema => 'bg_load')", &[])
            .unwrap()
            .get(0);
        assert!((20..=42).contains(&paced), "{paced} transactions at 20 tps for 2 s");
        let err = a.query("SELECT * FROM perf_load_test(clients => 2, rate => -1, target_schema => 'bg_load')", &[]).unwrap_err();
        assert!(err.as_db_error().unwrap().message().starts_with("rate must be between 0 and 1000000"), "{err}");

        // More clients than worker slots: refused before anything starts.
        let err = a.query("SELECT * FROM perf_load_test(clients => 500, target_schema => 'bg_load')", &[]).unwrap_err();
        let db = err.as_db_error().unwrap();
        assert_eq!(db.code().code(), "53400");
        assert!(db.message().contains("free background-worker slots"), "{}", db.message());
        a.batch_execute("DELETE FROM perf_load_scripts WHERE name = 'flaky'").unwrap();
    }

    #[test]
    fn cancelling_a_load_test_stops_every_client() {
        let mut a = connect("bg_load_cancel");
        committed_environment(&mut a, "bg_load_cancel");
        a.batch_execute("SET statement_timeout = '2s'").unwrap();
        let err = a
            .query("SELECT * FROM perf_load_test(clients => 3, duration => '60 seconds', script => 'plan-list', target_schema => 'bg_load_cancel')", &[])
            .unwrap_err();
        assert_eq!(err.as_db_error().map(|e| e.code().code()), Some("57014"), "{err}");
        a.batch_execute("RESET statement_timeout").unwrap();
        let mut b = second();
        until("every client to stop", Duration::from_secs(20), || {
            let alive: i64 = b
                .query_one(
                    "SELECT count(*) FROM perf_load_clients c JOIN pg_stat_activity a ON a.pid = c.pid \
                      WHERE c.load_id = (SELECT max(load_id) FROM perf_load_clients)",
                    &[],
                )
                .unwrap()
                .get(0);
            (alive == 0).then_some(())
        });
    }

    #[test]
    fn no_free_worker_slot_is_a_clear_error_not_a_hang() {
        let mut a = connect("bg_slots");
        committed_environment(&mut a, "bg_slots");
        let free: i64 = a.query_one("SELECT perf_free_worker_slots()", &[]).unwrap().get(0);
        // Another session fills every free slot with load clients for a while.
        let (mut b, _) = pgrx_tests::client().expect("client");
        let b_pid: i32 = b.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
        let filler = std::thread::spawn(move || {
            b.query(
                &format!("SELECT * FROM perf_load_test(clients => {free}, duration => '60 seconds', script => 'plan-list', target_schema => 'bg_slots')"),
                &[],
            )
        });
        until("the slots to fill", Duration::from_secs(30), || {
            let n: i64 = a.query_one("SELECT perf_free_worker_slots()", &[]).unwrap().get(0);
            (n <= 0).then_some(())
        });
        let err = a.query("SELECT * FROM perf_run('1.2', target_schema => 'bg_slots')", &[]).unwrap_err();
        a.batch_execute(&format!("SELECT pg_cancel_backend({b_pid})")).unwrap();
        let _ = filler.join();
        let db = err.as_db_error().expect("a database error");
        assert_eq!(db.code().code(), "53400", "{}", db.message());
        assert!(db.message().contains("max_worker_processes"), "{}", db.message());
        assert!(db.hint().unwrap_or("").contains("background => false"), "{:?}", db.hint());
    }

    #[cfg(feature = "pg15")]
    #[test]
    fn pg_cron_runs_the_scheduled_plan() {
        let mut a = connect("bg_cron");
        a.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_cron").unwrap();
        let job: i64 = a
            .query_one("SELECT perf_schedule('* * * * *', 'perf_test_job', '1.2', 'bg_cron', 1)", &[])
            .unwrap()
            .get(0);
        let again: i64 = a
            .query_one("SELECT perf_schedule('* * * * *', 'perf_test_job', '1.2', 'bg_cron', 1)", &[])
            .unwrap()
            .get(0);
        assert_eq!(job, again, "scheduling the same name again updates the job");
        let (status, origin) = until("pg_cron to start a run (minute granularity)", Duration::from_secs(150), || {
            a.query_opt(
                "SELECT status, coalesce(origin, '') FROM perf_runs WHERE target_schema = 'bg_cron' AND status <> 'running' ORDER BY run_id DESC LIMIT 1",
                &[],
            )
            .unwrap()
            .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
        });
        assert_eq!(status, "completed");
        assert!(origin.contains("pg_cron"), "run origin {origin:?}");
        assert!(a.query_one("SELECT perf_unschedule('perf_test_job')", &[]).unwrap().get::<_, bool>(0));
        assert!(!a.query_one("SELECT perf_unschedule('perf_test_job')", &[]).unwrap().get::<_, bool>(0));
    }

    /// A LOGIN role for client tests, with perf_grant_operator and its own schema.
    fn login_operator(a: &mut Client, role: &str, schema: &str) -> Client {
        a.batch_execute(&format!(
            "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN NOSUPERUSER;
             SELECT * FROM perf_grant_operator('{role}');
             ALTER SCHEMA {schema} OWNER TO {role};
             DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
                 CREATE EXTENSION IF NOT EXISTS pg_trgm; END IF; END $$"
        ))
        .unwrap();
        login_as(a, role)
    }

    fn login_as(a: &mut Client, role: &str) -> Client {
        let port: String = a.query_one("SHOW port", &[]).unwrap().get(0);
        let db: String = a.query_one("SELECT current_database()::text", &[]).unwrap().get(0);
        let mut c = postgres::Config::new()
            .host("localhost")
            .port(port.parse().unwrap())
            .user(role)
            .dbname(&db)
            .connect(postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect as {role}: {e}"));
        c.batch_execute("SET client_min_messages = warning").unwrap();
        c
    }

    fn drop_role(a: &mut Client, role: &str) {
        a.batch_execute(&format!(
            "SELECT * FROM perf_revoke_operator('{role}');
             DELETE FROM perf_tests WHERE author = '{role}'; DELETE FROM perf_load_scripts WHERE author = '{role}';
             DROP OWNED BY {role}; DROP ROLE {role}"
        ))
        .unwrap();
    }

    fn flags(a: &mut Client, role: &str) -> String {
        a.query_one(
            "SELECT rolsuper || '/' || rolcreaterole || '/' || rolcreatedb || '/' || rolbypassrls FROM pg_roles WHERE rolname = $1::text",
            &[&role],
        )
        .unwrap()
        .get(0)
    }

    fn sqlstate(e: &postgres::Error) -> String {
        e.as_db_error().map(|d| d.code().code().to_string()).unwrap_or_else(|| format!("no SQLSTATE: {e}"))
    }

    /// An operator's load script and an operator's test, run in the background by a
    /// superuser, run with the operator's rights: the ALTER ROLEs in them fail, and a
    /// superuser-session's own (built-in) tests still run. Another operator, who may not
    /// become the author, is refused with 42501 and a HINT.
    #[test]
    fn operator_sql_never_runs_with_a_superusers_rights() {
        let mut a = connect("sec_bg");
        a.batch_execute("DELETE FROM perf_tests WHERE test_id = 'sec.bg'; DELETE FROM perf_load_scripts WHERE name = 'sec-climb';
                         DROP SCHEMA IF EXISTS sec_bg_o CASCADE; CREATE SCHEMA sec_bg_o")
            .unwrap();
        let mut op = login_operator(&mut a, "sec_bg_op", "sec_bg_o");
        op.batch_execute(
            "INSERT INTO perf_load_scripts (name, script) VALUES ('sec-climb', 'ALTER ROLE sec_bg_op CREATEROLE;');
             INSERT INTO perf_tests (test_id, scenario, name, kind, sql, commit_last, iterations, warmup, target_ms)
             VALUES ('sec.bg', 9, 'climb', 'dml', 'ALTER ROLE sec_bg_op SUPERUSER BYPASSRLS', true, 1, 0, 100)",
        )
        .unwrap();
        drop(op);
        let r = a.query_one("SELECT status, notes FROM perf_run('sec.bg', target_schema => 'sec_bg')", &[]).unwrap();
        let (status, notes): (String, String) = (r.get(0), r.get(1));
        assert_eq!(status, "ERROR", "{notes}");
        assert!(notes.contains("42501"), "{notes}");
        let load = a.query_one(
            "SELECT failed, transactions FROM perf_load_test(clients => 1, transactions => 1, script => 'sec-climb', target_schema => 'sec_bg')",
            &[],
        );
        match load {
            Ok(r) => assert_eq!((r.get::<_, i64>(0), r.get::<_, i64>(1)), (1, 1), "the script's one transaction failed"),
            Err(e) => panic!("load test: {e}"),
        }
        assert_eq!(flags(&mut a, "sec_bg_op"), "false/false/false/false");

        // Another operator may neither act as the author nor become it.
        a.batch_execute("DROP SCHEMA IF EXISTS sec_bg2 CASCADE; CREATE SCHEMA sec_bg2").unwrap();
        let mut other = login_operator(&mut a, "sec_bg_other", "sec_bg2");
        let r = other.query_one("SELECT status, notes FROM perf_run('sec.bg', target_schema => 'sec_bg2')", &[]).unwrap();
        let (status, notes): (String, String) = (r.get(0), r.get(1));
        assert_eq!(status, "ERROR", "{notes}");
        assert!(notes.contains("42501") && notes.contains("was written by role \"sec_bg_op\"") && notes.contains("HINT"), "{notes}");
        let e = other
            .query("SELECT * FROM perf_load_test(clients => 1, transactions => 1, script => 'sec-climb', target_schema => 'sec_bg2')", &[])
            .unwrap_err();
        assert_eq!(sqlstate(&e), "42501", "{e}");
        // The operator runs the plan's own tests, the tenant ones included (it may SET
        // ROLE to the tenant role from its own login).
        let rows: Vec<String> = other
            .query("SELECT test_id || ' ' || status FROM perf_run('5.1', target_schema => 'sec_bg2', iterations => 1)", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(rows, ["5.1 PASS"]);
        drop(other);
        a.batch_execute("DROP SCHEMA sec_bg2 CASCADE").unwrap();
        drop_role(&mut a, "sec_bg_other");
        a.batch_execute("DROP SCHEMA sec_bg CASCADE; DROP SCHEMA sec_bg_o CASCADE").unwrap();
        drop_role(&mut a, "sec_bg_op");
    }

    /// Waits wake on the latch: a load client in a long ramp-up ends within a second of
    /// pg_terminate_backend, the caller's cancel stops the clients at once, and a
    /// DROP DATABASE elsewhere in the cluster does not wait for a sleeping client.
    /// Rates and ramp-ups that cannot fit the test are refused.
    #[test]
    fn load_clients_wake_for_terminate_cancel_and_drop_database() {
        let mut a = connect("sec_wait");
        a.batch_execute("SELECT perf_install_schema('sec_wait')").unwrap();
        for bad in [
            "rate => 1e-9, duration => '10 seconds'",
            "ramp_up => '10 years', duration => '10 seconds'",
            "ramp_up => '20 seconds', duration => '10 seconds'",
            "rate => 'NaN'",
            "latency_limit_ms => 'NaN'",
            "transactions => 1000000, rate => 0.001",
        ] {
            let e = a
                .query(&format!("SELECT * FROM perf_load_test(clients => 2, script => 'plan-list', target_schema => 'sec_wait', {bad})"), &[])
                .unwrap_err();
            assert_eq!(sqlstate(&e), "22023", "{bad}: {e}");
        }
        let (mut c, _) = pgrx_tests::client().expect("client");
        let c_pid: i32 = c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
        let caller = std::thread::spawn(move || {
            c.query(
                "SELECT * FROM perf_load_test(clients => 3, duration => '120 seconds', ramp_up => '110 seconds', script => 'plan-list', target_schema => 'sec_wait')",
                &[],
            )
            .map(|_| ())
        });
        let mut b = second();
        let clients = |b: &mut Client| -> Vec<i32> {
            b.query("SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_perfsuite' AND query NOT LIKE '%perf_run%'", &[])
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect()
        };
        let pids = until("three clients in their ramp-up", Duration::from_secs(30), || {
            let p = clients(&mut b);
            (p.len() == 3).then_some(p)
        });
        // The last client sleeps ~73 s before its first transaction; terminate it.
        let victim = *pids.iter().max().unwrap();
        let t0 = Instant::now();
        b.batch_execute(&format!("SELECT pg_terminate_backend({victim})")).unwrap();
        until("the terminated client to exit", Duration::from_secs(5), || (!clients(&mut b).contains(&victim)).then_some(()));
        assert!(t0.elapsed() < Duration::from_millis(1500), "terminate took {:?}", t0.elapsed());
        // DROP DATABASE needs every backend to absorb a barrier: sleeping clients must.
        let t0 = Instant::now();
        for sql in ["DROP DATABASE IF EXISTS sec_wait_other", "CREATE DATABASE sec_wait_other", "DROP DATABASE sec_wait_other"] {
            b.batch_execute(sql).unwrap();
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "DROP DATABASE waited {:?}", t0.elapsed());
        // Cancelling the caller stops the remaining clients at once.
        let t0 = Instant::now();
        b.batch_execute(&format!("SELECT pg_cancel_backend({c_pid})")).unwrap();
        let outcome = caller.join().unwrap();
        assert_eq!(outcome.map_err(|e| sqlstate(&e)), Err("57014".to_string()));
        until("every client to stop", Duration::from_secs(5), || clients(&mut b).is_empty().then_some(()));
        assert!(t0.elapsed() < Duration::from_secs(3), "cancel took {:?}", t0.elapsed());
        // The stopped clients' rows do not stay 'running': the next load test reaps
        // them, as the next run reaps a run whose process died.
        let stopped: i64 = b.query_one("SELECT max(load_id) FROM perf_load_clients", &[]).unwrap().get(0);
        b.query("SELECT * FROM perf_load_test(clients => 1, transactions => 1, script => 'plan-list', target_schema => 'sec_wait')", &[])
            .unwrap();
        let statuses: Vec<String> = b
            .query("SELECT status FROM perf_load_clients WHERE load_id = $1 ORDER BY client", &[&stopped])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(statuses, ["aborted", "aborted", "aborted"]);
    }

    /// Holding the advisory keys 0.1.0 used (any role with CONNECT can) blocks nothing:
    /// runs and 5.4's handshake use locks no SQL can take. A second run started at the
    /// same moment as another is refused with 55006, from the caller or from its worker.
    #[test]
    fn advisory_locks_of_another_role_block_nothing() {
        let mut a = connect("sec_lock");
        a.batch_execute("DROP ROLE IF EXISTS sec_lurker; CREATE ROLE sec_lurker LOGIN").unwrap();
        let mut lurker = login_as(&mut a, "sec_lurker");
        lurker.batch_execute("SELECT pg_advisory_lock(1885696614, 1), pg_advisory_lock(1885696614, 2)").unwrap();
        a.batch_execute("SET pg_perfsuite.test_time_limit = '20s'").unwrap();
        let rows: Vec<(String, String)> = a
            .query("SELECT test_id, status FROM perf_run('5.4', target_schema => 'sec_lock', iterations => 1)", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(rows, [("5.4".to_string(), "PASS".to_string())]);
        // Two runs at once: the second is refused with 55006 wherever the check fires.
        let first = a
            .query_one("SELECT run_id FROM perf_run('1.%', target_schema => 'sec_lock', iterations => 200, wait => false)", &[])
            .unwrap()
            .get::<_, Option<i64>>(0)
            .unwrap();
        let mut b = second();
        let e = b.query("SELECT * FROM perf_run('1.2', target_schema => 'sec_lock', iterations => 1)", &[]).unwrap_err();
        assert_eq!(sqlstate(&e), "55006", "{e}");
        b.batch_execute(&format!("SELECT pg_cancel_backend(backend_pid) FROM perf_runs WHERE run_id = {first}")).unwrap();
        until("the first run to stop", Duration::from_secs(30), || {
            (run_status(&mut b, first).0 != "running").then_some(())
        });
        drop(lurker);
        a.batch_execute("RESET pg_perfsuite.test_time_limit; DROP SCHEMA sec_lock CASCADE; DROP ROLE sec_lurker").unwrap();
    }

    /// A 5.4-style test whose second session never reaches its hold is ended by the
    /// per-test time limit as ERROR 57014 and the run goes on.
    #[test]
    fn a_stuck_second_session_ends_its_test_not_the_run() {
        let mut a = connect("sec_stuck");
        a.batch_execute(
            "DELETE FROM perf_tests WHERE test_id LIKE 'x.stuck%';
             INSERT INTO perf_tests (test_id, scenario, name, kind, target_ms, sql, concurrent_sql)
             VALUES ('x.stuck1', 9, 'second session stuck', 'concurrency', 100, 'SELECT 1', 'SELECT pg_sleep(30)');
             INSERT INTO perf_tests (test_id, scenario, name, kind, sql, target_ms, iterations, warmup)
             VALUES ('x.stuck2', 9, 'after it', 'timed_query', 'SELECT 1', 10, 1, 0);
             SET pg_perfsuite.test_time_limit = '1s'",
        )
        .unwrap();
        let t0 = Instant::now();
        let got: Vec<(String, String, String)> = a
            .query("SELECT test_id, status, notes FROM perf_run('x.stuck%', target_schema => 'sec_stuck')", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        a.batch_execute("DELETE FROM perf_tests WHERE test_id LIKE 'x.stuck%'; RESET pg_perfsuite.test_time_limit").unwrap();
        assert!(t0.elapsed() < Duration::from_secs(25), "{:?}", t0.elapsed());
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!((got[0].1.as_str(), got[1].1.as_str()), ("ERROR", "PASS"), "{got:?}");
        assert!(got[0].2.contains("57014"), "{got:?}");
    }

    /// A look-alike of pg_backend_pid() planted in the extension's schema by a role
    /// with CREATE there is not called by a background run.
    #[test]
    fn a_background_run_calls_no_shadowed_builtin() {
        let mut a = connect("sec_shadow_bg");
        let own: String = a.query_one("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_perfsuite'", &[]).unwrap().get(0);
        a.batch_execute(&format!(
            "DROP ROLE IF EXISTS sec_planter; CREATE ROLE sec_planter NOLOGIN;
             GRANT CREATE ON SCHEMA {own} TO sec_planter;
             CREATE FUNCTION {own}.pg_backend_pid() RETURNS integer LANGUAGE plpgsql AS $f$
               BEGIN ALTER ROLE sec_planter CREATEDB; RETURN 0; END $f$;
             ALTER FUNCTION {own}.pg_backend_pid() OWNER TO sec_planter;"
        ))
        .unwrap();
        // The planted function sits beside pg_trgm's, on the tests' search_path: a
        // superuser who reviewed the schemas opts in, so the run goes ahead.
        a.batch_execute("SET pg_perfsuite.trust_schema_owners = on").unwrap();
        let r = a.query("SELECT * FROM perf_run('1.2', target_schema => 'sec_shadow_bg', iterations => 1)", &[]);
        a.batch_execute("RESET pg_perfsuite.trust_schema_owners").unwrap();
        let flags = flags(&mut a, "sec_planter");
        a.batch_execute(&format!(
            "DROP FUNCTION {own}.pg_backend_pid(); REVOKE CREATE ON SCHEMA {own} FROM sec_planter; DROP ROLE sec_planter"
        ))
        .unwrap();
        r.unwrap();
        assert_eq!(flags, "false/false/false/false");
    }

    /// A worker that fails at start-up reports its own SQLSTATE and message to the
    /// caller: here the target schema exists only in the caller's open transaction,
    /// so the caller's checks pass and the worker's fail with 3F000.
    #[test]
    fn a_worker_failing_at_start_reports_its_own_error() {
        let mut a = connect("sec_start");
        let mut t = a.transaction().unwrap();
        t.batch_execute("CREATE SCHEMA sec_start_uncommitted").unwrap();
        let e = t.query("SELECT * FROM perf_run('1.2', target_schema => 'sec_start_uncommitted', iterations => 1)", &[]).unwrap_err();
        assert_eq!(sqlstate(&e), "3F000", "{e}");
        let message = e.as_db_error().map(|d| d.message().to_string()).unwrap_or_default();
        assert!(message.contains("target_schema \"sec_start_uncommitted\" does not exist"), "{message}");
        t.rollback().unwrap();
        a.batch_execute("DROP SCHEMA sec_start CASCADE").unwrap();
    }
}
