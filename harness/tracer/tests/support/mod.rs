//! Shared machinery of the integration tests: compiling small C programs with the MPI
//! implementation the tracer was built against, launching them with the tracer preloaded,
//! reading the records, and killing what was launched.
//!
//! The implementation follows the build: `cargo test` uses Open MPI (`mpicc`), and
//! `MPICC=mpicc.mpich CARGO_TARGET_DIR=target/mpich cargo test` runs the same tests with MPICH.

#![allow(dead_code)]

use mpi_grade_protocol::trace::{
    read_consistent, Func, RankState, Record, WaitKind, WaitMode, RECORD_SIZE,
};
use std::fs::{File, OpenOptions};
use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::Ordering::*;
use std::time::{Duration, Instant};

/// The MPI implementation the tracer under test was built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    OpenMpi,
    Mpich,
}

impl Impl {
    /// Told by the bindings the tracer was compiled with: Open MPI's handles are pointers.
    pub fn of_build() -> Impl {
        if mpi_grade_tracer::handle::pointer_handles() {
            Impl::OpenMpi
        } else {
            Impl::Mpich
        }
    }

    fn mpicc(self) -> &'static str {
        match self {
            Impl::OpenMpi => "mpicc.openmpi",
            Impl::Mpich => "mpicc.mpich",
        }
    }

    fn mpiexec(self) -> &'static str {
        match self {
            Impl::OpenMpi => "mpiexec.openmpi",
            Impl::Mpich => "mpiexec.mpich",
        }
    }
}

fn tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// Exclusive use of MPI on this machine (shared with other work that launches MPI jobs: the
/// grader's tests take the same lock, and so do these tests built in another target directory).
pub struct MpiLock(File);

pub fn lock() -> MpiLock {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(std::env::temp_dir().join("mpi-grade-tests-mpi.lock"))
        .expect("open mpi.lock");
    loop {
        // SAFETY: flock on an open descriptor.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            break;
        }
        let e = std::io::Error::last_os_error();
        assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "flock: {e}");
    }
    // Orphaned ranks (their launcher killed) become our children, so we can reap them.
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    MpiLock(file)
}

/// The tracer library built with this test (next to the test binary).
pub fn tracer_so() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("deps dir");
    for candidate in [deps.to_path_buf(), deps.parent().unwrap().to_path_buf()] {
        let so = candidate.join("libmpi_grade_tracer.so");
        if so.exists() {
            return so;
        }
    }
    panic!("libmpi_grade_tracer.so not found near {}", exe.display());
}

/// Compiles a C program into the target's temporary directory; returns the executable.
pub fn compile(name: &str, source: &str) -> PathBuf {
    let imp = Impl::of_build();
    let dir = tmp().join(format!("tracer-{imp:?}").to_lowercase());
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join(format!("{name}.c"));
    let exe = dir.join(name);
    std::fs::write(&src, source).unwrap();
    let out = Command::new(imp.mpicc())
        .args(["-g", "-O1", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("run mpicc");
    assert!(
        out.status.success(),
        "{} failed: {}",
        imp.mpicc(),
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// A fresh trace directory with zeroed records for `ranks` ranks, as the grader makes it.
pub fn trace_dir(name: &str, ranks: u32) -> PathBuf {
    let dir = tmp().join("tracer-runs").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for r in 0..ranks {
        let f = File::create(dir.join(format!("{r}.trace"))).unwrap();
        f.set_len(RECORD_SIZE as u64).unwrap();
    }
    dir
}

/// A launched MPI job; killed (with everything it started) when dropped unfinished.
pub struct Job {
    child: Child,
    /// Value of [`MARKER`] in the environment of the job's processes.
    marker: String,
    exe_name: String,
    pub out: PathBuf,
    pub trace: Option<PathBuf>,
    done: bool,
}

/// Launches `ranks` copies of `exe` with the tracer preloaded; `trace` is the trace
/// directory (`None`: the tracer stays passive). `env` goes to the ranks.
pub fn launch(
    exe: &Path,
    args: &[&str],
    ranks: u32,
    trace: Option<&Path>,
    env: &[(&str, &str)],
) -> Job {
    launch_with(exe, args, ranks, trace, env, true)
}

/// [`launch`], with or without the tracer preloaded.
pub fn launch_with(
    exe: &Path,
    args: &[&str],
    ranks: u32,
    trace: Option<&Path>,
    env: &[(&str, &str)],
    preload: bool,
) -> Job {
    let imp = Impl::of_build();
    let mut vars: Vec<(String, String)> = Vec::new();
    if preload {
        vars.push(("LD_PRELOAD".into(), tracer_so().display().to_string()));
    }
    if let Some(dir) = trace {
        vars.push(("MPI_GRADE_TRACE_DIR".into(), dir.display().to_string()));
    }
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));

    let mut cmd = Command::new(imp.mpiexec());
    cmd.arg("-n").arg(ranks.to_string());
    let oversubscribed =
        ranks as usize > std::thread::available_parallelism().map_or(1, |n| n.get());
    match imp {
        Impl::OpenMpi => {
            if oversubscribed {
                cmd.args(["--bind-to", "core:overload-allowed", "--map-by", "core"]);
            }
            cmd.args([
                "--oversubscribe",
                "--mca",
                "pml",
                "ob1",
                "--mca",
                "btl",
                "self,vader",
            ]);
            for (k, v) in &vars {
                cmd.arg("-x").arg(format!("{k}={v}"));
            }
        }
        Impl::Mpich => {
            for (k, v) in &vars {
                cmd.arg("-genv").arg(k).arg(v);
            }
        }
    }
    cmd.arg(exe).args(args);
    // Nothing of the test's own tracer settings may leak into the job (MPICH passes the
    // whole environment on).
    for (k, _) in std::env::vars() {
        if k.starts_with("MPI_GRADE_") || k == "LD_PRELOAD" {
            cmd.env_remove(k);
        }
    }
    static JOBS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let marker = format!("{}-{}", std::process::id(), JOBS.fetch_add(1, Relaxed));
    cmd.env(MARKER, &marker);
    cmd.env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    if oversubscribed {
        // Oversubscribed ranks that busy-poll steal their peers' cores, and where the scheduler
        // puts them changes a run's time sevenfold here (0.27 s to 1.8 s for the same ping-
        // pong): yield when idle, and pin ranks round-robin to cores so that runs compare.
        cmd.env("OMPI_MCA_mpi_yield_when_idle", "1");
    }
    let out = exe.with_extension(format!("{}.out", std::process::id()));
    let log = File::create(&out).unwrap();
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    // SAFETY: setsid is async-signal-safe; the job gets its own session.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = cmd.spawn().expect("spawn mpiexec");
    Job {
        child,
        marker,
        exe_name: exe.file_name().unwrap().to_string_lossy().into_owned(),
        out,
        trace: trace.map(Path::to_path_buf),
        done: false,
    }
}

impl Job {
    /// Output of the job so far (all ranks, stdout and stderr).
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Waits for the job to end by itself (panics, after killing it, past `timeout`).
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.kill();
                return status;
            }
            if start.elapsed() > timeout {
                self.kill();
                panic!(
                    "job did not finish in {timeout:?}; output:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the job: the launcher, every descendant, everything in its session or with its
    /// environment marker, and every rank a record names; reaps them (orphans come to us as
    /// the subreaper) and checks that none is left.
    pub fn kill(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        // SAFETY: getpid cannot fail.
        let me = unsafe { libc::getpid() };
        let leader = self.child.id() as i32;
        let mut pids = descendants_and_session(&processes(), leader);
        if let Some(dir) = &self.trace {
            for r in 0.. {
                let path = dir.join(format!("{r}.trace"));
                if !path.exists() {
                    break;
                }
                let m = Mapped::open(&path);
                let pid = m.rec().header.pid.load(Relaxed);
                if pid > 0 && !pids.contains(&pid) {
                    pids.push(pid);
                }
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let start = Instant::now();
        loop {
            // Processes of the job: found above, or carrying its marker, or zombies left to
            // us by a launcher that already exited (told by their name).
            for p in processes() {
                let ours = p.marker.as_deref() == Some(&self.marker[..])
                    || (p.state == 'Z'
                        && p.ppid == me
                        && (self.exe_name.starts_with(&p.comm[..])
                            || p.comm.starts_with("hydra")
                            || p.comm == "orted"));
                if ours && !pids.contains(&p.pid) {
                    pids.push(p.pid);
                }
            }
            for &p in &pids {
                // SAFETY: signalling and reaping processes this job started.
                unsafe {
                    libc::kill(p, libc::SIGKILL);
                    libc::waitpid(p, std::ptr::null_mut(), libc::WNOHANG);
                }
            }
            // Gone, or a zombie someone else must reap.
            let left: Vec<i32> = pids
                .iter()
                .copied()
                .filter(|&p| matches!(stat(p), Some((ppid, _, s)) if s != 'Z' || ppid == me))
                .collect();
            if left.is_empty() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "processes left after the kill: {left:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `(ppid, sid, state)` of a process, `None` if it does not exist.
fn stat(pid: i32) -> Option<(i32, i32, char)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: parse after the last ')'.
    let rest = &s[s.rfind(')')? + 2..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    let _pgrp = f.next()?;
    let sid = f.next()?.parse().ok()?;
    Some((ppid, sid, state))
}

/// Whether a process exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    matches!(stat(pid), Some((_, _, s)) if s != 'Z' && s != 'X')
}

/// A process as `/proc` shows it.
struct Proc {
    pid: i32,
    ppid: i32,
    sid: i32,
    state: char,
    comm: String,
    /// The value of [`MARKER`] in its environment (unreadable for zombies).
    marker: Option<String>,
}

/// Environment variable naming the job a process belongs to.
const MARKER: &str = "TRACER_TEST_JOB";

fn processes() -> Vec<Proc> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let (ppid, sid, state) = stat(pid)?;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let prefix = format!("{MARKER}=");
            let marker = env
                .split(|&b| b == 0)
                .find_map(|kv| kv.strip_prefix(prefix.as_bytes()))
                .map(|v| String::from_utf8_lossy(v).into_owned());
            Some(Proc {
                pid,
                ppid,
                sid,
                state,
                comm: comm.trim_end().to_string(),
                marker,
            })
        })
        .collect()
}

/// The processes of `leader`'s session and all its descendants (MPICH's launcher starts its
/// proxies and ranks in sessions of their own).
fn descendants_and_session(all: &[Proc], leader: i32) -> Vec<i32> {
    let mut found: Vec<i32> = all
        .iter()
        .filter(|p| p.sid == leader)
        .map(|p| p.pid)
        .collect();
    if !found.contains(&leader) {
        found.push(leader);
    }
    loop {
        let more: Vec<i32> = all
            .iter()
            .filter(|p| found.contains(&p.ppid) && !found.contains(&p.pid))
            .map(|p| p.pid)
            .collect();
        if more.is_empty() {
            return found;
        }
        found.extend(more);
    }
}

/// A record file mapped shared (read-write: the stack request is written by the reader).
pub struct Mapped {
    ptr: *mut u8,
}

impl Mapped {
    pub fn open(path: &Path) -> Mapped {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap();
        assert!(file.metadata().unwrap().len() >= RECORD_SIZE as u64);
        // SAFETY: a shared mapping of RECORD_SIZE bytes of a file that long.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                RECORD_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        Mapped { ptr: p as *mut u8 }
    }

    pub fn rec(&self) -> &Record {
        // SAFETY: mapped, page-aligned, RECORD_SIZE bytes, only accessed through atomics.
        unsafe { Record::from_ptr(self.ptr) }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, RECORD_SIZE) };
    }
}

/// The records of a job's ranks.
pub fn records(dir: &Path, ranks: u32) -> Vec<Mapped> {
    (0..ranks)
        .map(|r| Mapped::open(&dir.join(format!("{r}.trace"))))
        .collect()
}

/// Calls of `func` counted in `cell`.
pub fn calls(rec: &Record, cell: usize, func: Func) -> u64 {
    rec.cells[cell].funcs[func as usize].calls.load(Relaxed)
}

/// Payload bytes of `func` counted in `cell`.
pub fn bytes(rec: &Record, cell: usize, func: Func) -> u64 {
    rec.cells[cell].funcs[func as usize].bytes.load(Relaxed)
}

pub fn state(rec: &Record) -> RankState {
    RankState::from_u32(rec.header.state.load(Acquire))
}

/// One wait condition as read from a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitView {
    pub kind: WaitKind,
    pub peer: i32,
    pub tag: i32,
    pub comm: u64,
    pub bytes: u64,
    pub coll_seq: u64,
}

/// The current call of a rank, read consistently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallView {
    pub func: Option<Func>,
    pub mode: WaitMode,
    pub cell: i32,
    pub truncated: bool,
    pub waits: Vec<WaitView>,
}

pub fn current_call(rec: &Record) -> CallView {
    let c = &rec.call;
    let (view, ok) = read_consistent(&c.seq, 1000, || {
        let n = (c.nwait.load(Relaxed) as usize).min(c.waits.len());
        CallView {
            func: c
                .func
                .load(Relaxed)
                .checked_sub(1)
                .and_then(Func::from_index),
            mode: WaitMode::from_u32(c.mode.load(Relaxed)),
            cell: c.cell.load(Relaxed),
            truncated: c.truncated.load(Relaxed) == 1,
            waits: c.waits[..n]
                .iter()
                .map(|w| WaitView {
                    kind: WaitKind::from_u32(w.kind.load(Relaxed)),
                    peer: w.peer.load(Relaxed),
                    tag: w.tag.load(Relaxed),
                    comm: w.comm.load(Relaxed),
                    bytes: w.bytes.load(Relaxed),
                    coll_seq: w.coll_seq.load(Relaxed),
                })
                .collect(),
        }
    });
    assert!(ok, "call slot never consistent");
    view
}

/// Polls `cond` until it holds (panics with `what` past `timeout`).
pub fn wait_for(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Function names of instruction pointers of the main executable (`addr2line`); return
/// addresses are moved back into their call instruction first.
pub fn symbolise(exe: &Path, rec: &Record, ips: &[u64]) -> Vec<String> {
    let bias = rec.header.exe_bias.load(Relaxed);
    let addrs: Vec<String> = ips
        .iter()
        .map(|&ip| format!("{:#x}", ip.wrapping_sub(bias).wrapping_sub(1)))
        .collect();
    let out = Command::new("addr2line")
        .arg("-f")
        .arg("-e")
        .arg(exe)
        .args(&addrs)
        .output()
        .expect("run addr2line");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .step_by(2)
        .map(str::to_string)
        .collect()
}
