//! The few PostgreSQL symbols pgrx 0.18 does not expose in a usable form, declared
//! here and nowhere else.
//!
//! `die` is the backend's standard SIGTERM handler: it only sets flags, so the
//! process ends at the next CHECK_FOR_INTERRUPTS, with Rust frames unwound. pgrx's
//! bindings wrap every C function in a guard, which a signal handler must not be, and
//! a bgworker's default SIGTERM handler (bgworker_die) raises FATAL from inside the
//! signal handler.

use std::ffi::c_int;

// PostgreSQL 18 renamed the backend's pqsignal to pqsignal_be (pqsignal is now a macro).
#[cfg(not(feature = "pg18"))]
use pgrx::pg_sys::pqsignal;
#[cfg(feature = "pg18")]
use pgrx::pg_sys::pqsignal_be as pqsignal;

unsafe extern "C-unwind" {
    fn die(postgres_signal_arg: c_int);
}

/// Make SIGTERM end the worker the way it ends a backend, then accept signals.
pub fn install_signal_handlers() {
    // SAFETY: called once at worker start, before any other work; `die` has the
    // pqsigfunc signature and is async-signal-safe (it sets flags and the latch).
    unsafe {
        pqsignal(libc::SIGTERM, Some(die));
        pgrx::pg_sys::BackgroundWorkerUnblockSignals();
    }
}

/// Ask one of our workers to end (what pg_terminate_backend does): a load client whose
/// script catches cancels in a loop still ends.
pub fn send_terminate(pid: i32) {
    // SAFETY: as `send_cancel`; SIGTERM is handled by `die` in our workers.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
}

/// Ask a backend or worker to cancel its current query (what pg_cancel_backend
/// does), usable where no SQL can run: on the error path of a cancelled caller.
pub fn send_cancel(pid: i32) {
    // SAFETY: kill(2) with a pid we launched; a stale pid at worst signals nothing
    // of ours (PostgreSQL processes run as one OS user, and the worker exits on its own).
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
}
