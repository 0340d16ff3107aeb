//! perf_grant_operator / perf_revoke_operator: the SQL surface of access::operators.

use pgrx::prelude::*;

use crate::access::operators::{apply, Action};

/// Grant a role everything it needs to run pg_perfsuite: EXECUTE on the extension's
/// functions, use of its tables, views and sequences, and membership in the tenant role.
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn perf_grant_operator(role: Option<&str>) -> TableIterator<'static, (name!(granted, String), name!(objects, i64))> {
    TableIterator::new(apply(Action::Grant, role))
}

/// Take back what perf_grant_operator gave (the extension schema's USAGE stays: PUBLIC
/// usually has it, and other objects may need it).
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn perf_revoke_operator(role: Option<&str>) -> TableIterator<'static, (name!(revoked, String), name!(objects, i64))> {
    TableIterator::new(apply(Action::Revoke, role))
}
