//! Where pg_trgm stands in this database: the fuzzy-search tests need it, the
//! installer creates it when it can, and the trust gate checks the schema it lives in.

use pgrx::prelude::*;

/// Where pg_trgm stands in this database.
pub enum Trgm {
    Installed(String),
    Available,
    /// The server has no pg_trgm at all.
    Missing,
}

pub fn trgm_status() -> Trgm {
    if let Some(s) = crate::pg::catalog::extension_schema("pg_trgm") {
        return Trgm::Installed(s);
    }
    let available =
        Spi::get_one::<bool>("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pg_trgm')")
            .unwrap_or(Some(false))
            .unwrap_or(false);
    if available {
        Trgm::Available
    } else {
        Trgm::Missing
    }
}
