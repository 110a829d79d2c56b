//! A cgroup per sandboxed build and launch: the process and memory totals of
//! `[challenge.sandbox.*]` for the whole command (not per process, not shared with other
//! grades), and a race-free kill of everything in it when it ends (freeze, kill, thaw).
//!
//! cgroup v2 where the grader's own cgroup delegates `pids` and `memory` to children, else
//! cgroup v1 (`pids`, `memory`, `freezer` under `/sys/fs/cgroup/<controller>`). The groups are
//! made below the grader's own cgroup in each hierarchy and removed after the command.

use super::limits::ResourceLimits;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the grader may create cgroups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hierarchy {
    /// The grader's cgroup in the unified hierarchy (its `cgroup.subtree_control` has `pids`
    /// and `memory`).
    V2(PathBuf),
    /// The grader's cgroup in each v1 controller: pids, memory, freezer (freezer optional).
    V1 {
        /// The grader's cgroup in the `pids` controller.
        pids: PathBuf,
        /// The grader's cgroup in the `memory` controller.
        memory: PathBuf,
        /// The grader's cgroup in the `freezer` controller, if it is mounted.
        freezer: Option<PathBuf>,
    },
}

/// The grader's cgroup path in hierarchy `id:controllers` of `/proc/self/cgroup`.
fn own_path(wanted: &str) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let matches = if wanted.is_empty() {
            controllers.is_empty()
        } else {
            controllers.split(',').any(|c| c == wanted)
        };
        matches.then(|| path.to_string())
    })
}

/// Whether the grader may make a child cgroup in `dir`.
fn writable(dir: &Path) -> bool {
    let probe = dir.join(format!("mpi-grade-probe-{}", std::process::id()));
    let ok = std::fs::create_dir(&probe).is_ok();
    if ok {
        let _ = std::fs::remove_dir(&probe);
    }
    ok
}

impl Hierarchy {
    /// The hierarchy this grader may use, if any.
    pub fn find() -> Option<Hierarchy> {
        let root = Path::new("/sys/fs/cgroup");
        if root.join("cgroup.controllers").is_file() {
            let own = root.join(own_path("")?.trim_start_matches('/'));
            let delegated =
                std::fs::read_to_string(own.join("cgroup.subtree_control")).unwrap_or_default();
            let has = |c: &str| delegated.split_whitespace().any(|d| d == c);
            let found =
                (has("pids") && has("memory") && writable(&own)).then_some(Hierarchy::V2(own))?;
            found.remove_stale();
            return Some(found);
        }
        let dir = |controller: &str| -> Option<PathBuf> {
            let d = root
                .join(controller)
                .join(own_path(controller)?.trim_start_matches('/'));
            writable(&d).then_some(d)
        };
        let found = Hierarchy::V1 {
            pids: dir("pids")?,
            memory: dir("memory")?,
            freezer: dir("freezer"),
        };
        found.remove_stale();
        Some(found)
    }

    /// Removes the (empty) groups a grader that was killed left behind.
    fn remove_stale(&self) {
        let parents = match self {
            Hierarchy::V2(own) => vec![own.clone()],
            Hierarchy::V1 {
                pids,
                memory,
                freezer,
            } => [pids, memory].into_iter().chain(freezer).cloned().collect(),
        };
        for parent in parents {
            for entry in std::fs::read_dir(&parent).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(pid) = name
                    .strip_prefix("mpi-grade-")
                    .and_then(|rest| rest.split('-').next())
                    .and_then(|p| p.parse::<u32>().ok())
                else {
                    continue;
                };
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    let _ = std::fs::remove_dir(entry.path());
                }
            }
        }
    }

    /// For the isolation line.
    pub fn describe(&self) -> &'static str {
        match self {
            Hierarchy::V2(_) => "cgroup v2: pids, memory",
            Hierarchy::V1 {
                freezer: Some(_), ..
            } => "cgroup v1: pids, memory, freezer",
            Hierarchy::V1 { .. } => "cgroup v1: pids, memory",
        }
    }

    /// A new group for one command of `kind` (`build`, `launch`) with `limits`' totals.
    pub fn create(&self, kind: &str, limits: &ResourceLimits) -> Result<Group> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "mpi-grade-{}-{kind}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let memory = limits.memory_mb.saturating_mul(1 << 20).to_string();
        let processes = limits.processes.to_string();
        let make = |dir: &Path| -> Result<PathBuf> {
            let d = dir.join(&name);
            std::fs::create_dir(&d).map_err(Error::io(format!(
                "cannot create the cgroup {}",
                d.display()
            )))?;
            Ok(d)
        };
        let set = |file: PathBuf, value: &str| -> Result<()> {
            std::fs::write(&file, value)
                .map_err(Error::io(format!("cannot write {}", file.display())))
        };
        let inner = match self {
            Hierarchy::V2(own) => {
                let d = make(own)?;
                let group = Inner::V2(d.clone());
                set(d.join("pids.max"), &processes)?;
                set(d.join("memory.max"), &memory)?;
                let _ = std::fs::write(d.join("memory.swap.max"), "0");
                group
            }
            Hierarchy::V1 {
                pids,
                memory: mem,
                freezer,
            } => {
                // Made one by one into the group, so that a failure removes what was made.
                let mut group = Inner::V1 {
                    dirs: Vec::new(),
                    freezer: None,
                };
                if let Inner::V1 { dirs, freezer: f } = &mut group {
                    dirs.push(make(pids)?);
                    dirs.push(make(mem)?);
                    if let Some(fz) = freezer {
                        *f = Some(make(fz)?);
                    }
                    set(dirs[0].join("pids.max"), &processes)?;
                    set(dirs[1].join("memory.limit_in_bytes"), &memory)?;
                }
                group
            }
        };
        Ok(Group(Arc::new(inner)))
    }
}

#[derive(Debug)]
enum Inner {
    V2(PathBuf),
    V1 {
        dirs: Vec<PathBuf>,
        freezer: Option<PathBuf>,
    },
}

/// One command's cgroups; dropping the last handle kills what is in them and removes them.
#[derive(Debug, Clone)]
pub struct Group(Arc<Inner>);

impl Group {
    /// The `cgroup.procs` files the command joins.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.0.procs_files()
    }

    /// The processes in the group (host pids).
    pub fn members(&self) -> Vec<i32> {
        self.0.members()
    }

    /// Kills everything in the group and waits (up to `deadline`) until it is empty.
    pub fn kill_all(&self, deadline: Duration) -> bool {
        self.0.kill_all(deadline)
    }
}

impl Inner {
    fn dirs(&self) -> Vec<PathBuf> {
        match self {
            Inner::V2(d) => vec![d.clone()],
            Inner::V1 { dirs, freezer } => dirs.iter().chain(freezer.iter()).cloned().collect(),
        }
    }

    fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs().iter().map(|d| d.join("cgroup.procs")).collect()
    }

    fn members(&self) -> Vec<i32> {
        let Some(file) = self.procs_files().into_iter().next() else {
            return Vec::new();
        };
        std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    fn kill_all(&self, deadline: Duration) -> bool {
        let started = Instant::now();
        loop {
            let freezer = match self {
                Inner::V2(d) => {
                    let _ = std::fs::write(d.join("cgroup.kill"), "1");
                    None
                }
                Inner::V1 { freezer, .. } => freezer.as_ref(),
            };
            // Frozen, nothing can fork between the listing and the kill.
            if let Some(f) = freezer {
                let _ = std::fs::write(f.join("freezer.state"), "FROZEN");
            }
            for pid in self.members() {
                // SAFETY: kill on a pid; failure (gone already) is fine.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            if let Some(f) = freezer {
                let _ = std::fs::write(f.join("freezer.state"), "THAWED");
            }
            if self.members().is_empty() {
                return true;
            }
            if started.elapsed() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.kill_all(Duration::from_secs(5));
        for d in self.dirs().iter().rev() {
            // A group is removable once empty (zombies reaped by their parents).
            for _ in 0..200 {
                if std::fs::remove_dir(d).is_ok() || !d.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}
