//! The security review's attacks that need committed data or roles that log in: each
//! run as roles the test creates, each failing if the attack works.

use pg_perfsuite_client_tests::*;
use postgres::Client;
use std::time::{Duration, Instant};

/// An operator's load script and an operator's test, run in the background by a
/// superuser, run with the operator's rights: the ALTER ROLEs in them fail, and a
/// superuser-session's own (built-in) tests still run. Another operator, who may not
/// become the author, is refused with 42501 and a HINT.
#[test]
fn operator_sql_never_runs_with_a_superusers_rights() {
    let mut a = connect("sec_bg");
    a.batch_execute(
        "DELETE FROM perf_tests WHERE test_id = 'sec.bg'; DELETE FROM perf_load_scripts WHERE name = 'sec-climb';
                     DROP SCHEMA IF EXISTS sec_bg_o CASCADE; CREATE SCHEMA sec_bg_o",
    )
    .unwrap();
    let mut op = login_operator(&mut a, "sec_bg_op", "sec_bg_o");
    op.batch_execute(
        "INSERT INTO perf_load_scripts (name, script) VALUES ('sec-climb', 'ALTER ROLE sec_bg_op CREATEROLE;');
         INSERT INTO perf_tests (test_id, scenario, name, kind, sql, commit_last, iterations, warmup, target_ms)
         VALUES ('sec.bg', 9, 'climb', 'dml', 'ALTER ROLE sec_bg_op SUPERUSER BYPASSRLS', true, 1, 0, 100)",
    )
    .unwrap();
    drop(op);
    let r = a
        .query_one(
            "SELECT status, notes FROM perf_run('sec.bg', target_schema => 'sec_bg') WHERE test_id NOT LIKE 'M.%'",
            &[],
        )
        .unwrap();
    let (status, notes): (String, String) = (r.get(0), r.get(1));
    assert_eq!(status, "ERROR", "{notes}");
    assert!(notes.contains("42501"), "{notes}");
    let load = a.query_one(
        "SELECT failed, transactions FROM perf_load_test(clients => 1, transactions => 1, script => 'sec-climb', target_schema => 'sec_bg')",
        &[],
    );
    match load {
        Ok(r) => {
            assert_eq!((r.get::<_, i64>(0), r.get::<_, i64>(1)), (1, 1), "the script's one transaction failed")
        }
        Err(e) => panic!("load test: {e}"),
    }
    assert_eq!(flags(&mut a, "sec_bg_op"), "false/false/false/false");

    // Another operator may neither act as the author nor become it.
    a.batch_execute("DROP SCHEMA IF EXISTS sec_bg2 CASCADE; CREATE SCHEMA sec_bg2").unwrap();
    let mut other = login_operator(&mut a, "sec_bg_other", "sec_bg2");
    let r = other
        .query_one(
            "SELECT status, notes FROM perf_run('sec.bg', target_schema => 'sec_bg2') WHERE test_id NOT LIKE 'M.%'",
            &[],
        )
        .unwrap();
    let (status, notes): (String, String) = (r.get(0), r.get(1));
    assert_eq!(status, "ERROR", "{notes}");
    assert!(
        notes.contains("42501") && notes.contains("was written by role \"sec_bg_op\"") && notes.contains("HINT"),
        "{notes}"
    );
    let e = other
        .query("SELECT * FROM perf_load_test(clients => 1, transactions => 1, script => 'sec-climb', target_schema => 'sec_bg2')", &[])
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42501", "{e}");
    // The operator runs the plan's own tests, the tenant ones included (it may SET
    // ROLE to the tenant role from its own login).
    let rows: Vec<String> = other
        .query("SELECT test_id || ' ' || status FROM perf_run('5.1', target_schema => 'sec_bg2', iterations => 1) WHERE test_id NOT LIKE 'M.%'", &[])
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
    let mut c = second();
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
        b.query(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_perfsuite' AND query NOT LIKE '%perf_run%'",
            &[],
        )
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
    until("the terminated client to exit", Duration::from_secs(5), || {
        (!clients(&mut b).contains(&victim)).then_some(())
    });
    assert!(t0.elapsed() < Duration::from_millis(1500), "terminate took {:?}", t0.elapsed());
    // DROP DATABASE needs every backend to absorb a barrier: sleeping clients must.
    let t0 = Instant::now();
    for sql in
        ["DROP DATABASE IF EXISTS sec_wait_other", "CREATE DATABASE sec_wait_other", "DROP DATABASE sec_wait_other"]
    {
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
    let mut lurker = connect_as("sec_lurker");
    lurker.batch_execute("SELECT pg_advisory_lock(1885696614, 1), pg_advisory_lock(1885696614, 2)").unwrap();
    a.batch_execute("SET pg_perfsuite.test_time_limit = '20s'").unwrap();
    let rows: Vec<(String, String)> = a
        .query("SELECT test_id, status FROM perf_run('5.4', target_schema => 'sec_lock', iterations => 1) WHERE test_id NOT LIKE 'M.%'", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rows, [("5.4".to_string(), "PASS".to_string())]);
    // Two runs at once: the second is refused with 55006 wherever the check fires.
    let first = a
        .query_one(
            "SELECT run_id FROM perf_run('1.%', target_schema => 'sec_lock', iterations => 200, wait => false)",
            &[],
        )
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
        .query("SELECT test_id, status, notes FROM perf_run('x.stuck%', target_schema => 'sec_stuck') WHERE test_id NOT LIKE 'M.%'", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    a.batch_execute("DELETE FROM perf_tests WHERE test_id LIKE 'x.stuck%'; RESET pg_perfsuite.test_time_limit")
        .unwrap();
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
    let own: String = a
        .query_one("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_perfsuite'", &[])
        .unwrap()
        .get(0);
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

/// perf_compare over a history an operator inflated (two million samples per result)
/// ends within a second of a cancel: it reads a bounded sample and checks for
/// interrupts while it judges.
#[test]
fn perf_compare_over_a_huge_history_is_cancellable() {
    let mut a = connect("sec_cmp");
    a.batch_execute(
        "DELETE FROM perf_tests WHERE test_id = 'sec.cmp';
         INSERT INTO perf_tests (test_id, scenario, name, kind, sql, target_ms, iterations, warmup)
         VALUES ('sec.cmp', 9, 'cmp', 'timed_query', 'SELECT 1', 100, 5, 0)",
    )
    .unwrap();
    for _ in 0..2 {
        a.query("SELECT * FROM perf_run('sec.cmp', target_schema => 'sec_cmp', iterations => 5)", &[]).unwrap();
    }
    a.batch_execute(
        "UPDATE performance_test_results SET samples_ms = ARRAY(SELECT random() FROM generate_series(1, 2000000))
          WHERE test_id = 'sec.cmp'",
    )
    .unwrap();
    let mut c = second();
    let pid: i32 = c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
    let t0 = Instant::now();
    let caller = std::thread::spawn(move || {
        let r = c.query("SELECT * FROM perf_compare()", &[]);
        (r.map(|_| ()), Instant::now())
    });
    std::thread::sleep(Duration::from_millis(300));
    let mut b = second();
    let asked = Instant::now();
    b.batch_execute(&format!("SELECT pg_cancel_backend({pid})")).unwrap();
    let (outcome, ended) = caller.join().unwrap();
    a.batch_execute("DELETE FROM performance_test_results WHERE test_id = 'sec.cmp'; DELETE FROM perf_tests WHERE test_id = 'sec.cmp'; DROP SCHEMA sec_cmp CASCADE").unwrap();
    // Finished before the cancel (the bounded sample is quick) or cancelled at once.
    if let Err(e) = outcome {
        assert_eq!(sqlstate(&e), "57014", "{e}");
        assert!(ended.duration_since(asked) < Duration::from_secs(1), "cancel took {:?}", ended.duration_since(asked));
    }
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
}

/// A role that is not a superuser cannot take the worker slots kept for superusers,
/// and perf_free_worker_slots tells it what it may use.
#[test]
fn an_operator_cannot_take_the_reserved_worker_slots() {
    let mut a = connect("sec_slots");
    a.batch_execute("SELECT perf_install_schema('sec_slots')").unwrap();
    let mut op = login_operator(&mut a, "sec_slots_op", "sec_slots");
    let su: i64 = a.query_one("SELECT perf_free_worker_slots()", &[]).unwrap().get(0);
    let mine: i64 = op.query_one("SELECT perf_free_worker_slots()", &[]).unwrap().get(0);
    assert_eq!(mine, su - 2, "superuser sees {su}, operator {mine}");
    let e = op
        .query(
            &format!("SELECT * FROM perf_load_test(clients => {}, transactions => 1, script => 'plan-list', target_schema => 'sec_slots')", su - 1),
            &[],
        )
        .unwrap_err();
    assert_eq!(sqlstate(&e), "53400", "{e}");
    assert!(message(&e).contains("kept for superusers by pg_perfsuite.reserved_worker_slots"), "{e}");
    drop(op);
    a.batch_execute("DROP SCHEMA sec_slots CASCADE").unwrap();
    drop_role(&mut a, "sec_slots_op");
}

/// In the background, a test that catches every cancel and never ends is ended with
/// its worker a few seconds after the limit; the run is marked aborted.
#[test]
fn a_test_that_swallows_cancels_still_ends() {
    let mut a = connect("sec_swallow");
    a.batch_execute(
        "DELETE FROM perf_tests WHERE test_id = 'sec.swallow';
         INSERT INTO perf_tests (test_id, scenario, name, kind, sql, iterations, warmup, target_ms)
         VALUES ('sec.swallow', 9, 'never ends', 'dml',
                 $q$DO $d$ BEGIN LOOP BEGIN PERFORM pg_sleep(0.2); EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP; END $d$$q$,
                 1, 0, 100);
         SET pg_perfsuite.test_time_limit = '1s'",
    )
    .unwrap();
    let t0 = Instant::now();
    let r = a.query("SELECT * FROM perf_run('sec.swallow', target_schema => 'sec_swallow')", &[]);
    let took = t0.elapsed();
    a.batch_execute("RESET pg_perfsuite.test_time_limit; DELETE FROM perf_tests WHERE test_id = 'sec.swallow'")
        .unwrap();
    assert!(took < Duration::from_secs(20), "{took:?}");
    // The caller may return while the terminated worker is still exiting: perf_progress
    // shows the run aborted once its process is gone.
    let run_id: i64 = a.query_one("SELECT max(run_id) FROM perf_runs", &[]).unwrap().get(0);
    let status = until("the run to end", Duration::from_secs(10), || {
        let s = run_status(&mut a, run_id).0;
        (s != "running").then_some(s)
    });
    assert!(r.is_ok() || status == "aborted", "{status}");
    assert_eq!(status, "aborted");
    a.batch_execute("DROP SCHEMA sec_swallow CASCADE").unwrap();
}
