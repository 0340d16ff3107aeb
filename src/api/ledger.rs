//! The ledger of generated companies (`perf_generated_companies`) decides what
//! perf_cleanup may delete, so nobody writes it directly: operators may only read it.
//! These two functions are the only writers. They run with the extension owner's
//! rights (SECURITY DEFINER, search_path pg_catalog then pg_temp) and check that what
//! they are told is true:
//! - a company is recorded only if its row was written by the calling transaction
//!   itself (its xmin is one of this transaction's ids), so an existing company can
//!   never be slipped in;
//! - an entry is forgotten only once its company row is gone.
//!
//! Every entry records the role that generated it; perf_cleanup deletes a company with
//! that role's rights (see runner::cleanup), never more.

use pgrx::prelude::*;

use crate::errors::required;
use crate::store::ledger;

/// Record that the calling transaction generated company `company_id` in `target_schema`.
#[pg_extern(volatile, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn perf_ledger_record(target_schema: Option<&str>, company_id: Option<pgrx::Uuid>) -> bool {
    ledger::record_generated(required(target_schema, "target_schema"), required(company_id, "company_id"))
}

/// Forget the ledger entries of `target_schema` whose company no longer exists there.
#[pg_extern(volatile, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn perf_ledger_forget(target_schema: Option<&str>) -> i64 {
    ledger::forget_gone(required(target_schema, "target_schema"))
}
