//! Load tests from background workers: percentiles, failures, duration, rate, slots,
//! cancellation; the open-loop schedule (a stall shows in response time, Poisson
//! arrivals), histograms against exact percentiles, storage per transaction, and the
//! capacity search.

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
        .query_one("SELECT transactions FROM perf_load_test(clients => 2, duration => '2 seconds', rate => 20, arrivals => 'regular', script => 'plan-list', target_schema => 'bg_load')", &[])
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
                    rate => 40, arrivals => 'regular', script => 'plan-list', target_schema => 'bg_ramp')",
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

/// Response time (from when each transaction was due), service time (from when it
/// started) and schedule lag of a load test.
fn response_and_service(a: &mut postgres::Client, load_id: i64) -> (f64, f64, f64) {
    let r = a
        .query_one("SELECT lat_p99_ms, service_p99_ms, lag_p95_ms FROM perf_load_runs WHERE load_id = $1", &[&load_id])
        .unwrap();
    (r.get(0), r.get(1), r.get(2))
}

/// Hold an ACCESS EXCLUSIVE lock on `schema`.customers for `hold` from `after` on, in
/// another session.
fn stall(schema: &str, after: Duration, hold: Duration) -> std::thread::JoinHandle<()> {
    let sql = format!(
        "BEGIN; LOCK TABLE {schema}.customers IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep({}); COMMIT;",
        hold.as_secs_f64()
    );
    std::thread::spawn(move || {
        let mut b = second();
        std::thread::sleep(after);
        b.batch_execute(&sql).unwrap();
    })
}

#[test]
fn a_stall_shows_in_response_time_and_not_in_service_time() {
    let mut a = connect("bg_stall");
    committed_environment(&mut a, "bg_stall");
    // 4 clients at 200 transactions/s for 8 s; 3 s in, customers is locked for 1 s.
    // About 200 transactions are due during the lock: they wait for it (the clients'
    // schedule keeps going), so their response times run up to a second; the service
    // time of all but the few running when the lock came stays small.
    let holder = stall("bg_stall", Duration::from_secs(3), Duration::from_secs(1));
    let load_id: i64 = a
        .query_one(
            "SELECT load_id FROM perf_load_test(4, NULL, duration => '8 s', script => 'plan-list', rate => 200, \
                    target_schema => 'bg_stall')",
            &[],
        )
        .unwrap()
        .get(0);
    holder.join().unwrap();
    let (p99, service_p99, lag_p95) = response_and_service(&mut a, load_id);
    assert!(p99 >= 500.0, "response-time p99 {p99} ms: the stall must show");
    assert!(service_p99 < 100.0, "service-time p99 {service_p99} ms: only the transactions running at the lock waited");
    assert!(lag_p95 > 100.0, "schedule lag p95 {lag_p95} ms");
    // Per second: the stall's seconds have the lag, the quiet ones before it do not.
    let lags: Vec<(i32, f64)> = a
        .query("SELECT second, lag_p95_ms FROM perf_load_intervals WHERE load_id = $1 ORDER BY second", &[&load_id])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert!(lags.iter().filter(|(s, _)| *s <= 1).all(|(_, l)| *l < 50.0), "{lags:?}");
    assert!(lags.iter().any(|(s, l)| (3..=4).contains(s) && *l >= 500.0), "{lags:?}");

    // With skip_late, transactions already later than the latency limit when their turn
    // comes are skipped, as pgbench --latency-limit does with -R.
    let holder = stall("bg_stall", Duration::from_secs(1), Duration::from_secs(1));
    let r = a
        .query_one(
            "SELECT skipped, transactions FROM perf_load_test(4, NULL, duration => '3 s', script => 'plan-list', \
                    rate => 200, latency_limit_ms => 100, skip_late => true, target_schema => 'bg_stall')",
            &[],
        )
        .unwrap();
    holder.join().unwrap();
    let (skipped, ran): (i64, i64) = (r.get(0), r.get(1));
    assert!(skipped >= 50 && ran >= 300, "{skipped} skipped, {ran} ran");
    let err = a
        .query("SELECT * FROM perf_load_test(2, 10, skip_late => true, target_schema => 'bg_stall')", &[])
        .unwrap_err();
    assert_eq!((sqlstate(&err).as_str(), message(&err).as_str()), ("22023", "skip_late needs a rate"));
    let err = a
        .query(
            "SELECT * FROM perf_load_test(2, 10, rate => 10, arrivals => 'bursty', target_schema => 'bg_stall')",
            &[],
        )
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
    assert!(message(&err).starts_with("arrivals must be 'poisson' or 'regular'"), "{}", message(&err));
}

/// Kolmogorov-Smirnov distance of `gaps` from the exponential distribution of `mean`.
fn ks_exponential(gaps: &[f64], mean: f64) -> f64 {
    let mut sorted = gaps.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    sorted
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let f = 1.0 - (-g / mean).exp();
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max)
}

/// The gaps between the recorded intended starts of each client's sampled transactions.
fn recorded_gaps(a: &mut postgres::Client, load_id: i64) -> Vec<f64> {
    let rows = a
        .query("SELECT client, offset_ms FROM perf_load_samples WHERE load_id = $1 ORDER BY client, txn", &[&load_id])
        .unwrap();
    let starts: Vec<(i32, f64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    starts.windows(2).filter(|w| w[0].0 == w[1].0).map(|w| w[1].1 - w[0].1).collect()
}

#[test]
fn poisson_arrivals_fit_and_histograms_match_exact_percentiles() {
    let mut a = connect("bg_arrivals");
    committed_environment(&mut a, "bg_arrivals");
    // 4 clients at 200/s in all: each client's gaps are exponential with mean 20 ms.
    let load_id: i64 = a
        .query_one(
            "SELECT load_id FROM perf_load_test(4, 50, script => 'plan-list', rate => 200, target_schema => 'bg_arrivals')",
            &[],
        )
        .unwrap()
        .get(0);
    let gaps = recorded_gaps(&mut a, load_id);
    assert_eq!(gaps.len(), 4 * 49);
    let d = ks_exponential(&gaps, 20.0);
    // The 1 % critical value of the KS distance.
    assert!(d < 1.63 / (gaps.len() as f64).sqrt(), "KS distance {d} from exponential(20 ms)");
    // A regular schedule does not pass as Poisson: every gap is 20 ms.
    let regular: i64 = a
        .query_one(
            "SELECT load_id FROM perf_load_test(4, 50, script => 'plan-list', rate => 200, arrivals => 'regular', \
                    target_schema => 'bg_arrivals')",
            &[],
        )
        .unwrap()
        .get(0);
    let even = recorded_gaps(&mut a, regular);
    assert!(even.iter().all(|g| (g - 20.0).abs() < 0.01), "{even:?}");
    assert!(ks_exponential(&even, 20.0) > 0.3);

    // 50 transactions a client: the sample holds every one of them, so the exact
    // percentiles of the same latencies are known; the histogram's are within its 0.1 %
    // (plus the microsecond it records in).
    for (hist, exact) in [
        ("lat_p50_ms", "percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms)"),
        ("lat_p95_ms", "percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms)"),
        ("lat_p99_ms", "percentile_disc(0.99) WITHIN GROUP (ORDER BY latency_ms)"),
        ("lat_max_ms", "max(latency_ms)"),
        ("service_p95_ms", "percentile_disc(0.95) WITHIN GROUP (ORDER BY service_ms)"),
    ] {
        let r = a
            .query_one(
                &format!(
                    "SELECT (SELECT {hist} FROM perf_load_runs WHERE load_id = $1), \
                            (SELECT {exact} FROM perf_load_samples WHERE load_id = $1 AND ok)"
                ),
                &[&load_id],
            )
            .unwrap();
        let (h, e): (f64, f64) = (r.get(0), r.get(1));
        assert!((h - e).abs() <= e * 0.001 + 0.002, "{hist}: histogram {h} ms, exact {e} ms");
    }
}

#[test]
fn histograms_keep_storage_per_transaction_small() {
    let mut a = connect("bg_storage");
    committed_environment(&mut a, "bg_storage");
    let load_id: i64 = a
        .query_one(
            "SELECT load_id FROM perf_load_test(10, 3000, script => 'plan-list', target_schema => 'bg_storage')",
            &[],
        )
        .unwrap()
        .get(0);
    // Every row the load test left in the load tables, as stored (pg_column_size).
    let r = a
        .query_one(
            "SELECT (SELECT transactions FROM perf_load_runs WHERE load_id = $1),
                    (SELECT sum(b) FROM (
                        SELECT sum(pg_column_size(t.*)) b FROM perf_load_runs t WHERE load_id = $1
                        UNION ALL SELECT sum(pg_column_size(t.*)) FROM perf_load_intervals t WHERE load_id = $1
                        UNION ALL SELECT sum(pg_column_size(t.*)) FROM perf_load_samples t WHERE load_id = $1
                        UNION ALL SELECT sum(pg_column_size(t.*)) FROM perf_load_clients t WHERE load_id = $1
                        UNION ALL SELECT sum(pg_column_size(t.*)) FROM perf_load_statements t WHERE load_id = $1
                        UNION ALL SELECT sum(pg_column_size(t.*)) FROM perf_load_client_seconds t WHERE load_id = $1
                        UNION ALL SELECT sum(pg_column_size(t.*)) FROM perf_snapshots t WHERE load_id = $1) x)::float8,
                    (SELECT count(*) FROM perf_load_samples WHERE load_id = $1),
                    (SELECT count(*) FROM perf_load_client_seconds WHERE load_id = $1)",
            &[&load_id],
        )
        .unwrap();
    let (txns, bytes, sampled, handed_over): (i64, f64, i64, i64) = (r.get(0), r.get(1), r.get(2), r.get(3));
    assert_eq!(txns, 30_000);
    assert!(bytes / txns as f64 <= 4.0, "{bytes} bytes for {txns} transactions");
    assert_eq!(sampled, 10 * 50, "the sample is bounded: 50 transactions a client");
    assert_eq!(handed_over, 0, "the clients' seconds are merged and removed");
}

#[test]
fn capacity_search_doubles_bisects_and_answers() {
    let mut a = connect("bg_capacity");
    committed_environment(&mut a, "bg_capacity");
    // A cheap statement and a generous target: every step meets it, so the rates double.
    let rows = a
        .query(
            "SELECT step, offered_rate, met, capacity, knee, load_id, capacity_id FROM perf_capacity('plan-list', \
                    target_p95_ms => 50, clients => 2, target_schema => 'bg_capacity', step_duration => '1 s', \
                    start_rate => 40, max_steps => 3)",
            &[],
        )
        .unwrap();
    let steps: Vec<(i32, f64, bool, bool)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect();
    assert_eq!(steps, vec![(1, 40.0, true, false), (2, 80.0, true, false), (3, 160.0, true, true)]);
    let capacity_id: i64 = rows[0].get(6);
    let r = a
        .query_one(
            "SELECT c.capacity_tps, c.steps, (SELECT count(*) FROM perf_capacity_steps s JOIN perf_load_runs l USING (load_id) \
                     WHERE s.capacity_id = c.capacity_id AND l.rate = s.offered_rate AND l.arrivals = 'poisson') \
               FROM perf_capacity_runs c WHERE capacity_id = $1",
            &[&capacity_id],
        )
        .unwrap();
    let (tps, n, linked): (f64, i32, i64) = (r.get(0), r.get(1), r.get(2));
    assert_eq!((tps, n, linked), (160.0, 3, 3));

    // A target nothing meets: the first step misses, the rate halves, no answer.
    let rows = a
        .query(
            "SELECT offered_rate, met, capacity FROM perf_capacity('plan-list', target_p95_ms => 0.001, clients => 2, \
                    target_schema => 'bg_capacity', step_duration => '1 s', start_rate => 40, max_steps => 2)",
            &[],
        )
        .unwrap();
    let steps: Vec<(f64, bool, bool)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    assert_eq!(steps, vec![(40.0, false, false), (20.0, false, false)]);

    let err = a
        .query(
            "SELECT * FROM perf_capacity('plan-list', step_duration => '100 ms', target_schema => 'bg_capacity')",
            &[],
        )
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22023");
    assert!(message(&err).starts_with("step_duration must be between 1 second and 1 hour"), "{}", message(&err));

    // In a run: a capacity test of the registry becomes a result with its finding.
    a.batch_execute(
        "DELETE FROM perf_tests WHERE test_id = 'T.capacity';
         INSERT INTO perf_tests (test_id, scenario, name, kind, query_type, target_ms, clients, iterations, warmup, target_rate, sql)
         VALUES ('T.capacity', 7, 'capacity of the list', 'capacity', 'load', 50, 2, 2, 0, 20, 'plan-list')",
    )
    .unwrap();
    let r = a
        .query_one(
            "SELECT status, run_id FROM perf_run('T.capacity', target_schema => 'bg_capacity') r WHERE r.test_id = 'T.capacity'",
            &[],
        )
        .unwrap();
    let (status, run_id): (String, i64) = (r.get(0), r.get(1));
    // Read after the call: the background run committed it.
    let findings: String = a
        .query_one(
            "SELECT findings::text FROM performance_test_results WHERE run_id = $1 AND test_id = 'T.capacity'",
            &[&run_id],
        )
        .unwrap()
        .get(0);
    a.batch_execute("DELETE FROM perf_tests WHERE test_id = 'T.capacity'").unwrap();
    assert_eq!(status, "PASS", "{findings}");
    assert!(findings.contains("\"kind\": \"capacity\"") && findings.contains("\"required_rate\": 20"), "{findings}");
    let searches: i64 =
        a.query_one("SELECT count(*) FROM perf_capacity_runs WHERE run_id = $1", &[&run_id]).unwrap().get(0);
    assert_eq!(searches, 1);
}

#[test]
fn hand_over_rows_from_other_sessions_are_left_out() {
    let mut a = connect("bg_forged");
    committed_environment(&mut a, "bg_forged");
    // A histogram of ours to forge with (any earlier load test's whole-test histogram).
    a.query_one("SELECT load_id FROM perf_load_test(1, 5, script => 'plan-list', target_schema => 'bg_forged')", &[])
        .unwrap();
    // Planted ahead of time for the next load test's number (the sequence is readable):
    // gone before that test starts.
    a.batch_execute(
        "INSERT INTO perf_load_client_seconds (load_id, client, second, done, failed, skipped, response, service, lag)
         SELECT s.last_value + 1, 0, 0, 1000000, 0, 0, r.response_hist, r.response_hist, r.response_hist
           FROM perf_load_runs_load_id_seq s, perf_load_runs r WHERE r.response_hist IS NOT NULL LIMIT 1",
    )
    .unwrap();
    // Written by another session while the test runs, for its number and its clients,
    // with a payload length that would make the decoder zero-fill 4 GB: left out.
    let forger = std::thread::spawn(|| {
        let mut b = second();
        let load_id: i64 = until("the load test's clients to start", Duration::from_secs(20), || {
            b.query_one(
                "SELECT max(load_id) FROM perf_load_clients WHERE status = 'running' \
                  AND load_id > (SELECT coalesce(max(load_id), 0) FROM perf_load_runs)",
                &[],
            )
            .unwrap()
            .get::<_, Option<i64>>(0)
        });
        b.execute(
            "INSERT INTO perf_load_client_seconds (load_id, client, second, done, failed, skipped, response, service, lag)
             SELECT $1, c, s, 1000000, 0, 0, f.b, f.b, f.b
               FROM (SELECT overlay(response_hist PLACING '\\xffffffff'::bytea FROM 5 FOR 4) b FROM perf_load_runs
                      WHERE response_hist IS NOT NULL LIMIT 1) f, generate_series(0, 1) c, generate_series(0, 3) s",
            &[&load_id],
        )
        .unwrap();
    });
    let r = a
        .query_one(
            "SELECT load_id, transactions FROM perf_load_test(2, NULL, duration => '2 s', rate => 50, script => 'plan-list', \
                    target_schema => 'bg_forged')",
            &[],
        )
        .unwrap();
    forger.join().unwrap();
    let (load_id, transactions): (i64, i64) = (r.get(0), r.get(1));
    assert!((40..=200).contains(&transactions), "{transactions} transactions: only the clients' own seconds count");
    let notes: String =
        a.query_one("SELECT coalesce(notes, '') FROM perf_load_runs WHERE load_id = $1", &[&load_id]).unwrap().get(0);
    assert!(
        notes.contains("8 hand-over rows written by sessions other than this test's clients were left out"),
        "{notes}"
    );
    let left: i64 =
        a.query_one("SELECT count(*) FROM perf_load_client_seconds WHERE load_id = $1", &[&load_id]).unwrap().get(0);
    assert_eq!(left, 0, "every hand-over row of the test is gone once it is recorded");
}
