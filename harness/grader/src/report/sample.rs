//! Reports built by hand for the reporters' unit tests: every kind of part a grade produces
//! (a pass with its deadlock explained, partial credit, a deadlock with its diagnosis, a build
//! error, an interrupted grade), with the nested types filled in, so that each format and the
//! JSON schema see every field.

use super::{
    BuildReport, Expect, FailureKind, Mode, MpiInfo, OutcomeKind, PartReport, Report, RunReport,
    Visibility,
};
use crate::judge::part::Earned;
use crate::run::compare::{Against, BaselineInfo, Comparison, Row};
use crate::trace::diagnosis::{Diagnosis, RankActivity, StallKind, WaitEdge};
use crate::trace::usage::Count;
use std::collections::BTreeMap;

const STANDARD: Mode = Mode::Standard;
const ZERO_BUFFER: Mode = Mode::ZeroBuffer;
const PASS: OutcomeKind = OutcomeKind::Pass;
const DEADLOCK: OutcomeKind = OutcomeKind::Deadlock;

/// A run: passed runs have a time, failed ones a detail.
pub fn run(ranks: u32, scaling_factor: u64, mode: Mode, outcome: OutcomeKind) -> RunReport {
    let passed = outcome == PASS;
    RunReport {
        ranks,
        scaling_factor,
        mode,
        outcome,
        seconds: passed.then_some(12e-6 * scaling_factor as f64),
        detail: (!passed && outcome != OutcomeKind::NotRun).then(|| {
            format!(
                "{} at {ranks} ranks and {scaling_factor} elements",
                outcome.name()
            )
        }),
        output: None,
        messages: Some(u64::from(ranks * ranks)),
        bytes: Some(8 * scaling_factor * u64::from(ranks * ranks)),
        calls: calls(&[("MPI_Send", u64::from(ranks * ranks), 8 * scaling_factor)]),
        diagnosis: None,
    }
}

fn calls(list: &[(&str, u64, u64)]) -> BTreeMap<String, Count> {
    list.iter()
        .map(|&(name, calls, bytes)| (name.to_string(), Count { calls, bytes }))
        .collect()
}

/// A two-rank deadlock in `MPI_Send`, explained.
pub fn diagnosis(zero_buffer: bool) -> Diagnosis {
    let rank = |rank: u32, to: u32| RankActivity {
        rank,
        state: "blocked",
        function: Some("MPI_Send".into()),
        waits: vec![format!(
            "its send to rank {to} to be received (tag 0, 80 000 B)"
        )],
        seconds: 0.25,
        in_student_code: true,
        location: Some("src/lib.rs:12 (part1)".into()),
    };
    let edge = |from: u32, to: u32| WaitEdge {
        from,
        to,
        kind: "send",
        function: "MPI_Send".into(),
        tag: Some(0),
        bytes: 80_000,
    };
    Diagnosis {
        kind: StallKind::Deadlock,
        ranks: vec![rank(0, 1), rank(1, 0)],
        cycle: vec![0, 1],
        culprits: vec![],
        edges: vec![edge(0, 1), edge(1, 0)],
        zero_buffer,
        stalled: false,
        explanation: "Deadlock: rank 0 is blocked in MPI_Send to rank 1 at src/lib.rs:12 \
                      while rank 1 is blocked in MPI_Send to rank 0: a cycle."
            .into(),
        mismatch: None,
    }
}

/// A part that passed, with no runs.
pub fn part(name: &str, title: &str, expect: Expect, max_points: f64) -> PartReport {
    PartReport {
        name: name.into(),
        title: title.into(),
        expect,
        passed: true,
        failure: None,
        summary: String::new(),
        points: max_points,
        max_points,
        visibility: Visibility::Visible,
        details: None,
        calls: BTreeMap::new(),
        credit: Vec::new(),
        runs: Vec::new(),
    }
}

/// A traced grade of `parts`, its points their sum.
pub fn report(parts: Vec<PartReport>) -> Report {
    Report {
        format_version: super::FORMAT_VERSION,
        submission: "submissions/alice".into(),
        language: "rust".into(),
        challenge: "alltoall".into(),
        seed: 42,
        seed_string: "42".into(),
        mpi: MpiInfo {
            implementation: "Open MPI".into(),
            version: "4.1.4".into(),
            library: Some("Open MPI v4.1.4, package: Debian OpenMPI".into()),
        },
        build: BuildReport {
            ok: true,
            seconds: 1.5,
            tracer_seconds: 0.1,
            memoized: false,
            summary: None,
            details: None,
        },
        points: parts.iter().map(|p| p.points).sum(),
        max_points: parts.iter().map(|p| p.max_points).sum(),
        parts,
        seconds: 12.25,
        launches: 6,
        traced: true,
        comparison: None,
        warnings: vec![],
        isolation:
            "network namespace (loopback only), private /tmp and /dev/shm, user mpi-grade, limits"
                .into(),
        config: crate::config::Source {
            path: "course/challenges.toml".into(),
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        },
        grader: super::Grader {
            version: "0.1.0".into(),
            commit: "0123456789ab".into(),
        },
    }
}

/// Part 1 passes (it deadlocks where it must); part 2 fails with a wrong result but earns
/// partial credit; part 3 deadlocks, and is hidden until the due date.
pub fn graded() -> Report {
    let mut report = report(vec![graded_part1(), graded_part2(), graded_part3()]);
    report.comparison = Some(comparison());
    report.warnings = vec!["1 process could not be stopped".into()];
    report
}

/// Deadlocks from 10 000 elements, explained, as it must.
fn graded_part1() -> PartReport {
    let mut part = part(
        "part1",
        "Blocking Send/Recv alltoall that deadlocks for large messages",
        Expect::Deadlock,
        1.0,
    );
    part.summary = "deadlocked from 10 000 elements per block at every rank count".into();
    part.calls = calls(&[("MPI_Send", 12, 96_000), ("MPI_Mprobe", 12, 0)]);
    let mut deadlock = run(2, 10_000, STANDARD, DEADLOCK);
    deadlock.diagnosis = Some(diagnosis(false));
    deadlock.output = Some("[rank 0] sending\n[rank 1] sending\n".into());
    part.runs = vec![
        run(2, 1, STANDARD, PASS),
        run(2, 100, STANDARD, PASS),
        deadlock,
        run(2, 1, ZERO_BUFFER, DEADLOCK),
    ];
    part
}

/// A wrong result at 3 ranks, with partial credit for 2 ranks.
fn graded_part2() -> PartReport {
    let mut part = part(
        "part2",
        "Deadlock-free alltoall with blocking Send/Recv only",
        Expect::Complete,
        2.0,
    );
    part.passed = false;
    part.failure = Some(FailureKind::Outcome(OutcomeKind::WrongResult));
    part.summary = "rank 1 received a wrong value from rank 0: element 3 is 7, not 3".into();
    part.points = 0.5;
    part.visibility = Visibility::AfterDueDate;
    part.credit = vec![
        Earned {
            name: "2 ranks".into(),
            passed: true,
            points: 0.5,
            max_points: 0.5,
            summary: "every run passed".into(),
        },
        Earned {
            name: "3 ranks".into(),
            passed: false,
            points: 0.0,
            max_points: 1.0,
            summary: "wrong result at 100 elements".into(),
        },
    ];
    let mut wrong = run(3, 100, STANDARD, OutcomeKind::WrongResult);
    wrong.output = Some("thread 'main' printed <Vec<i64>> & more\n".into());
    part.runs = vec![
        run(2, 1, STANDARD, PASS),
        run(2, 100, STANDARD, PASS),
        run(3, 1, STANDARD, PASS),
        wrong,
        run(2, 1, ZERO_BUFFER, PASS),
    ];
    part
}

/// A deadlock at 2 ranks, hidden from students.
fn graded_part3() -> PartReport {
    let mut part = part(
        "part3",
        "Deadlock-free alltoall with Isend and blocking Recv",
        Expect::Complete,
        3.0,
    );
    part.passed = false;
    part.failure = Some(FailureKind::Outcome(DEADLOCK));
    part.summary = "deadlocks at 2 ranks from 10 000 elements per block".into();
    part.points = 0.0;
    part.visibility = Visibility::Hidden;
    let mut stuck = run(2, 10_000, STANDARD, DEADLOCK);
    stuck.diagnosis = Some(diagnosis(false));
    stuck.output = Some("part3 starting\n".into());
    part.runs = vec![run(2, 1, STANDARD, PASS), stuck];
    part
}

/// Part 2 against `MPI_Alltoall` at one size.
fn comparison() -> Comparison {
    Comparison {
        repetitions: 3,
        baselines: vec![BaselineInfo {
            name: "MPI_Alltoall".into(),
            description: "the library's collective".into(),
        }],
        rows: vec![Row {
            part: "part2".into(),
            ranks: 2,
            scaling_factor: 100,
            seconds: 0.0012,
            messages: Some(4),
            bytes: Some(3200),
            against: vec![Against {
                baseline: "MPI_Alltoall".into(),
                seconds: 0.0006,
                ratio: 2.0,
                messages: 0,
                bytes: 3200,
            }],
        }],
    }
}

/// The crate does not build: every part fails with the compiler's message on the report.
pub fn build_failure() -> Report {
    let parts = ["part1", "part2"]
        .iter()
        .map(|name| {
            let mut p = part(name, "", Expect::Complete, 1.0);
            p.passed = false;
            p.failure = Some(FailureKind::BuildError);
            p.summary = "the crate does not build: mismatched types".into();
            p.points = 0.0;
            p
        })
        .collect();
    let mut report = report(parts);
    report.build = BuildReport {
        ok: false,
        seconds: 3.5,
        tracer_seconds: 0.0,
        memoized: false,
        summary: Some("mismatched types".into()),
        details: Some(
            "error[E0308]: mismatched types\n --> src/lib.rs:3:5\n  | expected `Vec<Vec<i64>>`, found `&str`\n"
                .into(),
        ),
    };
    report.launches = 0;
    report.traced = false;
    report.mpi.library = None;
    report
}

/// The grade was interrupted before part 2 ran.
pub fn interrupted() -> Report {
    let mut part1 = part("part1", "naive", Expect::Deadlock, 1.0);
    part1.summary = "deadlocked from 100 elements per block at every rank count".into();
    part1.runs = vec![run(2, 1, STANDARD, PASS), run(2, 100, STANDARD, DEADLOCK)];
    let mut part2 = part("part2", "ordered", Expect::Complete, 1.0);
    part2.passed = false;
    part2.failure = Some(FailureKind::NOT_RUN);
    part2.summary = "not run: the grade was interrupted".into();
    part2.points = 0.0;
    part2.runs = vec![run(2, 1, STANDARD, OutcomeKind::NotRun)];
    report(vec![part1, part2])
}
