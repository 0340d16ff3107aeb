//! The session context a test runs in: the target's search_path, and for tenant tests
//! the plain tenant role with `app.current_company_id`. Everything is set LOCAL inside
//! the test's subtransaction (a session-wide SET would leak into later
//! tests). Rolling the subtransaction back restores the caller's values; work that is
//! kept (committed subtransactions) calls `Saved::restore` before it ends.

use crate::pg::guc::{current, set_local};
use crate::suite::model::RunAs;
use crate::sut::install::TENANT_ROLE;
use crate::sut::Target;

/// The caller's values of what `enter` changes.
pub struct Saved {
    search_path: String,
    role: String,
    company: String,
}

pub fn enter(target: &Target, run_as: &RunAs) -> Saved {
    let saved = Saved {
        search_path: current("search_path"),
        role: current("role"),
        company: current("app.current_company_id"),
    };
    set_local("search_path", &target.search_path());
    match run_as {
        RunAs::Tenant(company) => {
            set_local("app.current_company_id", company);
            set_local("role", TENANT_ROLE);
        }
        RunAs::Author(role) => set_local("role", role),
        RunAs::Owner => {}
    }
    saved
}

/// Run `f` as `role` (SET LOCAL ROLE), then put the caller's role back: a setting made
/// in a subtransaction that is released outlives it.
pub fn as_role<T>(role: &str, f: impl FnOnce() -> T) -> T {
    let saved = current("role");
    set_local("role", role);
    let out = f();
    set_local("role", if saved.is_empty() { "none" } else { &saved });
    out
}

impl Saved {
    pub fn restore(self) {
        // Role first: the tenant may not be allowed to change the others back.
        set_local("role", if self.role.is_empty() { "none" } else { &self.role });
        set_local("app.current_company_id", &self.company);
        set_local("search_path", &self.search_path);
    }
}
