//! Gradescope's `results.json` (its autograder specification, "Output format"): the grade's
//! `score` and `execution_time`, an `output` for the whole submission, and one test per part
//! with its `score`, `max_score`, `status`, `output` and `visibility` (from
//! `challenges.toml`).
//!
//! - `score` is the report's `points`, which is the sum of the tests' scores.
//! - `execution_time` is the grade's wall time in whole seconds (rounded up).
//! - Every text is plain (`output_format`, `test_output_format` and `test_name_format` are
//!   `"text"`), so that a compiler's `Vec<i64>` is not taken for HTML.
//! - The top-level `output` says what graded the submission and why a build failed; it never
//!   states the total, which Gradescope keeps from students while some tests are hidden.

use super::{text, PartReport, Report};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What a student uploads, for a submission that is not a crate the grader can find.
pub const UPLOAD: &str = "Upload your crate: its Cargo.toml and its src/lib.rs (with the part \
    functions), at the top of the upload or in one folder of a zip; or only your lib.rs, which \
    is graded in a fresh starter crate";

/// The file Gradescope reads, inside its results directory.
pub const RESULTS_FILE: &str = "results.json";

#[derive(Serialize)]
struct Results {
    score: f64,
    execution_time: u64,
    output: String,
    output_format: &'static str,
    test_output_format: &'static str,
    test_name_format: &'static str,
    tests: Vec<Test>,
    extra_data: ExtraData,
}

/// What reproduces the grade, for course tooling that reads Gradescope's results (students
/// do not see `extra_data`).
#[derive(Serialize)]
struct ExtraData {
    /// The seed in decimal, as a string (exact in any JSON reader).
    seed: String,
    grader_version: String,
    grader_commit: String,
    config: String,
    config_sha256: String,
}

#[derive(Serialize)]
struct Test {
    name: String,
    number: String,
    score: f64,
    max_score: f64,
    status: &'static str,
    output: String,
    visibility: &'static str,
}

/// Writes the report as Gradescope's `results.json`, with a trailing newline.
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &results(report))?;
    writeln!(out)
}

/// Like [`write`], but each test's output (and the top-level output) is HTML
/// (`output_format: "html"`, `--gradescope-html`): the part's section of the HTML report,
/// its grid, wait-for graphs and plots, every student string escaped. Names stay text.
pub fn write_html(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut results = results(report);
    results.output = format!("<pre>{}</pre>", super::html::escape(&results.output));
    results.output_format = "html";
    results.test_output_format = "html";
    for (test, part) in results.tests.iter_mut().zip(&report.parts) {
        test.output = format!(
            "<style>{}</style>\n{}",
            super::html::STYLE,
            super::html::part_section(report, part, 3)
        );
    }
    serde_json::to_writer_pretty(&mut *out, &results)?;
    writeln!(out)
}

/// `--gradescope DIR_OR_FILE`: a directory (one that exists, or a path ending in `/`) means
/// `DIR/results.json`; anything else is the file itself.
pub fn results_path(target: &Path) -> PathBuf {
    let names_a_directory = target.as_os_str().to_string_lossy().ends_with('/');
    if names_a_directory || target.is_dir() {
        target.join(RESULTS_FILE)
    } else {
        target.to_path_buf()
    }
}

fn results(report: &Report) -> Results {
    Results {
        score: report.points,
        execution_time: report.seconds.max(0.0).ceil() as u64,
        output: output(report),
        output_format: "text",
        test_output_format: "text",
        test_name_format: "text",
        tests: report
            .parts
            .iter()
            .enumerate()
            .map(|(i, part)| test(report, part, i + 1))
            .collect(),
        extra_data: ExtraData {
            seed: report.seed_string.clone(),
            grader_version: report.grader.version.clone(),
            grader_commit: report.grader.commit.clone(),
            config: report.config.path.clone(),
            config_sha256: report.config.sha256.clone(),
        },
    }
}

fn test(report: &Report, part: &PartReport, number: usize) -> Test {
    Test {
        name: text::part_title(part),
        number: number.to_string(),
        score: part.points,
        max_score: part.max_points,
        status: if part.passed { "passed" } else { "failed" },
        output: text::part_text(report, part),
        visibility: part.visibility.as_str(),
    }
}

/// What graded the submission, how to reproduce the grade, and a failed build's message.
fn output(report: &Report) -> String {
    let mut out = format!(
        "mpi-grade {} graded challenge {} with {} {} (seed {}: `mpi-grade grade --seed {}` \
         reproduces the payloads) in {:.1} s.\n",
        report.grader.describe(),
        report.challenge,
        report.mpi.implementation,
        report.mpi.version,
        report.seed,
        report.seed,
        report.seconds,
    );
    if !report.build.ok {
        out.push_str(&format!(
            "\nThe crate does not build: {}\n",
            super::clean::continued(
                report
                    .build
                    .summary
                    .as_deref()
                    .unwrap_or("see the compiler's message"),
                &format!("  {}", super::clean::GUTTER)
            )
        ));
        // The compiler's message quotes the submission: behind the gutter.
        if let Some(details) = &report.build.details {
            out.push('\n');
            for line in details.trim_end().lines() {
                out.push_str(&format!("  {}{line}\n", super::clean::GUTTER));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;
    use serde_json::{json, Value};

    /// Gradescope's documented `results.json`, transcribed as a JSON Schema: every key it
    /// names, with its type, and the values it lists for `status`, `visibility` and the
    /// formats. Unknown keys are refused, so a misspelt key fails here rather than being
    /// ignored by Gradescope.
    fn documented_spec() -> Value {
        let visibility =
            json!({"enum": ["hidden", "after_due_date", "after_published", "visible"]});
        let format = json!({"enum": ["text", "simple_format", "html", "md", "ansi"]});
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "anyOf": [
                {"required": ["score"]},
                {"required": ["tests"], "properties": {"tests": {"items": {"required": ["score"]}}}}
            ],
            "properties": {
                "score": {"type": "number"},
                "execution_time": {"type": "number"},
                "output": {"type": "string"},
                "output_format": format,
                "test_output_format": format,
                "test_name_format": format,
                "visibility": visibility,
                "stdout_visibility": visibility,
                "extra_data": {"type": "object"},
                "tests": {"type": "array", "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "score": {"type": "number"},
                        "max_score": {"type": "number"},
                        "status": {"enum": ["passed", "failed"]},
                        "name": {"type": "string"},
                        "name_format": format,
                        "number": {"type": "string"},
                        "output": {"type": "string"},
                        "output_format": format,
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "visibility": visibility,
                        "extra_data": {"type": "object"}
                    }
                }},
                "leaderboard": {"type": "array", "items": {
                    "type": "object",
                    "required": ["name", "value"],
                    "properties": {
                        "name": {"type": "string"},
                        "value": {"type": ["number", "string"]},
                        "order": {"enum": ["asc", "desc"]}
                    }
                }}
            }
        })
    }

    fn results_json(report: &Report) -> Value {
        checked(report, write)
    }

    /// `write`'s document, checked against the documented specification.
    fn checked(
        report: &Report,
        write: fn(&Report, &mut dyn Write) -> std::io::Result<()>,
    ) -> Value {
        let mut out = Vec::new();
        write(report, &mut out).unwrap();
        let value: Value = serde_json::from_slice(&out).unwrap();
        let validator = jsonschema::validator_for(&documented_spec()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}\n{value:#}");
        value
    }

    #[test]
    fn the_spec_refuses_what_gradescope_would_not_read() {
        // The transcription must be able to fail: a misspelt key, a status Gradescope does
        // not know.
        let validator = jsonschema::validator_for(&documented_spec()).unwrap();
        assert!(!validator.is_valid(&json!({"score": 1, "test": []})));
        assert!(!validator.is_valid(&json!({"tests": [{"score": 1, "status": "pass"}]})));
        assert!(!validator.is_valid(&json!({"tests": [{"score": 1, "visibility": "later"}]})));
        assert!(!validator.is_valid(&json!({"tests": [{"max_score": 1}]})));
        assert!(validator.is_valid(&json!({"tests": [{"score": 1, "status": "passed"}]})));
    }

    #[test]
    fn results_follow_the_documented_keys_and_the_points_of_the_report() {
        let report = sample::graded();
        let results = results_json(&report);
        assert_eq!(results["score"], json!(1.5));
        assert_eq!(results["execution_time"], json!(13));
        let tests = results["tests"].as_array().unwrap();
        assert_eq!(tests.len(), report.parts.len());
        let total: f64 = tests.iter().map(|t| t["score"].as_f64().unwrap()).sum();
        assert_eq!(total, report.points);
        let max: f64 = tests.iter().map(|t| t["max_score"].as_f64().unwrap()).sum();
        assert_eq!(max, report.max_points);
        let field =
            |key: &str| -> Vec<&str> { tests.iter().map(|t| t[key].as_str().unwrap()).collect() };
        assert_eq!(field("status"), ["passed", "failed", "failed"]);
        assert_eq!(field("visibility"), ["visible", "after_due_date", "hidden"]);
        assert_eq!(field("number"), ["1", "2", "3"]);
        assert_eq!(
            tests[1]["name"],
            "part2: Deadlock-free alltoall with blocking Send/Recv only"
        );
        let output = tests[1]["output"].as_str().unwrap();
        assert!(
            output.starts_with("FAIL 0.5/2 (wrong-result): rank 1"),
            "{output}"
        );
        assert!(output.contains("printed <Vec<i64>> & more"), "{output}");
        let top = results["output"].as_str().unwrap();
        assert!(top.contains("Open MPI 4.1.4 (seed 42"), "{top}");
        assert!(top.starts_with("mpi-grade 0.1.0 (commit 0123456789ab) graded"));
        assert_eq!(results["extra_data"]["seed"], "42");
        assert_eq!(results["extra_data"]["grader_version"], "0.1.0");
        assert_eq!(
            results["extra_data"]["config_sha256"].as_str().unwrap(),
            report.config.sha256
        );
        // The total stays out of the text: Gradescope hides it while tests are hidden.
        assert!(!top.contains("1.5"), "{top}");
    }

    #[test]
    fn a_build_failure_is_explained_at_the_top_and_in_every_part() {
        let report = sample::build_failure();
        let results = results_json(&report);
        assert_eq!(results["score"], json!(0.0));
        let top = results["output"].as_str().unwrap();
        assert!(
            top.contains("The crate does not build: mismatched types\n\n  │ error[E0308]"),
            "{top}"
        );
        for test in results["tests"].as_array().unwrap() {
            assert_eq!(test["status"], "failed");
            assert!(test["output"].as_str().unwrap().contains("found `&str`"));
        }
    }

    #[test]
    fn a_directory_means_results_json_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(results_path(dir.path()), dir.path().join("results.json"));
        let missing = dir.path().join("results");
        assert_eq!(results_path(&missing), missing);
        let slash = PathBuf::from(format!("{}/", missing.display()));
        assert_eq!(results_path(&slash), missing.join("results.json"));
        let file = dir.path().join("out.json");
        assert_eq!(results_path(&file), file);
    }

    #[test]
    fn html_output_draws_the_part_and_escapes_the_student() {
        let mut report = sample::graded();
        report.parts[2].summary = "<img src=x onerror=alert(1)>".into();
        let value = checked(&report, write_html);
        assert_eq!(value["output_format"], "html");
        assert_eq!(value["test_output_format"], "html");
        assert_eq!(value["test_name_format"], "text");
        let part3 = value["tests"][2]["output"].as_str().unwrap();
        assert!(part3.contains("<table class=\"grid\">"), "{part3}");
        assert!(part3.contains("<svg class=\"wait-for\""));
        assert!(part3.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!part3.contains("<img"));
        assert!(value["output"]
            .as_str()
            .unwrap()
            .starts_with("<pre>mpi-grade "));
    }
}
