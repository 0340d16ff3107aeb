//! Helper threads inside a backend. PostgreSQL's signal handlers (cancel, terminate,
//! latch wake-ups) belong to the backend's own thread: a helper thread starts with
//! every signal blocked, so the kernel always delivers them to the backend thread, and
//! it never calls into PostgreSQL.

/// Spawn `f` on a scoped helper thread that never receives a signal.
pub fn spawn_quiet<'scope, F>(scope: &'scope std::thread::Scope<'scope, '_>, f: F)
where
    F: FnOnce() + Send + 'scope,
{
    with_signals_blocked(|| {
        scope.spawn(f);
    })
}

/// Spawn `f` on a helper thread that outlives this call and never receives a signal;
/// the caller joins it.
pub fn spawn_quiet_owned<F>(f: F) -> std::thread::JoinHandle<()>
where
    F: FnOnce() + Send + 'static,
{
    with_signals_blocked(|| std::thread::spawn(f))
}

/// Run `spawn` with every signal blocked in this thread, so that a thread it creates
/// inherits the full mask; then put this thread's mask back.
fn with_signals_blocked<R>(spawn: impl FnOnce() -> R) -> R {
    // SAFETY: sigfillset initialises the set it is given; pthread_sigmask changes only
    // the calling thread's mask, and the previous mask is restored right after the
    // spawn (signals that arrived meanwhile are delivered then).
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut previous: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut previous);
        let spawned = spawn();
        libc::pthread_sigmask(libc::SIG_SETMASK, &previous, std::ptr::null_mut());
        spawned
    }
}
