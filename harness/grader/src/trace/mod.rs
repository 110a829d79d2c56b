//! What the tracer tells the grader while ranks run, and what the grader concludes from it.
//!
//! - [`records`]: the per-rank shared-memory records, mapped and read as snapshots;
//! - [`graph`]: the AND/OR wait-for graph of one snapshot and who can never be released;
//! - [`detect`]: deadlocks, hangs and vanished ranks, confirmed over time;
//! - [`diagnosis`]: the explanation of a stall (and its Graphviz form);
//! - [`matching`]: collectives that the ranks called differently (MPI's matching rule);
//! - [`stacks`]: stacks captured on request, symbolised to source lines;
//! - [`pystacks`]: the Python stacks of Python ranks, dumped on request;
//! - [`usage`]: which MPI functions each cell called, how often, and where.

pub mod detect;
pub mod diagnosis;
pub mod graph;
pub mod matching;
pub mod pystacks;
pub mod records;
pub mod stacks;
pub mod usage;

use crate::build::compile::Lang;
use crate::error::Result;
use crate::run::procs::LaunchProcs;
use detect::{Detector, Seen};
use mpi_grade_protocol::run;
use records::TraceDir;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long the grader waits for the ranks' stacks once a stall is certain.
const STACK_TIMEOUT: Duration = Duration::from_millis(200);

/// The tracer's side of one launch.
pub struct LaunchTrace {
    /// The mapped record files of the launch's ranks.
    pub dir: TraceDir,
    /// The student's crate, to find source lines in it (`None` outside grading).
    submission: Option<PathBuf>,
    /// The language the ranks run: native line tables (Rust, C) or Python stacks.
    lang: Lang,
    /// The only executable whose debug information is read (see [`LaunchTrace::only`]).
    program: Option<PathBuf>,
}

/// The environment that activates the tracer in the ranks, writing their records under
/// `trace_dir`. In program scope every call counts, and `zero_buffer` makes every standard send
/// synchronous; in marked scope the runtime marks cells (and their mode) itself.
pub fn rank_env(trace_dir: &Path, program_scope: bool, zero_buffer: bool) -> Vec<(String, String)> {
    let scope = if program_scope {
        run::SCOPE_PROGRAM
    } else {
        run::SCOPE_MARKED
    };
    let mut env = vec![
        (
            run::ENV_TRACE_DIR.to_string(),
            trace_dir.display().to_string(),
        ),
        (run::ENV_TRACE_SCOPE.to_string(), scope.to_string()),
    ];
    if zero_buffer {
        env.push((run::ENV_ZERO_BUFFER.to_string(), "1".to_string()));
    }
    env
}

impl LaunchTrace {
    /// Creates the record files of a launch of `ranks` ranks under `run_dir`.
    pub fn create(
        run_dir: &Path,
        ranks: u32,
        submission: Option<&Path>,
        lang: Lang,
    ) -> Result<LaunchTrace> {
        Ok(LaunchTrace {
            dir: TraceDir::create(&run::trace_dir(run_dir), ranks)?,
            submission: submission.map(Path::to_path_buf),
            lang,
            program: None,
        })
    }

    /// Reads source lines only from `program`, the executable the grader launched (as the
    /// ranks see it: its canonical path), never from a file a rank's record names instead.
    pub fn only(mut self, program: &Path) -> LaunchTrace {
        self.program = Some(
            program
                .canonicalize()
                .unwrap_or_else(|_| program.to_path_buf()),
        );
        self
    }

    /// The environment that activates the tracer in the ranks (see [`rank_env`]).
    pub fn rank_env(&self, program_scope: bool, zero_buffer: bool) -> Vec<(String, String)> {
        rank_env(&self.dir.path, program_scope, zero_buffer)
    }

    /// A watcher for `launch::run`: polls the detector and, on a finding, captures and
    /// symbolises the stacks of the ranks involved while they are still alive. `release_after`:
    /// see [`Detector::release_after`]. `out_of_sight`: the ranks are not the grader's
    /// processes (`srun`; see [`Detector::out_of_sight`]).
    pub fn watcher(
        &self,
        hang_after: Duration,
        release_after: Option<Duration>,
        out_of_sight: bool,
    ) -> impl FnMut(Instant, &LaunchProcs, Instant) -> Option<Seen> + '_ {
        let mut detector = Detector::new(&self.dir, hang_after)
            .release_after(release_after)
            .out_of_sight(out_of_sight);
        move |now, procs, from| {
            let Seen::Stall(mut finding) = detector.poll(now, procs, from)? else {
                return Some(Seen::Idle);
            };
            let involved: Vec<u32> = finding
                .diagnosis
                .ranks
                .iter()
                .filter(|a| a.state != "gone")
                .map(|a| a.rank)
                .collect();
            let submission = self.submission.as_deref();
            let locations = match self.lang {
                Lang::Python => {
                    let dumps = pystacks::capture(&self.dir, procs, &involved, STACK_TIMEOUT);
                    pystacks::locate(&dumps, submission)
                }
                Lang::Rust => {
                    let stacks = stacks::capture(&self.dir, procs, &involved, STACK_TIMEOUT);
                    stacks::locate(&self.dir, &stacks, submission, self.program.as_deref())
                }
            };
            finding.diagnosis.locate(&locations);
            Some(Seen::Stall(finding))
        }
    }

    /// The lowest rank that ended its own process without finalising, with its exit status.
    pub fn self_exit(&self) -> Option<(u32, i32)> {
        self.dir
            .snapshot()
            .into_iter()
            .find(|s| s.state == mpi_grade_protocol::trace::RankState::Exited)
            .map(|s| (s.rank, s.exit_code))
    }

    /// A rank that called `MPI_Abort`, with its error code, as the tracer recorded it (the
    /// launcher's own message about it may be lost when the job comes down).
    pub fn aborted(&self) -> Option<(u32, i32)> {
        self.dir
            .snapshot()
            .into_iter()
            .find(|s| s.state == mpi_grade_protocol::trace::RankState::Aborted)
            .map(|s| (s.rank, s.exit_code))
    }

    /// The first collective mismatch the records show once the launch is over (the library
    /// may have paired the calls and the program gone on, or ended, before a poll saw them),
    /// as the diagnosis a stall would carry: from the rings of recent calls, else from the
    /// signatures of the first `completed` cells (which every rank completed); then a
    /// truncated receive, then a message of those cells received as another datatype, then
    /// messages of those cells sent and never received.
    pub fn mismatch(&self, completed: u32) -> Option<(Option<u32>, diagnosis::Diagnosis)> {
        let snapshot = self.dir.snapshot();
        let m = matching::find(&snapshot)
            .filter(|m| m.cell.is_some())
            .or_else(|| (0..completed).find_map(|c| matching::cell_signatures_differ(&self.dir, c)))
            .or_else(|| matching::truncation(&self.dir))
            // A message's two sides pair only where certain, so the cell the launch ended in
            // counts too: a receive that returned MPI_ERR_TRUNCATE (mpi4py raises it) is
            // explained by the send it matched.
            .or_else(|| (0..=completed).find_map(|c| matching::types(&self.dir, c)))
            .or_else(|| (0..completed).find_map(|c| matching::unmatched(&self.dir, c)))?;
        let cell = m.cell;
        Some((
            cell,
            diagnosis::Diagnosis::mismatch(&snapshot, m, records::monotonic_ns()),
        ))
    }

    /// Non-blocking operations left pending once every rank finalized (`mpi-grade run`: a
    /// grade's cells share the ranks' request tables, so only a whole program is judged).
    pub fn pending_at_finalize(&self) -> Option<diagnosis::Diagnosis> {
        let snapshot = self.dir.snapshot();
        let m = matching::pending_at_finalize(&snapshot)?;
        Some(diagnosis::Diagnosis::mismatch(
            &snapshot,
            m,
            records::monotonic_ns(),
        ))
    }

    /// What plan cell `cell` called, over all ranks.
    pub fn usage(&self, cell: u32) -> usage::Usage {
        usage::cell_usage(
            &self.dir,
            cell,
            self.submission.as_deref(),
            self.program.as_deref(),
            self.lang == Lang::Rust,
        )
    }
}
