//! Helper threads inside a backend. PostgreSQL's signal handlers (cancel, terminate,
//! latch wake-ups) belong to the backend's own thread: a helper thread starts with
//! every signal blocked, so the kernel always delivers them to the backend thread, and
//! it never calls into PostgreSQL.

/// Spawn `f` on a scoped helper thread that never receives a signal: signals are
/// blocked in this thread while the helper is created (it inherits the mask), then this
/// thread's mask is put back.
pub fn spawn_quiet<'scope, F>(scope: &'scope std::thread::Scope<'scope, '_>, f: F)
where
    F: FnOnce() + Send + 'scope,
{
    // SAFETY: sigfillset initialises the set it is given; pthread_sigmask changes only
    // the calling thread's mask, and the previous mask is restored right after the
    // spawn (signals that arrived meanwhile are delivered then).
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut previous: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut previous);
        scope.spawn(f);
        libc::pthread_sigmask(libc::SIG_SETMASK, &previous, std::ptr::null_mut());
    }
}
