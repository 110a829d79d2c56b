//! The total a sandboxed command may write: `scratch_mb` of `[challenge.sandbox.ranks]` (a
//! launch) and `[challenge.sandbox.build]` (a build).
//!
//! Per-file caps (`RLIMIT_FSIZE`) do not stop many files. What a sandboxed command can write is:
//!
//! - its private `/tmp`, `/var/tmp` and `/dev/shm`: directories of one tmpfs of `scratch_mb`
//!   (see the root plan in [`super`]), mounted in the command's own mount namespace: the kernel
//!   refuses to write past it (`ENOSPC`), whatever the mode of the sandbox (root, root without
//!   `CAP_SYS_ADMIN`, an ordinary user: a user namespace may mount a tmpfs);
//! - the directories the grader must read while and after the command runs, on disk: a launch's
//!   run directory (event, results and key files, trace records: the stall detector reads the
//!   records during the launch), a build's overlay (its target directory, whose binary the
//!   grader copies out). The grader, outside the command's namespaces, cannot see a tmpfs
//!   mounted inside them after they are gone, and may not mount one in its own namespace unless
//!   it is root with `CAP_SYS_ADMIN`; so these are watched instead ([`Watch`]): every
//!   [`INTERVAL`] (longer if a walk takes long) a thread of the grader adds up what they hold
//!   (allocated blocks, at least a block per file or directory, hard links once) and what the
//!   private tmpfs holds (read through `/proc/<supervisor>/root`), and when the total reaches
//!   `scratch_mb`, kills the command (its supervisor, through a pidfd: the PID namespace dies
//!   with it). The caller then reports the command as having written too much.
//!
//! So the total holds in every mode, exactly for the private directories, and for the run
//! directory or build overlay within what the command can write in one interval past the cap
//! (bounded by the disk's speed, and each file by `file_size_mb`).

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the watched directories are added up, at least.
pub const INTERVAL: Duration = Duration::from_millis(100);
/// What a file or directory counts at least (its inode, its directory entry).
const MIN_ENTRY: u64 = 4096;
const TMPFS_MAGIC: i64 = 0x0102_1994;

/// What a command may write, all together, and where it writes outside its private tmpfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cap {
    /// The most the command may write, in MiB.
    pub limit_mb: u64,
    /// Directories on disk the command writes (read by the grader).
    pub dirs: Vec<PathBuf>,
}

impl Cap {
    /// The limit in bytes (saturating).
    pub fn limit_bytes(&self) -> u64 {
        self.limit_mb.saturating_mul(1 << 20)
    }
}

/// A running watch of one command; stops when dropped.
#[derive(Debug)]
pub struct Watch {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
    limit_mb: u64,
}

#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    tripped: AtomicBool,
}

impl Watch {
    /// Watches the command whose supervisor (the process the grader started) is `pid`, which
    /// must not have been waited for yet.
    pub fn start(cap: &Cap, pid: u32) -> Watch {
        let shared = Arc::new(Shared::default());
        // SAFETY: pidfd_open on a child of ours not yet reaped: it names that process only.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) } as i32;
        let thread = {
            let shared = shared.clone();
            let cap = cap.clone();
            std::thread::Builder::new()
                .name("scratch-watch".into())
                .spawn(move || watch(&cap, pid, pidfd, &shared))
                .ok()
        };
        Watch {
            shared,
            thread,
            limit_mb: cap.limit_mb,
        }
    }

    /// Whether the command wrote its whole scratch and was killed for it.
    pub fn tripped(&self) -> bool {
        self.shared.tripped.load(Ordering::SeqCst)
    }

    /// The limit watched, in MiB.
    pub fn limit_mb(&self) -> u64 {
        self.limit_mb
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

fn watch(cap: &Cap, pid: u32, pidfd: i32, shared: &Shared) {
    let limit = cap.limit_bytes();
    let private = PathBuf::from(format!("/proc/{pid}/root/tmp"));
    while !shared.stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        let mut used = private_usage(&private, limit, pidfd).unwrap_or(0);
        used = used.saturating_add(disk_usage(&cap.dirs, limit.saturating_sub(used)));
        if used >= limit && !shared.stop.load(Ordering::SeqCst) {
            shared.tripped.store(true, Ordering::SeqCst);
            if pidfd >= 0 {
                // SAFETY: a signal through our own pidfd; failure (ended already) is fine.
                unsafe {
                    libc::syscall(
                        libc::SYS_pidfd_send_signal,
                        pidfd,
                        libc::SIGKILL,
                        std::ptr::null::<libc::siginfo_t>(),
                        0,
                    );
                }
            }
            break;
        }
        // A walk that takes long (many files) is made less often: the watch costs little.
        let pause = INTERVAL.max(started.elapsed() * 50);
        std::thread::park_timeout(pause);
    }
    if pidfd >= 0 {
        // SAFETY: our own descriptor, closed once.
        unsafe { libc::close(pidfd) };
    }
}

/// What the private tmpfs of the command holds, if it can be seen: through the supervisor's
/// root (the sandbox's once it is set up), a tmpfs of exactly `size` bytes, and only while the
/// supervisor is not reaped (its pid cannot name another process meanwhile).
fn private_usage(path: &Path, size: u64, pidfd: i32) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let cpath = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statfs into a zeroed struct owned here.
    let st = unsafe {
        let mut st: libc::statfs = std::mem::zeroed();
        if libc::statfs(cpath.as_ptr(), &mut st) != 0 {
            return None;
        }
        st
    };
    let bsize = st.f_bsize as u64;
    if st.f_type as i64 != TMPFS_MAGIC || (st.f_blocks as u64).saturating_mul(bsize) != size {
        return None;
    }
    // SAFETY: signal 0 through our own pidfd only checks that the process is not reaped.
    let alive = pidfd >= 0
        && unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                pidfd,
                0,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        } == 0;
    alive.then(|| ((st.f_blocks - st.f_bfree) as u64).saturating_mul(bsize))
}

/// What `dirs` hold on disk (links not followed, hard links once, at least [`MIN_ENTRY`] per
/// entry), counted up to just past `enough`.
pub fn disk_usage(dirs: &[PathBuf], enough: u64) -> u64 {
    let mut seen = HashSet::new();
    let mut total = 0u64;
    let mut stack: Vec<PathBuf> = dirs.to_vec();
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.nlink() > 1 && !meta.is_dir() && !seen.insert((meta.dev(), meta.ino())) {
            continue;
        }
        total = total.saturating_add((meta.blocks() * 512).max(MIN_ENTRY));
        if total > enough {
            return total;
        }
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    total
}

/// The message of a command stopped for writing too much.
pub fn message(what: &str, limit_mb: u64, key: &str) -> String {
    format!(
        "the submission wrote more than {limit_mb} MiB into its scratch ({what}, all files together) and {} stopped; the limit is sandbox.{key}.scratch_mb",
        if key == "build" { "the build was" } else { "the launch was" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_counts_blocks_entries_and_hard_links_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("w");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/big"), vec![1u8; 1 << 20]).unwrap();
        for i in 0..100 {
            std::fs::write(root.join(format!("empty-{i}")), b"").unwrap();
        }
        let empty_only = disk_usage(std::slice::from_ref(&root), u64::MAX);
        assert!(empty_only >= (1 << 20) + 100 * MIN_ENTRY, "{empty_only}");
        for i in 0..50 {
            std::fs::hard_link(root.join("sub/big"), root.join(format!("link-{i}"))).unwrap();
        }
        let linked = disk_usage(std::slice::from_ref(&root), u64::MAX);
        assert!(linked < empty_only + (1 << 20), "{linked} vs {empty_only}");
        // Counting stops once past what is enough.
        assert!(disk_usage(&[root], 10 * MIN_ENTRY) <= (1 << 20) + 12 * MIN_ENTRY);
    }

    #[test]
    fn the_message_names_the_limit_and_its_key() {
        let m = message("run directory, /tmp, /var/tmp, /dev/shm", 256, "ranks");
        assert!(m.contains("more than 256 MiB"), "{m}");
        assert!(m.contains("sandbox.ranks.scratch_mb"), "{m}");
    }
}
