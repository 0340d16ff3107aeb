//! Reading tests from the `perf_tests` registry.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode as Code;

use crate::errors::{raise, OrInternal};
use crate::suite::model::{normalize_sql, Kind, RunAs, TestDef};
use crate::suite::stats::Statistic;

/// Enabled tests whose id matches the LIKE `pattern`, in plan order.
pub fn load(pattern: &str) -> Vec<TestDef> {
    load_where(pattern, false)
}

/// The plan's own write tests (built in, enabled, `measures_writes`): what a candidate
/// index's write penalty is measured with.
pub fn load_builtin_writes() -> Vec<TestDef> {
    load_where("%", true)
}

fn load_where(pattern: &str, builtin_writes: bool) -> Vec<TestDef> {
    Spi::connect(|c| {
        let table = c.select(
            "SELECT test_id, scenario, name, kind, query_type, coalesce(sql, ''), setup_sql, explain_sql, statistic, \
                    target_ms::float8, acceptable_ms::float8, records, expected_value::float8, commit_last, \
                    iterations, warmup, run_as, tenant_company::text, assert_index, assert_no_seqscan, compare_to, requires_extension, clients, author::text, hold_ms, expected_scales, measures_writes, target_rate::float8 \
               FROM perf_tests \
              WHERE enabled AND test_id LIKE $1 AND (NOT $2 OR (builtin AND measures_writes)) \
              ORDER BY scenario, test_id COLLATE \"C\"",
            None,
            &[pattern.into(), builtin_writes.into()],
        )?;
        let mut out = Vec::new();
        for row in table {
            let test_id: String = row.get(1)?.unwrap_or_default();
            let kind_text: String = row.get(4)?.unwrap_or_default();
            let stat_text: String = row.get(9)?.unwrap_or_default();
            let run_as_text: String = row.get(17)?.unwrap_or_default();
            let kind = Kind::parse(&kind_text).unwrap_or_else(|| {
                raise(Code::ERRCODE_DATA_EXCEPTION, format!("test {test_id}: unknown kind \"{kind_text}\""), None)
            });
            let statistic = Statistic::parse(&stat_text).unwrap_or_else(|| {
                raise(Code::ERRCODE_DATA_EXCEPTION, format!("test {test_id}: unknown statistic \"{stat_text}\""), None)
            });
            let run_as = match (run_as_text.as_str(), row.get::<String>(18)?) {
                ("tenant", Some(company)) => RunAs::Tenant(company),
                _ => RunAs::Owner,
            };
            out.push(TestDef {
                scenario: row.get(2)?.unwrap_or_default(),
                name: row.get(3)?.unwrap_or_default(),
                kind,
                query_type: row.get(5)?.unwrap_or_default(),
                sql: normalize_sql(&row.get::<String>(6)?.unwrap_or_default()),
                setup_sql: row.get::<String>(7)?.map(|s| normalize_sql(&s)),
                explain_sql: row.get::<String>(8)?.map(|s| normalize_sql(&s)),
                statistic,
                target_ms: row.get(10)?,
                acceptable_ms: row.get(11)?,
                records: row.get(12)?,
                expected_value: row.get(13)?,
                commit_last: row.get(14)?.unwrap_or(false),
                iterations: row.get(15)?.unwrap_or(1),
                warmup: row.get(16)?.unwrap_or(0),
                run_as,
                assert_index: row.get(19)?,
                assert_no_seqscan: row.get(20)?,
                compare_to: row.get(21)?,
                requires_extension: row.get(22)?,
                clients: row.get(23)?,
                tenant_company: row.get(18)?,
                author: row.get(24)?.unwrap_or_default(),
                hold_ms: row.get(25)?,
                expected_scales: row.get::<bool>(26)?.unwrap_or(false),
                measures_writes: row.get::<bool>(27)?.unwrap_or(false),
                target_rate: row.get(28)?,
                test_id,
            });
        }
        Ok::<_, pgrx::spi::Error>(out)
    })
    .or_internal("reading perf_tests")
}

/// What test `test_id`'s second session runs (5.4's `concurrent_sql`) and how long it
/// holds its locks (None: until the first session is done).
pub fn concurrent_sql(test_id: &str) -> Option<(String, Option<i32>, String)> {
    Spi::connect(|c| {
        let rows = c.select(
            "SELECT concurrent_sql, hold_ms, author::pg_catalog.text FROM perf_tests WHERE test_id = $1",
            Some(1),
            &[test_id.into()],
        )?;
        let mut found = None;
        for r in rows {
            let hold = r.get::<i32>(2)?;
            let author = r.get::<String>(3)?.unwrap_or_default();
            found = r.get::<String>(1)?.map(|sql| (sql, hold, author));
        }
        Ok::<_, pgrx::spi::Error>(found)
    })
    .unwrap_or_else(|e| crate::errors::internal("reading perf_tests", e))
}
