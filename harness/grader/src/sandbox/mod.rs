//! Isolation of everything a submission runs: its build (cargo, rustc, its `build.rs` and proc
//! macros) and its ranks (`mpiexec` and every process it starts).
//!
//! Each sandboxed command gets:
//!
//! - a PID namespace of its own with a fresh, read-only `/proc`: nothing of the host or of
//!   another grade is visible or can be signalled, and `/proc/self/mem` cannot be written. Its
//!   init is a small process of ours (a copy of the grader, made between `fork` and `exec`) whose
//!   only child is the command; when the command ends, the init exits and the kernel kills
//!   whatever is left in the namespace (a daemon, however often it forks). A supervisor outside
//!   (the process the grader waits for) passes signals on and dies with the grader;
//! - a network namespace of its own with only loopback, up (MPI on one node needs nothing else);
//! - a mount namespace whose root is a fresh tmpfs holding only an allow-list of the host's
//!   files, read-only: `/usr`, the few `/etc` files MPI and the toolchain read, `/sys`, a
//!   minimal `/dev`, the toolchain (builds), the grade's scratch directory; read-write only the
//!   size-capped private `/tmp`, `/var/tmp`, `/dev/shm`, and what the command must write (the
//!   run directory's files, the build's overlay); nothing else (no home, no other trees, no
//!   `/run`, no batch, config or output paths, no cargo credentials);
//! - when the grader runs as root, an unprivileged user of its own (`mpi-grade`, created by
//!   `scripts/install-deps`, else `nobody`), with a user namespace for the set-up if root lacks
//!   the privilege (no `CAP_SYS_ADMIN`, as in a default container); otherwise a user namespace
//!   for the set-up; every capability dropped before the submission runs;
//! - resource limits (CPU time, address space, file size, processes, open files; no core files)
//!   and `no_new_privs`, and where cgroups can be had, a cgroup per command with the process and
//!   memory totals of [`limits`], killed as a whole when the command ends;
//! - an environment from an allow-list (see [`mod@env`]), with no secret in it.
//!
//! When the kernel refuses a namespace, or there is no unprivileged identity, the grade is
//! refused ([`Sandbox::detect`]): `--no-sandbox` is the teacher's explicit choice to go without.

pub mod builds;
pub mod cgroup;
pub mod child;
pub mod env;
pub mod fs;
pub mod grade;
pub mod limits;
pub mod scratch;

use crate::error::{Error, Result};
use child::{Identity, MountStep, Program};
use limits::ResourceLimits;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The user sandboxed processes run as, when the grader is root.
pub const SANDBOX_USER: &str = "mpi-grade";

/// An account the submission runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user name (from the password database).
    pub name: String,
    /// The user's numeric id.
    pub uid: u32,
    /// The user's primary group id.
    pub gid: u32,
}

/// What isolation this machine gives, found once per grade.
#[derive(Debug, Clone)]
pub struct Sandbox {
    identity: Identity,
    /// The unprivileged account (running as root), whose processes the submission's are.
    pub account: Option<Account>,
    /// A network namespace with only loopback.
    pub net: bool,
    /// A mount namespace with a root from an allow-list.
    pub mounts: bool,
    /// A PID namespace with a fresh /proc.
    pub pid: bool,
    /// Cgroups per command (v1 controllers here), if the grader may create them.
    pub cgroups: Option<cgroup::Hierarchy>,
    /// What could not be had, for the notice.
    missing: Vec<String>,
}

/// Where and how one sandboxed command runs.
#[derive(Debug, Clone, Default)]
pub struct Confinement {
    /// Resource limits of every process of the command (none: no limits set).
    pub limits: Option<ResourceLimits>,
    /// Paths that must never be visible: keeping one of them, or a directory above one, is an
    /// error (everything not kept is absent anyway).
    pub hide: Vec<PathBuf>,
    /// Host paths (directories or files) visible at their place (true: read-only), on top of
    /// the system's allow-list.
    pub keep: Vec<(PathBuf, bool)>,
    /// Overlays: (directory, upper, work). The directory is seen with the changes landing in
    /// `upper`; the real one is never written.
    pub overlays: Vec<(PathBuf, PathBuf, PathBuf)>,
    /// The working directory (entered after the mounts).
    pub cwd: Option<PathBuf>,
    /// Variables set on top of the allowed ones (`HOME`, `TMPDIR`, `USER` are set already).
    pub env: Vec<(String, String)>,
    /// The home and temporary directory when there is no private `/tmp` (no mount namespace).
    pub fallback_home: Option<PathBuf>,
    /// An empty directory of the grader's where the new root is assembled (mounted over in the
    /// command's own mount namespace only).
    pub staging: Option<PathBuf>,
    /// The cgroups the command runs in (created by [`cgroup::Hierarchy::create`]).
    pub cgroup: Option<cgroup::Group>,
}

/// A sandbox and the confinement of one kind of command in it.
#[derive(Debug, Clone)]
pub struct Jail {
    /// The isolation this machine gives.
    pub sandbox: Sandbox,
    /// How the command is confined in it.
    pub confinement: Confinement,
}

impl Jail {
    /// The confinement of the ranks of a grade: the grade's scratch directory (the driver, the
    /// tracer and the run directories) read-only on top of the system's allow-list; each launch
    /// adds its run directory's files ([`Jail::for_launch`]). Creates `scratch/home`, the ranks'
    /// home when there is no private `/tmp`.
    pub fn for_ranks(
        sandbox: &Sandbox,
        limits: ResourceLimits,
        scratch: &Path,
        hide: Vec<PathBuf>,
    ) -> Result<Jail> {
        let home = scratch.join("home");
        std::fs::create_dir_all(&home)
            .map_err(Error::io(format!("cannot create {}", home.display())))?;
        if let Some((uid, gid)) = sandbox.owner() {
            fs::give(&home, uid, gid)?;
        }
        let cwd = if sandbox.mounts {
            PathBuf::from("/tmp")
        } else {
            home.clone()
        };
        Ok(Jail {
            sandbox: sandbox.clone(),
            confinement: Confinement {
                limits: Some(limits),
                hide,
                keep: vec![(scratch.to_path_buf(), true)],
                cwd: Some(cwd),
                fallback_home: Some(home),
                staging: Some(staging_dir(scratch)?),
                ..Confinement::default()
            },
        })
    }

    /// This jail for one launch: the directories of its run directory the ranks write writable
    /// (events, results, and the keys and trace records they delete at start-up; see
    /// [`Jail::give_run_files`] for who owns what), and a cgroup of its own where cgroups can be
    /// had.
    pub fn for_launch(&self, run_dir: Option<&Path>) -> Result<Jail> {
        let mut jail = self.clone();
        if let Some(run_dir) = run_dir {
            for dir in [
                mpi_grade_protocol::run::ranks_dir(run_dir),
                mpi_grade_protocol::run::results_dir(run_dir),
                mpi_grade_protocol::run::keys_dir(run_dir),
                mpi_grade_protocol::run::trace_dir(run_dir),
            ] {
                if dir.is_dir() {
                    jail.confinement.keep.push((dir, false));
                }
            }
        }
        if let (Some(hierarchy), Some(limits)) =
            (&self.sandbox.cgroups, self.confinement.limits.as_ref())
        {
            jail.confinement.cgroup = Some(hierarchy.create("launch", limits)?);
        }
        Ok(jail)
    }

    /// What a command in this jail may write, all together (see [`scratch`]): its private
    /// temporary directories and the directories of the host it writes.
    pub fn scratch_cap(&self) -> Option<scratch::Cap> {
        let limits = self.confinement.limits?;
        Some(scratch::Cap {
            limit_mb: limits.scratch_mb,
            dirs: self
                .confinement
                .keep
                .iter()
                .filter(|(_, readonly)| !readonly)
                // A launch's results files grow with the challenge (every repetition of every
                // cell appends its blocks): the grader made them, one per rank, in a directory
                // the sandbox user may not add to, each capped by `file_size_mb`.
                .filter(|(path, _)| !is_results_dir(path))
                .map(|(path, _)| path.clone())
                .collect(),
        })
    }

    /// Sets `command` up to run in this jail.
    pub fn confine(&self, command: &mut Command) -> Result<()> {
        self.sandbox.confine(command, &self.confinement)
    }

    /// Gives the files of a run directory the ranks write (their event, results and key files and
    /// tracer records) to the sandbox user, and the key and trace directories, whose files the
    /// ranks delete. The other directories stay the grader's: a rank cannot add, remove or
    /// replace an event or results file, nor touch the plan.
    pub fn give_run_files(&self, run_dir: &Path) -> Result<()> {
        let Some((uid, gid)) = self.sandbox.owner() else {
            return Ok(());
        };
        // The ranks delete their key file, and the tracer its record, before any student code
        // runs: those two directories are theirs too.
        for dir in [
            mpi_grade_protocol::run::keys_dir(run_dir),
            mpi_grade_protocol::run::trace_dir(run_dir),
        ] {
            if dir.is_dir() {
                fs::give(&dir, uid, gid)?;
            }
        }
        for dir in [
            mpi_grade_protocol::run::ranks_dir(run_dir),
            mpi_grade_protocol::run::results_dir(run_dir),
            mpi_grade_protocol::run::keys_dir(run_dir),
            mpi_grade_protocol::run::trace_dir(run_dir),
        ] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_file()) {
                    fs::give(&entry.path(), uid, gid)?;
                }
            }
        }
        Ok(())
    }
}

/// Whether `path` is a run directory's results directory.
fn is_results_dir(path: &Path) -> bool {
    path.parent()
        .is_some_and(|run_dir| mpi_grade_protocol::run::results_dir(run_dir) == path)
}

/// Private directories every sandboxed process gets: one tmpfs of the command's scratch size
/// (see [`scratch`]) holds all three, so that together they hold no more than that.
const PRIVATE: &[&str] = &["/tmp", "/var/tmp", "/dev/shm"];
/// Where that tmpfs is mounted while its directories are bound in place (then detached).
const PRIVATE_MOUNT: &str = "/.private";

/// The system's part of the new root, read-only: what MPI, the C library and the toolchain
/// read. Directories are bound with what is mounted below them.
const SYSTEM_DIRS: &[&str] = &["/usr", "/sys"];
/// Links (or, where they are directories, directories) at the top of a merged-`/usr` system.
const TOP_LINKS: &[&str] = &["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
/// The files and directories of `/etc` that are read: users and groups (Open MPI names its
/// session directory after the user), name resolution of `localhost`, the dynamic linker's
/// cache, the alternatives `mpiexec` and `mpicc` are links through, and the MPIs' own settings.
const ETC: &[&str] = &[
    "passwd",
    "group",
    "hosts",
    "host.conf",
    "nsswitch.conf",
    "gai.conf",
    "protocols",
    "services",
    "localtime",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "openmpi",
    "mpich",
    "hwloc",
    "pmix",
    "libibverbs.d",
    "ucx",
];
/// The devices of the new `/dev` (bound from the host's).
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

/// `<scratch>/.root`, the empty directory a new root is assembled on.
pub fn staging_dir(scratch: &Path) -> Result<PathBuf> {
    let dir = scratch.join(".root");
    std::fs::create_dir_all(&dir).map_err(Error::io(format!("cannot create {}", dir.display())))?;
    Ok(dir)
}

impl Sandbox {
    /// No isolation at all (`--no-sandbox`).
    pub fn disabled() -> Sandbox {
        Sandbox {
            identity: Identity::Same,
            account: None,
            net: false,
            mounts: false,
            pid: false,
            cgroups: None,
            missing: Vec::new(),
        }
    }

    /// Finds the isolation this machine allows, trying the whole of it on a short-lived
    /// process: PID, mount and network namespaces and an unprivileged identity (as root, a user
    /// of its own, with a user namespace if root may not set up namespaces by itself; else a
    /// user namespace). Without them, the grade is refused: that is the error returned.
    /// Cgroups are used where they can be had, and said missing otherwise.
    pub fn detect() -> Result<Sandbox> {
        // SAFETY: geteuid, getuid and getgid have no preconditions.
        let (euid, uid, gid) = unsafe { (libc::geteuid(), libc::getuid(), libc::getgid()) };
        let mut missing = Vec::new();
        let cgroups = cgroup::Hierarchy::find();
        if cgroups.is_none() {
            missing.push("cgroup per command (no writable cgroup hierarchy: process and memory limits are per process and per user namespace only)".to_string());
        }
        let mut candidates = Vec::new();
        let account = if euid == 0 {
            let Some(a) = account(SANDBOX_USER).or_else(|| account("nobody")) else {
                return Err(refusal(
                    "there is no unprivileged user to run the submission as (no `mpi-grade`, no `nobody`)",
                    None,
                ));
            };
            candidates.push(Identity::Switch {
                uid: a.uid,
                gid: a.gid,
            });
            candidates.push(Identity::SwitchThenUserNamespace {
                uid: a.uid,
                gid: a.gid,
            });
            Some(a)
        } else {
            candidates.push(Identity::UserNamespace { uid, gid });
            None
        };
        let mut last_error = None;
        for identity in candidates {
            let sandbox = Sandbox {
                identity,
                account: account.clone(),
                net: true,
                mounts: true,
                pid: true,
                cgroups: cgroups.clone(),
                missing: missing.clone(),
            };
            match sandbox.probe() {
                Ok(()) => return Ok(sandbox),
                Err(e) => last_error = Some(e),
            }
        }
        let what = if euid == 0 {
            "as root, neither with its own privileges nor through a user namespace, could the grader set up the PID, mount and network namespaces a grade needs"
        } else {
            "the grader is not root and this kernel or container gives it no user namespace, so it cannot set up the PID, mount and network namespaces a grade needs"
        };
        Err(refusal(what, last_error))
    }

    /// Runs `true` inside the sandbox, the way a submission's command would run.
    fn probe(&self) -> std::io::Result<()> {
        let program =
            crate::mpi::find_on_path("true").unwrap_or_else(|| PathBuf::from("/bin/true"));
        let staging = tempfile::Builder::new()
            .prefix("mpi-grade-probe-")
            .tempdir()?;
        let mut command = Command::new(program);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let confinement = Confinement {
            cwd: Some(PathBuf::from("/")),
            staging: Some(staging.path().to_path_buf()),
            ..Confinement::default()
        };
        self.confine(&mut command, &confinement)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let status = command.status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("{status}")))
        }
    }

    /// Whether anything is isolated at all.
    pub fn is_enabled(&self) -> bool {
        self.net || self.mounts || self.pid || self.identity != Identity::Same
    }

    /// One line on what could not be isolated, if anything.
    pub fn notice(&self) -> Option<String> {
        if self.missing.is_empty() {
            return None;
        }
        Some(format!(
            "mpi-grade: notice: the sandbox has no {}",
            self.missing.join(", ")
        ))
    }

    /// What is isolated, for the report.
    pub fn describe(&self) -> String {
        if !self.is_enabled() {
            return "off".into();
        }
        let mut parts = Vec::new();
        if self.pid {
            parts.push("own PID namespace per build and launch (read-only /proc)".to_string());
        }
        if self.net {
            parts.push("own network (loopback only)".to_string());
        }
        if self.mounts {
            parts.push(
                "root from an allow-list (system read-only, scratch, private /tmp)".to_string(),
            );
        }
        match (&self.account, self.identity) {
            (Some(a), Identity::SwitchThenUserNamespace { .. }) => parts.push(format!(
                "user {} in a user namespace (root without CAP_SYS_ADMIN)",
                a.name
            )),
            (Some(a), _) => parts.push(format!("user {}", a.name)),
            (None, Identity::UserNamespace { .. }) => {
                parts.push("user namespace (no capabilities)".into())
            }
            _ => {}
        }
        match &self.cgroups {
            Some(h) => parts.push(format!("cgroup per build and launch ({})", h.describe())),
            None => parts.push("no cgroup".into()),
        }
        parts.push("resource limits".into());
        parts.push("scrubbed environment".into());
        parts.join(", ")
    }

    /// The uid and gid files the submission writes must belong to (running as root).
    pub fn owner(&self) -> Option<(u32, u32)> {
        self.account.as_ref().map(|a| (a.uid, a.gid))
    }

    /// Sets `command` up to run confined: environment, then the child's program (namespaces,
    /// mounts, limits, user) in `pre_exec`, after any set up earlier (the new session).
    pub fn confine(&self, command: &mut Command, c: &Confinement) -> Result<()> {
        self.scrub_env(command, c.fallback_home.as_deref());
        command.envs(c.env.iter().map(|(k, v)| (k, v)));
        let program = self.program(c)?;
        // The command holds the cgroup: dropping it (after the command ended) kills what is
        // left in the group and removes it.
        let group = c.cgroup.clone();
        let works = OverlayWork(c.overlays.iter().map(|(_, _, w)| w.join("work")).collect());
        // SAFETY: Program::run makes only async-signal-safe system calls on data prepared here.
        unsafe {
            command.pre_exec(move || {
                let _ = (&group, &works);
                program.run()
            });
        }
        Ok(())
    }

    /// Replaces `command`'s environment by the allowed part of the grader's, `HOME` and
    /// `TMPDIR` (the private `/tmp`, else `fallback_home`), and what was set on `command`
    /// explicitly (secrets excepted).
    pub fn scrub_env(&self, command: &mut Command, fallback_home: Option<&Path>) {
        let explicit: Vec<(std::ffi::OsString, std::ffi::OsString)> = command
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_os_string(), v?.to_os_string())))
            .collect();
        command.env_clear();
        command.envs(env::inherited(std::env::vars()));
        let home = if self.mounts {
            Path::new("/tmp")
        } else {
            fallback_home.unwrap_or(Path::new("/tmp"))
        };
        command.env("HOME", home).env("TMPDIR", home);
        if let Some(a) = &self.account {
            command.env("USER", &a.name).env("LOGNAME", &a.name);
        }
        for (k, v) in explicit {
            if !env::is_secret(&k.to_string_lossy()) {
                command.env(k, v);
            }
        }
    }

    fn program(&self, c: &Confinement) -> Result<Program> {
        let cstr = |p: &Path| {
            CString::new(p.as_os_str().as_bytes())
                .map_err(|_| Error::Other(format!("{}: a path with a NUL byte", p.display())))
        };
        let mounts = if self.mounts {
            root_plan(c)?
        } else {
            Vec::new()
        };
        let identity = self.identity;
        let id_maps = match identity {
            Identity::UserNamespace { uid, gid }
            | Identity::SwitchThenUserNamespace { uid, gid } => Some((
                CString::new(format!("{uid} {uid} 1")).expect("digits"),
                CString::new(format!("{gid} {gid} 1")).expect("digits"),
            )),
            _ => None,
        };
        // Counted per user (as root: the sandbox user's) or per user namespace.
        let with_processes =
            self.account.is_some() || matches!(identity, Identity::UserNamespace { .. });
        let cgroups = match &c.cgroup {
            Some(group) => group
                .procs_files()
                .iter()
                .map(|p| cstr(p))
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        Ok(Program {
            identity,
            net: self.net,
            pid: self.pid,
            mounts,
            rlimits: c
                .limits
                .map(|l| l.rlimits(with_processes))
                .unwrap_or_default(),
            chdir: c.cwd.as_deref().map(cstr).transpose()?,
            id_maps,
            cgroups,
            argv_area: if self.pid { argv_area() } else { None },
        })
    }
}

/// The refusal to grade without the isolation a grade needs.
fn refusal(what: &str, error: Option<std::io::Error>) -> Error {
    let cause = error.map(|e| format!(" ({e})")).unwrap_or_default();
    Error::Other(format!(
        "cannot isolate the submission: {what}{cause}. Run the grader as root (with CAP_SYS_ADMIN, or where user namespaces are allowed) or as a user allowed user namespaces; --no-sandbox grades without any isolation, for trusted code only"
    ))
}

/// Where the grader's command line is in its memory (`arg_start` and `arg_end`, fields 48 and
/// 49 of `/proc/self/stat`).
fn argv_area() -> Option<(usize, usize)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    // Fields from the 3rd on: arg_start is the 48th field overall.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let start = fields.get(48 - 3)?.parse().ok()?;
    let end = fields.get(49 - 3)?.parse().ok()?;
    Some((start, end))
}

/// The new root of a sandboxed command: a tmpfs on the staging directory with the system's
/// allow-list read-only, a minimal `/dev`, a fresh `/proc`, the private temporary
/// directories, the confinement's own paths; then `pivot_root` into it.
fn root_plan(c: &Confinement) -> Result<Vec<MountStep>> {
    let staging = c
        .staging
        .as_deref()
        .ok_or_else(|| Error::Other("no directory to assemble the sandbox's root in".into()))?;
    for (path, _) in &c.keep {
        if let Some(hidden) = c.hide.iter().find(|h| h.starts_with(path)) {
            return Err(Error::Other(format!(
                "the sandbox would show {} by keeping {}",
                hidden.display(),
                path.display()
            )));
        }
    }
    let mut plan = RootPlan {
        staging,
        steps: Vec::new(),
        made: Vec::new(),
    };
    for (dir, upper, work) in &c.overlays {
        let options = format!(
            "lowerdir={},upperdir={},workdir={}",
            escape(dir),
            escape(upper),
            escape(work)
        );
        plan.steps.push(MountStep::Overlay {
            target: cstr(dir)?,
            options: CString::new(options).expect("no NUL in checked paths"),
        });
    }
    plan.steps.push(MountStep::Tmpfs {
        target: cstr(staging)?,
        options: c"mode=0755,size=16m".to_owned(),
    });
    plan.system()?;
    plan.dev()?;
    let proc_dir = Path::new("/proc");
    plan.mkdirs(proc_dir)?;
    plan.steps.push(MountStep::Proc {
        target: cstr(&plan.inside(proc_dir))?,
    });
    plan.private_dirs(c)?;
    plan.steps.push(MountStep::ReadOnly {
        target: cstr(&plan.inside(Path::new("/dev")))?,
    });
    plan.keeps(c)?;
    plan.steps.push(MountStep::ReadOnly {
        target: cstr(staging)?,
    });
    plan.steps.push(MountStep::PivotRoot {
        new_root: cstr(staging)?,
    });
    Ok(plan.steps)
}

/// A path as a C string, refused if it has a NUL byte.
fn cstr(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::Other(format!("{}: a path with a NUL byte", p.display())))
}

/// The steps of [`root_plan`] so far, for its parts.
struct RootPlan<'a> {
    /// The directory the new root is assembled in.
    staging: &'a Path,
    steps: Vec<MountStep>,
    /// Directories created inside the new root so far (by [`RootPlan::mkdirs`]).
    made: Vec<PathBuf>,
}

impl RootPlan<'_> {
    /// Where the host's `p` is in the new root.
    fn inside(&self, p: &Path) -> PathBuf {
        self.staging.join(p.strip_prefix("/").unwrap_or(p))
    }

    /// `path` of the host at the same place in the new root.
    fn bind(&self, path: &Path, readonly: bool, recursive: bool) -> Result<MountStep> {
        Ok(MountStep::Bind {
            source: cstr(path)?,
            target: cstr(&self.inside(path))?,
            readonly,
            recursive,
        })
    }

    /// An empty file in the new root for a file to be bound onto.
    fn touch(&self, path: &Path) -> Result<MountStep> {
        Ok(MountStep::Touch {
            path: cstr(&self.inside(path))?,
        })
    }

    /// Directories to create inside the new root, each once, parents first.
    fn mkdirs(&mut self, path: &Path) -> Result<()> {
        let mut dir = PathBuf::from("/");
        for part in path.components().skip(1) {
            dir.push(part);
            if !self.made.contains(&dir) {
                self.made.push(dir.clone());
                self.steps.push(MountStep::Mkdir {
                    path: cstr(&self.inside(&dir))?,
                });
            }
        }
        Ok(())
    }

    /// The system's allow-list, read-only: its directories, the top-level links (or
    /// directories) to them, the files of `/etc` a program needs.
    fn system(&mut self) -> Result<()> {
        for dir in SYSTEM_DIRS {
            let dir = Path::new(dir);
            if dir.is_dir() {
                self.mkdirs(dir)?;
                self.steps.push(self.bind(dir, true, true)?);
            }
        }
        for top in TOP_LINKS {
            let top = Path::new(top);
            match std::fs::symlink_metadata(top) {
                Ok(m) if m.file_type().is_symlink() => {
                    let target = std::fs::read_link(top)
                        .map_err(Error::io(format!("cannot read {}", top.display())))?;
                    self.steps.push(MountStep::Symlink {
                        target: cstr(&target)?,
                        path: cstr(&self.inside(top))?,
                    });
                }
                Ok(m) if m.is_dir() => {
                    self.mkdirs(top)?;
                    self.steps.push(self.bind(top, true, true)?);
                }
                _ => {}
            }
        }
        self.mkdirs(Path::new("/etc"))?;
        for name in ETC {
            let path = Path::new("/etc").join(name);
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                self.mkdirs(&path)?;
            } else {
                self.steps.push(self.touch(&path)?);
            }
            self.steps.push(self.bind(&path, true, false)?);
        }
        Ok(())
    }

    /// A minimal /dev.
    fn dev(&mut self) -> Result<()> {
        let dev = Path::new("/dev");
        self.mkdirs(dev)?;
        self.steps.push(MountStep::Tmpfs {
            target: cstr(&self.inside(dev))?,
            options: c"mode=0755,size=64k".to_owned(),
        });
        for name in DEVICES {
            let path = dev.join(name);
            if path.exists() {
                self.steps.push(self.touch(&path)?);
                self.steps.push(self.bind(&path, false, false)?);
            }
        }
        for (name, target) in [
            ("fd", "/proc/self/fd"),
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
        ] {
            self.steps.push(MountStep::Symlink {
                target: cstr(Path::new(target))?,
                path: cstr(&self.inside(&dev.join(name)))?,
            });
        }
        Ok(())
    }

    /// One size-capped tmpfs for the private temporary directories, each a directory of it.
    fn private_dirs(&mut self, c: &Confinement) -> Result<()> {
        let private = Path::new(PRIVATE_MOUNT);
        self.mkdirs(private)?;
        let size_mb = c
            .limits
            .map_or(limits::SandboxLimits::default().ranks.scratch_mb, |l| {
                l.scratch_mb
            });
        self.steps.push(MountStep::Tmpfs {
            target: cstr(&self.inside(private))?,
            options: CString::new(format!("mode=0755,size={size_mb}m")).expect("no NUL"),
        });
        for (i, path) in PRIVATE.iter().enumerate() {
            let path = Path::new(path);
            self.mkdirs(path)?;
            let dir = self.inside(private).join(i.to_string());
            self.steps.push(MountStep::Mkdir { path: cstr(&dir)? });
            self.steps.push(MountStep::Chmod {
                path: cstr(&dir)?,
                mode: 0o1777,
            });
            self.steps.push(MountStep::BindPath {
                source: cstr(&dir)?,
                target: cstr(&self.inside(path))?,
            });
        }
        self.steps.push(MountStep::Detach {
            target: cstr(&self.inside(private))?,
        });
        self.steps.push(MountStep::Rmdir {
            path: cstr(&self.inside(private))?,
        });
        Ok(())
    }

    /// The confinement's own paths, outer ones first.
    fn keeps(&mut self, c: &Confinement) -> Result<()> {
        let mut keeps: Vec<(PathBuf, bool)> =
            c.keep.iter().filter(|(p, _)| p.exists()).cloned().collect();
        keeps.sort_by_key(|(p, _)| p.components().count());
        keeps.dedup_by(|a, b| a.0 == b.0);
        for (path, readonly) in &keeps {
            if path.is_dir() {
                self.mkdirs(path)?;
            } else {
                if let Some(parent) = path.parent() {
                    self.mkdirs(parent)?;
                }
                self.steps.push(self.touch(path)?);
            }
            self.steps.push(self.bind(path, *readonly, false)?);
        }
        Ok(())
    }
}

/// Overlay options separate with `,` and `:`; escape them in paths.
fn escape(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        if matches!(c, ',' | ':' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The `work` directories the kernel makes, with mode 0, in a command's overlay work
/// directories: an ordinary user's grader could not list them, so not remove its scratch
/// directory. Dropped with the command (after it ended), it gives them back to their owner.
struct OverlayWork(Vec<PathBuf>);

impl Drop for OverlayWork {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        for dir in &self.0 {
            // Not through a link (nothing sandboxed can write there, the scratch directory is
            // read-only to it; still).
            if std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
                let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
            }
        }
    }
}

/// The account called `name`, from the system's user database.
pub fn account(name: &str) -> Option<Account> {
    let cname = CString::new(name).ok()?;
    let mut buffer = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: getpwnam_r writes into `entry` and `buffer`, both owned here and large enough
    // (it reports ERANGE otherwise); `result` points at `entry` on success.
    unsafe {
        let mut entry: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwnam_r(
            cname.as_ptr(),
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut result,
        );
        if rc != 0 || result.is_null() {
            return None;
        }
        Some(Account {
            name: name.to_string(),
            uid: entry.pw_uid,
            gid: entry.pw_gid,
        })
    }
}

/// The grader's home directory, hidden from sandboxed processes.
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_absolute() && h != Path::new("/"))
}

/// Where rustup and cargo keep the toolchain and the registry (read by builds).
pub fn toolchain_dirs() -> Vec<(String, PathBuf)> {
    let home = home_dir();
    let mut dirs = Vec::new();
    for (var, default) in [("RUSTUP_HOME", ".rustup"), ("CARGO_HOME", ".cargo")] {
        let dir = std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(default)));
        if let Some(dir) = dir.filter(|d| d.is_dir()) {
            dirs.push((var.to_string(), dir));
        }
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_paths_are_escaped() {
        assert_eq!(escape(Path::new("/a,b:c")), "/a\\,b\\:c");
    }

    #[test]
    fn the_root_plan_assembles_the_root_then_pivots_into_it() {
        let c = Confinement {
            staging: Some(PathBuf::from("/staging")),
            ..Confinement::default()
        };
        let steps = root_plan(&c).unwrap();
        let at = |p: &str| CString::new(p).unwrap();
        assert!(matches!(&steps[0], MountStep::Tmpfs { target, .. } if *target == at("/staging")));
        let n = steps.len();
        assert!(
            matches!(&steps[n - 2], MountStep::ReadOnly { target } if *target == at("/staging"))
        );
        assert!(
            matches!(&steps[n - 1], MountStep::PivotRoot { new_root } if *new_root == at("/staging"))
        );
        let index = |f: &dyn Fn(&MountStep) -> bool| steps.iter().position(f).unwrap();
        let proc_at =
            index(&|s| matches!(s, MountStep::Proc { target } if *target == at("/staging/proc")));
        let private_gone =
            index(&|s| matches!(s, MountStep::Rmdir { path } if *path == at("/staging/.private")));
        let dev_read_only = index(
            &|s| matches!(s, MountStep::ReadOnly { target } if *target == at("/staging/dev")),
        );
        assert!(proc_at < private_gone && private_gone < dev_read_only);
        let mut made: Vec<&CString> = steps
            .iter()
            .filter_map(|s| match s {
                MountStep::Mkdir { path } => Some(path),
                _ => None,
            })
            .collect();
        let all = made.len();
        made.sort();
        made.dedup();
        assert_eq!(made.len(), all, "a directory is made once");
    }

    #[test]
    fn the_root_plan_refuses_to_keep_what_is_hidden() {
        let c = Confinement {
            staging: Some(PathBuf::from("/staging")),
            keep: vec![(PathBuf::from("/home"), true)],
            hide: vec![PathBuf::from("/home/grader")],
            ..Confinement::default()
        };
        assert!(root_plan(&c).is_err());
        assert!(root_plan(&Confinement::default()).is_err());
    }

    #[test]
    fn root_has_an_account_for_the_submission() {
        assert!(account("root").is_some_and(|a| a.uid == 0));
        assert!(account("no-such-user-here").is_none());
    }
}

#[cfg(test)]
mod live_tests {
    use super::*;

    /// What a shell in the sandbox sees: its network, its processes, the grader's command line
    /// through the init, a file outside what is kept, its capabilities, whether it can write
    /// its own memory, undo a mount, or reach the host's /run/lock.
    const PROBE: &str = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; \
        ls /proc | grep -c '^[0-9]'; \
        tr -d '\\0' < /proc/1/cmdline | wc -c; \
        cat SECRET 2>/dev/null || echo hidden; \
        grep CapEff /proc/self/status | tr -d '\\t'; \
        (echo x > /proc/self/mem) 2>/dev/null && echo mem-writable || echo mem-read-only; \
        umount /tmp 2>/dev/null && echo unmounted || echo locked; \
        ls -d /run/lock /root /home 2>/dev/null | wc -l; \
        touch /usr/mpi-grade-probe 2>/dev/null && echo usr-writable || echo usr-read-only";

    fn run_probe(sandbox: &Sandbox) -> Vec<String> {
        let hidden = tempfile::tempdir().unwrap();
        let secret = hidden.path().join("secret");
        std::fs::write(&secret, "no").unwrap();
        std::fs::set_permissions(
            hidden.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let staging = tempfile::tempdir().unwrap();
        let mut command = Command::new("sh");
        let script = PROBE.replace("SECRET", &secret.display().to_string());
        command.args(["-c", &script]);
        let confinement = Confinement {
            cwd: Some("/".into()),
            staging: Some(staging.path().to_path_buf()),
            ..Confinement::default()
        };
        sandbox.confine(&mut command, &confinement).unwrap();
        let out = command.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text.lines().map(String::from).collect()
    }

    fn expected(processes: &str) -> Vec<String> {
        [
            "lo",
            processes,
            "0",
            "hidden",
            "CapEff:0000000000000000",
            "mem-read-only",
            "locked",
            "0",
            "usr-read-only",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// The set-up a grader that is not root uses: a user namespace mapping the grader's own
    /// user, the rest as for root. (Run as root here, the mapping is root's, but every step is
    /// the same.)
    #[test]
    fn a_user_namespace_sets_the_sandbox_up_without_privilege() {
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let sandbox = Sandbox {
            identity: Identity::UserNamespace { uid, gid },
            account: None,
            net: true,
            mounts: true,
            pid: true,
            cgroups: None,
            missing: Vec::new(),
        };
        if let Err(e) = sandbox.probe() {
            eprintln!("skipped: no user namespaces here ({e})");
            return;
        }
        let lines = run_probe(&sandbox);
        // The init, the shell, and the shell's current child.
        let count: usize = lines[1].parse().unwrap();
        assert!((2..=4).contains(&count), "{lines:?}");
        let mut lines = lines;
        lines[1] = "n".into();
        assert_eq!(lines, expected("n"));
    }

    /// The sandbox `detect` finds (as root here: the `mpi-grade` user).
    #[test]
    fn a_sandboxed_shell_sees_loopback_only_and_nothing_of_the_host() {
        let sandbox = Sandbox::detect().expect("this machine can sandbox");
        let mut lines = run_probe(&sandbox);
        let count: usize = lines[1].parse().unwrap();
        assert!((2..=4).contains(&count), "{lines:?}");
        lines[1] = "n".into();
        assert_eq!(lines, expected("n"));
    }

    /// A command that leaves a daemon (in a session of its own, ignoring SIGTERM, forking
    /// again) behind: when the command ends, the daemon is gone too.
    #[test]
    fn nothing_outlives_the_sandboxed_command() {
        let sandbox = Sandbox::detect().expect("this machine can sandbox");
        let staging = tempfile::tempdir().unwrap();
        let marker = format!("daemon-{}", std::process::id());
        let mut command = Command::new("sh");
        command
            .args([
                "-c",
                "setsid sh -c 'trap \"sh -c \\\"sleep 60\\\" &\" TERM; while :; do sleep 1; done' </dev/null >/dev/null 2>&1 & sleep 0.3; echo started",
            ])
            .env(crate::run::procs::LAUNCH_MARKER_VAR, &marker);
        let confinement = Confinement {
            cwd: Some("/".into()),
            staging: Some(staging.path().to_path_buf()),
            ..Confinement::default()
        };
        sandbox.confine(&mut command, &confinement).unwrap();
        let out = command.output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "started\n");
        std::thread::sleep(std::time::Duration::from_millis(200));
        let left: Vec<i32> = crate::run::procs::scan()
            .into_iter()
            .filter(|p| p.is_alive())
            .filter(|p| {
                crate::run::procs::has_env(p.pid, crate::run::procs::LAUNCH_MARKER_VAR, &marker)
            })
            .map(|p| p.pid)
            .collect();
        assert!(left.is_empty(), "left running: {left:?}");
    }

    /// `/tmp`, `/var/tmp` and `/dev/shm` are one tmpfs of the command's scratch size: what one
    /// holds, the others cannot.
    #[test]
    fn the_private_directories_share_one_capped_tmpfs() {
        let sandbox = Sandbox::detect().expect("this machine can sandbox");
        let staging = tempfile::tempdir().unwrap();
        let mut command = Command::new("sh");
        command.args([
            "-c",
            "head -c 10485760 /dev/zero > /tmp/a && echo tmp-ok; \
             head -c 4194304 /dev/zero > /var/tmp/b && echo var-tmp-ok; \
             head -c 10485760 /dev/zero > /dev/shm/c 2>/dev/null && echo shm-ok || echo shm-full; \
             ls -a / | grep -c private",
        ]);
        let confinement = Confinement {
            cwd: Some("/".into()),
            staging: Some(staging.path().to_path_buf()),
            limits: Some(ResourceLimits {
                scratch_mb: 16,
                ..limits::SandboxLimits::default().ranks
            }),
            ..Confinement::default()
        };
        sandbox.confine(&mut command, &confinement).unwrap();
        let out = command.output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "tmp-ok\nvar-tmp-ok\nshm-full\n0\n",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The watch adds what a command writes into a directory of the host and into its private
    /// tmpfs, and kills the command when the total reaches its scratch size: in each of the
    /// sandbox's set-ups (as root here, each is tried the way it runs elsewhere).
    #[test]
    fn the_watch_stops_a_command_that_fills_its_scratch() {
        let found = Sandbox::detect().expect("this machine can sandbox");
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let mut set_ups = vec![found.clone()];
        if let Some(a) = &found.account {
            set_ups.push(Sandbox {
                identity: Identity::SwitchThenUserNamespace {
                    uid: a.uid,
                    gid: a.gid,
                },
                ..found.clone()
            });
        }
        set_ups.push(Sandbox {
            identity: Identity::UserNamespace { uid, gid },
            account: None,
            ..found.clone()
        });
        for sandbox in set_ups {
            if sandbox.probe().is_err() {
                eprintln!("skipped: {:?} cannot be set up here", sandbox.identity);
                continue;
            }
            fill_scratch(&sandbox);
        }
    }

    fn fill_scratch(sandbox: &Sandbox) {
        let staging = tempfile::tempdir().unwrap();
        let host = tempfile::tempdir().unwrap();
        let dir = host.path().join("w");
        std::fs::create_dir(&dir).unwrap();
        if let Some((uid, gid)) = sandbox.owner() {
            fs::give(&dir, uid, gid).unwrap();
        }
        let script = format!(
            "head -c 12582912 /dev/zero > /tmp/a || exit 3; i=0; \
             while [ $i -lt 200 ] && head -c 1048576 /dev/zero > {}/f$i; do i=$((i+1)); sleep 0.1; done; \
             sleep 30",
            dir.display()
        );
        let mut command = Command::new("sh");
        command.args(["-c", &script]);
        let limits = ResourceLimits {
            scratch_mb: 32,
            ..limits::SandboxLimits::default().ranks
        };
        let confinement = Confinement {
            cwd: Some("/".into()),
            staging: Some(staging.path().to_path_buf()),
            keep: vec![(dir.clone(), false)],
            limits: Some(limits),
            ..Confinement::default()
        };
        let jail = Jail {
            sandbox: sandbox.clone(),
            confinement,
        };
        jail.confine(&mut command).unwrap();
        let cap = jail.scratch_cap().unwrap();
        assert_eq!(cap.dirs, vec![dir.clone()]);
        let started = std::time::Instant::now();
        let mut child = command.spawn().unwrap();
        let watch = scratch::Watch::start(&cap, child.id());
        let status = child.wait().unwrap();
        assert!(watch.tripped(), "{status:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(libc::SIGKILL)
        );
        // The private 12 MiB counted: the command was stopped before 32 MiB on disk. It
        // writes 10 MiB/s, so the watch may lag by a second on a loaded machine (the bound
        // is about the accounting, not the watch's speed).
        let on_disk = scratch::disk_usage(&[dir], u64::MAX) >> 20;
        assert!(
            (10..32).contains(&on_disk),
            "{:?}: {on_disk} MiB on disk",
            sandbox.identity
        );
    }

    /// A command that stays below its scratch size is left alone.
    #[test]
    fn the_watch_leaves_a_command_within_its_scratch_alone() {
        let sandbox = Sandbox::detect().expect("this machine can sandbox");
        let staging = tempfile::tempdir().unwrap();
        let mut command = Command::new("sh");
        command.args(["-c", "head -c 4194304 /dev/zero > /tmp/a && sleep 0.5"]);
        let jail = Jail {
            sandbox,
            confinement: Confinement {
                cwd: Some("/".into()),
                staging: Some(staging.path().to_path_buf()),
                limits: Some(ResourceLimits {
                    scratch_mb: 16,
                    ..limits::SandboxLimits::default().ranks
                }),
                ..Confinement::default()
            },
        };
        jail.confine(&mut command).unwrap();
        let mut child = command.spawn().unwrap();
        let watch = scratch::Watch::start(&jail.scratch_cap().unwrap(), child.id());
        assert!(child.wait().unwrap().success());
        assert!(!watch.tripped());
    }

    /// A cgroup caps the processes of one command, all together.
    #[test]
    fn a_cgroup_caps_the_processes_of_one_command() {
        let Some(hierarchy) = cgroup::Hierarchy::find() else {
            eprintln!("skipped: no cgroups here");
            return;
        };
        let sandbox = Sandbox::detect().expect("this machine can sandbox");
        let staging = tempfile::tempdir().unwrap();
        let limits = ResourceLimits {
            processes: 40,
            ..limits::SandboxLimits::default().ranks
        };
        let group = hierarchy.create("test", &limits).unwrap();
        // Forks children that wait until told to end, until the kernel refuses.
        let script = "import os, sys\nr, w = os.pipe()\nn = 0\nwhile n < 100:\n    try:\n        pid = os.fork()\n    except OSError:\n        break\n    if pid == 0:\n        os.close(w)\n        os.read(r, 1)\n        os._exit(0)\n    n += 1\nprint(n)\nsys.stdout.flush()\nos._exit(0)\n";
        let mut command = Command::new("python3");
        command.args(["-c", script]);
        let confinement = Confinement {
            cwd: Some("/".into()),
            staging: Some(staging.path().to_path_buf()),
            cgroup: Some(group.clone()),
            ..Confinement::default()
        };
        sandbox.confine(&mut command, &confinement).unwrap();
        let out = command.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let count: usize = text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{text}{}", String::from_utf8_lossy(&out.stderr)));
        // The supervisor is in the group too, outside the namespace.
        assert!((20..=40).contains(&count), "{count} processes");
        drop(confinement);
        assert!(group.kill_all(std::time::Duration::from_secs(5)));
    }
}
#[cfg(test)]
mod status_tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use wait_timeout::ChildExt;

    /// The grader sees the sandboxed command's own status (exit code or signal), also once it
    /// has a SIGCHLD handler of its own (wait_timeout's), in the process group it asked for.
    #[test]
    fn the_status_of_a_sandboxed_command_is_its_own() {
        let sandbox = Sandbox::detect().unwrap();
        let staging = tempfile::tempdir().unwrap();
        for (script, code, signal) in [
            ("sleep 0.2 & echo hi; exit 0", Some(0), None),
            ("exit 3", Some(3), None),
            ("kill -TERM $$", None, Some(libc::SIGTERM)),
            ("sleep 0.2 & exit 0", Some(0), None),
        ] {
            let mut command = Command::new("sh");
            command
                .args(["-c", script])
                .stdout(Stdio::piped())
                .process_group(0);
            let confinement = Confinement {
                cwd: Some("/".into()),
                staging: Some(staging.path().to_path_buf()),
                ..Confinement::default()
            };
            sandbox.confine(&mut command, &confinement).unwrap();
            let mut child = command.spawn().unwrap();
            let status = child
                .wait_timeout(std::time::Duration::from_secs(10))
                .unwrap()
                .unwrap();
            assert_eq!((status.code(), status.signal()), (code, signal), "{script}");
        }
    }
}
