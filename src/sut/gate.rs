//! The one gate for code resolved or executed in a schema under test, whether a run,
//! a report, hypothetical-index advice or a cleanup does it: a schema is trusted by who
//! may write in it (its owner, every role with CREATE on it, directly, through PUBLIC
//! or through a role it belongs to), not by what it holds when the check runs. Code
//! that passes the gate still runs inside a security-restricted operation (pg::secctx).
//!
//! Trusted writers: the caller, the roles it is a member of (pg_auth_members, so a
//! superuser is not "a member of everyone" here), superusers, and pg_database_owner
//! when the database's owner is trusted. The query is sql/queries/untrusted_objects.sql.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use super::trgm::{trgm_status, Trgm};
use crate::errors::{raise, OrInternal};

/// One reason not to trust a schema, with what would fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untrusted {
    /// "role op may CREATE in schema perf_sut", "function perf_sut.f() (owner op)".
    pub what: String,
    /// "REVOKE CREATE ON SCHEMA perf_sut FROM op ...".
    pub remedy: String,
}

const UNTRUSTED_OBJECTS: &str = include_str!("../../sql/queries/untrusted_objects.sql");

/// Why the current role should not run or resolve code in `schema` (with pg_trgm's
/// schema and pg_perfsuite's own, which are on the same search_path); empty when
/// nothing stands in the way.
pub fn untrusted(schema: &str) -> Vec<Untrusted> {
    let mut path = vec![schema.to_string()];
    if let Trgm::Installed(trgm) = trgm_status() {
        path.push(trgm);
    }
    Spi::connect(|c| {
        c.select(UNTRUSTED_OBJECTS, None, &[schema.into(), path.into()])?
            .map(|r| {
                Ok(Untrusted {
                    what: r.get::<String>(1)?.unwrap_or_default(),
                    remedy: r.get::<String>(2)?.unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>, pgrx::spi::Error>>()
    })
    .or_internal("untrusted objects")
}

/// Refuse (42501, before anything runs) a schema whose writers the caller does not
/// trust. `opt_in` is pg_perfsuite.trust_schema_owners, which only a superuser may set.
pub fn refuse_untrusted(schema: &str, opt_in: bool) {
    if opt_in {
        return;
    }
    let found = untrusted(schema);
    if let Some(first) = found.first() {
        let more = if found.len() > 1 { format!(" and {} more", found.len() - 1) } else { String::new() };
        raise(
            Code::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!(
                "schema \"{schema}\" is not yours to trust: {}{more}; code there would run with your rights, so nothing was run",
                first.what
            ),
            Some(&format!(
                "{}; or let that role run the plan itself in a schema of its own (perf_grant_operator); or, as a superuser who has reviewed the schema, SET pg_perfsuite.trust_schema_owners = on.",
                first.remedy
            )),
        );
    }
}

/// Why a report, advice or cleanup leaves `schema` alone, as a sentence; None when the
/// schema is trusted and may be read.
pub fn why_not_read(schema: &str) -> Option<String> {
    if !schema_usable(schema) {
        return Some(format!("schema \"{schema}\" is gone or you have no USAGE on it"));
    }
    untrusted(schema).first().map(|u| format!("schema \"{schema}\" was not read: {}", u.what))
}

/// The schema exists and the current role may look up names in it.
fn schema_usable(schema: &str) -> bool {
    Spi::get_one_with_args::<bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n \
          WHERE n.nspname OPERATOR(pg_catalog.=) $1 AND pg_catalog.has_schema_privilege(n.oid, 'USAGE'))",
        &[schema.into()],
    )
    .or_internal("schema usage")
    .unwrap_or(false)
}

/// The relation `schema.name` when it is one of `kinds` (pg_class.relkind letters) and
/// readable by the current role: a view or a function-backed relation cannot stand in
/// for the table a report expects.
pub fn relation_of_kind(schema: &str, name: &str, kinds: &str) -> Option<String> {
    let ok = Spi::get_one_with_args::<bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
          WHERE n.nspname OPERATOR(pg_catalog.=) $1 AND c.relname OPERATOR(pg_catalog.=) $2 \
            AND pg_catalog.strpos($3, c.relkind::text) OPERATOR(pg_catalog.>) 0 \
            AND pg_catalog.has_table_privilege(c.oid, 'SELECT'))",
        &[schema.into(), name.into(), kinds.into()],
    )
    .or_internal("relation kind")
    .unwrap_or(false);
    ok.then(|| format!("{}.{}", pgrx::spi::quote_identifier(schema), pgrx::spi::quote_identifier(name)))
}
