//! PostgreSQL glue that pgrx does not offer in a usable form: locks that SQL cannot
//! take, and waits that wake on the latch. Everything `unsafe` here carries a
//! `// SAFETY:` line.

pub mod catalog;
pub mod latch;
pub mod lock;
pub mod roles;
pub mod subxact;
pub mod timeout;
