//! Which cells run in which launch.
//!
//! `mpiexec` start-up dominates a grade (0.1 to 0.25 s per launch here, against microseconds to
//! milliseconds per cell), so each rank count gets one launch that runs every cell in the same
//! processes. Parts expected to complete go first, parts expected to deadlock last, sizes in
//! ascending order: a deadlock ends the launch, and the cells before it are already recorded.
//! When a launch ends early, a new one runs the cells it cut short, until every cell has an
//! outcome. Every launch settles at least one cell, so this ends.
//!
//! With zero-buffer mode on, each part also gets one cell per rank count at the smallest size
//! in which every standard send is synchronous, after its ordinary cells.

use crate::classify::{self, CellResult};
use crate::config::{Challenge, Expect, Limits, Part};
use crate::error::Result;
use crate::launch::{self, Launch};
use crate::launcher::Launcher;
use crate::outcome::{Cell, NotRun, Outcome};
use crate::rundir::RunDir;
use crate::trace::usage::{cell_problem, Usage};
use crate::trace::LaunchTrace;
use mpi_grade_protocol::payload;
use mpi_grade_protocol::run::{self, Mode, Plan, PlannedCell};
use mpi_grade_protocol::trace::MAX_CELLS;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What happened to a cell: its result, and what it called when it was traced.
#[derive(Debug, Clone)]
pub struct CellRecord {
    pub result: CellResult,
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
            .map(|(index, cell)| PlannedCell {
                index: index as u32,
                function: cell.function.clone(),
                scaling_factor: cell.scaling_factor,
                mode: cell.mode,
                repetitions: repetitions(challenge, parts, cell),
            })
            .collect(),
    }
}

/// The secret key of every rank of the launch numbered `launch`.
pub fn launch_keys(seed: u64, launch: u32, ranks: u32) -> Vec<payload::Key> {
    (0..ranks)
        .map(|rank| payload::rank_key(seed, u64::from(launch), rank))
        .collect()
}

/// Everything a matrix run needs besides the cells.
pub struct Matrix<'a> {
    pub challenge: &'a Challenge,
    pub parts: Vec<&'a Part>,
    pub launcher: &'a Launcher,
    pub driver: &'a Path,
    /// The tracer library; without it, stalls are only seen as time-outs.
    pub tracer: Option<&'a Path>,
    /// The student's crate (for source lines in diagnoses).
    pub submission: &'a Path,
    pub seed: u64,
    /// Where the launches' run directories go.
    pub scratch: PathBuf,
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
    pub results: Results,
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
    /// Runs every cell of every rank count.
    pub fn run(&self) -> Result<MatrixRun> {
        let mut results = Results::new();
        let mut launches = 0;
        let mut library = None;
        let mut warnings = Vec::new();
        let mut not_implemented: HashSet<String> = HashSet::new();
        for &ranks in &self.challenge.ranks {
            let mut queue = cells_for(self.challenge, &self.parts, ranks);
            while !queue.is_empty() {
                // A `todo!()` is the same at every rank count: do not launch it again.
                let (skip, keep): (Vec<Cell>, Vec<Cell>) = queue
                    .into_iter()
                    .partition(|c| not_implemented.contains(&c.part));
                for cell in skip {
                    results.insert(cell, skipped(NotRun::PartNotImplemented));
                }
                queue = keep;
                if queue.is_empty() {
                    break;
                }
                if crate::interrupt::requested() {
                    for cell in queue.drain(..) {
                        results.insert(cell, skipped(NotRun::Interrupted));
                    }
                    break;
                }
                let rest = queue.split_off(queue.len().min(MAX_CELLS));
                let batch = self.launch(ranks, &queue, launches)?;
                launches += 1;
                library = library.or(batch.library);
                warnings.extend(
                    batch
                        .survivors
                        .map(|s| format!("processes of a launch could not be stopped: {s}")),
                );
                (self.progress)(ranks, batch.settled.len(), queue.len(), batch.seconds);
                for (cell, record) in batch.settled {
                    if matches!(record.result.outcome, Outcome::NotImplemented(_)) {
                        not_implemented.insert(cell.part.clone());
                    }
                    results.insert(cell, record);
                }
                queue = batch.requeue.into_iter().chain(rest).collect();
            }
        }
        Ok(MatrixRun {
            results,
            launches,
            library,
            warnings,
        })
    }

    /// Runs `cells` (at most `MAX_CELLS`, all at `ranks` ranks) in one launch, numbered
    /// `index` among this matrix's launches.
    pub fn launch(&self, ranks: u32, cells: &[Cell], index: u32) -> Result<Batch> {
        let plan = plan(self.challenge, self.seed, index, ranks, cells, &self.parts);
        let keys = launch_keys(self.seed, index, ranks);
        let run_dir = RunDir::create(&self.scratch.join(format!("launch-{index}")), plan, keys)?;
        let trace = match self.tracer {
            Some(_) => Some(LaunchTrace::create(
                &run_dir.path,
                ranks,
                Some(self.submission),
            )?),
            None => None,
        };
        if let Some(jail) = self.jail {
            jail.give_run_files(&run_dir.path)?;
        }
        let launch = Launch {
            jail: self.jail,
            launcher: self.launcher,
            program: self.driver,
            args: &[],
            ranks,
            env: rank_env(trace.as_ref()),
            preload: self.tracer,
            capture: Some(self.limits.output_bytes),
            launch_seconds: self.limits.launch_seconds,
            cells: Some((&run_dir, self.limits.cell_seconds)),
        };
        let hang_after = Duration::from_secs_f64(self.limits.hang_seconds);
        let mut record = match &trace {
            Some(trace) => launch::run(&launch, &mut trace.watcher(hang_after))?,
            None => launch::run(&launch, &mut |_| None)?,
        };
        record.self_exit = trace.as_ref().and_then(LaunchTrace::self_exit);
        record.aborted = trace.as_ref().and_then(LaunchTrace::aborted);
        let events = record.events.as_ref().expect("a graded launch has events");
        if !events.ranks.iter().any(|r| r.ready())
            && !matches!(
                record.ending,
                launch::Ending::Interrupted | launch::Ending::ScratchFull { .. }
            )
        {
            return Err(crate::error::Error::Other(format!(
                "mpiexec could not start the job ({ranks} ranks): {}",
                last_lines(&record)
            )));
        }
        let expects_deadlock = |function: &str| {
            self.parts
                .iter()
                .any(|p| p.function == function && p.expect == Expect::Deadlock)
        };
        let classified = classify::classify(&run_dir, &record, self.launcher, &expects_deadlock);
        if !self.keep_runs {
            run_dir.remove_keys();
            run_dir.remove_results();
        }
        let settled = classified
            .results
            .into_iter()
            .map(|mut result| {
                // Counts cover every repetition: report them per call.
                let calls = result.timing.map_or(1, |t| t.repetitions);
                let usage = match (&trace, &result.outcome) {
                    (Some(trace), outcome) if !matches!(outcome, Outcome::NotRun(_)) => {
                        let usage = trace.usage(result.index);
                        // Right blocks are not enough: they must have come through MPI calls
                        // the tracer saw, between the runtime's marks only.
                        if result.outcome == Outcome::Pass {
                            let cell = &cells[result.index as usize];
                            if let Some((rank, problem)) =
                                cell_problem(&usage, ranks, cell.scaling_factor, calls)
                            {
                                result.outcome =
                                    Outcome::WrongResult(crate::outcome::WrongResult {
                                        rank,
                                        problem,
                                    });
                            }
                        }
                        Some(usage.per_call(calls))
                    }
                    _ => None,
                };
                (
                    cells[result.index as usize].clone(),
                    CellRecord { result, usage },
                )
            })
            .collect();
        Ok(Batch {
            settled,
            requeue: classified
                .requeue
                .iter()
                .map(|&i| cells[i as usize].clone())
                .collect(),
            library: events.library().map(str::to_string),
            survivors: record.survivors.as_ref().map(ToString::to_string),
            seconds: record.seconds,
        })
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

fn last_lines(record: &launch::LaunchRecord) -> String {
    let text = format!(
        "{}\n{}",
        record.stderr.tail_lines(10),
        record.stdout.tail_lines(5)
    );
    let text = text.trim();
    if text.is_empty() {
        format!("no output, status {:?}", record.status)
    } else {
        text.to_string()
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
}
