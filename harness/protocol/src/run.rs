//! The run directory: how the grader tells ranks what to run and how ranks report back.
//!
//! ```text
//! <run>/plan.json           written by the grader before the launch      (Plan)
//! <run>/keys/<r>.key        rank r's secret key; the rank reads and deletes it at start-up
//! <run>/ranks/<r>.jsonl     appended by rank r, one JSON object per line (RankEvent)
//! <run>/results/<r>.bin     appended by rank r: the blocks it received, raw (see `Done`)
//! <run>/trace/<r>.trace     the tracer's shared-memory record of rank r  (see `trace`)
//! ```
//!
//! A rank finds the directory in the environment variable [`ENV_RUN_DIR`]. It writes nothing
//! to stdout that matters: the grader never reads results from a rank's output.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Version of the plan and event formats; bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 3;

/// Environment variable holding the run directory of the current launch.
pub const ENV_RUN_DIR: &str = "MPI_GRADE_RUN_DIR";
/// Environment variable holding the directory of the tracer's per-rank records.
pub const ENV_TRACE_DIR: &str = "MPI_GRADE_TRACE_DIR";
/// Environment variable telling the tracer which calls belong to the program under test:
/// [`SCOPE_PROGRAM`] (every call, as in `mpi-grade run`) or [`SCOPE_MARKED`] (only calls made
/// between `MPI_Pcontrol` marks, as in a graded launch).
pub const ENV_TRACE_SCOPE: &str = "MPI_GRADE_TRACE_SCOPE";
/// Every call counts: the whole program is under test.
pub const SCOPE_PROGRAM: &str = "program";
/// Only calls between `MPI_Pcontrol(level >= 1)` and `MPI_Pcontrol(0)` count.
pub const SCOPE_MARKED: &str = "marked";
/// Environment variable that, set to `1`, makes the tracer run every blocking call it can as its
/// non-blocking twin completed by tests that yield the processor in between: the grader sets it
/// when the ranks outnumber the cores, where MPICH's waiting ranks would otherwise poll without
/// ever giving their core away.
pub const ENV_POLITE: &str = "MPI_GRADE_POLITE";
/// Environment variable that, set to `1` in program scope, makes every standard send synchronous.
pub const ENV_ZERO_BUFFER: &str = "MPI_GRADE_ZERO_BUFFER";

/// Exit code a rank uses for `MPI_Abort` after it recorded a panic.
pub const PANIC_ABORT_CODE: i32 = 101;

/// The file holding the plan.
pub fn plan_path(run_dir: &Path) -> PathBuf {
    run_dir.join("plan.json")
}

/// The file the grader creates to let the ranks of a held launch ([`Plan::held`]) into their
/// cells.
pub fn go_path(run_dir: &Path) -> PathBuf {
    run_dir.join("go")
}

/// How often a rank of a held launch looks for [`go_path`].
pub const GO_POLL: std::time::Duration = std::time::Duration::from_millis(1);

/// The directory of the per-rank event files.
pub fn ranks_dir(run_dir: &Path) -> PathBuf {
    run_dir.join("ranks")
}

/// The event file of one rank.
pub fn rank_events_path(run_dir: &Path, rank: u32) -> PathBuf {
    ranks_dir(run_dir).join(format!("{rank}.jsonl"))
}

/// The directory of the per-rank keys.
pub fn keys_dir(run_dir: &Path) -> PathBuf {
    run_dir.join("keys")
}

/// The key file of one rank: [`crate::payload::key_hex`] and a newline.
pub fn rank_key_path(run_dir: &Path, rank: u32) -> PathBuf {
    keys_dir(run_dir).join(format!("{rank}.key"))
}

/// The directory of the per-rank results files.
pub fn results_dir(run_dir: &Path) -> PathBuf {
    run_dir.join("results")
}

/// The results file of one rank: every block it received, as little-endian `i64`s, appended
/// in the order of its `done` events.
pub fn rank_results_path(run_dir: &Path, rank: u32) -> PathBuf {
    results_dir(run_dir).join(format!("{rank}.bin"))
}

/// The directory of the tracer's records.
pub fn trace_dir(run_dir: &Path) -> PathBuf {
    run_dir.join("trace")
}

/// The tracer's record of one rank.
pub fn trace_path(trace_dir: &Path, rank: u32) -> PathBuf {
    trace_dir.join(format!("{rank}.trace"))
}

/// What one launch must run, in order, inside the same processes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`FORMAT_VERSION`] of the grader that wrote the plan; a runtime refuses another.
    pub format_version: u32,
    /// The challenge kind, which fixes the function signature and the payload (`"alltoall"`).
    pub kind: String,
    /// The number of ranks of this launch.
    pub ranks: u32,
    /// Identifies this launch (its events must carry it). Not a seed: nothing about the
    /// payload follows from it.
    pub run_id: u64,
    /// The cells in the order the ranks run them.
    pub cells: Vec<PlannedCell>,
    /// The launch was started ahead of its turn: once ready, every rank waits, sleeping, until
    /// [`go_path`] exists, and only then runs its first cell.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held: bool,
}

/// One cell: one call of one student function at one size, on a fresh communicator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlannedCell {
    /// Position in `Plan::cells`; events and trace marks refer to cells by this index.
    pub index: u32,
    /// The student function to call (`"part1"`).
    pub function: String,
    /// Elements per block.
    pub scaling_factor: u64,
    /// How standard sends behave during the cell.
    pub mode: Mode,
    /// Calls of the function in a row, each after a barrier and timed alone (at least 1).
    #[serde(default = "one")]
    pub repetitions: u32,
    /// The challenge kind of the cell's part, when not the plan's (the grader's business: the
    /// runtimes read `inputs`, `outputs` and `shift`, never a kind).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Blocks each rank is given, by rank (the challenge kind's contract decides): block `j` of
    /// rank `r` is the protocol block of `r`'s key for destination `j`. Empty: every rank gets
    /// one block per rank (the alltoall contract).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<u32>,
    /// Every given value is shifted right (arithmetically) by this many bits, so that sums over
    /// every rank cannot overflow (reduction kinds); 0 for the others.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shift: u32,
    /// Blocks each rank must return, by rank; only that many are written to the results file.
    /// Empty: one per rank (the alltoall contract).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<u32>,
    /// The cell's time is not reported (a part's deadlock search, a zero-buffer cell): its
    /// blocking calls may wait politely, so that a send that cannot complete is told from one
    /// still completing by the tests it fails rather than by wall time
    /// (`trace::pcontrol::Entry::polite`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub untimed: bool,
}

impl PlannedCell {
    /// The level of `MPI_Pcontrol` that enters the student's code for this cell.
    pub fn pcontrol_level(&self) -> i32 {
        crate::trace::pcontrol::enter_with(crate::trace::pcontrol::Entry {
            cell: self.index,
            zero_buffer: self.mode == Mode::ZeroBuffer,
            polite: self.untimed,
        })
    }

    /// The number of blocks `rank` of a launch of `size` ranks is given.
    pub fn inputs_of(&self, rank: u32, size: u32) -> u32 {
        if self.inputs.is_empty() {
            size
        } else {
            self.inputs.get(rank as usize).copied().unwrap_or(0)
        }
    }
}

impl PlannedCell {
    /// The number of blocks `rank` of a launch of `size` ranks must return.
    pub fn outputs_of(&self, rank: u32, size: u32) -> u32 {
        if self.outputs.is_empty() {
            size
        } else {
            self.outputs.get(rank as usize).copied().unwrap_or(0)
        }
    }
}

fn is_false(v: &bool) -> bool {
    !v
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn one() -> u32 {
    1
}

/// How standard sends behave during a cell.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// As the MPI library does them: small messages may be buffered.
    #[default]
    Standard,
    /// Every standard send is executed as a synchronous send (`MPI_Ssend`), so a program that is
    /// only safe thanks to buffering deadlocks at any size.
    ZeroBuffer,
}

impl Mode {
    /// The mode's name in plans and reports (`standard`, `zero-buffer`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Standard => "standard",
            Mode::ZeroBuffer => "zero-buffer",
        }
    }
}

/// One line of a rank's event file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum RankEvent {
    /// MPI is initialised and the plan was read.
    Ready {
        /// The rank in `MPI_COMM_WORLD`.
        rank: u32,
        /// The size of `MPI_COMM_WORLD`.
        size: u32,
        /// The rank's process id, in its own PID namespace.
        pid: u32,
        /// `MPI_Get_library_version`.
        library: String,
        /// The plan's `run_id`, as the rank read it: the grader checks that the events are
        /// this run's.
        run_id: u64,
    },
    /// The rank is about to call the student function of this cell.
    Start {
        /// The cell's index in the plan.
        cell: u32,
    },
    /// The student function returned (every repetition). The rank appended what each
    /// repetition returned to its results file; this says where. The grader checks those
    /// bytes against what it expects: nothing here is believed about correctness.
    Done {
        /// The cell's index in the plan.
        cell: u32,
        /// Wall time of this rank's first call.
        seconds: f64,
        /// Wall time of each repetition on this rank (the first one included).
        #[serde(default)]
        times: Vec<f64>,
        /// Per repetition, one entry per returned block, in order (entry `i` should come
        /// from rank `i`).
        results: Vec<Vec<BlockReport>>,
    },
    /// The student's code (or the runtime) panicked; the rank aborts the job next.
    Panic {
        /// The cell that was running, if any.
        cell: Option<u32>,
        /// The panic's message.
        message: String,
        /// `file:line:column` of the panic, if known.
        location: Option<String>,
    },
    /// Every cell of the plan ran; the rank is finalising.
    Finished,
}

/// Where one returned block is in the rank's results file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockReport {
    /// Elements in the block.
    pub len: u64,
    /// Byte offset of its first element in the results file.
    pub offset: u64,
}

impl RankEvent {
    /// One line of the event file, without the newline.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("events serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_have_the_documented_shape() {
        let done = RankEvent::Done {
            cell: 3,
            seconds: 0.5,
            times: vec![0.5],
            results: vec![vec![BlockReport { len: 2, offset: 16 }]],
        };
        assert_eq!(
            done.to_line(),
            r#"{"event":"done","cell":3,"seconds":0.5,"times":[0.5],"results":[[{"len":2,"offset":16}]]}"#
        );
        let back: RankEvent = serde_json::from_str(&done.to_line()).unwrap();
        assert_eq!(back, done);
        assert_eq!(RankEvent::Finished.to_line(), r#"{"event":"finished"}"#);
    }

    #[test]
    fn modes_serialise_in_kebab_case() {
        assert_eq!(
            serde_json::to_string(&Mode::ZeroBuffer).unwrap(),
            "\"zero-buffer\""
        );
        assert_eq!(Mode::ZeroBuffer.as_str(), "zero-buffer");
    }
}
