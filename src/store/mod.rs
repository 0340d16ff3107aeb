//! Every query on pg_perfsuite's own tables that is more than a lookup: runs and
//! results (runs), the test registry (registry), the ledger of generated companies
//! (ledger), load tests (load) and capacity searches (capacity), what a report is
//! built from (report), scaling sweeps
//! (scaling). Above the domain (it reads and
//! writes its types), below orchestration.

pub mod capacity;
pub mod compare;
pub mod history;
pub mod ledger;
pub mod load;
pub mod registry;
pub mod report;
pub mod runs;
pub mod scaling;
