use pgrx::prelude::*;

use crate::sut::install::{install_schema, Installed};

/// Install the Phase 3B customer-management schema into `target_schema` (default
/// public), or check the one already there. Idempotent; never alters existing tables.
#[pg_extern(volatile)]
#[search_path(pg_catalog, @extschema@, pg_temp)]
fn perf_install_schema(target_schema: default!(Option<&str>, "'public'")) -> String {
    let (target, what) = install_schema(target_schema, crate::gucs::trust_schema_owners());
    match what {
        Installed::Created => format!("installed the reference schema into \"{}\"", target.schema),
        Installed::AlreadyPresent => {
            format!("the reference schema is already present in \"{}\"; nothing changed", target.schema)
        }
    }
}
