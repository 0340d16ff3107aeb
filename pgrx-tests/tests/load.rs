//! Load tests from background workers: percentiles, failures, duration, rate, slots,
//! cancellation.

use pg_perfsuite_client_tests::*;
use std::time::Duration;

#[test]
fn load_test_runs_clients_and_records_percentiles() {
    let mut a = connect("bg_load");
    committed_environment(&mut a, "bg_load");
    let script =
        if a.query_one("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')", &[]).unwrap().get(0) {
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
    let (p50, p95, max, tps): (Option<f64>, Option<f64>, Option<f64>, Option<f64>) =
        (r.get(3), r.get(4), r.get(5), r.get(6));
    let clients: Vec<String> = a
        .query(
            "SELECT format('%s %s %s %s', client, status, done, error) FROM perf_load_clients WHERE load_id = $1",
            &[&load_id],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!((n, failed), (60, 0), "{clients:?}");
    let (p50, p95, max, tps) = (p50.unwrap(), p95.unwrap(), max.unwrap(), tps.unwrap());
    assert!(0.0 < p50 && p50 <= p95 && p95 <= max && tps > 0.0, "{p50} {p95} {max} {tps}");
    let per_statement: Vec<i64> = a
        .query(
            "SELECT calls::bigint FROM perf_load_statement_stats WHERE load_id = $1 ORDER BY statement_no",
            &[&load_id],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(per_statement, if script == "plan" { vec![60, 60] } else { vec![60] });
    let intervals: i64 = a
        .query_one("SELECT sum(transactions)::bigint FROM perf_load_intervals WHERE load_id = $1", &[&load_id])
        .unwrap()
        .get(0);
    assert_eq!(intervals, 60);
    let snaps: i64 = a.query_one("SELECT count(*) FROM perf_snapshots WHERE load_id = $1", &[&load_id]).unwrap().get(0);
    assert!(snaps >= 1);
    // This session is a client connection, so every sample counts at least one; the
    // I/O rates are there when /proc/vmstat is readable (it is on Linux).
    let (min_conn, disk): (i32, Option<f64>) = {
        let r = a
            .query_one(
                "SELECT min(connections), max(disk_write_kbs) FROM perf_snapshots WHERE load_id = $1",
                &[&load_id],
            )
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
    let notes: String =
        a.query_one("SELECT notes FROM perf_load_runs WHERE load_id = $1", &[&flaky_id]).unwrap().get(0);
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
    let err =
        a.query("SELECT * FROM perf_load_test(clients => 2, rate => -1, target_schema => 'bg_load')", &[]).unwrap_err();
    assert!(err.as_db_error().unwrap().message().starts_with("rate must be between 0 and 1000000"), "{err}");

    // More clients than worker slots: refused before anything starts.
    let err = a.query("SELECT * FROM perf_load_test(clients => 500, target_schema => 'bg_load')", &[]).unwrap_err();
    let db = err.as_db_error().unwrap();
    assert_eq!(db.code().code(), "53400");
    assert!(db.message().starts_with("the load test needs 500 background-worker slots"), "{}", db.message());
    assert!(db.hint().unwrap_or("").starts_with("Set max_worker_processes to at least 5"), "{:?}", db.hint());
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
fn ramp_up_starts_clients_staggered_on_one_time_line() {
    let mut a = connect("bg_ramp");
    committed_environment(&mut a, "bg_ramp");
    // 4 clients over 2 s: they start 0, 0.5, 1 and 1.5 s in, and all stop at 3 s.
    let load_id: i64 = a
        .query_one(
            "SELECT load_id FROM perf_load_test(clients => 4, duration => '3 seconds', ramp_up => '2 seconds', \
                    rate => 40, script => 'plan-list', target_schema => 'bg_ramp')",
            &[],
        )
        .unwrap()
        .get(0);
    let first: Vec<f64> = a
        .query(
            "SELECT min(offset_ms) FROM perf_load_samples WHERE load_id = $1 GROUP BY client ORDER BY client",
            &[&load_id],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(first.len(), 4, "{first:?}");
    for (c, ms) in first.iter().enumerate() {
        let planned = 500.0 * c as f64;
        assert!(*ms >= planned && *ms < planned + 400.0, "client {c} first transaction at {ms} ms: {first:?}");
    }
    let last: f64 =
        a.query_one("SELECT max(offset_ms) FROM perf_load_samples WHERE load_id = $1", &[&load_id]).unwrap().get(0);
    assert!(last < 3200.0, "the duration ends for every client at once: last start at {last} ms");
    // Per second: the active clients grow during the ramp-up.
    let active: Vec<i32> = a
        .query("SELECT active_clients FROM perf_load_intervals WHERE load_id = $1 ORDER BY second", &[&load_id])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(active.first(), Some(&2), "{active:?}");
    assert_eq!(active.iter().max(), Some(&4), "{active:?}");
}

#[test]
fn the_jmeter_preset_says_what_max_worker_processes_it_needs() {
    let mut a = connect("bg_preset");
    committed_environment(&mut a, "bg_preset");
    // The client-test cluster has max_worker_processes = 24: short of 50 clients.
    let err = a.query("SELECT * FROM perf_load_preset('jmeter', 'bg_preset')", &[]).unwrap_err();
    let db = err.as_db_error().unwrap();
    assert_eq!(db.code().code(), "53400", "{}", db.message());
    assert!(db.message().starts_with("the jmeter preset needs 50 background-worker slots"), "{}", db.message());
    assert!(db.message().contains("max_worker_processes = 24"), "{}", db.message());
    let hint = db.hint().unwrap_or("");
    assert!(hint.starts_with("Set max_worker_processes to at least 5") && hint.contains("restart"), "{hint}");
    let started: i64 = a
        .query_one("SELECT count(*) FROM perf_load_runs WHERE script = 'plan-list' AND clients = 50", &[])
        .unwrap()
        .get(0);
    assert_eq!(started, 0, "nothing was recorded");
    let err = a.query("SELECT * FROM perf_load_preset('gatling', 'bg_preset')", &[]).unwrap_err();
    let db = err.as_db_error().unwrap();
    assert_eq!(
        (db.code().code(), db.message()),
        ("22023", "preset must be one of jmeter, pgbench, write, not \"gatling\"")
    );
}
