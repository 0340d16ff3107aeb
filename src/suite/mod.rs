//! The Phase 3B suite: test definitions, statistics, verdicts, results (pure Rust),
//! plus reading the registry and preparing each scenario's data (SPI).

pub mod assertions;
pub mod model;
pub mod registry;
pub mod result;
pub mod setup;
pub mod stats;
pub mod verdict;
