//! perf_cleanup: the post-test checklist's "clean up test data".

use pgrx::prelude::*;

use crate::errors::required;
use crate::runner::lock;
use crate::sut::{self, ownership};

/// Delete everything pg_perfsuite generated in a schema (the companies it created and
/// all rows under them) and nothing else; returns rows deleted per table. Refused while
/// a run is in progress; safe to run twice.
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn perf_cleanup(
    target_schema: default!(Option<&str>, "'public'"),
) -> TableIterator<'static, (name!(relation, String), name!(rows_deleted, i64))> {
    let schema = required(target_schema, "target_schema");
    sut::install::check(schema, crate::gucs::trust_schema_owners());
    lock::acquire_run_lock_xact();
    if !ownership::has_companies(schema) {
        return TableIterator::new(Vec::new());
    }
    let target = sut::ensure_schema(Some(schema), crate::gucs::trust_schema_owners());
    TableIterator::new(crate::runner::cleanup::cleanup(&target))
}
