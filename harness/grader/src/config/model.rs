//! The validated configuration: what is graded and how, as the rest of the grader reads it.

use crate::error::{Error, Result};
use crate::mpi::{Choice, Runner};
use mpi_grade_protocol::run::Mode;
use mpi_grade_protocol::trace::Func;
use std::path::PathBuf;

/// A validated configuration: one or more challenges.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from (messages and hostfiles refer to it).
    pub path: PathBuf,
    /// Which MPI implementation to grade with (`[launch] mpi`); `--mpi` overrides it.
    pub mpi: Choice,
    /// What starts the ranks (`[launch] launcher` and `hostfile`).
    pub runner: Runner,
    /// The challenges, in file order.
    pub challenges: Vec<Challenge>,
    /// The challenge graded when none is named (`default = "alltoall"`; needed by a file of
    /// several challenges for commands without `--challenge`).
    pub default: Option<String>,
}

/// One graded challenge.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// Its name, a simple identifier (`--challenge NAME`).
    pub name: String,
    /// What the parts compute, and on what payload.
    pub kind: Kind,
    /// For people (may be empty).
    pub title: String,
    /// The tutorial section the challenge belongs to (`mpi-grade list`; may be empty).
    pub section: String,
    /// Rank counts of the matrix, sorted, each 2 to 1024.
    pub ranks: Vec<u32>,
    /// Elements per block of the matrix, sorted, each 1 to 100000000.
    pub scaling_factors: Vec<u64>,
    /// Also run each part once per rank count at the smallest size with every standard send
    /// made synchronous: a part expected to complete must still complete, one expected to
    /// deadlock must deadlock.
    pub zero_buffer: bool,
    /// Calls of a part expected to complete per cell: each run alone after a barrier, the
    /// fastest one kept (`[challenge.timing] repetitions`, default 3).
    pub repetitions: u32,
    /// Time and output limits.
    pub limits: Limits,
    /// Resource limits of the sandboxed build and ranks (`[challenge.sandbox]`).
    pub sandbox: crate::sandbox::limits::SandboxLimits,
    /// What a submission may be made of (`[challenge.submission]`).
    pub submission: crate::build::intake::Policy,
    /// The graded parts, in file order.
    pub parts: Vec<Part>,
    /// The file the challenge was read from, and the hash of its text (reports record both).
    pub source: Source,
}

/// Which configuration a challenge comes from: what a report records so that a regrade can
/// use the same one.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Source {
    /// The file as given (`tests/fixtures/challenges.toml`), or `<bundled challenges.toml>`.
    pub path: String,
    /// SHA-256 of the file's bytes, in lowercase hex.
    pub sha256: String,
}

impl Source {
    /// The source of configuration `text` read from `path`.
    pub fn of(path: &std::path::Path, text: &str) -> Source {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(text.as_bytes());
        Source {
            path: path.display().to_string(),
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// Challenge kinds: each fixes what the student function is given and what it must return
/// (the contract, the same shape in Rust and Python: blocks of `i64` in, blocks out). What a
/// kind means rank by rank is decided in `judge/contract.rs`; the runtimes only read it from
/// the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `values[i]` goes to rank `i`; element `i` of the result is the block from rank `i`.
    Alltoall,
    /// Rank 0 sends its one block to rank 1, which returns it; the others return nothing.
    SendRecv,
    /// Rank 0 broadcasts its block 0; every rank adds it to its own block; the sums are reduced
    /// to rank 0 with the operation.
    BcastReduce(Op),
    /// Every rank's block is gathered at rank 0; rank 0 scatters its blocks 1..=n.
    GatherScatter,
    /// As [`Kind::BcastReduce`], but every rank gets the reduction (allreduce).
    Allreduce(Op),
    /// The tutorial's Igather experiment: in iteration `i` of `size`, rank `i` sleeps
    /// [`GATHER_LOOP_SLEEP_MS`] and every rank's `values[i]` is gathered at rank 0, which
    /// returns the `size * size` blocks (iteration-major).
    GatherLoop,
}

/// How long rank `i` sleeps in iteration `i` of the gather-loop kind (the tutorial's 1 s, made
/// short enough to grade).
pub const GATHER_LOOP_SLEEP_MS: u64 = 200;

/// The reduction operation of a reduction kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `MPI_SUM` (or a custom operation that sums).
    Sum,
    /// `MPI_MAX`.
    Max,
}

impl Kind {
    /// Every kind, in the order messages list them.
    pub const ALL: [Kind; 8] = [
        Kind::Alltoall,
        Kind::SendRecv,
        Kind::BcastReduce(Op::Sum),
        Kind::BcastReduce(Op::Max),
        Kind::GatherScatter,
        Kind::Allreduce(Op::Sum),
        Kind::Allreduce(Op::Max),
        Kind::GatherLoop,
    ];

    /// Its name in `challenges.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Alltoall => "alltoall",
            Kind::SendRecv => "send-recv",
            Kind::BcastReduce(Op::Sum) => "bcast-reduce",
            Kind::BcastReduce(Op::Max) => "bcast-reduce-max",
            Kind::GatherScatter => "gather-scatter",
            Kind::Allreduce(Op::Sum) => "allreduce",
            Kind::Allreduce(Op::Max) => "allreduce-max",
            Kind::GatherLoop => "gather-loop",
        }
    }

    /// The kind called `name`, if any.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The Rust signature a part of this kind must have (the same for every kind: what
    /// differs is which blocks each rank is given and must return).
    pub fn signature(self, function: &str) -> String {
        format!(
            "pub fn {function}(comm: &mpi::topology::SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>>"
        )
    }
}

/// Time limits, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// A cell (one call of a student function, on every rank) running longer is stopped.
    pub cell_seconds: f64,
    /// An `mpiexec` job running longer is stopped, whatever its cells do.
    pub launch_seconds: f64,
    /// Building a submission (its `build.rs` and proc macros included) taking longer is stopped.
    pub build_seconds: f64,
    /// A rank that stays outside MPI this long while others wait for it is a hang.
    pub hang_seconds: f64,
    /// Bytes of each output stream kept (half from the start, half from the end).
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            cell_seconds: 10.0,
            launch_seconds: 120.0,
            build_seconds: 600.0,
            hang_seconds: 5.0,
            output_bytes: 64 * 1024,
        }
    }
}

/// One graded part: a student function and what it must do.
#[derive(Debug, Clone)]
pub struct Part {
    /// Its name, a simple identifier (`--part NAME`).
    pub name: String,
    /// The student function graded (by default the part's name).
    pub function: String,
    /// Its contract (by default the challenge's kind).
    pub kind: Kind,
    /// For people (may be empty).
    pub title: String,
    /// What it must do across the matrix.
    pub expect: Expect,
    /// Points when it passes (>= 0).
    pub points: f64,
    /// When students see the part's result on Gradescope.
    pub visibility: Visibility,
    /// MPI functions the student's code may call (`None`: any).
    pub allowed_calls: Option<Vec<Func>>,
    /// MPI functions the student's code must call.
    pub required_calls: Vec<Func>,
    /// A speed the part must reach against a baseline (`[challenge.part.performance]`).
    pub performance: Option<Performance>,
    /// Partial credit: points earned by groups of cells on their own
    /// (`[[challenge.part.credit]]`). The rest of `points` needs the whole part to pass.
    pub credit: Vec<Credit>,
    /// Another part this one must be faster than, measured in the same launch
    /// (`[challenge.part.ratio]`).
    pub ratio: Option<Ratio>,
}

/// At every rank count `n` and size, part `against` must take at least `at_least +
/// per_rank * n` times as long as this part, both timed in the same launch (never an
/// absolute time).
#[derive(Debug, Clone, PartialEq)]
pub struct Ratio {
    /// The part that must be slower (an earlier part of the challenge).
    pub against: String,
    /// The constant term of the factor.
    pub at_least: f64,
    /// The factor's term per rank (0.5: n/2).
    pub per_rank: f64,
}

impl Ratio {
    /// The factor at `ranks` ranks.
    pub fn factor(&self, ranks: u32) -> f64 {
        self.at_least + self.per_rank * f64::from(ranks)
    }
}

impl Part {
    /// A part that is run but not graded: no points, no call rules (baselines, probes).
    pub fn ungraded(name: &str, function: &str, title: &str, expect: Expect) -> Part {
        Part {
            name: name.to_string(),
            function: function.to_string(),
            kind: Kind::Alltoall,
            title: title.to_string(),
            expect,
            points: 0.0,
            visibility: Visibility::Visible,
            allowed_calls: None,
            required_calls: Vec::new(),
            performance: None,
            credit: Vec::new(),
            ratio: None,
        }
    }
}

/// Points a group of a part's cells earns when the part's rule holds on those cells alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Credit {
    /// For people: given, or made from the filters ("2, 3 ranks, zero-buffer mode").
    pub name: String,
    /// Rank counts the group covers (`None`: all).
    pub ranks: Option<Vec<u32>>,
    /// Sizes the group covers (`None`: all; only for parts expected to complete).
    pub scaling_factors: Option<Vec<u64>>,
    /// The mode the group covers (`None`: both).
    pub mode: Option<Mode>,
    /// Points the group earns (>= 0).
    pub points: f64,
}

impl Credit {
    /// Whether `cell` belongs to the group.
    pub fn covers(&self, ranks: u32, scaling_factor: u64, mode: Mode) -> bool {
        self.ranks.as_ref().is_none_or(|r| r.contains(&ranks))
            && self
                .scaling_factors
                .as_ref()
                .is_none_or(|s| s.contains(&scaling_factor))
            && self.mode.is_none_or(|m| m == mode)
    }
}

/// At the largest size of each rank count, the part may take at most `max_ratio` times as long
/// as the baseline (`"MPI_Alltoall"`, `"reference-part2"`, `"reference-part3"`).
#[derive(Debug, Clone, PartialEq)]
pub struct Performance {
    /// What the part is timed against.
    pub baseline: Baseline,
    /// The part's time over the baseline's must not exceed this (>= 1).
    pub max_ratio: f64,
}

/// What a part's times are compared with: a function of a bundled solution, or the library's
/// collective (`run::compare` knows how to run each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baseline {
    /// Ordered Send/Recv pairs: the reference solution's part 2.
    ReferencePart2,
    /// Isend to all, then Recv: the reference solution's part 3.
    ReferencePart3,
    /// The MPI library's own `MPI_Alltoall`.
    MpiAlltoall,
    /// The Python reference's part 2 (mpi4py), where the grader has Python.
    PythonPart2,
    /// The Python reference's part 3 (mpi4py).
    PythonPart3,
}

impl Baseline {
    /// Every baseline, in report order.
    pub const ALL: [Baseline; 5] = [
        Baseline::ReferencePart2,
        Baseline::ReferencePart3,
        Baseline::MpiAlltoall,
        Baseline::PythonPart2,
        Baseline::PythonPart3,
    ];

    /// Its name in reports and `challenges.toml` (`performance.baseline`).
    pub fn name(self) -> &'static str {
        match self {
            Baseline::ReferencePart2 => "reference-part2",
            Baseline::ReferencePart3 => "reference-part3",
            Baseline::MpiAlltoall => "MPI_Alltoall",
            Baseline::PythonPart2 => "python-reference-part2",
            Baseline::PythonPart3 => "python-reference-part3",
        }
    }

    /// What it is, for people.
    pub fn description(self) -> &'static str {
        match self {
            Baseline::ReferencePart2 => "ordered Send/Recv pairs (reference part 2)",
            Baseline::ReferencePart3 => "Isend to all, then Recv (reference part 3)",
            Baseline::MpiAlltoall => "the library's MPI_Alltoall",
            Baseline::PythonPart2 => "the same pairs in Python (mpi4py, Python reference part 2)",
            Baseline::PythonPart3 => "Isend to all in Python (mpi4py, Python reference part 3)",
        }
    }

    /// The baseline called `name`, if any.
    pub fn parse(name: &str) -> Option<Baseline> {
        Baseline::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// What a part must do across the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Complete with the right result for every rank count and size.
    Complete,
    /// Complete at the smallest size, and deadlock at some larger size, for every rank count.
    Deadlock,
}

impl Expect {
    /// Its name in `challenges.toml` and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Complete => "complete",
            Expect::Deadlock => "deadlock",
        }
    }
}

/// When students see a part's result, in Gradescope's words (its `visibility` of a test).
/// Instructors always see everything; formats other than Gradescope's only carry it along.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Always shown.
    #[default]
    Visible,
    /// Never shown to students.
    Hidden,
    /// Shown once the assignment's due date (or late due date) has passed.
    AfterDueDate,
    /// Shown once the instructor publishes the grades.
    AfterPublished,
}

impl Visibility {
    /// Every value, in the order messages list them.
    pub const ALL: [Visibility; 4] = [
        Visibility::Visible,
        Visibility::Hidden,
        Visibility::AfterDueDate,
        Visibility::AfterPublished,
    ];

    /// The name in `challenges.toml` and in Gradescope's `results.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Visible => "visible",
            Visibility::Hidden => "hidden",
            Visibility::AfterDueDate => "after_due_date",
            Visibility::AfterPublished => "after_published",
        }
    }

    /// The visibility named `text` (as in `challenges.toml`), if it is one.
    pub fn parse(text: &str) -> Option<Visibility> {
        Visibility::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

impl Config {
    /// The challenge called `name`, or the only one when `name` is `None`.
    pub fn challenge(&self, name: Option<&str>) -> Result<&Challenge> {
        let names = || {
            self.challenges
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match name {
            Some(name) => self
                .challenges
                .iter()
                .find(|c| c.name == name)
                .ok_or_else(|| {
                    Error::Other(format!(
                        "{}: no challenge named `{name}` (it has: {})",
                        self.path.display(),
                        names()
                    ))
                }),
            None if self.challenges.len() == 1 => Ok(&self.challenges[0]),
            None if self.default.is_some() => self.challenge(self.default.as_deref()),
            None => Err(Error::Other(format!(
                "{} defines several challenges; choose one with --challenge ({})",
                self.path.display(),
                names()
            ))),
        }
    }
}

impl Challenge {
    /// The part selected by `--part`: `"2"` or `"part2"`.
    pub fn select_part(&self, wanted: &str) -> Option<&Part> {
        self.parts
            .iter()
            .find(|p| p.name == wanted || p.name.strip_prefix("part") == Some(wanted))
    }
}
