//! Background runs: progress visible to other sessions, waiting callers, refusals,
//! cancellation, killed workers, the per-test time limit, worker slots, pg_cron, a
//! worker's start-up error, an operator's background run.

use pg_perfsuite_client_tests::*;
use std::time::{Duration, Instant};

#[test]
fn background_run_is_visible_while_it_runs_and_5_4_detects_blocking() {
    let mut a = connect("bg_full");
    // A copy of 5.4 where both sessions update the same ten customers and the second
    // never lets go: must report blocking.
    a.batch_execute(
        "DELETE FROM perf_tests WHERE test_id = '5.4-block';
         INSERT INTO perf_tests (test_id, scenario, name, kind, target_ms, sql, concurrent_sql)
         SELECT '5.4-block', 5, 'same company (must block)', 'concurrency', 500, concurrent_sql, concurrent_sql
           FROM perf_tests WHERE test_id = '5.4'",
    )
    .unwrap();
    // Every enabled test of the registry (the plan's, the extra 5.4-block) and the plan's
    // two monitoring limits.
    let expected: i32 = a.query_one("SELECT (count(*) + 2)::int FROM perf_tests WHERE enabled", &[]).unwrap().get(0);
    let row = a
        .query_one(
            "SELECT run_id, status FROM perf_run_all(target_schema => 'bg_full', iterations => 1, wait => false)",
            &[],
        )
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
    assert_eq!((done, total), (expected, expected));
    assert!(seen_partial, "progress was never visible mid-run");
    let results: Vec<(String, String, String)> = b
        .query(
            "SELECT test_id, status, notes FROM performance_test_results WHERE run_id = $1 ORDER BY result_id",
            &[&run_id],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    // Remove the extra registry row before asserting, so a failure here cannot leak
    // it into other tests' runs.
    a.batch_execute("DELETE FROM perf_tests WHERE test_id = '5.4-block'").unwrap();
    let get = |id: &str| results.iter().find(|r| r.0 == id).unwrap_or_else(|| panic!("{id} missing"));
    assert_eq!(get("5.4").1, "PASS", "{}", get("5.4").2);
    assert!(get("5.4").2.contains("held 10 updated rows"), "{}", get("5.4").2);
    assert_eq!(get("5.4-block").1, "FAIL", "{}", get("5.4-block").2);
    assert!(get("5.4-block").2.starts_with("blocked"), "{}", get("5.4-block").2);
    // The same hot rows, released after 200 ms: the wait is measured, and it is the
    // other transaction's length (plus a little), not a block.
    let same = get("5.4-same");
    assert!(["PASS", "WARN"].contains(&same.1.as_str()), "{}", same.2);
    assert!(same.2.starts_with("waited its turn: finished in "), "{}", same.2);
    let waited: f64 = b
        .query_one(
            "SELECT execution_time_ms::float8 FROM performance_test_results WHERE run_id = $1 AND test_id = '5.4-same'",
            &[&run_id],
        )
        .unwrap()
        .get(0);
    assert!((100.0..800.0).contains(&waited), "waited {waited} ms for a 200 ms transaction");
    // What it waited on, sampled every 10 ms: the second session's row lock.
    let lock_samples: i64 = b
        .query_one(
            "SELECT coalesce(sum((e->>'samples')::int8), 0)::int8 FROM performance_test_results r, \
                    jsonb_array_elements(r.waits->'events') e \
              WHERE r.run_id = $1 AND r.test_id = '5.4-same' AND e->>'event' LIKE 'Lock:%'",
            &[&run_id],
        )
        .unwrap()
        .get(0);
    assert!(lock_samples >= 5, "5.4-same waited {waited} ms but {lock_samples} samples name a lock");
    // A background run vacuums the tables under test before its tests, and says so.
    let state: String = b.query_one("SELECT state FROM perf_runs WHERE run_id = $1", &[&run_id]).unwrap().get(0);
    assert!(state.contains("tables under test vacuumed and analyzed"), "{state}");
    // The plan's load test ran with real clients and has a verdict and its figures
    // (SKIP, with the reason, on a server without pg_trgm).
    let (_, l1, l1_notes) = get("L.1");
    let trgm: bool = b
        .query_one("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')", &[])
        .unwrap()
        .get(0);
    if trgm {
        assert!(["PASS", "WARN", "FAIL"].contains(&l1.as_str()), "{l1} {l1_notes}");
        assert!(l1_notes.starts_with("load test ") && l1_notes.contains(" x 100 transactions"), "{l1_notes}");
    } else {
        assert_eq!(
            (l1.as_str(), l1_notes.as_str()),
            ("SKIP", "SKIP: needs the pg_trgm extension, which this server does not have")
        );
    }
    // The write load: every insert ran the auto-sync trigger, concurrently, and no
    // person got two customers.
    let (_, l2, l2_notes) = get("L.2");
    assert!(["PASS", "WARN", "FAIL"].contains(&l2.as_str()), "{l2} {l2_notes}");
    assert!(l2_notes.contains(" x 50 transactions"), "{l2_notes}");
    let load_rows: i64 =
        b.query_one("SELECT count(*) FROM perf_load_runs WHERE run_id = $1", &[&run_id]).unwrap().get(0);
    assert_eq!(load_rows, if trgm { 2 } else { 1 });
    let created: i64 = b
        .query_one(
            "SELECT count(*) FROM bg_full.customers WHERE customer_email LIKE 'load-write-%' AND source = 'chat'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!((1..=50).contains(&created), "{created} customers for 50 people");
    assert_eq!(get("L.2-dedup").1, "PASS", "{}", get("L.2-dedup").2);
}

#[test]
fn waiting_caller_gets_rows_and_a_second_run_is_refused() {
    let mut a = connect("bg_wait");
    let rows = a
        .query("SELECT test_id, status FROM perf_run('1.2', target_schema => 'bg_wait', iterations => 1) WHERE test_id NOT LIKE 'M.%'", &[])
        .unwrap();
    assert_eq!(rows.len(), 1);
    let status: String = rows[0].get(1);
    assert!(["PASS", "WARN", "FAIL"].contains(&status.as_str()), "{status}");

    // While one background run works, another is refused, naming it, and changes nothing.
    let started = a
        .query_one(
            "SELECT run_id FROM perf_run('1.%', target_schema => 'bg_wait', iterations => 200, wait => false)",
            &[],
        )
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
    assert_eq!(generated_rows(&mut a, "gen_cancel"), 0);
    let role: String = a.query_one("SHOW session_replication_role", &[]).unwrap().get(0);
    assert_eq!(role, "origin");
    a.batch_execute("DROP SCHEMA gen_cancel CASCADE").unwrap();
}

#[test]
fn cancelling_the_caller_cancels_the_run() {
    let mut a = connect("bg_cancel");
    a.batch_execute("SET statement_timeout = '1500ms'").unwrap();
    let err = a.query("SELECT * FROM perf_run_all(target_schema => 'bg_cancel', iterations => 500)", &[]).unwrap_err();
    assert_eq!(err.as_db_error().map(|e| e.code().code()), Some("57014"), "{err}");
    a.batch_execute("RESET statement_timeout").unwrap();
    let mut b = second();
    let run_id: i64 =
        b.query_one("SELECT max(run_id) FROM perf_runs WHERE target_schema = 'bg_cancel'", &[]).unwrap().get(0);
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
        .query_one(
            "SELECT run_id FROM perf_run('1.%', target_schema => 'bg_kill', iterations => 5000, wait => false)",
            &[],
        )
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
    let rows =
        a.query("SELECT test_id, status, notes FROM perf_run('x.limit%', target_schema => 'bg_limit') WHERE test_id NOT LIKE 'M.%'", &[]).unwrap();
    let got: Vec<(String, String, String)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    a.batch_execute("DELETE FROM perf_tests WHERE test_id LIKE 'x.limit%'; RESET pg_perfsuite.test_time_limit")
        .unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].1, "ERROR", "{got:?}");
    assert!(got[0].2.contains("57014") && got[0].2.contains("ran past its time limit of 300 ms"), "{got:?}");
    assert_eq!(got[1].1, "PASS", "the run goes on after the limit fired: {got:?}");
}

#[test]
fn no_free_worker_slot_is_a_clear_error_not_a_hang() {
    let mut a = connect("bg_slots");
    committed_environment(&mut a, "bg_slots");
    let free: i64 = a.query_one("SELECT perf_free_worker_slots()", &[]).unwrap().get(0);
    // Another session fills every free slot with load clients for a while.
    let mut b = second();
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

/// Runs where the server preloads pg_cron (the PostgreSQL 15 test cluster; the other
/// versions used here have no pg_cron).
#[test]
fn pg_cron_runs_the_scheduled_plan() {
    let mut a = connect("bg_cron");
    let preloaded: bool = a
        .query_one("SELECT 'pg_cron' = ANY(string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ','))", &[])
        .unwrap()
        .get(0);
    if !preloaded {
        eprintln!("pg_cron_runs_the_scheduled_plan: skipped, pg_cron is not preloaded on this server");
        return;
    }
    a.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_cron").unwrap();
    let job: i64 =
        a.query_one("SELECT perf_schedule('* * * * *', 'perf_test_job', '1.2', 'bg_cron', 1)", &[]).unwrap().get(0);
    let again: i64 =
        a.query_one("SELECT perf_schedule('* * * * *', 'perf_test_job', '1.2', 'bg_cron', 1)", &[]).unwrap().get(0);
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

/// A worker that fails at start-up reports its own SQLSTATE and message to the
/// caller: here the target schema exists only in the caller's open transaction,
/// so the caller's checks pass and the worker's fail with 3F000.
#[test]
fn a_worker_failing_at_start_reports_its_own_error() {
    let mut a = connect("sec_start");
    let mut t = a.transaction().unwrap();
    t.batch_execute("CREATE SCHEMA sec_start_uncommitted").unwrap();
    let e = t
        .query("SELECT * FROM perf_run('1.2', target_schema => 'sec_start_uncommitted', iterations => 1)", &[])
        .unwrap_err();
    assert_eq!(sqlstate(&e), "3F000", "{e}");
    let message = e.as_db_error().map(|d| d.message().to_string()).unwrap_or_default();
    assert!(message.contains("target_schema \"sec_start_uncommitted\" does not exist"), "{message}");
    t.rollback().unwrap();
    a.batch_execute("DROP SCHEMA sec_start CASCADE").unwrap();
}

/// A login role that is not a superuser, after perf_grant_operator and with a schema
/// of its own, runs scenario 1 in the background: its worker connects as that role.
#[test]
fn an_operator_role_runs_in_the_background() {
    let mut a = connect("opbg");
    let mut op = login_operator(&mut a, "perf_op_bg", "opbg");
    let rows: Vec<String> = op
        .query("SELECT test_id || ' ' || status FROM perf_run('1.%', target_schema => 'opbg', iterations => 2) WHERE test_id NOT LIKE 'M.%'", &[])
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

/// The per-test time limit is told from a user's cancel by the clock, not by the
/// message text: with the worker's messages in German (a role-level lc_messages, which
/// a background worker connecting as that role takes), a runaway test is still an
/// ERROR 57014 result and the run goes on. Skipped where the de_DE.UTF-8 locale or
/// PostgreSQL's German messages are not installed (scripts/setup.sh installs both on
/// Debian).
#[test]
fn the_time_limit_works_in_every_language() {
    let mut a = connect("bg_lang");
    let german: bool = a
        .query_one("SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collname ILIKE 'de_DE.utf%8')", &[])
        .unwrap()
        .get(0);
    if !german {
        eprintln!("the_time_limit_works_in_every_language: skipped, no de_DE.UTF-8 locale on this machine");
        return;
    }
    let mut op = login_operator(&mut a, "perf_op_lang", "bg_lang");
    a.batch_execute("ALTER ROLE perf_op_lang SET lc_messages = 'de_DE.UTF-8'").unwrap();
    op.batch_execute(
        "INSERT INTO perf_tests (test_id, scenario, name, kind, sql, target_ms, iterations, warmup)
         VALUES ('x.lang1', 9, 'runaway', 'timed_query', 'SELECT pg_sleep(5)', 10, 1, 0),
                ('x.lang2', 9, 'after it', 'timed_query', 'SELECT 1', 10, 1, 0);
         SET pg_perfsuite.test_time_limit = '300ms'",
    )
    .unwrap();
    let got: Vec<(String, String, String)> = op
        .query("SELECT test_id, status, notes FROM perf_run('x.lang%', target_schema => 'bg_lang') WHERE test_id NOT LIKE 'M.%'", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    drop(op);
    drop_role(&mut a, "perf_op_lang");
    a.batch_execute("DROP SCHEMA IF EXISTS bg_lang CASCADE").unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].1.as_str(), got[1].1.as_str()), ("ERROR", "PASS"), "{got:?}");
    // The server's (translated) cancel message is replaced by the extension's own,
    // decided by the clock, not by the text.
    assert!(got[0].2.contains("57014") && got[0].2.contains("time limit"), "{got:?}");
}

/// A sweep makes several background runs from one call, so from one transaction: the
/// second run's bulk load (its tables empty again after the first run's cleanup) must
/// not wait for locks the caller took while checking the schema.
#[test]
fn a_sweep_of_background_runs_completes() {
    let mut a = connect("bg_sweep");
    let rows = a
        .query(
            "SELECT test_id, slope, growth FROM perf_scaling('{0.02,0.05}', target_schema => 'bg_sweep',
                                                            pattern => '1.1', iterations => 3)",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 1);
    let slope: Option<f64> = rows[0].get(1);
    assert!(slope.is_some_and(f64::is_finite), "{slope:?}");
    let runs: i64 = a
        .query_one(
            "SELECT count(*) FROM perf_runs p JOIN perf_scaling_sweeps s ON p.run_id = ANY (s.run_ids)
              WHERE s.target_schema = 'bg_sweep' AND p.status = 'completed' AND p.backend_pid <> pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(runs, 2, "two runs, each in a background worker");
}

/// The bulk load of an empty schema as installed, cancelled in the middle (rows being
/// copied, indexes and keys set aside, triggers off), leaves the schema exactly as
/// installed and empty: it is one transaction.
#[test]
fn a_cancelled_bulk_load_leaves_the_schema_as_installed() {
    let mut a = connect("bulk_cancel");
    a.batch_execute("SELECT perf_install_schema('bulk_cancel')").unwrap();
    let definitions = |c: &mut postgres::Client| -> String {
        c.query_one(
            "SELECT string_agg(x, ',' ORDER BY x) FROM (
               SELECT 'i:' || c.relname AS x FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'bulk_cancel'
               UNION ALL SELECT 'k:' || k.conname || ':' || k.convalidated FROM pg_constraint k
                 JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = 'bulk_cancel'
               UNION ALL SELECT 't:' || g.tgname || ':' || g.tgenabled::text FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'bulk_cancel' AND NOT g.tgisinternal) d",
            &[],
        )
        .unwrap()
        .get(0)
    };
    let installed = definitions(&mut a);
    a.batch_execute("SET statement_timeout = '3s'").unwrap();
    let start = Instant::now();
    // A million customers: far more than three seconds of work.
    let err = a.query("SELECT * FROM perf_generate(10, 100000, 42, 'bulk_cancel')", &[]).unwrap_err();
    assert_eq!(err.as_db_error().map(|e| e.code().code()), Some("57014"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(30), "cancel took {:?}", start.elapsed());
    a.batch_execute("RESET statement_timeout").unwrap();
    assert_eq!(generated_rows(&mut a, "bulk_cancel"), 0);
    assert_eq!(definitions(&mut a), installed, "indexes, keys and triggers as installed");
    a.batch_execute("DROP SCHEMA bulk_cancel CASCADE").unwrap();
}

/// Rows in the four tables a generation writes, in `schema`.
fn generated_rows(c: &mut postgres::Client, schema: &str) -> i64 {
    c.query_one(
        &format!(
            "SELECT (SELECT count(*) FROM {schema}.customers) + (SELECT count(*) FROM {schema}.\"VC Usage\")
                  + (SELECT count(*) FROM {schema}.customer_events) + (SELECT count(*) FROM {schema}.customer_matching_keys)"
        ),
        &[],
    )
    .unwrap()
    .get(0)
}
