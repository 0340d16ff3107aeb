//! Catalog lookups written once.

use pgrx::prelude::*;

/// The schema an extension is installed in, as a quoted identifier (None when the
/// extension is not installed).
pub fn extension_schema_q(extension: &str) -> Option<String> {
    Spi::get_one_with_args::<String>(
        "SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension e \
           JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1",
        &[extension.into()],
    )
    .ok()
    .flatten()
}

/// pg_perfsuite's own schema, quoted.
pub fn own_schema_q() -> String {
    // Invariant: these functions run only inside the installed extension.
    extension_schema_q("pg_perfsuite").expect("pg_perfsuite is installed (its functions are running)")
}
