//! Operators: roles that are not superusers and may run the plan, made and unmade by
//! perf_grant_operator / perf_revoke_operator.
//!
//! The functions that write are not executable by PUBLIC and the results tables are not
//! readable by PUBLIC, so a DBA has to grant them. Rather than a list of GRANTs to copy
//! by hand (and to forget one when the extension grows), one call grants everything the
//! extension owns, read from pg_depend, plus membership in the tenant role the
//! isolation tests SET ROLE to. What a grant cannot give (CREATE on the target schema,
//! pg_trgm) is said in a NOTICE.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::{bad_argument, raise, required, OrInternal};
use crate::sut::install::{ensure_tenant_role, role_exists, TENANT_ROLE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Grant,
    Revoke,
}

/// One object of the extension: a function (its regprocedure text) or a relation
/// (regclass text and pg_class.relkind).
#[derive(Debug, Clone, PartialEq)]
pub enum Member {
    Function(String),
    Relation(String, char),
}

/// The privileges an operator needs on one member, the object kind GRANT names and a
/// plural noun for the summary; None for kinds that take no privileges here.
pub fn privilege(member: &Member) -> Option<(&'static str, &'static str, &'static str)> {
    match member {
        Member::Function(_) => Some(("EXECUTE", "FUNCTION", "functions")),
        // The ledger of generated companies decides what perf_cleanup deletes: only the
        // extension's own functions write it.
        Member::Relation(name, 'r') if name == LEDGER => Some(("SELECT", "TABLE", "tables (read only)")),
        Member::Relation(_, 'r') => Some(("SELECT, INSERT, UPDATE, DELETE", "TABLE", "tables")),
        Member::Relation(_, 'v') => Some(("SELECT", "TABLE", "views")),
        Member::Relation(_, 'S') => Some(("USAGE, SELECT, UPDATE", "SEQUENCE", "sequences")),
        Member::Relation(..) => None,
    }
}

/// The table perf_cleanup trusts: operators may read it, never write it.
pub const LEDGER: &str = "perf_generated_companies";

/// The GRANT or REVOKE statement for one member.
pub fn statement(action: Action, role_q: &str, member: &Member) -> Option<String> {
    let (privs, kind, _) = privilege(member)?;
    let name = match member {
        Member::Function(f) => f,
        Member::Relation(r, _) => r,
    };
    Some(match action {
        Action::Grant => format!("GRANT {privs} ON {kind} {name} TO {role_q}"),
        Action::Revoke => format!("REVOKE {privs} ON {kind} {name} FROM {role_q}"),
    })
}

fn members() -> Vec<Member> {
    Spi::connect(|c| {
        c.select(
            "SELECT p.oid::regprocedure::text, NULL::text \
               FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_proc p ON p.oid = d.objid \
              WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e' \
                AND d.refclassid = 'pg_catalog.pg_extension'::regclass \
                AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'pg_perfsuite') \
             UNION ALL \
             SELECT r.oid::regclass::text, r.relkind::text \
               FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class r ON r.oid = d.objid \
              WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'e' \
                AND d.refclassid = 'pg_catalog.pg_extension'::regclass \
                AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'pg_perfsuite') \
             ORDER BY 1",
            None,
            &[],
        )?
        .map(|r| {
            let name = r.get::<String>(1)?.unwrap_or_default();
            Ok(match r.get::<String>(2)?.and_then(|k| k.chars().next()) {
                Some(kind) => Member::Relation(name, kind),
                None => Member::Function(name),
            })
        })
        .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .or_internal("extension members")
}

pub fn apply(action: Action, role: Option<&str>) -> Vec<(String, i64)> {
    let role = required(role, "role");
    if !role_exists(role) {
        raise(Code::ERRCODE_UNDEFINED_OBJECT, format!("role \"{role}\" does not exist"), None);
    }
    if role == TENANT_ROLE || role == TENANT_GATE {
        bad_argument(
            format!(
                "role must not be \"{role}\": the isolation tests run as {TENANT_ROLE}, which must stay a plain tenant"
            ),
            None,
        );
    }
    let role_q = quote_identifier(role);
    let mut counts: Vec<(String, i64)> = Vec::new();
    for m in members() {
        if let Some(sql) = statement(action, &role_q, &m) {
            Spi::run(&sql).unwrap_or_else(|e| crate::errors::internal(&sql, e));
            let (privs, _, noun) = privilege(&m).or_internal("statement implies a privilege");
            let label = format!("{privs} on {noun}");
            match counts.iter_mut().find(|(l, _)| *l == label) {
                Some(c) => c.1 += 1,
                None => counts.push((label, 1)),
            }
        }
    }
    let schema_q = crate::pg::catalog::own_schema_q();
    match action {
        Action::Grant => {
            Spi::run(&format!("GRANT USAGE ON SCHEMA {schema_q} TO {role_q}")).or_internal("GRANT USAGE");
            grant_tenant_role(&role_q);
            counts.push((format!("USAGE on schema {schema_q}"), 1));
            notice!(
                "{role} can now run pg_perfsuite. It also needs a schema of its own to test in \
                 (CREATE SCHEMA perf AUTHORIZATION {role_q}), and pg_trgm installed in this database unless it may create it. \
                 Do not grant it CREATE on a schema other roles' runs use: those runs would then refuse that schema."
            );
        }
        Action::Revoke => revoke_tenant_role(&role_q),
    }
    counts.push((format!("SET ROLE {TENANT_ROLE} (no inherited rights)"), 1));
    counts
}

/// The operator must be able to SET ROLE to the tenant role (the isolation tests run
/// as it) without gaining its rights on tenant rows in between. PostgreSQL 16 says
/// exactly that: WITH INHERIT FALSE, SET TRUE. On 15 the same shape comes from a NOINHERIT
/// gate role between them: the operator inherits the gate's rights (none), and SET
/// ROLE follows every membership, inherited or not.
fn grant_tenant_role(role_q: &str) {
    ensure_tenant_role();
    if cfg!(feature = "pg15") {
        ensure_tenant_gate();
        Spi::run(&format!("GRANT {TENANT_GATE} TO {role_q}")).or_internal("GRANT tenant gate");
    } else {
        Spi::run(&format!("GRANT {TENANT_ROLE} TO {role_q} WITH INHERIT FALSE, SET TRUE"))
            .or_internal("GRANT tenant role");
    }
}

fn revoke_tenant_role(role_q: &str) {
    if role_exists(TENANT_GATE) {
        Spi::run(&format!("REVOKE {TENANT_GATE} FROM {role_q}")).or_internal("REVOKE tenant gate");
    }
    if role_exists(TENANT_ROLE) {
        Spi::run(&format!("REVOKE {TENANT_ROLE} FROM {role_q}")).or_internal("REVOKE tenant role");
    }
}

/// PostgreSQL 15's stand-in for WITH INHERIT FALSE: a NOINHERIT role that is a member
/// of the tenant role.
pub const TENANT_GATE: &str = "perfsuite_tenant_gate";

fn ensure_tenant_gate() {
    if !role_exists(TENANT_GATE) {
        Spi::run(&format!(
            "CREATE ROLE {TENANT_GATE} NOLOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
        ))
        .or_internal("CREATE ROLE gate");
        Spi::run(&format!(
            "COMMENT ON ROLE {TENANT_GATE} IS 'pg_perfsuite: lets operators SET ROLE {TENANT_ROLE} without inheriting its rights'"
        ))
        .or_internal("COMMENT ON ROLE");
    }
    Spi::run(&format!("GRANT {TENANT_ROLE} TO {TENANT_GATE}")).or_internal("GRANT tenant role to gate");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_per_kind() {
        let f = Member::Function("perf_run_all(text,integer,bigint,boolean,boolean)".into());
        assert_eq!(
            statement(Action::Grant, "\"Alice\"", &f).unwrap(),
            "GRANT EXECUTE ON FUNCTION perf_run_all(text,integer,bigint,boolean,boolean) TO \"Alice\""
        );
        let t = Member::Relation("perf_runs".into(), 'r');
        assert_eq!(
            statement(Action::Revoke, "bob", &t).unwrap(),
            "REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLE perf_runs FROM bob"
        );
        assert_eq!(
            statement(Action::Grant, "bob", &Member::Relation("perf_progress".into(), 'v')).unwrap(),
            "GRANT SELECT ON TABLE perf_progress TO bob"
        );
        assert_eq!(
            statement(Action::Grant, "bob", &Member::Relation("perf_runs_run_id_seq".into(), 'S')).unwrap(),
            "GRANT USAGE, SELECT, UPDATE ON SEQUENCE perf_runs_run_id_seq TO bob"
        );
        assert_eq!(statement(Action::Grant, "bob", &Member::Relation("some_index".into(), 'i')), None);
    }
}
