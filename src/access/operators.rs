//! Operators: roles that are not superusers and may run the plan, made and unmade by
//! perf_grant_operator / perf_revoke_operator.
//!
//! The functions that write are not executable by PUBLIC and the results tables are not
//! readable by PUBLIC, so a DBA has to grant them. Rather than a list of GRANTs to copy
//! by hand (and to forget one when the extension grows), one call grants everything the
//! extension owns, read from pg_depend, and the tenant role of the operator's own
//! schemas (no membership: the runner switches to it, see pg::secctx). What a grant
//! cannot give (a schema of its own, pg_trgm) is said in a NOTICE.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::{bad_argument, raise, required, OrInternal};
use crate::sut::install::role_exists;
use crate::sut::tenant;

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
        // nextval needs USAGE; UPDATE would also allow setval, with which one operator
        // could push a sequence to its end and make every run fail.
        Member::Relation(_, 'S') => Some(("USAGE, SELECT", "SEQUENCE", "sequences")),
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
    Some(match (action, kind) {
        // Earlier releases granted UPDATE on sequences too: granting again takes it back.
        (Action::Grant, "SEQUENCE") => {
            format!("GRANT {privs} ON {kind} {name} TO {role_q}; REVOKE UPDATE ON {kind} {name} FROM {role_q}")
        }
        (Action::Revoke, "SEQUENCE") => format!("REVOKE {privs}, UPDATE ON {kind} {name} FROM {role_q}"),
        (Action::Grant, _) => format!("GRANT {privs} ON {kind} {name} TO {role_q}"),
        (Action::Revoke, _) => format!("REVOKE {privs} ON {kind} {name} FROM {role_q}"),
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
    if role.starts_with(tenant::PREFIX) {
        bad_argument(
            format!(
                "role must not be \"{role}\": the isolation tests run as the {}* roles, which must stay plain tenants",
                tenant::PREFIX
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
            // The tenant tests switch to the tenant role themselves (pg::secctx): an
            // operator needs no membership in it, and holding one would let it SET ROLE
            // to the tenant and read any company's rows in every schema granting to it.
            // An earlier version's membership goes.
            revoke_tenant_role(&role_q);
            // The operator's schemas get a tenant role of their own (sut::tenant), made
            // here where a superuser can; schemas it installed before get their tenant
            // grants moved over from the shared role.
            let own_tenant = own_tenant_role(role);
            counts.push((format!("USAGE on schema {schema_q}"), 1));
            counts.push((format!("tenant role {own_tenant} for its schemas"), 1));
            notice!(
                "{role} can now run pg_perfsuite. It also needs a schema of its own to test in \
                 (CREATE SCHEMA perf AUTHORIZATION {role_q}), and pg_trgm installed in this database unless it may create it. \
                 Do not grant it CREATE on a schema other roles' runs use: those runs would then refuse that schema."
            );
        }
        Action::Revoke => revoke_tenant_role(&role_q),
    }
    counts
}

/// Create `role`'s own tenant role and move the shared tenant role's grants on the
/// schemas `role` owns over to it. Returns its name.
fn own_tenant_role(role: &str) -> String {
    let oid = crate::pg::roles::role_oid(role).or_internal("role exists");
    let own = tenant::name_for_owner(oid, false);
    tenant::ensure(&own, &format!("schemas owned by {}", quote_identifier(role)));
    if !role_exists(tenant::SHARED) {
        return own;
    }
    let moves: Vec<String> = Spi::connect(|c| {
        c.select(
            "SELECT pg_catalog.format('GRANT %s ON %s TO %I; REVOKE ALL ON %s FROM %I', \
                      pg_catalog.string_agg(a.privilege_type, ', '), c.oid::pg_catalog.regclass, $3, \
                      c.oid::pg_catalog.regclass, $2) \
               FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace, \
                    pg_catalog.aclexplode(c.relacl) a \
              WHERE n.nspowner OPERATOR(pg_catalog.=) $1::pg_catalog.oid \
                AND a.grantee OPERATOR(pg_catalog.=) $2::pg_catalog.regrole::pg_catalog.oid \
              GROUP BY c.oid \
             UNION ALL \
             SELECT pg_catalog.format('GRANT USAGE ON SCHEMA %I TO %I; REVOKE USAGE ON SCHEMA %I FROM %I', \
                      n.nspname, $3, n.nspname, $2) \
               FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a \
              WHERE n.nspowner OPERATOR(pg_catalog.=) $1::pg_catalog.oid \
                AND a.grantee OPERATOR(pg_catalog.=) $2::pg_catalog.regrole::pg_catalog.oid",
            None,
            &[(oid as i64).into(), tenant::SHARED.into(), own.as_str().into()],
        )?
        .map(|r| r.get::<String>(1).map(Option::unwrap_or_default))
        .collect::<Result<Vec<_>, _>>()
    })
    .unwrap_or_default();
    for sql in moves {
        Spi::run(&sql).unwrap_or_else(|e| crate::errors::internal(&sql, e));
    }
    own
}

/// Take back the tenant role's membership that earlier releases gave
/// operators (directly on PostgreSQL 16+, through a NOINHERIT gate role on 15).
fn revoke_tenant_role(role_q: &str) {
    if role_exists(TENANT_GATE) {
        Spi::run(&format!("REVOKE {TENANT_GATE} FROM {role_q}")).or_internal("REVOKE tenant gate");
    }
    if role_exists(tenant::SHARED) {
        Spi::run(&format!("REVOKE {} FROM {role_q}", tenant::SHARED)).or_internal("REVOKE tenant role");
    }
}

/// The NOINHERIT role through which earlier versions made operators members of the
/// tenant role on PostgreSQL 15; only revoked now.
pub const TENANT_GATE: &str = "perfsuite_tenant_gate";

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
            "GRANT USAGE, SELECT ON SEQUENCE perf_runs_run_id_seq TO bob; REVOKE UPDATE ON SEQUENCE perf_runs_run_id_seq FROM bob"
        );
        assert_eq!(
            statement(Action::Revoke, "bob", &Member::Relation("perf_runs_run_id_seq".into(), 'S')).unwrap(),
            "REVOKE USAGE, SELECT, UPDATE ON SEQUENCE perf_runs_run_id_seq FROM bob"
        );
        assert_eq!(statement(Action::Grant, "bob", &Member::Relation("some_index".into(), 'i')), None);
    }
}
