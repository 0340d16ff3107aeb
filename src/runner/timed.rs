//! The timing loop: warm-up, N timed executions of one prepared statement, then one
//! `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` for plan facts. Latency never comes from
//! EXPLAIN ANALYZE, whose per-node timing inflates short queries.

use pgrx::pg_sys;
use pgrx::prelude::*;
use std::time::Instant;

/// Raw output of a timed query.
pub struct Measurement {
    /// Milliseconds per timed execution.
    pub samples_ms: Vec<f64>,
    /// Rows the query returned (last execution).
    pub rows: i64,
    /// EXPLAIN's JSON document.
    pub plan: serde_json::Value,
}

/// Execute `sql` `warmup` times untimed, `iterations` times timed, then EXPLAIN it.
pub fn measure(sql: &str, warmup: i32, iterations: i32) -> Measurement {
    Spi::connect(|client| {
        let stmt = client.prepare(sql, &[])?;
        let run_once = || -> Result<i64, pgrx::spi::Error> {
            let rows = client.select(&stmt, None, &[])?.len() as i64;
            // SAFETY: the SpiTupleTable borrowing SPI_tuptable was dropped on the line
            // above; freeing it now keeps memory flat over thousands of iterations
            // (pgrx releases tuple tables only at SPI_finish).
            unsafe { pg_sys::SPI_freetuptable(pg_sys::SPI_tuptable) };
            Ok(rows)
        };
        for _ in 0..warmup {
            run_once()?;
            pgrx::check_for_interrupts!();
        }
        let mut samples_ms = Vec::with_capacity(iterations.max(0) as usize);
        let mut rows = 0;
        for _ in 0..iterations {
            let start = Instant::now();
            rows = run_once()?;
            samples_ms.push(start.elapsed().as_secs_f64() * 1000.0);
            pgrx::check_for_interrupts!();
        }
        let plan = client
            .select(&format!("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}"), None, &[])?
            .first()
            .get_one::<pgrx::Json>()?
            .map(|j| j.0)
            .unwrap_or(serde_json::Value::Null);
        Ok::<_, pgrx::spi::Error>(Measurement { samples_ms, rows, plan })
    })
    .unwrap_or_else(|e| pgrx::error!("timing query failed: {e}"))
}
