//! A sandboxed build of a submission.
//!
//! The grader's build workspace (`<cache>/<implementation>`: the support crates, the driver, the
//! shared `target/` where `mpi-sys` and the runtime are compiled once) is trusted: later grades
//! link what is in it. The submission's build runs its `build.rs` and proc macros, so it must
//! not be able to change that workspace. It sees the workspace through an overlay, at the same
//! path (cargo's fingerprints stay valid, so nothing already built is rebuilt): what it writes
//! lands in the grade's scratch directory and is thrown away with it.
//!
//! Before that, the grader itself (trusted, with the network) fetches every dependency and
//! builds the runtime, so that the sandboxed build needs no network (`--frozen`) and compiles
//! only the submission and the driver. The grader's cargo only ever reads manifests the grader
//! wrote (see `intake`), and never runs in a tree the sandbox user can write: every byte of the
//! workspace stays the grader's. The sandboxed build writes its own target directory instead,
//! `<scratch>/build/upper/target`, a farm of the trusted `target/` made before each build:
//! its directories are new and the sandbox user's, its files the trusted ones (through the
//! overlay, or hard links without it: the same inodes, still the grader's and read-only to the
//! sandbox user), cargo's lock files and `.rustc_info.json` the build's own. Behind the
//! overlay it is seen at `<workspace>/target`, the path the trusted build used; without it,
//! cargo is pointed at it with `CARGO_TARGET_DIR` (cargo's fingerprints hold paths relative to
//! the target directory, so nothing already built is rebuilt either way).

use super::limits::ResourceLimits;
use super::{fs, Confinement, Sandbox};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where a sandboxed build writes, and what it may see.
#[derive(Debug, Clone)]
pub struct BuildJail {
    /// The isolation this machine gives.
    pub sandbox: Sandbox,
    /// Limits of every process of a build (from `[challenge.sandbox.build]`).
    pub limits: ResourceLimits,
    /// `<scratch>/build`: the overlay's upper and work directories.
    dir: PathBuf,
    /// The grade's scratch directory (the submission's copy is there), read-only to the build.
    scratch: PathBuf,
    /// Hidden from the build (the grader's home, its cache, the original submission).
    hide: Vec<PathBuf>,
}

impl BuildJail {
    /// Prepares `<scratch>/build`.
    pub fn new(
        sandbox: &Sandbox,
        limits: ResourceLimits,
        scratch: &Path,
        hide: Vec<PathBuf>,
    ) -> Result<BuildJail> {
        let dir = scratch.join("build");
        for sub in ["upper", "work", "home"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path)
                .map_err(Error::io(format!("cannot create {}", path.display())))?;
        }
        if let Some((uid, gid)) = sandbox.owner() {
            // The overlay's root takes the upper directory's owner: the build may write there.
            fs::give(&dir.join("upper"), uid, gid)?;
            fs::give(&dir.join("home"), uid, gid)?;
        }
        Ok(BuildJail {
            sandbox: sandbox.clone(),
            limits,
            dir,
            scratch: scratch.to_path_buf(),
            hide,
        })
    }

    /// Whether the build sees the workspace through an overlay (else it writes it directly).
    pub fn overlays(&self) -> bool {
        self.sandbox.mounts
    }

    /// After the grader's own builds in `workspace`, before a sandboxed one: takes back
    /// anything of the workspace the sandbox user owns (a cache an older grader gave away), and
    /// makes the build's target directory ([`BuildJail::target_dir`]) as a farm of the trusted
    /// `target/`.
    pub fn prepare(&self, workspace: &Path) -> Result<()> {
        // SAFETY: plain queries of the grader's own ids.
        let grader = unsafe { (libc::geteuid(), libc::getegid()) };
        let target = workspace.join("target");
        std::fs::create_dir_all(&target)
            .map_err(Error::io(format!("cannot create {}", target.display())))?;
        // Without a user of its own (a user namespace), the build runs as the grader's user.
        let (uid, gid) = self.sandbox.owner().unwrap_or(grader);
        if uid != grader.0 {
            for path in [workspace.to_path_buf(), workspace.join("Cargo.lock")] {
                fs::reclaim(&path, uid, grader, false)?;
            }
            fs::reclaim(&target, uid, grader, true)?;
        }
        let farm = self.dir.join("upper/target");
        if farm.exists() {
            // A retry of the same grade (a part removed): the build's own files from the
            // previous attempt go, the farm is made again.
            std::fs::remove_dir_all(&farm)
                .map_err(Error::io(format!("cannot remove {}", farm.display())))?;
        }
        let files = if self.overlays() {
            fs::FarmFiles::None
        } else if uid == grader.0 {
            // The build runs as the grader's user: a hard link would let it write the trusted
            // file itself.
            fs::FarmFiles::Copies
        } else {
            fs::FarmFiles::HardLinks
        };
        fs::farm(&target, &farm, (uid, gid), files)
    }

    /// The target directory the sandboxed build writes, as the build sees it.
    pub fn target_dir(&self, workspace: &Path) -> PathBuf {
        if self.overlays() {
            workspace.join("target")
        } else {
            self.dir.join("upper/target")
        }
    }

    /// Sets a cargo command in `workspace` up to run sandboxed: on top of the system's
    /// allow-list, the toolchain read-only (`RUSTUP_HOME`; of `CARGO_HOME` only `bin/`,
    /// `registry/` and `git/`, never its credentials or configuration), the grade's scratch
    /// directory read-only, the workspace through the overlay, a `CARGO_TARGET_DIR` set on
    /// `command` outside the workspace read-write; a cgroup of its own for the build (killed
    /// and removed when `command` is dropped).
    pub fn confine(&self, command: &mut Command, workspace: &Path) -> Result<()> {
        let mut confinement = Confinement {
            limits: Some(self.limits),
            hide: self.hide.clone(),
            cwd: Some(workspace.to_path_buf()),
            fallback_home: Some(self.dir.join("home")),
            env: vec![("CARGO_NET_OFFLINE".into(), "true".into())],
            staging: Some(super::staging_dir(&self.scratch)?),
            ..Confinement::default()
        };
        for (var, dir) in super::toolchain_dirs() {
            if var == "CARGO_HOME" {
                for sub in ["bin", "registry", "git"] {
                    confinement.keep.push((dir.join(sub), true));
                }
            } else {
                confinement.keep.push((dir.clone(), true));
            }
            confinement.env.push((var, dir.display().to_string()));
        }
        confinement.keep.push((self.scratch.clone(), true));
        let target = command
            .get_envs()
            .find(|(k, _)| *k == "CARGO_TARGET_DIR")
            .and_then(|(_, v)| v.map(PathBuf::from));
        if let Some(target) = target.filter(|t| !t.starts_with(workspace)) {
            std::fs::create_dir_all(&target)
                .map_err(Error::io(format!("cannot create {}", target.display())))?;
            confinement.keep.push((target, false));
        }
        if self.overlays() {
            confinement.overlays.push((
                workspace.to_path_buf(),
                self.dir.join("upper"),
                self.dir.join("work"),
            ));
            confinement.keep.push((workspace.to_path_buf(), false));
        }
        if let Some(hierarchy) = &self.sandbox.cgroups {
            confinement.cgroup = Some(hierarchy.create("build", &self.limits)?);
        }
        self.sandbox.confine(command, &confinement)
    }

    /// What a sandboxed build may write, all together (see [`super::scratch`]): its private
    /// temporary directories and the overlay's upper directory (its target directory).
    pub fn scratch_cap(&self) -> super::scratch::Cap {
        super::scratch::Cap {
            limit_mb: self.limits.scratch_mb,
            dirs: vec![self.dir.join("upper"), self.dir.join("work")],
        }
    }

    /// The environment of the grader's own cargo commands in the workspace: the same as the
    /// sandboxed build's, so that both agree on what is fresh.
    pub fn trusted_env(&self, command: &mut Command) {
        self.sandbox
            .scrub_env(command, Some(&self.dir.join("home")));
        for (var, dir) in super::toolchain_dirs() {
            command.env(var, dir);
        }
    }

    /// Where the file the build wrote at `path` (in the workspace) is.
    pub fn output(&self, workspace: &Path, path: &Path) -> PathBuf {
        if let Ok(rel) = path.strip_prefix(workspace) {
            let written = self.dir.join("upper").join(rel);
            if written.exists() {
                return written;
            }
        }
        path.to_path_buf()
    }
}
