//! Catalog lookups written once.

use crate::errors::OrInternal;
use pgrx::prelude::*;
use pgrx::spi::quote_identifier;

/// The schema an extension is installed in (None when it is not installed).
pub fn extension_schema(extension: &str) -> Option<String> {
    Spi::get_one_with_args::<String>(
        "SELECT n.nspname::text FROM pg_catalog.pg_extension e \
           JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1",
        &[extension.into()],
    )
    .ok()
    .flatten()
}

/// The same, as a quoted identifier ready to splice before ".name".
pub fn extension_schema_q(extension: &str) -> Option<String> {
    extension_schema(extension).map(|s| quote_identifier(&s))
}

/// pg_perfsuite's own schema, quoted.
pub fn own_schema_q() -> String {
    // Invariant: these functions run only inside the installed extension.
    extension_schema_q("pg_perfsuite").or_internal("pg_perfsuite is installed (its functions are running)")
}
