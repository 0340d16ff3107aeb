//! The data each scenario of the plan starts from. Every step is idempotent: data the
//! plan's tests change (bulk conversations, delete-test customers) is recreated, data
//! they only read is generated once and reused.

use pgrx::prelude::*;

use crate::errors::OrInternal;
use crate::generate::seed::{analyze, customer_count, ensure_company, refresh_metrics, uuid};
use crate::generate::writer::{self, Request};
use crate::generate::{bulk, tenants};
use crate::sut::Target;

/// Scenario 1's company and user ("Load Test Company").
pub const LOAD_TEST_COMPANY: &str = "11111111-1111-1111-1111-111111111111";
pub const LOAD_TEST_USER: &str = "22222222-2222-2222-2222-222222222222";
/// Customers the plan generates for scenario 1, and per tenant in scenario 5.
pub const LOAD_TEST_CUSTOMERS: i64 = 1000;
pub const TENANTS: i32 = 10;

/// Delete customers of `company` whose name is LIKE `name_like`, children first (a
/// user's schema may not cascade), with the conversations that point at them.
fn delete_customers(target: &Target, company: &str, name_like: &str) -> i64 {
    let victims =
        format!("SELECT id FROM {} WHERE company_id = $1::uuid AND customer_name LIKE $2", target.rel("customers"));
    for child in ["customer_matching_keys", "customer_events", "customer_conversation_summaries", "VC Usage"] {
        Spi::run_with_args(
            &format!("DELETE FROM {} WHERE customer_id IN ({victims})", target.rel(child)),
            &[company.into(), name_like.into()],
        )
        .or_internal("delete child rows");
    }
    Spi::get_one_with_args::<i64>(
        &format!(
            "WITH d AS (DELETE FROM {} WHERE id IN ({victims}) RETURNING 1) SELECT pg_catalog.count(*) FROM d",
            target.rel("customers")
        ),
        &[company.into(), name_like.into()],
    )
    .or_internal("delete customers")
    .unwrap_or(0)
}

/// Scenario 1's data: the Load Test Company with its customers (1000 at scale 1).
/// Returns its note and whether customers were generated.
fn load_test_company(target: &Target, seed: u64, customers: i64, copy: Option<&bulk::CopyInto>) -> (String, bool) {
    ensure_company(target, LOAD_TEST_COMPANY, "Load Test Company", LOAD_TEST_USER, "loadtest@example.com");
    let existing = customer_count(target, LOAD_TEST_COMPANY);
    if existing > 0 {
        return (format!("using the {existing} customers company {LOAD_TEST_COMPANY} already has"), false);
    }
    let counts = writer::write(&Request {
        target,
        company_id: uuid(LOAD_TEST_COMPANY),
        user_id: uuid(LOAD_TEST_USER),
        count: customers,
        seed,
        progress_notices: false,
        children: &writer::Children::plan(target),
        copy,
    });
    let note = format!(
        "generated {} customers, {} conversations, {} events for company {LOAD_TEST_COMPANY} (seed {seed})",
        counts.customers, counts.conversations, counts.events
    );
    (note, true)
}

/// The four searchable customers of scenario 2, added once.
/// Scenario 2's customers the fuzzy searches look for: name, email, phone.
const SEARCHABLE: [(&str, &str, &str); 4] = [
    ("John Smith", "john.smith@example.com", "+1-555-123-4567"),
    ("Johnny Smithson", "johnny@example.com", "+1-555-123-4568"),
    ("Jon Smythe", "jon.smythe@example.com", "+1-555-123-4569"),
    ("Jane Johnson", "jane@example.com", "+1-555-987-6543"),
];

fn searchable_customers(target: &Target) -> String {
    let added = Spi::get_one_with_args::<i64>(
        &format!(
            "WITH wanted(name, email, phone) AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($3::text[]),
                    pg_catalog.unnest($4::text[]), pg_catalog.unnest($5::text[]))),
             ins AS (
                INSERT INTO {c} (company_id, customer_name, customer_email, customer_phone, created_by_user_id)
                SELECT $1::uuid, w.name, w.email, w.phone, $2::uuid FROM wanted w
                 WHERE NOT EXISTS (SELECT 1 FROM {c} x WHERE x.company_id = $1::uuid AND x.customer_email = w.email)
                RETURNING 1)
             SELECT pg_catalog.count(*) FROM ins",
            c = target.rel("customers")
        ),
        &[
            LOAD_TEST_COMPANY.into(),
            LOAD_TEST_USER.into(),
            SEARCHABLE.iter().map(|s| s.0).collect::<Vec<_>>().into(),
            SEARCHABLE.iter().map(|s| s.1).collect::<Vec<_>>().into(),
            SEARCHABLE.iter().map(|s| s.2).collect::<Vec<_>>().into(),
        ],
    )
    .or_internal("scenario 2 customers")
    .unwrap_or(0);
    format!("{added} of the 4 searchable customers added")
}

/// Smallest and largest `scale` of a run: 10 to 500,000 customers per company.
pub const MIN_SCALE: f64 = 0.01;
pub const MAX_SCALE: f64 = 500.0;

/// Customers per company at `scale` (the plan's 1000 at scale 1).
pub fn customers_per_company(scale: f64) -> i64 {
    (LOAD_TEST_CUSTOMERS as f64 * scale).round() as i64
}

/// Refuse a scale outside [MIN_SCALE, MAX_SCALE] (22023, naming the argument).
pub fn check_scale(scale: f64) {
    if !(MIN_SCALE..=MAX_SCALE).contains(&scale) {
        crate::errors::bad_argument(
            format!("scale must be between {MIN_SCALE} and {MAX_SCALE} (got {scale})"),
            Some("scale multiplies the plan's environment: 1 is its 10 tenants and Load Test Company of 1000 customers each; 100 is 100,000 customers each."),
        );
    }
}

/// Customers per company of the tenants already in `target` (tenant 1's count), None
/// when there are none. Tests never change tenants' customer counts.
fn existing_per_company(target: &Target) -> Option<i64> {
    let n = customer_count(target, &tenants::company_id(1));
    (n > 0).then_some(n)
}

/// Refuse a run whose scale differs from that of the tenants kept in `target` from an
/// earlier run (pg_perfsuite.keep_data): their customer counts would not be the scale's.
pub fn refuse_other_scale(target: &Target, scale: f64) {
    let per_company = customers_per_company(scale);
    if let Some(existing) = existing_per_company(target).filter(|n| *n != per_company) {
        crate::errors::raise(
            pgrx::PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!(
                "the tenants in schema \"{}\" have {existing} customers each (scale {}), this run asks for {per_company} (scale {scale})",
                target.schema,
                existing as f64 / LOAD_TEST_CUSTOMERS as f64
            ),
            Some(&format!(
                "Run at the scale of the data kept from an earlier run, or remove it first with SELECT * FROM perf_cleanup({}).",
                pgrx::spi::quote_literal(&target.schema)
            )),
        );
    }
}

/// The plan's "Test Environment Requirements", built before any scenario runs: 10+
/// companies and 10,000+ customers (scenario 5's ten tenants of 1000) beside scenario
/// 1's Load Test Company, every company `scale` times larger. Without them every table
/// is one company's, and the planner rightly scans whole tables where the plan expects
/// index scans (4.2). Into the reference schema as pg_perfsuite installs it, empty, the
/// rows are bulk-loaded before the indexes and foreign keys (generate::bulk).
pub fn environment(target: &Target, seed: u64, scale: f64) -> String {
    let per_company = customers_per_company(scale);
    let ((load, f, generated), bulk) = bulk::load(target, |copy| {
        let (load, generated) = load_test_company(target, seed, per_company, copy);
        let f = tenants::fill(target, TENANTS, per_company as i32, seed, true, copy);
        (load, f, generated)
    });
    let removed = put_back(target);
    if generated || f.tenants_filled > 0 || removed > 0 {
        refresh_metrics(target);
    }
    analyze(target);
    let how = bulk.map(|b| format!("; {}", b.describe())).unwrap_or_default();
    format!(
        "environment at scale {scale}: {load}; {} of {TENANTS} tenants generated ({} customers, {} conversations, {} events in {:.0} ms){how}; \
         {removed} customers earlier runs' scenarios left removed",
        f.tenants_filled, f.counts.customers, f.counts.conversations, f.counts.events, f.elapsed_ms
    )
}

/// Scenario 3's bulk customers and their conversations (what 3.1 keeps).
fn remove_bulk(target: &Target) -> i64 {
    let removed = delete_customers(target, LOAD_TEST_COMPANY, "Bulk Customer %");
    Spi::run_with_args(
        &format!(
            "DELETE FROM {} WHERE company_id = $1::uuid AND session_id LIKE 'bulk\\_session\\_%'",
            target.rel("VC Usage")
        ),
        &[LOAD_TEST_COMPANY.into()],
    )
    .or_internal("delete bulk conversations");
    removed
}

/// What a run's write load (L.2) created: its conversations first, then its customers.
fn remove_write_load(target: &Target) -> i64 {
    Spi::run_with_args(
        &format!(
            "DELETE FROM {} WHERE company_id = $1::uuid AND session_id LIKE 'load\\_write\\_%'",
            target.rel("VC Usage")
        ),
        &[LOAD_TEST_COMPANY.into()],
    )
    .or_internal("delete write-load conversations");
    delete_customers(target, LOAD_TEST_COMPANY, "Load Write Customer %")
}

/// Put back the state the seed defines: what earlier runs' scenarios left in the Load
/// Test Company (the searchable customers of scenario 2, the bulk customers and
/// conversations 3.1 keeps, the delete-test customers 4.1 soft-deletes, the write load's
/// conversations and customers), removed before any test runs, so that scenario 1 and
/// 2 do not measure tables holding the later scenarios' rows of the run before. Each
/// scenario adds its own again just before its tests. Returns the customers removed.
fn put_back(target: &Target) -> i64 {
    remove_bulk(target)
        + delete_customers(target, LOAD_TEST_COMPANY, "Delete Test Customer %")
        + remove_write_load(target)
        + SEARCHABLE.iter().map(|(name, _, _)| delete_customers(target, LOAD_TEST_COMPANY, name)).sum::<i64>()
}

/// Prepare `scenario`'s own data (after `environment`); returns a note on what was done.
pub fn prepare(scenario: i32, target: &Target) -> String {
    let note = match scenario {
        2 => searchable_customers(target),
        3 => format!("{} bulk customers of an earlier run removed", remove_bulk(target)),
        4 => {
            let removed = delete_customers(target, LOAD_TEST_COMPANY, "Delete Test Customer %");
            Spi::run_with_args(
                &format!(
                    "INSERT INTO {} (company_id, customer_name, created_by_user_id) \
                     SELECT $1::uuid, 'Delete Test Customer ' || i::text, $2::uuid FROM pg_catalog.generate_series(1, 100) i",
                    target.rel("customers")
                ),
                &[LOAD_TEST_COMPANY.into(), LOAD_TEST_USER.into()],
            )
            .or_internal("delete-test customers");
            format!("100 delete-test customers inserted ({removed} of an earlier run removed)")
        }
        7 => format!("{} write-load customers of an earlier run removed", remove_write_load(target)),
        _ => return String::new(),
    };
    analyze(target);
    format!("scenario {scenario}: {note}")
}
