//! Building a submission into a driver program.
//!
//! The grader keeps one cargo workspace per MPI implementation in its cache:
//!
//! ```text
//! <cache>/<implementation>/
//!   Cargo.toml          workspace: the support crates and the current driver
//!   support/protocol    embedded sources of the protocol, runtime and tracer crates
//!   support/runtime
//!   support/tracer
//!   driver/             generated: depends on the submission (by path) and the runtime
//!   target/             shared by every build, so mpi-sys is compiled once
//! ```
//!
//! The driver's `main` is the grader's, never the student's: it hands the submission's functions
//! to the runtime. A function that is missing or has the wrong signature is reported for that
//! part alone, and the driver is rebuilt without it so that the other parts are still graded.

use super::memo::{Key, KeyBuilder, Memo};
pub use super::submission::{Lang, Submission};
use crate::config::Kind;
use crate::error::{Error, Result};
use crate::mpi::Launcher;
use crate::run::capture::Captured;
use crate::run::supervisor::{self, Job};
use crate::sandbox::builds::BuildJail;
use regex::Regex;
use serde::Deserialize;
use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Prefix of the driver package; the rest names the submission and functions it was built for.
const DRIVER_PREFIX: &str = "mpi-grade-driver";
const TRACER_PACKAGE: &str = "mpi-grade-tracer";
const RUNTIME_PACKAGE: &str = "mpi-grade-runtime";
/// The time limit of the grader's own builds (the fetch, the runtime, the tracer): on a cold
/// cache they compile rsmpi and `mpi-sys`, which the challenge's `build_seconds` (meant for the
/// submission) need not allow for.
const OWN_BUILD_LIMIT: Duration = Duration::from_secs(1800);
/// Line of the driver's `main.rs` holding the first `Part::new`.
const FIRST_PART_LINE: usize = 4;

/// A part that cannot be called: missing, private, or with another signature.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct PartProblem {
    /// The student function the part calls.
    pub function: String,
    /// What is wrong with it, in one line (the expected signature included).
    pub message: String,
    /// The compiler's message.
    pub details: String,
}

/// What the memo keeps of a build besides its driver (see `memo`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
struct Memoized {
    /// The functions that could not be, with why.
    problems: Vec<PartProblem>,
    /// The submission's directory when it was built: the driver's line tables name its files.
    source_dir: PathBuf,
}

/// A built submission.
#[derive(Debug, Clone)]
pub struct Driver {
    /// The driver executable: the runtime with the submission's functions built in (Python:
    /// the interpreter).
    pub exe: PathBuf,
    /// Its arguments (Python: the runtime and the module of each part).
    pub args: Vec<String>,
    /// The language of the submission in it (which stacks and lines the grader can read).
    pub lang: Lang,
    /// What the build noticed that is not an error (a Python file using `np` unimported).
    pub warnings: Vec<String>,
    /// Functions that could not be built in, with why.
    pub problems: Vec<PartProblem>,
    /// How long the build took, in seconds.
    pub seconds: f64,
    /// The directory whose files the driver's line tables (Rust) or frames (Python) name: the
    /// submission's copy it was built from, an earlier grade's when the build was memoized.
    pub source_dir: PathBuf,
    /// The driver is an earlier build of the same bytes (see `memo`).
    pub memoized: bool,
}

impl Driver {
    /// A Rust submission's driver at `exe`, built (or memoized) as `built` says.
    fn rust(exe: PathBuf, built: Memoized, started: Instant, memoized: bool) -> Driver {
        Driver {
            exe,
            args: Vec::new(),
            lang: Lang::Rust,
            warnings: Vec::new(),
            problems: built.problems,
            seconds: started.elapsed().as_secs_f64(),
            source_dir: built.source_dir,
            memoized,
        }
    }
}

/// A submission that does not build.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildFailure {
    /// One line: the first error.
    pub summary: String,
    /// The compiler's messages (or cargo's output).
    pub details: String,
    /// How long the build took, in seconds (0 when it did not start).
    pub seconds: f64,
}

/// What building a submission gave.
#[derive(Debug, Clone)]
pub enum BuildOutcome {
    /// It built (some parts may still be unusable: see [`Driver::problems`]).
    Built(Driver),
    /// It did not build.
    Failed(BuildFailure),
}

/// The per-implementation cargo workspace in the cache.
pub struct BuildCache {
    root: PathBuf,
    /// Driver builds kept by what they read (`None`: turned off).
    memo: Option<Memo>,
    launcher: Launcher,
    time_limit: Duration,
    /// Builds of submissions run sandboxed (see `sandbox::builds`).
    jail: Option<BuildJail>,
}

/// How a cargo command runs.
#[derive(Clone, Copy)]
enum CargoRun<'a> {
    /// As the grader, in its environment (no sandbox).
    Plain,
    /// As the grader, with the environment of the sandboxed builds (the grader's own builds
    /// when submissions are sandboxed: both must agree on what is fresh).
    Trusted(&'a BuildJail),
    /// Sandboxed: a submission's build.
    Jailed(&'a BuildJail),
}

impl BuildCache {
    /// `cache_dir` must be absolute: cargo runs inside it.
    pub fn new(cache_dir: &Path, launcher: &Launcher, time_limit: Duration) -> BuildCache {
        debug_assert!(cache_dir.is_absolute());
        BuildCache {
            root: cache_dir.join(launcher.implementation.key()),
            memo: Memo::new(cache_dir, launcher.implementation.key()),
            launcher: launcher.clone(),
            time_limit,
            jail: None,
        }
    }

    /// Builds submissions in `jail` from now on.
    pub fn with_jail(mut self, jail: Option<BuildJail>) -> BuildCache {
        self.jail = jail;
        self
    }

    fn trusted(&self) -> CargoRun<'_> {
        self.jail
            .as_ref()
            .map_or(CargoRun::Plain, CargoRun::Trusted)
    }

    /// Before a sandboxed build, as the grader: fetch every dependency (the sandbox has no
    /// network) and build the runtime (so that the sandbox compiles only the submission and the
    /// driver). A dependency that cannot be fetched is the submission's build failure.
    fn prepare_jailed(
        &self,
        jail: &BuildJail,
        submission: &Submission,
        started: Instant,
    ) -> Result<Option<BuildFailure>> {
        // Every manifest of the workspace is the grader's (the submission's too, see
        // `Submission::intake`): the fetch reads nothing the student wrote. It runs with the
        // environment of the builds, without the grader's secrets.
        let fetch = self.cargo(&["fetch"], self.trusted())?;
        if !fetch.success {
            return Ok(Some(self.failure(&fetch, submission, started)));
        }
        let runtime = self.cargo(
            &[
                "build",
                "--release",
                "--message-format=json",
                "-p",
                RUNTIME_PACKAGE,
            ],
            self.trusted(),
        )?;
        if !runtime.success {
            return Err(Error::Other(format!(
                "cannot build the runtime:\n{}",
                runtime.stderr.tail_lines(30)
            )));
        }
        jail.prepare(&self.root)?;
        Ok(None)
    }

    /// Builds `submission` with the given functions into `out_dir/driver`.
    pub fn build_driver(
        &self,
        submission: &Submission,
        kind: Kind,
        functions: &[String],
        out_dir: &Path,
    ) -> Result<BuildOutcome> {
        let started = Instant::now();
        let package = match &submission.package {
            Ok(p) => p.clone(),
            Err(why) => {
                return Ok(BuildOutcome::Failed(BuildFailure {
                    summary: why.lines().next().unwrap_or_default().to_string(),
                    details: why.clone(),
                    seconds: 0.0,
                }))
            }
        };
        let exe = out_dir.join("driver");
        let memo = self.memo_key(submission, &package, kind, functions);
        if let Some(built) = memo.as_ref().and_then(|(m, k)| m.get::<Memoized>(k, &exe)) {
            return Ok(BuildOutcome::Built(Driver::rust(exe, built, started, true)));
        }
        let _lock = self.lock()?;
        self.write_workspace()?;

        let mut included: Vec<String> = functions.to_vec();
        let mut problems: Vec<PartProblem> = Vec::new();
        loop {
            // Every (submission, functions) pair gets its own package and binary name. With one
            // shared name, cargo may find a driver unit fresh from an earlier build and leave the
            // shared output linked to the binary of the crate built last (seen here).
            let driver = driver_name(submission, &included);
            write_if_changed(
                &self.root.join("driver/Cargo.toml"),
                &driver_manifest_text(&driver, Some((&package, &submission.dir))),
            )?;
            self.write_driver_main(submission, &included)?;
            let run = match &self.jail {
                Some(jail) => {
                    if let Some(failure) = self.prepare_jailed(jail, submission, started)? {
                        return Ok(BuildOutcome::Failed(failure));
                    }
                    CargoRun::Jailed(jail)
                }
                None => CargoRun::Plain,
            };
            let build = self.cargo_build(&driver, run)?;
            if build.success {
                let built = Memoized {
                    problems,
                    source_dir: submission.dir.clone(),
                };
                self.take_driver(&driver, &exe, memo.as_ref(), &built)?;
                return Ok(BuildOutcome::Built(Driver::rust(
                    exe, built, started, false,
                )));
            }
            let found = self.part_problems(&build, &included, kind, submission);
            // Errors outside the driver's part lines are the submission's own: nothing to retry.
            if found.is_empty()
                || build.scratch_full.is_some()
                || self.has_foreign_errors(&build, &included)
            {
                return Ok(BuildOutcome::Failed(
                    self.failure(&build, submission, started),
                ));
            }
            included.retain(|f| !found.iter().any(|p| &p.function == f));
            problems.extend(found);
        }
    }

    /// Copies the driver cargo built as `driver` to `exe`, and keeps it in the memo.
    fn take_driver(
        &self,
        driver: &str,
        exe: &Path,
        memo: Option<&(&Memo, Key)>,
        built: &Memoized,
    ) -> Result<()> {
        let from = self.root.join("target/release").join(driver);
        let from = match &self.jail {
            Some(jail) => jail.output(&self.root, &from),
            None => from,
        };
        std::fs::copy(&from, exe).map_err(Error::io(format!(
            "cannot copy {} to {}",
            from.display(),
            exe.display()
        )))?;
        if let Some((memo, key)) = memo {
            // A memo that cannot be written costs the next grade a build, nothing more.
            if let Err(e) = memo.put(key, exe, built) {
                eprintln!("warning: the build is not memoized: {e}");
            }
        }
        Ok(())
    }

    /// The memo and the key of building `functions` of `submission` (see `memo`), `None` when
    /// the memo is off or the submission cannot be keyed (unreadable, too large).
    fn memo_key(
        &self,
        submission: &Submission,
        package: &str,
        kind: Kind,
        functions: &[String],
    ) -> Option<(&Memo, Key)> {
        let memo = self.memo.as_ref()?;
        let mut key = self.workspace_key("driver");
        // The generated files, with what changes at every grade (the copy's directory, the
        // name given on the command line) left out.
        let placeholder = Path::new("<submission>");
        key.part(driver_manifest_text(DRIVER_PREFIX, Some((package, placeholder))).as_bytes())
            .part(driver_main_text("", functions).as_bytes())
            .part(kind.as_str().as_bytes())
            .part(functions.join("\n").as_bytes())
            .part(format!("{:?}", self.time_limit).as_bytes())
            .part(format!("{:?}", self.jail.as_ref().map(|j| j.limits)).as_bytes());
        key.dir(&submission.dir)?;
        Some((memo, key.finish()))
    }

    /// The start of every key of this workspace's builds: what is built (`what`), the embedded
    /// sources, the workspace manifest, the MPI implementation's build environment, the
    /// compiler, and whether builds are sandboxed (the grader's own then get their
    /// environment).
    fn workspace_key(&self, what: &str) -> KeyBuilder {
        let mut key = KeyBuilder::new();
        key.part(what.as_bytes());
        for tree in ["support/protocol", "support/runtime", "support/tracer"] {
            key.tree(tree);
        }
        key.part(WORKSPACE_MANIFEST.as_bytes())
            .part(format!("{:?}", self.launcher.build_env()).as_bytes())
            .part(compiler_version().as_bytes())
            .part(&[u8::from(self.jail.is_some())]);
        key
    }

    /// Builds the tracer library for this implementation into `out_dir`.
    pub fn build_tracer(&self, out_dir: &Path) -> Result<PathBuf> {
        let lib = out_dir.join("libmpi_grade_tracer.so");
        let memo = self
            .memo
            .as_ref()
            .map(|m| (m, self.workspace_key("tracer").finish()));
        if let Some(()) = memo.as_ref().and_then(|(m, k)| m.get::<()>(k, &lib)) {
            return Ok(lib);
        }
        let _lock = self.lock()?;
        self.write_workspace()?;
        self.write_placeholder_driver()?;
        let build = self.cargo_build(TRACER_PACKAGE, self.trusted())?;
        if !build.success {
            return Err(Error::Other(format!(
                "cannot build the tracer library:\n{}{}",
                build
                    .errors
                    .iter()
                    .map(|e| e.rendered.as_str())
                    .collect::<String>(),
                build.stderr.tail_lines(30)
            )));
        }
        let built = self.root.join("target/release/libmpi_grade_tracer.so");
        std::fs::copy(&built, &lib)
            .map_err(Error::io(format!("cannot copy {}", built.display())))?;
        if let Some((memo, key)) = &memo {
            if let Err(e) = memo.put(key, &lib, &()) {
                eprintln!("warning: the tracer build is not memoized: {e}");
            }
        }
        Ok(lib)
    }

    fn lock(&self) -> Result<File> {
        std::fs::create_dir_all(&self.root)
            .map_err(Error::io(format!("cannot create {}", self.root.display())))?;
        let path = self.root.join("build.lock");
        let file =
            File::create(&path).map_err(Error::io(format!("cannot create {}", path.display())))?;
        // SAFETY: flock on a file descriptor we own; released when the file is closed.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(Error::io(format!("cannot lock {}", path.display()))(
                std::io::Error::last_os_error(),
            ));
        }
        Ok(file)
    }

    fn write_workspace(&self) -> Result<()> {
        for tree in ["support/protocol", "support/runtime", "support/tracer"] {
            crate::build::embedded::write_tree_exact(tree, &self.root.join(tree))?;
        }
        write_if_changed(&self.root.join("Cargo.toml"), WORKSPACE_MANIFEST)?;
        // The driver must exist for the workspace to load, even when building only the tracer.
        if !self.root.join("driver/Cargo.toml").exists() {
            self.write_placeholder_driver()?;
        }
        Ok(())
    }

    /// A driver that depends on no submission: the last one graded may be gone (a temporary
    /// directory), and a workspace member pointing at it would stop every cargo command here.
    fn write_placeholder_driver(&self) -> Result<()> {
        write_if_changed(
            &self.root.join("driver/Cargo.toml"),
            &driver_manifest_text(DRIVER_PREFIX, None),
        )?;
        write_if_changed(&self.root.join("driver/main.rs"), "fn main() {}\n")
    }

    fn write_driver_main(&self, submission: &Submission, functions: &[String]) -> Result<()> {
        let text = driver_main_text(&submission.display, functions);
        write_if_changed(&self.root.join("driver/main.rs"), &text)
    }

    fn cargo_build(&self, package: &str, run: CargoRun<'_>) -> Result<CargoBuild> {
        let mut args = vec!["build", "--release", "--message-format=json", "-p", package];
        if let CargoRun::Jailed(_) = run {
            // Offline, and the lock file as the trusted fetch left it: the build writes
            // nothing of the workspace.
            args.push("--frozen");
        }
        self.cargo(&args, run)
    }

    fn cargo(&self, args: &[&str], run: CargoRun<'_>) -> Result<CargoBuild> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        // The build runs the student's build.rs and proc macros: tag every process it starts.
        let marker = supervisor::marker(supervisor::Kind::Build);
        let mut command = Command::new(cargo);
        command
            .args(args)
            .current_dir(&self.root)
            .env("CARGO_TARGET_DIR", self.root.join("target"))
            .envs(self.launcher.build_env());
        let start = supervisor::Start {
            kind: supervisor::Kind::Build,
            marker: &marker,
            capture: Some((16 << 20, 64 << 10)),
            name: "cargo",
            cannot_start: "cannot run cargo".into(),
        };
        let mut job = Job::start(command, &start, |command| {
            match run {
                CargoRun::Plain => {}
                CargoRun::Trusted(jail) => jail.trusted_env(command),
                CargoRun::Jailed(jail) => {
                    command.env("CARGO_TARGET_DIR", jail.target_dir(&self.root));
                    jail.confine(command, &self.root)?
                }
            }
            Ok(())
        })?;
        let scratch = match run {
            CargoRun::Jailed(jail) => Some(crate::sandbox::scratch::Watch::start(
                &jail.scratch_cap(),
                job.leader() as u32,
            )),
            _ => None,
        };
        let limit = match run {
            CargoRun::Trusted(_) => OWN_BUILD_LIMIT,
            CargoRun::Plain | CargoRun::Jailed(_) => self.time_limit,
        };
        let status = job.wait_timeout(limit)?;
        let timed_out = status.is_none();
        if timed_out {
            job.stop(Duration::from_millis(200), Duration::from_secs(5))
                .ok();
        }
        let finished = job.finish(status, Duration::from_secs(2));
        let errors = parse_errors(&finished.stdout);
        let scratch_full = scratch.filter(|w| w.tripped()).map(|w| w.limit_mb());
        Ok(CargoBuild {
            success: status.is_some_and(|s| s.success()) && scratch_full.is_none(),
            timed_out: timed_out.then_some(limit),
            scratch_full,
            errors,
            stderr: finished.stderr,
        })
    }

    /// The errors that concern a part's line in the driver, as part problems.
    fn part_problems(
        &self,
        build: &CargoBuild,
        included: &[String],
        kind: Kind,
        submission: &Submission,
    ) -> Vec<PartProblem> {
        let main = self.root.join("driver/main.rs");
        let mut problems: Vec<PartProblem> = Vec::new();
        for error in &build.errors {
            let Some(function) = error.primary_line(&self.root, &main).and_then(|line| {
                line.checked_sub(FIRST_PART_LINE)
                    .and_then(|i| included.get(i))
            }) else {
                continue;
            };
            if problems.iter().any(|p| &p.function == function) {
                continue;
            }
            let expected = kind.signature(function);
            let message = match error.code.as_deref() {
                Some("E0425") => format!("`{function}` is missing: expected `{expected}` in src/lib.rs"),
                Some("E0603") => format!("`{function}` is not public: expected `{expected}`"),
                Some("E0308") => match found_signature(&error.rendered) {
                    Some(found) => format!("`{function}` has the wrong signature: expected `{expected}`, found `{found}`"),
                    None => format!("`{function}` has the wrong signature: expected `{expected}`"),
                },
                _ => format!("`{function}` cannot be called as `{expected}`: {}", error.message),
            };
            problems.push(PartProblem {
                function: function.clone(),
                message,
                details: submission.shorten(&error.rendered),
            });
        }
        problems
    }

    fn has_foreign_errors(&self, build: &CargoBuild, included: &[String]) -> bool {
        let main = self.root.join("driver/main.rs");
        build.errors.iter().any(|e| {
            e.primary_line(&self.root, &main)
                .and_then(|line| line.checked_sub(FIRST_PART_LINE))
                .is_none_or(|i| i >= included.len())
        })
    }

    fn failure(
        &self,
        build: &CargoBuild,
        submission: &Submission,
        started: Instant,
    ) -> BuildFailure {
        let seconds = started.elapsed().as_secs_f64();
        if let Some(limit_mb) = build.scratch_full {
            return BuildFailure {
                summary: crate::sandbox::scratch::message(
                    "its target directory, /tmp, /var/tmp and /dev/shm",
                    limit_mb,
                    "build",
                ),
                details: submission.shorten(&build.stderr.tail_lines(40)),
                seconds,
            };
        }
        if let Some(limit) = build.timed_out {
            return BuildFailure {
                summary: format!(
                    "the build did not finish within {} s and was stopped",
                    limit.as_secs()
                ),
                details: submission.shorten(&build.stderr.tail_lines(40)),
                seconds,
            };
        }
        // The grader's manifest forbids the lint (see `intake`): say it is the challenge's rule.
        let unsafe_code = build
            .errors
            .iter()
            .any(|e| e.rendered.contains("unsafe-code") || e.rendered.contains("unsafe_code"));
        let rule = if unsafe_code {
            "unsafe code is not allowed in this challenge: "
        } else {
            ""
        };
        match build.errors.first() {
            Some(first) => BuildFailure {
                summary: format!("{rule}{}", submission.shorten(&first.headline())),
                details: build
                    .errors
                    .iter()
                    .map(|e| submission.shorten(&e.rendered))
                    .collect::<Vec<_>>()
                    .join("\n"),
                seconds,
            },
            None => {
                let text = submission.shorten(&build.stderr.text);
                let summary = text
                    .lines()
                    .find(|l| l.trim_start().starts_with("error"))
                    .unwrap_or("cargo build failed")
                    .trim()
                    .to_string();
                BuildFailure {
                    summary,
                    details: submission.shorten(&build.stderr.tail_lines(40)),
                    seconds,
                }
            }
        }
    }
}

/// `mpi-grade-driver-<hash of the submission's path and the functions>`.
fn driver_name(submission: &Submission, functions: &[String]) -> String {
    let key = format!("{}\n{}", submission.dir.display(), functions.join(","));
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{DRIVER_PREFIX}-{hash:016x}")
}

/// The driver's `main.rs`: the grader's main, calling `functions` of the submission (named
/// `display` in a comment).
fn driver_main_text(display: &str, functions: &[String]) -> String {
    let mut text = format!(
        "// Generated by mpi-grade for {}: the grader's main, calling the submission.\nfn main() {{\n    mpi_grade_runtime::main(&[\n",
        display.replace('\n', " ")
    );
    for f in functions {
        text.push_str(&format!(
            "        mpi_grade_runtime::Part::new({f:?}, submission::{f}),\n"
        ));
    }
    text.push_str("    ])\n}\n");
    text
}

/// The compiler as `rustc -vV` names it (version, commit, host, LLVM), once per process;
/// empty when it cannot be asked (the build then fails on its own, and keys stay apart
/// from those of a known compiler).
fn compiler_version() -> String {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION
        .get_or_init(|| {
            let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
            Command::new(rustc)
                .arg("-vV")
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default()
        })
        .clone()
}

/// The workspace manifest, rewritten before every build.
const WORKSPACE_MANIFEST: &str = "# Generated by mpi-grade; rewritten before every build.\n\
    [workspace]\nresolver = \"2\"\n\
    members = [\"support/protocol\", \"support/runtime\", \"support/tracer\", \"driver\"]\n\n\
    [profile.release]\n# Line tables let the grader point at the student's source lines.\n\
    debug = \"line-tables-only\"\n";

fn driver_manifest_text(name: &str, submission: Option<(&str, &Path)>) -> String {
    let dependency = match submission {
        Some((package, dir)) => format!(
            "submission = {{ package = {package:?}, path = {:?} }}\n",
            dir.display().to_string()
        ),
        None => String::new(),
    };
    format!(
        "# Generated by mpi-grade.\n[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [[bin]]\nname = \"{name}\"\npath = \"main.rs\"\n\n\
         [dependencies]\nmpi-grade-runtime = {{ path = \"../support/runtime\" }}\n{dependency}"
    )
}

fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(Error::io(format!("cannot create {}", parent.display())))?;
    }
    std::fs::write(path, text).map_err(Error::io(format!("cannot write {}", path.display())))
}

struct CargoBuild {
    success: bool,
    timed_out: Option<Duration>,
    /// The build wrote its whole scratch (`scratch_mb`, in MiB) and was killed.
    scratch_full: Option<u64>,
    errors: Vec<CompilerError>,
    stderr: Captured,
}

/// An error diagnostic from cargo's JSON messages.
#[derive(Debug, Clone)]
struct CompilerError {
    message: String,
    code: Option<String>,
    rendered: String,
    /// (file, line) of the primary spans.
    primary: Vec<(String, usize)>,
}

impl CompilerError {
    /// The line of the primary span in `file`. Cargo names files of workspace members relative
    /// to the workspace root (`root`), and other files by absolute path.
    fn primary_line(&self, root: &Path, file: &Path) -> Option<usize> {
        self.primary
            .iter()
            .find(|(f, _)| root.join(f) == file)
            .map(|(_, line)| *line)
    }

    /// `error[E0425]: cannot find ... --> src/lib.rs:3:5`
    fn headline(&self) -> String {
        let mut lines = self.rendered.lines();
        let first = lines.next().unwrap_or(&self.message).trim().to_string();
        match lines.find(|l| l.trim_start().starts_with("-->")) {
            Some(at) => format!(
                "{first} ({})",
                at.trim_start().trim_start_matches("-->").trim()
            ),
            None => first,
        }
    }
}

fn parse_errors(stdout: &Captured) -> Vec<CompilerError> {
    #[derive(Deserialize)]
    struct Line {
        reason: String,
        message: Option<Message>,
    }
    #[derive(Deserialize)]
    struct Message {
        message: String,
        level: String,
        code: Option<Code>,
        rendered: Option<String>,
        #[serde(default)]
        spans: Vec<Span>,
    }
    #[derive(Deserialize)]
    struct Code {
        code: String,
    }
    #[derive(Deserialize)]
    struct Span {
        file_name: String,
        line_start: usize,
        is_primary: bool,
    }
    stdout
        .text
        .lines()
        .filter_map(|line| serde_json::from_str::<Line>(line).ok())
        .filter(|l| l.reason == "compiler-message")
        .filter_map(|l| l.message)
        .filter(|m| m.level == "error")
        .filter(|m| !m.message.starts_with("aborting due to"))
        .map(|m| CompilerError {
            rendered: m.rendered.unwrap_or_else(|| m.message.clone()),
            code: m.code.map(|c| c.code),
            primary: m
                .spans
                .iter()
                .filter(|s| s.is_primary)
                .map(|s| (s.file_name.clone(), s.line_start))
                .collect(),
            message: m.message,
        })
        .collect()
}

/// The `found fn item` signature in a type-mismatch message, without the item's path.
fn found_signature(rendered: &str) -> Option<String> {
    let re = Regex::new(r"found fn item `([^`]*)`").ok()?;
    let found = re.captures(rendered)?[1].to_string();
    Some(match found.rfind(" {") {
        Some(i) if found.ends_with('}') => found[..i].to_string(),
        _ => found,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_signatures_are_extracted() {
        let rendered = "error[E0308]: mismatched types\n  = note: expected fn pointer `for<'a, 'b> fn(&'a SimpleCommunicator, &'b [Vec<i64>]) -> Vec<Vec<i64>>`\n             found fn item `fn(&SimpleCommunicator, &[Vec<i32>]) -> Vec<Vec<i32>> {submission::part2}`\n";
        assert_eq!(
            found_signature(rendered).unwrap(),
            "fn(&SimpleCommunicator, &[Vec<i32>]) -> Vec<Vec<i32>>"
        );
        assert_eq!(found_signature("nothing here"), None);
    }

    #[test]
    fn headlines_carry_the_location() {
        let e = CompilerError {
            message: "cannot find value `x`".into(),
            code: Some("E0425".into()),
            rendered:
                "error[E0425]: cannot find value `x` in this scope\n --> sub/src/lib.rs:3:5\n  |\n"
                    .into(),
            primary: vec![],
        };
        assert_eq!(
            e.headline(),
            "error[E0425]: cannot find value `x` in this scope (sub/src/lib.rs:3:5)"
        );
    }

    #[test]
    fn submissions_are_checked_before_building() {
        let dir = tempfile::tempdir().unwrap();
        let err = Submission::open(&dir.path().join("nope")).unwrap_err();
        assert!(err.to_string().contains("no such directory"), "{err}");
        let err = Submission::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("not a Rust crate"), "{err}");

        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"a\"]\n",
        )
        .unwrap();
        let err = Submission::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("workspace"), "{err}");

        std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        let err = Submission::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("no library target"), "{err}");

        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
        assert_eq!(
            Submission::open(dir.path()).unwrap().package,
            Ok("x".to_string())
        );

        std::fs::write(dir.path().join("Cargo.toml"), "[package\n").unwrap();
        let broken = Submission::open(dir.path()).unwrap();
        assert!(broken.package.unwrap_err().contains("cannot be parsed"));
    }

    #[test]
    fn intake_writes_the_graders_manifest_or_says_why_not() {
        let dir = tempfile::tempdir().unwrap();
        let crate_dir = dir.path().join("student");
        std::fs::create_dir_all(crate_dir.join("src")).unwrap();
        std::fs::write(crate_dir.join("src/lib.rs"), "").unwrap();
        let manifest =
            "[package]\nname = \"student\"\nedition = \"2021\"\n[dependencies]\nmpi = \"0.8\"\n";
        std::fs::write(crate_dir.join("Cargo.toml"), manifest).unwrap();
        let original = Submission::open(&crate_dir).unwrap();
        let policy = crate::build::intake::Policy::default();

        let copy = original.intake(&dir.path().join("a"), &policy).unwrap();
        assert_eq!(copy.package, Ok("student".to_string()));
        assert_eq!(copy.display, original.display);
        let written = std::fs::read_to_string(copy.dir.join("Cargo.toml")).unwrap();
        assert!(written.contains("unsafe_code = \"forbid\""), "{written}");

        std::fs::write(crate_dir.join("build.rs"), "fn main() {}").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", crate_dir.join("src/p")).unwrap();
        let copy = original.intake(&dir.path().join("b"), &policy).unwrap();
        let why = copy.package.unwrap_err();
        assert_eq!(
            why.lines().collect::<Vec<_>>(),
            [
                "src/p is a symbolic link that leaves the crate (a submission may only hold its own files)",
                "build.rs: build scripts are not allowed in this challenge",
            ]
        );
    }
}
