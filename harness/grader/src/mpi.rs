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
    /// Open MPI.
    OpenMpi,
    /// MPICH.
    Mpich,
}

impl Implementation {
    /// The name of the MPI error class `class` in this implementation (the numbers differ
    /// between libraries past `MPI_ERR_RANK`); `None` beyond the classes named here.
    pub fn error_class(self, class: i32) -> Option<&'static str> {
        const COMMON: [&str; 6] = [
            "MPI_ERR_BUFFER",
            "MPI_ERR_COUNT",
            "MPI_ERR_TYPE",
            "MPI_ERR_TAG",
            "MPI_ERR_COMM",
            "MPI_ERR_RANK",
        ];
        // Open MPI 4.1's mpi.h and MPICH 4.0's mpi.h, from 7 on.
        const OPEN_MPI: [&str; 11] = [
            "MPI_ERR_REQUEST",
            "MPI_ERR_ROOT",
            "MPI_ERR_GROUP",
            "MPI_ERR_OP",
            "MPI_ERR_TOPOLOGY",
            "MPI_ERR_DIMS",
            "MPI_ERR_ARG",
            "MPI_ERR_UNKNOWN",
            "MPI_ERR_TRUNCATE",
            "MPI_ERR_OTHER",
            "MPI_ERR_INTERN",
        ];
        const MPICH: [&str; 13] = [
            "MPI_ERR_ROOT",
            "MPI_ERR_GROUP",
            "MPI_ERR_OP",
            "MPI_ERR_TOPOLOGY",
            "MPI_ERR_DIMS",
            "MPI_ERR_ARG",
            "MPI_ERR_UNKNOWN",
            "MPI_ERR_TRUNCATE",
            "MPI_ERR_OTHER",
            "MPI_ERR_INTERN",
            "MPI_ERR_IN_STATUS",
            "MPI_ERR_PENDING",
            "MPI_ERR_REQUEST",
        ];
        let i = usize::try_from(class).ok()?.checked_sub(1)?;
        COMMON.get(i).copied().or_else(|| {
            let rest: &[&str] = match self {
                Implementation::OpenMpi => &OPEN_MPI,
                Implementation::Mpich => &MPICH,
            };
            rest.get(i - COMMON.len()).copied()
        })
    }
}

/// Which implementation to use: one, or the first one installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The first one installed, in the order of [`Implementation::ALL`].
    Auto,
    /// This one only: when it is not installed, detection fails.
    Only(Implementation),
}

impl Choice {
    /// `"auto"`, `"openmpi"` or `"mpich"`.
    pub fn parse(text: &str) -> Option<Choice> {
        match text {
            "auto" => Some(Choice::Auto),
            other => Implementation::ALL
                .iter()
                .find(|i| i.key() == other)
                .map(|&i| Choice::Only(i)),
        }
    }
}

impl Implementation {
    /// Every implementation, in the order `auto` tries them.
    pub const ALL: [Implementation; 2] = [Implementation::OpenMpi, Implementation::Mpich];

    /// Short name, used for cache directories and `--mpi`.
    pub fn key(self) -> &'static str {
        match self {
            Implementation::OpenMpi => "openmpi",
            Implementation::Mpich => "mpich",
        }
    }

    /// Name for people.
    pub fn display_name(self) -> &'static str {
        match self {
            Implementation::OpenMpi => "Open MPI",
            Implementation::Mpich => "MPICH",
        }
    }

    fn launcher_candidates(self) -> &'static [&'static str] {
        match self {
            Implementation::OpenMpi => &["mpiexec.openmpi", "mpiexec"],
            Implementation::Mpich => &["mpiexec.mpich", "mpiexec.hydra", "mpiexec"],
        }
    }

    fn compiler_candidates(self) -> &'static [&'static str] {
        match self {
            Implementation::OpenMpi => &["mpicc.openmpi", "mpicc"],
            Implementation::Mpich => &["mpicc.mpich", "mpicc"],
        }
    }

    fn install_hint(self) -> &'static str {
        match self {
            Implementation::OpenMpi => "apt-get install openmpi-bin libopenmpi-dev libclang-dev",
            Implementation::Mpich => "apt-get install mpich libmpich-dev libclang-dev",
        }
    }

    /// The version from `mpiexec --version`, if this launcher is this implementation's.
    fn version_of(self, version_output: &str) -> Option<String> {
        match self {
            // "mpiexec (OpenRTE) 4.1.4"
            Implementation::OpenMpi => {
                let first = version_output.lines().next()?;
                (first.contains("OpenRTE") || first.contains("Open MPI"))
                    .then(|| first.split_whitespace().last().map(str::to_string))?
            }
            // "HYDRA build details:\n    Version:    4.0.2"
            Implementation::Mpich => {
                if !version_output.contains("HYDRA") {
                    return None;
                }
                version_output
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("Version:"))
                    .map(|v| v.trim().to_string())
            }
        }
    }
}

/// A located MPI installation.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// Which implementation it is.
    pub implementation: Implementation,
    /// The `mpiexec` to run.
    pub mpiexec: PathBuf,
    /// The compiler wrapper rsmpi's build script asks for the MPI flags (`MPICC`).
    pub mpicc: PathBuf,
    /// Version reported by the launcher (`4.1.4`).
    pub version: String,
    /// What starts the ranks.
    pub runner: Runner,
}

/// What starts the ranks of a launch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Runner {
    /// The implementation's `mpiexec`, on this machine, or on the hosts of a hostfile.
    #[default]
    Mpiexec,
    /// The implementation's `mpiexec` on the hosts listed in a file.
    Hostfile(PathBuf),
    /// Slurm's `srun`, inside an allocation.
    Srun,
}

impl Runner {
    /// `"mpiexec"` with an optional hostfile, or `"srun"`.
    pub fn parse(launcher: &str, hostfile: Option<PathBuf>) -> Option<Runner> {
        match (launcher, hostfile) {
            ("mpiexec", None) => Some(Runner::Mpiexec),
            ("mpiexec", Some(file)) => Some(Runner::Hostfile(file)),
            ("srun", None) => Some(Runner::Srun),
            _ => None,
        }
    }
}

/// What one launch runs.
#[derive(Debug, Clone)]
pub struct LaunchSpec<'a> {
    /// How many ranks to start.
    pub ranks: u32,
    /// The program every rank runs.
    pub program: &'a Path,
    /// Its arguments.
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
    Abort {
        /// The rank that called it.
        rank: u32,
        /// The error code it passed.
        code: i32,
    },
    /// A process was killed by a signal (MPICH names it by pid, Open MPI by rank).
    Signal {
        /// The process, as the launcher names it.
        who: Who,
        /// The signal number.
        signal: i32,
        /// The signal's name (`SIGSEGV`).
        name: String,
    },
    /// A rank exited with a non-zero status.
    Exit {
        /// The rank, when the launcher says which.
        rank: Option<u32>,
        /// Its exit status.
        code: i32,
    },
    /// A rank exited (status 0) without calling `MPI_Finalize`.
    ExitWithoutFinalize {
        /// The rank that exited.
        rank: u32,
    },
}

/// How a launcher names a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// By its rank in `MPI_COMM_WORLD`.
    Rank(u32),
    /// By its process id.
    Pid(u32),
}

impl Launcher {
    /// Finds the chosen implementation's launcher and compiler wrapper.
    pub fn detect(choice: Choice) -> Result<Launcher> {
        match choice {
            Choice::Only(implementation) => Launcher::find(implementation),
            Choice::Auto => Implementation::ALL
                .iter()
                .find_map(|&i| Launcher::find(i).ok())
                .ok_or_else(|| Error::NoMpi {
                    message: "no MPI implementation found on PATH (looked for Open MPI and MPICH)"
                        .into(),
                    install: "apt-get install openmpi-bin libopenmpi-dev libclang-dev".into(),
                }),
        }
    }

    fn find(implementation: Implementation) -> Result<Launcher> {
        let missing = |what: &str, names: &[&str]| Error::NoMpi {
            message: format!(
                "no {} {what} found on PATH (looked for {})",
                implementation.display_name(),
                names.join(", ")
            ),
            install: implementation.install_hint().to_string(),
        };
        // `mpiexec` and `mpicc` may belong to the other implementation: check each candidate.
        let (mpiexec, version) = implementation
            .launcher_candidates()
            .iter()
            .filter_map(|name| find_on_path(name))
            .find_map(|path| {
                let out = Command::new(&path).arg("--version").output().ok()?;
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                implementation.version_of(&text).map(|v| (path, v))
            })
            .ok_or_else(|| missing("launcher", implementation.launcher_candidates()))?;
        let mpicc = implementation
            .compiler_candidates()
            .iter()
            .filter_map(|name| find_on_path(name))
            .find(|path| compiler_is(path, implementation))
            .ok_or_else(|| missing("compiler wrapper", implementation.compiler_candidates()))?;
        Ok(Launcher {
            implementation,
            mpiexec,
            mpicc,
            version,
            runner: Runner::Mpiexec,
        })
    }

    /// Environment for `cargo build` so that rsmpi links this implementation.
    pub fn build_env(&self) -> Vec<(String, String)> {
        vec![("MPICC".into(), self.mpicc.display().to_string())]
    }

    /// The command for one launch. The caller adds stdio and process-group setup.
    pub fn command(&self, spec: &LaunchSpec<'_>) -> Command {
        if self.runner == Runner::Srun {
            return self.srun_command(spec);
        }
        let mut cmd = Command::new(&self.mpiexec);
        cmd.arg("-n").arg(spec.ranks.to_string());
        let oversubscribed =
            spec.ranks as usize > available_cores() && self.runner == Runner::Mpiexec;
        if let Runner::Hostfile(file) = &self.runner {
            match self.implementation {
                Implementation::OpenMpi => cmd.arg("--hostfile").arg(file),
                Implementation::Mpich => cmd.arg("-f").arg(file),
            };
        }
        match self.implementation {
            Implementation::OpenMpi => {
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
                if oversubscribed {
                    // Oversubscribed ranks busy-poll and steal the cores their peers need.
                    cmd.env("OMPI_MCA_mpi_yield_when_idle", "1");
                }
            }
            Implementation::Mpich => {
                // Hydra runs more ranks than cores without being asked, and passes the whole
                // environment on; only the preload is given to the ranks alone.
                cmd.arg("-prepend-rank");
                if let Some(lib) = spec.preload {
                    cmd.arg("-genv").arg("LD_PRELOAD").arg(lib);
                    if polite(spec.ranks) {
                        cmd.env(mpi_grade_protocol::run::ENV_POLITE, "1");
                    }
                }
            }
        }
        cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
        cmd.arg(spec.program).args(spec.args);
        cmd
    }

    /// `srun` inside a Slurm allocation (or for a job of its own): the job step's tasks get
    /// the whole environment, the preload included (srun itself is not an MPI program, so
    /// preloading it is harmless). The step is named after the launch's marker, so that
    /// [`crate::run::slurm::cancel_steps`] finds it; a task that fails ends the step;
    /// `--overcommit` lets a matrix have more ranks than the allocation has CPUs, as mpiexec's
    /// `--oversubscribe` does.
    fn srun_command(&self, spec: &LaunchSpec<'_>) -> Command {
        let mut cmd = Command::new("srun");
        cmd.arg(format!("--ntasks={}", spec.ranks)).arg("--label");
        cmd.arg(self.srun_mpi_plugin());
        cmd.args(["--kill-on-bad-exit=1", "--overcommit", "--quiet"]);
        if let Some((_, marker)) = spec
            .env
            .iter()
            .find(|(k, _)| k == crate::run::procs::LAUNCH_MARKER_VAR)
        {
            cmd.arg(format!("--job-name={marker}"));
        }
        let mut export = String::from("--export=ALL");
        if let Some(lib) = spec.preload {
            export.push_str(&format!(",LD_PRELOAD={}", lib.display()));
        }
        cmd.arg(export);
        if self.implementation == Implementation::OpenMpi && is_root() {
            cmd.env("OMPI_ALLOW_RUN_AS_ROOT", "1");
            cmd.env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        }
        cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
        cmd.arg(spec.program).args(spec.args);
        cmd
    }

    /// The `--mpi` plugin the implementation's ranks start with under `srun`: Debian's Open
    /// MPI 4.1 needs PMIx (its PMI-2 support is not built in), Debian's MPICH 4.0 speaks PMI-2.
    pub fn srun_mpi_plugin(&self) -> &'static str {
        match self.implementation {
            Implementation::OpenMpi => "--mpi=pmix",
            Implementation::Mpich => "--mpi=pmi2",
        }
    }

    /// A command as a shell line, its environment first (for `--dry-run`).
    pub fn describe(command: &Command) -> String {
        let quote = |s: &str| {
            if s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=,:<>".contains(c))
            {
                s.to_string()
            } else {
                format!("'{}'", s.replace('\'', "'\\''"))
            }
        };
        let mut words: Vec<String> = command
            .get_envs()
            .filter_map(|(k, v)| {
                Some(format!(
                    "{}={}",
                    k.to_string_lossy(),
                    quote(&v?.to_string_lossy())
                ))
            })
            .collect();
        words.push(quote(&command.get_program().to_string_lossy()));
        words.extend(command.get_args().map(|a| quote(&a.to_string_lossy())));
        words.join(" ")
    }

    /// What the launcher said about a rank that died, if it said anything we recognise.
    pub fn parse_report(&self, launcher_output: &str) -> Option<LauncherReport> {
        match self.implementation {
            Implementation::OpenMpi => parse_open_mpi_report(launcher_output),
            Implementation::Mpich => parse_mpich_report(launcher_output),
        }
    }
}

fn number(c: &regex::Captures<'_>, i: usize) -> Option<i64> {
    c[i].parse().ok()
}

fn parse_open_mpi_report(text: &str) -> Option<LauncherReport> {
    static PATTERNS: OnceLock<[Regex; 4]> = OnceLock::new();
    let [abort, signal, exit, improper] = PATTERNS.get_or_init(|| {
        [
            Regex::new(
                // The communicator's name may have spaces ("MPI COMMUNICATOR 3 DUP FROM 0").
                r"MPI_ABORT was invoked on rank (\d+) in communicator [^\n]*\s+with errorcode (-?\d+)",
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
    if let Some(c) = abort.captures(text) {
        return Some(LauncherReport::Abort {
            rank: number(&c, 1)? as u32,
            code: number(&c, 2)? as i32,
        });
    }
    if let Some(c) = signal.captures(text) {
        return Some(LauncherReport::Signal {
            who: Who::Rank(number(&c, 1)? as u32),
            signal: number(&c, 2)? as i32,
            name: c[3].to_string(),
        });
    }
    if let Some(c) = exit.captures(text) {
        return Some(LauncherReport::Exit {
            rank: Some(number(&c, 1)? as u32),
            code: number(&c, 2)? as i32,
        });
    }
    if let Some(c) = improper.captures(text) {
        return Some(LauncherReport::ExitWithoutFinalize {
            rank: number(&c, 1)? as u32,
        });
    }
    None
}

fn parse_mpich_report(text: &str) -> Option<LauncherReport> {
    static PATTERNS: OnceLock<[Regex; 2]> = OnceLock::new();
    let [abort, signal] = PATTERNS.get_or_init(|| {
        [
            Regex::new(r"application called MPI_Abort\([^,]+, (-?\d+)\) - process (\d+)").unwrap(),
            Regex::new(r"(?s)PID (\d+) RUNNING AT \S+.*?EXIT STRING: ([^\n(]*?) \(signal (\d+)\)")
                .unwrap(),
        ]
    });
    if let Some(c) = abort.captures(text) {
        return Some(LauncherReport::Abort {
            rank: number(&c, 2)? as u32,
            code: number(&c, 1)? as i32,
        });
    }
    // An exit with a non-zero status prints nothing; the status is mpiexec's own.
    signal.captures(text).and_then(|c| {
        Some(LauncherReport::Signal {
            who: Who::Pid(number(&c, 1)? as u32),
            signal: number(&c, 3)? as i32,
            name: c[2].trim().to_string(),
        })
    })
}

fn compiler_is(mpicc: &Path, implementation: Implementation) -> bool {
    // `mpicc -show` prints the underlying command line with the implementation's library.
    let Ok(out) = Command::new(mpicc).arg("-show").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    match implementation {
        Implementation::OpenMpi => text.contains("openmpi") || text.contains("-lmpi "),
        Implementation::Mpich => text.contains("mpich"),
    }
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

/// Whether MPICH's ranks of a launch of `ranks` wait politely (the tracer's `ENV_POLITE`): when
/// they, with the grader watching them, are as many as the cores or more. A waiting MPICH rank
/// polls without ever giving its core away (its `MPIR_CVAR_POLLS_BEFORE_YIELD` belongs to the
/// ch3 device; Debian's is ch4), so oversubscribed ranks take turns at the scheduler's pace: a
/// barrier of 8 ranks on 2 cores takes 35 ms, 0.2 ms politely. Open MPI yields by itself when
/// told it is oversubscribed (`mpi_yield_when_idle`). `MPI_GRADE_POLITE=0` or `1` in the
/// grader's environment decides instead, for measuring one against the other.
fn polite(ranks: u32) -> bool {
    let setting = std::env::var(mpi_grade_protocol::run::ENV_POLITE).ok();
    polite_on(ranks, available_cores(), setting.as_deref())
}

/// [`polite`] for `cores` cores and the grader's own setting of the variable.
fn polite_on(ranks: u32, cores: usize, setting: Option<&str>) -> bool {
    match setting {
        Some("0") => false,
        Some("1") => true,
        _ => ranks as usize >= cores,
    }
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
    // As MPICH 4.0 (Hydra) prints them.
    const MPICH_ABORT: &str = "Abort(7) on node 1 (rank 1 in comm 0): application called MPI_Abort(MPI_COMM_WORLD, 7) - process 1\n";
    const MPICH_SIGNAL: &str = "===================================================================================\n=   BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES\n=   PID 19979 RUNNING AT vm\n=   EXIT CODE: 11\n=   CLEANING UP REMAINING PROCESSES\n=   YOU CAN IGNORE THE BELOW CLEANUP MESSAGES\n===================================================================================\nYOUR APPLICATION TERMINATED WITH THE EXIT STRING: Segmentation fault (signal 11)\n";

    #[test]
    fn open_mpi_reports_are_recognised() {
        assert_eq!(
            parse_open_mpi_report(ABORT),
            Some(LauncherReport::Abort { rank: 1, code: 7 })
        );
        assert_eq!(
            parse_open_mpi_report(SIGNAL),
            Some(LauncherReport::Signal {
                who: Who::Rank(1),
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
        // An abort on a duplicate of the world (every cell's communicator).
        let dup = "MPI_ABORT was invoked on rank 1 in communicator MPI COMMUNICATOR 3 DUP FROM 0\nwith errorcode 7.\n";
        assert_eq!(
            parse_open_mpi_report(dup),
            Some(LauncherReport::Abort { rank: 1, code: 7 })
        );
    }

    #[test]
    fn mpich_reports_are_recognised() {
        assert_eq!(
            parse_mpich_report(MPICH_ABORT),
            Some(LauncherReport::Abort { rank: 1, code: 7 })
        );
        assert_eq!(
            parse_mpich_report(MPICH_SIGNAL),
            Some(LauncherReport::Signal {
                who: Who::Pid(19979),
                signal: 11,
                name: "Segmentation fault".into()
            })
        );
        assert_eq!(parse_mpich_report("all fine\n"), None);
    }

    #[test]
    fn versions_are_read_from_each_launcher() {
        assert_eq!(
            Implementation::OpenMpi.version_of("mpiexec (OpenRTE) 4.1.4\n\nReport bugs"),
            Some("4.1.4".into())
        );
        assert_eq!(
            Implementation::Mpich.version_of("mpiexec (OpenRTE) 4.1.4\n"),
            None
        );
        let hydra = "HYDRA build details:\n    Version:                                 4.0.2\n    Release Date:    Thu Apr  7\n";
        assert_eq!(
            Implementation::Mpich.version_of(hydra),
            Some("4.0.2".into())
        );
        assert_eq!(Implementation::OpenMpi.version_of(hydra), None);
        assert_eq!(
            Choice::parse("mpich"),
            Some(Choice::Only(Implementation::Mpich))
        );
        assert_eq!(Choice::parse("auto"), Some(Choice::Auto));
        assert_eq!(Choice::parse("lam"), None);
    }

    fn launcher(implementation: Implementation) -> Launcher {
        Launcher {
            implementation,
            mpiexec: "/usr/bin/mpiexec".into(),
            mpicc: "/usr/bin/mpicc".into(),
            version: "1".into(),
            runner: Runner::Mpiexec,
        }
    }

    fn args_of(cmd: &Command) -> Vec<String> {
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn cluster_launchers_get_their_own_command_lines() {
        let program = PathBuf::from("/shared/driver");
        let lib = PathBuf::from("/shared/libtracer.so");
        let spec = LaunchSpec {
            ranks: 16,
            program: &program,
            args: &[],
            env: vec![("MPI_GRADE_RUN_DIR".into(), "/shared/run".into())],
            preload: Some(&lib),
        };
        let mut srun = launcher(Implementation::OpenMpi);
        srun.runner = Runner::Srun;
        let mut marked = spec.clone();
        marked
            .env
            .push((crate::run::procs::LAUNCH_MARKER_VAR.into(), "77-3".into()));
        let command = srun.command(&marked);
        // The step is named after the launch's marker (it is cancelled by that name).
        assert_eq!(
            args_of(&command).join(" "),
            "--ntasks=16 --label --mpi=pmix --kill-on-bad-exit=1 --overcommit --quiet --job-name=77-3 --export=ALL,LD_PRELOAD=/shared/libtracer.so /shared/driver"
        );
        let root_vars = command
            .get_envs()
            .filter(|(k, _)| k.to_string_lossy().starts_with("OMPI_ALLOW_RUN_AS_ROOT"))
            .count();
        assert_eq!(root_vars, if is_root() { 2 } else { 0 });
        let mut mpich = launcher(Implementation::Mpich);
        mpich.runner = Runner::Srun;
        assert!(args_of(&mpich.command(&spec)).contains(&"--mpi=pmi2".to_string()));
        let mut hosts = launcher(Implementation::Mpich);
        hosts.runner = Runner::Hostfile("/shared/hosts".into());
        let args = args_of(&hosts.command(&spec));
        assert!(
            args.windows(2).any(|w| w == ["-f", "/shared/hosts"]),
            "{args:?}"
        );
        assert_eq!(Runner::parse("srun", None), Some(Runner::Srun));
        assert_eq!(Runner::parse("srun", Some("h".into())), None);
        assert_eq!(Runner::parse("qsub", None), None);
    }

    #[test]
    fn the_command_preloads_only_the_ranks() {
        let program = PathBuf::from("/tmp/driver");
        let lib = PathBuf::from("/tmp/libtracer.so");
        let spec = LaunchSpec {
            ranks: 3,
            program: &program,
            args: &[],
            env: vec![("MPI_GRADE_RUN_DIR".into(), "/tmp/run".into())],
            preload: Some(&lib),
        };
        let cmd = launcher(Implementation::OpenMpi).command(&spec);
        let args = args_of(&cmd);
        assert_eq!(&args[..2], ["-n", "3"]);
        assert!(args
            .windows(2)
            .any(|w| w == ["-x", "LD_PRELOAD=/tmp/libtracer.so"]));
        assert_eq!(args.last().unwrap(), "/tmp/driver");
        assert!(cmd.get_envs().all(|(k, _)| k != "LD_PRELOAD"));
        assert!(cmd
            .get_envs()
            .any(|(k, v)| k == "MPI_GRADE_RUN_DIR" && v == Some("/tmp/run".as_ref())));

        let cmd = launcher(Implementation::Mpich).command(&spec);
        let args = args_of(&cmd);
        assert!(args
            .windows(3)
            .any(|w| w == ["-genv", "LD_PRELOAD", "/tmp/libtracer.so"]));
        assert!(
            !args.iter().any(|a| a == "--oversubscribe"),
            "Hydra rejects --oversubscribe"
        );
        assert!(cmd.get_envs().all(|(k, _)| k != "LD_PRELOAD"));
    }

    #[test]
    fn mpich_ranks_wait_politely_when_they_fill_the_cores() {
        assert!(!polite_on(1, 2, None));
        assert!(polite_on(2, 2, None), "the grader watches them too");
        assert!(polite_on(8, 2, None));
        assert!(!polite_on(8, 16, None));
        assert!(!polite_on(8, 2, Some("0")));
        assert!(polite_on(1, 16, Some("1")));
        let polite_var = |cmd: &Command| {
            cmd.get_envs()
                .any(|(k, v)| k == mpi_grade_protocol::run::ENV_POLITE && v == Some("1".as_ref()))
        };
        let program = PathBuf::from("/tmp/driver");
        let lib = PathBuf::from("/tmp/libtracer.so");
        let spec = LaunchSpec {
            ranks: 1024,
            program: &program,
            args: &[],
            env: vec![],
            preload: Some(&lib),
        };
        if std::env::var_os(mpi_grade_protocol::run::ENV_POLITE).is_none() {
            assert!(polite_var(&launcher(Implementation::Mpich).command(&spec)));
        }
        // Open MPI yields by itself; without the tracer there is nobody to be polite.
        assert!(!polite_var(
            &launcher(Implementation::OpenMpi).command(&spec)
        ));
        let untraced = LaunchSpec {
            preload: None,
            ..spec
        };
        assert!(!polite_var(
            &launcher(Implementation::Mpich).command(&untraced)
        ));
    }
}
