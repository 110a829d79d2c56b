//! GitHub Classroom's autograding result, the JSON its grading reporter
//! (`autograding-grading-reporter`) reads from each grading step: the step sets an output
//! `result` to the base64 of
//!
//! ```json
//! {"version": 1, "status": "pass" | "fail" | "error", "max_score": 6,
//!  "tests": [{"name": "...", "status": "pass" | "fail" | "error", "score": 1.5,
//!             "message": "...", "test_code": "...", "filename": "", "line_no": 0,
//!             "duration": 12}]}
//! ```
//!
//! and the reporter, given the step's id in `runners` and the output in the environment
//! variable `<ID>_RESULTS`, prints each test (the `message` of those that did not pass),
//! adds the tests' `score`s up against `max_score`, and fails the job when a status is
//! `"fail"` or `"error"`. The fields besides `name`, `status`, `score` and `message` are the
//! ones GitHub's own graders add (`duration` in milliseconds).
//!
//! A step sets an output by appending `result=<value>` to the file named by `GITHUB_OUTPUT`;
//! outside GitHub Actions (no `GITHUB_OUTPUT`) the same line is printed.

use super::{text, FailureKind, PartReport, Report};
use base64::Engine;
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

/// The result document of a grade.
pub fn result_json(report: &Report) -> Value {
    let tests: Vec<Value> = report.parts.iter().map(|p| test(report, p)).collect();
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

fn test(report: &Report, part: &PartReport) -> Value {
    let message = if part.passed {
        part.summary.clone()
    } else {
        text::part_text(report, part)
    };
    let milliseconds: f64 = part.runs.iter().filter_map(|r| r.seconds).sum::<f64>() * 1e3;
    json!({
        "name": text::part_title(part),
        "status": status(part),
        "score": part.points,
        "max_score": part.max_points,
        "message": message,
        "test_code": format!(
            "mpi-grade grade {} --part {} --seed {}",
            report.submission, part.name, report.seed
        ),
        "filename": "",
        "line_no": 0,
        "duration": milliseconds.round() as u64,
    })
}

/// The step output line: `result=` and the base64 of the compact result document.
pub fn output_line(report: &Report) -> String {
    let json = serde_json::to_string(&result_json(report)).expect("a JSON value serialises");
    format!(
        "result={}",
        base64::engine::general_purpose::STANDARD.encode(json)
    )
}

/// Appends the output line to the file named by `GITHUB_OUTPUT`, or prints it when that
/// variable is unset (or empty).
pub fn emit(report: &Report) -> std::io::Result<()> {
    let github_output = std::env::var_os("GITHUB_OUTPUT");
    emit_to(
        report,
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
    let line = output_line(report);
    match github_output.filter(|p| !p.as_os_str().is_empty()) {
        Some(path) => super::file::append_line(path, &line),
        None => writeln!(stdout, "{line}"),
    }
}

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

    #[test]
    fn the_result_has_the_reporters_shape_and_the_reports_points() {
        let report = sample::graded();
        let result = result_json(&report);
        check_shape(&result);
        assert_eq!(result["status"], "fail");
        assert_eq!(result["max_score"].as_f64(), Some(report.max_points));
        let tests = result["tests"].as_array().unwrap();
        // The reporter's total: the sum of the tests' scores.
        let total: f64 = tests.iter().map(|t| t["score"].as_f64().unwrap()).sum();
        assert_eq!(total, report.points);
        let statuses: Vec<&str> = tests
            .iter()
            .map(|t| t["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["pass", "fail", "fail"]);
        assert_eq!(tests[0]["message"], report.parts[0].summary);
        let message = tests[2]["message"].as_str().unwrap();
        assert!(message.starts_with("FAIL 0/3 (deadlock)"), "{message}");
        assert!(message.contains("Deadlock: rank 0 is blocked"), "{message}");
        assert_eq!(
            tests[1]["test_code"],
            "mpi-grade grade submissions/alice --part part2 --seed 42"
        );
        assert_eq!(tests[1]["duration"], 1);
    }

    #[test]
    fn an_interrupted_grade_is_an_error_and_a_clean_one_a_pass() {
        let result = result_json(&sample::interrupted());
        check_shape(&result);
        assert_eq!(result["status"], "error");
        assert_eq!(result["tests"][1]["status"], "error");
        let mut report = sample::graded();
        report.parts.retain(|p| p.passed);
        assert_eq!(result_json(&report)["status"], "pass");
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
    }
}
