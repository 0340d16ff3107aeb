//! The canary: fixed work that reads no table, timed at the start of every run. Its
//! figure moves when the machine does (another CPU, a noisy neighbour, a changed
//! frequency) and not when a schema, its data or its plans do; perf_history sets a
//! test's shifts beside the canary's to tell the two apart.

use std::time::Instant;

use crate::errors::OrInternal;

/// Hash 50,000 integers from a set-returning function and sum them: executor, function
/// calls and a small in-memory tuplestore, nothing on disk (work_mem is raised for it).
const WORK: &str = "SELECT pg_catalog.sum(pg_catalog.hashint4(i)) FROM pg_catalog.generate_series(1, 50000) AS i";
const WARMUP: usize = 2;
const TIMED: usize = 7;

/// The median of the canary's timed executions, ms.
pub fn measure() -> f64 {
    crate::pg::guc::with_local(&[("work_mem", "16MB"), ("max_parallel_workers_per_gather", "0")], || {
        let mut ms = Vec::with_capacity(TIMED);
        for i in 0..WARMUP + TIMED {
            let t = Instant::now();
            pgrx::spi::Spi::run(WORK).or_internal("the canary");
            if i >= WARMUP {
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            pgrx::check_for_interrupts!();
        }
        crate::suite::result::ms(crate::suite::stats::median(&ms))
    })
}
