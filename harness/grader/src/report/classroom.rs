//! GitHub Classroom's autograding result, the JSON its grading reporter
//! (`classroom-resources/autograding-grading-reporter`, `src/main.js`) reads from each grading
//! step: the step sets an output `result` to the base64 of
//!
//! ```json
//! {"version": 1, "status": "pass" | "fail" | "error", "max_score": 6,
//!  "tests": [{"name": "...", "status": "pass" | "fail" | "error", "score": 1,
//!             "message": "...", "test_code": "...", "filename": "", "line_no": 0,
//!             "duration": 12}]}
//! ```
//!
//! The reporter, given the step's id in `runners` and the output in the environment variable
//! `<ID>_RESULTS`, does two sums that differ:
//!
//! - its log (`src/helpers/test-helpers.js`, `getTestScore`) prints *passed tests / tests x
//!   max_score*, ignoring each test's `score`;
//! - the points it records for Classroom (`src/notify-classroom.js`) are the sum of the
//!   tests' `score`s.
//!
//! So that both are the grade, every test is worth the same: one *unit* of points, the
//! largest that divides every part's points and every part's earned points (to the
//! hundredth), and a part worth `n` units is `n` tests (one when the points are equal). A
//! part's earned units pass; for a failed part, the next is status `"error"`, whose `message`
//! (the part's whole text) is the only one the log prints (`src/console-results.js`), and the
//! rest fail. When no unit fits (a part worth nothing, points finer than a hundredth, more
//! than [`MAX_TESTS`] tests), each part is one test, and the log's sum may then differ from
//! the points recorded. The reporter fails the job when the status is `"fail"` or `"error"`.
//!
//! When the grader cannot work at all, [`error_line`] is still a result: status `"error"`,
//! the reason in its one test's message, so that the reporter shows why instead of failing to
//! decode an absent output.
//!
//! A step sets an output by appending `result=<value>` to the file named by `GITHUB_OUTPUT`;
//! outside GitHub Actions (no `GITHUB_OUTPUT`) the same line is printed.

use super::{text, FailureKind, PartReport, Report};
use base64::Engine;
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

/// The most tests a result is split into (beyond it, one test per part).
pub const MAX_TESTS: u64 = 200;

/// The result document of a grade.
pub fn result_json(report: &Report) -> Value {
    let unit = unit(report);
    let tests: Vec<Value> = report
        .parts
        .iter()
        .flat_map(|p| tests(report, p, unit))
        .collect();
    let statuses: Vec<&str> = report.parts.iter().map(status).collect();
    let overall = if statuses.contains(&"error") {
        "error"
    } else if statuses.contains(&"fail") {
        "fail"
    } else {
        "pass"
    };
    json!({
        "version": 1,
        "status": overall,
        "max_score": report.max_points,
        "tests": tests,
    })
}

/// A part not graded because the grade was interrupted is an error of the run, not the
/// student's failure.
fn status(part: &PartReport) -> &'static str {
    match part.failure {
        None => "pass",
        Some(FailureKind::NOT_RUN) => "error",
        Some(_) => "fail",
    }
}

/// `value` in hundredths, when it is a whole number of them.
fn hundredths(value: f64) -> Option<u64> {
    let scaled = value * 100.0;
    let rounded = scaled.round();
    ((scaled - rounded).abs() < 1e-6 && rounded >= 0.0).then_some(rounded as u64)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The points every test is worth (see the module's documentation), in hundredths; `None`
/// when each part must be one test.
fn unit(report: &Report) -> Option<u64> {
    let mut g = 0;
    for part in &report.parts {
        let max = hundredths(part.max_points).filter(|&m| m > 0)?;
        let earned = hundredths(part.points).filter(|&e| e <= max)?;
        g = gcd(gcd(g, max), earned);
    }
    let total: u64 = report
        .parts
        .iter()
        .filter_map(|p| hundredths(p.max_points))
        .sum();
    (g > 0 && total / g <= MAX_TESTS).then_some(g)
}

/// The tests of one part: its units (or one test when there is no unit).
fn tests(report: &Report, part: &PartReport, unit: Option<u64>) -> Vec<Value> {
    let (count, earned, worth) = match unit {
        Some(u) => (
            hundredths(part.max_points).unwrap_or(0) / u,
            hundredths(part.points).unwrap_or(0) / u,
            u as f64 / 100.0,
        ),
        None => (1, u64::from(part.passed), part.points),
    };
    let message = if part.passed {
        part.summary.clone()
    } else {
        format!(
            "{}\n{}",
            text::part_title(part),
            text::part_text(report, part)
        )
    };
    let milliseconds: f64 = part.runs.iter().filter_map(|r| r.seconds).sum::<f64>() * 1e3;
    (0..count)
        .map(|i| {
            let status = if i < earned {
                "pass"
            } else if !part.passed && i == earned {
                "error" // the one status whose message the reporter prints
            } else {
                "fail"
            };
            let name = if count == 1 {
                text::part_title(part)
            } else {
                format!("{} [{}/{count}]", text::part_title(part), i + 1)
            };
            let score = match unit {
                Some(_) if status == "pass" => worth,
                Some(_) => 0.0,
                None => part.points,
            };
            json!({
                "name": name,
                "status": status,
                "score": score,
                "max_score": if unit.is_some() { worth } else { part.max_points },
                "message": if i == 0 || status == "error" { message.as_str() } else { "" },
                // The reporter prints a test's code after it: once per part.
                "test_code": if i == 0 {
                    format!(
                        "mpi-grade grade {} --part {} --seed {}",
                        report.submission, part.name, report.seed_string
                    )
                } else {
                    String::new()
                },
                "filename": "",
                "line_no": 0,
                "duration": if i == 0 { milliseconds.round() as u64 } else { 0 },
            })
        })
        .collect()
}

/// The result of a grade that could not be made (exit status 2): status `"error"`, `why` in
/// its one test's message, no points out of `max_score` (the challenge's, when known).
pub fn error_json(why: &str, max_score: f64) -> Value {
    json!({
        "version": 1,
        "status": "error",
        "max_score": max_score,
        "tests": [{
            "name": "mpi-grade",
            "status": "error",
            "score": 0,
            "max_score": max_score,
            "message": format!("mpi-grade could not grade this repository: {why}"),
            "test_code": "mpi-grade grade . --classroom",
            "filename": "",
            "line_no": 0,
            "duration": 0,
        }],
    })
}

/// The step output line of a grade that could not be made ([`error_json`]).
pub fn error_line(why: &str, max_score: f64) -> String {
    line_of(&error_json(why, max_score))
}

/// `result=` and the base64 of the compact JSON document.
fn line_of(value: &Value) -> String {
    let json = serde_json::to_string(value).expect("a JSON value serialises");
    format!(
        "result={}",
        base64::engine::general_purpose::STANDARD.encode(json)
    )
}

/// The step output line: `result=` and the base64 of the compact result document.
pub fn output_line(report: &Report) -> String {
    line_of(&result_json(report))
}

/// Appends the output line to the file named by `GITHUB_OUTPUT`, or prints it when that
/// variable is unset (or empty).
pub fn emit(report: &Report) -> std::io::Result<()> {
    emit_line(&output_line(report))
}

/// Appends `line` to the file named by `GITHUB_OUTPUT`, or prints it.
pub fn emit_line(line: &str) -> std::io::Result<()> {
    let github_output = std::env::var_os("GITHUB_OUTPUT");
    emit_line_to(
        line,
        github_output.as_deref().map(Path::new),
        &mut std::io::stdout().lock(),
    )
}

/// [`emit`] with the value of `GITHUB_OUTPUT` and standard output given.
pub fn emit_to(
    report: &Report,
    github_output: Option<&Path>,
    stdout: &mut dyn Write,
) -> std::io::Result<()> {
    emit_line_to(&output_line(report), github_output, stdout)
}

/// [`emit_line`] with the value of `GITHUB_OUTPUT` and standard output given.
pub fn emit_line_to(
    line: &str,
    github_output: Option<&Path>,
    stdout: &mut dyn Write,
) -> std::io::Result<()> {
    match github_output.filter(|p| !p.as_os_str().is_empty()) {
        Some(path) => super::file::append_line(path, line),
        None => writeln!(stdout, "{line}"),
    }
}

/// The reporter's own logic, ported line by line (shared with `tests/formats.rs`).
#[cfg(test)]
#[path = "../../../../tests/support/classroom_reporter.rs"]
pub(crate) mod reporter;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    /// What the grading reporter does with a step's output: find `result=` among the
    /// step's output lines, base64-decode it, parse the JSON.
    fn decode(outputs: &str) -> Value {
        let encoded = outputs
            .lines()
            .find_map(|l| l.strip_prefix("result="))
            .unwrap_or_else(|| panic!("no result= line in {outputs:?}"));
        let json = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        serde_json::from_slice(&json).unwrap()
    }

    /// The documented shape, checked key by key and type by type.
    fn check_shape(result: &Value) {
        let object = result.as_object().unwrap();
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 4, "{keys:?}");
        assert_eq!(result["version"], 1);
        assert!(["pass", "fail", "error"].contains(&result["status"].as_str().unwrap()));
        assert!(result["max_score"].is_number());
        for test in result["tests"].as_array().unwrap() {
            assert!(test["name"].is_string(), "{test}");
            assert!(["pass", "fail", "error"].contains(&test["status"].as_str().unwrap()));
            assert!(test["score"].is_number(), "{test}");
            assert!(test["message"].is_string(), "{test}");
            assert!(test["test_code"].is_string() && test["filename"].is_string());
            assert!(
                test["line_no"].is_u64() && test["duration"].is_u64(),
                "{test}"
            );
        }
    }

    /// The reporter run on the step output `line` under the step id `id`.
    fn report_line(id: &str, line: &str) -> reporter::Reporter {
        let value = line.strip_prefix("result=").unwrap().to_string();
        let variable = format!("{}_RESULTS", id.to_uppercase());
        reporter::run(id, &move |name: &str| {
            (name == variable).then(|| value.clone())
        })
    }

    /// The log's points and the points Classroom records, for a report.
    fn both_sums(report: &Report) -> (f64, (f64, f64), reporter::Reporter) {
        let run = report_line("mpigrade", &output_line(report));
        let console = run.console[0].1;
        (console, run.points.expect("points are recorded"), run)
    }

    /// Regression (issue: 1 + 0.5/2 + 0/3 logged 2.00/6 while Classroom recorded 1.5/6): the
    /// reporter's two sums are both the report's points.
    #[test]
    fn the_reporters_log_and_recorded_points_are_the_grade() {
        let report = sample::graded();
        assert_eq!(
            report.parts.iter().map(|p| p.points).collect::<Vec<_>>(),
            [1.0, 0.5, 0.0]
        );
        let (console, points, run) = both_sums(&report);
        assert_eq!(console, 1.5, "{}", run.text());
        assert_eq!(points, (1.5, 6.0));
        assert!(run.text().contains("Total points for mpigrade: 1.50/6"));
        assert_eq!(run.failed.as_deref(), Some("Some tests failed."));
        // The old layout, one test per part, is what the issue saw: 2.00/6 against 1.5.
        let old = json!({"version": 1, "status": "fail", "max_score": 6, "tests": [
            {"name": "part1", "status": "pass", "score": 1},
            {"name": "part2", "status": "fail", "score": 0.5},
            {"name": "part3", "status": "fail", "score": 0}]});
        let encoded = base64::engine::general_purpose::STANDARD.encode(old.to_string());
        let run = report_line("mpigrade", &format!("result={encoded}"));
        assert_eq!(run.console[0].1, 2.0);
        assert_eq!(run.points, Some((1.5, 6.0)));

        // Every mix of earned points agrees, parts of other weights too.
        let mut other = sample::graded();
        for (part, (max, earned)) in
            other
                .parts
                .iter_mut()
                .zip([(10.0, 10.0), (25.0, 12.5), (40.0, 0.0)])
        {
            part.max_points = max;
            part.points = earned;
        }
        other.points = 22.5;
        other.max_points = 75.0;
        let (console, points, _) = both_sums(&other);
        assert!((console - 22.5).abs() < 1e-9, "{console}");
        assert_eq!(points, (22.5, 75.0));
    }

    /// Regression: the reporter prints the message of `error` tests only, so a failed part's
    /// explanation is an `error` test's message.
    #[test]
    fn a_failed_parts_explanation_is_in_the_reporters_log() {
        let report = sample::graded();
        let (_, _, run) = both_sums(&report);
        let log = run.text();
        assert!(log.contains("Error: part3: "), "{log}");
        assert!(log.contains("FAIL 0/3 (deadlock)"), "{log}");
        assert!(log.contains("Deadlock: rank 0 is blocked"), "{log}");
        assert!(log.contains("FAIL 0.5/2 (wrong-result)"), "{log}");
        assert!(log.contains("✅ part1: Blocking Send/Recv"), "{log}");
        // The test code once per part, with the seed as a string.
        assert_eq!(log.matches("Test code:").count(), 3, "{log}");
        assert!(log.contains("mpi-grade grade submissions/alice --part part2 --seed 42"));
    }

    #[test]
    fn the_result_has_the_reporters_shape_and_the_reports_points() {
        let report = sample::graded();
        let result = result_json(&report);
        check_shape(&result);
        assert_eq!(result["status"], "fail");
        assert_eq!(result["max_score"].as_f64(), Some(report.max_points));
        let tests = result["tests"].as_array().unwrap();
        // A unit of 0.5 points: 2 + 4 + 6 tests.
        assert_eq!(tests.len(), 12);
        let total: f64 = tests.iter().map(|t| t["score"].as_f64().unwrap()).sum();
        assert_eq!(total, report.points);
        let statuses: Vec<&str> = tests
            .iter()
            .map(|t| t["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            statuses,
            [
                "pass", "pass", "pass", "error", "fail", "fail", "error", "fail", "fail", "fail",
                "fail", "fail"
            ]
        );
        assert_eq!(tests[0]["message"], report.parts[0].summary);
        assert_eq!(
            tests[2]["name"],
            format!("{} [1/4]", text::part_title(&report.parts[1]))
        );
        assert_eq!(tests[1]["test_code"], "");
        assert_eq!(tests[2]["duration"], 1);
    }

    #[test]
    fn without_a_unit_each_part_is_one_test() {
        let mut report = sample::graded();
        report.parts[1].points = 1.0 / 3.0;
        let result = result_json(&report);
        let tests = result["tests"].as_array().unwrap();
        assert_eq!(tests.len(), 3);
        let statuses: Vec<&str> = tests
            .iter()
            .map(|t| t["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["pass", "error", "error"]);
        assert_eq!(tests[1]["score"].as_f64(), Some(1.0 / 3.0));
    }

    #[test]
    fn an_interrupted_grade_is_an_error_and_a_clean_one_a_pass() {
        let result = result_json(&sample::interrupted());
        check_shape(&result);
        assert_eq!(result["status"], "error");
        let statuses: Vec<&str> = result["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["status"].as_str().unwrap())
            .collect();
        assert!(statuses.contains(&"error"), "{statuses:?}");
        let mut report = sample::graded();
        report.parts.retain(|p| p.passed);
        assert_eq!(result_json(&report)["status"], "pass");
    }

    /// Regression: with no `result` at all (the grader exited 2) and a step id with a hyphen,
    /// the reporter blamed its `runners` input; a grader that cannot work now writes an
    /// `error` result whose reason the reporter prints.
    #[test]
    fn a_grader_that_cannot_work_still_gives_a_result_the_reporter_explains() {
        let nothing = reporter::run("mpi-grade", &|_: &str| None);
        assert_eq!(
            nothing.failed.as_deref(),
            Some("The runners input must be a comma-separated list of strings.")
        );
        let line = error_line("no MPI installation found", 6.0);
        let run = report_line("mpigrade", &line);
        assert_eq!(run.failed.as_deref(), Some("Some tests errored."));
        assert!(
            run.text().contains(
                "Error: mpi-grade could not grade this repository: no MPI installation found"
            ),
            "{}",
            run.text()
        );
        assert_eq!(run.points, Some((0.0, 6.0)));
        check_shape(&decode(&line));
    }

    #[test]
    fn the_line_goes_to_github_output_or_to_stdout() {
        let report = sample::build_failure();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("github_output");
        std::fs::write(&file, "earlier=1\n").unwrap();
        let mut stdout = Vec::new();
        emit_to(&report, Some(&file), &mut stdout).unwrap();
        assert!(stdout.is_empty());
        let written = std::fs::read_to_string(&file).unwrap();
        assert!(written.starts_with("earlier=1\nresult="), "{written}");
        assert_eq!(written.lines().count(), 2, "one line, no wrapped base64");
        let result = decode(&written);
        check_shape(&result);
        assert_eq!(result, result_json(&report));
        assert!(result["tests"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expected `Vec<Vec<i64>>`"));

        for unset in [None, Some(Path::new(""))] {
            let mut stdout = Vec::new();
            emit_to(&report, unset, &mut stdout).unwrap();
            assert_eq!(decode(&String::from_utf8(stdout).unwrap()), result);
        }
    }

    /// The example workflow for a course's template repository must name things the way the
    /// reporter finds them.
    #[test]
    fn the_example_workflow_wires_the_step_to_the_reporter() {
        let workflow =
            include_str!("../../../../examples/classroom/.github/workflows/classroom.yml");
        // The reporter only uploads the points of this workflow and job.
        assert!(
            workflow.contains("\nname: Autograding Tests\n"),
            "{workflow}"
        );
        assert!(
            workflow.contains("\n  run-autograding-tests:\n"),
            "{workflow}"
        );
        let id = workflow
            .lines()
            .find_map(|l| l.trim().strip_prefix("id: "))
            .expect("the grading step has an id");
        // The reporter blames `runners` for any error when it is not letters and digits.
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
        assert!(
            workflow.contains("mpi-grade grade . --classroom"),
            "{workflow}"
        );
        assert!(
            workflow.contains(&format!(
                "{}_RESULTS: \"${{{{ steps.{id}.outputs.result }}}}\"",
                id.to_uppercase()
            )),
            "{workflow}"
        );
        assert!(workflow.contains(&format!("runners: {id}\n")), "{workflow}");
        assert!(workflow.contains("autograding-grading-reporter@v1"));
        // A pinned grader, and a cache that a new pin does not reuse.
        let rev = workflow
            .lines()
            .find_map(|l| l.trim().strip_prefix("MPI_GRADE_REV: "))
            .expect("the grader's revision is set");
        assert!(!["\"main\"", "\"master\""].contains(&rev), "{rev}");
        let key = workflow
            .lines()
            .find_map(|l| l.trim().strip_prefix("key: "))
            .expect("the cache has a key");
        assert!(key.contains("${{ env.MPI_GRADE_REV }}"), "{key}");
        assert!(workflow.contains("--rev \"$MPI_GRADE_REV\""), "{workflow}");
    }
}
