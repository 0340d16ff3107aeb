//! The system under test: the plan's customer-management schema, installed into a
//! chosen schema or found there already.

pub mod columns;
pub mod gate;
pub mod install;
pub mod ownership;
pub mod tenant;
pub mod trgm;

pub use install::{ensure_schema, Target};
