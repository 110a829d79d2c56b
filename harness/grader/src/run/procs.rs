//! Finding and stopping every process of a launch.
//!
//! Each launch's `mpiexec` starts a new session, and the processes of the launch are the
//! members of that session plus its leader's descendants. Open MPI puts each rank in its own
//! process group (so a group kill misses them) and ranks can outlive a killed `mpiexec`. The
//! grader therefore makes itself a child subreaper, so that orphaned ranks become its children
//! instead of init's, and it also tags each launch's environment with a marker, so that a
//! process that left the session is still found among its children.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The user sandboxed processes run as (`u32::MAX`: none).
static SANDBOX_UID: AtomicU32 = AtomicU32::new(u32::MAX);
/// The processes this grader started itself and still waits for (`mpiexec`s, cargos).
static LEADERS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Tells the clean-up which user sandboxed processes run as. The grader is a subreaper: a
/// process of that user that became its child is an orphan of one of its own launches or
/// builds (whatever its session or environment says), and is stopped with the launch.
pub fn set_sandbox_uid(uid: Option<u32>) {
    SANDBOX_UID.store(uid.unwrap_or(u32::MAX), Ordering::SeqCst);
}

/// Registers a process the grader started (a launch's `mpiexec`, a cargo) for as long as the
/// guard lives: it is never taken for an orphan of another launch.
pub fn track_leader(pid: i32) -> LeaderGuard {
    pids(&LEADERS).push(pid);
    LeaderGuard(pid)
}

/// One of the registries of pids above, locked (a panic elsewhere does not poison it).
fn pids(list: &Mutex<Vec<i32>>) -> std::sync::MutexGuard<'_, Vec<i32>> {
    list.lock().unwrap_or_else(|e| e.into_inner())
}

/// The leaders of the launches running now: the processes whose namespaces hold ranks the
/// grader may signal (stack requests).
static LAUNCHES: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Registers a launch's leader (as [`track_leader`] does, and as a launch) while the guard lives.
pub fn track_launch(pid: i32) -> (LeaderGuard, LaunchGuard) {
    pids(&LAUNCHES).push(pid);
    (track_leader(pid), LaunchGuard(pid))
}

/// Unregisters a launch when dropped.
pub struct LaunchGuard(i32);

impl Drop for LaunchGuard {
    fn drop(&mut self) {
        pids(&LAUNCHES).retain(|&p| p != self.0);
    }
}

/// The innermost id in a `/proc/<pid>/status` text (`NSpid:` lists the id in every PID
/// namespace from the reader's down to the process's own).
fn innermost_id(status: &str) -> Option<i32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))?
        .split_whitespace()
        .last()?
        .parse()
        .ok()
}

/// The processes below `leader`, by the pid they have in their own PID namespace (the pid a
/// sandboxed rank reports), with their pid here.
fn host_pids(leader: i32) -> HashMap<i32, i32> {
    let procs = scan();
    descendants_of(&procs, leader)
        .into_iter()
        .filter(|&pid| pid != leader)
        .filter_map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            Some((innermost_id(&status)?, pid))
        })
        .collect()
}

/// The processes of one running launch (see [`track_launch`]), named as its ranks name them:
/// by the pid they have in their own PID namespace. Launches may run side by side, each in a
/// namespace of its own where the same pids recur, so a rank's ids are only ever looked up
/// among the processes of the launch it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaunchProcs {
    leader: i32,
}

impl LaunchProcs {
    /// The processes below `leader`, a launch's leader.
    pub fn of(leader: i32) -> LaunchProcs {
        LaunchProcs { leader }
    }

    /// The launch's processes by the pid they have in their own PID namespace (the pid a
    /// sandboxed rank reports and its tracer records), with their pid here; nothing once the
    /// launch has ended. A pid that two of its processes hold (a namespace a rank made) is left
    /// out: the grader does not guess.
    pub fn pids(&self) -> HashMap<i32, i32> {
        if !pids(&LAUNCHES).contains(&self.leader) {
            return HashMap::new();
        }
        let mut found: HashMap<i32, i32> = HashMap::new();
        let mut ambiguous = Vec::new();
        for (inner, host) in host_pids(self.leader) {
            if found.insert(inner, host).is_some() {
                ambiguous.push(inner);
            }
        }
        for inner in ambiguous {
            found.remove(&inner);
        }
        found
    }

    /// A thread of one of the launch's ranks named by its ids in its own PID namespace (as its
    /// tracer records them), as ids here: only processes of this launch are found, so a rank
    /// writing another process's ids into its record cannot make the grader signal it.
    pub fn thread(&self, pid: i32, tid: i32) -> Option<(i32, i32)> {
        let host = *self.pids().get(&pid)?;
        let tasks = std::fs::read_dir(format!("/proc/{host}/task")).ok()?;
        tasks.flatten().find_map(|task| {
            let htid = task.file_name().to_str()?.parse().ok()?;
            let status = std::fs::read_to_string(task.path().join("status")).ok()?;
            (innermost_id(&status) == Some(tid)).then_some((host, htid))
        })
    }
}

/// Unregisters a leader when dropped.
pub struct LeaderGuard(i32);

impl Drop for LeaderGuard {
    fn drop(&mut self) {
        pids(&LEADERS).retain(|&p| p != self.0);
    }
}

/// Whether `p` is an orphan of a sandboxed launch or build of this grader: a child of ours,
/// running as the sandbox user, that we did not start ourselves.
fn is_sandbox_orphan(p: &ProcStat, me: i32) -> bool {
    let uid = SANDBOX_UID.load(Ordering::SeqCst);
    if uid == u32::MAX || p.ppid != me {
        return false;
    }
    let owner = std::fs::metadata(format!("/proc/{}", p.pid)).map(|m| m.uid());
    owner.is_ok_and(|o| o == uid) && !pids(&LEADERS).contains(&p.pid)
}

/// Environment variable whose value identifies a launch in every process it starts.
pub const LAUNCH_MARKER_VAR: &str = "MPI_GRADE_LAUNCH";

/// One line of `/proc/<pid>/stat`, the fields we need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcStat {
    /// Process id.
    pub pid: i32,
    /// Command name.
    pub comm: String,
    /// State letter (`R`, `S`, `Z`...).
    pub state: char,
    /// Parent process id.
    pub ppid: i32,
    /// Process group.
    pub pgrp: i32,
    /// Session.
    pub session: i32,
}

impl ProcStat {
    /// Parses `/proc/<pid>/stat`. The command name is in parentheses and may itself contain
    /// spaces and parentheses, so fields are counted from the last `)`.
    pub fn parse(text: &str) -> Option<ProcStat> {
        let open = text.find('(')?;
        let close = text.rfind(')')?;
        let pid = text[..open].trim().parse().ok()?;
        let comm = text[open + 1..close].to_string();
        let mut rest = text[close + 1..].split_whitespace();
        let state = rest.next()?.chars().next()?;
        let ppid = rest.next()?.parse().ok()?;
        let pgrp = rest.next()?.parse().ok()?;
        let session = rest.next()?.parse().ok()?;
        Some(ProcStat {
            pid,
            comm,
            state,
            ppid,
            pgrp,
            session,
        })
    }

    /// A zombie has exited; only its parent's `wait` is missing.
    pub fn is_alive(&self) -> bool {
        !matches!(self.state, 'Z' | 'X')
    }
}

/// Whether process `pid` exists and has not exited (a zombie has).
pub fn is_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|text| ProcStat::parse(&text))
        .is_some_and(|p| p.is_alive())
}

/// Every process visible in `/proc`.
pub fn scan() -> Vec<ProcStat> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|text| ProcStat::parse(&text))
        .collect()
}

/// Whether process `pid` was started with `var=value` in its environment.
pub fn has_env(pid: i32, var: &str, value: &str) -> bool {
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    let wanted = format!("{var}={value}");
    environ
        .split(|&b| b == 0)
        .any(|entry| entry == wanted.as_bytes())
}

/// The processes of a launch whose leader (the `mpiexec`, a session leader) is `leader`.
pub fn launch_members(procs: &[ProcStat], leader: i32, marker: &str) -> Vec<ProcStat> {
    let me = std::process::id() as i32;
    let descendants = descendants_of(procs, leader);
    procs
        .iter()
        .filter(|p| p.pid != me)
        .filter(|p| {
            p.session == leader
                || descendants.contains(&p.pid)
                || (p.ppid == me && has_env(p.pid, LAUNCH_MARKER_VAR, marker))
                || is_sandbox_orphan(p, me)
        })
        .cloned()
        .collect()
}

/// `root` and every process below it.
pub fn descendants_of(procs: &[ProcStat], root: i32) -> HashSet<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for p in procs {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let mut found = HashSet::from([root]);
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            if found.insert(child) {
                stack.push(child);
            }
        }
    }
    found
}

/// Asks the kernel to make orphaned descendants our children rather than init's, so that ranks
/// whose `mpiexec` died can still be found, killed and reaped.
pub fn become_subreaper() {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only changes this process's attributes.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// For `pre_exec`: a new session, and SIGKILL when the process that started it dies.
pub fn die_with_parent_in_new_session() -> std::io::Result<()> {
    // SAFETY: setsid is async-signal-safe, as pre_exec requires.
    unsafe { libc::setsid() };
    die_with_parent()
}

/// For `pre_exec`: SIGKILL when the process that started this one dies. Fails if that process
/// is already gone (it died before the request took effect).
pub fn die_with_parent() -> std::io::Result<()> {
    // SAFETY: only async-signal-safe calls, as pre_exec requires.
    unsafe {
        let parent = libc::getppid();
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0
            || libc::getppid() != parent
        {
            return Err(std::io::Error::other("the grader is gone"));
        }
    }
    Ok(())
}

/// What was left of a launch after stopping it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survivors(pub Vec<ProcStat>);

impl std::fmt::Display for Survivors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list: Vec<String> = self
            .0
            .iter()
            .map(|p| format!("{} ({})", p.pid, p.comm))
            .collect();
        write!(f, "{}", list.join(", "))
    }
}

/// Stops every process of a launch: SIGTERM, `grace` to exit, SIGKILL, then waits until none
/// is alive (reaping those that became our children). `leader` itself is not reaped here: its
/// `Child` handle does that. Returns the processes still alive after `deadline`, if any.
pub fn stop_launch(
    leader: i32,
    marker: &str,
    grace: Duration,
    deadline: Duration,
) -> Result<(), Survivors> {
    let started = Instant::now();
    signal_all(leader, marker, libc::SIGTERM);
    let mut killed = false;
    loop {
        reap_orphans(leader, marker);
        let alive: Vec<ProcStat> = launch_members(&scan(), leader, marker)
            .into_iter()
            .filter(ProcStat::is_alive)
            .collect();
        if alive.is_empty() {
            return Ok(());
        }
        let elapsed = started.elapsed();
        if elapsed >= deadline {
            return Err(Survivors(alive));
        }
        if !killed && elapsed >= grace {
            signal_all(leader, marker, libc::SIGKILL);
            killed = true;
        } else if killed {
            // A process may have forked between the scan and the kill: keep killing.
            signal_all(leader, marker, libc::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal_all(leader: i32, marker: &str, signal: i32) {
    // SAFETY: kill() with a negative pid signals the session's process group; errors (no such
    // process) are expected and ignored.
    unsafe {
        libc::kill(-leader, signal);
    }
    for p in launch_members(&scan(), leader, marker) {
        if p.is_alive() {
            // SAFETY: as above, for one process.
            unsafe {
                libc::kill(p.pid, signal);
            }
        }
    }
}

/// Reaps launch processes that were re-parented to us and have exited.
fn reap_orphans(leader: i32, marker: &str) {
    let me = std::process::id() as i32;
    for p in launch_members(&scan(), leader, marker) {
        if p.ppid == me && p.pid != leader && !p.is_alive() {
            let mut status = 0;
            // SAFETY: waitpid on a specific child of ours that is a zombie does not block.
            unsafe {
                libc::waitpid(p.pid, &mut status, libc::WNOHANG);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_command_names_parse() {
        let line = "4242 (a b) (c)) S 17 4242 4200 0 -1 4194560 12 0 0 0";
        let stat = ProcStat::parse(line).unwrap();
        assert_eq!(stat.pid, 4242);
        assert_eq!(stat.comm, "a b) (c)");
        assert_eq!(stat.state, 'S');
        assert_eq!((stat.ppid, stat.pgrp, stat.session), (17, 4242, 4200));
        assert!(stat.is_alive());
        assert!(!ProcStat::parse("4242 (zz) Z 1 1 1").unwrap().is_alive());
        assert_eq!(ProcStat::parse("garbage"), None);
    }

    #[test]
    fn the_innermost_pid_is_the_last_of_nspid() {
        assert_eq!(innermost_id("Name:\tx\nNSpid:\t4242\t7\n"), Some(7));
        assert_eq!(innermost_id("NSpid:\t4242\n"), Some(4242));
        assert_eq!(innermost_id("Name:\tx\n"), None);
    }

    #[test]
    fn descendants_follow_parent_links() {
        let p = |pid, ppid| ProcStat {
            pid,
            comm: "x".into(),
            state: 'S',
            ppid,
            pgrp: pid,
            session: 1,
        };
        let procs = vec![p(10, 1), p(11, 10), p(12, 11), p(13, 1), p(14, 12)];
        assert_eq!(descendants_of(&procs, 10), HashSet::from([10, 11, 12, 14]));
    }

    #[test]
    fn this_process_is_visible_with_its_environment() {
        let me = std::process::id() as i32;
        let procs = scan();
        assert!(procs.iter().any(|p| p.pid == me));
        if let Some((k, v)) = std::env::vars().next() {
            assert!(has_env(me, &k, &v));
        }
    }

    #[test]
    fn a_session_with_a_grandchild_that_ignores_sigterm_is_stopped() {
        use std::os::unix::process::CommandExt;
        let marker = format!("test-{}", std::process::id());
        // The child starts its own session and leaves a grandchild that ignores SIGTERM and
        // detaches into a new process group, as an MPI rank does.
        let mut child = unsafe {
            std::process::Command::new("sh")
                .args([
                    "-c",
                    "trap '' TERM; (trap '' TERM; set -m; sleep 60 & wait) & sleep 60",
                ])
                .env(LAUNCH_MARKER_VAR, &marker)
                .pre_exec(|| {
                    libc::setsid();
                    Ok(())
                })
                .spawn()
                .unwrap()
        };
        let leader = child.id() as i32;
        std::thread::sleep(Duration::from_millis(200));
        assert!(launch_members(&scan(), leader, &marker).len() >= 3);
        stop_launch(
            leader,
            &marker,
            Duration::from_millis(100),
            Duration::from_secs(5),
        )
        .unwrap();
        child.wait().unwrap();
        assert!(launch_members(&scan(), leader, &marker)
            .iter()
            .all(|p| !p.is_alive()));
    }
}
