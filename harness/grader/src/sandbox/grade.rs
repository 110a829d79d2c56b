//! The isolation of one grade: what the sandbox allows, the submission's copy in the scratch
//! directory, and the jails of its build and of its ranks.

use super::builds::BuildJail;
use super::limits::SandboxLimits;
use super::{Jail, Sandbox};
use crate::build::compile::Submission;
use crate::error::{Error, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// How a grade's submission is built and run.
pub struct Isolation {
    /// The isolation this machine gives.
    pub sandbox: Sandbox,
    /// The submission as built: the copy in the scratch directory when sandboxed (the original
    /// is then never written, nor even seen by the build), else the original.
    pub submission: Submission,
    /// Where the build runs when sandboxed (none: not sandboxed).
    pub build: Option<BuildJail>,
    /// How the ranks are confined when sandboxed (none: not sandboxed).
    pub ranks: Option<Jail>,
}

impl Isolation {
    /// Finds the sandbox (unless `enabled` is false), copies the submission into `scratch` and
    /// prepares the jails.
    pub fn set_up(
        enabled: bool,
        original: &Submission,
        cache_dir: &Path,
        scratch: &Path,
        limits: &SandboxLimits,
        policy: &crate::build::intake::Policy,
    ) -> Result<Isolation> {
        let sandbox = if enabled {
            Sandbox::detect()?
        } else {
            Sandbox::disabled()
        };
        crate::run::procs::set_sandbox_uid(sandbox.owner().map(|(uid, _)| uid));
        // Sandboxed or not, what is built is the copy with the grader's manifest.
        let copy = scratch.join("submission");
        if !enabled {
            return Ok(Isolation {
                sandbox,
                submission: original.intake(&copy, policy)?,
                build: None,
                ranks: None,
            });
        }
        // The sandbox user reads the driver, the tracer and the copy, and writes nothing here
        // but the files given to it.
        std::fs::set_permissions(scratch, std::fs::Permissions::from_mode(0o755))
            .map_err(Error::io(format!("cannot open up {}", scratch.display())))?;
        let submission = original.intake(&copy, policy)?;

        let mut hide: Vec<PathBuf> = vec![cache_dir.to_path_buf(), original.dir.clone()];
        hide.extend(super::home_dir());
        // The grader's working directory (a course's checkout, with other submissions) too,
        // unless it is a system directory MPI and the toolchain live in.
        if let Ok(cwd) = std::env::current_dir() {
            let system = [
                "/", "/usr", "/etc", "/opt", "/var", "/bin", "/lib", "/lib64", "/sbin",
            ];
            if !system.iter().any(|s| cwd == Path::new(s)) {
                hide.push(cwd);
            }
        }
        let build = BuildJail::new(&sandbox, limits.build, scratch, hide.clone())?;
        let ranks = Jail::for_ranks(&sandbox, limits.ranks, scratch, hide)?;
        Ok(Isolation {
            sandbox,
            submission,
            build: Some(build),
            ranks: Some(ranks),
        })
    }
}
