//! Dropping a relation's files from the operating system's page cache, and counting
//! how much of them was cached before and after: the "OS" half of a cold cache.
//!
//! The server process owns the relation files and runs in the data directory, so
//! `pg_relation_filepath()`'s relative path opens directly. Each fork (main, fsm, vm)
//! and each 1 GB segment is a file of its own. Dirty pages cannot be dropped, so each
//! file is first written out (fdatasync), then `posix_fadvise(POSIX_FADV_DONTNEED)`
//! asks the kernel to drop its pages; `mincore()` on a read-only mapping counts the
//! pages resident before and after, so the run records what was really evicted.

use std::ffi::CString;

/// What dropping one relation's files did, in OS pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Dropped {
    pub files: u32,
    pub pages: u64,
    pub resident_before: u64,
    pub resident_after: u64,
}

impl std::ops::AddAssign for Dropped {
    fn add_assign(&mut self, o: Dropped) {
        self.files += o.files;
        self.pages += o.pages;
        self.resident_before += o.resident_before;
        self.resident_after += o.resident_after;
    }
}

/// Drop every file of the relation at `relpath` (relative to the data directory) from
/// the page cache. Errors are returned as text for the run's notes: a cold figure that
/// could not be made cold must say so, not fail the test.
pub fn drop_relation(relpath: &str) -> Result<Dropped, String> {
    let mut total = Dropped::default();
    for fork in ["", "_fsm", "_vm"] {
        for segment in 0.. {
            let path = if segment == 0 { format!("{relpath}{fork}") } else { format!("{relpath}{fork}.{segment}") };
            match drop_file(&path)? {
                Some(d) => total += d,
                None => break,
            }
        }
    }
    Ok(total)
}

/// One file; `None` when it does not exist (the end of a fork's segments).
fn drop_file(path: &str) -> Result<Option<Dropped>, String> {
    let c_path = CString::new(path).map_err(|_| format!("relation path {path:?} has a NUL byte"))?;
    // SAFETY: a valid NUL-terminated path; the descriptor is closed below on every path.
    let fd = unsafe { libc::open(c_path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        let err = std::io::Error::last_os_error();
        return if err.kind() == std::io::ErrorKind::NotFound { Ok(None) } else { Err(format!("open {path}: {err}")) };
    }
    let result = drop_open_file(fd, path);
    // SAFETY: fd was opened above and is not used after this.
    unsafe { libc::close(fd) };
    result.map(Some)
}

fn drop_open_file(fd: libc::c_int, path: &str) -> Result<Dropped, String> {
    let os_err = |what: &str| format!("{what} {path}: {}", std::io::Error::last_os_error());
    // SAFETY: fstat writes into the zeroed struct we own.
    let size = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(fd, &mut st) != 0 {
            return Err(os_err("fstat"));
        }
        st.st_size as usize
    };
    let before = resident_pages(fd, size).map_err(|_| os_err("mincore"))?;
    // SAFETY: plain system calls on a descriptor we own.
    unsafe {
        if libc::fdatasync(fd) != 0 {
            return Err(os_err("fdatasync"));
        }
        let rc = libc::posix_fadvise(fd, 0, 0, libc::POSIX_FADV_DONTNEED);
        if rc != 0 {
            return Err(format!("posix_fadvise {path}: {}", std::io::Error::from_raw_os_error(rc)));
        }
    }
    let after = resident_pages(fd, size).map_err(|_| os_err("mincore"))?;
    Ok(Dropped { files: 1, pages: pages_of(size) as u64, resident_before: before, resident_after: after })
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).max(4096) as usize
}

fn pages_of(size: usize) -> usize {
    size.div_ceil(page_size())
}

/// Pages of the file resident in the page cache, by mincore() on a read-only shared
/// mapping (mapping does not read the file; mincore only looks).
fn resident_pages(fd: libc::c_int, size: usize) -> Result<u64, ()> {
    if size == 0 {
        return Ok(0);
    }
    // SAFETY: a fresh read-only mapping of `size` bytes of an open file, unmapped before
    // returning; `vec` has one byte per page, as mincore requires.
    unsafe {
        let addr = libc::mmap(std::ptr::null_mut(), size, libc::PROT_READ, libc::MAP_SHARED, fd, 0);
        if addr == libc::MAP_FAILED {
            return Err(());
        }
        let mut vec = vec![0u8; pages_of(size)];
        let rc = libc::mincore(addr, size, vec.as_mut_ptr());
        libc::munmap(addr, size);
        if rc != 0 {
            return Err(());
        }
        Ok(vec.iter().filter(|b| *b & 1 != 0).count() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn a_read_file_is_resident_and_dropped_after() {
        let dir = std::env::temp_dir().join(format!("pg_perfsuite_oscache_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let base = dir.join("16384");
        std::fs::File::create(&base).unwrap().write_all(&vec![7u8; 1 << 20]).unwrap();
        std::fs::File::create(dir.join("16384_vm")).unwrap().write_all(&[1u8; 8192]).unwrap();
        let mut buf = Vec::new();
        std::fs::File::open(&base).unwrap().read_to_end(&mut buf).unwrap();
        let d = drop_relation(base.to_str().unwrap()).unwrap();
        assert_eq!(d.files, 2, "main fork and visibility map, no fsm: {d:?}");
        assert_eq!(d.pages, (((1 << 20) + 8192) / page_size()) as u64);
        assert!(d.resident_after <= d.resident_before, "{d:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_relation_is_zero_files() {
        assert_eq!(drop_relation("/nonexistent/pg_perfsuite/1").unwrap(), Dropped::default());
    }
}
