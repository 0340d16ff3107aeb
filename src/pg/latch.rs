//! Waiting the PostgreSQL way: on the process latch, with a timeout, checking for
//! interrupts after every wake-up. A plain thread sleep would ignore query cancel,
//! pg_terminate_backend and ProcSignalBarriers (a sleeping worker makes every
//! DROP DATABASE in the cluster wait for it).

use pgrx::pg_sys;
use std::time::{Duration, Instant};

/// Longest single latch wait: interrupts are checked at least this often even if
/// nothing sets the latch.
const SLICE_MS: i64 = 1000;

/// Sleep on the latch for up to `ms`, waking early when it is set (signals set it);
/// raises on cancel or terminate like any PostgreSQL wait.
pub fn nap(ms: i64) {
    // SAFETY: MyLatch is this process's latch; flags and wait event are constants.
    unsafe {
        pg_sys::WaitLatch(
            pg_sys::MyLatch,
            (pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH) as i32,
            ms.clamp(0, SLICE_MS) as _,
            pg_sys::PG_WAIT_EXTENSION,
        );
        pg_sys::ResetLatch(pg_sys::MyLatch);
    }
    pgrx::check_for_interrupts!();
}

/// Sleep until `deadline`, interruptibly: on the latch, whose timeout is in whole
/// milliseconds, rounded up, so the wait ends at the deadline or up to a millisecond
/// after it, never before (a load client's transaction is never started ahead of its
/// schedule; the lateness is measured as schedule lag).
pub fn sleep_until(deadline: Instant) {
    loop {
        pgrx::check_for_interrupts!();
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        nap(((deadline - now).as_micros().div_ceil(1000)) as i64);
    }
}

/// Sleep for `d`, interruptibly.
pub fn sleep_for(d: Duration) {
    sleep_until(Instant::now() + d)
}
