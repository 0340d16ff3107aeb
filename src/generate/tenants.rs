//! Many tenants at once (scenario 5 and beyond): the plan's company and user UUID
//! patterns, each tenant filled by the batched writer. Callers refresh
//! `customer_metrics` once when all is written, not once per tenant
//! (docs/plan-corrections.md).

use pgrx::prelude::*;
use std::time::Instant;

use super::model::parse_uuid;
use super::writer::{self, Counts, Request};
use crate::errors::OrInternal;
use crate::sut::Target;

/// 'aaaaaaaa-aaaa-aaaa-aaaa-' || LPAD(i::text, 12, '0'), as the plan's scenario 5.
pub fn company_id(i: i32) -> String {
    format!("aaaaaaaa-aaaa-aaaa-aaaa-{i:012}")
}

pub fn user_id(i: i32) -> String {
    format!("bbbbbbbb-bbbb-bbbb-bbbb-{i:012}")
}

/// A distinct, reproducible random stream per tenant.
pub fn tenant_seed(seed: u64, tenant: i32) -> u64 {
    // SplitMix64 step: neighbouring tenants get unrelated seeds.
    let mut z = seed.wrapping_add((tenant as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub struct Filled {
    pub counts: Counts,
    pub tenants_filled: i32,
    pub elapsed_ms: f64,
}

/// Ensure tenants 1..=companies exist (company "Test Company i", its user) and give
/// `per_company` customers to each; with `only_empty`, tenants that already have
/// customers are left as they are.
pub fn fill(
    target: &Target,
    companies: i32,
    per_company: i32,
    seed: u64,
    only_empty: bool,
    copy: Option<&super::bulk::CopyInto>,
) -> Filled {
    let start = Instant::now();
    let mut counts = Counts::default();
    let mut tenants_filled = 0;
    let children = writer::Children::plan(target);
    for i in 1..=companies {
        let (company, user) = (company_id(i), user_id(i));
        super::seed::ensure_company(
            target,
            &company,
            &format!("Test Company {i}"),
            &user,
            &format!("user{i}@company{i}.com"),
        );
        if only_empty && super::seed::customer_count(target, &company) > 0 {
            continue;
        }
        let c = writer::write(&Request {
            target,
            company_id: pgrx::Uuid::from_bytes(parse_uuid(&company).or_internal("pattern uuid")),
            user_id: pgrx::Uuid::from_bytes(parse_uuid(&user).or_internal("pattern uuid")),
            count: per_company as i64,
            seed: tenant_seed(seed, i),
            progress_notices: false,
            children: &children,
            copy,
        });
        counts.add(&c);
        tenants_filled += 1;
        notice!("tenant {i}/{companies}: {} customers for company {company}", c.customers);
    }
    if tenants_filled > 0 {
        notice!("foreign keys of generated rows: {}", children.describe());
    }
    Filled { counts, tenants_filled, elapsed_ms: start.elapsed().as_secs_f64() * 1000.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_uuid_patterns() {
        assert_eq!(company_id(1), "aaaaaaaa-aaaa-aaaa-aaaa-000000000001");
        assert_eq!(user_id(10), "bbbbbbbb-bbbb-bbbb-bbbb-000000000010");
        assert!(parse_uuid(&company_id(999)).is_some());
    }

    #[test]
    fn tenant_seeds_differ_and_repeat() {
        assert_eq!(tenant_seed(42, 3), tenant_seed(42, 3));
        assert_ne!(tenant_seed(42, 3), tenant_seed(42, 4));
        assert_ne!(tenant_seed(42, 3), tenant_seed(43, 3));
    }
}
