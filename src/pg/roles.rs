//! Whose rights a piece of stored SQL runs with.
//!
//! The rule: SQL that role A wrote (a registry test, a load script) runs only with the
//! rights of a role A could act as itself. A test row's author is stamped by a trigger
//! (nobody can claim another author), and before its SQL runs the runner decides:
//! - the author may act as the run's role (the author is that role, a superuser, or a
//!   member of it): run it as the run's role;
//! - otherwise, if this session's login role may become the author (SET ROLE would be
//!   allowed): run it as the author, switched to by pg::secctx, not by SET ROLE;
//! - otherwise refuse it with 42501.

use pgrx::prelude::*;

/// What to do with SQL by some author in this session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run it with the role the run already has.
    AsIs,
    /// Run it as the author (named here), in a context it cannot leave (pg::secctx).
    AsAuthor(String),
    /// Do not run it: the author is not a role this session may act as, nor may it
    /// become the author.
    Refused,
}

/// The pure rule: `author_acts_as_target` = the author may act as the role the SQL
/// would run as; `session_may_become_author` = SET ROLE author is allowed here.
pub fn decide(author: &str, author_acts_as_target: bool, session_may_become_author: bool) -> Decision {
    if author_acts_as_target {
        Decision::AsIs
    } else if session_may_become_author {
        Decision::AsAuthor(author.to_string())
    } else {
        Decision::Refused
    }
}

/// The pg_has_role privilege that means "may SET ROLE to it": 'SET' from PostgreSQL 16
/// on (membership may be granted WITH SET FALSE), plain membership before.
const SET_PRIVILEGE: &str = if cfg!(feature = "pg15") { "MEMBER" } else { "SET" };

/// How SQL written by `author` may run here, where it would otherwise run as `target`
/// (None: the current role; Some: a role the runner switches to, such as the tenant).
/// An author role that no longer exists is refused.
pub fn decision_for(author: &str, target: Option<&str>) -> Decision {
    let (acts, becomes) = Spi::get_two_with_args::<bool, bool>(
        "SELECT pg_catalog.pg_has_role($1::name, coalesce($2::name, current_user), $3), \
                pg_catalog.pg_has_role(session_user, $1::name, $3) \
          WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1::name)",
        &[author.into(), target.into(), SET_PRIVILEGE.into()],
    )
    .unwrap_or((None, None));
    let (acts, becomes) = (acts.unwrap_or(false), becomes.unwrap_or(false));
    // A target role (the tenant) cannot be traded for the author: it is the point of the test.
    decide(author, acts, becomes && target.is_none())
}

/// Whether SQL by `author` may run with the rights of the role in force now: the author
/// may act as it itself (it is that role, a member of it, or a superuser). A worker
/// that reads SQL by name checks this again with the SQL it read: the role it acts as
/// was decided for the author the run saw, and the SQL may have been rewritten by
/// another role since.
pub fn author_may_act_as_current(author: &str) -> bool {
    Spi::get_one_with_args::<bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name) \
            AND pg_catalog.pg_has_role($1::pg_catalog.name, CURRENT_USER, $2)",
        &[author.into(), SET_PRIVILEGE.into()],
    )
    .ok()
    .flatten()
    .unwrap_or(false)
}

/// The role that called in (the SET ROLE level), which a SECURITY DEFINER function
/// does not change: who a definer function acts for.
pub fn outer_user() -> pgrx::pg_sys::Oid {
    // SAFETY: a plain read of backend-local identity state.
    unsafe { pgrx::pg_sys::GetOuterUserId() }
}

/// Whether the current role (after SET ROLE) is a superuser.
pub fn is_superuser() -> bool {
    // SAFETY: superuser() reads the current user's catalog entry; no preconditions.
    unsafe { pgrx::pg_sys::superuser() }
}

/// Whether the current role trusts SQL written by `author`: the author is itself, a
/// role it is a member of (pg_auth_members, followed through; a superuser is not "a
/// member of everyone" here), or a superuser. The rule sut::gate applies to who may
/// write in a schema. An author that no longer exists is not trusted.
pub fn trusts(author: &str) -> bool {
    Spi::get_one_with_args::<bool>(
        "WITH RECURSIVE mine(role) AS ( \
             SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER \
             UNION \
             SELECT m.roleid FROM pg_catalog.pg_auth_members m JOIN mine ON m.member OPERATOR(pg_catalog.=) mine.role) \
         SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name \
                          AND (r.rolsuper OR r.oid IN (SELECT role FROM mine)))",
        &[author.into()],
    )
    .ok()
    .flatten()
    .unwrap_or(false)
}

/// Whether the role with this OID (0: the current role) is a superuser.
pub fn oid_is_superuser(oid: u32) -> bool {
    if oid == 0 {
        return is_superuser();
    }
    Spi::get_one_with_args::<bool>(
        "SELECT rolsuper FROM pg_catalog.pg_roles WHERE oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid",
        &[(oid as i64).into()],
    )
    .ok()
    .flatten()
    .unwrap_or(false)
}

/// Whether the role of this name is a superuser (false when there is none).
pub fn name_is_superuser(name: &str) -> bool {
    role_oid(name).is_some_and(oid_is_superuser)
}

/// The login role of this session (what SET ROLE and security contexts leave alone).
pub fn session_user() -> pgrx::pg_sys::Oid {
    // SAFETY: a plain read of backend-local identity state.
    unsafe { pgrx::pg_sys::GetSessionUserId() }
}

/// The name of the role with this OID, if it exists.
pub fn role_name(oid: u32) -> Option<String> {
    Spi::get_one_with_args::<String>(
        "SELECT rolname::text FROM pg_catalog.pg_roles WHERE oid = $1::pg_catalog.oid",
        &[(oid as i64).into()],
    )
    .ok()
    .flatten()
}

/// The OID of a role, for a background worker or a test context that acts as it.
pub fn role_oid(name: &str) -> Option<u32> {
    Spi::get_one_with_args::<i64>("SELECT oid::int8 FROM pg_catalog.pg_roles WHERE rolname = $1::name", &[name.into()])
        .ok()
        .flatten()
        .map(|o| o as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule() {
        assert_eq!(decide("a", true, false), Decision::AsIs);
        assert_eq!(decide("a", true, true), Decision::AsIs);
        assert_eq!(decide("a", false, true), Decision::AsAuthor("a".into()));
        assert_eq!(decide("a", false, false), Decision::Refused);
    }
}
