//! The formats course tools read, produced from real grades under real MPI and read back the
//! way their consumers read them: JUnit XML (junit-parser, a strict XML parser), Gradescope's
//! results.json, GitHub Classroom's base64 result, and the JSON report against its schema.
//! Also Gradescope's autograder: the zip make-autograder packs, and run_autograder grading a
//! submission into /autograder/results/results.json.
//!
//! Like tests/grading.rs: one trial at a time under the workspace's MPI lock, and no process
//! left behind at the end.

#[path = "support/mod.rs"]
mod support;

#[path = "support/classroom_reporter.rs"]
mod classroom_reporter;

#[path = "support/gitlab_junit.rs"]
mod gitlab_junit;

use base64::Engine;
use libtest_mimic::{Arguments, Failed, Trial};
use mpi_grade::commands::grade::{grade, GradeOptions};
use mpi_grade::config::Config;
use mpi_grade::mpi::Choice;
use mpi_grade::report::{classroom, gradescope, json, junit, text, Report};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::*;

fn main() {
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let _lock = mpi_lock();
    // Children of in-process grades carry the marker too, so leftovers are found.
    std::env::set_var(TEST_MARKER_VAR, marker());
    let trials = vec![
        Trial::test(
            "real_grades_in_every_format_agree_with_their_reports",
            real_grades_in_every_format,
        ),
        Trial::test(
            "make_autograder_packs_what_gradescope_looks_for",
            make_autograder,
        ),
        Trial::test(
            "run_autograder_grades_a_lone_lib_rs_into_results_json",
            run_autograder,
        ),
        Trial::test(
            "a_regrade_from_the_seed_string_a_javascript_reader_sees_reproduces_the_grade",
            regrade_from_seed_string,
        ),
    ];
    let conclusion = libtest_mimic::run(&args, trials);
    conclude(conclusion);
}

/// Grades `submission` (from the repository root) with the fixtures' matrix, in this process.
fn grade_here(submission: &str) -> Result<Report, Failed> {
    let config = Config::load(&repo().join("tests/fixtures/challenges.toml"))?;
    let options = GradeOptions {
        submission: repo().join(submission),
        challenge: config.challenge(None)?.clone(),
        parts: Vec::new(),
        seed: Some(7),
        cache_dir: cache_dir(),
        keep_runs: false,
        mpi: Choice::Auto,
        progress: false,
        trace: true,
        compare: false,
        runner: config.runner.clone(),
        sandbox: true,
        lang: None,
    };
    Ok(grade(&options)?)
}

fn real_grades_in_every_format() -> Result<(), Failed> {
    // All three parts pass; part 2 deadlocks at some rank counts (and earns partial credit); the
    // crate does not build.
    let reports = [
        grade_here("solutions/reference")?,
        grade_here("tests/fixtures/rank-count-deadlock")?,
        grade_here("tests/fixtures/compile-error")?,
    ];
    let passed: Vec<Vec<bool>> = reports
        .iter()
        .map(|r| r.parts.iter().map(|p| p.passed).collect())
        .collect();
    assert_eq!(
        passed,
        [
            vec![true, true, true],
            vec![true, false, true],
            vec![false, false, false]
        ],
        "the fixtures' verdicts changed; see tests/grading.rs"
    );

    for report in &reports {
        // The JSON report, against its schema.
        let mut out = Vec::new();
        json::write(report, &mut out)?;
        let value: Value = serde_json::from_slice(&out)?;
        let departures = schema_errors(&value);
        if !departures.is_empty() {
            return Err(format!("{}: {}", report.submission, departures.join("\n")).into());
        }
        check_gradescope(report)?;
        check_classroom(report)?;
    }
    check_junit(&reports)
}

fn check_junit(reports: &[Report]) -> Result<(), Failed> {
    let mut out = Vec::new();
    junit::write(reports, &mut out)?;
    let xml = String::from_utf8(out)?;
    let parsed = junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes()))
        .map_err(|e| format!("junit-parser rejects the XML: {e}\n{xml}"))?;
    let document = roxmltree::Document::parse(&xml)?;
    assert_eq!(parsed.suites.len(), reports.len());
    for (suite, report) in parsed.suites.iter().zip(reports) {
        assert_eq!(suite.name, report.submission);
        assert_eq!(suite.cases.len(), report.parts.len());
        let failed = report.parts.iter().filter(|p| !p.passed).count();
        assert_eq!(suite.failures as usize, failed, "{xml}");
        let mut points = 0.0;
        for (case, part) in suite.cases.iter().zip(&report.parts) {
            assert_eq!(case.status.is_success(), part.passed);
            let property = |name: &str| case.properties.hashmap.get(name).cloned();
            points += property("points").unwrap().parse::<f64>()?;
            let runs = case
                .properties
                .vec
                .iter()
                .filter(|(name, _)| name.starts_with("run:"))
                .count();
            assert_eq!(runs, part.runs.len(), "one property per run");
            if let Some(failure) = &part.failure {
                let f = case.status.failure_as_ref();
                assert_eq!(f.failure_type, failure.name());
                assert_eq!(f.message, part.summary);
            }
        }
        assert!(
            (points - report.points).abs() < 1e-9,
            "{points} {}",
            report.points
        );
    }
    // The compiler's message reaches the failure body intact (escaped and unescaped).
    let body: String = document
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .filter(|n| n.attribute("type") == Some("build-error"))
        .filter_map(|n| n.text())
        .collect();
    assert!(body.contains("mismatched types"), "{body}");
    check_gitlab(reports, &xml)
}

/// What GitLab shows of each failed part: its verdict first, and the submission's file.
fn check_gitlab(reports: &[Report], xml: &str) -> Result<(), Failed> {
    let cases = gitlab_junit::parse(xml)?;
    let parts: Vec<(&Report, &mpi_grade::report::PartReport)> = reports
        .iter()
        .flat_map(|r| r.parts.iter().map(move |p| (r, p)))
        .collect();
    assert_eq!(cases.len(), parts.len());
    for (case, (report, part)) in cases.iter().zip(parts) {
        if part.passed {
            assert_eq!(case.status, "success");
            continue;
        }
        assert_eq!(case.status, "failed");
        let shown = case.system_output.as_deref().unwrap_or("");
        assert!(
            shown.starts_with(&text::verdict_line(part)),
            "GitLab shows:\n{shown}"
        );
        let file = case
            .file
            .as_deref()
            .ok_or(format!("no file for {}", case.name))?;
        let expected = format!("{}/src/lib.rs", report.submission);
        assert_eq!(file, expected, "{}", case.name);
    }
    // The compile error's line, as the compiler gave it.
    let doc = roxmltree::Document::parse(xml)?;
    let lines: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter_map(|n| n.attribute("line"))
        .collect();
    assert!(lines.contains(&"39"), "{lines:?}");
    Ok(())
}

fn check_gradescope(report: &Report) -> Result<(), Failed> {
    let mut out = Vec::new();
    gradescope::write(report, &mut out)?;
    let results: Value = serde_json::from_slice(&out)?;
    assert_eq!(results["score"].as_f64(), Some(report.points));
    let tests = results["tests"].as_array().unwrap();
    assert_eq!(tests.len(), report.parts.len());
    let sum: f64 = tests.iter().map(|t| t["score"].as_f64().unwrap()).sum();
    assert!((sum - report.points).abs() < 1e-9);
    for (test, part) in tests.iter().zip(&report.parts) {
        let status = if part.passed { "passed" } else { "failed" };
        assert_eq!(test["status"], status);
        assert_eq!(test["max_score"].as_f64(), Some(part.max_points));
        assert_eq!(test["visibility"], "visible");
        assert!(test["output"].as_str().unwrap().contains(&part.summary));
    }
    Ok(())
}

fn check_classroom(report: &Report) -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let github_output = dir.path().join("output");
    classroom::emit_to(report, Some(&github_output), &mut std::io::sink())?;
    let line = std::fs::read_to_string(&github_output)?;
    let encoded = line
        .trim_end()
        .strip_prefix("result=")
        .ok_or("no result=")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded)?;
    let result: Value = serde_json::from_slice(&decoded)?;
    assert_eq!(result["version"], 1);
    let status = if report.all_passed() { "pass" } else { "fail" };
    assert_eq!(result["status"], status);
    assert_eq!(result["max_score"].as_f64(), Some(report.max_points));
    let sum: f64 = result["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["score"].as_f64().unwrap())
        .sum();
    assert!((sum - report.points).abs() < 1e-9);
    // The reporter's own arithmetic: its log and the points it records are the grade.
    let value = encoded.to_string();
    let reporter = classroom_reporter::run("mpigrade", &move |name: &str| {
        (name == "MPIGRADE_RESULTS").then(|| value.clone())
    });
    let (_, console, max) = reporter.console[0];
    assert!(
        (console - report.points).abs() < 1e-9,
        "{}",
        reporter.text()
    );
    assert_eq!(max, report.max_points);
    assert_eq!(reporter.points, Some((report.points, report.max_points)));
    let failed = if report.all_passed() {
        None
    } else {
        Some("Some tests failed.")
    };
    assert_eq!(reporter.failed.as_deref(), failed);
    for part in report.parts.iter().filter(|p| !p.passed) {
        let shown = format!(
            "Error: {}\n{}",
            text::part_title(part),
            text::verdict_line(part)
        );
        assert!(reporter.text().contains(&shown), "{}", reporter.text());
    }
    Ok(())
}

/// A seed above 2^53 (which JavaScript and jq 1.6 round): the JSON report read by node, the
/// regrade from its `seed_string` gives every payload value and verdict again, and the regrade
/// from the number node read does not (so that this test can fail).
fn regrade_from_seed_string() -> Result<(), Failed> {
    const SEED: &str = "16045690984503098046";
    let dir = tempfile::tempdir()?;
    let grade_json = |seed: &str, name: &str| -> Result<Value, Failed> {
        let path = dir.path().join(name);
        let out = run(
            mpi_grade(&[
                "grade",
                "tests/fixtures/wrong-element",
                "--config",
                "tests/fixtures/challenges.toml",
                "--part",
                "2",
                "--no-compare",
                "-q",
                "--seed",
                seed,
                "--json",
                path.to_str().unwrap(),
            ]),
            Duration::from_secs(600),
        );
        if out.status.code() != Some(1) {
            return Err(format!(
                "expected exit 1 (part 2 has a wrong element), got {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        Ok(serde_json::from_str(&std::fs::read_to_string(&path)?)?)
    };
    let first = grade_json(SEED, "first.json")?;
    assert_eq!(first["seed_string"], SEED);
    assert!(
        schema_errors(&first).is_empty(),
        "{:?}",
        schema_errors(&first)
    );
    // What a JavaScript consumer reads from the file.
    let script = "const r = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); \
                  console.log(r.seed_string); console.log(String(BigInt(r.seed)));";
    let node = Command::new("node")
        .args(["-e", script])
        .arg(dir.path().join("first.json"))
        .output()
        .map_err(|e| format!("node (scripts/install-deps installs nodejs): {e}"))?;
    assert!(
        node.status.success(),
        "{}",
        String::from_utf8_lossy(&node.stderr)
    );
    let text = String::from_utf8(node.stdout)?;
    let lines: Vec<&str> = text.lines().collect();
    let (seed_string, rounded) = (lines[0], lines[1]);
    assert_eq!(seed_string, SEED);
    assert_ne!(rounded, SEED, "node is expected to round the number");
    let again = grade_json(seed_string, "again.json")?;
    let wrong = grade_json(rounded, "rounded.json")?;
    // Every run's outcome and text (the payload values a wrong element quotes), every verdict.
    let verdicts = |report: &Value| -> Vec<Value> {
        let mut all = Vec::new();
        for part in report["parts"].as_array().unwrap() {
            all.push(serde_json::json!([
                part["name"],
                part["passed"],
                part["failure"],
                part["summary"],
                part["points"]
            ]));
            for r in part["runs"].as_array().unwrap() {
                all.push(serde_json::json!([
                    r["ranks"],
                    r["scaling_factor"],
                    r["mode"],
                    r["outcome"],
                    r["detail"],
                    r["messages"],
                    r["bytes"]
                ]));
            }
        }
        all
    };
    assert_eq!(verdicts(&first), verdicts(&again));
    let quoted = |report: &Value| report["parts"][0]["summary"].as_str().unwrap().to_string();
    assert!(quoted(&first).contains("expected "), "{}", quoted(&first));
    assert_ne!(
        quoted(&first),
        quoted(&wrong),
        "the rounded seed grades other payloads"
    );
    assert_eq!(first["config"], again["config"]);
    assert_eq!(first["config"]["path"], "tests/fixtures/challenges.toml");
    let sha = first["config"]["sha256"].as_str().unwrap();
    let expected = Command::new("sha256sum")
        .arg(repo().join("tests/fixtures/challenges.toml"))
        .output()?;
    assert!(String::from_utf8(expected.stdout)?.starts_with(sha));
    Ok(())
}

fn make_autograder() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let zip = dir.path().join("autograder.zip");
    let out = Command::new(repo().join("gradescope/make-autograder"))
        .arg(repo().join("tests/fixtures/challenges.toml"))
        .arg(&zip)
        .current_dir(dir.path())
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "make-autograder failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    // `unzip -Z`: one line per entry, permissions first, name last.
    let listing = Command::new("unzip").arg("-Z").arg(&zip).output()?;
    let listing = String::from_utf8(listing.stdout)?;
    let entry = |name: &str| {
        listing
            .lines()
            .find(|l| l.split_whitespace().last() == Some(name))
            .map(str::to_string)
    };
    for script in ["setup.sh", "run_autograder"] {
        let line = entry(script).ok_or(format!("no {script} at the root:\n{listing}"))?;
        assert!(
            line.starts_with("-rwxr-xr-x"),
            "{script} is executable: {line}"
        );
    }
    for file in [
        "challenges.toml",
        "mpi-grade/Cargo.toml",
        "mpi-grade/Cargo.lock",
        "mpi-grade/harness/grader/Cargo.toml",
        "mpi-grade/solutions/reference/src/lib.rs",
    ] {
        assert!(entry(file).is_some(), "no {file}:\n{listing}");
    }
    assert!(entry("mpi-grade/target/").is_none());
    // setup.sh creates the sandbox user before the grade that warms the cache.
    let setup = std::fs::read_to_string(repo().join("gradescope/setup.sh"))?;
    let user = setup
        .find("useradd --system")
        .ok_or("setup.sh creates no user")?;
    let warm = setup
        .find("mpi-grade grade")
        .ok_or("setup.sh grades nothing")?;
    assert!(user < warm && setup[user..].starts_with("useradd --system --no-create-home"));
    let config = Command::new("unzip")
        .args(["-p"])
        .arg(&zip)
        .arg("challenges.toml")
        .output()?;
    let packed = String::from_utf8(config.stdout)?;
    let course = std::fs::read_to_string(repo().join("tests/fixtures/challenges.toml"))?;
    assert_eq!(
        packed, course,
        "the course's configuration is the one packed"
    );
    Ok(())
}

fn run_autograder() -> Result<(), Failed> {
    // Gradescope's layout in a temporary directory; the submission is a lone lib.rs.
    let root = tempfile::tempdir()?;
    let submission = root.path().join("submission");
    std::fs::create_dir_all(&submission)?;
    std::fs::copy(
        repo().join("tests/fixtures/rank-count-deadlock/src/lib.rs"),
        submission.join("lib.rs"),
    )?;
    let out = run(autograder(root.path()), Duration::from_secs(600));
    let results_path = root.path().join("results/results.json");
    let text = std::fs::read_to_string(&results_path).map_err(|e| {
        format!(
            "no results.json ({e}); exit {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    assert_eq!(out.status.code(), Some(0), "run_autograder always exits 0");
    let results: Value = serde_json::from_str(&text)?;
    let statuses: Vec<&str> = results["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["passed", "failed", "passed"], "{text}");
    // part1 and part3 (1 + 3) and part 2's credit for its 2-rank runs (1 of 2).
    assert_eq!(results["score"].as_f64(), Some(5.0), "{text}");

    // Cargo.toml and lib.rs side by side: graded as the crate it means.
    std::fs::copy(
        repo().join("tests/fixtures/rank-count-deadlock/Cargo.toml"),
        submission.join("Cargo.toml"),
    )?;
    let out = run(autograder(root.path()), Duration::from_secs(600));
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&results_path)?;
    let results: Value = serde_json::from_str(&text)?;
    assert_eq!(results["score"].as_f64(), Some(5.0), "{text}");
    assert_eq!(results["extra_data"]["seed"], "7", "{text}");

    // Regression (a student-fixable upload was the grader's error, status 2, score 0 with
    // "course staff can see why"): a workspace of two crates, and an upload with no crate at
    // all, are graded build errors that say what to upload.
    std::fs::remove_file(submission.join("lib.rs"))?;
    std::fs::write(
        submission.join("Cargo.toml"),
        "[workspace]\nmembers = [\"a\", \"b\"]\n",
    )?;
    for member in ["a", "b"] {
        std::fs::create_dir_all(submission.join(member).join("src"))?;
        std::fs::write(
            submission.join(member).join("Cargo.toml"),
            format!("[package]\nname = \"{member}\"\nversion = \"0.1.0\"\n"),
        )?;
        std::fs::write(submission.join(member).join("src/lib.rs"), "")?;
    }
    for (layout, why) in [
        ("workspace", "cargo workspace"),
        ("nothing", "no Cargo.toml"),
    ] {
        if layout == "nothing" {
            std::fs::remove_dir_all(&submission)?;
            std::fs::create_dir_all(&submission)?;
        }
        let out = run(autograder(root.path()), Duration::from_secs(120));
        assert_eq!(out.status.code(), Some(0));
        let text = std::fs::read_to_string(&results_path)?;
        let results: Value = serde_json::from_str(&text)?;
        assert_eq!(results["score"], 0.0, "{layout}: {text}");
        let tests = results["tests"].as_array().unwrap();
        assert_eq!(tests.len(), 3, "{layout}: every part graded: {text}");
        for test in tests {
            assert_eq!(test["status"], "failed");
            let output = test["output"].as_str().unwrap();
            assert!(output.contains("(build-error)"), "{layout}: {output}");
            assert!(output.contains(why), "{layout}: {output}");
            assert!(output.contains("Upload your crate"), "{layout}: {output}");
            assert!(
                !output.contains("/autograder")
                    && !output.contains(&root.path().display().to_string()),
                "{layout}: the grader's paths stay out: {output}"
            );
        }
    }
    Ok(())
}

fn autograder(root: &Path) -> Command {
    let mut cmd = Command::new(repo().join("gradescope/run_autograder"));
    cmd.env("AUTOGRADER_ROOT", root)
        .env("MPI_GRADE", env!("CARGO_BIN_EXE_mpi-grade"))
        .env(
            "MPI_GRADE_CONFIG",
            repo().join("tests/fixtures/challenges.toml"),
        )
        .env("MPI_GRADE_ARGS", "--no-compare --seed 7")
        .env("MPI_GRADE_CACHE", cache_dir())
        .env(TEST_MARKER_VAR, marker())
        .current_dir(root)
        .stdin(std::process::Stdio::null());
    cmd
}
