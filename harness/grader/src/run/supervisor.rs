//! One supervisor for every child the grader starts (a cargo build, an `mpiexec` launch): the
//! marker every process of the job carries, death with the grader, a session or process group
//! of its own, the readers of its output, its registration as a leader, and its stop.
//!
//! The process-finding and the capture details stay in `run::procs` and `run::capture`; how a
//! job is confined is the sandbox's (the caller's `confine` step, run after the supervisor's
//! own set-up so that the sandbox's `pre_exec` comes after the new session).

use crate::error::{Error, Result};
use crate::run::capture::{self, Captured, Reader};
use crate::run::procs::{self, LaunchGuard, LeaderGuard, Survivors};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use wait_timeout::ChildExt;

/// What kind of job, for its marker and its registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A cargo build: its own process group; registered as a leader.
    Build,
    /// An `mpiexec` launch: its own session (a terminal's Ctrl-C does not reach the ranks);
    /// registered as a launch, whose namespaces hold ranks the grader may signal.
    Launch,
}

/// A fresh marker for a job of `kind`: the value of [`procs::LAUNCH_MARKER_VAR`] in every
/// process it starts (a launch passes it to its ranks itself, through the launcher).
pub fn marker(kind: Kind) -> String {
    static LAUNCHES: AtomicU64 = AtomicU64::new(0);
    match kind {
        Kind::Build => format!("{}-build", std::process::id()),
        Kind::Launch => format!(
            "{}-{}",
            std::process::id(),
            LAUNCHES.fetch_add(1, Ordering::Relaxed)
        ),
    }
}

/// How to start a job.
pub struct Start<'a> {
    /// What the job is.
    pub kind: Kind,
    /// Its marker (from [`marker`]).
    pub marker: &'a str,
    /// Capture stdout and stderr, capped at these many bytes; `None` passes them through.
    pub capture: Option<(usize, usize)>,
    /// The program's name in error messages (`cargo`, `mpiexec`).
    pub name: &'a str,
    /// The error when it cannot be started (`cannot run cargo`, `cannot start <path>`).
    pub cannot_start: String,
}

/// A running job the grader started.
pub struct Job {
    child: Child,
    /// The command lives as long as the job: what the sandbox attached to it (the cgroup of a
    /// confined build) must not be dropped, and so killed, while the job runs.
    command: Command,
    started: Instant,
    marker: String,
    name: String,
    readers: Option<(Reader, Reader)>,
    _leader: LeaderGuard,
    _launch: Option<LaunchGuard>,
}

/// What a finished job left: its status and its captured output.
#[derive(Debug)]
pub struct Finished {
    /// The job's exit status, when it could be waited for.
    pub status: Option<ExitStatus>,
    /// Its standard output (empty when not captured).
    pub stdout: Captured,
    /// Its standard error (empty when not captured).
    pub stderr: Captured,
}

impl Job {
    /// Sets `command` up (marker, no stdin, pipes, death with the grader, its own session or
    /// process group), lets `confine` add the sandbox's part, and starts it.
    pub fn start(
        mut command: Command,
        start: &Start<'_>,
        confine: impl FnOnce(&mut Command) -> Result<()>,
    ) -> Result<Job> {
        command
            .env(procs::LAUNCH_MARKER_VAR, start.marker)
            .stdin(Stdio::null());
        if start.capture.is_some() {
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        match start.kind {
            Kind::Build => {
                command.process_group(0);
                // SAFETY: die_with_parent only makes async-signal-safe calls. The build runs
                // the student's build.rs and proc macros: they must not outlive the grader.
                unsafe {
                    command.pre_exec(procs::die_with_parent);
                }
            }
            // SAFETY: setsid and prctl are async-signal-safe. The new session lets the grader
            // find every process of this launch, and keeps a terminal's Ctrl-C from reaching
            // the ranks directly. If the grader dies (even by SIGKILL), the launcher is
            // killed, and both launchers take their ranks down with them.
            Kind::Launch => unsafe {
                command.pre_exec(procs::die_with_parent_in_new_session);
            },
        }
        confine(&mut command)?;
        let started = Instant::now();
        let mut child = command
            .spawn()
            .map_err(Error::io(start.cannot_start.clone()))?;
        let leader = child.id() as i32;
        let (leader_guard, launch_guard) = match start.kind {
            Kind::Build => (procs::track_leader(leader), None),
            Kind::Launch => {
                let (leader, launch) = procs::track_launch(leader);
                (leader, Some(launch))
            }
        };
        let readers = start.capture.map(|(out, err)| {
            (
                capture::spawn_reader(child.stdout.take().expect("piped"), out),
                capture::spawn_reader(child.stderr.take().expect("piped"), err),
            )
        });
        Ok(Job {
            child,
            command,
            started,
            marker: start.marker.to_string(),
            name: start.name.to_string(),
            readers,
            _leader: leader_guard,
            _launch: launch_guard,
        })
    }

    /// When the job was started (just before its first process was).
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The pid of the job's first process (its session or group leader).
    pub fn leader(&self) -> i32 {
        self.child.id() as i32
    }

    /// The job's status if it has exited.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        let what = format!("cannot wait for {}", self.name);
        self.child.try_wait().map_err(Error::io(what))
    }

    /// Waits for the job's exit, at most `limit`; `None` when it is still running.
    pub fn wait_timeout(&mut self, limit: Duration) -> Result<Option<ExitStatus>> {
        let what = format!("cannot wait for {}", self.name);
        self.child.wait_timeout(limit).map_err(Error::io(what))
    }

    /// Stops every process of the job: SIGTERM, `grace`, SIGKILL, until none is alive;
    /// returns those still alive after `deadline`.
    pub fn stop(&self, grace: Duration, deadline: Duration) -> Result<(), Survivors> {
        procs::stop_launch(self.leader(), &self.marker, grace, deadline)
    }

    /// Reaps the job (unless `status` says it was already) and collects its output, waiting at
    /// most `reader_timeout` for each stream.
    pub fn finish(mut self, status: Option<ExitStatus>, reader_timeout: Duration) -> Finished {
        let status = status.or_else(|| self.child.wait().ok());
        let (stdout, stderr) = match self.readers.take() {
            Some((out, err)) => (out.finish(reader_timeout), err.finish(reader_timeout)),
            None => (Captured::default(), Captured::default()),
        };
        // Only now, the job reaped and its output read, what the command holds goes.
        drop(self.command);
        Finished {
            status,
            stdout,
            stderr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(kind: Kind, marker: &str) -> Start<'_> {
        Start {
            kind,
            marker,
            capture: Some((1 << 10, 1 << 10)),
            name: "sh",
            cannot_start: "cannot start sh".into(),
        }
    }

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    /// Session and process group of the shell, as it reads them in its own /proc/<pid>/stat.
    const IDS: &str = "echo $$; cut -d' ' -f5,6 /proc/$$/stat";

    fn ids(finished: &Finished) -> (i32, i32, i32) {
        let numbers: Vec<i32> = finished
            .stdout
            .text
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        (numbers[0], numbers[1], numbers[2])
    }

    #[test]
    fn a_launch_leads_its_own_session_and_a_build_its_own_group() {
        let marker = marker(Kind::Launch);
        let mut job = Job::start(sh(IDS), &start(Kind::Launch, &marker), |_| Ok(())).unwrap();
        let leader = job.leader();
        let status = job.wait_timeout(Duration::from_secs(10)).unwrap();
        let finished = job.finish(status, Duration::from_secs(1));
        assert!(finished.status.unwrap().success());
        assert_eq!(ids(&finished), (leader, leader, leader));

        let mut job = Job::start(sh(IDS), &start(Kind::Build, &marker), |_| Ok(())).unwrap();
        let leader = job.leader();
        let status = job.wait_timeout(Duration::from_secs(10)).unwrap();
        let (pid, group, session) = ids(&job.finish(status, Duration::from_secs(1)));
        assert_eq!((pid, group), (leader, leader));
        assert_ne!(session, leader);
    }

    #[test]
    fn a_job_past_its_time_is_stopped_with_everything_it_started() {
        let marker = marker(Kind::Launch);
        let script = "echo started; echo oops >&2; sleep 60 & wait";
        let mut confined = false;
        let mut job = Job::start(sh(script), &start(Kind::Build, &marker), |command| {
            // The confine step sees the marker set already.
            confined = command
                .get_envs()
                .any(|(k, v)| k == procs::LAUNCH_MARKER_VAR && v == Some(marker.as_ref()));
            Ok(())
        })
        .unwrap();
        assert!(confined);
        let leader = job.leader();
        assert_eq!(job.wait_timeout(Duration::from_millis(300)).unwrap(), None);
        assert!(procs::launch_members(&procs::scan(), leader, &marker).len() >= 2);
        job.stop(Duration::from_millis(100), Duration::from_secs(5))
            .unwrap();
        let finished = job.finish(None, Duration::from_secs(1));
        assert!(!finished.status.unwrap().success());
        assert_eq!(finished.stdout.text, "started\n");
        assert_eq!(finished.stderr.text, "oops\n");
        assert!(procs::launch_members(&procs::scan(), leader, &marker)
            .iter()
            .all(|p| !p.is_alive()));
    }

    #[test]
    fn what_the_confine_step_attaches_lives_until_the_job_is_finished() {
        use std::sync::atomic::AtomicBool;
        use std::sync::Arc;
        /// Stands for the cgroup a confined build's command holds.
        struct Held(Arc<AtomicBool>);
        impl Drop for Held {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let dropped = Arc::new(AtomicBool::new(false));
        let held = Held(dropped.clone());
        let marker = marker(Kind::Launch);
        let mut job = Job::start(sh("sleep 0.2"), &start(Kind::Build, &marker), |command| {
            // SAFETY: the closure makes no call at all.
            unsafe {
                command.pre_exec(move || {
                    let _ = &held;
                    Ok(())
                });
            }
            Ok(())
        })
        .unwrap();
        assert!(!dropped.load(Ordering::SeqCst));
        let status = job.wait_timeout(Duration::from_secs(10)).unwrap();
        assert!(!dropped.load(Ordering::SeqCst));
        job.finish(status, Duration::from_secs(1));
        assert!(dropped.load(Ordering::SeqCst));
    }

    #[test]
    fn a_confine_step_that_fails_starts_nothing() {
        let marker = marker(Kind::Launch);
        let refused = Job::start(sh("true"), &start(Kind::Launch, &marker), |_| {
            Err(Error::Other("refused".into()))
        });
        assert_eq!(refused.err().unwrap().to_string(), "refused");
        let missing = Command::new("/nonexistent/program");
        let error = Job::start(missing, &start(Kind::Build, &marker), |_| Ok(()));
        assert!(error
            .err()
            .unwrap()
            .to_string()
            .starts_with("cannot start sh"));
    }
}
