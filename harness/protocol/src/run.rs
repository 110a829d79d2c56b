//! The run directory: how the grader tells ranks what to run and how ranks report back.
//!
//! ```text
//! <run>/plan.json           written by the grader before the launch      (Plan)
//! <run>/ranks/<r>.jsonl     appended by rank r, one JSON object per line (RankEvent)
//! <run>/trace/<r>.trace     the tracer's shared-memory record of rank r  (see `trace`)
//! ```
//!
//! A rank finds the directory in the environment variable [`ENV_RUN_DIR`]. It writes nothing
//! to stdout that matters: the grader never reads results from a rank's output.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Version of the plan and event formats; bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

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
/// Environment variable that, set to `1` in program scope, makes every standard send synchronous.
pub const ENV_ZERO_BUFFER: &str = "MPI_GRADE_ZERO_BUFFER";

/// Exit code a rank uses for `MPI_Abort` after it recorded a panic.
pub const PANIC_ABORT_CODE: i32 = 101;

/// The file holding the plan.
pub fn plan_path(run_dir: &Path) -> PathBuf {
    run_dir.join("plan.json")
}

/// The directory of the per-rank event files.
pub fn ranks_dir(run_dir: &Path) -> PathBuf {
    run_dir.join("ranks")
}

/// The event file of one rank.
pub fn rank_events_path(run_dir: &Path, rank: u32) -> PathBuf {
    ranks_dir(run_dir).join(format!("{rank}.jsonl"))
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
    pub format_version: u32,
    /// The challenge kind, which fixes the function signature and the payload (`"alltoall"`).
    pub kind: String,
    /// The number of ranks of this launch.
    pub ranks: u32,
    /// The grade's seed, for the record; each cell carries its own derived seed.
    pub seed: u64,
    pub cells: Vec<PlannedCell>,
}

/// One cell: one call of one student function at one size, on a fresh communicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedCell {
    /// Position in `Plan::cells`; events and trace marks refer to cells by this index.
    pub index: u32,
    /// The student function to call (`"part1"`).
    pub function: String,
    /// Elements per block.
    pub scaling_factor: u64,
    pub mode: Mode,
    /// Seed of this cell's payload (see `payload::element`).
    pub seed: u64,
    /// Calls of the function in a row, each after a barrier and timed alone (at least 1).
    #[serde(default = "one")]
    pub repetitions: u32,
}

fn one() -> u32 {
    1
}

/// How standard sends behave during a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// As the MPI library does them: small messages may be buffered.
    Standard,
    /// Every standard send is executed as a synchronous send (`MPI_Ssend`), so a program that is
    /// only safe thanks to buffering deadlocks at any size.
    ZeroBuffer,
}

impl Mode {
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
        rank: u32,
        size: u32,
        pid: u32,
        /// `MPI_Get_library_version`.
        library: String,
        /// The plan's seed, as the rank read it: the grader checks that the events are this
        /// run's.
        #[serde(default)]
        seed: u64,
    },
    /// The rank is about to call the student function of this cell.
    Start { cell: u32 },
    /// The student function returned (every repetition); what it returned, checked by the rank
    /// and summarised: the first repetition that went wrong, else the last one.
    Done {
        cell: u32,
        /// Wall time of this rank's first call.
        seconds: f64,
        /// Wall time of each repetition on this rank (the first one included).
        #[serde(default)]
        times: Vec<f64>,
        /// One entry per returned block, in order (entry `i` should come from rank `i`).
        blocks: Vec<BlockReport>,
        /// The first thing found wrong, if any; the grader decides from the digests.
        error: Option<ResultError>,
    },
    /// The student's code (or the runtime) panicked; the rank aborts the job next.
    Panic {
        cell: Option<u32>,
        message: String,
        location: Option<String>,
    },
    /// Every cell of the plan ran; the rank is finalising.
    Finished,
}

/// Length and digest of one returned block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockReport {
    pub len: u64,
    /// `payload::digest_hex` of the block.
    pub digest: String,
}

/// The first difference between what a rank got and what it should have got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ResultError {
    /// The result did not have one block per rank.
    WrongBlockCount { expected: u32, got: u32 },
    /// The block from `source` had the wrong number of elements.
    WrongLength {
        source: u32,
        expected: u64,
        got: u64,
    },
    /// Element `index` of the block from `source` was wrong.
    WrongElement {
        source: u32,
        index: u64,
        expected: i64,
        got: i64,
    },
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
            blocks: vec![BlockReport {
                len: 2,
                digest: "00000000000000ff".into(),
            }],
            error: Some(ResultError::WrongLength {
                source: 1,
                expected: 2,
                got: 1,
            }),
        };
        assert_eq!(
            done.to_line(),
            r#"{"event":"done","cell":3,"seconds":0.5,"times":[0.5],"blocks":[{"len":2,"digest":"00000000000000ff"}],"error":{"kind":"wrong-length","source":1,"expected":2,"got":1}}"#
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
