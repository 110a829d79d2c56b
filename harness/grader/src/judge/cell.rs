//! Turning a finished launch into cell outcomes.
//!
//! Cells run in plan order. Every cell that all ranks completed is verified. The first cell that
//! did not complete is the one the launch ended in: it gets the failure. After it, cells of the
//! same part and mode are not run (the part already failed there, or, for a part expected to
//! deadlock, already deadlocked), nor, after a hang or a time-out, the part's other mode; the
//! other cells go back to the queue for a new launch. A launch released before a hang limit
//! (`Ending::Released`) failed nowhere: the cell it was in goes back to the queue too.
//!
//! Everything here is a function of one [`Evidence`]: what the launch and its run directory
//! yielded, gathered by the launcher (`run::matrix`) before any of it is judged.

use crate::judge::outcome::{Crash, CrashCause, NotRun, Outcome, Panic, TimeLimit, Timeout};
use crate::judge::verify;
use crate::mpi::{LauncherReport, Who};
use crate::run::launch::Ending;
use crate::trace::diagnosis::StallKind;
use crate::trace::usage::Usage;
use mpi_grade_protocol::run::PlannedCell;
use std::collections::BTreeMap;
use std::process::ExitStatus;

/// Everything one graded launch yielded, fully gathered: the cells' verified results, the
/// ranks' panics, how and why the launch ended, what the launcher and the tracer said. The
/// cell ladder ([`failure`]) and [`classify`] decide from this alone.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// The verified outcome and timing of the leading cells of the plan that every rank
    /// completed, in plan order; the cell after them is the one the launch ended in.
    pub completed: Vec<(Outcome, Option<verify::Timing>)>,
    /// The first panic, by rank, that a rank's runtime recorded.
    pub panic: Option<Panic>,
    /// Why the launch ended.
    pub ending: Ending,
    /// What the launcher's output says about a rank's death (stderr first, then stdout).
    pub launcher_said: Option<LauncherReport>,
    /// A rank that called `MPI_Abort`, with its code, as the tracer recorded it.
    pub aborted: Option<(u32, i32)>,
    /// A rank that ended its own process before finalising, with its status (tracer).
    pub self_exit: Option<(u32, i32)>,
    /// The first rank whose process was seen to end while the launcher still ran.
    pub first_gone: Option<u32>,
    /// `mpiexec`'s exit status.
    pub status: Option<ExitStatus>,
    /// The process id each rank reported when it became ready.
    pub rank_pids: Vec<(u32, u32)>,
    /// The job's output as shown with a failure.
    pub output: Option<String>,
    /// Whether some rank became ready (the job started at all).
    pub started: bool,
    /// The last lines of the job's output, for the error when the job did not start.
    pub tail: String,
    /// `MPI_Get_library_version` as a rank reported it.
    pub library: Option<String>,
    /// Processes that could not be stopped.
    pub survivors: Option<String>,
    /// Wall time of the launch.
    pub seconds: f64,
    /// What each plan cell that ran called, by plan index (traced launches).
    pub usage: BTreeMap<u32, Usage>,
}

/// The result of one cell of a launch.
#[derive(Debug, Clone, PartialEq)]
pub struct CellResult {
    /// Index of the cell in the plan.
    pub index: u32,
    /// What the cell came to.
    pub outcome: Outcome,
    /// How long the student function took (slowest rank, fastest repetition).
    pub timing: Option<verify::Timing>,
    /// The job's output, for the cell the launch ended in.
    pub output: Option<String>,
}

/// What a launch settled, and what is left to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    /// The cells the launch settled, in plan order.
    pub results: Vec<CellResult>,
    /// Plan indices of the cells to run again in a new launch.
    pub requeue: Vec<u32>,
}

/// Classifies every cell of `cells` (a launch's plan) from what the launch yielded.
/// `expects_deadlock` tells which student functions are meant to deadlock (their deadlock is
/// the end of their sizes).
pub fn classify(
    cells: &[PlannedCell],
    evidence: &Evidence,
    expects_deadlock: &dyn Fn(&str) -> bool,
) -> Classified {
    let mut results: Vec<CellResult> = cells
        .iter()
        .zip(&evidence.completed)
        .map(|(cell, (outcome, timing))| CellResult {
            index: cell.index,
            outcome: outcome.clone(),
            timing: *timing,
            output: None,
        })
        .collect();
    let mut requeue = Vec::new();
    let Some(at) = cells.get(evidence.completed.len()) else {
        return Classified { results, requeue };
    };
    if evidence.ending == Ending::Released {
        // Not a failure: the cell it was in and every cell after it run again elsewhere.
        requeue.extend(cells[evidence.completed.len()..].iter().map(|c| c.index));
        return Classified { results, requeue };
    }
    let outcome = failure(evidence);
    results.push(CellResult {
        index: at.index,
        outcome: outcome.clone(),
        timing: None,
        output: evidence.output.clone(),
    });
    let both_modes = waited_out(&outcome) && !expects_deadlock(&at.function);
    for cell in &cells[evidence.completed.len() + 1..] {
        if evidence.ending == Ending::Interrupted {
            results.push(not_run(cell, NotRun::Interrupted));
        } else if cell.function == at.function && (cell.mode == at.mode || both_modes) {
            let why = if expects_deadlock(&at.function) && matches!(outcome, Outcome::Timeout(_)) {
                NotRun::AfterDeadlock {
                    scaling_factor: at.scaling_factor,
                }
            } else {
                NotRun::AfterFailure {
                    at: format!(
                        "{} elements per block",
                        crate::judge::outcome::thousands(at.scaling_factor)
                    ),
                }
            };
            results.push(not_run(cell, why));
        } else {
            requeue.push(cell.index);
        }
    }
    Classified { results, requeue }
}

/// Whether `outcome` cost the limit of a wait: a hang or a time-out. The part's other mode at
/// the same rank count is then not run either: its verdict is already a failure there, and a
/// part that hung in standard mode hangs the same way with synchronous sends, another wait
/// for nothing. (Not for a part expected to deadlock: its time-out is the end of its sizes,
/// and its zero-buffer cell is its real test.)
fn waited_out(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Hang(_) | Outcome::Timeout(_))
}

fn not_run(cell: &PlannedCell, why: NotRun) -> CellResult {
    CellResult {
        index: cell.index,
        outcome: Outcome::NotRun(why),
        timing: None,
        output: None,
    }
}

/// Why the launch ended before the cell it was running completed: the ladder scratch full >
/// panic > interrupt > stall > timeout > abort > self-exit > launcher message > gone rank >
/// unexplained, each rung taken only when the ones above it have nothing to say.
pub fn failure(evidence: &Evidence) -> Outcome {
    // Before a panic: a rank whose write failed once the scratch was full may have panicked.
    if let Ending::ScratchFull { limit_mb } = evidence.ending {
        return Outcome::Crash(Crash {
            rank: None,
            cause: CrashCause::ScratchFull { limit_mb },
        });
    }
    if let Some(panic) = &evidence.panic {
        return panicked(panic);
    }
    let vanished = match ended_early(&evidence.ending) {
        Ok(outcome) => return outcome,
        Err(vanished) => vanished,
    };
    // MPI_Abort ends the calling process with the error code as its status: the tracer's or
    // the launcher's word that it was an abort says more than an exit status.
    if let Some((rank, code)) = evidence.aborted.or(match evidence.launcher_said {
        Some(LauncherReport::Abort { rank, code }) => Some((rank, code)),
        _ => None,
    }) {
        return Outcome::Crash(Crash {
            rank: Some(rank),
            cause: CrashCause::Abort { code },
        });
    }
    // A rank that ended itself is the culprit, with its own status; otherwise the rank seen to
    // go first: the tracer's (while others waited) or the launch's own watch.
    if let Some((rank, code)) = evidence.self_exit {
        let cause = if code == 0 {
            CrashCause::ExitWithoutFinalize
        } else {
            CrashCause::Exit { code }
        };
        return Outcome::Crash(Crash {
            rank: Some(rank),
            cause,
        });
    }
    Outcome::Crash(crashed(evidence, vanished.or(evidence.first_gone)))
}

/// A rank's panic: `todo!()` is a part not implemented, anything else a crash.
fn panicked(panic: &Panic) -> Outcome {
    if is_not_implemented(&panic.message) {
        Outcome::NotImplemented(panic.clone())
    } else {
        Outcome::Crash(Crash {
            rank: Some(panic.rank),
            cause: CrashCause::Panic {
                message: panic.message.clone(),
                location: panic.location.clone(),
            },
        })
    }
}

/// The outcome a launch's ending decides by itself (interrupt, deadlock, hang, time-out), or
/// the rank a stall found gone (what the launcher said about it, if anything, is better).
fn ended_early(ending: &Ending) -> Result<Outcome, Option<u32>> {
    match ending {
        Ending::Interrupted => Ok(Outcome::NotRun(NotRun::Interrupted)),
        Ending::Stalled(finding) => match finding.diagnosis.kind {
            StallKind::Deadlock => Ok(Outcome::Deadlock(Box::new(finding.diagnosis.clone()))),
            StallKind::Hang => Ok(Outcome::Hang(Box::new(finding.diagnosis.clone()))),
            StallKind::Gone => Err(finding.diagnosis.culprits.first().copied()),
            StallKind::CallMismatch => {
                Ok(Outcome::CallMismatch(Box::new(finding.diagnosis.clone())))
            }
        },
        Ending::CellTimeout { seconds, .. } => Ok(Outcome::Timeout(Timeout {
            limit: TimeLimit::Cell,
            seconds: *seconds,
        })),
        Ending::LaunchTimeout { seconds } => Ok(Outcome::Timeout(Timeout {
            limit: TimeLimit::Launch,
            seconds: *seconds,
        })),
        // `classify` requeues a released launch's cells before it asks for a failure.
        Ending::Exited | Ending::ScratchFull { .. } | Ending::Released => Err(None),
    }
}

/// The crash of a job that ended by itself: the launcher's message, else the rank seen to go
/// first (`first_gone`), else unexplained.
fn crashed(evidence: &Evidence, first_gone: Option<u32>) -> Crash {
    let status_code = evidence.status.and_then(|s| s.code());
    match &evidence.launcher_said {
        Some(LauncherReport::Abort { rank, code }) => Crash {
            rank: Some(*rank),
            cause: CrashCause::Abort { code: *code },
        },
        Some(LauncherReport::Signal { who, signal, name }) => {
            let rank = match *who {
                Who::Rank(rank) => Some(rank),
                Who::Pid(pid) => evidence
                    .rank_pids
                    .iter()
                    .find(|&&(_, p)| p == pid)
                    .map(|&(r, _)| r),
            };
            // MPICH also reports the ranks it killed (SIGKILL) after another one left: the
            // rank that went first is the one to blame.
            if first_gone.is_some() && rank != first_gone && *signal == libc::SIGKILL {
                gone_crash(first_gone, status_code)
            } else {
                Crash {
                    rank: rank.or(first_gone),
                    cause: CrashCause::Signal {
                        signal: *signal,
                        name: name.clone(),
                    },
                }
            }
        }
        Some(LauncherReport::Exit { rank, code }) => Crash {
            rank: rank.or(first_gone),
            cause: CrashCause::Exit { code: *code },
        },
        Some(LauncherReport::ExitWithoutFinalize { rank }) => Crash {
            rank: Some(*rank),
            cause: CrashCause::ExitWithoutFinalize,
        },
        None if first_gone.is_some() => gone_crash(first_gone, status_code),
        None => Crash {
            rank: None,
            cause: CrashCause::Unexplained {
                launcher_status: match evidence.status {
                    Some(status) => format!("mpiexec {status}"),
                    None => "mpiexec did not report a status".into(),
                },
            },
        },
    }
}

/// A rank whose process ended first, with the launcher's exit status as its own when that
/// says something (MPICH passes a rank's exit status on; 9 is its kill of the others).
fn gone_crash(rank: Option<u32>, launcher_status: Option<i32>) -> Crash {
    match launcher_status {
        Some(code) if code != 0 && code != libc::SIGKILL => Crash {
            rank,
            cause: CrashCause::Exit { code },
        },
        _ => Crash {
            rank,
            cause: CrashCause::Vanished,
        },
    }
}

/// `todo!()` and `unimplemented!()` messages.
fn is_not_implemented(message: &str) -> bool {
    message.starts_with("not yet implemented") || message.starts_with("not implemented")
}
