//! Resource limits of a sandboxed build and of each rank: `[challenge.sandbox.build]` and
//! `[challenge.sandbox.ranks]` in `challenges.toml`.
//!
//! ```toml
//! [challenge.sandbox.ranks]      # every process of a launch (mpiexec and the ranks)
//! cpu_seconds = 600              # CPU time of one process
//! memory_mb = 4096               # address space of one process
//! file_size_mb = 256             # largest file one process may write
//! processes = 512                # processes and threads of the sandbox user, all together
//! open_files = 4096              # descriptors of one process
//! scratch_mb = 256               # all a launch writes: run directory, /tmp, /var/tmp, /dev/shm
//!
//! [challenge.sandbox.build]      # cargo, rustc, the submission's build.rs and proc macros
//! cpu_seconds = 1200
//! memory_mb = 8192
//! file_size_mb = 1024
//! processes = 1024
//! open_files = 4096
//! scratch_mb = 1024              # all a build writes: its target directory, /tmp...
//! ```
//!
//! `processes` is only enforced when the sandbox runs the submission as a user of its own (the
//! kernel counts processes per user; for root it does not count at all).

use crate::error::{Error, Result};
use serde::Deserialize;
use std::ops::Range;
use toml::Spanned;

/// Limits of every process of one kind (a build, or the ranks of a launch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceLimits {
    /// CPU time of one process, in seconds (`RLIMIT_CPU`; SIGKILL 2 s after the soft limit).
    pub cpu_seconds: u64,
    /// Address space of one process, in MiB (`RLIMIT_AS`).
    pub memory_mb: u64,
    /// Largest file one process may write, in MiB (`RLIMIT_FSIZE`).
    pub file_size_mb: u64,
    /// Processes and threads of the sandbox user, all together (`RLIMIT_NPROC`).
    pub processes: u64,
    /// Open descriptors of one process (`RLIMIT_NOFILE`).
    pub open_files: u64,
    /// Everything one command may write, all files together (see [`super::scratch`]).
    pub scratch_mb: u64,
}

/// The limits of a challenge's builds and ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxLimits {
    /// Every process of a launch (mpiexec and the ranks).
    pub ranks: ResourceLimits,
    /// Every process of a build (cargo, rustc, build scripts, proc macros).
    pub build: ResourceLimits,
}

impl Default for SandboxLimits {
    fn default() -> SandboxLimits {
        SandboxLimits {
            // Open MPI and MPICH map shared memory and start threads: generous, but finite.
            ranks: ResourceLimits {
                cpu_seconds: 600,
                memory_mb: 4096,
                file_size_mb: 256,
                processes: 512,
                open_files: 4096,
                scratch_mb: 256,
            },
            // rustc (LLVM) reserves a lot of address space; rlibs and binaries are large.
            build: ResourceLimits {
                cpu_seconds: 1200,
                memory_mb: 8192,
                file_size_mb: 1024,
                processes: 1024,
                open_files: 4096,
                scratch_mb: 1024,
            },
        }
    }
}

impl ResourceLimits {
    /// As `(resource, soft, hard)` for `setrlimit`. `with_processes`: whether the process count
    /// means anything (a user of the sandbox's own).
    pub fn rlimits(&self, with_processes: bool) -> Vec<super::child::Rlimit> {
        let mb = 1024 * 1024;
        let mut limits = vec![
            // The soft limit sends SIGXCPU, the hard one SIGKILL a moment later.
            (
                libc::RLIMIT_CPU,
                self.cpu_seconds,
                self.cpu_seconds.saturating_add(2),
            ),
            (
                libc::RLIMIT_AS,
                self.memory_mb.saturating_mul(mb),
                self.memory_mb.saturating_mul(mb),
            ),
            (
                libc::RLIMIT_FSIZE,
                self.file_size_mb.saturating_mul(mb),
                self.file_size_mb.saturating_mul(mb),
            ),
            (libc::RLIMIT_NOFILE, self.open_files, self.open_files),
            // A crash must not write a core file the size of the address space.
            (libc::RLIMIT_CORE, 0, 0),
        ];
        if with_processes {
            limits.push((libc::RLIMIT_NPROC, self.processes, self.processes));
        }
        limits
    }
}

/// `[challenge.sandbox]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSandbox {
    /// `[challenge.sandbox.ranks]`, if written.
    pub ranks: Option<RawLimits>,
    /// `[challenge.sandbox.build]`, if written.
    pub build: Option<RawLimits>,
}

/// `[challenge.sandbox.ranks]` or `[challenge.sandbox.build]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// See [`ResourceLimits::cpu_seconds`] (kept with its span for errors).
    pub cpu_seconds: Option<Spanned<i64>>,
    /// See [`ResourceLimits::memory_mb`].
    pub memory_mb: Option<Spanned<i64>>,
    /// See [`ResourceLimits::file_size_mb`].
    pub file_size_mb: Option<Spanned<i64>>,
    /// See [`ResourceLimits::processes`].
    pub processes: Option<Spanned<i64>>,
    /// See [`ResourceLimits::open_files`].
    pub open_files: Option<Spanned<i64>>,
    /// See [`ResourceLimits::scratch_mb`].
    pub scratch_mb: Option<Spanned<i64>>,
}

/// Validates `[challenge.sandbox]`; `at` turns a span into an error with line and column.
pub fn validate(
    raw: Option<RawSandbox>,
    at: &dyn Fn(Range<usize>, String) -> Error,
) -> Result<SandboxLimits> {
    let mut limits = SandboxLimits::default();
    let Some(raw) = raw else {
        return Ok(limits);
    };
    if let Some(ranks) = raw.ranks {
        apply(ranks, "ranks", &mut limits.ranks, at)?;
    }
    if let Some(build) = raw.build {
        apply(build, "build", &mut limits.build, at)?;
    }
    Ok(limits)
}

fn apply(
    raw: RawLimits,
    table: &str,
    limits: &mut ResourceLimits,
    at: &dyn Fn(Range<usize>, String) -> Error,
) -> Result<()> {
    // (value, key, smallest value that can work, slot)
    let fields = [
        (raw.cpu_seconds, "cpu_seconds", 1, &mut limits.cpu_seconds),
        (raw.memory_mb, "memory_mb", 256, &mut limits.memory_mb),
        (
            raw.file_size_mb,
            "file_size_mb",
            1,
            &mut limits.file_size_mb,
        ),
        (raw.processes, "processes", 32, &mut limits.processes),
        (raw.open_files, "open_files", 64, &mut limits.open_files),
        // MPI's shared memory segments live in /dev/shm or /tmp, inside the same total.
        (raw.scratch_mb, "scratch_mb", 16, &mut limits.scratch_mb),
    ];
    for (value, key, minimum, slot) in fields {
        let Some(value) = value else { continue };
        let v = *value.get_ref();
        if v <= 0 {
            return Err(at(
                value.span(),
                format!("sandbox.{table}.{key} must be a positive integer, not {v}"),
            ));
        }
        if (v as u64) < minimum {
            return Err(at(
                value.span(),
                format!(
                    "sandbox.{table}.{key} = {v} is too small for MPI to work (at least {minimum})"
                ),
            ));
        }
        *slot = v as u64;
    }
    Ok(())
}
