//! One launch of a plan's cells, as the matrix sees it: the seam ([`Launches`]) the matrix runs
//! every launch through, and its real implementation ([`MpiLaunches`]), which runs the plan
//! under `mpiexec` and gathers everything the launch and its run directory yield into one
//! [`Evidence`] for the judge.

use crate::build::compile::Driver;
use crate::config::Limits;
use crate::error::Result;
use crate::judge::cell::Evidence;
use crate::judge::outcome::{Outcome, Panic};
use crate::judge::verify;
use crate::mpi::Launcher;
use crate::run::launch::{self, Ending, Launch, LaunchRecord};
use crate::run::rundir::{Events, RunDir};
use crate::run::schedule::Hold;
use crate::trace::LaunchTrace;
use mpi_grade_protocol::payload::Key;
use mpi_grade_protocol::run::{Plan, PlannedCell, RankEvent};
use std::path::Path;
use std::time::Duration;

/// What the matrix asks one launch to run.
#[derive(Debug, Clone)]
pub struct LaunchPlan {
    /// The launch's number among the matrix's launches.
    pub index: u32,
    /// The cells to run, and at how many ranks.
    pub plan: Plan,
    /// The ranks' secret payload keys, one per rank.
    pub keys: Vec<Key>,
    /// Stop the launch once ranks others wait on stay outside MPI this long, short of the
    /// hang limit (a launch that has the machine alone; see `Ending::Released`).
    pub release_after: Option<Duration>,
    /// Where the launch stops timing, for a launch that has the machine alone.
    pub untimed: Option<Untimed>,
    /// Started ahead of its turn: its ranks start up, then wait to be let in (or withdrawn).
    pub hold: Option<std::sync::Arc<Hold>>,
}

/// The cells of a launch from `from` on time nothing: once every rank is past the cells
/// before it, `signal` is called, once, and launches that need no clock may start beside
/// this one (see `Matrix::run_with`).
#[derive(Clone)]
pub struct Untimed {
    /// The first cell of the untimed rest.
    pub from: u32,
    /// Says that the launch got there.
    pub signal: std::sync::Arc<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for Untimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Untimed {{ from: {} }}", self.from)
    }
}

/// Runs launches for the matrix: `mpiexec` in a grade ([`MpiLaunches`]), a script in tests.
/// Launches may be asked for from several threads at once (see `Matrix::run_with`).
pub trait Launches {
    /// Runs `request`'s plan in one launch and returns what it yielded.
    fn launch(&self, request: LaunchPlan) -> Result<Evidence>;
}

/// Launches under `mpiexec`: a run directory per launch, the tracer when there is one, the
/// launch's jail.
pub struct MpiLaunches<'a> {
    /// The MPI implementation's launcher.
    pub launcher: &'a Launcher,
    /// The driver the ranks run.
    pub driver: &'a Driver,
    /// The tracer library; without it, stalls are only seen as time-outs.
    pub tracer: Option<&'a Path>,
    /// The student's crate (for source lines in diagnoses).
    pub submission: &'a Path,
    /// Where the launches' run directories go.
    pub scratch: &'a Path,
    /// The time and output limits.
    pub limits: &'a Limits,
    /// Where the ranks run confined (`None`: not sandboxed).
    pub jail: Option<&'a crate::sandbox::Jail>,
    /// Keep the ranks' results files; otherwise each is deleted once checked.
    pub keep_runs: bool,
}

impl Launches for MpiLaunches<'_> {
    fn launch(&self, request: LaunchPlan) -> Result<Evidence> {
        let ranks = request.plan.ranks;
        // A launch started ahead may be withdrawn, and the same launch run anew.
        let held = if request.hold.is_some() { "-ahead" } else { "" };
        let dir = (self.scratch).join(format!("launch-{}{held}", request.index));
        let mut plan = request.plan;
        plan.held = request.hold.is_some();
        let run_dir = RunDir::create(&dir, plan, request.keys)?;
        let trace = match self.tracer {
            Some(_) => Some(
                LaunchTrace::create(
                    &run_dir.path,
                    ranks,
                    Some(self.submission),
                    self.driver.lang,
                )?
                .only(&self.driver.exe),
            ),
            None => None,
        };
        if let Some(jail) = self.jail {
            jail.give_run_files(&run_dir.path)?;
        }
        let (record, ahead) = std::thread::scope(|scope| {
            // The timed cells are verified while the ranks run the untimed rest (below).
            let ahead = std::sync::Mutex::new(None);
            let signal = request.untimed.as_ref().map(|u| {
                let (ahead, run_dir) = (&ahead, &run_dir);
                move || {
                    (u.signal)();
                    let check = scope.spawn(move || verify_ahead(run_dir, u.from));
                    *crate::run::schedule::lock(ahead) = Some(check);
                }
            });
            let untimed = (request.untimed.as_ref())
                .zip(signal.as_ref())
                .map(|(u, signal)| (u.from, signal as &(dyn Fn() + Send + Sync)));
            let record = self.run(
                &run_dir,
                trace.as_ref(),
                ranks,
                untimed,
                request.hold.as_deref(),
                request.release_after,
            );
            let check = crate::run::schedule::lock(&ahead).take();
            // A verifier that panicked leaves its cells to `gather`.
            let ahead = check.and_then(|c| c.join().ok());
            record.map(|record| (record, ahead))
        })?;
        let mut record = record;
        record.self_exit = trace.as_ref().and_then(LaunchTrace::self_exit);
        record.aborted = trace.as_ref().and_then(LaunchTrace::aborted);
        let mut evidence = gather(&run_dir, &record, self.launcher, ahead);
        if let Some(trace) = &trace {
            after_the_fact(&mut evidence, trace);
        }
        if !evidence.started && evidence.ending != Ending::Interrupted {
            // The job did not start: the run directory stays as it is, for the error.
            return Ok(evidence);
        }
        if !self.keep_runs {
            run_dir.remove_keys();
            run_dir.remove_results();
        }
        if let Some(trace) = &trace {
            // What the cells that ran called: the completed ones and the one the launch
            // ended in.
            let ran = (evidence.completed.len() + 1).min(run_dir.plan.cells.len());
            evidence.usage = (0..ran as u32).map(|c| (c, trace.usage(c))).collect();
        }
        Ok(evidence)
    }
}

impl MpiLaunches<'_> {
    /// Runs the plan of `run_dir` in one launch of `ranks` ranks, watched by `trace` when there
    /// is one (see [`LaunchPlan`] for `untimed` and `release_after`).
    fn run(
        &self,
        run_dir: &RunDir,
        trace: Option<&LaunchTrace>,
        ranks: u32,
        untimed: Option<(u32, &(dyn Fn() + Send + Sync))>,
        hold: Option<&Hold>,
        release_after: Option<Duration>,
    ) -> Result<LaunchRecord> {
        let launch = Launch {
            jail: self.jail,
            launcher: self.launcher,
            program: &self.driver.exe,
            args: &self.driver.args,
            ranks,
            env: rank_env(trace),
            preload: self.tracer,
            capture: Some(self.limits.output_bytes),
            launch_seconds: self.limits.launch_seconds,
            cells: Some((run_dir, self.limits.cell_seconds)),
            untimed,
            hold,
        };
        let hang_after = Duration::from_secs_f64(self.limits.hang_seconds);
        match trace {
            Some(trace) => {
                let srun = self.launcher.runner == crate::mpi::Runner::Srun;
                launch::run(&launch, &mut trace.watcher(hang_after, release_after, srun))
            }
            None => launch::run(&launch, &mut |_, _, _| None),
        }
    }
}

/// The timed cells' verdicts, reached while the ranks ran the untimed rest, with the events
/// they were read from.
struct ReadAhead {
    verdicts: Vec<Verdict>,
    events: Events,
}

type Verdict = (Outcome, Option<verify::Timing>);

/// The verdicts of the cells before `from` (the timed ones) that every rank completed, read
/// while the ranks run the untimed rest: recomputing every element is most of the grader's
/// own time, and done here it overlaps the rest instead of following the launch, without
/// taking a core from a timed cell. The events are read anew, from the files.
fn verify_ahead(run_dir: &RunDir, from: u32) -> ReadAhead {
    let mut events = run_dir.events();
    events.refresh();
    let done: Vec<&PlannedCell> = (run_dir.plan.cells.iter())
        .take(from as usize)
        .take_while(|cell| events.all_done(cell.index))
        .collect();
    let verdicts = verify::verify_all(&done, run_dir, &events);
    ReadAhead { verdicts, events }
}

impl ReadAhead {
    /// The verdicts that still stand once the launch is over and `events` read to their end:
    /// those of the first cells that `events` shows every rank completed, none of whose ranks'
    /// logs is distrusted from them or before, and whose `done` events are the ones read
    /// ahead (a rank can rewrite its own event file, and the two reads must not disagree).
    fn standing(mut self, events: &Events, done: usize) -> Vec<Verdict> {
        let distrusted = (events.ranks.iter())
            .filter_map(|log| log.tampered.as_ref().map(|(from, _)| *from as usize))
            .min()
            .unwrap_or(usize::MAX);
        let same = |cell: u32| {
            (self.events.ranks.iter())
                .zip(&events.ranks)
                .all(|(ahead, now)| ahead.done(cell) == now.done(cell))
        };
        let standing = (0..self.verdicts.len().min(done).min(distrusted))
            .take_while(|&cell| same(cell as u32))
            .count();
        self.verdicts.truncate(standing);
        self.verdicts
    }
}

/// A collective mismatch the records show after the launch, in a cell that completed or in
/// the one the launch ended in, is that cell's failure (the watcher stops a launch at one it
/// sees; a quick program may complete or abort in between).
fn after_the_fact(evidence: &mut Evidence, trace: &LaunchTrace) {
    if matches!(evidence.ending, Ending::Stalled(_) | Ending::Interrupted) {
        return;
    }
    let Some((Some(cell), diagnosis)) = trace.mismatch(evidence.completed.len() as u32) else {
        return;
    };
    let cell = cell as usize;
    if cell > evidence.completed.len() {
        return;
    }
    evidence.completed.truncate(cell);
    evidence.panic = None;
    evidence.ending = Ending::Stalled(Box::new(crate::trace::detect::Finding { diagnosis }));
}

/// Everything `record` and `run_dir` say about the launch: the cells every rank completed
/// (verified, in plan order, up to the first that was not), the ranks' panics and pids, what
/// the launcher printed, how it ended.
fn gather(
    run_dir: &RunDir,
    record: &LaunchRecord,
    launcher: &Launcher,
    ahead: Option<ReadAhead>,
) -> Evidence {
    let events = record.events.as_ref().expect("a graded launch has events");
    let done: Vec<&PlannedCell> = run_dir
        .plan
        .cells
        .iter()
        .take_while(|cell| events.all_done(cell.index))
        .collect();
    let mut completed = ahead.map_or_else(Vec::new, |a| a.standing(events, done.len()));
    completed.extend(verify::verify_all(
        &done[completed.len()..],
        run_dir,
        events,
    ));
    let panic = match events.first_panic() {
        Some((
            rank,
            RankEvent::Panic {
                message, location, ..
            },
        )) => Some(Panic {
            rank,
            message: message.clone(),
            location: location.clone(),
        }),
        _ => None,
    };
    Evidence {
        completed,
        panic,
        ending: record.ending.clone(),
        launcher_said: launcher
            .parse_report(&record.stderr.text)
            .or_else(|| launcher.parse_report(&record.stdout.text)),
        aborted: record.aborted,
        self_exit: record.self_exit,
        first_gone: record.first_gone,
        status: record.status,
        rank_pids: events.pids(),
        output: record.job_output(),
        started: events.ranks.iter().any(|r| r.ready()),
        tail: record.last_lines(),
        library: events.library().map(str::to_string),
        survivors: record.survivors.as_ref().map(ToString::to_string),
        seconds: record.seconds,
        usage: Default::default(),
    }
}

/// The environment a graded launch adds for its ranks.
fn rank_env(trace: Option<&LaunchTrace>) -> Vec<(String, String)> {
    let mut env = trace.map(|t| t.rank_env(false, false)).unwrap_or_default();
    // The runtime makes each rank non-dumpable, so that no other process of the sandbox user
    // reads its memory. The libraries' intra-node single copy (CMA) reads the peer's memory with
    // process_vm_readv, which that forbids: Open MPI's vader then fails every large message
    // ("Read -1, expected 80000, errno = 1"), UCX (MPICH's) aborts. Their other shared-memory
    // paths copy through shared segments instead.
    for (var, value) in [
        ("UCX_TLS", "^cma"),
        ("OMPI_MCA_btl_vader_single_copy_mechanism", "none"),
    ] {
        if std::env::var_os(var).is_none() {
            env.push((var.to_string(), value.to_string()));
        }
    }
    env
}

/// A scripted stand-in for `mpiexec`, for tests of the matrix and the judge without MPI.
#[cfg(test)]
pub mod scripted {
    use super::{LaunchPlan, Launches};
    use crate::error::Result;
    use crate::judge::cell::Evidence;
    use crate::judge::outcome::Outcome;
    use crate::run::launch::Ending;
    use mpi_grade_protocol::run::{Plan, PlannedCell};
    use std::collections::VecDeque;
    use std::sync::Mutex;

    /// One scripted launch: the evidence it yields for the launch it is asked for.
    pub type Step = Box<dyn FnOnce(&LaunchPlan) -> Evidence + Send>;

    /// The launches after the script's steps, each given what it is asked for: run outside
    /// the script's lock, so that launches asked for side by side run side by side.
    pub type Then = Box<dyn Fn(&LaunchPlan) -> Evidence + Send + Sync>;

    /// Launches that return scripted evidence, one step per launch, and record the plans.
    #[derive(Default)]
    pub struct Scripted {
        script: Mutex<Script>,
        withdrawn: std::sync::atomic::AtomicUsize,
    }

    #[derive(Default)]
    struct Script {
        steps: VecDeque<Step>,
        then: Option<std::sync::Arc<Then>>,
        requests: Vec<LaunchPlan>,
    }

    impl Scripted {
        /// Launches that yield `steps`' evidence in turn, then `then`'s for every further one.
        pub fn new(steps: Vec<Step>, then: Option<Then>) -> Scripted {
            Scripted {
                script: Mutex::new(Script {
                    steps: steps.into(),
                    then: then.map(std::sync::Arc::new),
                    requests: Vec::new(),
                }),
                withdrawn: Default::default(),
            }
        }

        /// How many launches started ahead were withdrawn before they were let in.
        pub fn withdrawn(&self) -> usize {
            self.withdrawn.load(std::sync::atomic::Ordering::SeqCst)
        }

        /// The plan of every launch, in the order they were asked for.
        pub fn plans(&self) -> Vec<Plan> {
            self.requests().into_iter().map(|r| r.plan).collect()
        }

        /// Every launch asked for, in order.
        pub fn requests(&self) -> Vec<LaunchPlan> {
            self.script.lock().unwrap().requests.clone()
        }
    }

    impl Launches for Scripted {
        fn launch(&self, request: LaunchPlan) -> Result<Evidence> {
            assert_eq!(request.keys.len(), request.plan.ranks as usize);
            // A launch started ahead of its turn runs (and is counted) once let in.
            if let Some(hold) = &request.hold {
                if !hold.wait() {
                    self.withdrawn
                        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    return Ok(evidence(0, Ending::Interrupted));
                }
            }
            let (step, then) = {
                let mut script = self.script.lock().unwrap();
                script.requests.push(request.clone());
                (script.steps.pop_front(), script.then.clone())
            };
            Ok(match step {
                Some(step) => step(&request),
                None => then.expect("a launch the script did not expect")(&request),
            })
        }
    }

    /// A launch whose first `completed` cells passed, ended as `ending`, with nothing else said.
    pub fn evidence(completed: usize, ending: Ending) -> Evidence {
        Evidence {
            completed: vec![(Outcome::Pass, None); completed],
            panic: None,
            ending,
            launcher_said: None,
            aborted: None,
            self_exit: None,
            first_gone: None,
            status: None,
            rank_pids: Vec::new(),
            output: None,
            started: true,
            tail: String::new(),
            library: None,
            survivors: None,
            seconds: 0.25,
            usage: Default::default(),
        }
    }

    /// How many cells of `plan` come before the first that `stop` picks (all of them if none).
    pub fn before(plan: &Plan, stop: impl Fn(&PlannedCell) -> bool) -> usize {
        plan.cells.iter().position(stop).unwrap_or(plan.cells.len())
    }

    /// A launch that passes every cell of its plan and exits.
    pub fn all_pass() -> Then {
        Box::new(|launch: &LaunchPlan| evidence(launch.plan.cells.len(), Ending::Exited))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpi_grade_protocol::payload;
    use mpi_grade_protocol::run::{self, Mode};
    use std::io::Write;

    /// A run directory of two ranks and two cells; every rank ready.
    fn run_dir(dir: &Path) -> RunDir {
        let cell = |index| PlannedCell {
            index,
            function: "part2".into(),
            scaling_factor: 1,
            mode: Mode::Standard,
            repetitions: 1,
            ..PlannedCell::default()
        };
        let plan = Plan {
            format_version: run::FORMAT_VERSION,
            kind: "alltoall".into(),
            ranks: 2,
            run_id: 7,
            cells: vec![cell(0), cell(1)],
            held: false,
        };
        let keys = (0..2).map(|r| payload::rank_key(1, 0, r)).collect();
        let run_dir = RunDir::create(dir, plan, keys).unwrap();
        for rank in 0..2 {
            let ready = RankEvent::Ready {
                rank,
                size: 2,
                pid: 1,
                library: String::new(),
                run_id: 7,
            };
            append(dir, rank, &[ready]);
        }
        run_dir
    }

    fn append(dir: &Path, rank: u32, events: &[RankEvent]) {
        let path = run::rank_events_path(dir, rank);
        let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        for event in events {
            writeln!(file, "{}", event.to_line()).unwrap();
        }
    }

    fn cell(cell: u32, seconds: f64) -> [RankEvent; 2] {
        let done = RankEvent::Done {
            cell,
            seconds,
            times: vec![seconds],
            results: Vec::new(),
        };
        [RankEvent::Start { cell }, done]
    }

    /// What was read ahead of `run_dir`'s events as they are now, with a verdict per cell.
    fn ahead(run_dir: &RunDir) -> ReadAhead {
        let mut events = run_dir.events();
        events.refresh();
        let verdicts = vec![(Outcome::Pass, None); 2];
        ReadAhead { verdicts, events }
    }

    fn read(run_dir: &RunDir) -> Events {
        let mut events = run_dir.events();
        events.refresh();
        events
    }

    #[test]
    fn verdicts_read_ahead_stand_only_for_the_events_read_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let run_dir = run_dir(dir.path());
        for rank in 0..2 {
            append(dir.path(), rank, &[cell(0, 0.5), cell(1, 0.5)].concat());
        }
        // The same events: every verdict stands, as far as the cells every rank completed.
        let early = ahead(&run_dir);
        assert_eq!(early.standing(&read(&run_dir), 2).len(), 2);
        assert_eq!(ahead(&run_dir).standing(&read(&run_dir), 1).len(), 1);

        // A `done` written again after the read ahead distrusts the rank from that cell.
        let early = ahead(&run_dir);
        append(dir.path(), 1, &cell(1, 0.1)[1..]);
        let now = read(&run_dir);
        assert!(now.ranks[1].tampered.is_some());
        assert_eq!(early.standing(&now, 2).len(), 1);
    }

    #[test]
    fn verdicts_read_ahead_of_a_rewritten_event_file_do_not_stand() {
        let dir = tempfile::tempdir().unwrap();
        let run_dir = run_dir(dir.path());
        append(dir.path(), 0, &[cell(0, 0.5), cell(1, 0.5)].concat());
        append(dir.path(), 1, &[cell(0, 0.5), cell(1, 0.5)].concat());
        let now = read(&run_dir);
        // Rank 1 rewrites its file, as long as before, with other times in cell 0: the read
        // ahead sees them, the grader's own reader had read the first ones.
        let path = run::rank_events_path(dir.path(), 1);
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("0.5", "0.4");
        std::fs::write(&path, text).unwrap();
        assert_eq!(ahead(&run_dir).standing(&now, 2).len(), 0);
    }
}
