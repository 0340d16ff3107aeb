//! In-database load testing: pgbench's clients as background workers, the plan's
//! customer-list + fuzzy-search script built in, results as percentiles in tables.

pub mod capacity;
pub mod client;
pub mod coordinator;
pub mod monitor;
pub mod preset;
pub mod script;
pub mod suite;
