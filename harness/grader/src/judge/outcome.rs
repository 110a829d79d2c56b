//! What happened to a cell: one call of one student function at one rank count and size.
//!
//! The enum is closed and matched without catch-all arms, so a new outcome must be given its
//! name, symbol and explanation here, once, before it can be reported anywhere.

use crate::trace::diagnosis::Diagnosis;
use mpi_grade_protocol::run::Mode;
use serde::Serialize;

/// One cell of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Cell {
    /// Part name (`"part1"`).
    pub part: String,
    /// Student function called.
    pub function: String,
    /// How many ranks the cell runs.
    pub ranks: u32,
    /// Elements per block: how many values each rank sends to each rank.
    pub scaling_factor: u64,
    /// The send mode the cell runs in (standard or zero-buffer).
    pub mode: Mode,
}

impl Cell {
    /// "3 ranks, 1000 elements per block" (plus the mode when it is not standard).
    pub fn describe(&self) -> String {
        let mode = match self.mode {
            Mode::Standard => "",
            Mode::ZeroBuffer => " in zero-buffer mode",
        };
        format!(
            "{}{mode}",
            crate::fmt::ranks_and_size(self.ranks, self.scaling_factor)
        )
    }
}

/// The outcome of a cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Completed, and every rank got every element right.
    Pass,
    /// Completed, but some rank got a wrong block.
    WrongResult(WrongResult),
    /// A rank panicked, was killed by a signal, exited early or called `MPI_Abort`.
    Crash(Crash),
    /// The function is still a `todo!()` (or `unimplemented!()`).
    NotImplemented(Panic),
    /// Blocked ranks that no rank could ever release (seen by the tracer).
    Deadlock(Box<Diagnosis>),
    /// Ranks waiting for ranks that stay outside MPI (seen by the tracer).
    Hang(Box<Diagnosis>),
    /// Ranks that called a communicator's collectives differently (seen by the tracer, whether
    /// the library then blocked, aborted or completed); the diagnosis's `mismatch` says how.
    CallMismatch(Box<Diagnosis>),
    /// The cell ran past its time limit without the tracer finding a deadlock or a hang.
    Timeout(Timeout),
    /// The cell was not run: an earlier failure made it pointless, or the grade was interrupted.
    NotRun(NotRun),
}

/// Which rank got what wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongResult {
    /// The rank whose result was wrong.
    pub rank: u32,
    /// The first difference found in its result.
    pub problem: Problem,
}

/// The first difference found in a rank's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The rank returned a different number of blocks than there are ranks.
    BlockCount {
        /// Blocks expected (one per rank).
        expected: u32,
        /// Blocks returned.
        got: u32,
    },
    /// The block from `source` has the wrong number of elements.
    Length {
        /// The rank the block came from.
        source: u32,
        /// Elements expected (the cell's scaling factor).
        expected: u64,
        /// Elements received.
        got: u64,
    },
    /// An element of the block from `source` holds a wrong value.
    Element {
        /// The rank the block came from.
        source: u32,
        /// The element's index in the block.
        index: u64,
        /// The value that should be there.
        expected: i64,
        /// The value found.
        got: i64,
    },
    /// The rank returned another number of blocks than its challenge kind's contract says.
    OutputCount {
        /// Blocks expected.
        expected: u32,
        /// Blocks returned.
        got: u32,
        /// What each expected block is, in order.
        what: Vec<String>,
    },
    /// Returned block `block` has the wrong number of elements.
    OutputLength {
        /// Its index in the result.
        block: u32,
        /// What it should be.
        what: String,
        /// Elements expected (the cell's size).
        expected: u64,
        /// Elements returned.
        got: u64,
    },
    /// An element of returned block `block` is wrong.
    Output {
        /// Its index in the result.
        block: u32,
        /// What the block should be ("the sum over every rank of ...").
        what: String,
        /// The element's index in the block.
        index: u64,
        /// The value that should be there (computed by the grader).
        expected: i64,
        /// The value found.
        got: i64,
    },
    /// The block is not where the rank's report says it is in its results file (the file was
    /// truncated or written by the submission).
    Unreadable {
        /// The rank the block came from.
        source: u32,
    },
    /// The block holds what `source` sent in an earlier call (`earlier` says which).
    Stale {
        /// The rank the block came from.
        source: u32,
        /// The earlier call, as the explanation names it.
        earlier: String,
    },
    /// The rank's record counts `extra` more (or fewer) `MPI_Pcontrol` calls than the runtime
    /// makes: the student's code called it (to hide calls from the tracer, say).
    Pcontrol {
        /// How many calls the record counts beyond the runtime's own.
        extra: u64,
    },
    /// The rank sent fewer bytes to other ranks through traced MPI calls than an alltoall of
    /// blocks of `elements` values must send.
    Traffic {
        /// Bytes the rank sent to other ranks.
        sent: u64,
        /// Bytes an alltoall of this size must send at least.
        needed: u64,
        /// Elements per block of the cell.
        elements: u64,
    },
    /// Call `repetition` (from 1: the first call goes without saying) of a cell that calls the
    /// function `of` times went wrong.
    Repetition {
        /// Which call went wrong, counted from 0 (the explanation shows it from 1).
        repetition: u32,
        /// How many times the cell calls the function.
        of: u32,
        /// What went wrong in that call.
        problem: Box<Problem>,
    },
    /// The rank reported nothing for a cell that the others completed.
    NoReport,
    /// The rank's event file holds lines the runtime did not write as it does (the submission
    /// wrote there): none of its results from then on is trusted.
    Tampered {
        /// What the event file holds that the runtime did not write.
        what: String,
    },
}

/// A rank's panic, as the runtime recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panic {
    /// The rank that panicked.
    pub rank: u32,
    /// The panic message.
    pub message: String,
    /// Where it panicked (`file:line:column`), when the runtime recorded it.
    pub location: Option<String>,
}

/// A crash and, when known, the rank that crashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    /// The rank that crashed, when it is known.
    pub rank: Option<u32>,
    /// What made it crash.
    pub cause: CrashCause,
}

/// Why a rank (or the job) crashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrashCause {
    /// The rank panicked.
    Panic {
        /// The panic message.
        message: String,
        /// Where it panicked (`file:line:column`), when recorded.
        location: Option<String>,
    },
    /// The rank was killed by a signal.
    Signal {
        /// The signal number.
        signal: i32,
        /// The signal's name (`SIGSEGV`).
        name: String,
    },
    /// The rank exited with a status before the cell finished.
    Exit {
        /// The exit status.
        code: i32,
    },
    /// The rank exited before the cell finished, without calling `MPI_Finalize`.
    ExitWithoutFinalize,
    /// The rank called `MPI_Abort`.
    Abort {
        /// The error code passed to `MPI_Abort`.
        code: i32,
    },
    /// The rank's process ended while others waited for it, and nothing says why.
    Vanished,
    /// The job wrote more than its scratch may hold (`scratch_mb`) and was stopped.
    ScratchFull {
        /// The scratch cap the job reached, in MiB.
        limit_mb: u64,
    },
    /// The job ended before the cell finished and nothing says why.
    Unexplained {
        /// The launcher's exit status, as text, to show in the explanation.
        launcher_status: String,
    },
}

/// Which limit ran out.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeout {
    /// The limit that ran out.
    pub limit: TimeLimit,
    /// That limit, in seconds.
    pub seconds: f64,
}

/// The time limit a cell can run past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLimit {
    /// The cell's own time limit.
    Cell,
    /// The whole launch's time limit.
    Launch,
}

/// Why a cell was not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRun {
    /// An earlier cell of the same part, in the same launch, failed (`at` describes it).
    AfterFailure {
        /// The failed cell, described.
        at: String,
    },
    /// The part was already found not implemented.
    PartNotImplemented,
    /// The part expects a deadlock and deadlocked at a smaller size.
    AfterDeadlock {
        /// The size it deadlocked at, in elements per block.
        scaling_factor: u64,
    },
    /// The grade was interrupted (Ctrl-C or SIGTERM).
    Interrupted,
}

/// An outcome without its evidence: what reports store and match on. Serialised as its
/// name (`"wrong-result"`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeKind {
    /// See [`Outcome::Pass`].
    Pass,
    /// See [`Outcome::WrongResult`].
    WrongResult,
    /// See [`Outcome::Crash`].
    Crash,
    /// See [`Outcome::NotImplemented`].
    NotImplemented,
    /// See [`Outcome::Deadlock`].
    Deadlock,
    /// See [`Outcome::Hang`].
    Hang,
    /// See [`Outcome::CallMismatch`].
    CallMismatch,
    /// See [`Outcome::Timeout`].
    Timeout,
    /// See [`Outcome::NotRun`].
    NotRun,
}

impl OutcomeKind {
    /// Every kind, in the order of [`Outcome`]'s variants.
    pub const ALL: [OutcomeKind; 9] = [
        OutcomeKind::Pass,
        OutcomeKind::WrongResult,
        OutcomeKind::Crash,
        OutcomeKind::NotImplemented,
        OutcomeKind::Deadlock,
        OutcomeKind::Hang,
        OutcomeKind::CallMismatch,
        OutcomeKind::Timeout,
        OutcomeKind::NotRun,
    ];

    /// The name in reports and JSON (the serialised value).
    pub fn name(self) -> &'static str {
        match self {
            OutcomeKind::Pass => "pass",
            OutcomeKind::WrongResult => "wrong-result",
            OutcomeKind::Crash => "crash",
            OutcomeKind::NotImplemented => "not-implemented",
            OutcomeKind::Deadlock => "deadlock",
            OutcomeKind::Hang => "hang",
            OutcomeKind::CallMismatch => "call-mismatch",
            OutcomeKind::Timeout => "timeout",
            OutcomeKind::NotRun => "not-run",
        }
    }

    /// One character for the matrix.
    pub fn symbol(self) -> char {
        match self {
            OutcomeKind::Pass => '✓',
            OutcomeKind::WrongResult => '✗',
            OutcomeKind::Crash => 'C',
            OutcomeKind::NotImplemented => '?',
            OutcomeKind::Deadlock => 'D',
            OutcomeKind::Hang => 'H',
            OutcomeKind::CallMismatch => 'M',
            OutcomeKind::Timeout => 'T',
            OutcomeKind::NotRun => '·',
        }
    }

    /// The kind called `name` (the inverse of [`OutcomeKind::name`]).
    pub fn from_name(name: &str) -> Option<OutcomeKind> {
        OutcomeKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl From<&Outcome> for OutcomeKind {
    fn from(outcome: &Outcome) -> OutcomeKind {
        outcome.kind()
    }
}

impl Outcome {
    /// What kind of outcome it is, without the evidence.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Pass => OutcomeKind::Pass,
            Outcome::WrongResult(_) => OutcomeKind::WrongResult,
            Outcome::Crash(_) => OutcomeKind::Crash,
            Outcome::NotImplemented(_) => OutcomeKind::NotImplemented,
            Outcome::Deadlock(_) => OutcomeKind::Deadlock,
            Outcome::Hang(_) => OutcomeKind::Hang,
            Outcome::CallMismatch(_) => OutcomeKind::CallMismatch,
            Outcome::Timeout(_) => OutcomeKind::Timeout,
            Outcome::NotRun(_) => OutcomeKind::NotRun,
        }
    }

    /// The outcome's name in reports and JSON.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// One character for the matrix.
    pub fn symbol(&self) -> char {
        self.kind().symbol()
    }

    /// The tracer's diagnosis, for a deadlock or a hang.
    pub fn diagnosis(&self) -> Option<&Diagnosis> {
        match self {
            Outcome::Deadlock(d) | Outcome::Hang(d) | Outcome::CallMismatch(d) => Some(d),
            Outcome::Pass
            | Outcome::WrongResult(_)
            | Outcome::Crash(_)
            | Outcome::NotImplemented(_)
            | Outcome::Timeout(_)
            | Outcome::NotRun(_) => None,
        }
    }

    /// A sentence on what happened, `None` for a pass.
    pub fn explain(&self) -> Option<String> {
        match self {
            Outcome::Pass => None,
            Outcome::WrongResult(w) => Some(format!("rank {} {}", w.rank, w.problem.explain())),
            Outcome::Crash(c) => Some(c.explain()),
            Outcome::NotImplemented(p) => Some(format!(
                "not implemented yet: rank {} reached `{}`{}",
                p.rank,
                p.message,
                p.location
                    .as_deref()
                    .map(|l| format!(" at {l}"))
                    .unwrap_or_default()
            )),
            Outcome::Deadlock(d) | Outcome::Hang(d) | Outcome::CallMismatch(d) => {
                Some(d.explanation.clone())
            }
            Outcome::Timeout(t) => Some(match t.limit {
                TimeLimit::Cell => format!(
                    "still running after {} s (the cell time limit), stopped",
                    seconds_text(t.seconds)
                ),
                TimeLimit::Launch => format!(
                    "stopped when the whole job reached its time limit ({} s)",
                    seconds_text(t.seconds)
                ),
            }),
            Outcome::NotRun(n) => Some(match n {
                NotRun::AfterFailure { at } => {
                    format!("not run: the same part already failed at {at}")
                }
                NotRun::PartNotImplemented => "not run: the part is not implemented".into(),
                NotRun::AfterDeadlock { scaling_factor } => format!(
                    "not run: already deadlocked at {} elements per block",
                    thousands(*scaling_factor)
                ),
                NotRun::Interrupted => "not run: the grade was interrupted".into(),
            }),
        }
    }
}

impl Problem {
    fn explain(&self) -> String {
        match self {
            Problem::BlockCount { expected, got } => {
                format!("returned {got} blocks instead of {expected} (one per rank)")
            }
            Problem::Length { source, expected, got } => format!(
                "received {got} elements from rank {source} instead of {expected}"
            ),
            Problem::Element {
                source,
                index,
                expected,
                got,
            } => format!(
                "received a wrong value from rank {source}: element {index} is {got}, expected {expected}"
            ),
            Problem::OutputCount {
                expected,
                got,
                what,
            } => format!(
                "returned {got} block{} instead of {expected}{}",
                if *got == 1 { "" } else { "s" },
                if what.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", what.join("; "))
                }
            ),
            Problem::OutputLength {
                block,
                what,
                expected,
                got,
            } => format!(
                "returned block {block} ({what}) with {got} elements instead of {expected}"
            ),
            Problem::Output {
                block,
                what,
                index,
                expected,
                got,
            } => format!(
                "returned a wrong block {block} ({what}): element {index} is {got}, expected {expected}"
            ),
            Problem::Unreadable { source } => format!(
                "returned a block from rank {source} that is not where the rank's report says in its results file (the file was changed)"
            ),
            Problem::Stale { source, earlier } => format!(
                "received from rank {source} the block it sent in {earlier}, not the one it sent in this call"
            ),
            Problem::Pcontrol { extra } => format!(
                "called MPI_Pcontrol in the student's code ({extra} call{} besides the grader's marks); MPI_Pcontrol belongs to the grader, which uses it to tell the student's calls from its own",
                if *extra == 1 { "" } else { "s" }
            ),
            Problem::Traffic {
                sent,
                needed,
                elements,
            } => format!(
                "sent {} B to other ranks through MPI; an alltoall of {} element{} per block must send at least {} B",
                thousands(*sent),
                thousands(*elements),
                if *elements == 1 { "" } else { "s" },
                thousands(*needed)
            ),
            Problem::Repetition {
                repetition,
                of,
                problem,
            } => format!("{} (in call {} of {of})", problem.explain(), repetition + 1),
            Problem::NoReport => "reported no result for this cell".into(),
            Problem::Tampered { what } => format!(
                "has an event file the submission wrote into, so no result of it is trusted ({what})"
            ),
        }
    }
}

impl Crash {
    fn explain(&self) -> String {
        let who = self
            .rank
            .map_or_else(|| "a rank".to_string(), |r| format!("rank {r}"));
        match &self.cause {
            CrashCause::Panic { message, location } => format!(
                "{who} {}{}: {message}",
                // A Python rank's exception is located in a `.py` file.
                if location.as_deref().is_some_and(|l| l.contains(".py:")) {
                    "raised an exception"
                } else {
                    "panicked"
                },
                location
                    .as_deref()
                    .map(|l| format!(" at {l}"))
                    .unwrap_or_default()
            ),
            CrashCause::Signal { signal, name } => {
                format!("{who} was killed by signal {signal} ({name})")
            }
            CrashCause::Exit { code } => {
                format!("{who} exited with status {code} before the cell finished")
            }
            CrashCause::Vanished => {
                format!("{who}'s process ended while the other ranks were waiting for it")
            }
            CrashCause::ExitWithoutFinalize => {
                format!("{who} exited before the cell finished (without calling MPI_Finalize)")
            }
            CrashCause::Abort { code } => format!("{who} called MPI_Abort with error code {code}"),
            CrashCause::ScratchFull { limit_mb } => crate::sandbox::scratch::message(
                "the run directory, /tmp, /var/tmp and /dev/shm",
                *limit_mb,
                "ranks",
            ),
            CrashCause::Unexplained { launcher_status } => {
                format!("the job ended before the cell finished ({launcher_status})")
            }
        }
    }
}

/// Kept for the callers that still name them here; [`crate::fmt`] owns them.
pub use crate::fmt::{seconds_text, thousands};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_kinds_serialise_as_their_names_and_parse_back() {
        let names: Vec<String> = OutcomeKind::ALL
            .iter()
            .map(|k| serde_json::to_string(k).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "\"pass\"",
                "\"wrong-result\"",
                "\"crash\"",
                "\"not-implemented\"",
                "\"deadlock\"",
                "\"hang\"",
                "\"call-mismatch\"",
                "\"timeout\"",
                "\"not-run\"",
            ]
        );
        for kind in OutcomeKind::ALL {
            assert_eq!(
                format!("\"{}\"", kind.name()),
                serde_json::to_string(&kind).unwrap()
            );
            assert_eq!(OutcomeKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(OutcomeKind::from_name("passed"), None);
        assert_eq!(Outcome::Pass.kind(), OutcomeKind::Pass);
        assert_eq!(
            OutcomeKind::from(&Outcome::NotRun(NotRun::Interrupted)),
            OutcomeKind::NotRun
        );
    }

    #[test]
    fn cells_describe_themselves() {
        let mut cell = Cell {
            part: "part2".into(),
            function: "part2".into(),
            ranks: 3,
            scaling_factor: 1,
            mode: Mode::Standard,
        };
        assert_eq!(cell.describe(), "3 ranks, 1 element per block");
        cell.scaling_factor = 10000;
        cell.mode = Mode::ZeroBuffer;
        assert_eq!(
            cell.describe(),
            "3 ranks, 10 000 elements per block in zero-buffer mode"
        );
    }

    #[test]
    fn explanations_name_the_rank_and_the_value() {
        let wrong = Outcome::WrongResult(WrongResult {
            rank: 2,
            problem: Problem::Element {
                source: 1,
                index: 7,
                expected: 5,
                got: 6,
            },
        });
        assert_eq!(
            wrong.explain().unwrap(),
            "rank 2 received a wrong value from rank 1: element 7 is 6, expected 5"
        );
        let crash = Outcome::Crash(Crash {
            rank: Some(1),
            cause: CrashCause::Signal {
                signal: 11,
                name: "Segmentation fault".into(),
            },
        });
        assert_eq!(
            crash.explain().unwrap(),
            "rank 1 was killed by signal 11 (Segmentation fault)"
        );
        assert_eq!(Outcome::Pass.explain(), None);
    }
}
