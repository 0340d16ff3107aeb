//! Test-data generation: the random model (pure Rust) and the bulk writer (SPI).

pub mod fk_batch;
pub mod model;
pub mod tenants;
pub mod writer;
