//! Server settings for the current transaction: read one, set one LOCAL, or run some
//! work with a few of them changed and the caller's values put back afterwards.
//! `SET LOCAL` would outlive the work until the transaction ends (and a released
//! subtransaction does not undo it), so the work's callers restore explicitly; an error
//! aborts the (sub)transaction, which restores them too.

use pgrx::prelude::*;

use crate::errors::OrInternal;

/// The setting's current value; empty when the setting does not exist (a custom
/// `app.*` one never set).
pub fn current(name: &str) -> String {
    Spi::get_one_with_args::<String>("SELECT pg_catalog.current_setting($1, true)", &[name.into()])
        .or_internal("current_setting")
        .unwrap_or_default()
}

/// `SET LOCAL name = value`, through set_config (the name need not be an identifier).
pub fn set_local(name: &str, value: &str) {
    Spi::run_with_args("SELECT pg_catalog.set_config($1, $2, true)", &[name.into(), value.into()])
        .or_internal("set_config");
}

/// Run `work` with each `(name, value)` set LOCAL, then put the caller's values back.
pub fn with_local<T>(settings: &[(&str, &str)], work: impl FnOnce() -> T) -> T {
    let saved: Vec<(&str, String)> = settings.iter().map(|(name, _)| (*name, current(name))).collect();
    for (name, value) in settings {
        set_local(name, value);
    }
    let out = work();
    for (name, value) in &saved {
        set_local(name, value);
    }
    out
}
