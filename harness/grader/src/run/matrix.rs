//! Which cells run in which launch.
//!
//! `mpiexec` start-up dominates a grade (0.1 to 0.25 s per launch here, against microseconds to
//! milliseconds per cell), so each rank count gets one launch that runs every cell in the same
//! processes. Parts expected to complete go first, parts expected to deadlock last, sizes in
//! ascending order: a deadlock ends the launch, and the cells before it are already recorded.
//! When a launch ends early, a new one runs the cells it cut short, until every cell has an
//! outcome. Every launch settles at least one cell, so this ends. Launches whose cells time
//! nothing run beside the untimed rest of a timed launch, and side by side once every timed one
//! has run (see [`Matrix::run_with`]); part 1's zero-buffer cell, which would only come after
//! the deadlock that ends its rank count's first launch, has a launch of its own.
//!
//! Each launch goes through [`Launches`]: `mpiexec` in a grade, a script in the tests below,
//! which drive the cell ladder and the re-queue without MPI.
//!
//! With zero-buffer mode on, each part also gets one cell per rank count at the smallest size
//! in which every standard send is synchronous, after its ordinary cells.

use crate::build::compile::Driver;
use crate::config::{Challenge, Expect, Kind, Limits, Part};
use crate::error::Result;
use crate::judge::cell::{self, CellResult, Evidence};
use crate::judge::contract;
use crate::judge::outcome::{Cell, NotRun, Outcome};
use crate::mpi::Launcher;
use crate::run::cells::{LaunchPlan, Launches, MpiLaunches, Untimed};
use crate::run::launch::Ending;
use crate::run::schedule::{lock, Gate, Hold, Pending, Said, Slots};
use crate::trace::usage::{cell_problem, Usage};
use mpi_grade_protocol::payload;
use mpi_grade_protocol::run::{self, Mode, Plan, PlannedCell};
use mpi_grade_protocol::trace::MAX_CELLS;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
    if needs_the_machine(parts, cell) {
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
                    untimed: !needs_the_machine(parts, cell),
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
        held: false,
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
    /// Called after each launch with the rank count and the number of cells settled (from
    /// the thread that ran the launch).
    pub progress: &'a (dyn Fn(u32, usize, usize, f64) + Sync),
    /// Where the ranks run confined (`None`: not sandboxed).
    pub jail: Option<&'a crate::sandbox::Jail>,
    /// Keep the ranks' results files (`--keep-runs`); otherwise each is deleted once checked.
    pub keep_runs: bool,
    /// How many launches that time nothing may run at once (see [`overlap`]).
    pub overlap: Overlap,
}

/// What running the matrix produced.
#[derive(Default)]
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

/// One rank count's queue of cells and the numbers of its launches.
struct Chain {
    ranks: u32,
    /// The number of the rank count's first launch.
    first: u32,
    /// How many launches it has had.
    next: u32,
    queue: Vec<Cell>,
    /// Cells of parts that hung, set aside in the first phase for the second.
    later: Vec<Cell>,
}

impl Chain {
    fn new(ranks: u32, first: u32, queue: Vec<Cell>) -> Chain {
        Chain {
            ranks,
            first,
            next: 0,
            queue,
            later: Vec::new(),
        }
    }
}

/// When dropped, the first phase is over: the gate stays open and no more chains come.
struct Over<'a>(&'a Gate, &'a Pending<Chain>);

impl Drop for Over<'_> {
    fn drop(&mut self) {
        self.0.timed_over();
        self.1.close();
    }
}

/// Which phase of a matrix run a chain's launches belong to (see [`Matrix::run_with`]).
#[derive(Clone, Copy)]
enum Phase<'s> {
    /// Alone on the machine while timing cells (the gate closed until the launch is past
    /// them); a launch may be released. True for the last rank count: no launch that times
    /// cells comes after its launches, unless one of them fails.
    First(&'s Arc<Gate>, bool, Option<&'s Ahead>),
    /// Beside other launches, through the gate, each taking a place in the slots unless it
    /// waits out a hang.
    Beside(&'s Slots, &'s Gate),
    /// Alone again, timing the cells of a released part that completed.
    Retime,
}

/// How long ranks others wait on may stay outside MPI in a launch that has the machine alone
/// before it hands the machine back (`Ending::Released`): far longer than any cell of a
/// correct submission keeps its peers waiting, far shorter than the hang limit.
pub const RELEASE_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// What the launches of a matrix run share, whichever thread runs them.
#[derive(Default)]
struct Shared {
    run: MatrixRun,
    /// Parts that are `todo!()`, with the smallest rank count they were seen at: not launched
    /// again at a larger one.
    not_implemented: HashMap<String, u32>,
    /// Parts that hung or timed out in a launch of the first phase, or whose launch there
    /// was released.
    hung: HashSet<String>,
    /// Parts whose first-phase launch was released.
    released: HashSet<String>,
}

/// Whether `cell` is of a part found `todo!()` at a smaller rank count: not launched again.
fn not_again(shared: &Shared, cell: &Cell) -> bool {
    (shared.not_implemented.get(&cell.part)).is_some_and(|&at| at < cell.ranks)
}

/// Whether `cell` is timed in a launch of the first phase: it needs the machine, and its part
/// has not hung.
fn timed(parts: &[&Part], shared: &Shared, cell: &Cell) -> bool {
    needs_the_machine(parts, cell) && !shared.hung.contains(&cell.part)
}

/// Said once: whether a launch of a rank count's first phase got into its untimed rest and
/// ended (`true`), or the first phase ended without one (`false`). Only once that launch is
/// over, its processes stopped, does the next rank count's start ahead: a process a
/// submission leaves behind dies with its launch before the next one starts.
#[derive(Default)]
struct Signal {
    said: Said<bool>,
    /// The launch running now got into its untimed rest.
    rest: std::sync::atomic::AtomicBool,
}

impl Signal {
    /// The launch running now got into its untimed rest.
    fn in_rest(&self) {
        self.rest.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// A launch of the rank count ended: says `true` if it got into its untimed rest.
    fn launch_ended(&self) {
        if self.rest.load(std::sync::atomic::Ordering::SeqCst) {
            self.tell(true);
        }
    }

    /// Says `reached`, unless something was said already.
    fn tell(&self, reached: bool) {
        self.said.say(reached);
    }

    /// Waits until something is said, and returns it.
    fn heard(&self) -> bool {
        self.said.heard()
    }
}

/// What a launch started ahead yielded (or the panic of its thread), once it ended.
type Yielded = std::thread::Result<Result<Evidence>>;

/// A rank count's first launch started ahead of its turn, held (see [`Matrix::start_ahead`]).
struct Started {
    index: u32,
    cells: Vec<Cell>,
    hold: Arc<Hold>,
    ended: Arc<Said<Yielded>>,
}

impl Started {
    /// Waits for the launch to end and returns what it yielded.
    fn yielded(self) -> Result<Evidence> {
        (self.ended.take()).unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

/// One rank count's part in starting launches ahead: whether its first phase reached an
/// untimed rest (which starts the next rank count's first launch), and its own first launch
/// if it was started ahead (with `true` once no launch may be started ahead any more).
#[derive(Default)]
struct Ahead {
    reached: Arc<Signal>,
    started: Mutex<(bool, Option<Started>)>,
}

impl Ahead {
    /// The launch started ahead, if it is the one numbered `index` of `cells`; one that is
    /// not is withdrawn, and ends before this returns.
    fn take(&self, index: u32, cells: &[Cell]) -> Option<Started> {
        let started = lock(&self.started).1.take()?;
        if started.index == index && started.cells == cells {
            return Some(started);
        }
        started.hold.withdraw();
        let _ = started.yielded();
        None
    }
}

/// When dropped, however the first phase ends: nothing more is started ahead, what was and
/// was not let in is withdrawn, and every rank count's signal is said, so that no thread
/// waits for one.
struct Withdraw<'a>(&'a [Ahead]);

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        for ahead in self.0 {
            ahead.reached.tell(false);
            let mut started = lock(&ahead.started);
            started.0 = true;
            if let Some(started) = started.1.take() {
                started.hold.withdraw();
            }
        }
    }
}

/// Whether `cell`'s time is reported, so that its launch must have the machine to itself: a
/// part expected to complete, in standard mode. Zero-buffer cells, a part's deadlock search
/// and everything after a hang give a verdict, not a time.
pub fn needs_the_machine(parts: &[&Part], cell: &Cell) -> bool {
    cell.mode == Mode::Standard
        && parts
            .iter()
            .any(|p| p.name == cell.part && p.expect == Expect::Complete)
}

/// How many launches of the second phase of a matrix run run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlap {
    /// Launches that run cells side by side: one per core, fewer when memory would not hold
    /// that many at their memory limit.
    pub running: usize,
    /// Launches in all, with those waiting out a part that hung: such a launch is mostly a
    /// wait for the hang limit, so memory bounds them, and four per core at most.
    pub in_all: usize,
}

impl Overlap {
    /// Every launch alone, one after another.
    pub const ALONE: Overlap = Overlap {
        running: 1,
        in_all: 1,
    };
}

/// How many launches may run at once in the second phase of a matrix run (see [`Overlap`];
/// `MPI_GRADE_OVERLAP=N` sets both numbers, and 1 runs every launch alone, as before).
pub fn overlap(memory_mb_per_launch: u64) -> Overlap {
    if let Some(n) = std::env::var("MPI_GRADE_OVERLAP")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        let n = n.max(1);
        return Overlap {
            running: n,
            in_all: n,
        };
    }
    let cores = crate::mpi::available_cores();
    let available_mb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or(u64::MAX, |kb| kb / 1024);
    let by_memory: usize = (available_mb / memory_mb_per_launch.max(1))
        .max(1)
        .try_into()
        .unwrap_or(usize::MAX);
    Overlap {
        running: cores.min(by_memory),
        in_all: (4 * cores).min(by_memory),
    }
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
    /// The launch was released (`Ending::Released`): its first requeued cell was the one it
    /// was in.
    pub released: bool,
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
        self.run_with(&self.mpi())
    }

    /// Runs every cell of every rank count through `launches`, in two phases (and a third
    /// when needed), whose launches interleave through a gate (`run/schedule.rs`).
    ///
    /// The first phase takes each rank count in turn, for as long as its queue holds a timed
    /// cell (see [`needs_the_machine`]): the first launch runs every cell, the timed ones
    /// first; after a failure, the timed cells it cut short run again. Such a launch starts
    /// only when no other runs, and none starts beside it until its ranks are past its timed
    /// cells. Everything else runs beside, several launches at once (`overlap`), while a
    /// first-phase launch is in its untimed rest and after the first phase: part 1's
    /// zero-buffer cells (known from the start to need no clock, each rank count's in a
    /// launch of their own), what is left of each rank count after its first phase
    /// (re-launches that time nothing), and the parts that hung. Those cells give a verdict,
    /// not a time, and the tracer's verdict does not depend on the load. A part that hung (or
    /// timed out) at one rank count is not run alone at the rank counts after it: its cells
    /// there are waited out together once the first phase is over.
    ///
    /// A first-phase launch in which ranks others wait on stay outside MPI for
    /// [`RELEASE_AFTER`] is stopped there (`Ending::Released`) rather than made to wait out
    /// the hang limit alone: its part is waited out in the second phase like a part that hung.
    /// If that part then completes after all (slow, not stuck), its timed cells run once more,
    /// alone, in a third phase, so that its times are the machine's alone.
    pub fn run_with(&self, launches: &(dyn Launches + Sync)) -> Result<MatrixRun> {
        let shared = Mutex::new(Shared::default());
        let cells: Vec<Vec<Cell>> = (self.challenge.ranks.iter())
            .map(|&ranks| cells_for(self.challenge, &self.parts, ranks))
            .collect();
        // Launch numbers (run ids, payload keys, run directories) depend on the rank count and
        // the launch's place among its own, never on how the launches of a grade interleave:
        // a seed gives the same payloads whatever the schedule. The waits for a part that hung,
        // the third phase and the cells beside from the start number their own. A rank count
        // cannot have more launches in a phase than cells and parts: each launch settles a
        // cell, but a released one, and a part's launch is released once at most.
        let most = cells.iter().map(Vec::len).max().unwrap_or(0) + self.parts.len();
        let stride = most as u32 + 1;
        let span = stride * self.challenge.ranks.len() as u32;
        let pending: Pending<Chain> = Pending::default();
        let (mut firsts, mut early) = (Vec::new(), Vec::new());
        for (slot, queue) in cells.into_iter().enumerate() {
            let ranks = self.challenge.ranks[slot];
            let (beside, queue): (Vec<Cell>, Vec<Cell>) = queue
                .into_iter()
                .partition(|c| self.beside_from_the_start(c));
            if !beside.is_empty() {
                early.push(Chain::new(ranks, 3 * span + slot as u32 * stride, beside));
            }
            firsts.push(Chain::new(ranks, slot as u32 * stride, queue));
        }
        // The launch in its untimed rest takes one of the places itself.
        let gate = Arc::new(Gate::new(self.overlap.running.saturating_sub(1)));
        let failed: Mutex<Option<crate::error::Error>> = Mutex::new(None);
        let slots = Slots::new(self.overlap.running);
        let workers = self.overlap.in_all.max(self.overlap.running).max(1);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| self.beside(launches, &pending, &slots, &gate, &shared, &failed));
            }
            // However the first phase ends, the threads beside are let through and told that
            // nothing more comes.
            let _over = Over(&gate, &pending);
            let first = self.first_phase(launches, firsts, early, &pending, &gate, &shared, span);
            if let Err(e) = first {
                lock(&failed).get_or_insert(e);
            }
        });
        if let Some(e) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(e);
        }
        self.retime(launches, &shared, 2 * span, stride)?;
        let mut shared = shared.into_inner().unwrap_or_else(|e| e.into_inner());
        shared.run.warnings.sort();
        Ok(shared.run)
    }

    /// Whether `cell` needs no clock and no earlier cell of its rank count to run: the
    /// zero-buffer cell of a part expected to deadlock, which would come after the deadlock
    /// that ends the rank count's first launch.
    fn beside_from_the_start(&self, cell: &Cell) -> bool {
        cell.mode == Mode::ZeroBuffer
            && (self.parts.iter()).any(|p| p.name == cell.part && p.expect == Expect::Deadlock)
    }

    /// The first phase: each rank count's chain alone while it has timed cells; what is left
    /// of it goes to the threads beside. The waits for a part that hung are numbered from
    /// `span` on. The `early` chains go beside once the first rank count is done: by then a
    /// part that is not implemented is known, and is not launched again at the others.
    #[allow(clippy::too_many_arguments)]
    fn first_phase(
        &self,
        launches: &(dyn Launches + Sync),
        firsts: Vec<Chain>,
        mut early: Vec<Chain>,
        pending: &Pending<Chain>,
        gate: &Arc<Gate>,
        shared: &Mutex<Shared>,
        span: u32,
    ) -> Result<()> {
        let count = firsts.len();
        // `MPI_GRADE_AHEAD=0`: no launch starts ahead (the benchmark's baseline).
        let early_start = self.overlap != Overlap::ALONE
            && std::env::var("MPI_GRADE_AHEAD").map_or(true, |v| v.trim() != "0");
        let ahead: Vec<Ahead> = (0..count).map(|_| Ahead::default()).collect();
        std::thread::scope(|scope| {
            let _withdraw = Withdraw(&ahead);
            // Rank count n + 1's first launch starts once rank count n's got into its untimed
            // rest and ended.
            let starters: Vec<_> = (1..count)
                .filter(|_| early_start)
                .map(|n| {
                    let (before, ahead) = (&ahead[n - 1], &ahead[n]);
                    let chain = (firsts[n].ranks, firsts[n].first, firsts[n].queue.clone());
                    let last = n + 1 == count;
                    scope.spawn(move || {
                        if before.reached.heard() {
                            self.start_ahead(launches, scope, chain, shared, gate, last, ahead);
                        }
                    })
                })
                .collect();
            let mut starters = starters.into_iter();
            for (n, mut chain) in firsts.into_iter().enumerate() {
                if n > 0 && early_start {
                    // Its start (or not) is decided once rank count n - 1 is done.
                    starters.next().map(|s| s.join());
                }
                let first = Phase::First(gate, n + 1 == count, early_start.then(|| &ahead[n]));
                let drained = self.drain(launches, &mut chain, shared, first);
                ahead[n].reached.tell(false);
                // Started ahead, but the rank count had nothing to launch alone after all.
                if let Some(started) = lock(&ahead[n].started).1.take() {
                    started.hold.withdraw();
                }
                drained?;
                // The cells of a part that hung wait on their own, so that the rank count's
                // other cells need not wait for them.
                let later = std::mem::take(&mut chain.later);
                pending.push(Chain::new(chain.ranks, span + chain.first, later));
                pending.push(chain);
                for chain in early.drain(..) {
                    pending.push(chain);
                }
            }
            Ok(())
        })
    }

    /// Starts the first launch of a rank count (`ranks`, its first launch number and its
    /// queue) ahead of its turn, held, if the rank count has a launch that needs the machine
    /// to itself: its ranks start up while the launches beside finish, and `drain` lets it in
    /// once it may run alone, or withdraws it if the cells it should run are no longer these
    /// (a launch beside found a part `todo!()`).
    #[allow(clippy::too_many_arguments)]
    fn start_ahead<'scope>(
        &self,
        launches: &'scope (dyn Launches + Sync),
        scope: &'scope std::thread::Scope<'scope, '_>,
        (ranks, first, queue): (u32, u32, Vec<Cell>),
        shared: &Mutex<Shared>,
        gate: &Arc<Gate>,
        last: bool,
        ahead: &Ahead,
    ) {
        // The cells `next_turn` would give the launch now.
        let cells: Vec<Cell> = {
            let shared = lock(shared);
            let now = |c: &Cell| !not_again(&shared, c) && !shared.hung.contains(&c.part);
            let cells: Vec<Cell> = queue.into_iter().filter(now).take(MAX_CELLS).collect();
            if !cells.iter().any(|c| timed(&self.parts, &shared, c))
                || crate::run::interrupt::requested()
            {
                return;
            }
            cells
        };
        let untimed = self.untimed(&cells, shared, gate, last, Some(Arc::clone(&ahead.reached)));
        let hold = Arc::new(Hold::default());
        let request = self.request(
            ranks,
            &cells,
            first,
            self.release(),
            Some(untimed),
            Some(Arc::clone(&hold)),
        );
        let mut started = lock(&ahead.started);
        if started.0 {
            return;
        }
        let ended: Arc<Said<Yielded>> = Arc::default();
        let end = Arc::clone(&ended);
        scope.spawn(move || {
            let launch = std::panic::AssertUnwindSafe(|| launches.launch(request));
            end.say(std::panic::catch_unwind(launch));
        });
        started.1 = Some(Started {
            index: first,
            cells,
            hold,
            ended,
        });
    }

    /// One thread beside the first phase and after it: takes chains from `pending` until
    /// none is left, each only once its launch may start (through the gate, with a place in
    /// the slots when it runs cells): the chains that wait out a part that hung first once
    /// the first phase is over (they are the longest, and take no core), else those with the
    /// most cells, then the fewest ranks.
    fn beside(
        &self,
        launches: &(dyn Launches + Sync),
        pending: &Pending<Chain>,
        slots: &Slots,
        gate: &Gate,
        shared: &Mutex<Shared>,
        failed: &Mutex<Option<crate::error::Error>>,
    ) {
        loop {
            if lock(failed).is_some() {
                return;
            }
            let waits = |c: &Chain| {
                (c.queue.first()).is_some_and(|cell| lock(shared).hung.contains(&cell.part))
            };
            let ready = |c: &Chain| {
                let waits = waits(c);
                c.queue.is_empty() || (gate.would_enter(waits) && (waits || slots.any_free()))
            };
            let best = |c: &Chain| {
                let waits = waits(c);
                // A wait starts the hang limit's clock: the slowest to start (the most ranks)
                // first. Anything else: the most cells, then the fewest ranks, whose launch
                // ends soonest and keeps the next timed launch waiting least.
                let ranks = if waits { u32::MAX - c.ranks } else { c.ranks };
                (!waits, std::cmp::Reverse(c.queue.len()), ranks)
            };
            let Some(mut chain) = pending.next_ready(ready, best) else {
                return;
            };
            if chain.queue.is_empty() {
                continue;
            }
            if let Err(e) = self.drain(launches, &mut chain, shared, Phase::Beside(slots, gate)) {
                lock(failed).get_or_insert(e);
            }
        }
    }

    /// The third phase: the timed cells of parts whose first-phase launch was released and
    /// that passed beside other launches run again, alone, one rank count after another.
    /// Launches are numbered from `first`, `stride` per rank count.
    fn retime(
        &self,
        launches: &(dyn Launches + Sync),
        shared: &Mutex<Shared>,
        first: u32,
        stride: u32,
    ) -> Result<()> {
        let again: Vec<Cell> = {
            let shared = lock(shared);
            (shared.run.results.iter())
                .filter(|(cell, record)| {
                    shared.released.contains(&cell.part)
                        && needs_the_machine(&self.parts, cell)
                        && record.result.outcome == Outcome::Pass
                })
                .map(|(cell, _)| cell.clone())
                .collect()
        };
        for (slot, &ranks) in self.challenge.ranks.iter().enumerate() {
            let queue: Vec<Cell> = (again.iter())
                .filter(|c| c.ranks == ranks)
                .cloned()
                .collect();
            let mut chain = Chain {
                ranks,
                first: first + slot as u32 * stride,
                next: 0,
                queue: cells_for(self.challenge, &self.parts, ranks)
                    .into_iter()
                    .filter(|c| queue.contains(c))
                    .collect(),
                later: Vec::new(),
            };
            self.drain(launches, &mut chain, shared, Phase::Retime)?;
        }
        Ok(())
    }

    /// Runs `chain`'s queue, launch after launch, until it is empty or, in the first phase,
    /// until no cell left in it needs the machine to itself. Beside others, each launch takes
    /// a place in the slots, unless it waits out a part that hung (its first cell is of that
    /// part).
    fn drain(
        &self,
        launches: &(dyn Launches + Sync),
        chain: &mut Chain,
        shared: &Mutex<Shared>,
        phase: Phase<'_>,
    ) -> Result<()> {
        loop {
            let Some(waits_out) = self.next_turn(chain, shared, phase) else {
                return Ok(());
            };
            let _places = match phase {
                Phase::Beside(slots, gate) => {
                    let pass = gate.enter(waits_out);
                    Some((pass, (!waits_out).then(|| slots.take())))
                }
                _ => None,
            };
            let release = matches!(phase, Phase::First(..))
                .then(|| self.release())
                .flatten();
            let rest = chain.queue.split_off(chain.queue.len().min(MAX_CELLS));
            let index = chain.first + chain.next;
            chain.next += 1;
            let launched = match phase {
                Phase::First(gate, last, ahead) => {
                    let started = ahead.and_then(|a| a.take(index, &chain.queue));
                    gate.alone();
                    // One that did not get its ranks started (what the launch before it held,
                    // a submission's process limit say, was not free yet) runs anew, now.
                    let yielded = started
                        .map(|started| {
                            started.hold.go();
                            started.yielded()
                        })
                        .filter(
                            |y| matches!(y, Ok(e) if e.started || e.ending == Ending::Interrupted),
                        );
                    let launched = match yielded {
                        Some(evidence) => (evidence)
                            .and_then(|e| self.judged(chain.ranks, &chain.queue, index, e)),
                        None => {
                            let reached = ahead.map(|a| Arc::clone(&a.reached));
                            let untimed = self.untimed(&chain.queue, shared, gate, last, reached);
                            let (ranks, cells) = (chain.ranks, &chain.queue);
                            self.launch_with(launches, ranks, cells, index, release, Some(untimed))
                        }
                    };
                    gate.close();
                    launched
                }
                _ => self.launch_with(launches, chain.ranks, &chain.queue, index, release, None),
            };
            let batch = launched?;
            (self.progress)(
                chain.ranks,
                batch.settled.len(),
                chain.queue.len(),
                batch.seconds,
            );
            self.settle(chain, shared, phase, batch, rest);
            if let Phase::First(_, _, Some(ahead)) = phase {
                // Settled: the next rank count's first launch starts ahead knowing it.
                ahead.reached.launch_ended();
            }
        }
    }

    /// Before `chain`'s next launch: settles the cells it need not run (a part not
    /// implemented, an interrupted grade) and, in the first phase, sets aside the cells of
    /// parts that hung for the second. `None` when the chain is done for this phase, else
    /// whether its next launch waits out a part that hung.
    fn next_turn(
        &self,
        chain: &mut Chain,
        shared: &Mutex<Shared>,
        phase: Phase<'_>,
    ) -> Option<bool> {
        let mut shared = lock(shared);
        // A `todo!()` is the same at every rank count: do not launch it again at a larger
        // one. A smaller one still runs it (side by side, a larger rank count can get there
        // first), so the first rank count's cells say what happened.
        let (skip, keep): (Vec<Cell>, Vec<Cell>) = std::mem::take(&mut chain.queue)
            .into_iter()
            .partition(|c| not_again(&shared, c));
        for cell in skip {
            let record = skipped(NotRun::PartNotImplemented);
            shared.run.results.insert(cell, record);
        }
        chain.queue = keep;
        if crate::run::interrupt::requested() {
            for cell in chain.queue.drain(..) {
                let record = skipped(NotRun::Interrupted);
                shared.run.results.insert(cell, record);
            }
        }
        if matches!(phase, Phase::First(..)) {
            let (later, now): (Vec<Cell>, Vec<Cell>) = std::mem::take(&mut chain.queue)
                .into_iter()
                .partition(|c| shared.hung.contains(&c.part));
            chain.later.extend(later);
            chain.queue = now;
        }
        let timed = |c: &Cell| timed(&self.parts, &shared, c);
        if chain.queue.is_empty()
            || (matches!(phase, Phase::First(..)) && !chain.queue.iter().any(timed))
        {
            return None;
        }
        Some((chain.queue.first()).is_some_and(|c| shared.hung.contains(&c.part)))
    }

    /// Takes in what one of `chain`'s launches settled; what it cut short, and `rest` (the
    /// cells beyond one launch's), make the chain's queue.
    fn settle(
        &self,
        chain: &mut Chain,
        shared: &Mutex<Shared>,
        phase: Phase<'_>,
        batch: Batch,
        rest: Vec<Cell>,
    ) {
        let mut shared = lock(shared);
        shared.run.launches += 1;
        if shared.run.library.is_none() {
            shared.run.library = batch.library;
        }
        shared.run.warnings.extend(
            (batch.survivors).map(|s| format!("processes of a launch could not be stopped: {s}")),
        );
        let alone = !matches!(phase, Phase::Beside(..));
        if let (true, Some(cell)) = (batch.released, batch.requeue.first()) {
            // Waited out beside others from now on, timed again alone if it completes.
            shared.hung.insert(cell.part.clone());
            shared.released.insert(cell.part.clone());
        }
        for (cell, record) in batch.settled {
            match record.result.outcome {
                Outcome::NotImplemented(_) => {
                    let at = shared.not_implemented.entry(cell.part.clone());
                    let at = at.or_insert(cell.ranks);
                    *at = (*at).min(cell.ranks);
                }
                Outcome::Hang(_) | Outcome::Timeout(_) if alone => {
                    shared.hung.insert(cell.part.clone());
                }
                _ => {}
            }
            shared.run.results.insert(cell, record);
        }
        chain.queue = batch.requeue.into_iter().chain(rest).collect();
    }

    /// Runs `cells` (at most `MAX_CELLS`, all at `ranks` ranks) in one launch under `mpiexec`,
    /// numbered `index` among this matrix's launches.
    pub fn launch(&self, ranks: u32, cells: &[Cell], index: u32) -> Result<Batch> {
        self.launch_with(&self.mpi(), ranks, cells, index, None, None)
    }

    /// Where a first-phase launch of `cells` stops timing: after its last timed cell (of a
    /// part that has not hung). Getting there opens `gate` (wide for the `last` rank count)
    /// and is noted in `reached`.
    fn untimed(
        &self,
        cells: &[Cell],
        shared: &Mutex<Shared>,
        gate: &Arc<Gate>,
        last: bool,
        reached: Option<Arc<Signal>>,
    ) -> Untimed {
        let from = {
            let shared = lock(shared);
            (cells.iter())
                .rposition(|c| timed(&self.parts, &shared, c))
                .map_or(0, |last| last as u32 + 1)
        };
        let gate = Arc::clone(gate);
        Untimed {
            from,
            signal: Arc::new(move || {
                gate.open(last);
                if let Some(reached) = &reached {
                    reached.in_rest();
                }
            }),
        }
    }

    /// The time out of the ranks' idling in a launch that has the machine alone (see
    /// [`RELEASE_AFTER`]), when the hang limit leaves room for it.
    fn release(&self) -> Option<std::time::Duration> {
        (self.limits.hang_seconds > 2.0 * RELEASE_AFTER.as_secs_f64()).then_some(RELEASE_AFTER)
    }

    /// Runs `cells` in one launch through `launches` and judges what it yielded.
    pub fn launch_with(
        &self,
        launches: &(dyn Launches + Sync),
        ranks: u32,
        cells: &[Cell],
        index: u32,
        release_after: Option<std::time::Duration>,
        untimed: Option<Untimed>,
    ) -> Result<Batch> {
        let request = self.request(ranks, cells, index, release_after, untimed, None);
        let evidence = launches.launch(request)?;
        self.judged(ranks, cells, index, evidence)
    }

    /// What to ask of `launches` to run `cells` in one launch, numbered `index`.
    fn request(
        &self,
        ranks: u32,
        cells: &[Cell],
        index: u32,
        release_after: Option<std::time::Duration>,
        untimed: Option<Untimed>,
        hold: Option<Arc<Hold>>,
    ) -> LaunchPlan {
        LaunchPlan {
            index,
            plan: plan(self.challenge, self.seed, index, ranks, cells, &self.parts),
            keys: launch_keys(self.seed, index, ranks),
            release_after,
            untimed,
            hold,
        }
    }

    /// What the launch numbered `index` of `cells` settled, from what it yielded.
    fn judged(
        &self,
        ranks: u32,
        cells: &[Cell],
        index: u32,
        mut evidence: Evidence,
    ) -> Result<Batch> {
        let planned = plan(self.challenge, self.seed, index, ranks, cells, &self.parts).cells;
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
            released: evidence.ending == Ending::Released,
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
        use crate::run::cells::scripted::{all_pass, before, evidence, Scripted, Step, Then};
        use crate::trace::detect::Finding;
        use crate::trace::diagnosis::{Diagnosis, StallKind};
        use mpi_grade_protocol::run::{Plan, PlannedCell};
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

        fn run(challenge: &Challenge, launches: &Scripted) -> Result<MatrixRun> {
            run_overlapped(challenge, launches, Overlap::ALONE)
        }

        fn run_overlapped(
            challenge: &Challenge,
            launches: &Scripted,
            overlap: Overlap,
        ) -> Result<MatrixRun> {
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
                    source_dir: "/nonexistent/submission".into(),
                    memoized: false,
                },
                tracer: None,
                submission: Path::new("/nonexistent/submission"),
                seed: 7,
                scratch: PathBuf::from("/nonexistent/scratch"),
                limits: &challenge.limits,
                progress: &|_, _, _, _| {},
                jail: None,
                keep_runs: false,
                overlap,
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
            edit: impl Fn(&mut Evidence) + Send + 'static,
        ) -> Scripted {
            let function = function(challenge, part);
            let first: Step = Box::new(move |launch: &LaunchPlan| {
                let plan = &launch.plan;
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

        /// Launches as a grade of a correct part 1 sees them: part 1 deadlocks from 1 000
        /// elements per block and in zero-buffer mode; the first cell of `hang` (if any) hangs.
        fn like_a_grade(challenge: &Challenge, hang: Option<&str>) -> Then {
            let part1 = function(challenge, "part1");
            let hang = hang.map(|p| function(challenge, p));
            Box::new(move |launch: &LaunchPlan| {
                let plan = &launch.plan;
                let hangs = |c: &PlannedCell| Some(&c.function) == hang.as_ref();
                let at = before(plan, |c| {
                    hangs(c)
                        || (c.function == part1
                            && (c.scaling_factor >= 1000 || c.mode == Mode::ZeroBuffer))
                });
                let ending = match plan.cells.get(at) {
                    None => Ending::Exited,
                    Some(c) if hangs(c) => stalled(StallKind::Hang, vec![0]),
                    Some(_) => stalled(StallKind::Deadlock, vec![]),
                };
                evidence(at, ending)
            })
        }

        /// Launches as [`like_a_grade`]'s, but the first cell of `part` idles outside MPI: a
        /// launch that may be released is; otherwise that cell hangs if `hangs`, else it
        /// completes (slow, not stuck).
        fn idles(challenge: &Challenge, part: &str, hangs: bool) -> Then {
            let part1 = function(challenge, "part1");
            let idle = function(challenge, part);
            Box::new(move |launch: &LaunchPlan| {
                let plan = &launch.plan;
                let releases = launch.release_after.is_some();
                let idles = |c: &PlannedCell| {
                    c.function == idle && c.scaling_factor == 1 && c.mode == Mode::Standard
                };
                let at = before(plan, |c| {
                    (idles(c) && (releases || hangs))
                        || (c.function == part1
                            && (c.scaling_factor >= 1000 || c.mode == Mode::ZeroBuffer))
                });
                let ending = match plan.cells.get(at) {
                    None => Ending::Exited,
                    Some(c) if idles(c) && releases => Ending::Released,
                    Some(c) if idles(c) => stalled(StallKind::Hang, vec![0]),
                    Some(_) => stalled(StallKind::Deadlock, vec![]),
                };
                evidence(at, ending)
            })
        }

        /// A timed launch: one whose plan repeats a cell to time it, of a part other than
        /// `hung` (whose cells still repeat, but give no verdict on time once it hung).
        fn timed(plan: &Plan, hung: &str) -> bool {
            (plan.cells.iter()).any(|c| c.repetitions > 1 && c.function != hung)
        }

        /// `running` launches that run cells side by side, and up to four times as many in all.
        fn beside(running: usize) -> Overlap {
            Overlap {
                running,
                in_all: 4 * running,
            }
        }

        fn outcomes(run: &MatrixRun) -> Vec<(Cell, Outcome)> {
            (run.results.iter())
                .map(|(c, r)| (c.clone(), r.result.outcome.clone()))
                .collect()
        }

        #[test]
        fn a_grade_overlapped_settles_every_cell_as_one_launch_at_a_time_does() {
            let challenge = challenge(&[2, 3, 4, 6]);
            for hang in [None, Some("part3")] {
                let alone = Scripted::new(Vec::new(), Some(like_a_grade(&challenge, hang)));
                let side_by_side = Scripted::new(Vec::new(), Some(like_a_grade(&challenge, hang)));
                let a = run_overlapped(&challenge, &alone, Overlap::ALONE).unwrap();
                let b = run_overlapped(&challenge, &side_by_side, beside(3)).unwrap();
                assert_eq!(outcomes(&a), outcomes(&b), "{hang:?}");
                assert_eq!(a.results.len(), 4 * 21);
                assert_eq!(a.launches, b.launches);
                // The same launches, numbered the same: a seed gives the same payloads
                // whatever the schedule.
                let numbered = |s: &Scripted| {
                    let mut plans: Vec<(u64, u32, usize)> = (s.plans().iter())
                        .map(|p| (p.run_id, p.ranks, p.cells.len()))
                        .collect();
                    plans.sort();
                    plans
                };
                assert_eq!(numbered(&alone), numbered(&side_by_side), "{hang:?}");
            }
        }

        #[test]
        fn launches_that_time_nothing_run_in_a_timed_launchs_untimed_rest_never_beside_its_timed_cells(
        ) {
            use std::time::{Duration, Instant};
            let challenge = challenge(&[2, 3, 4, 6]);
            // (a first-phase launch, its start, the end of its timed cells, its end)
            type Entry = (bool, Instant, Instant, Instant);
            let log: Arc<Mutex<Vec<Entry>>> = Arc::default();
            let grade = like_a_grade(&challenge, None);
            let seen = Arc::clone(&log);
            let then: Then = Box::new(move |launch: &LaunchPlan| {
                let start = Instant::now();
                std::thread::sleep(Duration::from_millis(20));
                let timed_end = Instant::now();
                if let Some(untimed) = &launch.untimed {
                    (untimed.signal)();
                    std::thread::sleep(Duration::from_millis(40));
                }
                let entry = (launch.untimed.is_some(), start, timed_end, Instant::now());
                seen.lock().unwrap().push(entry);
                grade(launch)
            });
            let launches = Scripted::new(Vec::new(), Some(then));
            let run = run_overlapped(&challenge, &launches, beside(2)).unwrap();
            let alone = Scripted::new(Vec::new(), Some(like_a_grade(&challenge, None)));
            let before = run_overlapped(&challenge, &alone, Overlap::ALONE).unwrap();
            assert_eq!(outcomes(&run), outcomes(&before));
            let log = log.lock().unwrap();
            let (firsts, others): (Vec<&Entry>, Vec<&Entry>) = log.iter().partition(|e| e.0);
            assert_eq!(firsts.len(), 4);
            for first in &firsts {
                for other in &others {
                    // Nothing beside a timed launch until it is past its timed cells.
                    assert!(other.3 <= first.1 || other.1 >= first.2);
                }
            }
            // Part 1's zero-buffer cells, each rank count's in a launch of its own, ran in
            // the untimed rests, not all after the first phase.
            assert_eq!(others.len(), 4);
            let last_first = firsts.iter().map(|f| f.3).max().unwrap();
            assert!(others.iter().filter(|o| o.1 < last_first).count() >= 3);
            // The first launch of every rank count but the first was started ahead, held, and
            // let in (the script runs a launch once it is): none ran beside a timed one.
            let held = launches
                .requests()
                .iter()
                .filter(|r| r.hold.is_some())
                .count();
            assert_eq!((held, launches.withdrawn()), (3, 0));
            let alone = alone.requests();
            assert!(
                alone.iter().all(|r| r.hold.is_none()),
                "started ahead, alone"
            );
        }

        #[test]
        fn a_launch_started_ahead_knows_what_the_launch_before_it_found() {
            // Part 1 is `todo!()`, which the rest of the launch at 2 ranks finds: the launches
            // at 3 and 4 ranks start ahead once it is settled, without part 1's cells.
            let challenge = challenge(&[2, 3, 4]);
            let part1 = function(&challenge, "part1");
            let script = || -> Then {
                let (grade, part1) = (like_a_grade(&challenge, None), part1.clone());
                Box::new(move |launch: &LaunchPlan| {
                    if let Some(untimed) = &launch.untimed {
                        (untimed.signal)();
                    }
                    let at = before(&launch.plan, |c| c.function == part1);
                    if at == launch.plan.cells.len() {
                        return grade(launch);
                    }
                    let mut e = evidence(at, Ending::Exited);
                    e.panic = Some(panic_of(0, "not yet implemented"));
                    e
                })
            };
            let ahead = Scripted::new(Vec::new(), Some(script()));
            let alone = Scripted::new(Vec::new(), Some(script()));
            let run = run_overlapped(&challenge, &ahead, beside(2)).unwrap();
            let before = run_overlapped(&challenge, &alone, Overlap::ALONE).unwrap();
            assert_eq!(outcomes(&run), outcomes(&before));
            assert_eq!(run.launches, before.launches);
            assert_eq!(ahead.withdrawn(), 0);
            let held: Vec<u32> = (ahead.requests().iter())
                .filter(|r| r.hold.is_some())
                .map(|r| r.plan.ranks)
                .collect();
            assert_eq!(held, [3, 4]);
            assert!((ahead.plans().iter())
                .filter(|p| p.ranks > 2)
                .all(|p| p.cells.iter().all(|c| c.function != part1)));
        }

        #[test]
        fn a_launch_started_ahead_for_other_cells_is_withdrawn_and_waited_for() {
            use crate::run::schedule::Held;
            let cell = |sf| Cell {
                part: "part2".into(),
                function: "part2".into(),
                ranks: 2,
                scaling_factor: sf,
                mode: Mode::Standard,
            };
            let ahead = Ahead::default();
            std::thread::scope(|scope| {
                let hold = Arc::new(Hold::default());
                let ended: Arc<Said<Yielded>> = Arc::default();
                let (h, end) = (Arc::clone(&hold), Arc::clone(&ended));
                scope.spawn(move || {
                    let withdrawn = !h.wait();
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    let ending = if withdrawn {
                        Ending::Interrupted
                    } else {
                        Ending::Exited
                    };
                    end.say(Ok(Ok(evidence(0, ending))));
                });
                let started = Started {
                    index: 3,
                    cells: vec![cell(1)],
                    hold,
                    ended,
                };
                let hold = Arc::clone(&started.hold);
                lock(&ahead.started).1 = Some(started);
                // Asked for other cells: withdrawn, and over once `take` returns.
                assert!(ahead.take(3, &[cell(10)]).is_none());
                assert_eq!(hold.state(), Held::Withdrawn);
                assert!(lock(&ahead.started).1.is_none());
            });
            assert!(
                ahead.take(3, &[cell(1)]).is_none(),
                "nothing is left to take"
            );
        }

        #[test]
        fn a_part_that_hangs_is_waited_out_together_at_the_rank_counts_after() {
            let challenge = challenge(&[2, 3, 4]);
            let launches = Scripted::new(Vec::new(), Some(like_a_grade(&challenge, Some("part3"))));
            let run = run_overlapped(&challenge, &launches, beside(2)).unwrap();
            let part3 = function(&challenge, "part3");
            for ranks in [2, 3, 4] {
                let (_, record) = (run.results.iter())
                    .find(|(c, _)| {
                        c.part == "part3"
                            && c.ranks == ranks
                            && c.scaling_factor == 1
                            && c.mode == Mode::Standard
                    })
                    .unwrap();
                assert!(
                    matches!(record.result.outcome, Outcome::Hang(_)),
                    "{ranks}: {:?}",
                    record.result.outcome
                );
                // The part already failed there: its zero-buffer cell would only hang again.
                let (_, zero_buffer) = (run.results.iter())
                    .find(|(c, _)| {
                        c.part == "part3" && c.ranks == ranks && c.mode == Mode::ZeroBuffer
                    })
                    .unwrap();
                assert_eq!(
                    zero_buffer.result.outcome,
                    Outcome::NotRun(NotRun::AfterFailure {
                        at: "1 elements per block".into()
                    })
                );
            }
            // One wait per rank count: part 3 is in no launch after its hang there.
            let hangs_of_part3 = |p: &&Plan| p.cells[0].function == part3 && p.ranks > 2;
            assert_eq!(launches.plans().iter().filter(hangs_of_part3).count(), 2);
            let plans = launches.plans();
            // After the hang at 2 ranks, part 3 is no longer in a timed launch...
            let with_part3 = |p: &Plan| p.cells.iter().any(|c| c.function == part3);
            assert!(plans
                .iter()
                .filter(|p| p.ranks > 2 && timed(p, &part3))
                .all(|p| !with_part3(p)));
            // ...but in launches after every timed one.
            let last_timed = plans.iter().rposition(|p| timed(p, &part3)).unwrap();
            let first_hang_after = (plans.iter())
                .position(|p| p.ranks > 2 && with_part3(p))
                .unwrap();
            assert!(first_hang_after > last_timed);
        }

        #[test]
        fn a_launch_released_alone_is_waited_out_beside_others() {
            let challenge = challenge(&[2, 3, 4]);
            let launches = Scripted::new(Vec::new(), Some(idles(&challenge, "part3", true)));
            let run = run_overlapped(&challenge, &launches, beside(2)).unwrap();
            for ranks in [2, 3, 4] {
                let got = |sf: u64, mode: Mode| {
                    let (_, record) = (run.results.iter())
                        .find(|(c, _)| {
                            c.part == "part3"
                                && c.ranks == ranks
                                && c.scaling_factor == sf
                                && c.mode == mode
                        })
                        .unwrap();
                    record.result.outcome.clone()
                };
                assert!(
                    matches!(got(1, Mode::Standard), Outcome::Hang(_)),
                    "{ranks}"
                );
                assert!(
                    matches!(got(1, Mode::ZeroBuffer), Outcome::NotRun(_)),
                    "{ranks}"
                );
            }
            let part3 = function(&challenge, "part3");
            let requests = launches.requests();
            let with_part3 = |r: &&LaunchPlan| r.plan.cells.iter().any(|c| c.function == part3);
            // Released once, at 2 ranks; part 3 is in no other launch that may be released...
            let releasable: Vec<&LaunchPlan> = (requests.iter())
                .filter(|r| r.release_after.is_some())
                .filter(with_part3)
                .collect();
            assert_eq!(releasable.len(), 1);
            assert_eq!(releasable[0].plan.ranks, 2);
            // ...and waited out once per rank count, beside others, after every timed launch.
            let waits: Vec<usize> = (requests.iter().enumerate())
                .filter(|(_, r)| r.release_after.is_none() && r.plan.cells[0].function == part3)
                .map(|(i, _)| i)
                .collect();
            assert_eq!(waits.len(), 3);
            let last_timed = (requests.iter())
                .rposition(|r| timed(&r.plan, &part3))
                .unwrap();
            assert!(waits[0] > last_timed);
            assert_eq!(run.results.len(), 3 * 21);
        }

        #[test]
        fn a_released_part_that_completes_is_timed_again_alone() {
            let challenge = challenge(&[2, 3, 4]);
            let part3 = function(&challenge, "part3");
            let mut seen = Vec::new();
            for overlap in [Overlap::ALONE, beside(3)] {
                let launches = Scripted::new(Vec::new(), Some(idles(&challenge, "part3", false)));
                let run = run_overlapped(&challenge, &launches, overlap).unwrap();
                assert_eq!(run.results.len(), 3 * 21);
                assert!(
                    (run.results.iter())
                        .filter(|(c, _)| c.part != "part1")
                        .all(|(_, r)| r.result.outcome == Outcome::Pass),
                    "{overlap:?}"
                );
                // The last launches time part 3's standard cells again, alone, rank count
                // after rank count, and may not be released.
                let requests = launches.requests();
                let last = &requests[requests.len() - 3..];
                for (request, ranks) in last.iter().zip([2, 3, 4]) {
                    assert_eq!(request.plan.ranks, ranks);
                    assert!(request.release_after.is_none());
                    assert_eq!(request.plan.cells.len(), 6);
                    assert!((request.plan.cells.iter())
                        .all(|c| c.function == part3 && c.repetitions > 1));
                }
                let mut numbered: Vec<(u64, u32, usize)> = (requests.iter())
                    .map(|r| (r.plan.run_id, r.plan.ranks, r.plan.cells.len()))
                    .collect();
                numbered.sort();
                seen.push((outcomes(&run), numbered, run.launches));
            }
            // The same cells, the same launches, numbered the same, whatever the schedule.
            assert!(seen[0] == seen[1]);
        }

        #[test]
        fn launches_that_time_nothing_overlap_but_never_with_a_timed_one() {
            use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
            use std::sync::Arc;
            #[derive(Default)]
            struct Seen {
                running: AtomicUsize,
                waiting: AtomicUsize,
                timed_in_flight: AtomicUsize,
                most_running: AtomicUsize,
                most_waiting: AtomicUsize,
                most_in_all: AtomicUsize,
                beside_timed: AtomicBool,
            }
            // Part 3 hangs at 2 ranks, alone; at 3, 4 and 6 ranks its launches wait it out.
            for (overlap, running, waiting) in [(Overlap::ALONE, 1, 1), (beside(2), 2, 3)] {
                let challenge = challenge(&[2, 3, 4, 6]);
                let seen = Arc::new(Seen::default());
                let inner = like_a_grade(&challenge, Some("part3"));
                let part3 = function(&challenge, "part3");
                let s = seen.clone();
                let watched: Then = Box::new(move |launch: &LaunchPlan| {
                    let plan = &launch.plan;
                    let is_timed = timed(plan, &part3);
                    let waits_out = plan.ranks > 2 && plan.cells[0].function == part3;
                    let (count, most, want) = match waits_out {
                        true => (&s.waiting, &s.most_waiting, waiting),
                        false => (&s.running, &s.most_running, running),
                    };
                    let now = count.fetch_add(1, SeqCst) + 1;
                    most.fetch_max(now, SeqCst);
                    let all = s.running.load(SeqCst) + s.waiting.load(SeqCst);
                    s.most_in_all.fetch_max(all, SeqCst);
                    if is_timed {
                        s.timed_in_flight.fetch_add(1, SeqCst);
                    }
                    if (is_timed && all > 1)
                        || s.timed_in_flight.load(SeqCst) > usize::from(is_timed)
                    {
                        s.beside_timed.store(true, SeqCst);
                    }
                    // An untimed launch waits a while for the others that may start beside it.
                    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
                    while !is_timed
                        && most.load(SeqCst) < want
                        && std::time::Instant::now() < deadline
                    {
                        std::thread::yield_now();
                    }
                    let evidence = inner(launch);
                    if is_timed {
                        s.timed_in_flight.fetch_sub(1, SeqCst);
                    }
                    count.fetch_sub(1, SeqCst);
                    evidence
                });
                let launches = Scripted::new(Vec::new(), Some(watched));
                run_overlapped(&challenge, &launches, overlap).unwrap();
                assert!(!seen.beside_timed.load(SeqCst), "{overlap:?}");
                assert_eq!(seen.most_running.load(SeqCst), running, "{overlap:?}");
                assert_eq!(seen.most_waiting.load(SeqCst), waiting, "{overlap:?}");
                assert!(
                    seen.most_in_all.load(SeqCst) <= overlap.in_all,
                    "{overlap:?}"
                );
            }
        }

        #[test]
        fn the_cell_ladder_decides_the_cell_the_launch_ended_in() {
            let challenge = challenge(&[3]);
            for (name, edit, expected) in ladder() {
                let launches = fail_at(&challenge, "part2", 100, move |e| {
                    edit(e);
                    e.output = Some("--- stderr (4 bytes) ---\nboom\n".into());
                });
                let run = run(&challenge, &launches).unwrap();
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
            let launches = fail_at(&challenge, "part2", 100, |e| e.status = exit(1));
            let run = run(&challenge, &launches).unwrap();
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
            // Part 1's zero-buffer cell has a launch of its own from the start.
            assert_eq!(run.launches, 3);
            assert_eq!(launches.plans()[0].cells.len(), 20);
            let second = &launches.plans()[1];
            assert_eq!(second.cells.len(), 20 - 3 - 3);
            let third = &launches.plans()[2].cells;
            assert_eq!(third.len(), 1);
            assert_eq!(
                (third[0].function.as_str(), third[0].mode),
                (function(&challenge, "part1").as_str(), Mode::ZeroBuffer)
            );
            assert_eq!(second.cells[0].function, function(&challenge, "part2"));
            assert_eq!(second.cells[0].mode, Mode::ZeroBuffer);
            // Each launch has its own run id; the plan numbers its own cells.
            assert_ne!(launches.plans()[0].run_id, second.run_id);
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
            let launches = fail_at(&challenge, "part1", 1000, |e| {
                e.ending = Ending::CellTimeout {
                    cell: 17,
                    seconds: 5.0,
                }
            });
            let run = run(&challenge, &launches).unwrap();
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
            assert_eq!(launches.plans()[1].cells.len(), 1);
        }

        #[test]
        fn a_detected_deadlock_or_a_time_out_elsewhere_is_a_failure_for_the_sizes_after() {
            let challenge = challenge(&[3]);
            let launches = fail_at(&challenge, "part1", 1000, |e| {
                e.ending = stalled(StallKind::Deadlock, vec![])
            });
            let got = run(&challenge, &launches).unwrap();
            assert_eq!(
                outcome(&got.results, "part1", 10000, Mode::Standard),
                &Outcome::NotRun(NotRun::AfterFailure {
                    at: format!(
                        "{} elements per block",
                        crate::judge::outcome::thousands(1000)
                    )
                })
            );
            let launches = fail_at(&challenge, "part3", 10, |e| {
                e.ending = Ending::CellTimeout {
                    cell: 8,
                    seconds: 5.0,
                }
            });
            let got = run(&challenge, &launches).unwrap();
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
            let crash_first: Then = Box::new(|_| evidence(0, Ending::Exited));
            let launches = Scripted::new(Vec::new(), Some(crash_first));
            let run = run(&challenge, &launches).unwrap();
            assert_eq!(run.results.len(), 42);
            // One launch per part and mode at each rank count: 3 parts, 2 modes.
            assert_eq!(run.launches, 12);
            for pair in launches.plans().windows(2) {
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
            let launches = fail_at(&challenge, "part2", 1, |e| {
                e.panic = Some(panic_of(0, "not yet implemented"))
            });
            let run = run(&challenge, &launches).unwrap();
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
                .plans()
                .iter()
                .filter(|p| p.ranks == 3)
                .all(|p| p.cells.iter().all(|c| c.function != part2)));
        }

        #[test]
        fn a_part_not_implemented_is_found_so_at_the_first_rank_count_whatever_ran_first() {
            // Parts 1 and 3 are `todo!()`: at 2 ranks part 3 ends the first launch, so part 1
            // runs there only after part 1 was found at 3 ranks.
            let challenge = challenge(&[2, 3, 4]);
            let todo = [function(&challenge, "part1"), function(&challenge, "part3")];
            let then: Then = Box::new(move |launch: &LaunchPlan| {
                let plan = &launch.plan;
                let at = before(plan, |c| todo.contains(&c.function));
                let mut e = evidence(at, Ending::Exited);
                if at < plan.cells.len() {
                    e.panic = Some(panic_of(0, "not yet implemented"));
                }
                e
            });
            let launches = Scripted::new(Vec::new(), Some(then));
            let run = run(&challenge, &launches).unwrap();
            for part in ["part1", "part3"] {
                let (_, first) = (run.results.iter())
                    .find(|(c, _)| c.part == part && c.ranks == 2 && c.scaling_factor == 1)
                    .unwrap();
                assert!(
                    matches!(first.result.outcome, Outcome::NotImplemented(_)),
                    "{part}: {:?}",
                    first.result.outcome
                );
            }
        }

        #[test]
        fn an_interrupted_launch_settles_every_cell_it_had() {
            let challenge = challenge(&[3]);
            let launches = fail_at(&challenge, "part2", 100, |e| e.ending = Ending::Interrupted);
            let run = run(&challenge, &launches).unwrap();
            // The interrupted launch, and part 1's zero-buffer cell in its own (the script
            // interrupts one launch, not the grade).
            assert_eq!(run.launches, 2);
            assert_eq!(run.results.len(), 21);
            assert_eq!(
                outcome(&run.results, "part2", 1, Mode::Standard),
                &Outcome::Pass
            );
            assert_eq!(
                outcome(&run.results, "part1", 1, Mode::Standard),
                &Outcome::NotRun(NotRun::Interrupted)
            );
        }

        #[test]
        fn a_job_that_never_started_is_an_error() {
            let challenge = challenge(&[3]);
            let launches = fail_at(&challenge, "part2", 1, |e| {
                e.started = false;
                e.tail = "mpiexec: no slots".into();
            });
            let error = run(&challenge, &launches).err().expect("an error");
            assert_eq!(
                error.to_string(),
                "mpiexec could not start the job (3 ranks): mpiexec: no slots"
            );
        }
    }
}
