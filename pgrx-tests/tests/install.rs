//! Installing into a database where the plan was tried by hand: its results table and
//! PL/pgSQL helpers are there already. CREATE EXTENSION refuses, naming each and what
//! to run, and changes nothing; after doing what the HINT says, it installs and the
//! hand-made results are still there under their new name.

use pg_perfsuite_client_tests::*;

const BY_HAND: &str = "
CREATE TABLE performance_test_results (
    id SERIAL PRIMARY KEY, test_name VARCHAR(100), test_timestamp TIMESTAMPTZ DEFAULT NOW(),
    query_type VARCHAR(50), execution_time_ms NUMERIC, rows_returned INTEGER,
    cache_hit_ratio NUMERIC, notes TEXT);
INSERT INTO performance_test_results (test_name, query_type, execution_time_ms, rows_returned)
VALUES ('manual list check', 'select', 12.5, 50);
CREATE FUNCTION generate_test_customers(p_company_id UUID, p_count INTEGER, p_user_id UUID)
RETURNS void LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;
CREATE FUNCTION log_performance_test(p_test_name VARCHAR, p_query_type VARCHAR, p_execution_time_ms NUMERIC,
                                     p_rows_returned INTEGER, p_notes TEXT DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;";

#[test]
fn a_database_where_the_plan_was_tried_by_hand() {
    let _serialized = connect("install_unused");
    let mut admin = second();
    admin.batch_execute("DROP DATABASE IF EXISTS by_hand").unwrap();
    admin.batch_execute("CREATE DATABASE by_hand").unwrap();
    let mut c = connect_to("by_hand", "postgres");
    c.batch_execute(BY_HAND).unwrap();
    let e = c.batch_execute("CREATE EXTENSION pg_perfsuite").unwrap_err();
    assert_eq!(sqlstate(&e), "42P07", "{e}");
    let db = e.as_db_error().unwrap();
    for named in [
        "table performance_test_results",
        "function generate_test_customers(uuid,integer,uuid)",
        "function log_performance_test(character varying,character varying,numeric,integer,text)",
    ] {
        assert!(db.message().contains(named), "{named} not named: {}", db.message());
    }
    let hint = db.hint().unwrap_or_default().to_string();
    assert!(hint.contains("ALTER TABLE performance_test_results RENAME TO"), "{hint}");
    let ext: i64 = c.query_one("SELECT count(*) FROM pg_extension WHERE extname = 'pg_perfsuite'", &[]).unwrap().get(0);
    assert_eq!(ext, 0);
    // Doing what the HINT says.
    c.batch_execute(
        "ALTER TABLE performance_test_results RENAME TO performance_test_results_manual;
         DROP FUNCTION generate_test_customers(uuid, integer, uuid);
         DROP FUNCTION log_performance_test(varchar, varchar, numeric, integer, text);
         CREATE EXTENSION pg_perfsuite",
    )
    .unwrap();
    let kept: i64 = c.query_one("SELECT count(*) FROM performance_test_results_manual", &[]).unwrap().get(0);
    assert_eq!(kept, 1);
    c.batch_execute("SELECT log_performance_test('after install', 'select', 1.5, 1)").unwrap();
    drop(c);
    admin.batch_execute("DROP DATABASE by_hand").unwrap();
}

/// Every function, table, view and sequence of a fresh install has a comment, and
/// docs/reference.md is what the catalog says (scripts/reference.sh writes it).
#[test]
fn the_catalog_describes_itself_and_the_reference_is_its_copy() {
    let _serialized = connect("install_unused");
    let mut admin = second();
    admin.batch_execute("DROP DATABASE IF EXISTS reference_check").unwrap();
    admin.batch_execute("CREATE DATABASE reference_check").unwrap();
    let mut c = connect_to("reference_check", "postgres");
    c.batch_execute("CREATE EXTENSION pg_perfsuite CASCADE").unwrap();
    let missing: Vec<String> = c
        .query(
            "SELECT pg_describe_object(d.classid, d.objid, 0) FROM pg_depend d
              WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_perfsuite') AND d.deptype = 'e'
                -- Functions and relations; a table's row type (a member of its own on
                -- PostgreSQL 17 and later) is described by its table.
                AND d.classid IN ('pg_proc'::regclass, 'pg_class'::regclass)
                AND obj_description(d.objid, (SELECT relname FROM pg_class WHERE oid = d.classid)) IS NULL
              ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(missing.is_empty(), "objects without a COMMENT: {missing:?}");
    let generated: String = c.query_one(include_str!("../../scripts/sql/reference.sql"), &[]).unwrap().get(0);
    let file = include_str!("../../docs/reference.md");
    drop(c);
    admin.batch_execute("DROP DATABASE reference_check").unwrap();
    if generated.trim_end() != file.trim_end() {
        let first = generated.lines().zip(file.lines()).position(|(a, b)| a != b);
        panic!(
            "docs/reference.md differs from the catalog (run scripts/reference.sh); first differing line: {:?}",
            first.map(|i| (i + 1, generated.lines().nth(i), file.lines().nth(i)))
        );
    }
}
