//! A part's verdict from its cells and what `challenges.toml` expects of it.

use crate::config::{Expect, Part};
use crate::outcome::{thousands, Cell, Outcome};
use mpi_grade_protocol::run::Mode;
use std::collections::BTreeMap;

/// Why a part failed: the deciding outcome, or a part-level reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A cell's outcome decided (its name: `"deadlock"`, `"crash"`, ...).
    Outcome(&'static str),
    /// A part expected to deadlock completed at every size of some rank count.
    NoDeadlock,
    /// The submission (or this part's function) does not build.
    BuildError,
}

impl Failure {
    /// The name in reports and JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Failure::Outcome(name) => name,
            Failure::NoDeadlock => "no-deadlock",
            Failure::BuildError => "build-error",
        }
    }
}

/// The verdict on one part.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub passed: bool,
    pub failure: Option<Failure>,
    /// One sentence for people.
    pub summary: String,
    pub points: f64,
}

/// The verdict on `part` from the outcomes of its cells.
pub fn decide(part: &Part, cells: &BTreeMap<Cell, Outcome>) -> Verdict {
    let mine: Vec<(&Cell, &Outcome)> = cells.iter().filter(|(c, _)| c.part == part.name).collect();
    let (failure, summary) = match part.expect {
        Expect::Complete => decide_complete(&mine),
        Expect::Deadlock => decide_deadlock(&mine),
    };
    Verdict {
        passed: failure.is_none(),
        points: if failure.is_none() { part.points } else { 0.0 },
        failure,
        summary,
    }
}

/// The verdict on a part that could not be built.
pub fn build_error(summary: String) -> Verdict {
    Verdict {
        passed: false,
        failure: Some(Failure::BuildError),
        summary,
        points: 0.0,
    }
}

fn failed_at(cell: &Cell, outcome: &Outcome) -> (Option<Failure>, String) {
    let what = outcome.explain().unwrap_or_default();
    (
        Some(Failure::Outcome(outcome.name())),
        format!("{}: {what}", cell.describe()),
    )
}

fn decide_complete(cells: &[(&Cell, &Outcome)]) -> (Option<Failure>, String) {
    // Cells are ordered by rank count, size and mode; report the first failure in that order,
    // and how widespread failures are.
    let failing: Vec<&(&Cell, &Outcome)> =
        cells.iter().filter(|(_, o)| **o != Outcome::Pass).collect();
    match failing.first() {
        None => (
            None,
            format!(
                "correct at every rank count and size ({} runs)",
                cells.len()
            ),
        ),
        Some((cell, outcome)) => {
            let (failure, mut summary) = failed_at(cell, outcome);
            let mut ranks: Vec<u32> = failing
                .iter()
                .filter(|(_, o)| !matches!(o, Outcome::NotRun(_)))
                .map(|(c, _)| c.ranks)
                .collect();
            ranks.dedup();
            if ranks.len() > 1 {
                summary.push_str(&format!(
                    " (fails at {} rank counts: {})",
                    ranks.len(),
                    list(&ranks)
                ));
            }
            (failure, summary)
        }
    }
}

/// Per rank count: complete at the smallest size, then deadlock at some larger size.
fn decide_deadlock(cells: &[(&Cell, &Outcome)]) -> (Option<Failure>, String) {
    let mut by_ranks: BTreeMap<u32, Vec<(&Cell, &Outcome)>> = BTreeMap::new();
    for &(cell, outcome) in cells.iter().filter(|(c, _)| c.mode == Mode::Standard) {
        by_ranks
            .entry(cell.ranks)
            .or_default()
            .push((cell, outcome));
    }
    let mut deadlocked_from: Vec<(u32, u64)> = Vec::new();
    for (&ranks, sizes) in &by_ranks {
        let (first_cell, first) = sizes[0];
        if *first != Outcome::Pass {
            let (failure, summary) = failed_at(first_cell, first);
            return match first {
                Outcome::Timeout(_) => (
                    failure,
                    format!("{summary}; this part must work for small messages and deadlock only for large ones"),
                ),
                _ => (failure, summary),
            };
        }
        match sizes.iter().find(|(_, o)| **o != Outcome::Pass) {
            None => {
                let largest = sizes.last().expect("at least one size").0.scaling_factor;
                return (
                    Some(Failure::NoDeadlock),
                    format!(
                        "completed at every size up to {} elements per block at {ranks} ranks; it must deadlock once messages are too large to be buffered",
                        thousands(largest)
                    ),
                );
            }
            Some((cell, outcome)) if is_deadlock(outcome) => {
                deadlocked_from.push((ranks, cell.scaling_factor))
            }
            Some((cell, outcome)) => return failed_at(cell, outcome),
        }
    }
    let sizes: Vec<u64> = deadlocked_from.iter().map(|&(_, sf)| sf).collect();
    let summary = if sizes.windows(2).all(|w| w[0] == w[1]) && !sizes.is_empty() {
        format!(
            "deadlocked from {} elements per block at every rank count",
            thousands(sizes[0])
        )
    } else {
        let parts: Vec<String> = deadlocked_from
            .iter()
            .enumerate()
            .map(|(i, &(ranks, sf))| {
                let unit = if i == 0 { " elements per block" } else { "" };
                format!("from {}{unit} at {ranks} ranks", thousands(sf))
            })
            .collect();
        format!("deadlocked {}", parts.join(", "))
    };
    (None, summary)
}

/// Whether an outcome counts as the deadlock part 1 asks for: until the tracer tells deadlocks
/// from other stalls, a cell that had to be stopped at its time limit.
fn is_deadlock(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Timeout(_))
}

fn list(ranks: &[u32]) -> String {
    ranks
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Crash, CrashCause, NotRun, TimeLimit, Timeout};

    fn part(expect: Expect) -> Part {
        Part {
            name: "p".into(),
            function: "p".into(),
            title: String::new(),
            expect,
            points: 2.0,
        }
    }

    fn cell(ranks: u32, sf: u64) -> Cell {
        Cell {
            part: "p".into(),
            function: "p".into(),
            ranks,
            scaling_factor: sf,
            mode: Mode::Standard,
        }
    }

    fn timeout() -> Outcome {
        Outcome::Timeout(Timeout {
            limit: TimeLimit::Cell,
            seconds: 1.0,
        })
    }

    fn grid(rows: &[(u32, &[Outcome])]) -> BTreeMap<Cell, Outcome> {
        let sizes = [1, 10, 100, 1000];
        rows.iter()
            .flat_map(|(ranks, outcomes)| {
                outcomes
                    .iter()
                    .zip(sizes)
                    .map(move |(o, sf)| (cell(*ranks, sf), o.clone()))
            })
            .collect()
    }

    #[test]
    fn complete_parts_pass_only_when_every_cell_passes() {
        let p = Outcome::Pass;
        let v = decide(
            &part(Expect::Complete),
            &grid(&[(2, &[p.clone(), p.clone()]), (3, &[p.clone(), p.clone()])]),
        );
        assert!(v.passed);
        assert_eq!(v.points, 2.0);

        let crash = Outcome::Crash(Crash {
            rank: Some(1),
            cause: CrashCause::Exit { code: 3 },
        });
        let v = decide(
            &part(Expect::Complete),
            &grid(&[(2, &[p.clone(), crash.clone()]), (3, &[crash, p])]),
        );
        assert!(!v.passed);
        assert_eq!(v.points, 0.0);
        assert_eq!(v.failure, Some(Failure::Outcome("crash")));
        assert!(
            v.summary
                .starts_with("2 ranks, 10 elements per block: rank 1 exited"),
            "{}",
            v.summary
        );
        assert!(
            v.summary.contains("fails at 2 rank counts: 2, 3"),
            "{}",
            v.summary
        );
    }

    #[test]
    fn deadlock_parts_need_small_success_then_a_deadlock_everywhere() {
        let p = Outcome::Pass;
        let skipped = Outcome::NotRun(NotRun::AfterDeadlock {
            scaling_factor: 100,
        });
        let good = grid(&[
            (2, &[p.clone(), p.clone(), timeout(), skipped.clone()]),
            (3, &[p.clone(), p.clone(), timeout(), skipped.clone()]),
        ]);
        let v = decide(&part(Expect::Deadlock), &good);
        assert!(v.passed, "{v:?}");
        assert_eq!(
            v.summary,
            "deadlocked from 100 elements per block at every rank count"
        );

        let mixed = grid(&[
            (2, &[p.clone(), timeout()]),
            (3, &[p.clone(), p.clone(), timeout()]),
        ]);
        let v = decide(&part(Expect::Deadlock), &mixed);
        assert!(v.passed);
        assert_eq!(
            v.summary,
            "deadlocked from 10 elements per block at 2 ranks, from 100 at 3 ranks"
        );
    }

    #[test]
    fn deadlock_parts_fail_without_a_deadlock_or_when_small_messages_fail() {
        let p = Outcome::Pass;
        let v = decide(
            &part(Expect::Deadlock),
            &grid(&[(2, &[p.clone(), p.clone(), p.clone(), p.clone()])]),
        );
        assert_eq!(v.failure, Some(Failure::NoDeadlock));
        assert!(
            v.summary
                .contains("up to 1 000 elements per block at 2 ranks"),
            "{}",
            v.summary
        );

        let v = decide(&part(Expect::Deadlock), &grid(&[(2, &[timeout()])]));
        assert_eq!(v.failure, Some(Failure::Outcome("timeout")));
        assert!(
            v.summary.contains("must work for small messages"),
            "{}",
            v.summary
        );

        let wrong = Outcome::WrongResult(crate::outcome::WrongResult {
            rank: 0,
            problem: crate::outcome::Problem::NoReport,
        });
        let v = decide(
            &part(Expect::Deadlock),
            &grid(&[(2, &[p, wrong, timeout()])]),
        );
        assert_eq!(v.failure, Some(Failure::Outcome("wrong-result")));
    }
}
