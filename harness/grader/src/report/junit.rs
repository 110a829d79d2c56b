//! JUnit XML, for CI systems that show test reports (GitLab, Jenkins, GitHub test-report
//! actions): one `<testsuite>` per graded submission, one `<testcase>` per part.
//!
//! - A part that failed is a `<failure>`: `message` is its summary, `type` its failure
//!   (`"deadlock"`, `"build-error"`, ...), and the body the rest of its text (compiler message,
//!   partial credit, the matrix of runs, the deadlock explained, the runs that failed). The
//!   output of the job that decided goes to the case's `<system-out>`.
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

fn case(report: &Report, part: &PartReport, classname: &str) -> TestCase {
    // The job's output goes to the case's <system-out>, not twice.
    let body = text::part_body(report, part, false);
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
                .set_description(body.as_str());
            status
        }
    };
    let mut case = TestCase::new(text::part_title(part), status);
    case.set_classname(classname);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;
    use junit_parser::TestStatus;

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
