//! The MPI implementation and its launcher: how to build against it and how to start a job.
//!
//! Everything implementation-specific lives here: the `mpiexec` command line and environment,
//! the compiler wrapper rsmpi builds with, and how to read the launcher's own messages about a
//! rank that died.

use crate::error::{Error, Result};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// An MPI implementation the grader can build against and launch with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    OpenMpi,
}

impl Implementation {
    /// Short name, used for cache directories and `--mpi`.
    pub fn key(self) -> &'static str {
        match self {
            Implementation::OpenMpi => "openmpi",
        }
    }

    /// Name for people.
    pub fn display_name(self) -> &'static str {
        match self {
            Implementation::OpenMpi => "Open MPI",
        }
    }

    fn launcher_candidates(self) -> &'static [&'static str] {
        match self {
            Implementation::OpenMpi => &["mpiexec.openmpi", "mpiexec"],
        }
    }

    fn compiler_candidates(self) -> &'static [&'static str] {
        match self {
            Implementation::OpenMpi => &["mpicc.openmpi", "mpicc"],
        }
    }

    fn install_hint(self) -> &'static str {
        match self {
            Implementation::OpenMpi => "apt-get install openmpi-bin libopenmpi-dev libclang-dev",
        }
    }
}

/// A located MPI installation.
#[derive(Debug, Clone)]
pub struct Launcher {
    pub implementation: Implementation,
    /// The `mpiexec` to run.
    pub mpiexec: PathBuf,
    /// The compiler wrapper rsmpi's build script asks for the MPI flags (`MPICC`).
    pub mpicc: PathBuf,
    /// Version reported by the launcher (`4.1.4`).
    pub version: String,
}

/// What one launch runs.
#[derive(Debug, Clone)]
pub struct LaunchSpec<'a> {
    pub ranks: u32,
    pub program: &'a Path,
    pub args: &'a [String],
    /// Environment for the ranks (also set on the launcher, which passes it on).
    pub env: Vec<(String, String)>,
    /// A library to preload into the ranks only (the tracer), not into the launcher.
    pub preload: Option<&'a Path>,
}

/// A rank's death, as the launcher reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LauncherReport {
    /// `MPI_Abort` was called.
    Abort { rank: u32, code: i32 },
    /// A rank was killed by a signal.
    Signal {
        rank: u32,
        signal: i32,
        name: String,
    },
    /// A rank exited with a non-zero status.
    Exit { rank: Option<u32>, code: i32 },
    /// A rank exited (status 0) without calling `MPI_Finalize`.
    ExitWithoutFinalize { rank: u32 },
}

impl Launcher {
    /// Finds the implementation's launcher and compiler wrapper.
    pub fn detect(implementation: Implementation) -> Result<Launcher> {
        let missing = |what: &str| Error::NoMpi {
            message: format!(
                "no {} {what} found on PATH (looked for {})",
                implementation.display_name(),
                match what {
                    "launcher" => implementation.launcher_candidates().join(", "),
                    _ => implementation.compiler_candidates().join(", "),
                }
            ),
            install: implementation.install_hint().to_string(),
        };
        let mpiexec = implementation
            .launcher_candidates()
            .iter()
            .find_map(|name| find_on_path(name))
            .ok_or_else(|| missing("launcher"))?;
        let mpicc = implementation
            .compiler_candidates()
            .iter()
            .find_map(|name| find_on_path(name))
            .ok_or_else(|| missing("compiler wrapper"))?;
        let version = launcher_version(&mpiexec).ok_or_else(|| Error::NoMpi {
            message: format!(
                "{} does not answer --version like {}'s mpiexec",
                mpiexec.display(),
                implementation.display_name()
            ),
            install: implementation.install_hint().to_string(),
        })?;
        Ok(Launcher {
            implementation,
            mpiexec,
            mpicc,
            version,
        })
    }

    /// Environment for `cargo build` so that rsmpi links this implementation.
    pub fn build_env(&self) -> Vec<(String, String)> {
        vec![("MPICC".into(), self.mpicc.display().to_string())]
    }

    /// The `mpiexec` command for one launch. The caller adds stdio and process-group setup.
    pub fn command(&self, spec: &LaunchSpec<'_>) -> Command {
        let mut cmd = Command::new(&self.mpiexec);
        match self.implementation {
            Implementation::OpenMpi => {
                cmd.arg("-n").arg(spec.ranks.to_string());
                // Single-node grading: shared memory and self only. Skipping the probes of
                // network transports cuts start-up from ~0.33 s to ~0.11 s at 2 ranks here,
                // and these are the components Open MPI picks on one node anyway.
                cmd.args(["--mca", "pml", "ob1", "--mca", "btl", "self,vader"]);
                cmd.arg("--oversubscribe");
                cmd.arg("--tag-output");
                if let Some(lib) = spec.preload {
                    cmd.arg("-x").arg(format!("LD_PRELOAD={}", lib.display()));
                }
                if is_root() {
                    cmd.env("OMPI_ALLOW_RUN_AS_ROOT", "1");
                    cmd.env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
                }
                if spec.ranks as usize > available_cores() {
                    // Oversubscribed ranks busy-poll and steal the cores their peers need.
                    cmd.env("OMPI_MCA_mpi_yield_when_idle", "1");
                }
            }
        }
        cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
        cmd.arg(spec.program).args(spec.args);
        cmd
    }

    /// What the launcher said about a rank that died, if it said anything we recognise.
    pub fn parse_report(&self, launcher_output: &str) -> Option<LauncherReport> {
        match self.implementation {
            Implementation::OpenMpi => parse_open_mpi_report(launcher_output),
        }
    }
}

fn parse_open_mpi_report(text: &str) -> Option<LauncherReport> {
    static PATTERNS: OnceLock<[Regex; 4]> = OnceLock::new();
    let [abort, signal, exit, improper] = PATTERNS.get_or_init(|| {
        [
            Regex::new(
                r"MPI_ABORT was invoked on rank (\d+) in communicator \S+\s+with errorcode (-?\d+)",
            )
            .unwrap(),
            Regex::new(
                r"process rank (\d+) with PID \d+ on node \S+ exited on signal (\d+) \(([^)]*)\)",
            )
            .unwrap(),
            Regex::new(r"Process name:\s+\[\[\d+,\d+\],(\d+)\]\s+Exit code:\s+(-?\d+)").unwrap(),
            Regex::new(r"process rank (\d+) with PID \d+ on\s+node \S+ exiting improperly")
                .unwrap(),
        ]
    });
    let num = |c: &regex::Captures<'_>, i: usize| c[i].parse::<i64>().ok();
    if let Some(c) = abort.captures(text) {
        return Some(LauncherReport::Abort {
            rank: num(&c, 1)? as u32,
            code: num(&c, 2)? as i32,
        });
    }
    if let Some(c) = signal.captures(text) {
        return Some(LauncherReport::Signal {
            rank: num(&c, 1)? as u32,
            signal: num(&c, 2)? as i32,
            name: c[3].to_string(),
        });
    }
    if let Some(c) = exit.captures(text) {
        return Some(LauncherReport::Exit {
            rank: Some(num(&c, 1)? as u32),
            code: num(&c, 2)? as i32,
        });
    }
    if let Some(c) = improper.captures(text) {
        return Some(LauncherReport::ExitWithoutFinalize {
            rank: num(&c, 1)? as u32,
        });
    }
    None
}

fn launcher_version(mpiexec: &Path) -> Option<String> {
    let out = Command::new(mpiexec).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next()?;
    if !(first.contains("OpenRTE") || first.contains("Open MPI")) {
        return None;
    }
    first.split_whitespace().last().map(str::to_string)
}

/// The first executable called `name` on `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Cores this process may run on.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Messages as Open MPI 4.1 prints them (copied from real runs).
    const ABORT: &str =
        "MPI_ABORT was invoked on rank 1 in communicator MPI_COMM_WORLD\nwith errorcode 7.\n";
    const SIGNAL: &str = "mpiexec noticed that process rank 1 with PID 0 on node vm exited on signal 11 (Segmentation fault).\n";
    const EXIT: &str =
        "The first process to do so was:\n\n  Process name: [[17441,1],1]\n  Exit code:    3\n";
    const IMPROPER: &str = "mpiexec has exited due to process rank 1 with PID 0 on\nnode vm exiting improperly. There are three reasons this could occur:\n";

    #[test]
    fn open_mpi_reports_are_recognised() {
        assert_eq!(
            parse_open_mpi_report(ABORT),
            Some(LauncherReport::Abort { rank: 1, code: 7 })
        );
        assert_eq!(
            parse_open_mpi_report(SIGNAL),
            Some(LauncherReport::Signal {
                rank: 1,
                signal: 11,
                name: "Segmentation fault".into()
            })
        );
        assert_eq!(
            parse_open_mpi_report(EXIT),
            Some(LauncherReport::Exit {
                rank: Some(1),
                code: 3
            })
        );
        assert_eq!(
            parse_open_mpi_report(IMPROPER),
            Some(LauncherReport::ExitWithoutFinalize { rank: 1 })
        );
        assert_eq!(parse_open_mpi_report("all fine\n"), None);
    }

    #[test]
    fn the_command_preloads_only_the_ranks() {
        let launcher = Launcher {
            implementation: Implementation::OpenMpi,
            mpiexec: "/usr/bin/mpiexec".into(),
            mpicc: "/usr/bin/mpicc".into(),
            version: "4.1.4".into(),
        };
        let program = PathBuf::from("/tmp/driver");
        let lib = PathBuf::from("/tmp/libtracer.so");
        let cmd = launcher.command(&LaunchSpec {
            ranks: 3,
            program: &program,
            args: &[],
            env: vec![("MPI_GRADE_RUN_DIR".into(), "/tmp/run".into())],
            preload: Some(&lib),
        });
        let args: Vec<_> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(&args[..2], ["-n", "3"]);
        assert!(args
            .windows(2)
            .any(|w| w == ["-x", "LD_PRELOAD=/tmp/libtracer.so"]));
        assert_eq!(args.last().unwrap(), "/tmp/driver");
        assert!(cmd.get_envs().all(|(k, _)| k != "LD_PRELOAD"));
        assert!(cmd
            .get_envs()
            .any(|(k, v)| k == "MPI_GRADE_RUN_DIR" && v == Some("/tmp/run".as_ref())));
    }
}
