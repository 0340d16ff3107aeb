//! The SQL functions a DBA calls; one file per thing they do. Each is thin: argument
//! checks, then a call into the modules that do the work.

pub mod cleanup;
pub mod generate;
pub mod grants;
pub mod history;
pub mod ledger;
pub mod load;
pub mod log;
pub mod report;
pub mod run;
pub mod scaling;
pub mod schedule;
pub mod schema;
