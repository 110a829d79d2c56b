//! End-to-end grading under real Open MPI: the real `mpi-grade` binary grades the fixture
//! crates in `tests/fixtures/` (and the bundled solutions and template), and every verdict is
//! checked against `tests/fixtures/expected.toml`. After all of them, no process any of them
//! started may be left.
//!
//! A custom harness (libtest-mimic) runs the trials one at a time under the workspace's MPI
//! lock, and checks for leftovers once every trial has run.

#[path = "support/mod.rs"]
mod support;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use support::*;

const GRADE_LIMIT: Duration = Duration::from_secs(600);

fn main() {
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let _lock = mpi_lock();
    // Every fixture on every implementation, against the same table: the verdicts must agree.
    let mut trials: Vec<Trial> = Vec::new();
    for mpi in IMPLEMENTATIONS {
        for (name, expected) in expectations() {
            trials.push(Trial::test(format!("{mpi}::fixture::{name}"), move || {
                check_fixture(&name, &expected, mpi)
            }));
        }
    }
    trials.extend([
        Trial::test(
            "reference_passes_the_full_default_grade",
            reference_passes_the_full_default_grade,
        ),
        Trial::test(
            "json_goes_to_stdout_with_a_dash",
            json_goes_to_stdout_with_a_dash,
        ),
        Trial::test(
            "new_writes_a_starter_that_grades_as_not_implemented",
            new_writes_a_starter,
        ),
        Trial::test(
            "new_python_writes_a_starter_that_check_explains",
            new_python_writes_a_starter,
        ),
        Trial::test(
            "check_grades_the_tutorials_part_files_where_they_are",
            check_grades_the_tutorial_shape,
        ),
        Trial::test(
            "a_malformed_config_is_exit_2_with_line_and_column",
            malformed_config,
        ),
        Trial::test("a_directory_that_is_not_a_crate_is_exit_2", not_a_crate),
        Trial::test("a_workspace_is_exit_2", a_workspace),
        Trial::test("an_unknown_part_is_exit_2", unknown_part),
        Trial::test("ctrl_c_stops_the_launch_and_still_reports", || {
            interrupt(libc::SIGINT)
        }),
        Trial::test("sigterm_stops_the_launch_and_still_reports", || {
            interrupt(libc::SIGTERM)
        }),
        Trial::test("a_crate_without_a_library_is_exit_2", no_library),
        Trial::test(
            "a_negative_limit_is_exit_2_with_line_and_column",
            negative_limit,
        ),
        Trial::test(
            "a_missing_mpi_is_exit_2_with_the_install_command",
            missing_mpi,
        ),
        Trial::test(
            "a_missing_python_is_exit_2_with_the_install_command",
            missing_python,
        ),
        Trial::test("dot_writes_the_deadlock_graph", dot_graph),
        Trial::test(
            "compare_shows_ratios_against_every_baseline",
            compare_reference,
        ),
        Trial::test("dry_run_prints_the_launch_command_lines", dry_run),
        Trial::test(
            "a_correct_part_slower_than_its_target_is_too_slow",
            too_slow,
        ),
        Trial::test(
            "a_batch_writes_the_gradebook_and_a_report_per_submission",
            batch_gradebook,
        ),
        Trial::test(
            "gradescope_and_classroom_results_come_from_the_grade_flags",
            course_formats,
        ),
        Trial::test(
            "check_explains_a_failure_to_the_student_in_their_crate",
            check_explains,
        ),
        Trial::test(
            "a_batch_killed_midway_keeps_what_it_graded",
            batch_killed_midway,
        ),
        Trial::test(
            "a_hang_met_alone_is_released_and_waited_out_with_the_full_limit",
            released_hang,
        ),
        Trial::test(
            "a_second_grade_of_the_same_bytes_copies_the_driver_and_reads_the_same_lines",
            memoized_build,
        ),
    ]);
    let conclusion = libtest_mimic::run(&args, trials);
    conclude(conclusion);
}

/// One fixture's row of `expected.toml`.
#[derive(Debug, Clone, serde::Deserialize)]
struct Expected {
    #[serde(rename = "crate")]
    crate_dir: Option<String>,
    exit: i32,
    /// The report's total points, when given.
    points: Option<f64>,
    #[serde(default)]
    mentions: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    runs: BTreeMap<String, Vec<String>>,
    #[serde(flatten)]
    parts: BTreeMap<String, String>,
}

/// The Rust fixtures' table, and the Python fixtures' (`tests/fixtures/python/expected.toml`,
/// named `python/<name>`), graded with the same configuration.
fn expectations() -> BTreeMap<String, Expected> {
    let text = std::fs::read_to_string(repo().join("tests/fixtures/expected.toml")).unwrap();
    let mut all: BTreeMap<String, Expected> = toml::from_str(&text).expect("expected.toml parses");
    let text = std::fs::read_to_string(repo().join("tests/fixtures/python/expected.toml")).unwrap();
    let python: BTreeMap<String, Expected> =
        toml::from_str(&text).expect("python/expected.toml parses");
    for (name, mut expected) in python {
        expected
            .crate_dir
            .get_or_insert(format!("tests/fixtures/python/{name}"));
        all.insert(format!("python/{name}"), expected);
    }
    all
}

/// Grades `crate_dir` with the test matrix, returning the exit code and the JSON report.
fn grade(crate_dir: &str, config: &str, extra: &[&str]) -> Result<(i32, Value, String), Failed> {
    let json = tempfile::NamedTempFile::new().unwrap();
    let json_path = json.path().to_str().unwrap().to_string();
    let mut args = vec![
        "grade", crate_dir, "--config", config, "--seed", "1", "--json", &json_path, "--color",
        "never", "-q",
    ];
    args.extend_from_slice(extra);
    let out = run(mpi_grade(&args), GRADE_LIMIT);
    let human = String::from_utf8_lossy(&out.stdout).into_owned();
    let code = out.status.code().unwrap_or(-1);
    let text = std::fs::read_to_string(&json_path).map_err(|e| {
        format!(
            "no JSON report ({e}); exit {code}\nstdout:\n{human}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let report: Value =
        serde_json::from_str(&text).map_err(|e| format!("bad JSON report: {e}\n{text}"))?;
    // Every report a test reads is also checked against the documented schema.
    let departures = schema_errors(&report);
    if !departures.is_empty() {
        return Err(format!(
            "the JSON report departs from docs/report.schema.json:\n{}",
            departures.join("\n")
        )
        .into());
    }
    Ok((code, report, human))
}

fn check_fixture(name: &str, expected: &Expected, mpi: &str) -> Result<(), Failed> {
    let crate_dir = expected
        .crate_dir
        .clone()
        .unwrap_or_else(|| format!("tests/fixtures/{name}"));
    let (code, report, human) = grade(
        &crate_dir,
        "tests/fixtures/challenges.toml",
        &["--mpi", mpi],
    )?;
    if report["mpi"]["implementation"] != implementation_name(mpi) {
        return Err(format!("graded with {}, not {mpi}", report["mpi"]["implementation"]).into());
    }
    let context = || format!("\n--- report of {name} ---\n{human}");
    let mut problems = Vec::new();
    if code != expected.exit {
        problems.push(format!("exit code {code}, expected {}", expected.exit));
    }
    if let Some(points) = expected.points {
        if report["points"].as_f64() != Some(points) {
            problems.push(format!("{} points, expected {points}", report["points"]));
        }
    }
    for (part, want) in &expected.parts {
        let Some(p) = part_of(&report, part) else {
            problems.push(format!("{part}: missing from the report"));
            continue;
        };
        let got = p["failure"].as_str().unwrap_or("pass");
        if got != want {
            problems.push(format!("{part}: {got}, expected {want} ({})", p["summary"]));
        }
        let passed = p["passed"].as_bool().unwrap();
        if passed != (want == "pass") {
            problems.push(format!("{part}: passed = {passed} but failure = {got}"));
        }
    }
    for (part, needles) in &expected.mentions {
        let p = part_of(&report, part).ok_or(format!("{part} missing"))?;
        let text = format!("{} {}", p["summary"], p["details"].as_str().unwrap_or(""));
        for needle in needles {
            if !text.contains(needle.as_str()) {
                problems.push(format!(
                    "{part}: summary does not mention {needle:?}: {text}"
                ));
            }
        }
    }
    for (part, patterns) in &expected.runs {
        let p = part_of(&report, part).ok_or(format!("{part} missing"))?;
        for pattern in patterns {
            if let Err(e) = check_runs(p, pattern) {
                problems.push(format!("{part}: {e}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}{}", problems.join("\n"), context()).into())
    }
}

/// A rank busy outside MPI in a launch that has the machine alone: with a hang limit of 3 s (over
/// twice the 1 s release time; the fixtures' 2 s limit has no release) the 2-rank launch is
/// released once part 3's first cell idles, and part 3 is waited out in the second phase with
/// the full limit at every rank count. The verdict and its words are the unreleased ones; the
/// schedule shows in the launch count: 3 first-phase launches, 3 waits, and part 1's 4 (its
/// deadlock search at 2 ranks, then its zero-buffer cell at 2, 3 and 4 ranks), where without
/// the release the 2-rank hang settles in the first phase and there are 9 (graded so in
/// `fixture::spin-outside-mpi`).
fn released_hang() -> Result<(), Failed> {
    let config = tempfile::NamedTempFile::new().unwrap();
    let text = std::fs::read_to_string(repo().join("tests/fixtures/challenges.toml")).unwrap();
    assert!(text.contains("\nhang_seconds = 2\n"));
    std::fs::write(
        config.path(),
        text.replace("\nhang_seconds = 2\n", "\nhang_seconds = 3\n"),
    )
    .unwrap();
    let config = config.path().to_str().unwrap();
    let (code, report, human) = grade("tests/fixtures/spin-outside-mpi", config, &[])?;
    let part3 = part_of(&report, "part3").ok_or("part3 missing")?;
    let summary = part3["summary"].as_str().unwrap_or("");
    let mut problems = Vec::new();
    if code != 1 || part3["failure"] != "hang" {
        problems.push(format!("exit {code}, part3 {}", part3["failure"]));
    }
    for needle in [
        "running outside MPI for 3.0 s",
        "fails at 3 rank counts: 2, 3, 4",
    ] {
        if !summary.contains(needle) {
            problems.push(format!("part3 does not mention {needle:?}: {summary}"));
        }
    }
    for pattern in ["2:1:hang", "3:1:hang", "4:1:hang"] {
        if let Err(e) = check_runs(part3, pattern) {
            problems.push(e);
        }
    }
    if report["launches"] != 10 {
        problems.push(format!("{} launches, expected 10", report["launches"]));
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(format!("{}\n{human}", problems.join("\n")).into()),
    }
}

/// Grades a copy of the reference solution twice, then once more with one byte added: the
/// second grade copies the first one's driver (the report says `memoized`: cargo did not
/// run), with the same verdicts and the same source lines in its deadlock diagnoses, although
/// the first grade's copy of the submission, which the driver's line tables name, is gone; the
/// third builds again.
fn memoized_build() -> Result<(), Failed> {
    let work = tempfile::tempdir_in(tmp()).unwrap();
    let sub = work.path().join("reference");
    std::fs::create_dir_all(sub.join("src")).unwrap();
    let from = repo().join("solutions/reference");
    std::fs::copy(from.join("Cargo.toml"), sub.join("Cargo.toml")).unwrap();
    // Bytes no earlier run of the suite graded: the first grade must build.
    let nonce = format!(
        "\n// memo test {} {:?}\n",
        std::process::id(),
        std::time::SystemTime::now()
    );
    let lib = std::fs::read_to_string(from.join("src/lib.rs")).unwrap() + &nonce;
    std::fs::write(sub.join("src/lib.rs"), &lib).unwrap();
    let sub_str = sub.to_str().unwrap();
    let config = "tests/fixtures/challenges.toml";
    let locations = |report: &Value| -> Vec<String> {
        let mut found = Vec::new();
        collect_locations(report, &mut found);
        found
    };
    let verdicts = |report: &Value| -> Vec<(String, String, String)> {
        report["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let field = |k: &str| p[k].to_string();
                (field("name"), field("failure"), field("summary"))
            })
            .collect()
    };
    let (first_code, first, human) = grade(sub_str, config, &[])?;
    let (second_code, second, _) = grade(sub_str, config, &[])?;
    std::fs::write(sub.join("src/lib.rs"), lib + " ").unwrap();
    let (third_code, third, _) = grade(sub_str, config, &[])?;
    let mut problems = Vec::new();
    let memoized: Vec<&Value> = [&first, &second, &third]
        .iter()
        .map(|r| &r["build"]["memoized"])
        .collect();
    if memoized != [&Value::Bool(false), &Value::Bool(true), &Value::Bool(false)] {
        problems.push(format!(
            "memoized: {memoized:?}, expected false, true, false"
        ));
    }
    if (first_code, second_code, third_code) != (0, 0, 0) {
        problems.push(format!("exits {first_code}, {second_code}, {third_code}"));
    }
    if verdicts(&first) != verdicts(&second) || verdicts(&first) != verdicts(&third) {
        problems.push(format!(
            "verdicts differ:\n{:?}\n{:?}\n{:?}",
            verdicts(&first),
            verdicts(&second),
            verdicts(&third)
        ));
    }
    let lines = locations(&first);
    if lines.is_empty() || !lines.iter().all(|l| l.starts_with("src/lib.rs:")) {
        problems.push(format!("the first grade's locations: {lines:?}"));
    }
    if locations(&second) != lines {
        problems.push(format!(
            "the memoized driver's locations {:?}, the built one's {lines:?}",
            locations(&second)
        ));
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(format!("{}\n{human}", problems.join("\n")).into()),
    }
}

/// Every `location` of a rank in the report's diagnoses, sorted.
fn collect_locations(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("location", Value::String(l)) => found.push(l.clone()),
                    _ => collect_locations(v, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_locations(v, found)),
        _ => {}
    }
    found.sort();
}

fn part_of<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    report["parts"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
}

/// `"ranks:size:outcome"` (standard mode) or `"ranks:size:mode:outcome"`: at least one run
/// matches, and all that match have the outcome.
fn check_runs(part: &Value, pattern: &str) -> Result<(), String> {
    let fields: Vec<&str> = pattern.split(':').collect();
    let (ranks, size, mode, outcome) = match fields[..] {
        [ranks, size, outcome] => (ranks, size, "standard", outcome),
        [ranks, size, mode, outcome] => (ranks, size, mode, outcome),
        _ => return Err(format!("bad pattern {pattern}")),
    };
    let matches = |field: &str, value: &Value| {
        field == "*" || value.as_u64().map(|v| v.to_string()) == Some(field.to_string())
    };
    let runs: Vec<&Value> = part["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["mode"] == mode && matches(ranks, &r["ranks"]) && matches(size, &r["scaling_factor"])
        })
        .collect();
    if runs.is_empty() {
        return Err(format!("no run matches {pattern}"));
    }
    for r in runs {
        if r["outcome"] != outcome {
            return Err(format!(
                "{pattern}: run {} ranks, {} elements, {} was {}",
                r["ranks"], r["scaling_factor"], r["mode"], r["outcome"]
            ));
        }
    }
    Ok(())
}

fn reference_passes_the_full_default_grade() -> Result<(), Failed> {
    let (code, report, human) = grade("solutions/reference", "challenges.toml", &[])?;
    if code != 0 {
        return Err(format!("exit {code}\n{human}").into());
    }
    assert_eq!(report["format_version"], 1);
    assert_eq!(report["seed"], 1);
    assert_eq!(report["mpi"]["implementation"], "Open MPI");
    assert_eq!(report["traced"], true);
    for part in report["parts"].as_array().unwrap() {
        // 5 rank counts x (6 sizes + zero-buffer), every cell accounted for.
        assert_eq!(
            part["runs"].as_array().unwrap().len(),
            35,
            "{}",
            part["name"]
        );
        let calls = part["calls"].as_object().unwrap();
        assert!(!calls.is_empty(), "traced calls of {}", part["name"]);
    }
    // Part 1 deadlocks as a deadlock (not a time-out), explained with the source line.
    let part1 = part_of(&report, "part1").unwrap();
    let runs = part1["runs"].as_array().unwrap();
    let deadlock = runs.iter().find(|r| r["outcome"] == "deadlock").unwrap();
    let diagnosis = &deadlock["diagnosis"];
    assert_eq!(diagnosis["kind"], "deadlock");
    let explanation = diagnosis["explanation"].as_str().unwrap();
    assert!(explanation.contains("at src/lib.rs:"), "{diagnosis}");
    assert!(!diagnosis["edges"].as_array().unwrap().is_empty());
    // Part 3 sends with MPI_Isend: n*n messages per run.
    let part3 = part_of(&report, "part3").unwrap();
    let run = part3["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ranks"] == 4 && r["scaling_factor"] == 10 && r["mode"] == "standard")
        .unwrap();
    assert_eq!(run["messages"], 16);
    assert_eq!(run["bytes"], 16 * 10 * 8);
    assert_eq!(run["calls"]["MPI_Isend"]["calls"], 16);
    Ok(())
}

fn json_goes_to_stdout_with_a_dash() -> Result<(), Failed> {
    let out = run(
        mpi_grade(&[
            "grade",
            "tests/fixtures/wrong-length",
            "--config",
            "tests/fixtures/challenges.toml",
            "--part",
            "3",
            "--json",
            "-",
            "-q",
        ]),
        GRADE_LIMIT,
    );
    let report: Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("stdout is not JSON: {e}"))?;
    assert_eq!(out.status.code(), Some(1));
    let parts = report["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 1, "--part 3 grades one part");
    assert_eq!(parts[0]["name"], "part3");
    let table = String::from_utf8_lossy(&out.stderr);
    assert!(table.contains("part3"), "the table goes to stderr: {table}");
    Ok(())
}

fn new_writes_a_starter() -> Result<(), Failed> {
    let dir = tempfile::tempdir_in(tmp()).unwrap();
    let target = dir.path().join("my-alltoall");
    let out = run(
        mpi_grade(&["new", target.to_str().unwrap()]),
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, report, _) = grade(
        target.to_str().unwrap(),
        "tests/fixtures/challenges.toml",
        &["--part", "2"],
    )?;
    assert_eq!(code, 1);
    assert_eq!(
        part_of(&report, "part2").unwrap()["failure"],
        "not-implemented"
    );
    Ok(())
}

/// `new --python` writes the Python starter, graded not-implemented with the learner's advice.
fn new_python_writes_a_starter() -> Result<(), Failed> {
    let dir = tempfile::tempdir_in(tmp()).unwrap();
    let target = dir.path().join("my-alltoall");
    let out = run(
        mpi_grade(&["new", "--python", target.to_str().unwrap()]),
        Duration::from_secs(30),
    );
    let said = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !said.contains("mpi-grade check") {
        return Err(format!(
            "new --python: {said}{}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let config = repo().join("tests/fixtures/challenges.toml");
    let mut cmd = mpi_grade(&[
        "check",
        "--config",
        config.to_str().unwrap(),
        "--part",
        "3",
        "--color",
        "never",
        "-q",
    ]);
    cmd.current_dir(&target);
    let output = run(cmd, GRADE_LIMIT);
    let stdout = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "not-implemented",
        "alltoall.py:",
        "The function still raises NotImplementedError.",
    ] {
        if !stdout.contains(needle) {
            return Err(format!("check of the starter does not say {needle:?}:\n{stdout}").into());
        }
    }
    if output.status.code() != Some(1) {
        return Err(format!("exit {:?}, expected 1:\n{stdout}", output.status).into());
    }
    Ok(())
}

/// A learner's folder in the tutorial's shape (`part1.py`, `part2.py`, `part3.py`, each with
/// `alltoall`), checked where it is: every part graded, and all pass.
fn check_grades_the_tutorial_shape() -> Result<(), Failed> {
    let dir = tempfile::tempdir_in(tmp()).unwrap();
    for part in ["part1", "part2", "part3"] {
        let from = repo().join(format!("tests/fixtures/python/tutorial-shape/{part}.py"));
        std::fs::copy(from, dir.path().join(format!("{part}.py"))).unwrap();
    }
    // The course's challenges.toml next to the files is the one `check` reads.
    std::fs::copy(
        repo().join("tests/fixtures/challenges.toml"),
        dir.path().join("challenges.toml"),
    )
    .unwrap();
    let mut cmd = mpi_grade(&["check", "--color", "never", "-q"]);
    cmd.current_dir(dir.path());
    let output = run(cmd, GRADE_LIMIT);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let graded = ["part1", "part2", "part3"].iter().all(|p| {
        stdout
            .lines()
            .any(|l| l.starts_with(p) && l.contains("PASS"))
    });
    if output.status.code() != Some(0) || !graded || !stdout.contains("score: 6/6") {
        return Err(format!(
            "exit {:?}, expected every part to pass:\n{stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(())
}

fn expect_exit_2(args: &[&str], needles: &[&str]) -> Result<(), Failed> {
    let out = run(mpi_grade(args), Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(2) {
        return Err(format!("exit {:?}, expected 2: {stderr}", out.status.code()).into());
    }
    for needle in needles {
        if !stderr.contains(needle) {
            return Err(format!("stderr does not mention {needle:?}: {stderr}").into());
        }
    }
    Ok(())
}

fn malformed_config() -> Result<(), Failed> {
    let dir = tempfile::tempdir_in(tmp()).unwrap();
    let config = dir.path().join("challenges.toml");
    std::fs::write(
        &config,
        "format_version = 1\n[[challenge]]\nname = \"a\"\nkind = \"alltoall\"\nranks = [1, 2]\nscaling_factors = [1, 2]\n[[challenge.part]]\nname = \"part1\"\nexpect = \"complete\"\npoints = 1\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    expect_exit_2(
        &["grade", "solutions/reference", "--config", config],
        &["challenges.toml:5:9", "rank count 1"],
    )
}

fn not_a_crate() -> Result<(), Failed> {
    expect_exit_2(&["grade", "tests"], &["not a Rust crate"])
}

fn a_workspace() -> Result<(), Failed> {
    expect_exit_2(&["grade", "."], &["workspace"])
}

fn unknown_part() -> Result<(), Failed> {
    expect_exit_2(
        &["grade", "solutions/reference", "--part", "9"],
        &["no part `9`"],
    )
}

fn no_library() -> Result<(), Failed> {
    let dir = tempfile::tempdir_in(tmp()).unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"binary-only\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").unwrap();
    expect_exit_2(
        &["grade", dir.path().to_str().unwrap()],
        &["no library target"],
    )
}

fn negative_limit() -> Result<(), Failed> {
    let dir = tempfile::tempdir_in(tmp()).unwrap();
    let config = dir.path().join("challenges.toml");
    let text = std::fs::read_to_string(repo().join("tests/fixtures/challenges.toml")).unwrap();
    let text = text.replace(
        "[challenge.limits]\n",
        "[challenge.sandbox.ranks]\nmemory_mb = -512\n\n[challenge.limits]\n",
    );
    let line = text
        .lines()
        .position(|l| l.starts_with("memory_mb"))
        .unwrap()
        + 1;
    std::fs::write(&config, text).unwrap();
    expect_exit_2(
        &[
            "grade",
            "solutions/reference",
            "--config",
            config.to_str().unwrap(),
        ],
        &[
            &format!("challenges.toml:{line}:13"),
            "sandbox.ranks.memory_mb must be a positive integer",
        ],
    )
}

/// No MPI on `PATH`: the grader says so, with the command that installs it.
fn missing_mpi() -> Result<(), Failed> {
    let empty = tempfile::tempdir_in(tmp()).unwrap();
    for mpi in IMPLEMENTATIONS {
        let mut cmd = mpi_grade(&["grade", "solutions/reference", "--mpi", mpi]);
        cmd.env("PATH", empty.path());
        let out = run(cmd, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(2) || !stderr.contains("install it with: apt-get install") {
            return Err(format!("{mpi}: exit {:?}: {stderr}", out.status.code()).into());
        }
    }
    Ok(())
}

/// Without the grader's Python for an implementation, a Python grade is exit 2 with the command
/// that installs it (the environment variable points at nothing, as on a machine without it).
fn missing_python() -> Result<(), Failed> {
    for mpi in IMPLEMENTATIONS {
        let var = format!("MPI_GRADE_PYTHON_{}", mpi.to_uppercase());
        let mut cmd = mpi_grade(&["grade", "solutions/python/reference", "--mpi", mpi]);
        cmd.env(&var, "/nonexistent/bin/python");
        let out = run(cmd, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(2) || !stderr.contains("run scripts/install-python") {
            return Err(format!("{mpi}: exit {:?}: {stderr}", out.status.code()).into());
        }
    }
    Ok(())
}

/// SIGINT or SIGTERM to the grader in the middle of a grade: the running launch is stopped,
/// every process of it killed, and the reports still say what finished and what was not run.
fn interrupt(signal: i32) -> Result<(), Failed> {
    // Warm the cache first, so that the interrupt lands in a launch, not in the build.
    grade(
        "solutions/reference",
        "tests/fixtures/challenges.toml",
        &["--part", "2"],
    )?;
    let json = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = mpi_grade(&[
        "grade",
        "tests/fixtures/slow-correct",
        "--config",
        "tests/fixtures/challenges.toml",
        "--json",
        json.path().to_str().unwrap(),
        "-q",
        "--color",
        "never",
    ]);
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, signal) };
    let status = wait_timeout::ChildExt::wait_timeout(&mut child, Duration::from_secs(30))
        .unwrap()
        .ok_or(format!(
            "the grader did not stop within 30 s of signal {signal}"
        ))?;
    if status.code() != Some(1) {
        return Err(format!("exit {status:?}, expected 1 (parts not passed)").into());
    }
    let report: Value = serde_json::from_str(&std::fs::read_to_string(json.path()).unwrap())
        .map_err(|e| format!("no JSON report after the interrupt: {e}"))?;
    let runs: Vec<&Value> = report["parts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["runs"].as_array().unwrap())
        .collect();
    let interrupted = runs
        .iter()
        .filter(|r| r["detail"] == "not run: the grade was interrupted")
        .count();
    let finished = runs.iter().filter(|r| r["outcome"] == "pass").count();
    if interrupted == 0 || finished == 0 {
        return Err(format!("expected finished and interrupted runs, got {finished} passed, {interrupted} interrupted").into());
    }
    let left = leftovers();
    if !left.is_empty() {
        return Err(format!("left behind: {}", left.join(", ")).into());
    }
    Ok(())
}

fn dot_graph() -> Result<(), Failed> {
    let dot = tempfile::NamedTempFile::new().unwrap();
    let path = dot.path().to_str().unwrap();
    let (code, _, _) = grade(
        "tests/fixtures/rank-count-deadlock",
        "tests/fixtures/challenges.toml",
        &["--part", "2", "--dot", path],
    )?;
    assert_eq!(code, 1);
    let graph = std::fs::read_to_string(path).unwrap();
    assert!(graph.starts_with("digraph waits {"), "{graph}");
    assert!(
        graph.contains("label=\"part2: 3 ranks, 10 000 elements per block\""),
        "{graph}"
    );
    assert!(
        graph.contains("label=\"part2: 3 ranks, 1 element per block in zero-buffer mode\""),
        "{graph}"
    );
    // The 3-rank deadlock's cycle: ranks 0 and 2 both send first, 80 000 B each way.
    assert!(
        graph.contains("_0 -> r1_2 [label=\"send tag 0 80000 B\"]"),
        "{graph}"
    );
    Ok(())
}

fn compare_reference() -> Result<(), Failed> {
    for mpi in IMPLEMENTATIONS {
        let json = tempfile::NamedTempFile::new().unwrap();
        let path = json.path().to_str().unwrap();
        let args = [
            "compare",
            "solutions/reference",
            "--config",
            "tests/fixtures/challenges.toml",
            "--mpi",
            mpi,
            "--repetitions",
            "2",
            "--json",
            path,
            "--color",
            "never",
            "-q",
        ];
        let out = run(mpi_grade(&args), GRADE_LIMIT);
        let table = String::from_utf8_lossy(&out.stdout);
        if out.status.code() != Some(0) {
            return Err(format!(
                "{mpi}: exit {:?}\n{table}{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        let report: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let comparison = &report["comparison"];
        assert_eq!(comparison["repetitions"], 2);
        let rows = comparison["rows"].as_array().unwrap();
        // Parts 2 and 3 (those that complete) at 3 rank counts and 3 sizes.
        assert_eq!(rows.len(), 2 * 3 * 3, "{mpi}: {comparison}");
        for row in rows {
            let against: Vec<&str> = row["against"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["baseline"].as_str().unwrap())
                .collect();
            // The Python reference's parts too: scripts/install-deps installs the grader's
            // Python wherever this suite runs.
            assert_eq!(
                against,
                [
                    "reference-part2",
                    "reference-part3",
                    "MPI_Alltoall",
                    "python-reference-part2",
                    "python-reference-part3"
                ],
                "{row}"
            );
            assert!(row["seconds"].as_f64().unwrap() > 0.0);
            assert!(row["against"][2]["ratio"].as_f64().unwrap() > 0.0);
        }
        // The reference's part 3 sends n*n messages; part 2 keeps its own block: n*(n-1).
        let at = |part: &str| {
            rows.iter()
                .find(|r| r["part"] == part && r["ranks"] == 3)
                .unwrap()
        };
        assert_eq!(at("part3")["messages"], 9);
        assert_eq!(at("part2")["messages"], 6);
        for needle in [
            "part2 / MPI_Alltoall",
            "part3 at 10 000 elements",
            "×reference-part2",
            "×MPI_Alltoall",
        ] {
            assert!(table.contains(needle), "{mpi}: no {needle:?} in\n{table}");
        }
    }
    Ok(())
}

fn dry_run() -> Result<(), Failed> {
    let out = run(
        mpi_grade(&[
            "grade",
            "solutions/reference",
            "--dry-run",
            "--mpi",
            "mpich",
            "--config",
            "tests/fixtures/challenges.toml",
        ]),
        Duration::from_secs(60),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("against MPICH"), "{text}");
    for ranks in [2, 3, 4] {
        assert!(
            text.contains(&format!("{ranks} ranks: "))
                && text.contains(&format!("mpiexec.mpich -n {ranks} ")),
            "{text}"
        );
    }
    assert!(
        text.contains("-genv LD_PRELOAD <scratch>/libmpi_grade_tracer.so"),
        "{text}"
    );
    assert!(leftovers().is_empty(), "a dry run starts nothing");
    Ok(())
}

/// A class directory of symbolic links to fixtures (and one directory that is not a crate).
fn class_of(submissions: &[(&str, &str)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for (name, target) in submissions {
        let link = root.path().join(name);
        if target.is_empty() {
            std::fs::create_dir(&link).unwrap();
        } else {
            std::os::unix::fs::symlink(repo().join(target), link).unwrap();
        }
    }
    root
}

/// The gradebook's rows, as (submission, total, status, failures).
fn gradebook_rows(path: &std::path::Path) -> Vec<(String, String, String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (total, status, failures) = (column("total"), column("status"), column("failures"));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].to_string(),
                r[total].to_string(),
                r[status].to_string(),
                r[failures].to_string(),
            )
        })
        .collect()
}

fn batch_gradebook() -> Result<(), Failed> {
    let class = class_of(&[
        ("alice", "solutions/reference"),
        ("bob", "tests/fixtures/rank-count-deadlock"),
        ("carol", "tests/fixtures/compile-error"),
        ("dave", ""),
    ]);
    let out = tempfile::tempdir().unwrap();
    let book = out.path().join("gradebook.csv");
    let reports = out.path().join("reports");
    let junit = out.path().join("junit.xml");
    let cmd = mpi_grade(&[
        "grade",
        "--batch",
        class.path().to_str().unwrap(),
        "--config",
        "tests/fixtures/challenges.toml",
        "--csv",
        book.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--out",
        reports.to_str().unwrap(),
        "--build-ahead",
        "always",
        "--no-compare",
        "--color",
        "never",
    ]);
    let output = run(cmd, GRADE_LIMIT);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = format!("\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
    if output.status.code() != Some(1) {
        return Err(format!("exit {:?}, expected 1{context}", output.status).into());
    }
    let rows = gradebook_rows(&book);
    let expected = [
        ("alice", "6", "pass", ""),
        ("bob", "5", "fail", "part2: deadlock"),
        (
            "carol",
            "0",
            "fail",
            "part1: build-error; part2: build-error; part3: build-error",
        ),
        ("dave", "0", "error", "no Cargo.toml here"),
    ];
    for ((name, total, status, failures), row) in expected.iter().zip(&rows) {
        if (row.0.as_str(), row.1.as_str(), row.2.as_str()) != (*name, *total, *status)
            || !row.3.contains(failures)
        {
            return Err(format!(
                "gradebook row {row:?}, expected {name},{total},{status},..{failures}..{context}"
            )
            .into());
        }
    }
    if rows.len() != expected.len() {
        return Err(format!("{} gradebook rows, expected 4{context}", rows.len()).into());
    }
    // Each submission's JSON report agrees with the gradebook.
    for (name, total, _, _) in expected {
        let text = std::fs::read_to_string(reports.join(format!("{name}.json")))
            .map_err(|e| format!("no report for {name}: {e}"))?;
        let report: Value = serde_json::from_str(&text).unwrap();
        if report["points"].as_f64().map(|p| p.to_string()) != Some(total.to_string()) {
            return Err(format!(
                "{name}.json has {} points, the gradebook {total}",
                report["points"]
            )
            .into());
        }
        if !reports.join(format!("{name}.txt")).is_file() {
            return Err(format!("no human report for {name}").into());
        }
    }
    // The JUnit file holds a suite per submission, failures where the gradebook has them.
    let xml = std::fs::read_to_string(&junit).map_err(|e| format!("no JUnit file: {e}"))?;
    let parsed = junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes()))
        .map_err(|e| format!("junit-parser rejects the batch's XML: {e}"))?;
    let failures: Vec<u64> = parsed.suites.iter().map(|s| s.failures).collect();
    if failures != [0, 1, 3, 3] {
        return Err(
            format!("JUnit failures per suite {failures:?}, expected [0, 1, 3, 3]\n{xml}").into(),
        );
    }
    if !stdout.contains("4 submissions graded, 1 with every part passed") {
        return Err(format!("the summary does not count the submissions{context}").into());
    }
    if !stderr.contains("[2/4] bob: 5/6 points (part2 deadlock)") {
        return Err(format!("no progress line for bob{context}").into());
    }
    Ok(())
}

fn batch_killed_midway() -> Result<(), Failed> {
    let class = class_of(&[
        ("a-first", "solutions/reference"),
        ("b-slow", "tests/fixtures/slow-correct"),
        ("c-never", "solutions/reference"),
    ]);
    let out = tempfile::tempdir().unwrap();
    let book = out.path().join("gradebook.csv");
    let reports = out.path().join("reports");
    let mut cmd = mpi_grade(&[
        "grade",
        "--batch",
        class.path().to_str().unwrap(),
        "--config",
        "tests/fixtures/challenges.toml",
        "--part",
        "2",
        "--csv",
        book.to_str().unwrap(),
        "--out",
        reports.to_str().unwrap(),
        "--no-compare",
        "--color",
        "never",
    ]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    // SIGTERM once the first submission is graded and the second one runs.
    let first = reports.join("a-first.json");
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while !first.is_file() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = wait_timeout::ChildExt::wait_timeout(&mut child, Duration::from_secs(60))
        .unwrap()
        .ok_or("the grader did not stop within 60 s of SIGTERM")?;
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    if status.code() != Some(1) {
        return Err(format!("exit {status:?}, expected 1\n{stdout}").into());
    }
    let rows = gradebook_rows(&book);
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    if names.first() != Some(&"a-first") || rows[0].1 != "2" || names.contains(&"c-never") {
        return Err(format!("gradebook after the kill: {rows:?}\n{stdout}").into());
    }
    if !stdout.contains("interrupted") {
        return Err(
            format!("the summary does not say the batch was interrupted:\n{stdout}").into(),
        );
    }
    let left = leftovers();
    if !left.is_empty() {
        return Err(format!("left behind: {}", left.join(", ")).into());
    }
    Ok(())
}

fn check_explains() -> Result<(), Failed> {
    let config = repo().join("tests/fixtures/challenges.toml");
    let mut cmd = mpi_grade(&[
        "check",
        "--config",
        config.to_str().unwrap(),
        "--part",
        "2",
        "--color",
        "never",
        "-q",
    ]);
    // A student runs it in their own crate.
    cmd.current_dir(repo().join("tests/fixtures/buffered-part2"));
    let output = run(cmd, GRADE_LIMIT);
    let stdout = String::from_utf8_lossy(&output.stdout);
    if output.status.code() != Some(1) {
        return Err(format!("exit {:?}, expected 1:\n{stdout}", output.status).into());
    }
    for needle in [
        "part2: what this means",
        "only because this MPI buffers small messages",
        "in the tutorial: \"Blocking and non-blocking calls\"",
        "at src/lib.rs:",
    ] {
        if !stdout.contains(needle) {
            return Err(format!("check does not say {needle:?}:\n{stdout}").into());
        }
    }
    // A part the course hides is not checked.
    let hidden = tempfile::NamedTempFile::new().unwrap();
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "name = \"part2\"\n",
        "name = \"part2\"\nvisibility = \"hidden\"\n",
    );
    std::fs::write(hidden.path(), text).unwrap();
    let mut cmd = mpi_grade(&[
        "check",
        "--config",
        hidden.path().to_str().unwrap(),
        "--color",
        "never",
        "-q",
    ]);
    cmd.current_dir(repo().join("tests/fixtures/buffered-part2"));
    let output = run(cmd, GRADE_LIMIT);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let shows_part2 = stdout.lines().any(|l| l.starts_with("part2"));
    if shows_part2 || !stdout.contains("part3") || !stderr.contains("1 of the 3 parts are hidden") {
        return Err(format!("hidden part2 shows:\n{stdout}\n{stderr}").into());
    }
    Ok(())
}

fn course_formats() -> Result<(), Failed> {
    let out = tempfile::tempdir().unwrap();
    let github_output = out.path().join("github_output");
    std::fs::write(&github_output, "earlier=1\n").unwrap();
    let results_dir = format!("{}/", out.path().join("results").display());
    let mut cmd = mpi_grade(&[
        "grade",
        "tests/fixtures/rank-count-deadlock",
        "--config",
        "tests/fixtures/challenges.toml",
        "--part",
        "2",
        "--no-compare",
        "--gradescope",
        &results_dir,
        "--classroom",
        "--color",
        "never",
        "-q",
    ]);
    cmd.env("GITHUB_OUTPUT", &github_output);
    let output = run(cmd, GRADE_LIMIT);
    if output.status.code() != Some(1) {
        return Err(format!("exit {:?}, expected 1", output.status).into());
    }
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("results/results.json"))
            .map_err(|e| format!("no results.json in the directory given: {e}"))?,
    )?;
    if results["score"].as_f64() != Some(1.0)
        || results["tests"][0]["max_score"].as_f64() != Some(2.0)
    {
        return Err(format!("results.json: {results}").into());
    }
    let appended = std::fs::read_to_string(&github_output).unwrap();
    let line = appended
        .lines()
        .find_map(|l| l.strip_prefix("result="))
        .ok_or(format!("no result= line in GITHUB_OUTPUT: {appended}"))?;
    use base64::Engine;
    let decoded: Value =
        serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(line)?)?;
    if !appended.starts_with("earlier=1\n")
        || decoded["max_score"].as_f64() != Some(2.0)
        || decoded["status"] != "fail"
    {
        return Err(format!("GITHUB_OUTPUT: {appended}\ndecoded: {decoded}").into());
    }
    Ok(())
}

fn too_slow() -> Result<(), Failed> {
    // slow-correct's part 3 naps 40 ms or more per call; the Isend reference takes well under a
    // millisecond at these sizes. Part 3 is the file's last part: the table applies to it.
    let config = tempfile::NamedTempFile::new().unwrap();
    let text = std::fs::read_to_string(repo().join("tests/fixtures/challenges.toml")).unwrap()
        + "[challenge.part.performance]\nbaseline = \"reference-part3\"\nmax_ratio = 2\n";
    std::fs::write(config.path(), text).unwrap();
    let (code, report, human) = grade(
        "tests/fixtures/slow-correct",
        config.path().to_str().unwrap(),
        &["--part", "3"],
    )?;
    let part = part_of(&report, "part3").ok_or("part3 missing")?;
    let summary = part["summary"].as_str().unwrap_or("");
    if code != 1 || part["failure"] != "too-slow" || !summary.contains("as long as reference-part3")
    {
        return Err(format!("exit {code}, {} ({summary})\n{human}", part["failure"]).into());
    }
    Ok(())
}
