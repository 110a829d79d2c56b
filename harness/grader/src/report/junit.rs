//! JUnit XML, for CI systems that show test reports (GitLab, Jenkins, GitHub test-report
//! actions): one `<testsuite>` per graded submission, one `<testcase>` per part.
//!
//! - A part that failed is a `<failure>`: `message` is its summary, `type` its failure
//!   (`"deadlock"`, `"build-error"`, ...), and the body its whole text, starting with the
//!   verdict line and the deadlock explained (GitLab shows the body only, never `message`),
//!   then the compiler message, partial credit, the matrix of runs and the runs that failed.
//!   The output of the job that decided goes to the case's `<system-out>`.
//! - A failed case has `file` and `line` attributes when the failure points into the
//!   submission: the source line of a rank in the deadlock or hang (in the student's code), else
//!   the first `FILE.rs:LINE` in the part's texts (a panic, the compiler's message), relative to
//!   where the grader was run (GitLab links `file`; test-report actions annotate `file:line`).
//! - A part not run because the grade was interrupted is `<skipped>`.
//! - Each case's `<properties>` hold the part's points, `max_points`, `expect`, `visibility`,
//!   `failure`, its credit groups (`credit:NAME` = `points/max`) and one property per run:
//!   `run:RANKS:SIZE:MODE` = `OUTCOME` (`pass 12µs`, `deadlock: what happened`).
//! - A case's `time` is the part's time in its function over its runs (the slowest rank's);
//!   a suite's is the whole grade's wall time.
//! - The suite's properties say what graded it (grader version and commit, challenge, config
//!   path and SHA-256, seed, MPI, points) and its
//!   `<system-err>` holds the grader's warnings.
//!
//! The XML is written by `quick-junit`, which escapes text and drops what XML cannot hold.

use super::text;
use super::{FailureKind, PartReport, Report};
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};
use std::io::Write;
use std::time::Duration;

/// Writes the reports of one or more submissions as one JUnit document.
pub fn write(reports: &[Report], out: &mut dyn Write) -> std::io::Result<()> {
    let mut junit = quick_junit::Report::new("mpi-grade");
    junit.set_time(duration(reports.iter().map(|r| r.seconds).sum()));
    junit.add_test_suites(reports.iter().map(suite));
    junit.serialize(out).map_err(std::io::Error::other)
}

fn suite(report: &Report) -> TestSuite {
    let mut suite = TestSuite::new(report.submission.as_str());
    suite.set_time(duration(report.seconds));
    let mpi = format!("{} {}", report.mpi.implementation, report.mpi.version);
    suite.add_properties([
        Property::new("mpi-grade", report.grader.version.as_str()),
        Property::new("mpi-grade-commit", report.grader.commit.as_str()),
        Property::new("challenge", report.challenge.as_str()),
        Property::new("config", report.config.path.as_str()),
        Property::new("config_sha256", report.config.sha256.as_str()),
        Property::new("seed", report.seed_string.as_str()),
        Property::new("mpi", mpi),
        Property::new("points", crate::fmt::points(report.points)),
        Property::new("max_points", crate::fmt::points(report.max_points)),
        Property::new("build", if report.build.ok { "ok" } else { "failed" }),
        Property::new("traced", report.traced.to_string()),
        Property::new("launches", report.launches.to_string()),
    ]);
    let classname = classname(report);
    suite.add_test_cases(report.parts.iter().map(|p| case(report, p, &classname)));
    if !report.warnings.is_empty() {
        let warnings: Vec<String> = report
            .warnings
            .iter()
            .map(|w| format!("warning: {w}\n"))
            .collect();
        suite.set_system_err(warnings.concat());
    }
    suite
}

/// The failure's body: the verdict line, the explanation of the deciding stall (when the
/// summary does not already quote it), then the rest of the part's text. The job's output goes
/// to the case's `<system-out>`, not twice.
fn failure_body(report: &Report, part: &PartReport) -> String {
    let mut body = text::part_body(report, part, false);
    let mut head = format!("{}\n", text::verdict_line(part));
    if let Some((run, explanation)) = text::explained_run(part) {
        let section = format!(
            "at {}: {}\n",
            text::cell_name(run),
            super::clean::continued(explanation, &format!("  {}", super::clean::GUTTER))
        );
        if let Some(at) = body.find(&section) {
            body.replace_range(at..at + section.len(), "");
            head.push_str(&section);
        }
    }
    let body = body.replace("\n\n\n", "\n\n");
    if body.trim().is_empty() {
        head
    } else {
        format!("{head}\n{}", body.trim_start_matches('\n'))
    }
}

/// The first `FILE.rs:LINE` in a text whose file is in the submission `dir` (as given): a
/// relative path that does not leave it, or an absolute one under an absolute `dir`. The
/// grader's own files (its cache, the registry) are elsewhere.
fn source_line(text: &str, dir: &str) -> Option<(String, u32)> {
    static PATTERN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        regex::Regex::new(r"(?:^|[\s(])([A-Za-z0-9_./][A-Za-z0-9_./-]*\.rs):([0-9]+)").unwrap()
    });
    pattern.captures_iter(text).find_map(|c| {
        let path = c[1].trim_start_matches("./");
        let line = c[2].parse().ok()?;
        let inside = if path.starts_with('/') {
            dir.starts_with('/') && path.starts_with(&format!("{}/", dir.trim_end_matches('/')))
        } else {
            !path.split('/').any(|c| c == "..")
        };
        inside.then(|| (path.to_string(), line))
    })
}

/// Where a failed part points into the submission (see the module's documentation).
fn location(report: &Report, part: &PartReport) -> Option<(String, u32)> {
    let dir = report
        .submission
        .trim_start_matches("./")
        .trim_end_matches('/');
    let in_crate = |path: String| {
        if dir.is_empty() || dir == "." {
            path
        } else {
            format!("{dir}/{path}")
        }
    };
    let stalled = text::explained_run(part)
        .and_then(|(run, _)| run.diagnosis.as_ref())
        .and_then(|d| {
            d.ranks
                .iter()
                .filter(|r| r.in_student_code)
                .find_map(|r| source_line(r.location.as_deref()?, "."))
        })
        .map(|(path, line)| (in_crate(path), line));
    let build = (part.failure == Some(FailureKind::BuildError))
        .then_some(report.build.details.as_deref())
        .flatten();
    let decided = part
        .runs
        .iter()
        .filter(|r| part.decided_by(r))
        .filter_map(|r| r.detail.as_deref());
    stalled.or_else(|| {
        std::iter::once(part.summary.as_str())
            .chain(part.details.as_deref())
            .chain(build)
            .chain(decided)
            .find_map(|text| source_line(text, dir))
    })
}

fn case(report: &Report, part: &PartReport, classname: &str) -> TestCase {
    let status = match part.failure {
        None => TestCaseStatus::success(),
        Some(FailureKind::NOT_RUN) => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(part.summary.as_str());
            status
        }
        Some(failure) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(part.summary.as_str())
                .set_type(failure.name())
                .set_description(failure_body(report, part));
            status
        }
    };
    let mut case = TestCase::new(text::part_title(part), status);
    case.set_classname(classname);
    if let Some((file, line)) = location(report, part).filter(|_| !part.passed) {
        case.extra.insert("file".into(), file.into());
        case.extra.insert("line".into(), line.to_string().into());
    }
    case.set_time(duration(part.runs.iter().filter_map(|r| r.seconds).sum()));
    case.add_properties([
        Property::new("points", crate::fmt::points(part.points)),
        Property::new("max_points", crate::fmt::points(part.max_points)),
        Property::new("expect", part.expect.as_str()),
        Property::new("visibility", part.visibility.as_str()),
        Property::new("failure", part.failure.map_or("", FailureKind::name)),
    ]);
    case.add_properties(part.credit.iter().map(|group| {
        Property::new(
            format!("credit:{}", group.name),
            format!(
                "{}/{}",
                crate::fmt::points(group.points),
                crate::fmt::points(group.max_points)
            ),
        )
    }));
    case.add_properties(part.runs.iter().map(|run| {
        let mut value = run.outcome.name().to_string();
        if let Some(seconds) = run.seconds {
            value = format!("{value} {}", crate::fmt::duration(seconds));
        }
        if let Some(detail) = &run.detail {
            value = format!("{value}: {detail}");
        }
        Property::new(
            format!(
                "run:{}:{}:{}",
                run.ranks,
                run.scaling_factor,
                run.mode.as_str()
            ),
            value,
        )
    }));
    if part.passed {
        // What a passing part did (a part 1's deadlock, explained) is worth reading too.
        case.set_system_out(text::part_text(report, part));
    } else if let Some(output) = text::deciding_output(part) {
        case.set_system_out(output);
    }
    case
}

/// `alltoall.submissions.alice`: the challenge, then the submission's path as dotted
/// components, so that Jenkins (which splits a class name at its dots) groups a class's
/// submissions under the challenge and never merges two submissions.
fn classname(report: &Report) -> String {
    let path: Vec<String> = report
        .submission
        .split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != ".")
        .map(|c| c.replace('.', "_"))
        .collect();
    if path.is_empty() {
        report.challenge.clone()
    } else {
        format!("{}.{}", report.challenge, path.join("."))
    }
}

fn duration(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds).unwrap_or_default()
}

/// GitLab's JUnit parser, ported (shared with `tests/formats.rs`).
#[cfg(test)]
#[path = "../../../../tests/support/gitlab_junit.rs"]
pub(crate) mod gitlab;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;
    use junit_parser::TestStatus;

    /// Regression (issue: GitLab shows the failure's text, not its `message`, and the text left
    /// the summary out): what GitLab shows of a failed part starts with its verdict and the
    /// deadlock explained, and its `file` is the submission's source.
    #[test]
    fn gitlab_shows_the_verdict_and_the_explanation_first() {
        let report = sample::graded();
        let mut out = Vec::new();
        write(std::slice::from_ref(&report), &mut out).unwrap();
        let xml = String::from_utf8(out).unwrap();
        let cases = gitlab::parse(&xml).unwrap();
        assert_eq!(cases.len(), 3);
        assert_eq!(cases[0].status, "success");
        assert_eq!(cases[0].file, None, "a passed part points nowhere");
        let part3 = &cases[2];
        assert_eq!(part3.status, "failed");
        let shown = part3.system_output.as_deref().unwrap();
        let mut lines = shown.lines();
        assert_eq!(
            lines.next(),
            Some(text::verdict_line(&report.parts[2]).as_str())
        );
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("at 2 ranks, 10 000 elements per block: Deadlock"),
            "{shown}"
        );
        assert_eq!(
            shown.matches("Deadlock: rank 0 is blocked").count(),
            1,
            "{shown}"
        );
        assert!(
            shown.contains("ranks \\ size"),
            "the matrix follows: {shown}"
        );
        assert_eq!(part3.file.as_deref(), Some("submissions/alice/src/lib.rs"));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let line = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .find_map(|n| n.attribute("line"));
        assert_eq!(line, Some("12"));
        let part2 = &cases[1];
        assert!(part2
            .system_output
            .as_deref()
            .unwrap()
            .starts_with("FAIL 0.5/2 (wrong-result): rank 1"));
        assert!(part2
            .system_output
            .as_deref()
            .unwrap()
            .contains("System Out:\n\nthread 'main' printed"));
    }

    #[test]
    fn source_lines_are_found_in_the_submission_only() {
        assert_eq!(
            source_line("panicked at sub/src/lib.rs:41:22: index", "sub"),
            Some(("sub/src/lib.rs".into(), 41))
        );
        assert_eq!(
            source_line("  --> ./src/lib.rs:3:5", "."),
            Some(("src/lib.rs".into(), 3))
        );
        assert_eq!(source_line("at /root/.cargo/registry/x.rs:3", "sub"), None);
        assert_eq!(
            source_line("at /root/.cargo/registry/x.rs:3", "/home/a"),
            None
        );
        assert_eq!(
            source_line("at /home/a/src/lib.rs:3", "/home/a"),
            Some(("/home/a/src/lib.rs".into(), 3))
        );
        assert_eq!(source_line("at ../elsewhere.rs:3", "."), None);
        assert_eq!(source_line("no location", "."), None);
        let mut report = sample::build_failure();
        report.submission = "./".into();
        let part = report.parts[0].clone();
        let (file, line) = location(&report, &part).unwrap();
        assert!(file.ends_with("src/lib.rs") && line > 0, "{file}:{line}");
    }

    /// Writes `reports` and reads them back with `junit-parser`, an independent JUnit reader.
    /// (It drops the escaped characters of element texts, `&lt;` and the like, so texts are
    /// checked with [`texts`].)
    fn round_trip(reports: &[Report]) -> (String, junit_parser::TestSuites) {
        let mut out = Vec::new();
        write(reports, &mut out).unwrap();
        let xml = String::from_utf8(out).unwrap();
        let parsed = junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes()))
            .unwrap_or_else(|e| panic!("junit-parser rejects the XML: {e}\n{xml}"));
        (xml, parsed)
    }

    /// The text of every `element` of every `<testcase>`, by the case's name, read by a strict
    /// XML parser.
    fn texts(xml: &str, element: &str) -> Vec<(String, String)> {
        let doc = roxmltree::Document::parse(xml).unwrap();
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .filter_map(|case| {
                let e = case.children().find(|n| n.has_tag_name(element))?;
                Some((
                    case.attribute("name").unwrap().to_string(),
                    e.text().unwrap_or("").to_string(),
                ))
            })
            .collect()
    }

    fn text_of(xml: &str, element: &str, case: &str) -> String {
        texts(xml, element)
            .into_iter()
            .find(|(name, _)| name.starts_with(case))
            .unwrap_or_else(|| panic!("no {element} in {case}:\n{xml}"))
            .1
    }

    fn property<'a>(props: &'a junit_parser::Properties, name: &str) -> &'a str {
        props
            .hashmap
            .get(name)
            .unwrap_or_else(|| panic!("no property {name}: {:?}", props.vec))
    }

    #[test]
    fn a_batch_is_one_suite_per_submission_and_one_case_per_part() {
        let graded = sample::graded();
        let mut broken = sample::build_failure();
        broken.submission = "submissions/bob".into();
        let (xml, parsed) = round_trip(&[graded.clone(), broken.clone()]);
        assert_eq!(parsed.suites.len(), 2, "{xml}");
        assert_eq!(parsed.tests, 5);
        assert_eq!(parsed.failures, 4);
        let names: Vec<&str> = parsed.suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["submissions/alice", "submissions/bob"]);
        for (suite, report) in parsed.suites.iter().zip([&graded, &broken]) {
            assert_eq!(suite.cases.len(), report.parts.len());
            assert_eq!(suite.tests as usize, report.parts.len());
            let failed = report.parts.iter().filter(|p| !p.passed).count();
            assert_eq!(suite.failures as usize, failed);
            assert!((suite.time - report.seconds).abs() < 1e-3, "{}", suite.time);
            let total: f64 = suite
                .cases
                .iter()
                .map(|c| property(&c.properties, "points").parse::<f64>().unwrap())
                .sum();
            assert_eq!(total, report.points);
            assert_eq!(
                property(&suite.properties, "points"),
                crate::fmt::points(report.points)
            );
            assert_eq!(property(&suite.properties, "seed"), "42");
            assert_eq!(
                property(&suite.properties, "config_sha256"),
                report.config.sha256
            );
            assert_eq!(
                property(&suite.properties, "mpi-grade-commit"),
                "0123456789ab"
            );
        }
        let bob = &parsed.suites[1];
        assert_eq!(
            bob.cases[0].classname.as_deref(),
            Some("alltoall.submissions.bob")
        );
        assert_eq!(property(&bob.properties, "build"), "failed");
        let failure = bob.cases[0].status.failure_as_ref();
        assert_eq!(failure.failure_type, "build-error");
        let body = &texts(&xml, "failure")[3].1;
        assert!(
            body.contains("expected `Vec<Vec<i64>>`, found `&str`"),
            "{body}"
        );
    }

    #[test]
    fn failures_carry_the_summary_details_and_every_run() {
        let report = sample::graded();
        let (xml, parsed) = round_trip(std::slice::from_ref(&report));
        let suite = &parsed.suites[0];
        let part1 = &suite.cases[0];
        assert!(part1.status.is_success());
        assert_eq!(
            part1.original_name,
            "part1: Blocking Send/Recv alltoall that deadlocks for large messages"
        );
        assert!(part1
            .system_out
            .as_deref()
            .unwrap()
            .contains("Deadlock: rank 0 is blocked in MPI_Send"));
        assert_eq!(
            property(&part1.properties, "run:2:10000:standard"),
            "deadlock: deadlock at 2 ranks and 10000 elements"
        );
        assert_eq!(property(&part1.properties, "run:2:1:standard"), "pass 12µs");
        assert_eq!(
            property(&part1.properties, "run:2:1:zero-buffer"),
            "deadlock: deadlock at 2 ranks and 1 elements"
        );

        let part2 = &suite.cases[1];
        let failure = part2.status.failure_as_ref();
        assert_eq!(failure.failure_type, "wrong-result");
        assert_eq!(failure.message, report.parts[1].summary);
        let body = text_of(&xml, "failure", "part2");
        assert!(body.contains("runs that did not pass"), "{body}");
        assert!(body.contains("✗ 3 ranks: 0/1"), "{body}");
        assert_eq!(
            text_of(&xml, "system-out", "part2"),
            "thread 'main' printed <Vec<i64>> & more\n"
        );
        assert_eq!(property(&part2.properties, "points"), "0.5");
        assert_eq!(property(&part2.properties, "max_points"), "2");
        assert_eq!(property(&part2.properties, "credit:2 ranks"), "0.5/0.5");
        assert_eq!(property(&part2.properties, "visibility"), "after_due_date");
        let runs = part2
            .properties
            .vec
            .iter()
            .filter(|(name, _)| name.starts_with("run:"))
            .count();
        assert_eq!(runs, report.parts[1].runs.len());
        // The time of a case is its runs' time in the function (written to the millisecond).
        let expected: f64 = report.parts[1].runs.iter().filter_map(|r| r.seconds).sum();
        assert!(expected > 1e-3);
        assert!((part2.time - expected).abs() <= 5e-4, "{}", part2.time);

        let part3 = &suite.cases[2];
        assert!(matches!(part3.status, TestStatus::Failure(_)));
        assert!(text_of(&xml, "failure", "part3")
            .contains("at 2 ranks, 10 000 elements per block: Deadlock"));
        assert_eq!(
            suite.system_err.as_deref(),
            Some("warning: 1 process could not be stopped\n")
        );
    }

    #[test]
    fn an_interrupted_part_is_skipped() {
        let (_, parsed) = round_trip(&[sample::interrupted()]);
        let cases = &parsed.suites[0].cases;
        assert!(cases[0].status.is_success());
        assert!(cases[1].status.is_skipped());
        assert_eq!(
            cases[1].status.skipped_as_ref().message,
            "not run: the grade was interrupted"
        );
        assert_eq!(parsed.suites[0].skipped, 1);
    }

    #[test]
    fn class_names_follow_the_submission_path() {
        let mut report = sample::graded();
        for (submission, expected) in [
            ("./alice/", "alltoall.alice"),
            ("class/bob.smith", "alltoall.class.bob_smith"),
            (".", "alltoall"),
        ] {
            report.submission = submission.into();
            assert_eq!(classname(&report), expected);
        }
    }
}
