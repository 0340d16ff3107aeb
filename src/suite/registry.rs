//! Reading tests from the `perf_tests` registry.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use super::model::{Kind, RunAs, TestDef};
use super::stats::Statistic;
use crate::errors::raise;

/// Enabled tests whose id matches the LIKE `pattern`, in plan order.
pub fn load(pattern: &str) -> Vec<TestDef> {
    let rows: Vec<TestDef> = Spi::connect(|c| {
        let table = c.select(
            "SELECT test_id, scenario, name, kind, query_type, sql, statistic, \
                    target_ms::float8, acceptable_ms::float8, iterations, warmup, run_as, tenant_company::text, \
                    assert_index, assert_no_seqscan \
               FROM perf_tests \
              WHERE enabled AND test_id LIKE $1 \
              ORDER BY scenario, test_id COLLATE \"C\"",
            None,
            &[pattern.into()],
        )?;
        let mut out = Vec::new();
        for row in table {
            let test_id: String = row.get(1)?.unwrap_or_default();
            let kind_text: String = row.get(4)?.unwrap_or_default();
            let stat_text: String = row.get(7)?.unwrap_or_default();
            let run_as_text: String = row.get(12)?.unwrap_or_default();
            let kind = Kind::parse(&kind_text)
                .unwrap_or_else(|| raise(Code::ERRCODE_DATA_EXCEPTION, format!("test {test_id}: unknown kind \"{kind_text}\""), None));
            let statistic = Statistic::parse(&stat_text)
                .unwrap_or_else(|| raise(Code::ERRCODE_DATA_EXCEPTION, format!("test {test_id}: unknown statistic \"{stat_text}\""), None));
            let run_as = match (run_as_text.as_str(), row.get::<String>(13)?) {
                ("tenant", Some(company)) => RunAs::Tenant(company),
                _ => RunAs::Owner,
            };
            out.push(TestDef {
                scenario: row.get(2)?.unwrap_or_default(),
                name: row.get(3)?.unwrap_or_default(),
                kind,
                query_type: row.get(5)?.unwrap_or_default(),
                sql: row.get(6)?.unwrap_or_default(),
                statistic,
                target_ms: row.get(8)?,
                acceptable_ms: row.get(9)?,
                iterations: row.get(10)?.unwrap_or(1),
                warmup: row.get(11)?.unwrap_or(0),
                run_as,
                assert_index: row.get(14)?,
                assert_no_seqscan: row.get(15)?,
                test_id,
            });
        }
        Ok::<_, pgrx::spi::Error>(out)
    })
    .expect("reading perf_tests");
    rows
}
