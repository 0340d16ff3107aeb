//! The Phase 3B suite: test definitions, statistics, verdicts, results (pure Rust),
//! plus preparing each scenario's data (SPI). The registry is read by store::registry.

pub mod candidate;
pub mod changepoint;
pub mod finding;
pub mod model;
pub mod noise;
pub mod result;
pub mod scaling;
pub mod setup;
pub mod stats;
pub mod verdict;
