//! pg_dump and pg_restore of a database where pg_perfsuite has run: the history comes
//! back row for row, and the next run, perf_report and perf_compare work there (the
//! extension's sequences are marked for pg_dump; unmarked they would restart at 1 and
//! the next run would fail with 23505).

use pg_perfsuite_client_tests::*;
use std::process::Command;

/// What must be equal between the original and the restored database.
const HISTORY: &str = "SELECT (SELECT count(*) FROM perf_runs) || '/' || (SELECT max(run_id) FROM perf_runs) || '/' ||
        (SELECT count(*) FROM performance_test_results) || '/' ||
        (SELECT md5(string_agg(run_id || ':' || coalesce(test_id, '') || ':' || coalesce(status, '') || ':' ||
                               coalesce(execution_time_ms::text, ''), ',' ORDER BY result_id)) FROM performance_test_results) || '/' ||
        (SELECT count(*) FROM perf_generated_companies)";

fn tool(name: &str, args: &[&str]) {
    let (host, port, _) = server();
    let out = Command::new(format!("{}/{name}", bindir()))
        .args(["-h", &host, "-p", &port, "-U", "postgres"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(out.status.success(), "{name} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn history_survives_dump_and_restore() {
    // A database of its own: the whole of it is dumped, and nothing of other tests
    // (or pg_cron, which lives only in the test database) comes along.
    let _serialized = connect("dump_unused");
    let mut admin = second();
    for db in ["dump_src", "dump_copy"] {
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db}")).unwrap();
    }
    admin.batch_execute("CREATE DATABASE dump_src").unwrap();
    let mut a = connect_to("dump_src", "postgres");
    a.batch_execute(
        "CREATE EXTENSION pg_perfsuite;
         DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
             CREATE EXTENSION pg_trgm; END IF; END $$;
         CREATE SCHEMA sut",
    )
    .unwrap();
    a.query("SELECT * FROM perf_run('1.2', target_schema => 'sut', iterations => 1)", &[]).unwrap();
    a.query("SELECT * FROM perf_run('1.%', target_schema => 'sut', iterations => 2)", &[]).unwrap();
    let original: String = a.query_one(HISTORY, &[]).unwrap().get(0);
    drop(a);

    let file = std::env::temp_dir().join(format!("pg_perfsuite_dump_{}.dump", std::process::id()));
    let file_s = file.to_string_lossy().to_string();
    tool("pg_dump", &["-Fc", "-d", "dump_src", "-f", &file_s]);
    admin.batch_execute("CREATE DATABASE dump_copy").unwrap();
    tool("pg_restore", &["-d", "dump_copy", &file_s]);
    let _ = std::fs::remove_file(&file);

    let mut copy = connect_to("dump_copy", "postgres");
    let restored: String = copy.query_one(HISTORY, &[]).unwrap().get(0);
    assert_eq!(restored, original, "history differs after restore");
    // The next run gets new ids after the restored ones, and the report and the
    // comparison read the restored history.
    let before: i64 = copy.query_one("SELECT max(run_id) FROM perf_runs", &[]).unwrap().get(0);
    let rows = copy
        .query(
            "SELECT status FROM perf_run('1.2', target_schema => 'sut', iterations => 1) WHERE test_id NOT LIKE 'M.%'",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 1);
    let after: i64 = copy.query_one("SELECT max(run_id) FROM perf_runs", &[]).unwrap().get(0);
    assert!(after > before, "{after} after {before}");
    let report: String = copy.query_one("SELECT perf_report()", &[]).unwrap().get(0);
    assert!(report.contains("# Performance Test Report"), "{report}");
    let compared = copy.query("SELECT * FROM perf_compare()", &[]).unwrap();
    assert!(!compared.is_empty(), "perf_compare found no earlier run to compare with");
    drop(copy);
    for db in ["dump_src", "dump_copy"] {
        admin.batch_execute(&format!("DROP DATABASE {db}")).unwrap();
    }
}
