//! The session context a test runs in: the target's search_path, and for tenant tests
//! the plain tenant role with `app.current_company_id`. Everything is set LOCAL inside
//! the test's subtransaction, so rolling that back restores the caller's session
//! (ERRATA 5: a session-wide SET would leak into later tests).

use pgrx::prelude::*;

use crate::suite::model::RunAs;
use crate::sut::install::TENANT_ROLE;
use crate::sut::Target;

pub fn enter(target: &Target, run_as: &RunAs) {
    Spi::run_with_args(
        "SELECT pg_catalog.set_config('search_path', $1, true)",
        &[target.search_path().into()],
    )
    .expect("set search_path");
    if let RunAs::Tenant(company) = run_as {
        Spi::run_with_args(
            "SELECT pg_catalog.set_config('app.current_company_id', $1, true)",
            &[company.as_str().into()],
        )
        .expect("set app.current_company_id");
        Spi::run(&format!("SET LOCAL ROLE {TENANT_ROLE}")).expect("SET LOCAL ROLE");
    }
}
