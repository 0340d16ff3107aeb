//! Client-driven tests of pg_perfsuite: what must commit to be tested (a background
//! worker sees only committed data; other sessions watch a run's progress; roles log
//! in; pg_cron starts jobs) is tested from plain `#[test]`s over real connections.
//!
//! They run against a server that has pg_perfsuite installed and created in a
//! database, named by the environment:
//! `PG_PERFSUITE_TEST_HOST` (a socket directory or host), `PG_PERFSUITE_TEST_PORT`,
//! `PG_PERFSUITE_TEST_DB`; the connecting user is `postgres` (a superuser).
//! `scripts/test.sh` starts such a throwaway cluster and runs them.
//!
//! Test sessions share one database and a second concurrent run is refused by
//! design, so every test holds a serialization lock for its whole life.

use postgres::{Client, Config, NoTls};
use std::time::{Duration, Instant};

/// The test-only serialization lock ("perf", 99); pg_perfsuite's own locks are not
/// advisory locks, so this one cannot interfere with them.
pub const SERIALIZE_SQL: &str = "SELECT pg_advisory_lock(1885696614, 99)";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run these tests through scripts/test.sh"))
}

/// Where the test server is: host (socket directory), port, database.
pub fn server() -> (String, String, String) {
    (env("PG_PERFSUITE_TEST_HOST"), env("PG_PERFSUITE_TEST_PORT"), env("PG_PERFSUITE_TEST_DB"))
}

/// The server's bin directory (pg_dump, pg_restore of the same version).
pub fn bindir() -> String {
    env("PG_PERFSUITE_TEST_BINDIR")
}

/// A connection as `user` to database `db` of the test server.
pub fn connect_to(db: &str, user: &str) -> Client {
    let (host, port, _) = server();
    let mut c = Config::new()
        .host(&host)
        .port(port.parse().expect("PG_PERFSUITE_TEST_PORT is a port number"))
        .dbname(db)
        .user(user)
        .connect(NoTls)
        .unwrap_or_else(|e| panic!("connect to {db} as {user}: {e}"));
    c.batch_execute("SET client_min_messages = warning").unwrap();
    c
}

/// A connection as `user` to the test database.
pub fn connect_as(user: &str) -> Client {
    connect_to(&server().2, user)
}

/// A committing connection holding the serialization lock, with `schema` created
/// afresh (and pg_trgm in public, where every role's runs can use it: a run that finds
/// no pg_trgm creates it in its own target schema, which another role cannot use and a
/// DROP SCHEMA ... CASCADE would remove).
pub fn connect(schema: &str) -> Client {
    let mut c = connect_as("postgres");
    c.batch_execute(SERIALIZE_SQL).unwrap();
    c.batch_execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
             CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public; END IF; END $$",
    )
    .unwrap();
    c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")).unwrap();
    c
}

/// Another superuser session (no serialization lock).
pub fn second() -> Client {
    connect_as("postgres")
}

/// Poll `f` every 100 ms until it gives a value; panic after `limit`.
pub fn until<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// (status, tests_done, tests_total) of a run, from perf_progress.
pub fn run_status(c: &mut Client, run_id: i64) -> (String, i32, i32) {
    let r =
        c.query_one("SELECT status, tests_done, tests_total FROM perf_progress WHERE run_id = $1", &[&run_id]).unwrap();
    (r.get(0), r.get(1), r.get(2))
}

/// The plan's data, committed, in `schema` (a one-test background run builds it).
pub fn committed_environment(c: &mut Client, schema: &str) {
    c.query(&format!("SELECT * FROM perf_run('1.2', target_schema => '{schema}', iterations => 1)"), &[]).unwrap();
}

/// Whether the server has the extension available (pg_trgm is missing on the
/// PostgreSQL 16 build used here).
pub fn available(c: &mut Client, extension: &str) -> bool {
    c.query_one("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = $1::text)", &[&extension])
        .unwrap()
        .get(0)
}

/// A LOGIN role made an operator, owning `schema`; returns a session as it.
pub fn login_operator(a: &mut Client, role: &str, schema: &str) -> Client {
    a.batch_execute(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN NOSUPERUSER;
         SELECT * FROM perf_grant_operator('{role}');
         ALTER SCHEMA {schema} OWNER TO {role};"
    ))
    .unwrap();
    connect_as(role)
}

/// Undo `login_operator` (and whatever the role wrote into the registry).
pub fn drop_role(a: &mut Client, role: &str) {
    a.batch_execute(&format!(
        "SELECT * FROM perf_revoke_operator('{role}');
         DELETE FROM perf_tests WHERE author = '{role}'; DELETE FROM perf_load_scripts WHERE author = '{role}';
         DROP OWNED BY {role}; DROP ROLE {role}"
    ))
    .unwrap();
}

/// "rolsuper/rolcreaterole/rolcreatedb/rolbypassrls" of a role: an attack that worked
/// shows here.
pub fn flags(a: &mut Client, role: &str) -> String {
    a.query_one(
        "SELECT rolsuper || '/' || rolcreaterole || '/' || rolcreatedb || '/' || rolbypassrls FROM pg_roles WHERE rolname = $1::text",
        &[&role],
    )
    .unwrap()
    .get(0)
}

/// The SQLSTATE of a database error (or a description of a client-side one).
pub fn sqlstate(e: &postgres::Error) -> String {
    e.as_db_error().map(|d| d.code().code().to_string()).unwrap_or_else(|| format!("no SQLSTATE: {e}"))
}

/// The message of a database error.
pub fn message(e: &postgres::Error) -> String {
    e.as_db_error().map(|d| d.message().to_string()).unwrap_or_else(|| e.to_string())
}
