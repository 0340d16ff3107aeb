//! The plain role tenant tests run as: NOLOGIN, no BYPASSRLS, owning nothing, and one
//! per owner of the schemas under test. Schemas a superuser owns share
//! `perfsuite_tenant`; a schema another role owns (an operator's) has a tenant role of
//! its own, `perfsuite_tenant_<owner's oid>`. The reason: code of the schema (its
//! trigger and policy functions) runs as the tenant during tenant tests, so a tenant
//! role shared with other owners' schemas would hand that code the tenant's grants on
//! them. The runner switches to the tenant role itself (pg::secctx); nobody is a
//! member of one.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::{raise, OrInternal};

/// The tenant role of schemas superusers own.
pub const SHARED: &str = "perfsuite_tenant";
/// What every tenant role's name starts with.
pub const PREFIX: &str = "perfsuite_tenant";

/// The tenant role for schemas owned by the role with this OID (`superuser`: it is one).
pub fn name_for_owner(owner: u32, superuser: bool) -> String {
    if superuser {
        SHARED.to_string()
    } else {
        format!("{PREFIX}_{owner}")
    }
}

/// The tenant role of `schema`: by its owner (pg_database_owner standing for the
/// database's owner, as in PostgreSQL 15's public schema).
pub fn role_for(schema: &str) -> String {
    let (owner, superuser) = Spi::get_two_with_args::<i64, bool>(
        "SELECT r.oid::pg_catalog.int8, r.rolsuper \
           FROM pg_catalog.pg_namespace n \
           JOIN pg_catalog.pg_database d ON d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database() \
           JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) \
                CASE WHEN n.nspowner OPERATOR(pg_catalog.=) 'pg_database_owner'::pg_catalog.regrole::pg_catalog.oid \
                     THEN d.datdba ELSE n.nspowner END \
          WHERE n.nspname OPERATOR(pg_catalog.=) $1",
        &[schema.into()],
    )
    .or_internal("schema owner");
    name_for_owner(owner.unwrap_or(0) as u32, superuser.unwrap_or(true))
}

fn exists(role: &str) -> bool {
    crate::pg::roles::role_oid(role).is_some()
}

/// Refuse a tenant role that would bypass row-level security.
pub fn check(role: &str) {
    if let Ok((Some(sup), Some(bypass))) = Spi::get_two_with_args::<bool, bool>(
        "SELECT rolsuper, rolbypassrls FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) $1",
        &[role.into()],
    ) {
        if sup || bypass {
            raise(
                Code::ERRCODE_INVALID_ROLE_SPECIFICATION,
                format!("role \"{role}\" exists but is a superuser or has BYPASSRLS, so tenant-isolation tests would prove nothing"),
                Some(&format!("ALTER ROLE {} NOSUPERUSER NOBYPASSRLS;", quote_identifier(role))),
            );
        }
    }
}

/// Whether the current role may create roles (a superuser, or CREATEROLE).
fn may_create_roles() -> bool {
    Spi::get_one::<bool>(
        "SELECT rolsuper OR rolcreaterole FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) CURRENT_USER",
    )
    .or_internal("may create roles")
    .unwrap_or(false)
}

/// Refuse, before anything runs, a tenant role that is missing and that this role may
/// not create (an operator whose grant predates per-owner tenant roles).
pub fn check_creatable(role: &str) {
    check(role);
    if !exists(role) && !may_create_roles() {
        raise(
            Code::ERRCODE_UNDEFINED_OBJECT,
            format!(
                "the tenant role \"{role}\" of this schema's owner does not exist, and this role may not create it"
            ),
            Some("A superuser runs SELECT * FROM perf_grant_operator('<this role>'); which creates it."),
        );
    }
}

/// Create `role` when missing; refuse one that would bypass row-level security.
pub fn ensure(role: &str, owner_comment: &str) {
    check_creatable(role);
    if !exists(role) {
        let q = quote_identifier(role);
        Spi::run(&format!("CREATE ROLE {q} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT NOCREATEDB NOCREATEROLE"))
            .or_internal("CREATE ROLE");
        Spi::run(&format!(
            "COMMENT ON ROLE {q} IS {}",
            pgrx::spi::quote_literal(format!(
                "pg_perfsuite: plain role for the tenant-isolation tests of {owner_comment}"
            ))
        ))
        .or_internal("COMMENT ON ROLE");
    }
}
