//! The privilege boundary, tried from every side. Entry points where SQL that the
//! extension did not write is executed are found, not listed: every SQL column of
//! perf_tests (from the catalog) under every kind of test that executes it, and the load
//! scripts. Each is tried with every way out of an identity (RESET ROLE, SET ROLE, SET
//! SESSION AUTHORIZATION, set_config of either, each as a statement and from inside a
//! function the author wrote), in the caller's session and in the background, written
//! by an operator and run by a superuser. The payload after the way out takes a value
//! of a sequence only the superuser may use: a sequence advances even when the
//! transaction rolls back, so each combination leaves its own trace if it ever gets out.
//!
//! Then the functions that take a target schema (from the catalog too) are pointed at a
//! schema an operator may write in, holding an overload that out-matches a built-in and
//! a view where a table should be: each refuses before running anything, or reads
//! nothing there and says so.

use pg_perfsuite_client_tests::*;
use postgres::Client;
use std::time::Duration;

const OP: &str = "bnd_op";
const SU: &str = "postgres";

/// A way out: statements for a script or a test's SQL, and the same as PL/pgSQL.
struct Escape {
    name: &'static str,
    statements: Vec<String>,
    plpgsql: Vec<String>,
}

fn escapes() -> Vec<Escape> {
    let set = |what: &str, value: &str| {
        (
            format!("SELECT pg_catalog.set_config('{what}', '{value}', false)"),
            format!("PERFORM pg_catalog.set_config('{what}', '{value}', false)"),
        )
    };
    let plain = |s: &str| (s.to_string(), s.to_string());
    [
        ("reset_role", plain("RESET ROLE")),
        ("set_role", plain(&format!("SET ROLE {SU}"))),
        ("session_auth", plain(&format!("SET SESSION AUTHORIZATION {SU}"))),
        ("config_role", set("role", SU)),
        ("config_session", set("session_authorization", SU)),
    ]
    .into_iter()
    .map(|(name, (s, p))| Escape { name, statements: vec![s], plpgsql: vec![p] })
    .collect()
}

/// One attempt: a registry row (or load script) and the sequence that shows a way out.
struct Attempt {
    id: String,
    sql: String,
}

fn hit(id: &str) -> String {
    format!("bnd_su.hit_{}", id.replace(['.', '-'], "_"))
}

/// The rows for one column of perf_tests: each kind of test that executes that column,
/// with the way out as statements, or (where a query is needed) as a call of a function
/// the operator wrote. A column with no recipe fails the test: a new SQL column must be
/// covered here.
fn attempts_for_column(column: &str, e: &Escape, mode: &str) -> Vec<Attempt> {
    let id = |kind: &str| format!("bnd.{column}.{kind}.{}.{mode}", e.name).replace('_', "-");
    let stmts = |id: &str| {
        let mut s = e.statements.clone();
        s.push(format!("SELECT pg_catalog.nextval('{}')", hit(id)));
        s.join("; ")
    };
    let call = |id: &str| format!("SELECT bnd_o.{}() AS x", fn_name(id));
    let row = |id: &str, cols: &str, vals: String| {
        Attempt {
        id: id.to_string(),
        sql: format!(
            "INSERT INTO perf_tests (test_id, scenario, name, iterations, warmup, target_ms, {cols}) VALUES ('{id}', 0, 'boundary', 1, 0, 10000, {vals})"
        ),
    }
    };
    let q = |s: String| s.replace('\'', "''");
    match column {
        "sql" => {
            let (d, t, c) = (id("dml"), id("timed"), id("count"));
            vec![
                row(&d, "kind, sql, commit_last", format!("'dml', '{}', true", q(stmts(&d)))),
                row(&t, "kind, sql", format!("'timed_query', '{}'", q(call(&t)))),
                row(&c, "kind, sql, expected_value", format!("'count_check', '{}', 1", q(call(&c)))),
            ]
        }
        "setup_sql" => {
            let (d, c) = (id("dml"), id("count"));
            vec![
                row(&d, "kind, sql, setup_sql", format!("'dml', 'SELECT 1', '{}'", q(stmts(&d)))),
                row(
                    &c,
                    "kind, sql, setup_sql, expected_value",
                    format!("'count_check', 'SELECT 1', '{}', 1", q(stmts(&c))),
                ),
            ]
        }
        "explain_sql" => {
            let d = id("dml");
            vec![row(&d, "kind, sql, explain_sql", format!("'dml', 'SELECT 1', '{}'", q(call(&d))))]
        }
        "concurrent_sql" => {
            let c = id("conc");
            vec![row(&c, "kind, sql, concurrent_sql", format!("'concurrency', 'SELECT 1', '{}'", q(stmts(&c))))]
        }
        other => panic!("perf_tests has a SQL column \"{other}\" this test does not try: add its recipe"),
    }
}

fn fn_name(id: &str) -> String {
    format!("esc_{}", id.replace(['.', '-'], "_"))
}

/// The function an attempt's query calls: the way out and the payload, as the operator
/// writes it (SECURITY INVOKER: it runs as whoever calls it).
fn function_for(id: &str, e: &Escape) -> String {
    format!(
        "CREATE FUNCTION bnd_o.{}() RETURNS int LANGUAGE plpgsql AS $f$ BEGIN {}; PERFORM pg_catalog.nextval('{}'); RETURN 1; END $f$",
        fn_name(id),
        e.plpgsql.join("; "),
        hit(id)
    )
}

fn sql_columns(a: &mut Client) -> Vec<String> {
    a.query(
        "SELECT attname::text FROM pg_attribute WHERE attrelid = 'perf_tests'::regclass AND attnum > 0
            AND NOT attisdropped AND atttypid = 'text'::regtype AND attname ~ 'sql' ORDER BY attnum",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// Sequences that advanced: the attempts that got out.
fn escaped(a: &mut Client, ids: &[String]) -> Vec<String> {
    ids.iter()
        .filter(|id| a.query_one(&format!("SELECT is_called FROM {}", hit(id)), &[]).unwrap().get::<_, bool>(0))
        .cloned()
        .collect()
}

#[test]
fn no_way_out_of_the_authors_identity_from_any_entry_point_in_any_mode() {
    let mut a = connect("bnd");
    a.batch_execute(
        "DELETE FROM perf_tests WHERE test_id LIKE 'bnd.%'; DELETE FROM perf_load_scripts WHERE name LIKE 'bnd-%';
         DROP SCHEMA IF EXISTS bnd_su CASCADE; CREATE SCHEMA bnd_su;
         DROP SCHEMA IF EXISTS bnd_o CASCADE; CREATE SCHEMA bnd_o;
         SELECT perf_install_schema('bnd');",
    )
    .unwrap();
    let mut op = login_operator(&mut a, OP, "bnd_o");
    // The operator may name the sequences (so its SQL parses and runs up to the
    // payload) but not use them: only a way out makes nextval succeed.
    a.batch_execute(&format!("GRANT USAGE ON SCHEMA bnd_su TO {OP}")).unwrap();
    let columns = sql_columns(&mut a);
    assert!(columns.contains(&"sql".to_string()) && columns.len() >= 4, "{columns:?}");
    let mut ids = Vec::new();
    for mode in ["session", "background"] {
        let mut this_mode = Vec::new();
        for e in escapes() {
            for column in &columns {
                for at in attempts_for_column(column, &e, mode) {
                    let id = at.id;
                    a.batch_execute(&format!("CREATE SEQUENCE {}", hit(&id))).unwrap();
                    op.batch_execute(&function_for(&id, &e)).unwrap();
                    op.batch_execute(&at.sql).unwrap();
                    this_mode.push(id);
                }
            }
        }
        // Without a way out the payload is refused: the operator may not use the sequences.
        let control = &this_mode[0];
        let e = op.query(&format!("SELECT pg_catalog.nextval('{}')", hit(control)), &[]).unwrap_err();
        assert_eq!(sqlstate(&e), "42501", "{e}");
        let background = mode == "background";
        let rows = a
            .query(
                &format!(
                    "SELECT test_id, status, coalesce(notes, '') FROM perf_run('bnd.%.{mode}', target_schema => 'bnd', \
                     iterations => 1, background => {background}) WHERE test_id LIKE 'bnd.%'"
                ),
                &[],
            )
            .unwrap();
        assert_eq!(rows.len(), this_mode.len(), "every attempt ran as a test");
        for r in &rows {
            let (id, status, notes): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            // EXPLAIN's failure is a note (the plan is missing), not the test's error.
            if !id.contains(".explain-sql.") {
                assert_eq!(status, "ERROR", "{id}: {notes}");
            }
        }
        ids.extend(this_mode);
    }
    // Load scripts: the same ways out, run by a superuser's load test in the background.
    for e in escapes() {
        let id = format!("bnd-load-{}", e.name.replace('_', "-"));
        a.batch_execute(&format!("CREATE SEQUENCE {}", hit(&id))).unwrap();
        let mut lines = e.statements.clone();
        lines.push(format!("SELECT pg_catalog.nextval('{}')", hit(&id)));
        let script = lines.iter().map(|l| format!("{l};")).collect::<Vec<_>>().join("\n");
        op.execute("INSERT INTO perf_load_scripts (name, script) VALUES ($1::text, $2::text)", &[&id, &script])
            .unwrap();
        let r = a
            .query_one(
                &format!(
                    "SELECT failed, transactions FROM perf_load_test(clients => 1, transactions => 1, script => '{id}', target_schema => 'bnd')"
                ),
                &[],
            )
            .unwrap();
        assert_eq!((r.get::<_, i64>(0), r.get::<_, i64>(1)), (1, 1), "{id}: the one transaction failed");
        ids.push(id);
    }
    let out = escaped(&mut a, &ids);
    // The caller's own identity is as it was.
    let who: String = a.query_one("SELECT current_user || '/' || session_user", &[]).unwrap().get(0);
    drop(op);
    a.batch_execute("DELETE FROM perf_tests WHERE test_id LIKE 'bnd.%'; DROP SCHEMA bnd_su CASCADE").unwrap();
    let flags = flags(&mut a, OP);
    drop_role(&mut a, OP);
    a.batch_execute("DROP SCHEMA bnd CASCADE").unwrap();
    assert!(out.is_empty(), "these attempts left the author's identity: {out:?}");
    assert_eq!(who, format!("{SU}/{SU}"));
    assert_eq!(flags, "false/false/false/false");
    assert!(ids.len() >= 2 * 5 * 7 + 5, "{} attempts", ids.len());
}

/// How each function that takes a target schema is called against a schema it must
/// not trust; None: it executes nothing there (says why). A function missing here fails
/// the test: a new one must be covered.
fn call_against(function: &str, schema: &str) -> Option<String> {
    let s = schema;
    Some(match function {
        "perf_run_all" => format!("SELECT * FROM perf_run_all('{s}', iterations => 1, background => false)"),
        "perf_run" => format!("SELECT * FROM perf_run('1.2', '{s}', iterations => 1, background => false)"),
        "perf_generate" => format!("SELECT * FROM perf_generate(1, 10, 1, '{s}')"),
        "generate_test_customers" => {
            format!("SELECT generate_test_customers('aaaaaaaa-aaaa-aaaa-aaaa-000000000001'::uuid, 1, 'aaaaaaaa-aaaa-aaaa-aaaa-000000000002'::uuid, 1, '{s}')")
        }
        "perf_cleanup" => format!("SELECT * FROM perf_cleanup('{s}')"),
        "perf_install_schema" => format!("SELECT perf_install_schema('{s}')"),
        "perf_load_test" => format!(
            "SELECT * FROM perf_load_test(clients => 1, transactions => 1, script => 'plan-list', target_schema => '{s}')"
        ),
        "perf_load_preset" => format!("SELECT * FROM perf_load_preset('pgbench', '{s}')"),
        "perf_capacity" => format!(
            "SELECT * FROM perf_capacity('plan-list', clients => 1, target_schema => '{s}', step_duration => '1 s', max_steps => 1)"
        ),
        "perf_scaling" => format!("SELECT * FROM perf_scaling(ARRAY[0.01, 0.02], '{s}', '1.2', background => false)"),
        // The ledger's two writers read only `companies`, after checking that it is a
        // plain table without row-level security in force (store::ledger): no code of
        // the schema's runs. They are called by the generator and the cleanup, which
        // are gated above.
        "perf_ledger_forget" | "perf_ledger_record" => return None,
        // Stores a command for pg_cron; the run it starts goes through perf_run's gate.
        "perf_schedule" => return None,
        // Clears a flag on the runs of that schema; reads nothing in it.
        "perf_clear_baseline" => return None,
        // Reads the extension's own results of that schema's runs; nothing in the schema.
        "perf_history" => return None,
        other => panic!("{other} takes a target schema and this test does not try it: add how to call it"),
    })
}

#[test]
fn every_function_that_takes_a_target_schema_refuses_one_others_may_write() {
    let mut a = connect("bnd_t");
    a.batch_execute("DROP SCHEMA IF EXISTS bnd_w CASCADE; CREATE SCHEMA bnd_w; SELECT perf_install_schema('bnd_t')")
        .unwrap();
    // A superuser's schema in which an operator may CREATE: the operator plants an
    // overload that out-matches pg_catalog.count("any") for a uuid argument.
    let mut op = login_operator(&mut a, "bnd_w_op", "bnd_w");
    a.batch_execute("GRANT CREATE, USAGE ON SCHEMA bnd_t TO bnd_w_op").unwrap();
    op.batch_execute(
        "CREATE FUNCTION bnd_t.count(uuid) RETURNS bigint LANGUAGE sql AS 'SELECT 1::bigint';
         CREATE FUNCTION bnd_w.climb() RETURNS bigint LANGUAGE plpgsql AS $f$
           BEGIN ALTER ROLE bnd_w_op CREATEROLE; RETURN 1; END $f$",
    )
    .unwrap();
    let functions: Vec<String> = a
        .query(
            "SELECT DISTINCT p.proname::text FROM pg_proc p JOIN pg_extension e ON e.extnamespace = p.pronamespace
              WHERE e.extname = 'pg_perfsuite'
                AND pg_get_function_arguments(p.oid) ~ '(^|, )(target_schema|p_schema) text'
              ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(functions.len() >= 8, "{functions:?}");
    let runs: i64 = a.query_one("SELECT count(*) FROM perf_runs", &[]).unwrap().get(0);
    let mut tried = 0;
    for f in &functions {
        let Some(call) = call_against(f, "bnd_t") else { continue };
        let e = a.query(&call, &[]).expect_err(&format!("{f} ran against a schema an operator may write in"));
        assert_eq!(sqlstate(&e), "42501", "{f}: {e}");
        let m = message(&e);
        assert!(m.contains("bnd_w_op") && m.contains("CREATE") && m.contains("bnd_t"), "{f}: {m}");
        tried += 1;
    }
    assert!(tried >= 7);
    assert_eq!(a.query_one("SELECT count(*) FROM perf_runs", &[]).unwrap().get::<_, i64>(0), runs);

    // A report of the operator's own run, read by a superuser, where customers is now a
    // view calling the operator's function: not read, and said.
    a.batch_execute("REVOKE CREATE ON SCHEMA bnd_t FROM bnd_w_op; DROP FUNCTION bnd_t.count(uuid)").unwrap();
    op.batch_execute("SELECT * FROM perf_run('1.2', 'bnd_w', iterations => 1)").unwrap();
    op.batch_execute(
        "ALTER TABLE bnd_w.customers RENAME TO customers_t;
         CREATE VIEW bnd_w.customers AS SELECT c.*, bnd_w.climb() AS x FROM bnd_w.customers_t c",
    )
    .unwrap();
    let run: i64 = a.query_one("SELECT max(run_id) FROM perf_runs WHERE target_schema = 'bnd_w'", &[]).unwrap().get(0);
    for format in ["markdown", "json", "html", "tap"] {
        let report: String = a.query_one(&format!("SELECT perf_report({run}, '{format}')"), &[]).unwrap().get(0);
        if format == "markdown" {
            assert!(report.contains("was not read") && report.contains("bnd_w_op"), "{report}");
        }
    }
    let flags = flags(&mut a, "bnd_w_op");
    drop(op);
    drop_role(&mut a, "bnd_w_op");
    a.batch_execute("DROP SCHEMA IF EXISTS bnd_w CASCADE; DROP SCHEMA bnd_t CASCADE").unwrap();
    assert_eq!(flags, "false/false/false/false");
}

/// A script rewritten by an operator after a superuser's load test decided whose rights
/// its clients act with (the coordinator is held up on a table the operator may lock)
/// is refused by every client: the role was decided for the author it saw.
#[test]
fn a_script_swapped_after_the_decision_is_refused_by_the_clients() {
    let mut a = connect("bnd_swap");
    a.batch_execute(
        "SELECT perf_install_schema('bnd_swap');
         DELETE FROM perf_load_scripts WHERE name = 'bnd-swap';
         INSERT INTO perf_load_scripts (name, script) VALUES ('bnd-swap', 'SELECT 1;')",
    )
    .unwrap();
    a.batch_execute("DROP SCHEMA IF EXISTS bnd_swap_o CASCADE; CREATE SCHEMA bnd_swap_o").unwrap();
    let mut op = login_operator(&mut a, "bnd_swap_op", "bnd_swap_o");
    // The operator holds perf_load_clients, which the coordinator writes right after its
    // decision, and swaps the script in while the coordinator waits.
    op.batch_execute("BEGIN; LOCK TABLE perf_load_clients IN SHARE MODE").unwrap();
    let mut c = second();
    let caller = std::thread::spawn(move || {
        c.query_one(
            "SELECT failed, transactions FROM perf_load_test(clients => 1, transactions => 1, script => 'bnd-swap', target_schema => 'bnd_swap')",
            &[],
        )
        .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1)))
    });
    let mut b = second();
    until("the coordinator to wait for the operator's lock", Duration::from_secs(20), || {
        let waiting: bool = b
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'perf_load_clients'::regclass AND NOT granted)",
                &[],
            )
            .unwrap()
            .get(0);
        waiting.then_some(())
    });
    op.batch_execute(
        "UPDATE perf_load_scripts SET script = 'ALTER ROLE bnd_swap_op SUPERUSER;' WHERE name = 'bnd-swap'; COMMIT",
    )
    .unwrap();
    let outcome = caller.join().unwrap();
    let flags = flags(&mut a, "bnd_swap_op");
    drop(op);
    a.batch_execute("DELETE FROM perf_load_scripts WHERE name = 'bnd-swap'; DROP SCHEMA bnd_swap CASCADE; DROP SCHEMA bnd_swap_o CASCADE")
        .unwrap();
    drop_role(&mut a, "bnd_swap_op");
    assert_eq!(flags, "false/false/false/false");
    // The client refused before its first transaction (or the load test failed outright).
    if let Ok((failed, transactions)) = outcome {
        assert_eq!(transactions - failed, 0, "the swapped script ran");
    }
}

/// Rows an operator writes into perf_runs with a superuser's PIDs do not make the
/// superuser's waiting call follow them: the caller knows its worker by its start time.
#[test]
fn a_forged_run_row_is_not_followed() {
    let mut a = connect("bnd_fake");
    a.batch_execute("DROP SCHEMA IF EXISTS bnd_fake_o CASCADE; CREATE SCHEMA bnd_fake_o").unwrap();
    let mut op = login_operator(&mut a, "bnd_fake_op", "bnd_fake_o");
    let pid: i32 = a.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
    // Every worker PID this server can hand out, each with a failed run "by" the caller.
    op.batch_execute(&format!(
        "INSERT INTO perf_runs (run_id, target_schema, status, backend_pid, launcher_pid, error_sqlstate, error_message)
         OVERRIDING SYSTEM VALUE
         SELECT 9000000000000000000 + g, 'bnd_fake', 'failed', g, {pid}, '42501', 'forged: run ALTER ROLE bnd_fake_op SUPERUSER'
           FROM generate_series(1, 65535) g"
    ))
    .unwrap();
    let r = a.query("SELECT test_id, status FROM perf_run('1.2', target_schema => 'bnd_fake', iterations => 1) WHERE test_id = '1.2'", &[]);
    a.batch_execute("DELETE FROM perf_runs WHERE run_id > 9000000000000000000").unwrap();
    drop(op);
    drop_role(&mut a, "bnd_fake_op");
    a.batch_execute("DROP SCHEMA bnd_fake CASCADE; DROP SCHEMA IF EXISTS bnd_fake_o CASCADE").unwrap();
    let rows = r.unwrap_or_else(|e| panic!("the caller followed a forged run: {e}"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(1), "PASS");
}
