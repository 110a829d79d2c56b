//! Turning a finished launch into cell outcomes.
//!
//! Cells run in plan order. Every cell that all ranks completed is verified. The first cell that
//! did not complete is the one the launch ended in: it gets the failure. After it, cells of the
//! same part and mode are not run (the part already failed there, or, for a part expected to
//! deadlock, already deadlocked), and the other cells go back to the queue for a new launch.

use crate::launch::{Ending, LaunchRecord};
use crate::launcher::{Launcher, LauncherReport, Who};
use crate::outcome::{Crash, CrashCause, NotRun, Outcome, Panic, TimeLimit, Timeout};
use crate::rundir::{Events, RunDir};
use crate::trace::diagnosis::StallKind;
use crate::verify;
use mpi_grade_protocol::run::{PlannedCell, RankEvent};

/// The result of one cell of a launch.
#[derive(Debug, Clone, PartialEq)]
pub struct CellResult {
    /// Index of the cell in the plan.
    pub index: u32,
    pub outcome: Outcome,
    /// How long the student function took (slowest rank, fastest repetition).
    pub timing: Option<verify::Timing>,
    /// The job's output, for the cell the launch ended in.
    pub output: Option<String>,
}

/// What a launch settled, and what is left to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    pub results: Vec<CellResult>,
    /// Plan indices of the cells to run again in a new launch.
    pub requeue: Vec<u32>,
}

/// Classifies every cell of `plan` after the launch in `record`. `expects_deadlock` tells which
/// student functions are meant to deadlock (their deadlock is the end of their sizes).
pub fn classify(
    run_dir: &RunDir,
    record: &LaunchRecord,
    launcher: &Launcher,
    expects_deadlock: &dyn Fn(&str) -> bool,
) -> Classified {
    let plan = &run_dir.plan;
    let events = record.events.as_ref().expect("a graded launch has events");
    let mut results = Vec::new();
    let mut requeue = Vec::new();
    let mut cut: Option<(&PlannedCell, Outcome)> = None;
    for cell in &plan.cells {
        if let Some((at, failure)) = &cut {
            if record.ending == Ending::Interrupted {
                results.push(not_run(cell, NotRun::Interrupted));
            } else if cell.function == at.function && cell.mode == at.mode {
                let why =
                    if expects_deadlock(&at.function) && matches!(failure, Outcome::Timeout(_)) {
                        NotRun::AfterDeadlock {
                            scaling_factor: at.scaling_factor,
                        }
                    } else {
                        NotRun::AfterFailure {
                            at: format!(
                                "{} elements per block",
                                crate::outcome::thousands(at.scaling_factor)
                            ),
                        }
                    };
                results.push(not_run(cell, why));
            } else {
                requeue.push(cell.index);
            }
            continue;
        }
        if events.all_done(cell.index) {
            let (outcome, timing) = verify::verify(cell, run_dir, events);
            results.push(CellResult {
                index: cell.index,
                outcome,
                timing,
                output: None,
            });
            continue;
        }
        let outcome = failure(record, events, launcher);
        results.push(CellResult {
            index: cell.index,
            outcome: outcome.clone(),
            timing: None,
            output: job_output(record),
        });
        cut = Some((cell, outcome));
    }
    Classified { results, requeue }
}

fn not_run(cell: &PlannedCell, why: NotRun) -> CellResult {
    CellResult {
        index: cell.index,
        outcome: Outcome::NotRun(why),
        timing: None,
        output: None,
    }
}

/// Why the launch ended before the cell it was running completed.
fn failure(record: &LaunchRecord, events: &Events, launcher: &Launcher) -> Outcome {
    // Before a panic: a rank whose write failed once the scratch was full may have panicked.
    if let Ending::ScratchFull { limit_mb } = record.ending {
        return Outcome::Crash(Crash {
            rank: None,
            cause: CrashCause::ScratchFull { limit_mb },
        });
    }
    if let Some((
        rank,
        RankEvent::Panic {
            message, location, ..
        },
    )) = events.first_panic()
    {
        let panic = Panic {
            rank,
            message: message.clone(),
            location: location.clone(),
        };
        return if is_not_implemented(message) {
            Outcome::NotImplemented(panic)
        } else {
            Outcome::Crash(Crash {
                rank: Some(rank),
                cause: CrashCause::Panic {
                    message: panic.message,
                    location: panic.location,
                },
            })
        };
    }
    let mut vanished = None;
    match &record.ending {
        Ending::Interrupted => return Outcome::NotRun(NotRun::Interrupted),
        Ending::Stalled(finding) => match finding.diagnosis.kind {
            StallKind::Deadlock => return Outcome::Deadlock(Box::new(finding.diagnosis.clone())),
            StallKind::Hang => return Outcome::Hang(Box::new(finding.diagnosis.clone())),
            // A rank's process is gone: what the launcher said about it, if anything, is better.
            StallKind::Gone => vanished = finding.diagnosis.culprits.first().copied(),
        },
        Ending::CellTimeout { seconds, .. } => {
            return Outcome::Timeout(Timeout {
                limit: TimeLimit::Cell,
                seconds: *seconds,
            })
        }
        Ending::LaunchTimeout { seconds } => {
            return Outcome::Timeout(Timeout {
                limit: TimeLimit::Launch,
                seconds: *seconds,
            })
        }
        Ending::Exited | Ending::ScratchFull { .. } => {}
    }
    let said = launcher
        .parse_report(&record.stderr.text)
        .or_else(|| launcher.parse_report(&record.stdout.text));
    // MPI_Abort ends the calling process with the error code as its status: the tracer's or
    // the launcher's word that it was an abort says more than an exit status.
    if let Some((rank, code)) = record.aborted.or(match said {
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
    if let Some((rank, code)) = record.self_exit {
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
    let first_gone = vanished.or(record.first_gone);
    let status_code = record.status.and_then(|s| s.code());
    Outcome::Crash(match said {
        Some(LauncherReport::Abort { rank, code }) => Crash {
            rank: Some(rank),
            cause: CrashCause::Abort { code },
        },
        Some(LauncherReport::Signal { who, signal, name }) => {
            let rank = match who {
                Who::Rank(rank) => Some(rank),
                Who::Pid(pid) => events
                    .pids()
                    .into_iter()
                    .find(|&(_, p)| p == pid)
                    .map(|(r, _)| r),
            };
            // MPICH also reports the ranks it killed (SIGKILL) after another one left: the
            // rank that went first is the one to blame.
            if first_gone.is_some() && rank != first_gone && signal == libc::SIGKILL {
                gone_crash(first_gone, status_code)
            } else {
                Crash {
                    rank: rank.or(first_gone),
                    cause: CrashCause::Signal { signal, name },
                }
            }
        }
        Some(LauncherReport::Exit { rank, code }) => Crash {
            rank: rank.or(first_gone),
            cause: CrashCause::Exit { code },
        },
        Some(LauncherReport::ExitWithoutFinalize { rank }) => Crash {
            rank: Some(rank),
            cause: CrashCause::ExitWithoutFinalize,
        },
        None if first_gone.is_some() => gone_crash(first_gone, status_code),
        None => Crash {
            rank: None,
            cause: CrashCause::Unexplained {
                launcher_status: match record.status {
                    Some(status) => format!("mpiexec {status}"),
                    None => "mpiexec did not report a status".into(),
                },
            },
        },
    })
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

/// The job's output as shown with a failure: stderr then stdout, each as captured.
fn job_output(record: &LaunchRecord) -> Option<String> {
    let mut text = String::new();
    for (name, captured) in [("stderr", &record.stderr), ("stdout", &record.stdout)] {
        if !captured.is_empty() {
            text.push_str(&format!(
                "--- {name} ({} bytes) ---\n{}\n",
                captured.total_bytes,
                captured.text.trim_end()
            ));
        }
    }
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn todo_and_unimplemented_are_not_implemented() {
        assert!(is_not_implemented("not yet implemented"));
        assert!(is_not_implemented("not yet implemented: part 1"));
        assert!(is_not_implemented("not implemented"));
        assert!(!is_not_implemented("index out of bounds"));
    }
}
