//! The context a test's SQL runs in: the identity it runs as (the run's role, its
//! author, or the plain tenant role with `app.current_company_id`) and the target's
//! search_path. The server refuses every identity change inside it, and every setting
//! changed inside it is put back when it ends (pg::secctx). SQL whose author the run's
//! role does not trust (pg::roles::trusts) runs in a security-restricted operation on
//! top.

use pgrx::pg_sys;

use crate::pg::guc::set_local;
use crate::pg::{roles, secctx};
use crate::suite::model::RunAs;
use crate::sut::Target;

/// Who and where, resolved once per test (role names to OIDs).
pub struct Context {
    role: pg_sys::Oid,
    restricted: bool,
    search_path: String,
    company: Option<String>,
}

impl Context {
    /// The context for SQL by `author` run as `run_as` against `target`. A role that
    /// no longer exists (an author dropped since) raises 42704.
    pub fn new(target: &Target, run_as: &RunAs, author: &str) -> Context {
        Context { restricted: !roles::trusts(author), ..Context::for_own_sql(target, run_as) }
    }

    /// The context for the extension's own SQL run as `run_as` (the isolation sweep's
    /// reads as the tenant): identity changes refused, not restricted.
    pub fn for_own_sql(target: &Target, run_as: &RunAs) -> Context {
        let (role, company) = match run_as {
            RunAs::Tenant(company) => (named(&target.tenant_role), Some(company.clone())),
            RunAs::Author(role) => (named(role), None),
            RunAs::Owner => (secctx::current_user(), None),
        };
        Context { role, restricted: false, search_path: target.search_path(), company }
    }

    /// Run `f` in this context; the caller's identity and settings are back afterwards.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        secctx::as_user(self.role, self.restricted, || {
            set_local("search_path", &self.search_path);
            if let Some(company) = &self.company {
                set_local("app.current_company_id", company);
            }
            f()
        })
    }
}

fn named(role: &str) -> pg_sys::Oid {
    roles::role_oid(role).map(pg_sys::Oid::from_u32).unwrap_or_else(|| {
        crate::errors::raise(
            pgrx::PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            format!("role \"{role}\" does not exist"),
            None,
        )
    })
}

/// Run `f` as `role` in a security-restricted operation (see pg::secctx).
pub fn as_role<T>(role: &str, f: impl FnOnce() -> T) -> T {
    secctx::restricted(named(role), f)
}
