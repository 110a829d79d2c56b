//! One launch: start `mpiexec` in its own session, watch it (the ranks' events against the time
//! limits, and whatever the caller's watcher sees), stop the job when it must end, and confirm
//! that none of its processes is left.

use crate::error::Result;
use crate::mpi::{LaunchSpec, Launcher};
use crate::run::capture::Captured;
use crate::run::interrupt;
use crate::run::procs::{self, LaunchProcs, Survivors};
use crate::run::rundir::{Events, RunDir};
use crate::run::schedule::{Held, Hold};
use crate::run::supervisor::{self, Job, Kind, Start};
use crate::trace::detect::{Finding, Seen};
use mpi_grade_protocol::run;
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitStatus;
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
    CellTimeout {
        /// The plan index of the cell.
        cell: u32,
        /// The cell time limit.
        seconds: f64,
    },
    /// The whole job ran past the launch time limit.
    LaunchTimeout {
        /// The launch time limit.
        seconds: f64,
    },
    /// The watcher found a deadlock, a hang or a vanished rank.
    Stalled(Box<Finding>),
    /// Ranks that others wait on stayed outside MPI past the release time of a launch that
    /// had the machine alone ([`Seen::Idle`]): it was stopped so that the grade goes on, and
    /// its cells from the one it was in run again, waited out beside other launches.
    Released,
    /// The job wrote its whole scratch (`scratch_mb` of `[challenge.sandbox.ranks]`) and was
    /// killed.
    ScratchFull {
        /// The cap the job reached, in MiB.
        limit_mb: u64,
    },
    /// Ctrl-C or SIGTERM.
    Interrupted,
}

impl From<Seen> for Ending {
    fn from(seen: Seen) -> Ending {
        match seen {
            Seen::Stall(finding) => Ending::Stalled(finding),
            Seen::Idle => Ending::Released,
        }
    }
}

/// What to launch.
pub struct Launch<'a> {
    /// The MPI implementation's launcher.
    pub launcher: &'a Launcher,
    /// The program every rank runs.
    pub program: &'a Path,
    /// Its arguments.
    pub args: &'a [String],
    /// How many ranks.
    pub ranks: u32,
    /// Environment of the ranks.
    pub env: Vec<(String, String)>,
    /// Library preloaded into the ranks (the tracer).
    pub preload: Option<&'a Path>,
    /// Capture output (capped at this many bytes per stream); `None` passes it through.
    pub capture: Option<usize>,
    /// The time limit of the whole launch.
    pub launch_seconds: f64,
    /// A graded launch: its run directory (plan and events) and the cell time limit.
    pub cells: Option<(&'a RunDir, f64)>,
    /// The first cell that times nothing, and what to call once every rank got there.
    pub untimed: Option<(u32, &'a (dyn Fn() + Send + Sync))>,
    /// Run `mpiexec` and the ranks confined (a submission's launch).
    pub jail: Option<&'a crate::sandbox::Jail>,
    /// A launch started ahead of its turn (its plan is `held`): its ranks are let into their
    /// cells when the hold says go, and it is stopped if withdrawn. Its time limits count from
    /// the go.
    pub hold: Option<&'a Hold>,
}

/// Everything known about a finished launch.
#[derive(Debug)]
pub struct LaunchRecord {
    /// The ranks' events (graded launches).
    pub events: Option<Events>,
    /// Why the launch ended.
    pub ending: Ending,
    /// `mpiexec`'s exit status.
    pub status: Option<ExitStatus>,
    /// `mpiexec`'s standard output, as captured.
    pub stdout: Captured,
    /// Its standard error, as captured.
    pub stderr: Captured,
    /// Wall time of the launch.
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

impl LaunchRecord {
    /// The job's output as shown with a failure: stderr then stdout, each as captured.
    pub fn job_output(&self) -> Option<String> {
        let mut text = String::new();
        for (name, captured) in [("stderr", &self.stderr), ("stdout", &self.stdout)] {
            if !captured.is_empty() {
                text.push_str(&format!(
                    "--- {name} ({} bytes) ---\n{}\n",
                    captured.total_bytes,
                    captured.text.trim_end()
                ));
            }
        }
        (!text.is_empty()).then_some(text)
    }

    /// The last lines of the job's output (or its status when it printed nothing), for the
    /// error of a job that did not start.
    pub fn last_lines(&self) -> String {
        let text = format!(
            "{}\n{}",
            self.stderr.tail_lines(10),
            self.stdout.tail_lines(5)
        );
        let text = text.trim();
        if text.is_empty() {
            format!("no output, status {:?}", self.status)
        } else {
            text.to_string()
        }
    }
}

/// Runs the launch until it ends. `watch` is called at every poll, with the time its time
/// limits count from (the start, or the go of a held launch), and may end it; not while held.
pub fn run(
    launch: &Launch<'_>,
    watch: &mut dyn FnMut(Instant, &LaunchProcs, Instant) -> Option<Seen>,
) -> Result<LaunchRecord> {
    let marker = supervisor::marker(Kind::Launch);
    let command = command(launch, &marker);
    // The launch's own jail: its run directory writable, a cgroup of its own (killed and
    // removed when the jail is dropped, at the end of this function).
    let jail = launch
        .jail
        .map(|j| j.for_launch(launch.cells.map(|(run_dir, _)| run_dir.path.as_path())))
        .transpose()?;
    let start = Start {
        kind: Kind::Launch,
        marker: &marker,
        capture: launch.capture.map(|cap| (cap, cap)),
        name: "mpiexec",
        cannot_start: format!("cannot start {}", launch.launcher.mpiexec.display()),
    };
    let mut job = Job::start(command, &start, |command| match &jail {
        Some(jail) => jail.confine(command),
        None => Ok(()),
    })?;
    let started = job.started();
    // The total the job may write (the watch kills the job when it is reached).
    let scratch = jail
        .as_ref()
        .and_then(|j| j.scratch_cap())
        .map(|cap| crate::sandbox::scratch::Watch::start(&cap, job.leader() as u32));
    let mut events = launch.cells.map(|(run_dir, _)| run_dir.events());
    let mut poll = Poll::new(job.leader(), started, launch.untimed, launch.hold);
    let (ending, status) = until_it_ends(launch, &mut job, &mut poll, events.as_mut(), watch)?;

    // Even after a clean exit: a rank may have left a forked process behind (outside a PID
    // namespace; inside one, it died with the launcher).
    let survivors = job.stop(GRACE, KILL_DEADLINE).err();
    cancel_srun_step(launch, &marker);
    if let Some(group) = jail.as_ref().and_then(|j| j.confinement.cgroup.as_ref()) {
        group.kill_all(KILL_DEADLINE);
    }
    let finished = job.finish(status, Duration::from_secs(1));
    let ending = scratch_ending(ending, scratch.as_ref());
    drop(scratch);
    if let Some(events) = events.as_mut() {
        events.refresh();
    }
    Ok(LaunchRecord {
        events,
        ending,
        status: finished.status,
        stdout: finished.stdout,
        stderr: finished.stderr,
        seconds: started.elapsed().as_secs_f64(),
        survivors,
        first_gone: poll.first_gone,
        self_exit: None,
        aborted: None,
    })
}

/// Polls the launch until it ends: the job exits, Ctrl-C, a held launch withdrawn, a cell or
/// the launch over its limit, or `watch` seeing a stall.
fn until_it_ends(
    launch: &Launch<'_>,
    job: &mut Job,
    poll: &mut Poll<'_>,
    mut events: Option<&mut Events>,
    watch: &mut dyn FnMut(Instant, &LaunchProcs, Instant) -> Option<Seen>,
) -> Result<(Ending, Option<ExitStatus>)> {
    loop {
        if let Some(status) = job.try_wait()? {
            return Ok((Ending::Exited, Some(status)));
        }
        if interrupt::requested() {
            return Ok((Ending::Interrupted, None));
        }
        let now = Instant::now();
        if let Some(ending) = poll.held(launch, now)? {
            return Ok((ending, None));
        }
        if poll.held.is_some() {
            // Nothing of a held launch is watched, and no limit counts, before the go.
            std::thread::sleep(POLL);
            continue;
        }
        if let (Some(events), Some((run_dir, cell_seconds))) = (events.as_deref_mut(), launch.cells)
        {
            if let Some(ending) = poll.cells(events, run_dir, cell_seconds, now) {
                return Ok((ending, None));
            }
        }
        if let Some(seen) = watch(now, &poll.procs, poll.from) {
            return Ok((Ending::from(seen), None));
        }
        if (now - poll.from).as_secs_f64() > launch.launch_seconds {
            let seconds = launch.launch_seconds;
            return Ok((Ending::LaunchTimeout { seconds }, None));
        }
        std::thread::sleep(POLL);
    }
}

/// Lets the ranks of a held launch into their cells: creates the file they wait for.
fn let_in(launch: &Launch<'_>) -> Result<()> {
    if let Some((run_dir, _)) = launch.cells {
        let go = run::go_path(&run_dir.path);
        std::fs::File::create(&go).map_err(|e| {
            crate::error::Error::Other(format!("cannot create {}: {e}", go.display()))
        })?;
    }
    Ok(())
}

/// srun may have been killed before its step ended: the step's tasks belong to slurmstepd,
/// not to the job just stopped. Cancels it, and says so loudly if Slurm still lists it.
fn cancel_srun_step(launch: &Launch<'_>, marker: &str) {
    if launch.launcher.runner != crate::mpi::Runner::Srun {
        return;
    }
    let left = crate::run::slurm::cancel_steps(marker, KILL_DEADLINE);
    if !left.is_empty() {
        eprintln!(
            "error: Slurm still lists {} of this launch after cancelling it",
            left.join(", ")
        );
    }
}

/// The ending once the scratch watch has had its say: a job that filled its scratch ended
/// `ScratchFull` whatever else was seen, unless the grade was interrupted.
fn scratch_ending(ending: Ending, scratch: Option<&crate::sandbox::scratch::Watch>) -> Ending {
    match scratch.filter(|w| w.tripped()) {
        Some(watch) if ending != Ending::Interrupted => Ending::ScratchFull {
            limit_mb: watch.limit_mb(),
        },
        _ => ending,
    }
}

/// The launcher's command for `launch`: the ranks get the run directory (graded launches) and
/// the launch's marker besides the launch's own environment.
fn command(launch: &Launch<'_>, marker: &str) -> std::process::Command {
    let mut env = launch.env.clone();
    if let Some((run_dir, _)) = launch.cells {
        env.push((run::ENV_RUN_DIR.into(), run_dir.path.display().to_string()));
    }
    env.push((procs::LAUNCH_MARKER_VAR.into(), marker.to_string()));
    let spec = LaunchSpec {
        ranks: launch.ranks,
        program: launch.program,
        args: launch.args,
        env,
        preload: launch.preload,
    };
    launch.launcher.command(&spec)
}

/// What a graded launch's poll keeps between polls: where the ranks are, which went first,
/// which cell runs since when.
struct Poll<'a> {
    /// The launch's processes, as its ranks name them.
    procs: LaunchProcs,
    /// Ranks report the pids they have in their own PID namespace: theirs here, once seen.
    host_pids: HashMap<u32, Option<i32>>,
    first_gone: Option<u32>,
    cells: CellWatch,
    /// Until every rank is past the cells before the first, what to call then.
    untimed: Option<(u32, &'a (dyn Fn() + Send + Sync))>,
    /// The hold of a launch started ahead, until it says go.
    held: Option<&'a Hold>,
    /// When the launch's limits start: its start, or its go.
    from: Instant,
}

impl<'a> Poll<'a> {
    fn new(
        leader: i32,
        started: Instant,
        untimed: Option<(u32, &'a (dyn Fn() + Send + Sync))>,
        held: Option<&'a Hold>,
    ) -> Poll<'a> {
        Poll {
            procs: LaunchProcs::of(leader),
            host_pids: HashMap::new(),
            first_gone: None,
            cells: CellWatch::new(started),
            untimed,
            held,
            from: started,
        }
    }

    /// A held launch's hold: on go, lets the ranks in and starts the limits; withdrawn, ends
    /// the launch.
    fn held(&mut self, launch: &Launch<'_>, now: Instant) -> Result<Option<Ending>> {
        let Some(hold) = self.held else {
            return Ok(None);
        };
        match hold.state() {
            Held::Waiting => {}
            Held::Go => {
                let_in(launch)?;
                (self.held, self.from, self.cells) = (None, now, CellWatch::new(now));
            }
            Held::Withdrawn => return Ok(Some(Ending::Interrupted)),
        }
        Ok(None)
    }

    /// Reads the ranks' new events, notes the first rank seen gone, says when every rank is
    /// past the timed cells, and ends the launch when the running cell is past its time limit.
    fn cells(
        &mut self,
        events: &mut Events,
        run_dir: &RunDir,
        cell_seconds: f64,
        now: Instant,
    ) -> Option<Ending> {
        events.refresh();
        if self.first_gone.is_none() {
            self.first_gone = self.gone(events);
        }
        if let Some((from, signal)) = self.untimed {
            if (0..from).all(|c| events.all_done(c)) {
                signal();
                self.untimed = None;
            }
        }
        let (cell, running) = self
            .cells
            .update(events, run_dir.plan.cells.len() as u32, now)?;
        (running.as_secs_f64() > cell_seconds).then_some(Ending::CellTimeout {
            cell,
            seconds: cell_seconds,
        })
    }

    /// The lowest rank whose process is known here and no longer alive.
    fn gone(&mut self, events: &Events) -> Option<u32> {
        let pids = events.pids();
        if pids
            .iter()
            .any(|(rank, _)| !self.host_pids.contains_key(rank))
        {
            // A rank not found yet is looked for again at the next poll, not taken for gone.
            let map = self.procs.pids();
            for &(rank, pid) in &pids {
                if let Some(&host) = map.get(&(pid as i32)) {
                    self.host_pids.entry(rank).or_insert(Some(host));
                }
            }
        }
        pids.into_iter()
            .filter(|(rank, _)| {
                self.host_pids
                    .get(rank)
                    .copied()
                    .flatten()
                    .is_some_and(|pid| !procs::is_alive(pid))
            })
            .map(|(rank, _)| rank)
            .min()
    }
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
