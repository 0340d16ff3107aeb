//! Test-data generation: the random model (pure Rust), the bulk writer and its
//! once-per-batch foreign-key checks (SPI), company/user seeding, and many tenants at
//! once.

pub mod fk_batch;
pub mod model;
pub mod seed;
pub mod tenants;
pub mod writer;
