//! Test-data generation: the random model (pure Rust) and the bulk writer (SPI).

pub mod model;
pub mod tenants;
pub mod writer;
