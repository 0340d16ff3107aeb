//! Who may use pg_perfsuite besides superusers: operators (docs/security.md).

pub mod operators;
