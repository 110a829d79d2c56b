//! Isolation of everything a submission runs: its build (cargo, rustc, its `build.rs` and proc
//! macros) and its ranks (`mpiexec` and every process it starts).
//!
//! Each sandboxed process gets, where the kernel allows it:
//!
//! - a network namespace of its own with only loopback, up (MPI on one node needs nothing else);
//! - a mount namespace of its own: private, size-capped `/tmp`, `/var/tmp` and `/dev/shm`, the
//!   grader's home and cache hidden under empty tmpfs, only the paths it needs kept visible (at
//!   the same place, read-only where it only reads); a build sees the grader's build workspace
//!   through an overlay whose changes land in the grade's scratch directory, so a build script
//!   cannot touch what later grades build on;
//! - when the grader runs as root, an unprivileged user of its own (`mpi-grade`, created by
//!   `scripts/install-deps`, else `nobody`); otherwise a user namespace for the set-up, every
//!   capability dropped before the submission runs;
//! - resource limits (CPU time, address space, file size, processes, open files; no core files)
//!   and `no_new_privs`;
//! - an environment from an allow-list (see [`env`]), with no secret in it.
//!
//! What the kernel refuses is left out, and [`Sandbox::notice`] says so in one line.

pub mod builds;
pub mod child;
pub mod env;
pub mod fs;
pub mod grade;
pub mod limits;

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
    pub name: String,
    pub uid: u32,
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
    /// A mount namespace (private /tmp, hidden home and cache, overlay builds).
    pub mounts: bool,
    /// What could not be had, for the notice.
    missing: Vec<String>,
}

/// Where and how one sandboxed command runs.
#[derive(Debug, Clone, Default)]
pub struct Confinement {
    pub limits: Option<ResourceLimits>,
    /// Directories hidden under an empty, read-only tmpfs.
    pub hide: Vec<PathBuf>,
    /// Directories kept visible at their place (true: read-only), even under a hidden one.
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
}

/// A sandbox and the confinement of one kind of command in it.
#[derive(Debug, Clone)]
pub struct Jail {
    pub sandbox: Sandbox,
    pub confinement: Confinement,
}

impl Jail {
    /// The confinement of the ranks of a grade: everything of the grader's hidden (its home, its
    /// cache, the original submission) but the grade's scratch directory, which holds the
    /// driver, the tracer and the run directories. Creates `scratch/home`, the ranks' home
    /// when there is no private `/tmp`.
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
                keep: vec![(scratch.to_path_buf(), false)],
                cwd: Some(cwd),
                fallback_home: Some(home),
                ..Confinement::default()
            },
        })
    }

    /// Sets `command` up to run in this jail.
    pub fn confine(&self, command: &mut Command) -> Result<()> {
        self.sandbox.confine(command, &self.confinement)
    }

    /// Gives the files of a run directory the ranks write (their event files and tracer
    /// records) to the sandbox user. The directories stay the grader's: a rank cannot add,
    /// remove or replace a file, nor touch the plan.
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

/// Private directories every sandboxed process gets (path, tmpfs size).
const PRIVATE: &[(&str, &str)] = &[("/tmp", "1g"), ("/var/tmp", "64m"), ("/dev/shm", "2g")];

impl Sandbox {
    /// No isolation at all (`--no-sandbox`).
    pub fn disabled() -> Sandbox {
        Sandbox {
            identity: Identity::Same,
            account: None,
            net: false,
            mounts: false,
            missing: Vec::new(),
        }
    }

    /// Finds the isolation this machine allows: tries the whole of it on a short-lived process,
    /// then less.
    pub fn detect() -> Sandbox {
        // SAFETY: geteuid, getuid and getgid have no preconditions.
        let (euid, uid, gid) = unsafe { (libc::geteuid(), libc::getuid(), libc::getgid()) };
        let mut missing = Vec::new();
        let (identity, account) = if euid == 0 {
            match account(SANDBOX_USER).or_else(|| account("nobody")) {
                Some(a) => (
                    Identity::Switch {
                        uid: a.uid,
                        gid: a.gid,
                    },
                    Some(a),
                ),
                None => {
                    missing.push("an unprivileged user (no `mpi-grade` or `nobody`)".into());
                    (Identity::Same, None)
                }
            }
        } else {
            (Identity::UserNamespace { uid, gid }, None)
        };
        let full = Sandbox {
            identity,
            account,
            net: true,
            mounts: true,
            missing,
        };
        // The most isolation that works, then less, one wall at a time.
        let candidates = [
            (true, true, true),
            (true, false, true),
            (false, false, true),
            (false, false, false),
        ];
        for (net, mounts, user) in candidates {
            let mut sandbox = full.clone();
            sandbox.net = net;
            sandbox.mounts = mounts;
            if !user {
                sandbox.identity = Identity::Same;
                sandbox.account = None;
            }
            if sandbox.probe().is_ok() {
                if !net {
                    sandbox.missing.push("a network namespace".into());
                }
                if !mounts {
                    sandbox.missing.push("a mount namespace".into());
                }
                if !user && full.account.is_some() {
                    sandbox.missing.push("an unprivileged user".into());
                }
                return sandbox;
            }
        }
        let mut none = Sandbox::disabled();
        none.missing = vec!["any isolation (even resource limits failed)".into()];
        none
    }

    /// Runs `true` inside the sandbox.
    fn probe(&self) -> std::io::Result<()> {
        let program =
            crate::launcher::find_on_path("true").unwrap_or_else(|| PathBuf::from("/bin/true"));
        let mut command = Command::new(program);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let confinement = Confinement {
            cwd: Some(PathBuf::from("/")),
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
        self.net || self.mounts || self.identity != Identity::Same
    }

    /// One line on what could not be isolated, if anything.
    pub fn notice(&self) -> Option<String> {
        if self.missing.is_empty() {
            return None;
        }
        Some(format!(
            "mpi-grade: notice: this kernel or user cannot give the sandbox {}; grading with the rest of the isolation (resource limits, scrubbed environment, scratch copy); --no-sandbox turns it all off",
            self.missing.join(", ")
        ))
    }

    /// What is isolated, for the report.
    pub fn describe(&self) -> String {
        if !self.is_enabled() {
            return "off".into();
        }
        let mut parts = Vec::new();
        if self.net {
            parts.push("own network (loopback only)".to_string());
        }
        if self.mounts {
            parts.push("private /tmp, home and cache hidden".to_string());
        }
        match (&self.account, self.identity) {
            (Some(a), _) => parts.push(format!("user {}", a.name)),
            (None, Identity::UserNamespace { .. }) if self.net || self.mounts => {
                parts.push("user namespace".into())
            }
            _ => {}
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
        // SAFETY: Program::run makes only async-signal-safe system calls on data prepared here.
        unsafe {
            command.pre_exec(move || program.run());
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
        let mut mounts = Vec::new();
        let cstr = |p: &Path| {
            CString::new(p.as_os_str().as_bytes())
                .map_err(|_| Error::Other(format!("{}: a path with a NUL byte", p.display())))
        };
        let cwd = c.cwd.clone();
        if self.mounts {
            for (dir, upper, work) in &c.overlays {
                let options = format!(
                    "lowerdir={},upperdir={},workdir={}",
                    escape(dir),
                    escape(upper),
                    escape(work)
                );
                mounts.push(MountStep::Overlay {
                    target: cstr(dir)?,
                    options: CString::new(options).expect("no NUL in checked paths"),
                });
            }
            // What to cover: the private directories, then the hidden ones (an outer one covers
            // what is inside it).
            let mut covers: Vec<(PathBuf, String)> = PRIVATE
                .iter()
                .filter(|(p, _)| Path::new(p).is_dir())
                .map(|(p, size)| (PathBuf::from(p), format!("mode=1777,size={size}")))
                .collect();
            for h in &c.hide {
                if h.is_dir() && h != Path::new("/") {
                    covers.push((h.clone(), "mode=0755,size=1m".into()));
                }
            }
            covers.sort_by_key(|(p, _)| p.components().count());
            let mut kept_covers: Vec<(PathBuf, String)> = Vec::new();
            for (path, options) in covers {
                if !kept_covers.iter().any(|(outer, _)| path.starts_with(outer)) {
                    kept_covers.push((path, options));
                }
            }
            let mut keeps: Vec<(PathBuf, bool)> =
                c.keep.iter().filter(|(p, _)| p.is_dir()).cloned().collect();
            keeps.sort_by_key(|(p, _)| p.components().count());
            if keeps.len() > child::MAX_SLOTS {
                return Err(Error::Other("too many paths to keep in the sandbox".into()));
            }
            for (slot, (path, _)) in keeps.iter().enumerate() {
                mounts.push(MountStep::Open {
                    slot,
                    path: cstr(path)?,
                });
            }
            for (path, options) in &kept_covers {
                mounts.push(MountStep::Tmpfs {
                    target: cstr(path)?,
                    options: CString::new(options.as_str()).expect("no NUL"),
                });
            }
            for (slot, (path, readonly)) in keeps.iter().enumerate() {
                if let Some((outer, _)) = kept_covers.iter().find(|(o, _)| path.starts_with(o)) {
                    // Recreate the path inside the tmpfs, then bind the real directory there.
                    let mut dir = outer.clone();
                    for part in path.strip_prefix(outer).expect("checked").components() {
                        dir.push(part);
                        mounts.push(MountStep::Mkdir { path: cstr(&dir)? });
                    }
                } else if !readonly {
                    continue;
                }
                mounts.push(MountStep::BindSlot {
                    slot,
                    target: cstr(path)?,
                    readonly: *readonly,
                });
            }
        }
        let identity = self.identity;
        let net = self.net;
        let id_maps = match identity {
            Identity::UserNamespace { uid, gid } => Some((
                CString::new(format!("{uid} {uid} 1")).expect("digits"),
                CString::new(format!("{gid} {gid} 1")).expect("digits"),
            )),
            _ => None,
        };
        let with_processes = self.account.is_some();
        Ok(Program {
            identity,
            net,
            mounts,
            rlimits: c
                .limits
                .map(|l| l.rlimits(with_processes))
                .unwrap_or_default(),
            chdir: cwd.as_deref().map(cstr).transpose()?,
            id_maps,
        })
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
    fn root_has_an_account_for_the_submission() {
        assert!(account("root").is_some_and(|a| a.uid == 0));
        assert!(account("no-such-user-here").is_none());
    }
}

#[cfg(test)]
mod live_tests {
    use super::*;

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
            missing: Vec::new(),
        };
        if sandbox.probe().is_err() {
            eprintln!("skipped: no user namespaces here");
            return;
        }
        let hidden = tempfile::tempdir().unwrap();
        std::fs::write(hidden.path().join("secret"), "no").unwrap();
        let script = format!(
            "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; cat {}/secret 2>/dev/null || echo hidden; grep CapEff /proc/self/status | tr -d '\\t'; umount /tmp 2>/dev/null && echo unmounted || echo locked",
            hidden.path().display()
        );
        let mut command = Command::new("sh");
        command.args(["-c", &script]);
        let confinement = Confinement {
            hide: vec![hidden.path().to_path_buf()],
            cwd: Some("/".into()),
            ..Confinement::default()
        };
        sandbox.confine(&mut command, &confinement).unwrap();
        let out = command.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            ["lo", "hidden", "CapEff:0000000000000000", "locked"],
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A shell in the sandbox: its user, its network interfaces, its /tmp (empty but for the
    /// scratch directory kept visible: tempdirs are in /tmp), a hidden directory, its environment.
    #[test]
    fn a_sandboxed_shell_sees_loopback_only_and_nothing_of_the_grader() {
        let sandbox = Sandbox::detect();
        if !(sandbox.net && sandbox.mounts) {
            eprintln!("skipped: {:?}", sandbox.notice());
            return;
        }
        let scratch = tempfile::tempdir().unwrap();
        std::fs::write(scratch.path().join("kept"), "yes\n").unwrap();
        let hidden = tempfile::tempdir().unwrap();
        std::fs::write(hidden.path().join("secret"), "no").unwrap();
        std::fs::set_permissions(
            scratch.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let script = format!(
            "id -u; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; ls -A /tmp | wc -l; cat {}/kept; cat {}/secret 2>/dev/null || echo hidden; echo $HOME; echo ${{GITHUB_TOKEN:-none}}; touch {}/new 2>/dev/null && echo wrote || echo read-only",
            scratch.path().display(),
            hidden.path().display(),
            scratch.path().display(),
        );
        let mut command = Command::new("sh");
        command.args(["-c", &script]).env("GITHUB_TOKEN", "t0k3n");
        let confinement = Confinement {
            limits: Some(limits::SandboxLimits::default().ranks),
            hide: vec![hidden.path().to_path_buf()],
            keep: vec![(scratch.path().to_path_buf(), true)],
            cwd: Some("/tmp".into()),
            ..Confinement::default()
        };
        sandbox.confine(&mut command, &confinement).unwrap();
        let out = command.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let uid = sandbox
            .owner()
            .map_or(unsafe { libc::getuid() }, |(u, _)| u);
        assert_eq!(
            lines,
            [
                uid.to_string().as_str(),
                "lo",
                "1",
                "yes",
                "hidden",
                "/tmp",
                "none",
                "read-only"
            ],
            "{text}"
        );
    }
}
