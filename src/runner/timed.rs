//! Timing loops. Latency comes from plain execution, never from EXPLAIN ANALYZE,
//! whose per-node timing inflates short queries; EXPLAIN runs once, for plan facts.

use pgrx::prelude::*;
use std::time::{Duration, Instant};

/// How long a timed test may keep iterating: once this much time has gone into it
/// (warm-up included) and it has MIN_SAMPLES, it stops, and its note says how many of
/// its iterations it ran. A single execution longer than the whole budget is enough on
/// its own. At the plan's volume every test finishes well inside it; at 100 times that
/// volume a REFRESH of customer_metrics takes many seconds, and the plan's iteration
/// counts would hold a run for many minutes to add little.
pub const TIME_BUDGET: Duration = Duration::from_secs(5);
/// Fewest timed executions a test stops at for the budget: a median and a spread.
pub const MIN_SAMPLES: usize = 3;

/// The budget of one test, from its first execution.
pub struct Budget {
    started: Instant,
    limit: Duration,
}

impl Budget {
    pub fn start() -> Budget {
        Budget { started: Instant::now(), limit: TIME_BUDGET }
    }

    fn enough(&self, samples: usize, slowest: Duration) -> bool {
        samples >= MIN_SAMPLES || (samples >= 1 && slowest >= self.limit)
    }

    /// Whether another execution taking about as long as the last one would end past
    /// the budget, with enough samples taken to stop after it.
    pub fn next_is_last(&self, samples_after_next: usize, last: Duration) -> bool {
        self.enough(samples_after_next, last) && self.started.elapsed() + last >= self.limit
    }

    /// Whether to stop now, `samples` taken, the last one `last` long.
    pub fn spent(&self, samples: usize, last: Duration) -> bool {
        self.enough(samples, last) && self.started.elapsed() >= self.limit
    }
}

/// Raw output of a timed query.
pub struct Measurement {
    /// Milliseconds per timed execution.
    pub samples_ms: Vec<f64>,
    /// The iterations asked for (more than `samples_ms` holds when the budget ended
    /// the test early).
    pub planned: usize,
    /// Rows the query returned or changed (last execution).
    pub rows: i64,
    /// EXPLAIN's JSON document, when it could be taken.
    pub plan: Option<serde_json::Value>,
}

fn spi_error(e: pgrx::spi::Error) -> ! {
    crate::errors::internal("running a test statement", e)
}

/// `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) sql` as JSON. Executes `sql` for real:
/// callers run it where its effects are rolled back.
pub fn explain_analyze(sql: &str) -> Option<serde_json::Value> {
    Spi::connect_mut(|c| {
        c.update(&format!("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}"), None, &[])?.first().get_one::<pgrx::Json>()
    })
    .unwrap_or_else(|e| spi_error(e))
    .map(|j| j.0)
}

/// Read query: `warmup` untimed then `iterations` timed executions of one prepared
/// statement (fewer when the time budget runs out), then EXPLAIN ANALYZE once.
pub fn measure_query(sql: &str, warmup: i32, iterations: i32) -> Measurement {
    let budget = Budget::start();
    let (samples_ms, rows) = Spi::connect(|client| {
        let stmt = client.prepare(sql, &[])?;
        let run_once = || -> Result<i64, pgrx::spi::Error> {
            let rows = client.select(&stmt, None, &[])?.len() as i64;
            // SAFETY: the SpiTupleTable of this execution was dropped on the line above;
            // freeing it keeps memory flat over thousands of iterations.
            unsafe { crate::pg::xact::free_last_tuptable() };
            Ok(rows)
        };
        for _ in 0..warmup {
            run_once()?;
            crate::pg::timeout::check_deadline();
        }
        let mut samples = Vec::with_capacity(iterations.max(0) as usize);
        let mut rows = 0;
        for _ in 0..iterations {
            let start = Instant::now();
            rows = run_once()?;
            let took = start.elapsed();
            samples.push(took.as_secs_f64() * 1000.0);
            crate::pg::timeout::check_deadline();
            if budget.spent(samples.len(), took) {
                break;
            }
        }
        Ok::<_, pgrx::spi::Error>((samples, rows))
    })
    .unwrap_or_else(|e| spi_error(e));
    Measurement { samples_ms, planned: iterations.max(0) as usize, rows, plan: explain_analyze(sql) }
}

/// Run `setup` (untimed) then time `sql` once; returns (ms, rows processed by the last
/// statement). Several statements separated by semicolons are allowed.
pub fn time_statement(setup: Option<&str>, sql: &str) -> (f64, i64) {
    Spi::connect_mut(|c| {
        if let Some(s) = setup {
            c.update(s, None, &[])?;
        }
        let start = Instant::now();
        let rows = c.update(sql, None, &[])?.len() as i64;
        Ok::<_, pgrx::spi::Error>((start.elapsed().as_secs_f64() * 1000.0, rows))
    })
    .unwrap_or_else(|e| spi_error(e))
}

/// The single number a count check's query returns. Wrapping it in a scalar subquery
/// makes PostgreSQL itself reject a query with several columns or rows.
pub fn scalar(sql: &str) -> Option<f64> {
    Spi::get_one::<f64>(&format!("SELECT (SELECT * FROM ({sql}) AS q)::float8")).unwrap_or_else(|e| spi_error(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(limit_ms: u64) -> Budget {
        Budget { started: Instant::now(), limit: Duration::from_millis(limit_ms) }
    }

    #[test]
    fn the_budget_stops_only_with_enough_samples() {
        // Started a second ago with a millisecond to spend: spent.
        let spent = Budget { started: Instant::now() - Duration::from_secs(1), limit: Duration::from_millis(1) };
        assert!(!spent.spent(2, Duration::ZERO), "fewer than three quick samples: go on");
        assert!(spent.spent(3, Duration::ZERO));
        let b = budget(5_000);
        assert!(!b.spent(3, Duration::from_millis(1)), "time left");
        // One execution longer than the whole budget is enough on its own.
        assert!(b.next_is_last(1, Duration::from_secs(6)));
        assert!(!b.next_is_last(1, Duration::from_secs(1)));
        assert!(b.next_is_last(3, Duration::from_secs(5)));
    }
}
