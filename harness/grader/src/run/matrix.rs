//! Which cells run in which launch.
//!
//! `mpiexec` start-up dominates a grade (0.1 to 0.25 s per launch here, against microseconds to
//! milliseconds per cell), so each rank count gets one launch that runs every cell in the same
//! processes. Parts expected to complete go first, parts expected to deadlock last, sizes in
//! ascending order: a deadlock ends the launch, and the cells before it are already recorded.
//! When a launch ends early, a new one runs the cells it cut short, until every cell has an
//! outcome. Every launch settles at least one cell, so this ends.
//!
//! Each launch goes through [`Launches`]: `mpiexec` in a grade, a script in the tests below,
//! which drive the cell ladder and the re-queue without MPI.
//!
//! With zero-buffer mode on, each part also gets one cell per rank count at the smallest size
//! in which every standard send is synchronous, after its ordinary cells.

use crate::build::compile::Driver;
use crate::config::{Challenge, Expect, Kind, Limits, Part};
use crate::error::Result;
use crate::judge::cell::{self, CellResult};
use crate::judge::contract;
use crate::judge::outcome::{Cell, NotRun, Outcome};
use crate::mpi::Launcher;
use crate::run::cells::{LaunchPlan, Launches, MpiLaunches};
use crate::run::launch::Ending;
use crate::trace::usage::{cell_problem, Usage};
use mpi_grade_protocol::payload;
use mpi_grade_protocol::run::{self, Mode, Plan, PlannedCell};
use mpi_grade_protocol::trace::MAX_CELLS;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// What happened to a cell: its result, and what it called when it was traced.
#[derive(Debug, Clone)]
pub struct CellRecord {
    /// The cell's result.
    pub result: CellResult,
    /// What the cell called, per call (traced cells that ran).
    pub usage: Option<Usage>,
}

/// The outcome of every cell, with the run's details.
pub type Results = BTreeMap<Cell, CellRecord>;

/// The cells of one rank count, in launch order.
pub fn cells_for(challenge: &Challenge, parts: &[&Part], ranks: u32) -> Vec<Cell> {
    let mut ordered: Vec<&Part> = parts.to_vec();
    // Stable: parts keep their configured order within each group.
    ordered.sort_by_key(|p| p.expect == Expect::Deadlock);
    let zero_buffer = challenge
        .zero_buffer
        .then_some((challenge.scaling_factors[0], Mode::ZeroBuffer));
    ordered
        .iter()
        .flat_map(|part| {
            let standard = challenge
                .scaling_factors
                .iter()
                .map(|&sf| (sf, Mode::Standard));
            standard.chain(zero_buffer).map(move |(sf, mode)| Cell {
                part: part.name.clone(),
                function: part.function.clone(),
                ranks,
                scaling_factor: sf,
                mode,
            })
        })
        .collect()
}

/// How many times a cell calls its function: parts expected to complete are timed over
/// several calls in standard mode; a deadlock ends the first call anyway.
pub fn repetitions(challenge: &Challenge, parts: &[&Part], cell: &Cell) -> u32 {
    let completes = parts
        .iter()
        .any(|p| p.name == cell.part && p.expect == Expect::Complete);
    if completes && cell.mode == Mode::Standard {
        challenge.repetitions
    } else {
        1
    }
}

/// The plan of the launch numbered `launch` of the grade with seed `seed`. The payload keys
/// of its ranks are [`launch_keys`]: they are not in the plan, which every rank can read.
pub fn plan(
    challenge: &Challenge,
    seed: u64,
    launch: u32,
    ranks: u32,
    batch: &[Cell],
    parts: &[&Part],
) -> Plan {
    Plan {
        format_version: run::FORMAT_VERSION,
        kind: challenge.kind.as_str().to_string(),
        ranks,
        run_id: payload::run_id(seed, u64::from(launch)),
        cells: batch
            .iter()
            .enumerate()
            .map(|(index, cell)| {
                let kind = part_kind(challenge, parts, cell);
                let mut planned = PlannedCell {
                    index: index as u32,
                    function: cell.function.clone(),
                    scaling_factor: cell.scaling_factor,
                    mode: cell.mode,
                    repetitions: repetitions(challenge, parts, cell),
                    kind: String::new(),
                    inputs: Vec::new(),
                    shift: contract::shift(kind),
                    outputs: Vec::new(),
                };
                // The alltoall's plan stays as it always was: the runtimes' default.
                if kind != Kind::Alltoall {
                    planned.kind = kind.as_str().to_string();
                    planned.inputs = (0..ranks)
                        .map(|r| contract::inputs(kind, r, ranks))
                        .collect();
                    planned.outputs = (0..ranks)
                        .map(|r| contract::outputs(kind, r, ranks).len() as u32)
                        .collect();
                }
                planned
            })
            .collect(),
    }
}

/// The contract of a cell's part (the challenge's kind for a part that is not the challenge's,
/// a baseline's).
pub fn part_kind(challenge: &Challenge, parts: &[&Part], cell: &Cell) -> Kind {
    parts
        .iter()
        .find(|p| p.name == cell.part)
        .map_or(challenge.kind, |p| p.kind)
}

/// The secret key of every rank of the launch numbered `launch`.
pub fn launch_keys(seed: u64, launch: u32, ranks: u32) -> Vec<payload::Key> {
    (0..ranks)
        .map(|rank| payload::rank_key(seed, u64::from(launch), rank))
        .collect()
}

/// Everything a matrix run needs besides the cells.
pub struct Matrix<'a> {
    /// The challenge graded.
    pub challenge: &'a Challenge,
    /// The parts to run.
    pub parts: Vec<&'a Part>,
    /// The MPI implementation's launcher.
    pub launcher: &'a Launcher,
    /// The driver the ranks run (its program, arguments and language).
    pub driver: &'a Driver,
    /// The tracer library; without it, stalls are only seen as time-outs.
    pub tracer: Option<&'a Path>,
    /// The student's crate (for source lines in diagnoses).
    pub submission: &'a Path,
    /// The grade's seed (run ids and payload keys).
    pub seed: u64,
    /// Where the launches' run directories go.
    pub scratch: PathBuf,
    /// The time and output limits.
    pub limits: &'a Limits,
    /// Called after each launch with the rank count and the number of cells settled.
    pub progress: &'a dyn Fn(u32, usize, usize, f64),
    /// Where the ranks run confined (`None`: not sandboxed).
    pub jail: Option<&'a crate::sandbox::Jail>,
    /// Keep the ranks' results files (`--keep-runs`); otherwise each is deleted once checked.
    pub keep_runs: bool,
}

/// What running the matrix produced.
pub struct MatrixRun {
    /// Every cell's outcome.
    pub results: Results,
    /// How many launches ran.
    pub launches: u32,
    /// `MPI_Get_library_version` as reported by a rank.
    pub library: Option<String>,
    /// Processes that could not be stopped.
    pub warnings: Vec<String>,
}

/// What one launch settled.
pub struct Batch {
    /// Every cell of the batch that got an outcome.
    pub settled: Vec<(Cell, CellRecord)>,
    /// Cells to run again in a new launch.
    pub requeue: Vec<Cell>,
    /// `MPI_Get_library_version` as a rank reported it.
    pub library: Option<String>,
    /// Processes that could not be stopped.
    pub survivors: Option<String>,
    /// Wall time of the launch.
    pub seconds: f64,
}

impl Matrix<'_> {
    /// The real launches of this matrix: under `mpiexec`.
    fn mpi(&self) -> MpiLaunches<'_> {
        MpiLaunches {
            launcher: self.launcher,
            driver: self.driver,
            tracer: self.tracer,
            submission: self.submission,
            scratch: &self.scratch,
            limits: self.limits,
            jail: self.jail,
            keep_runs: self.keep_runs,
        }
    }

    /// Runs every cell of every rank count under `mpiexec`.
    pub fn run(&self) -> Result<MatrixRun> {
        self.run_with(&mut self.mpi())
    }

    /// Runs every cell of every rank count through `launches`: each rank count's queue of
    /// cells, launch after launch, until every cell has an outcome.
    pub fn run_with(&self, launches: &mut dyn Launches) -> Result<MatrixRun> {
        let mut run = MatrixRun {
            results: Results::new(),
            launches: 0,
            library: None,
            warnings: Vec::new(),
        };
        let mut not_implemented: HashSet<String> = HashSet::new();
        for &ranks in &self.challenge.ranks {
            let mut queue = cells_for(self.challenge, &self.parts, ranks);
            while !queue.is_empty() {
                // A `todo!()` is the same at every rank count: do not launch it again.
                let (skip, keep): (Vec<Cell>, Vec<Cell>) = queue
                    .into_iter()
                    .partition(|c| not_implemented.contains(&c.part));
                for cell in skip {
                    run.results
                        .insert(cell, skipped(NotRun::PartNotImplemented));
                }
                queue = keep;
                if queue.is_empty() {
                    break;
                }
                if crate::run::interrupt::requested() {
                    for cell in queue.drain(..) {
                        run.results.insert(cell, skipped(NotRun::Interrupted));
                    }
                    break;
                }
                let rest = queue.split_off(queue.len().min(MAX_CELLS));
                let batch = self.launch_with(launches, ranks, &queue, run.launches)?;
                run.launches += 1;
                run.library = run.library.or(batch.library);
                run.warnings.extend(
                    batch
                        .survivors
                        .map(|s| format!("processes of a launch could not be stopped: {s}")),
                );
                (self.progress)(ranks, batch.settled.len(), queue.len(), batch.seconds);
                for (cell, record) in batch.settled {
                    if matches!(record.result.outcome, Outcome::NotImplemented(_)) {
                        not_implemented.insert(cell.part.clone());
                    }
                    run.results.insert(cell, record);
                }
                queue = batch.requeue.into_iter().chain(rest).collect();
            }
        }
        Ok(run)
    }

    /// Runs `cells` (at most `MAX_CELLS`, all at `ranks` ranks) in one launch under `mpiexec`,
    /// numbered `index` among this matrix's launches.
    pub fn launch(&self, ranks: u32, cells: &[Cell], index: u32) -> Result<Batch> {
        self.launch_with(&mut self.mpi(), ranks, cells, index)
    }

    /// Runs `cells` in one launch through `launches` and judges what it yielded.
    pub fn launch_with(
        &self,
        launches: &mut dyn Launches,
        ranks: u32,
        cells: &[Cell],
        index: u32,
    ) -> Result<Batch> {
        let plan = plan(self.challenge, self.seed, index, ranks, cells, &self.parts);
        let planned = plan.cells.clone();
        let keys = launch_keys(self.seed, index, ranks);
        let mut evidence = launches.launch(LaunchPlan { index, plan, keys })?;
        if !evidence.started
            && !matches!(
                evidence.ending,
                Ending::Interrupted | Ending::ScratchFull { .. }
            )
        {
            return Err(crate::error::Error::Other(format!(
                "mpiexec could not start the job ({ranks} ranks): {}",
                evidence.tail
            )));
        }
        let expects_deadlock = |function: &str| {
            self.parts
                .iter()
                .any(|p| p.function == function && p.expect == Expect::Deadlock)
        };
        let classified = cell::classify(&planned, &evidence, &expects_deadlock);
        let settled = classified
            .results
            .into_iter()
            .map(|result| {
                let cell = &cells[result.index as usize];
                let usage = evidence.usage.remove(&result.index);
                let kind = part_kind(self.challenge, &self.parts, cell);
                (cell.clone(), with_usage(result, usage, ranks, cell, kind))
            })
            .collect();
        Ok(Batch {
            settled,
            requeue: classified
                .requeue
                .iter()
                .map(|&i| cells[i as usize].clone())
                .collect(),
            library: evidence.library,
            survivors: evidence.survivors,
            seconds: evidence.seconds,
        })
    }
}

/// A cell's record: its result with what it called (traced cells that ran). A passing cell's
/// right blocks are not enough: they must have come through MPI calls the tracer saw, between
/// the runtime's marks only.
fn with_usage(
    mut result: CellResult,
    usage: Option<Usage>,
    ranks: u32,
    cell: &Cell,
    kind: Kind,
) -> CellRecord {
    // Counts cover every repetition: report them per call.
    let calls = result.timing.map_or(1, |t| t.repetitions);
    let usage = match usage {
        Some(usage) if !matches!(result.outcome, Outcome::NotRun(_)) => {
            if result.outcome == Outcome::Pass {
                let needed: Vec<u64> = (0..ranks)
                    .map(|r| contract::min_sent(kind, r, ranks, cell.scaling_factor))
                    .collect();
                if let Some((rank, problem)) =
                    cell_problem(&usage, &needed, cell.scaling_factor, calls)
                {
                    result.outcome =
                        Outcome::WrongResult(crate::judge::outcome::WrongResult { rank, problem });
                }
            }
            Some(usage.per_call(calls))
        }
        _ => None,
    };
    CellRecord { result, usage }
}

fn skipped(why: NotRun) -> CellRecord {
    CellRecord {
        result: CellResult {
            index: 0,
            outcome: Outcome::NotRun(why),
            timing: None,
            output: None,
        },
        usage: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn parts_expected_to_deadlock_go_last_with_sizes_ascending() {
        let config = Config::bundled();
        let challenge = config.challenge(None).unwrap();
        let parts: Vec<&Part> = challenge.parts.iter().collect();
        let cells = cells_for(challenge, &parts, 3);
        let order: Vec<(&str, u64, Mode)> = cells
            .iter()
            .map(|c| (c.part.as_str(), c.scaling_factor, c.mode))
            .collect();
        assert_eq!(order.len(), 21);
        assert_eq!(order[0], ("part2", 1, Mode::Standard));
        assert_eq!(order[5], ("part2", 100000, Mode::Standard));
        assert_eq!(order[6], ("part2", 1, Mode::ZeroBuffer));
        assert_eq!(order[7], ("part3", 1, Mode::Standard));
        assert_eq!(order[14], ("part1", 1, Mode::Standard));
        assert_eq!(order[19], ("part1", 100000, Mode::Standard));
        assert_eq!(order[20], ("part1", 1, Mode::ZeroBuffer));
        assert!(cells.iter().all(|c| c.ranks == 3));
    }

    #[test]
    fn every_launch_gets_its_own_keys_and_run_id() {
        let config = Config::bundled();
        let challenge = config.challenge(None).unwrap();
        let parts: Vec<&Part> = challenge.parts.iter().collect();
        let mut keys = HashSet::new();
        let mut ids = HashSet::new();
        for (launch, &ranks) in challenge.ranks.iter().enumerate() {
            let cells = cells_for(challenge, &parts, ranks);
            let plan = plan(challenge, 7, launch as u32, ranks, &cells, &parts);
            assert!(ids.insert(plan.run_id));
            for key in launch_keys(7, launch as u32, ranks) {
                assert!(keys.insert(key));
            }
        }
        // The same seed reproduces them; another seed does not.
        assert_eq!(launch_keys(7, 1, 3), launch_keys(7, 1, 3));
        assert_ne!(launch_keys(7, 1, 3), launch_keys(8, 1, 3));
    }

    /// The matrix through scripted launches: the cell ladder and the re-queue, without MPI.
    mod scripted_launches {
        use super::*;
        use crate::judge::cell::Evidence;
        use crate::judge::outcome::{Crash, CrashCause, Panic, TimeLimit, Timeout};
        use crate::mpi::{Implementation, LauncherReport, Runner, Who};
        use crate::run::cells::scripted::{all_pass, before, evidence, Scripted, Step};
        use crate::trace::detect::Finding;
        use crate::trace::diagnosis::{Diagnosis, StallKind};
        use std::os::unix::process::ExitStatusExt;
        use std::process::ExitStatus;

        fn challenge(ranks: &[u32]) -> Challenge {
            let mut challenge = Config::bundled().challenge(None).unwrap().clone();
            challenge.ranks = ranks.to_vec();
            challenge
        }

        fn function(challenge: &Challenge, part: &str) -> String {
            let part = challenge.parts.iter().find(|p| p.name == part).unwrap();
            part.function.clone()
        }

        fn run(challenge: &Challenge, launches: &mut Scripted) -> Result<MatrixRun> {
            let launcher = Launcher {
                implementation: Implementation::OpenMpi,
                mpiexec: "/nonexistent/mpiexec".into(),
                mpicc: "/nonexistent/mpicc".into(),
                version: "4.1.4".into(),
                runner: Runner::default(),
            };
            let matrix = Matrix {
                challenge,
                parts: challenge.parts.iter().collect(),
                launcher: &launcher,
                driver: &Driver {
                    exe: "/nonexistent/driver".into(),
                    args: Vec::new(),
                    lang: crate::build::compile::Lang::Rust,
                    warnings: Vec::new(),
                    problems: Vec::new(),
                    seconds: 0.0,
                },
                tracer: None,
                submission: Path::new("/nonexistent/submission"),
                seed: 7,
                scratch: PathBuf::from("/nonexistent/scratch"),
                limits: &challenge.limits,
                progress: &|_, _, _, _| {},
                jail: None,
                keep_runs: false,
            };
            matrix.run_with(launches)
        }

        fn outcome<'r>(results: &'r Results, part: &str, sf: u64, mode: Mode) -> &'r Outcome {
            let (_, record) = results
                .iter()
                .find(|(c, _)| c.part == part && c.scaling_factor == sf && c.mode == mode)
                .unwrap_or_else(|| panic!("no result for {part} at {sf} ({mode:?})"));
            &record.result.outcome
        }

        /// A first launch that ends in the cell of `part` at `sf` (standard mode) with the
        /// evidence `edit` makes of a plain exit; every later launch passes all its cells.
        fn fail_at(
            challenge: &Challenge,
            part: &str,
            sf: u64,
            edit: impl Fn(&mut Evidence) + 'static,
        ) -> Scripted {
            let function = function(challenge, part);
            let first: Step = Box::new(move |plan| {
                let at = before(plan, |c| {
                    c.function == function && c.scaling_factor == sf && c.mode == Mode::Standard
                });
                let mut evidence = evidence(at, Ending::Exited);
                edit(&mut evidence);
                evidence
            });
            Scripted::new(vec![first], Some(all_pass()))
        }

        fn stalled(kind: StallKind, culprits: Vec<u32>) -> Ending {
            Ending::Stalled(Box::new(Finding {
                diagnosis: diagnosis(kind, culprits),
            }))
        }

        fn diagnosis(kind: StallKind, culprits: Vec<u32>) -> Diagnosis {
            Diagnosis {
                kind,
                ranks: Vec::new(),
                cycle: Vec::new(),
                culprits,
                edges: Vec::new(),
                zero_buffer: false,
                stalled: false,
                explanation: "scripted".into(),
                mismatch: None,
            }
        }

        fn exit(code: i32) -> Option<ExitStatus> {
            Some(ExitStatus::from_raw(code << 8))
        }

        fn crash(rank: Option<u32>, cause: CrashCause) -> Outcome {
            Outcome::Crash(Crash { rank, cause })
        }

        fn panic_of(rank: u32, message: &str) -> Panic {
            Panic {
                rank,
                message: message.into(),
                location: Some("src/lib.rs:3:5".into()),
            }
        }

        fn signal(who: Who, signal: i32, name: &str) -> Option<LauncherReport> {
            Some(LauncherReport::Signal {
                who,
                signal,
                name: name.into(),
            })
        }

        type Row = (&'static str, fn(&mut Evidence), Outcome);

        /// One row per rung of the ladder (panic > interrupt > stall > timeout > abort >
        /// self-exit > launcher message > gone rank > unexplained), and rows for its order.
        fn ladder() -> Vec<Row> {
            let segv = || CrashCause::Signal {
                signal: libc::SIGSEGV,
                name: "SIGSEGV".into(),
            };
            vec![
                (
                    "todo!() is not implemented",
                    |e| e.panic = Some(panic_of(1, "not yet implemented")),
                    Outcome::NotImplemented(panic_of(1, "not yet implemented")),
                ),
                (
                    "a panic is a crash of its rank",
                    |e| e.panic = Some(panic_of(1, "index out of bounds")),
                    crash(
                        Some(1),
                        CrashCause::Panic {
                            message: "index out of bounds".into(),
                            location: Some("src/lib.rs:3:5".into()),
                        },
                    ),
                ),
                (
                    "a panic beats a time-out and an abort",
                    |e| {
                        e.panic = Some(panic_of(2, "boom"));
                        e.ending = Ending::CellTimeout {
                            cell: 2,
                            seconds: 5.0,
                        };
                        e.aborted = Some((0, 3));
                    },
                    crash(
                        Some(2),
                        CrashCause::Panic {
                            message: "boom".into(),
                            location: Some("src/lib.rs:3:5".into()),
                        },
                    ),
                ),
                (
                    "a panic beats an interrupt",
                    |e| {
                        e.panic = Some(panic_of(0, "boom"));
                        e.ending = Ending::Interrupted;
                    },
                    crash(
                        Some(0),
                        CrashCause::Panic {
                            message: "boom".into(),
                            location: Some("src/lib.rs:3:5".into()),
                        },
                    ),
                ),
                (
                    "an interrupt beats an abort",
                    |e| {
                        e.ending = Ending::Interrupted;
                        e.aborted = Some((0, 3));
                    },
                    Outcome::NotRun(NotRun::Interrupted),
                ),
                (
                    "a deadlock",
                    |e| e.ending = stalled(StallKind::Deadlock, vec![]),
                    Outcome::Deadlock(Box::new(diagnosis(StallKind::Deadlock, vec![]))),
                ),
                (
                    "a hang",
                    |e| e.ending = stalled(StallKind::Hang, vec![1]),
                    Outcome::Hang(Box::new(diagnosis(StallKind::Hang, vec![1]))),
                ),
                (
                    "a stall beats an abort and a self-exit",
                    |e| {
                        e.ending = stalled(StallKind::Deadlock, vec![]);
                        e.aborted = Some((0, 3));
                        e.self_exit = Some((1, 0));
                    },
                    Outcome::Deadlock(Box::new(diagnosis(StallKind::Deadlock, vec![]))),
                ),
                (
                    "a cell time-out",
                    |e| {
                        e.ending = Ending::CellTimeout {
                            cell: 2,
                            seconds: 5.0,
                        }
                    },
                    Outcome::Timeout(Timeout {
                        limit: TimeLimit::Cell,
                        seconds: 5.0,
                    }),
                ),
                (
                    "a launch time-out beats an abort",
                    |e| {
                        e.ending = Ending::LaunchTimeout { seconds: 60.0 };
                        e.aborted = Some((0, 3));
                        e.launcher_said = signal(Who::Rank(0), libc::SIGSEGV, "SIGSEGV");
                    },
                    Outcome::Timeout(Timeout {
                        limit: TimeLimit::Launch,
                        seconds: 60.0,
                    }),
                ),
                (
                    "an abort the tracer saw",
                    |e| e.aborted = Some((2, 7)),
                    crash(Some(2), CrashCause::Abort { code: 7 }),
                ),
                (
                    "an abort the launcher reported",
                    |e| e.launcher_said = Some(LauncherReport::Abort { rank: 1, code: 4 }),
                    crash(Some(1), CrashCause::Abort { code: 4 }),
                ),
                (
                    "the tracer's abort beats the launcher's, and a self-exit",
                    |e| {
                        e.aborted = Some((2, 7));
                        e.launcher_said = Some(LauncherReport::Abort { rank: 1, code: 4 });
                        e.self_exit = Some((0, 0));
                    },
                    crash(Some(2), CrashCause::Abort { code: 7 }),
                ),
                (
                    "the launcher's abort beats a self-exit",
                    |e| {
                        e.launcher_said = Some(LauncherReport::Abort { rank: 1, code: 4 });
                        e.self_exit = Some((0, 0));
                    },
                    crash(Some(1), CrashCause::Abort { code: 4 }),
                ),
                (
                    "a self-exit with status 0 is an exit without finalize",
                    |e| e.self_exit = Some((1, 0)),
                    crash(Some(1), CrashCause::ExitWithoutFinalize),
                ),
                (
                    "a self-exit beats the launcher's message and a gone rank",
                    |e| {
                        e.self_exit = Some((1, 3));
                        e.launcher_said = signal(Who::Rank(0), libc::SIGSEGV, "SIGSEGV");
                        e.first_gone = Some(2);
                    },
                    crash(Some(1), CrashCause::Exit { code: 3 }),
                ),
                (
                    "a signal the launcher names by rank",
                    |e| e.launcher_said = signal(Who::Rank(0), libc::SIGSEGV, "SIGSEGV"),
                    crash(Some(0), segv()),
                ),
                (
                    "a signal the launcher names by pid",
                    |e| {
                        e.launcher_said = signal(Who::Pid(4242), libc::SIGSEGV, "SIGSEGV");
                        e.rank_pids = vec![(0, 4241), (1, 4242), (2, 4243)];
                    },
                    crash(Some(1), segv()),
                ),
                (
                    "a signal of an unknown pid falls to the gone rank",
                    |e| {
                        e.launcher_said = signal(Who::Pid(9999), libc::SIGSEGV, "SIGSEGV");
                        e.first_gone = Some(2);
                    },
                    crash(Some(2), segv()),
                ),
                (
                    "the launcher's kill of another rank blames the first gone",
                    |e| {
                        e.launcher_said = signal(Who::Rank(0), libc::SIGKILL, "SIGKILL");
                        e.first_gone = Some(2);
                        e.status = exit(libc::SIGKILL);
                    },
                    crash(Some(2), CrashCause::Vanished),
                ),
                (
                    "the launcher's kill of the first gone is a signal",
                    |e| {
                        e.launcher_said = signal(Who::Rank(2), libc::SIGKILL, "SIGKILL");
                        e.first_gone = Some(2);
                    },
                    crash(
                        Some(2),
                        CrashCause::Signal {
                            signal: libc::SIGKILL,
                            name: "SIGKILL".into(),
                        },
                    ),
                ),
                (
                    "an exit the launcher names by rank beats the gone rank",
                    |e| {
                        e.launcher_said = Some(LauncherReport::Exit {
                            rank: Some(0),
                            code: 2,
                        });
                        e.first_gone = Some(1);
                    },
                    crash(Some(0), CrashCause::Exit { code: 2 }),
                ),
                (
                    "an exit the launcher does not attribute goes to the gone rank",
                    |e| {
                        e.launcher_said = Some(LauncherReport::Exit {
                            rank: None,
                            code: 2,
                        });
                        e.first_gone = Some(1);
                    },
                    crash(Some(1), CrashCause::Exit { code: 2 }),
                ),
                (
                    "an exit without finalize the launcher reported",
                    |e| e.launcher_said = Some(LauncherReport::ExitWithoutFinalize { rank: 2 }),
                    crash(Some(2), CrashCause::ExitWithoutFinalize),
                ),
                (
                    "a gone rank the stall found, its status passed on",
                    |e| {
                        e.ending = stalled(StallKind::Gone, vec![2]);
                        e.first_gone = Some(1);
                        e.status = exit(3);
                    },
                    crash(Some(2), CrashCause::Exit { code: 3 }),
                ),
                (
                    "the launcher's message beats the stall's gone rank",
                    |e| {
                        e.ending = stalled(StallKind::Gone, vec![2]);
                        e.launcher_said = signal(Who::Rank(2), libc::SIGSEGV, "SIGSEGV");
                    },
                    crash(Some(2), segv()),
                ),
                (
                    "a gone rank the launch saw, the others killed",
                    |e| {
                        e.first_gone = Some(1);
                        e.status = exit(libc::SIGKILL);
                    },
                    crash(Some(1), CrashCause::Vanished),
                ),
                (
                    "unexplained, with the launcher's status",
                    |e| e.status = exit(1),
                    crash(
                        None,
                        CrashCause::Unexplained {
                            launcher_status: "mpiexec exit status: 1".into(),
                        },
                    ),
                ),
                (
                    "unexplained, without a status",
                    |_| {},
                    crash(
                        None,
                        CrashCause::Unexplained {
                            launcher_status: "mpiexec did not report a status".into(),
                        },
                    ),
                ),
            ]
        }

        #[test]
        fn the_cell_ladder_decides_the_cell_the_launch_ended_in() {
            let challenge = challenge(&[3]);
            for (name, edit, expected) in ladder() {
                let mut launches = fail_at(&challenge, "part2", 100, move |e| {
                    edit(e);
                    e.output = Some("--- stderr (4 bytes) ---\nboom\n".into());
                });
                let run = run(&challenge, &mut launches).unwrap();
                assert_eq!(
                    outcome(&run.results, "part2", 100, Mode::Standard),
                    &expected,
                    "{name}"
                );
                assert_eq!(
                    outcome(&run.results, "part2", 10, Mode::Standard),
                    &Outcome::Pass,
                    "{name}"
                );
                let cut = run
                    .results
                    .iter()
                    .find(|(c, _)| {
                        c.part == "part2" && c.scaling_factor == 100 && c.mode == Mode::Standard
                    })
                    .unwrap()
                    .1;
                assert_eq!(
                    cut.result.output.as_deref(),
                    Some("--- stderr (4 bytes) ---\nboom\n"),
                    "{name}"
                );
                assert_eq!(run.results.len(), 21, "{name}");
            }
        }

        #[test]
        fn a_failure_requeues_the_cells_it_cut_short() {
            let challenge = challenge(&[3]);
            let mut launches = fail_at(&challenge, "part2", 100, |e| e.status = exit(1));
            let run = run(&challenge, &mut launches).unwrap();
            for sf in [1000, 10000, 100000] {
                assert_eq!(
                    outcome(&run.results, "part2", sf, Mode::Standard),
                    &Outcome::NotRun(NotRun::AfterFailure {
                        at: "100 elements per block".into()
                    })
                );
            }
            // The same part in the other mode, and the other parts, ran in a second launch.
            assert_eq!(
                outcome(&run.results, "part2", 1, Mode::ZeroBuffer),
                &Outcome::Pass
            );
            assert_eq!(
                outcome(&run.results, "part1", 100000, Mode::Standard),
                &Outcome::Pass
            );
            assert_eq!(run.launches, 2);
            assert_eq!(launches.plans[0].cells.len(), 21);
            let second = &launches.plans[1];
            assert_eq!(second.cells.len(), 21 - 3 - 3);
            assert_eq!(second.cells[0].function, function(&challenge, "part2"));
            assert_eq!(second.cells[0].mode, Mode::ZeroBuffer);
            // Each launch has its own run id; the plan numbers its own cells.
            assert_ne!(launches.plans[0].run_id, second.run_id);
            assert!(second
                .cells
                .iter()
                .enumerate()
                .all(|(i, c)| c.index == i as u32));
            assert_eq!(run.results.len(), 21);
        }

        #[test]
        fn a_time_out_in_a_part_expected_to_deadlock_ends_its_sizes() {
            let challenge = challenge(&[3]);
            let mut launches = fail_at(&challenge, "part1", 1000, |e| {
                e.ending = Ending::CellTimeout {
                    cell: 17,
                    seconds: 5.0,
                }
            });
            let run = run(&challenge, &mut launches).unwrap();
            for sf in [10000, 100000] {
                assert_eq!(
                    outcome(&run.results, "part1", sf, Mode::Standard),
                    &Outcome::NotRun(NotRun::AfterDeadlock {
                        scaling_factor: 1000
                    })
                );
            }
            assert_eq!(
                outcome(&run.results, "part1", 1, Mode::ZeroBuffer),
                &Outcome::Pass
            );
            assert_eq!(run.launches, 2);
            assert_eq!(launches.plans[1].cells.len(), 1);
        }

        #[test]
        fn a_detected_deadlock_or_a_time_out_elsewhere_is_a_failure_for_the_sizes_after() {
            let challenge = challenge(&[3]);
            let mut launches = fail_at(&challenge, "part1", 1000, |e| {
                e.ending = stalled(StallKind::Deadlock, vec![])
            });
            let got = run(&challenge, &mut launches).unwrap();
            assert_eq!(
                outcome(&got.results, "part1", 10000, Mode::Standard),
                &Outcome::NotRun(NotRun::AfterFailure {
                    at: format!(
                        "{} elements per block",
                        crate::judge::outcome::thousands(1000)
                    )
                })
            );
            let mut launches = fail_at(&challenge, "part3", 10, |e| {
                e.ending = Ending::CellTimeout {
                    cell: 8,
                    seconds: 5.0,
                }
            });
            let got = run(&challenge, &mut launches).unwrap();
            assert_eq!(
                outcome(&got.results, "part3", 100, Mode::Standard),
                &Outcome::NotRun(NotRun::AfterFailure {
                    at: "10 elements per block".into()
                })
            );
        }

        #[test]
        fn every_launch_settles_a_cell_so_the_matrix_ends() {
            let challenge = challenge(&[2, 3]);
            // Every launch crashes in its first cell.
            let crash_first: Step = Box::new(|_| evidence(0, Ending::Exited));
            let mut launches = Scripted::new(Vec::new(), Some(crash_first));
            let run = run(&challenge, &mut launches).unwrap();
            assert_eq!(run.results.len(), 42);
            // One launch per part and mode at each rank count: 3 parts, 2 modes.
            assert_eq!(run.launches, 12);
            for pair in launches.plans.windows(2) {
                if pair[0].ranks == pair[1].ranks {
                    assert!(pair[1].cells.len() < pair[0].cells.len());
                }
            }
            assert!(run
                .results
                .values()
                .all(|r| r.result.outcome != Outcome::Pass));
        }

        #[test]
        fn a_part_not_implemented_is_not_launched_again() {
            let challenge = challenge(&[2, 3]);
            let part2 = function(&challenge, "part2");
            let mut launches = fail_at(&challenge, "part2", 1, |e| {
                e.panic = Some(panic_of(0, "not yet implemented"))
            });
            let run = run(&challenge, &mut launches).unwrap();
            let at_three = run
                .results
                .iter()
                .filter(|(c, _)| c.part == "part2" && c.ranks == 3);
            assert!(at_three.clone().count() == 7);
            for (_, record) in at_three {
                assert_eq!(
                    record.result.outcome,
                    Outcome::NotRun(NotRun::PartNotImplemented)
                );
            }
            assert!(launches
                .plans
                .iter()
                .filter(|p| p.ranks == 3)
                .all(|p| p.cells.iter().all(|c| c.function != part2)));
        }

        #[test]
        fn an_interrupted_launch_settles_every_cell_it_had() {
            let challenge = challenge(&[3]);
            let mut launches =
                fail_at(&challenge, "part2", 100, |e| e.ending = Ending::Interrupted);
            let run = run(&challenge, &mut launches).unwrap();
            assert_eq!(run.launches, 1);
            assert_eq!(run.results.len(), 21);
            assert_eq!(
                outcome(&run.results, "part2", 1, Mode::Standard),
                &Outcome::Pass
            );
            assert_eq!(
                outcome(&run.results, "part1", 1, Mode::ZeroBuffer),
                &Outcome::NotRun(NotRun::Interrupted)
            );
        }

        #[test]
        fn a_job_that_never_started_is_an_error() {
            let challenge = challenge(&[3]);
            let mut launches = fail_at(&challenge, "part2", 1, |e| {
                e.started = false;
                e.tail = "mpiexec: no slots".into();
            });
            let error = run(&challenge, &mut launches).err().expect("an error");
            assert_eq!(
                error.to_string(),
                "mpiexec could not start the job (3 ranks): mpiexec: no slots"
            );
        }
    }
}
