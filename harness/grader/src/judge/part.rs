//! A part's whole verdict (failure, sentence, performance, credit and points) from its
//! evidence and what `challenges.toml` expects of it: the one place that decides a part.

use crate::config::{Expect, Part};
use crate::judge::buffering::explain_buffering;
use crate::judge::outcome::{thousands, Cell, Outcome};
use crate::judge::performance::too_slow;
use crate::run::compare::Comparison;
use crate::run::probe::ProbeReport;
use crate::trace::usage::Usage;
use mpi_grade_protocol::run::Mode;
use mpi_grade_protocol::trace::Func;
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
    /// The part called an MPI function it may not use, or not one it must use.
    ForbiddenCall,
    /// The part was slower than its performance target allows.
    TooSlow,
}

impl Failure {
    /// The name in reports and JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Failure::Outcome(name) => name,
            Failure::NoDeadlock => "no-deadlock",
            Failure::BuildError => "build-error",
            Failure::ForbiddenCall => "forbidden-call",
            Failure::TooSlow => "too-slow",
        }
    }
}

/// The verdict on one part: everything a report says of it, made whole by [`judge`] and not
/// changed afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Whether the part passed (no failure).
    pub passed: bool,
    /// Why it failed, when it did.
    pub failure: Option<Failure>,
    /// One sentence for people.
    pub summary: String,
    /// The points earned: all the part's when it passed, else what its credit groups earned.
    pub points: f64,
    /// What each of the part's credit groups earned.
    pub credit: Vec<Earned>,
}

/// What a part's verdict is decided from: how far the grade got with it, and the evidence.
#[derive(Debug, Clone, Copy)]
pub enum PartEvidence<'a> {
    /// The grade was interrupted before the part ran.
    Interrupted,
    /// The part does not build (the crate, or the part's function); the sentence says why.
    NotBuilt(&'a str),
    /// The part ran: what its cells showed.
    Ran(Ran<'a>),
}

/// The evidence of a part that ran.
#[derive(Debug, Clone, Copy)]
pub struct Ran<'a> {
    /// The outcomes of the grade's cells (the other parts' are ignored).
    pub cells: &'a BTreeMap<Cell, Outcome>,
    /// The MPI calls the part made over all its traced runs; `None` when not traced.
    pub usage: Option<&'a Usage>,
    /// The parts' times against the baselines, when compared (the performance rule).
    pub comparison: Option<&'a Comparison>,
    /// What this MPI buffers, when probed: it explains where a deadlock part deadlocks.
    pub probe: Option<&'a ProbeReport>,
}

/// The whole verdict on `part` from its evidence: the failure and its sentence, the
/// performance rule, the probe's explanation and the credit with the points.
pub fn judge(part: &Part, evidence: &PartEvidence<'_>) -> Verdict {
    let none = BTreeMap::new();
    let (failure, summary, cells) = match *evidence {
        PartEvidence::Interrupted => (
            Some(Failure::Outcome("not-run")),
            "not run: the grade was interrupted".to_string(),
            &none,
        ),
        PartEvidence::NotBuilt(why) => (Some(Failure::BuildError), why.to_string(), &none),
        PartEvidence::Ran(ran) => {
            let (failure, summary) = ran_verdict(part, &ran);
            (failure, summary, ran.cells)
        }
    };
    let credit = credit(part, failure.as_ref(), &summary, cells);
    let points = match failure {
        None => part.points,
        // Not `sum()`: an empty float sum is -0.
        Some(_) => credit.iter().fold(0.0, |total, e| total + e.points),
    };
    Verdict {
        passed: failure.is_none(),
        failure,
        summary,
        points,
        credit,
    }
}

/// The failure and sentence of a part that ran: its cells and call rules, then the performance
/// rule on a part that works, and the probe's sentence on a deadlock part.
fn ran_verdict(part: &Part, ran: &Ran<'_>) -> (Option<Failure>, String) {
    let (failure, summary) = decide(part, ran.cells, ran.usage);
    if failure.is_none() {
        if let (Some(target), Some(comparison)) = (&part.performance, ran.comparison) {
            if let Some(why) = too_slow(
                comparison,
                &part.name,
                target.baseline.name(),
                target.max_ratio,
            ) {
                return (Some(Failure::TooSlow), why);
            }
        }
    }
    match ran.probe {
        // What this MPI buffers is why part 1 deadlocks where it does.
        Some(probe) if part.expect == Expect::Deadlock => {
            (failure, format!("{summary}; {}", explain_buffering(probe)))
        }
        _ => (failure, summary),
    }
}

/// The failure and sentence from the outcomes of the part's cells and (when traced) the MPI
/// calls they made. Collectives called differently on different ranks decide first: an error
/// in MPI's own terms, whatever the part's rules. Then a call the part may not make decides over
/// everything else: the rule is part of the task. A required call it never made decides only
/// when nothing else failed (a part that crashed before its first send is better explained by
/// the crash).
fn decide(
    part: &Part,
    cells: &BTreeMap<Cell, Outcome>,
    usage: Option<&Usage>,
) -> (Option<Failure>, String) {
    let mine: Vec<(&Cell, &Outcome)> = cells.iter().filter(|(c, _)| c.part == part.name).collect();
    let functional = || match part.expect {
        Expect::Complete => decide_complete(&mine),
        Expect::Deadlock => decide_deadlock(&mine),
    };
    let mismatch = mine
        .iter()
        .find(|(_, o)| matches!(o, Outcome::CallMismatch(_)));
    if let Some((cell, outcome)) = mismatch {
        return failed_at(cell, outcome);
    }
    match usage {
        None => functional(),
        Some(usage) => match forbidden_calls(part, usage) {
            Some(violation) => (Some(Failure::ForbiddenCall), violation),
            None => match functional() {
                (None, passed) => match missing_calls(part, usage) {
                    Some(missing) => (Some(Failure::ForbiddenCall), missing),
                    None => (None, passed),
                },
                failed => failed,
            },
        },
    }
}

/// What one credit group of a part earned.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Earned {
    /// The group's name in `challenges.toml`.
    pub name: String,
    /// Whether the part's rule held on the group's cells.
    pub passed: bool,
    /// The points it earned.
    pub points: f64,
    /// The points it could earn.
    pub max_points: f64,
    /// One sentence: the group's own verdict.
    pub summary: String,
}

/// The partial credit of a part: each of its credit groups earns its points when the part's
/// rule holds on the group's cells alone, unless the part broke its call rules (the rules are
/// part of the task) or did not build. A passed part earns everything.
fn credit(
    part: &Part,
    failure: Option<&Failure>,
    summary: &str,
    cells: &BTreeMap<Cell, Outcome>,
) -> Vec<Earned> {
    part.credit
        .iter()
        .map(|group| {
            let mine: Vec<(&Cell, &Outcome)> = cells
                .iter()
                .filter(|(c, _)| {
                    c.part == part.name && group.covers(c.ranks, c.scaling_factor, c.mode)
                })
                .collect();
            let (passed, summary) = match failure {
                None => (true, "passed with the whole part".to_string()),
                Some(Failure::ForbiddenCall) | Some(Failure::BuildError) => {
                    (false, format!("no credit: {summary}"))
                }
                Some(_) if mine.is_empty() => (false, "not run".to_string()),
                Some(_) => {
                    let (failure, summary) = match part.expect {
                        Expect::Complete => decide_complete(&mine),
                        Expect::Deadlock => decide_deadlock(&mine),
                    };
                    (failure.is_none(), summary)
                }
            };
            Earned {
                name: group.name.clone(),
                passed,
                points: if passed { group.points } else { 0.0 },
                max_points: group.points,
                summary,
            }
        })
        .collect()
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

/// The calls a part made that its rules forbid.
fn forbidden_calls(part: &Part, usage: &Usage) -> Option<String> {
    let allowed = part.allowed_calls.as_ref()?;
    let forbidden: Vec<String> = usage
        .counts
        .iter()
        .filter(|(f, c)| c.calls > 0 && !allowed.contains(f))
        .map(|(f, c)| {
            let at = usage
                .sites
                .get(f)
                .map(|s| format!(", first at {s}"))
                .unwrap_or_default();
            let times = if c.calls == 1 {
                "once".to_string()
            } else {
                format!("{} times", c.calls)
            };
            format!("{} ({times}{at})", f.name())
        })
        .collect();
    (!forbidden.is_empty()).then(|| {
        let names: Vec<&str> = allowed.iter().map(|f| f.name()).collect();
        format!(
            "calls {}, which this part may not use (allowed: {})",
            forbidden.join(", "),
            names.join(", ")
        )
    })
}

/// The calls a part must make and never made.
fn missing_calls(part: &Part, usage: &Usage) -> Option<String> {
    let missing: Vec<&str> = part
        .required_calls
        .iter()
        .filter(|f| usage.counts.get(f).is_none_or(|c| c.calls == 0))
        .map(|f: &Func| f.name())
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "never calls {}, which this part must use",
            missing.join(" or ")
        )
    })
}

/// Per rank count: complete at the smallest size, then deadlock at some larger size; and
/// deadlock in zero-buffer mode, where nothing is buffered.
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
    for &(cell, outcome) in cells.iter().filter(|(c, _)| c.mode == Mode::ZeroBuffer) {
        match outcome {
            Outcome::Deadlock(_) | Outcome::NotRun(_) => {}
            Outcome::Pass => {
                return (
                    Some(Failure::NoDeadlock),
                    format!(
                        "{}: completed, but with no send buffered it must deadlock",
                        cell.describe()
                    ),
                )
            }
            other => return failed_at(cell, other),
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

/// Whether an outcome is the deadlock part 1 asks for: the tracer's diagnosis, not a hang, a
/// crash or a time-out.
fn is_deadlock(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Deadlock(_))
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
    use crate::config::Credit;
    use crate::judge::outcome::{Crash, CrashCause, NotRun, TimeLimit, Timeout};
    use crate::trace::diagnosis::{Diagnosis, StallKind};
    use crate::trace::usage::Count;

    fn part(expect: Expect) -> Part {
        Part {
            name: "p".into(),
            function: "p".into(),
            kind: crate::config::Kind::Alltoall,
            title: String::new(),
            expect,
            points: 2.0,
            visibility: Default::default(),
            allowed_calls: Some(vec![Func::Send, Func::Mprobe, Func::Mrecv, Func::Isend]),
            required_calls: vec![Func::Isend],
            performance: None,
            credit: Vec::new(),
            ratio: None,
        }
    }

    fn deadlock() -> Outcome {
        Outcome::Deadlock(Box::new(Diagnosis {
            kind: StallKind::Deadlock,
            ranks: vec![],
            cycle: vec![0, 1],
            culprits: vec![],
            edges: vec![],
            zero_buffer: false,
            stalled: false,
            explanation: "deadlock".into(),
            mismatch: None,
        }))
    }

    fn ran(cells: &BTreeMap<Cell, Outcome>) -> Ran<'_> {
        Ran {
            cells,
            usage: None,
            comparison: None,
            probe: None,
        }
    }

    fn decide(part: &Part, cells: &BTreeMap<Cell, Outcome>) -> Verdict {
        judge(part, &PartEvidence::Ran(ran(cells)))
    }

    fn traced(part: &Part, cells: &BTreeMap<Cell, Outcome>, usage: &Usage) -> Verdict {
        let evidence = Ran {
            usage: Some(usage),
            ..ran(cells)
        };
        judge(part, &PartEvidence::Ran(evidence))
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
            (2, &[p.clone(), p.clone(), deadlock(), skipped.clone()]),
            (3, &[p.clone(), p.clone(), deadlock(), skipped.clone()]),
        ]);
        let v = decide(&part(Expect::Deadlock), &good);
        assert!(v.passed, "{v:?}");
        assert_eq!(
            v.summary,
            "deadlocked from 100 elements per block at every rank count"
        );

        let mixed = grid(&[
            (2, &[p.clone(), deadlock()]),
            (3, &[p.clone(), p.clone(), deadlock()]),
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

        let wrong = Outcome::WrongResult(crate::judge::outcome::WrongResult {
            rank: 0,
            problem: crate::judge::outcome::Problem::NoReport,
        });
        let v = decide(
            &part(Expect::Deadlock),
            &grid(&[(2, &[p.clone(), wrong, deadlock()])]),
        );
        assert_eq!(v.failure, Some(Failure::Outcome("wrong-result")));

        // A time-out after small sizes passed is not the deadlock the challenge asks for.
        let v = decide(&part(Expect::Deadlock), &grid(&[(2, &[p, timeout()])]));
        assert_eq!(v.failure, Some(Failure::Outcome("timeout")));
    }

    fn group(name: &str, ranks: Option<Vec<u32>>, mode: Option<Mode>, points: f64) -> Credit {
        Credit {
            name: name.into(),
            ranks,
            scaling_factors: None,
            mode,
            points,
        }
    }

    #[test]
    fn credit_groups_earn_their_points_when_their_cells_alone_pass() {
        let p = Outcome::Pass;
        let mut part = part(Expect::Deadlock);
        part.points = 3.0;
        part.credit = vec![
            group("two ranks", Some(vec![2]), None, 1.0),
            group("three ranks", Some(vec![3]), None, 1.0),
            group("zero-buffer", None, Some(Mode::ZeroBuffer), 0.5),
        ];
        // Deadlocks at 2 ranks as it must; never at 3.
        let mut cells = grid(&[(2, &[p.clone(), deadlock()]), (3, &[p.clone(), p.clone()])]);
        cells.insert(
            Cell {
                mode: Mode::ZeroBuffer,
                ..cell(2, 1)
            },
            deadlock(),
        );
        let v = decide(&part, &cells);
        assert_eq!(v.failure, Some(Failure::NoDeadlock));
        let earned = &v.credit;
        let passed: Vec<(&str, bool)> =
            earned.iter().map(|e| (e.name.as_str(), e.passed)).collect();
        assert_eq!(
            passed,
            [
                ("two ranks", true),
                ("three ranks", false),
                ("zero-buffer", true)
            ]
        );
        assert!(
            earned[1].summary.contains("3 ranks"),
            "{}",
            earned[1].summary
        );
        assert_eq!(v.points, 1.5);

        // The whole part passing earns all its points, the remainder beyond the groups too.
        let cells = grid(&[(2, &[p.clone(), deadlock()]), (3, &[p, deadlock()])]);
        let v = decide(&part, &cells);
        assert!(v.passed);
        assert!(v.credit.iter().all(|e| e.passed));
        assert_eq!(v.points, 3.0);
    }

    #[test]
    fn breaking_the_call_rules_or_not_building_earns_no_credit() {
        let mut part = part(Expect::Complete);
        part.credit = vec![group("all", None, None, 1.0)];
        let cells = grid(&[(2, &[Outcome::Pass])]);
        let mut usage = Usage::default();
        usage
            .counts
            .insert(Func::Ssend, Count { calls: 1, bytes: 8 });
        let v = traced(&part, &cells, &usage);
        assert_eq!(v.failure, Some(Failure::ForbiddenCall));
        assert_eq!(v.credit[0].points, 0.0);
        assert_eq!(v.points, 0.0);

        let v = judge(&part, &PartEvidence::NotBuilt("does not build"));
        assert!(!v.credit[0].passed && v.points == 0.0);
        part.credit.clear();
        let v = judge(&part, &PartEvidence::NotBuilt("does not build"));
        assert_eq!(crate::judge::outcome::seconds_text(v.points), "0");
    }

    #[test]
    fn zero_buffer_cells_follow_the_parts_expectation() {
        let p = Outcome::Pass;
        let mut cells = grid(&[(2, &[p.clone(), deadlock()])]);
        let zb = Cell {
            mode: Mode::ZeroBuffer,
            ..cell(2, 1)
        };
        cells.insert(zb.clone(), p.clone());
        let v = decide(&part(Expect::Deadlock), &cells);
        assert_eq!(v.failure, Some(Failure::NoDeadlock));
        assert!(
            v.summary.contains("zero-buffer mode: completed"),
            "{}",
            v.summary
        );
        cells.insert(zb.clone(), deadlock());
        assert!(decide(&part(Expect::Deadlock), &cells).passed);

        let mut cells = grid(&[(2, &[p.clone(), p.clone()])]);
        cells.insert(zb, deadlock());
        let v = decide(&part(Expect::Complete), &cells);
        assert_eq!(v.failure, Some(Failure::Outcome("deadlock")));
    }

    #[test]
    fn forbidden_and_missing_calls_fail_the_part() {
        let cells = grid(&[(2, &[Outcome::Pass])]);
        let mut usage = Usage::default();
        usage.counts.insert(
            Func::Isend,
            Count {
                calls: 4,
                bytes: 32,
            },
        );
        assert!(traced(&part(Expect::Complete), &cells, &usage).passed);

        usage.counts.insert(
            Func::Sendrecv,
            Count {
                calls: 12,
                bytes: 96,
            },
        );
        usage
            .sites
            .insert(Func::Sendrecv, "src/lib.rs:30 (part2)".into());
        let v = traced(&part(Expect::Complete), &cells, &usage);
        assert_eq!(v.failure, Some(Failure::ForbiddenCall));
        assert!(
            v.summary.starts_with("calls MPI_Sendrecv (12 times, first at src/lib.rs:30 (part2)), which this part may not use"),
            "{}",
            v.summary
        );

        let mut usage = Usage::default();
        usage.counts.insert(
            Func::Send,
            Count {
                calls: 4,
                bytes: 32,
            },
        );
        let v = traced(&part(Expect::Complete), &cells, &usage);
        assert_eq!(v.failure, Some(Failure::ForbiddenCall));
        assert_eq!(v.summary, "never calls MPI_Isend, which this part must use");
    }

    /// What one row of the judge's table expects of the verdict.
    struct Expected {
        failure: Option<Failure>,
        summary: String,
        points: f64,
        credit: &'static [bool],
    }

    fn comparison(ratio: f64) -> Comparison {
        use crate::run::compare::{Against, Row};
        Comparison {
            repetitions: 1,
            baselines: vec![],
            rows: vec![Row {
                part: "p".into(),
                ranks: 2,
                scaling_factor: 10,
                seconds: ratio,
                messages: None,
                bytes: None,
                against: vec![Against {
                    baseline: "MPI_Alltoall".into(),
                    seconds: 1.0,
                    ratio,
                    messages: 0,
                    bytes: 0,
                }],
            }],
        }
    }

    #[test]
    fn the_judge_gives_the_whole_verdict_from_the_evidence() {
        let p = Outcome::Pass;
        let crash = Outcome::Crash(Crash {
            rank: Some(1),
            cause: CrashCause::Exit { code: 3 },
        });
        let skipped = Outcome::NotRun(NotRun::AfterDeadlock { scaling_factor: 10 });
        let mut complete = part(Expect::Complete);
        complete.performance = Some(crate::config::Performance {
            baseline: crate::config::Baseline::MpiAlltoall,
            max_ratio: 2.0,
        });
        complete.credit = vec![
            group("two ranks", Some(vec![2]), None, 0.5),
            group("three ranks", Some(vec![3]), None, 0.5),
        ];
        let mut deadlocking = part(Expect::Deadlock);
        deadlocking.credit = complete.credit.clone();
        let passing = grid(&[(2, &[p.clone(), p.clone()]), (3, &[p.clone(), p.clone()])]);
        let half = grid(&[(2, &[p.clone(), p.clone()]), (3, &[p.clone(), crash])]);
        let deadlocks = grid(&[
            (2, &[p.clone(), deadlock(), skipped.clone()]),
            (3, &[p, deadlock(), skipped]),
        ]);
        let slow = comparison(3.0);
        let fast = comparison(1.5);
        let probe = crate::judge::buffering::sample();
        let buffering = crate::judge::buffering::explain_buffering(&probe);
        let with = |cells, comparison, probe| {
            PartEvidence::Ran(Ran {
                cells,
                usage: None,
                comparison,
                probe,
            })
        };
        let passed =
            format!("deadlocked from 10 elements per block at every rank count; {buffering}");
        let table: Vec<(&str, &Part, PartEvidence<'_>, Expected)> = vec![
            ("pass", &complete, with(&passing, Some(&fast), Some(&probe)), Expected {
                failure: None,
                summary: "correct at every rank count and size (4 runs)".into(),
                points: 2.0,
                credit: &[true, true],
            }),
            ("a failure earns partial credit", &complete, with(&half, None, None), Expected {
                failure: Some(Failure::Outcome("crash")),
                summary: "3 ranks, 10 elements per block: rank 1 exited with status 3 before the cell finished".into(),
                points: 0.5,
                credit: &[true, false],
            }),
            ("too slow replaces a pass", &complete, with(&passing, Some(&slow), None), Expected {
                failure: Some(Failure::TooSlow),
                summary: "at 2 ranks, 10 elements per block, it took 3.0× as long as MPI_Alltoall (at most 2×)".into(),
                points: 1.0,
                credit: &[true, true],
            }),
            ("too slow does not replace a failure", &complete, with(&half, Some(&slow), None), Expected {
                failure: Some(Failure::Outcome("crash")),
                summary: "3 ranks, 10 elements per block: rank 1 exited with status 3 before the cell finished".into(),
                points: 0.5,
                credit: &[true, false],
            }),
            ("the probe explains a part 1 deadlock", &deadlocking, with(&deadlocks, None, Some(&probe)), Expected {
                failure: None,
                summary: passed.clone(),
                points: 2.0,
                credit: &[true, true],
            }),
            ("build error", &complete, PartEvidence::NotBuilt("the crate does not build: oops"), Expected {
                failure: Some(Failure::BuildError),
                summary: "the crate does not build: oops".into(),
                points: 0.0,
                credit: &[false, false],
            }),
            ("interrupted", &complete, PartEvidence::Interrupted, Expected {
                failure: Some(Failure::Outcome("not-run")),
                summary: "not run: the grade was interrupted".into(),
                points: 0.0,
                credit: &[false, false],
            }),
        ];
        for (name, part, evidence, expected) in table {
            let v = judge(part, &evidence);
            assert_eq!(v.failure, expected.failure, "{name}");
            assert_eq!(v.passed, expected.failure.is_none(), "{name}");
            assert_eq!(v.summary, expected.summary, "{name}");
            assert_eq!(v.points, expected.points, "{name}");
            let credit: Vec<bool> = v.credit.iter().map(|e| e.passed).collect();
            assert_eq!(credit, expected.credit, "{name}");
        }
        // A build error's credit says why there is none; an interrupted part's was not run.
        let v = judge(&complete, &PartEvidence::NotBuilt("it does not build"));
        assert_eq!(v.credit[0].summary, "no credit: it does not build");
        let v = judge(&complete, &PartEvidence::Interrupted);
        assert_eq!(v.credit[0].summary, "not run");
    }
}
