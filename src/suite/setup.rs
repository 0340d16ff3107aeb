//! The data each scenario of the plan starts from.

use pgrx::prelude::*;

use crate::generate::model::parse_uuid;
use crate::generate::writer::{self, Request};
use crate::sut::Target;

/// Scenario 1's company and user ("Load Test Company").
pub const LOAD_TEST_COMPANY: &str = "11111111-1111-1111-1111-111111111111";
pub const LOAD_TEST_USER: &str = "22222222-2222-2222-2222-222222222222";
/// Customers the plan generates for scenario 1.
pub const LOAD_TEST_CUSTOMERS: i64 = 1000;

/// Insert a company and its user unless they exist (works without unique constraints).
pub fn ensure_company(target: &Target, company: &str, name: &str, user: &str, email: &str) {
    Spi::run_with_args(
        &format!(
            "INSERT INTO {c} (id, name) SELECT $1::uuid, $2 WHERE NOT EXISTS (SELECT 1 FROM {c} WHERE id = $1::uuid)",
            c = target.rel("companies")
        ),
        &[company.into(), name.into()],
    )
    .expect("company row");
    Spi::run_with_args(
        &format!(
            "INSERT INTO {u} (id, email, company_id) SELECT $1::uuid, $2, $3::uuid WHERE NOT EXISTS (SELECT 1 FROM {u} WHERE id = $1::uuid)",
            u = target.rel("users")
        ),
        &[user.into(), email.into(), company.into()],
    )
    .expect("user row");
}

fn customer_count(target: &Target, company: &str) -> i64 {
    Spi::get_one_with_args::<i64>(
        &format!("SELECT count(*) FROM {} WHERE company_id = $1::uuid", target.rel("customers")),
        &[company.into()],
    )
    .expect("customer count")
    .unwrap_or(0)
}

pub fn refresh_metrics(target: &Target) {
    Spi::run(&format!("REFRESH MATERIALIZED VIEW {}", target.rel("customer_metrics"))).expect("refresh customer_metrics");
}

/// Prepare `scenario`'s data; returns a note on what was done.
pub fn prepare(scenario: i32, target: &Target, seed: u64) -> String {
    match scenario {
        1 => {
            ensure_company(target, LOAD_TEST_COMPANY, "Load Test Company", LOAD_TEST_USER, "loadtest@example.com");
            let existing = customer_count(target, LOAD_TEST_COMPANY);
            if existing > 0 {
                return format!("scenario 1: using the {existing} customers company {LOAD_TEST_COMPANY} already has");
            }
            let counts = writer::write(&Request {
                target,
                company_id: uuid(LOAD_TEST_COMPANY),
                user_id: uuid(LOAD_TEST_USER),
                count: LOAD_TEST_CUSTOMERS,
                seed,
                progress_notices: false,
            });
            refresh_metrics(target);
            format!(
                "scenario 1: generated {} customers, {} conversations, {} events (seed {seed})",
                counts.customers, counts.conversations, counts.events
            )
        }
        _ => String::new(),
    }
}

/// Refresh planner statistics of the tables under test (the plan's remediation step 3,
/// done up front so that plans reflect the generated data).
pub fn analyze(target: &Target) {
    for rel in ["companies", "users", "customers", "customer_matching_keys", "VC Usage", "customer_events",
                "customer_conversation_summaries", "customer_metrics"] {
        Spi::run(&format!("ANALYZE {}", target.rel(rel))).expect("ANALYZE");
    }
}

pub fn uuid(text: &str) -> pgrx::Uuid {
    pgrx::Uuid::from_bytes(parse_uuid(text).expect("constant uuid"))
}
