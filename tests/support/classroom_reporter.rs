//! A port of what GitHub Classroom's grading reporter does with the grading steps' outputs:
//! `classroom-resources/autograding-grading-reporter` at commit
//! 43c2d9f524d3c7926caf7cb4fee34200b40b8c26 (its `dist/main.js` is an esbuild bundle of
//! `src/`). Each step below cites the lines it ports; JavaScript numbers are `f64`, as here.
//!
//! Departures, none of which mpi-grade's output reaches: `Buffer.from(s, "base64")` skips
//! characters that are not base64 where this refuses them; `toFixed(2)` is `{:.2}`; the
//! colours are left out of the log, and the table of `aggregate-results.js` is kept as rows.
//!
//! Used by the grader's unit tests (`report/classroom.rs`) and by `tests/formats.rs` on real
//! grades.

#![allow(dead_code)]

use base64::Engine;
use serde_json::Value;

/// What the reporter did with the runners.
#[derive(Debug, Default)]
pub struct Reporter {
    /// Its log, line by line (`console.log`, `console.error`).
    pub log: Vec<String>,
    /// Per runner, the log's `Total points for RUNNER: SCORE/MAX` (score, max).
    pub console: Vec<(String, f64, f64)>,
    /// The points it reports to Classroom (`Points TOTAL/MAX`), when it reports any.
    pub points: Option<(f64, f64)>,
    /// `core.setFailed`'s message, when it fails the job.
    pub failed: Option<String>,
}

impl Reporter {
    /// The log as one text.
    pub fn text(&self) -> String {
        self.log.join("\n")
    }
}

/// Runs the reporter with the action's input `runners` and the environment `env`.
pub fn run(runners: &str, env: &dyn Fn(&str) -> Option<String>) -> Reporter {
    let mut reporter = Reporter::default();
    // src/main.js:5-13: split `runners` at commas; each runner's results are the base64 of
    // JSON in the variable `${runner.trim().toUpperCase()}_RESULTS`.
    let decoded: Result<Vec<(String, Value)>, String> = runners
        .split(',')
        .map(|runner| {
            let name = format!("{}_RESULTS", runner.trim().to_uppercase());
            // Buffer.from(undefined, "base64") throws a TypeError.
            let encoded = env(&name).ok_or_else(|| {
                "The first argument must be of type string or an instance of Buffer, \
                 ArrayBuffer, or Array or an Array-like Object. Received undefined"
                    .to_string()
            })?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|e| e.to_string())?;
            let json = String::from_utf8_lossy(&bytes).into_owned();
            let results: Value = serde_json::from_str(&json).map_err(|e| e.to_string())?;
            Ok((runner.to_string(), results))
        })
        .collect();
    let outcome = decoded.and_then(|results| {
        // src/main.js:16-17.
        console_results(&results, &mut reporter)?;
        notify_classroom(&results, &mut reporter);
        // src/main.js:19-23.
        if results.iter().any(|(_, r)| r["status"] == "fail") {
            reporter.failed = Some("Some tests failed.".into());
        } else if results.iter().any(|(_, r)| r["status"] == "error") {
            reporter.failed = Some("Some tests errored.".into());
        }
        Ok(())
    });
    if let Err(message) = outcome {
        // src/main.js:24-34: an error is reported as a bad `runners` input whenever that input
        // is not letters and digits separated by commas, whatever the error was.
        let message = if runners_pattern(runners) {
            message
        } else {
            "The runners input must be a comma-separated list of strings.".to_string()
        };
        reporter.log.push(message.clone());
        reporter.failed = Some(message);
    }
    reporter
}

/// src/main.js:26: `/^([a-zA-Z0-9]+,)*[a-zA-Z0-9]+$/`.
fn runners_pattern(input: &str) -> bool {
    !input.is_empty()
        && input
            .split(',')
            .all(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// JavaScript's `value || 0` for a number.
fn number_or_zero(value: &Value) -> f64 {
    value
        .as_f64()
        .filter(|v| *v != 0.0 && !v.is_nan())
        .unwrap_or(0.0)
}

/// src/helpers/test-helpers.js:1, `getMaxScoreForTest`.
fn max_score(results: &Value) -> f64 {
    number_or_zero(&results["max_score"])
}

/// src/helpers/test-helpers.js:11-19, `getTestScore`: passed tests over tests, times the
/// runner's max_score; each test's own `score` plays no part.
fn test_score(results: &Value) -> Result<f64, String> {
    let tests = results["tests"]
        .as_array()
        .ok_or("Cannot read properties of undefined (reading 'reduce')")?;
    let passed = tests.iter().filter(|t| t["status"] == "pass").count() as f64;
    Ok(passed / tests.len() as f64 * max_score(results))
}

/// JavaScript's template-literal text of a value (`${value}`), for the values the log prints.
fn js_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), |f| format!("{f}")),
        other => other.to_string(),
    }
}

/// JavaScript truthiness of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// src/console-results.js:5-62, `ConsoleResults` (with `AggregateResults`,
/// src/aggregate-results.js:5-38, as its last rows).
fn console_results(runners: &[(String, Value)], reporter: &mut Reporter) -> Result<(), String> {
    let mut passed_all = 0;
    let mut tests_all = 0;
    for (index, (runner, results)) in runners.iter().enumerate() {
        // console-results.js:12-14.
        let max = max_score(results);
        let score = test_score(results)?;
        if index > 0 {
            reporter.log.push("🚀".repeat(24));
        }
        reporter.log.push(format!("🔄 Processing: {runner}"));
        let tests = results["tests"].as_array().cloned().unwrap_or_default();
        let mut passed = 0;
        // console-results.js:23-43: a line per test; only an `error` test's message is printed.
        for test in &tests {
            let line = if test["line_no"] != 0 {
                format!(" - line {}", js_text(&test["line_no"]))
            } else {
                String::new()
            };
            if test["status"] == "pass" {
                passed += 1;
                reporter
                    .log
                    .push(format!("✅ {}{line}", js_text(&test["name"])));
            } else if test["status"] == "error" {
                let message = if truthy(&test["message"]) {
                    js_text(&test["message"])
                } else {
                    format!("Failed to run test '{}'", js_text(&test["name"]))
                };
                reporter.log.push(format!("Error: {message}\n"));
            } else {
                reporter
                    .log
                    .push(format!("❌ {}{line}", js_text(&test["name"])));
            }
            if truthy(&test["test_code"]) {
                reporter
                    .log
                    .push(format!("Test code:\n{}\n", js_text(&test["test_code"])));
            }
        }
        passed_all += passed;
        tests_all += tests.len();
        // console-results.js:50-52.
        if max != 0.0 {
            reporter
                .log
                .push(format!("Total points for {runner}: {score:.2}/{max}\n"));
        }
        reporter
            .console
            .push((runner.trim().to_string(), score, max));
    }
    // aggregate-results.js:33-36: the table's total is the sum of the same scores.
    let total: f64 = reporter.console.iter().map(|(_, s, _)| s).sum();
    let max: f64 = reporter.console.iter().map(|(_, _, m)| m).sum();
    reporter.log.push(format!("Total: {total} {max}"));
    reporter.log.push(format!(
        "🏆 Grand total tests passed: {passed_all}/{tests_all}\n"
    ));
    Ok(())
}

/// src/notify-classroom.js:3-31, `NotifyClassroom`: the points Classroom records are the sum of
/// the tests' `score`s of every runner with a max_score.
fn notify_classroom(runners: &[(String, Value)], reporter: &mut Reporter) {
    let mut total = 0.0;
    let mut max = 0.0;
    for (_, results) in runners {
        if !truthy(&results["max_score"]) {
            continue;
        }
        max += results["max_score"].as_f64().unwrap_or(f64::NAN);
        for test in results["tests"].as_array().into_iter().flatten() {
            // `acc.totalPoints += score`: a test without a score makes the total NaN.
            total += test["score"].as_f64().unwrap_or(f64::NAN);
        }
    }
    if max == 0.0 || max.is_nan() {
        return;
    }
    reporter.points = Some((total, max));
}
