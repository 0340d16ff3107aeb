//! Who may use pg_perfsuite besides superusers: operators (see README, Security).

pub mod operators;
