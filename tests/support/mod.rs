//! Shared by the integration tests: running the real `mpi-grade` binary, the MPI lock, and the
//! check that no process a test started is left.

#![allow(dead_code)]

use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use wait_timeout::ChildExt;

/// The MPI implementations every end-to-end test runs under (`--mpi`).
pub const IMPLEMENTATIONS: [&str; 2] = ["openmpi", "mpich"];

/// The name a report gives an implementation.
pub fn implementation_name(mpi: &str) -> &'static str {
    match mpi {
        "openmpi" => "Open MPI",
        "mpich" => "MPICH",
        other => panic!("unknown implementation {other}"),
    }
}

/// Environment variable set on every command a test starts; its value identifies this run of
/// the test binary, so leftovers can be found in `/proc`.
pub const TEST_MARKER_VAR: &str = "MPI_GRADE_TEST_RUN";

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Scratch space shared by the tests of this workspace (cargo's `CARGO_TARGET_TMPDIR`).
pub fn tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// The grader's build cache for tests: shared across runs, so mpi-sys is compiled once.
pub fn cache_dir() -> PathBuf {
    tmp().join("grade-cache")
}

/// The value of [`TEST_MARKER_VAR`] for this process.
pub fn marker() -> String {
    format!("{}", std::process::id())
}

/// Holds the lock that serialises every test launching MPI on this machine (in any checkout):
/// several `mpiexec` jobs at once on two cores make time limits meaningless.
pub struct MpiLock(File);

pub fn mpi_lock() -> MpiLock {
    let path = std::env::temp_dir().join("mpi-grade-tests-mpi.lock");
    let file = File::create(&path).unwrap();
    // SAFETY: flock on a descriptor we own.
    assert_eq!(unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) }, 0);
    MpiLock(file)
}

/// A command running the `mpi-grade` built for these tests, in the repository root.
pub fn mpi_grade(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mpi-grade"));
    cmd.args(args)
        .current_dir(repo())
        .env(TEST_MARKER_VAR, marker())
        .env("MPI_GRADE_CACHE", cache_dir())
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    cmd
}

/// Runs a command to completion, killing it if it takes longer than `limit` (a test must fail,
/// not hang).
pub fn run(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("command starts");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || read_all(stdout));
    let err = std::thread::spawn(move || read_all(stderr));
    let status = match child.wait_timeout(limit).unwrap() {
        Some(status) => status,
        None => {
            // SIGTERM first: the grader stops its launches and cleans up; then SIGKILL.
            // SAFETY: signalling our own child.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            if child
                .wait_timeout(Duration::from_secs(10))
                .unwrap()
                .is_none()
            {
                let _ = child.kill();
                let _ = child.wait();
            }
            panic!("{cmd:?} did not finish within {limit:?}");
        }
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn read_all(mut r: impl std::io::Read) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = r.read_to_end(&mut v);
    v
}

/// The suite's last word: its trials' conclusion, unless a process any trial started is still
/// running (then exit 101, naming them).
pub fn conclude(conclusion: libtest_mimic::Conclusion) -> ! {
    let left = leftovers();
    if !left.is_empty() {
        eprintln!(
            "processes started by the tests are still running: {}",
            left.join(", ")
        );
        std::process::exit(101);
    }
    eprintln!("no process started by these tests is left");
    conclusion.exit()
}

/// Live processes started by this test binary (found by the marker in their environment).
pub fn leftovers() -> Vec<String> {
    let me = std::process::id() as i32;
    mpi_grade::run::procs::scan()
        .into_iter()
        .filter(|p| p.pid != me && p.is_alive())
        .filter(|p| mpi_grade::run::procs::has_env(p.pid, TEST_MARKER_VAR, &marker()))
        .map(|p| format!("{} ({})", p.pid, p.comm))
        .collect()
}

/// Where a JSON report departs from `docs/report.schema.json` made strict (every field the
/// report has must be described; empty when it matches).
pub fn schema_errors(report: &serde_json::Value) -> Vec<String> {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let schema = mpi_grade::report::json::strict_schema();
        jsonschema::draft202012::new(&schema).expect("docs/report.schema.json is a valid schema")
    });
    validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}
