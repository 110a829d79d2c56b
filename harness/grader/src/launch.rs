//! One launch: start `mpiexec` in its own session, watch it (the ranks' events against the time
//! limits, and whatever the caller's watcher sees), stop the job when it must end, and confirm
//! that none of its processes is left.

use crate::capture::{self, Captured};
use crate::error::{Error, Result};
use crate::interrupt;
use crate::launcher::{LaunchSpec, Launcher};
use crate::procs::{self, Survivors};
use crate::rundir::{Events, RunDir};
use crate::trace::detect::Finding;
use mpi_grade_protocol::run;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the grader looks at a running launch.
pub const POLL: Duration = Duration::from_millis(20);
/// Time between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_millis(300);
/// Time after which processes that survive SIGKILL are reported.
const KILL_DEADLINE: Duration = Duration::from_secs(5);

/// Why a launch ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// `mpiexec` exited by itself.
    Exited,
    /// A cell ran past the cell time limit.
    CellTimeout { cell: u32, seconds: f64 },
    /// The whole job ran past the launch time limit.
    LaunchTimeout { seconds: f64 },
    /// The watcher found a deadlock, a hang or a vanished rank.
    Stalled(Box<Finding>),
    /// The job wrote its whole scratch (`scratch_mb` of `[challenge.sandbox.ranks]`) and was
    /// killed.
    ScratchFull { limit_mb: u64 },
    /// Ctrl-C or SIGTERM.
    Interrupted,
}

/// What to launch.
pub struct Launch<'a> {
    pub launcher: &'a Launcher,
    pub program: &'a Path,
    pub args: &'a [String],
    pub ranks: u32,
    /// Environment of the ranks.
    pub env: Vec<(String, String)>,
    /// Library preloaded into the ranks (the tracer).
    pub preload: Option<&'a Path>,
    /// Capture output (capped at this many bytes per stream); `None` passes it through.
    pub capture: Option<usize>,
    pub launch_seconds: f64,
    /// A graded launch: its run directory (plan and events) and the cell time limit.
    pub cells: Option<(&'a RunDir, f64)>,
    /// Run `mpiexec` and the ranks confined (a submission's launch).
    pub jail: Option<&'a crate::sandbox::Jail>,
}

/// Everything known about a finished launch.
#[derive(Debug)]
pub struct LaunchRecord {
    /// The ranks' events (graded launches).
    pub events: Option<Events>,
    pub ending: Ending,
    /// `mpiexec`'s exit status.
    pub status: Option<ExitStatus>,
    pub stdout: Captured,
    pub stderr: Captured,
    pub seconds: f64,
    /// Processes that could not be stopped (should never happen; reported loudly).
    pub survivors: Option<Survivors>,
    /// The first rank whose process was seen to end while the launcher still ran (graded
    /// launches): the culprit when the launcher does not name one.
    pub first_gone: Option<u32>,
    /// A rank that ended its own process (`exit`) before finalising, with its status, as the
    /// tracer recorded it (filled in by the caller, who owns the records).
    pub self_exit: Option<(u32, i32)>,
    /// A rank that called `MPI_Abort`, with its code, as the tracer recorded it (filled in by
    /// the caller).
    pub aborted: Option<(u32, i32)>,
}

/// Runs the launch until it ends. `watch` is called at every poll and may end it.
pub fn run(
    launch: &Launch<'_>,
    watch: &mut dyn FnMut(Instant) -> Option<Finding>,
) -> Result<LaunchRecord> {
    static LAUNCHES: AtomicU64 = AtomicU64::new(0);
    let marker = format!(
        "{}-{}",
        std::process::id(),
        LAUNCHES.fetch_add(1, Ordering::Relaxed)
    );
    let mut env = launch.env.clone();
    if let Some((run_dir, _)) = launch.cells {
        env.push((run::ENV_RUN_DIR.into(), run_dir.path.display().to_string()));
    }
    env.push((procs::LAUNCH_MARKER_VAR.into(), marker.clone()));
    let spec = LaunchSpec {
        ranks: launch.ranks,
        program: launch.program,
        args: launch.args,
        env,
        preload: launch.preload,
    };
    let mut command = launch.launcher.command(&spec);
    command.stdin(Stdio::null());
    if launch.capture.is_some() {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    // SAFETY: setsid and prctl are async-signal-safe. The new session lets the grader find
    // every process of this launch, and keeps a terminal's Ctrl-C from reaching the ranks
    // directly. If the grader dies (even by SIGKILL), the launcher is killed, and both
    // launchers take their ranks down with them.
    unsafe {
        command.pre_exec(crate::procs::die_with_parent_in_new_session);
    }
    // The launch's own jail: its run directory writable, a cgroup of its own (killed and
    // removed when the jail is dropped, at the end of this function).
    let jail = launch
        .jail
        .map(|j| j.for_launch(launch.cells.map(|(run_dir, _)| run_dir.path.as_path())))
        .transpose()?;
    if let Some(jail) = &jail {
        jail.confine(&mut command)?;
    }

    let started = Instant::now();
    let mut child = command.spawn().map_err(Error::io(format!(
        "cannot start {}",
        launch.launcher.mpiexec.display()
    )))?;
    let leader = child.id() as i32;
    // The total the job may write (killed by the watch when reached).
    let scratch = jail
        .as_ref()
        .and_then(|j| j.scratch_cap())
        .map(|cap| crate::sandbox::scratch::Watch::start(&cap, child.id()));
    let _tracked = procs::track_launch(leader);
    // Ranks report the pids they have in their own PID namespace: theirs here, once seen.
    let mut host_pids: std::collections::HashMap<u32, Option<i32>> = Default::default();
    let readers = launch.capture.map(|cap| {
        (
            capture::spawn_reader(child.stdout.take().expect("piped"), cap),
            capture::spawn_reader(child.stderr.take().expect("piped"), cap),
        )
    });

    let mut events = launch.cells.map(|(run_dir, _)| run_dir.events());
    let mut watch_cells = CellWatch::new(started);
    let mut first_gone = None;
    let (mut ending, mut status) = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(Error::io("cannot wait for mpiexec"))?
        {
            break (Ending::Exited, Some(status));
        }
        if interrupt::requested() {
            break (Ending::Interrupted, None);
        }
        let now = Instant::now();
        if let (Some(events), Some((run_dir, cell_seconds))) = (events.as_mut(), launch.cells) {
            events.refresh();
            if first_gone.is_none() {
                let pids = events.pids();
                if pids.iter().any(|(rank, _)| !host_pids.contains_key(rank)) {
                    // A rank not found yet is looked for again at the next poll, not taken
                    // for gone.
                    let map = procs::host_pids(leader);
                    for &(rank, pid) in &pids {
                        if let Some(&host) = map.get(&(pid as i32)) {
                            host_pids.entry(rank).or_insert(Some(host));
                        }
                    }
                }
                first_gone = pids
                    .into_iter()
                    .filter(|(rank, _)| {
                        host_pids
                            .get(rank)
                            .copied()
                            .flatten()
                            .is_some_and(|pid| !procs::is_alive(pid))
                    })
                    .map(|(rank, _)| rank)
                    .min();
            }
            if let Some((cell, running)) =
                watch_cells.update(events, run_dir.plan.cells.len() as u32, now)
            {
                if running.as_secs_f64() > cell_seconds {
                    break (
                        Ending::CellTimeout {
                            cell,
                            seconds: cell_seconds,
                        },
                        None,
                    );
                }
            }
        }
        if let Some(finding) = watch(now) {
            break (Ending::Stalled(Box::new(finding)), None);
        }
        if (now - started).as_secs_f64() > launch.launch_seconds {
            break (
                Ending::LaunchTimeout {
                    seconds: launch.launch_seconds,
                },
                None,
            );
        }
        std::thread::sleep(POLL);
    };

    // Even after a clean exit: a rank may have left a forked process behind (outside a PID
    // namespace; inside one, it died with the launcher).
    let survivors = procs::stop_launch(leader, &marker, GRACE, KILL_DEADLINE).err();
    if let Some(group) = jail.as_ref().and_then(|j| j.confinement.cgroup.as_ref()) {
        group.kill_all(KILL_DEADLINE);
    }
    if status.is_none() {
        status = child.wait().ok();
    }
    if let Some(watch) = scratch.as_ref().filter(|w| w.tripped()) {
        if ending != Ending::Interrupted {
            ending = Ending::ScratchFull {
                limit_mb: watch.limit_mb(),
            };
        }
    }
    drop(scratch);
    if let Some(events) = events.as_mut() {
        events.refresh();
    }
    let reader_timeout = Duration::from_secs(1);
    let (stdout, stderr) = match readers {
        Some((out, err)) => (out.finish(reader_timeout), err.finish(reader_timeout)),
        None => (Captured::default(), Captured::default()),
    };
    Ok(LaunchRecord {
        events,
        ending,
        status,
        stdout,
        stderr,
        seconds: started.elapsed().as_secs_f64(),
        survivors,
        first_gone,
        self_exit: None,
        aborted: None,
    })
}

/// Tracks which cell is running and since when.
///
/// The active cell is the first one not completed by every rank. Its clock starts when a rank
/// is first seen starting it, or, before that, when the previous cell completed (or the job
/// started): start-up and the work between cells count against the next cell.
struct CellWatch {
    active: Option<u32>,
    since: Instant,
    started_seen: bool,
}

impl CellWatch {
    fn new(now: Instant) -> CellWatch {
        CellWatch {
            active: None,
            since: now,
            started_seen: false,
        }
    }

    /// The active cell and how long it has been running, or `None` when every cell completed.
    fn update(&mut self, events: &Events, cells: u32, now: Instant) -> Option<(u32, Duration)> {
        let active = (0..cells).find(|&c| !events.all_done(c))?;
        if self.active != Some(active) {
            if self.active.is_some() {
                self.since = now;
            }
            self.active = Some(active);
            self.started_seen = false;
        }
        if !self.started_seen && events.any_started(active) {
            self.started_seen = true;
            self.since = now;
        }
        Some((active, now - self.since))
    }
}
