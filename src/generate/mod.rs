//! Test-data generation: the random model (pure Rust), the batched writer and its
//! once-per-batch foreign-key checks (SPI), the bulk load of an empty schema, company/user seeding, and many tenants at
//! once.

pub mod bulk;
pub mod copy_rows;
pub mod fk_batch;
pub mod model;
pub mod seed;
pub mod tenants;
pub mod writer;
