//! The catalogue end to end under real MPI: the real `mpi-grade` binary grades every exercise's
//! reference and starter, in Rust and Python, and each typical-mistake fixture, with the
//! bundled `challenges.toml`, and every verdict is checked against
//! `tests/fixtures/exercises/expected.toml`; `list`, `new --challenge` and `check --all` are run
//! as a learner would.
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

/// One row of the table.
#[derive(Debug, Clone, serde::Deserialize)]
struct Expected {
    challenge: String,
    #[serde(rename = "crate")]
    crate_dir: String,
    exit: i32,
    mpi: Option<Vec<String>>,
    parts: BTreeMap<String, String>,
    #[serde(default)]
    mentions: BTreeMap<String, Vec<String>>,
}

fn main() {
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let _lock = mpi_lock();
    let text =
        std::fs::read_to_string(repo().join("tests/fixtures/exercises/expected.toml")).unwrap();
    let table: BTreeMap<String, Expected> = toml::from_str(&text).expect("expected.toml parses");
    let mut trials = Vec::new();
    for mpi in IMPLEMENTATIONS {
        for (name, expected) in &table {
            let wanted = expected
                .mpi
                .as_ref()
                .is_none_or(|m| m.iter().any(|m| m == mpi));
            if wanted {
                let (name, expected) = (name.clone(), expected.clone());
                trials.push(Trial::test(format!("{mpi}::{name}"), move || {
                    check_row(&name, &expected, mpi)
                }));
            }
        }
    }
    trials.extend([
        Trial::test(
            "every_challenge_has_a_row_for_each_starter_and_reference",
            move || every_challenge_has_rows(&table),
        ),
        Trial::test("list_shows_the_catalogue_in_the_tutorials_order", list),
        Trial::test(
            "run_counts_the_collectives_of_a_collective_only_program",
            run_counts_collectives,
        ),
        Trial::test(
            "new_challenge_writes_the_starter_check_all_grades_the_folder",
            new_and_check_all,
        ),
    ]);
    let conclusion = libtest_mimic::run(&args, trials);
    conclude(conclusion);
}

fn check_row(name: &str, expected: &Expected, mpi: &str) -> Result<(), Failed> {
    let json = tempfile::NamedTempFile::new().unwrap();
    let json_path = json.path().to_str().unwrap().to_string();
    let args = [
        "grade",
        &expected.crate_dir,
        "--challenge",
        &expected.challenge,
        "--mpi",
        mpi,
        "--seed",
        "1",
        "--json",
        &json_path,
        "--color",
        "never",
        "-q",
    ];
    let out = run(mpi_grade(&args), GRADE_LIMIT);
    let human = String::from_utf8_lossy(&out.stdout).into_owned();
    let code = out.status.code().unwrap_or(-1);
    let text = std::fs::read_to_string(&json_path).map_err(|e| {
        format!(
            "no JSON report ({e}); exit {code}\n{human}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let report: Value = serde_json::from_str(&text).map_err(|e| format!("bad JSON: {e}"))?;
    let mut problems = schema_errors(&report);
    if report["challenge"] != expected.challenge.as_str() {
        problems.push(format!("graded as {}", report["challenge"]));
    }
    if code != expected.exit {
        problems.push(format!("exit code {code}, expected {}", expected.exit));
    }
    let parts = report["parts"].as_array().cloned().unwrap_or_default();
    if parts.len() != expected.parts.len() {
        problems.push(format!(
            "{} parts in the report, {} in the table",
            parts.len(),
            expected.parts.len()
        ));
    }
    for (part, want) in &expected.parts {
        let Some(p) = parts.iter().find(|p| p["name"] == part.as_str()) else {
            problems.push(format!("{part}: missing from the report"));
            continue;
        };
        let got = p["failure"].as_str().unwrap_or("pass");
        if got != want {
            problems.push(format!("{part}: {got}, expected {want} ({})", p["summary"]));
        }
        let summary = format!("{} {}", p["summary"], p["details"].as_str().unwrap_or(""));
        for needle in expected.mentions.get(part).into_iter().flatten() {
            if !summary.contains(needle.as_str()) {
                problems.push(format!("{part}: does not mention {needle:?}: {summary}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{name}: {}\n--- report ---\n{human}", problems.join("\n")).into())
    }
}

/// Every challenge of the bundled file but the alltoall (whose rows are in
/// tests/fixtures/expected.toml) has its four rows: Rust and Python, reference and starter.
fn every_challenge_has_rows(table: &BTreeMap<String, Expected>) -> Result<(), Failed> {
    let out = run(mpi_grade(&["list"]), Duration::from_secs(30));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut missing = Vec::new();
    for name in text.lines().filter_map(|l| l.split(' ').next()) {
        if name == "alltoall" {
            continue;
        }
        for lang in ["rust", "python"] {
            for (tree, verdict) in [("solutions", "pass"), ("templates", "not-implemented")] {
                let path = format!("{tree}/exercises/{lang}/{name}");
                let row = table
                    .values()
                    .find(|r| r.crate_dir == path && r.challenge == name);
                if row.is_none_or(|r| r.parts.values().any(|v| v != verdict)) {
                    missing.push(path);
                }
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("no row grading {}", missing.join(", ")).into())
    }
}

fn list() -> Result<(), Failed> {
    let out = run(mpi_grade(&["list"]), Duration::from_secs(30));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let names: Vec<&str> = text.lines().filter_map(|l| l.split(' ').next()).collect();
    let want = [
        "send-recv",
        "bcast-reduce",
        "gather-scatter",
        "allreduce",
        "buffers",
        "truncate",
        "isend-irecv",
        "igather-timing",
        "alltoall",
    ];
    if !out.status.success() || names != want || !text.contains("[gather and scatter]") {
        return Err(format!("mpi-grade list:\n{text}").into());
    }
    Ok(())
}

/// A learner's folder: `send-recv` written by `new --challenge` and filled with the reference,
/// `truncate` with the tutorial's mistake: `check --all` grades both and sums them up.
fn new_and_check_all() -> Result<(), Failed> {
    let folder = tempfile::tempdir().unwrap();
    let send_recv = folder.path().join("send-recv");
    let dir = send_recv.to_str().unwrap();
    let out = run(
        mpi_grade(&["new", "--challenge", "send-recv", dir]),
        Duration::from_secs(30),
    );
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() || !said.contains("mpi-grade check --challenge send-recv") {
        return Err(format!("new --challenge: {said}").into());
    }
    let starter = std::fs::read_to_string(send_recv.join("src/lib.rs")).unwrap();
    if !starter.contains("todo!(\"send_recv\")") {
        return Err(format!("not the starter:\n{starter}").into());
    }
    std::fs::copy(
        repo().join("solutions/exercises/rust/send-recv/src/lib.rs"),
        send_recv.join("src/lib.rs"),
    )
    .unwrap();
    let truncate = folder.path().join("truncate");
    std::fs::create_dir_all(truncate.join("src")).unwrap();
    for file in ["Cargo.toml", "src/lib.rs"] {
        std::fs::copy(
            repo()
                .join("tests/fixtures/exercises/truncate-int32")
                .join(file),
            truncate.join(file),
        )
        .unwrap();
    }
    std::fs::create_dir(folder.path().join("notes")).unwrap();
    let out = run(
        mpi_grade(&[
            "check",
            "--all",
            folder.path().to_str().unwrap(),
            "--mpi",
            "openmpi",
            "--color",
            "never",
            "-q",
        ]),
        GRADE_LIMIT,
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let summary = text.split("== summary ==\n").nth(1).unwrap_or_default();
    let want = "send-recv  1/1  send_recv pass\ntruncate   0/1  recv_typed call-mismatch\n\
                total: 1 of 2 points in 2 exercises\n\
                not exercises (no challenge of that name): notes\n";
    if out.status.code() != Some(1) || summary != want {
        return Err(format!(
            "check --all exited {:?}:\n{text}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

/// A program that only makes collective calls: `run` counts them (calls and bytes), so that it
/// no longer reports "0 messages" alone.
fn run_counts_collectives() -> Result<(), Failed> {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("collectives.c");
    std::fs::write(
        &source,
        "#include <mpi.h>\nint main(int argc, char **argv) {\n    long v[4] = {1, 2, 3, 4}, r[4];\n    MPI_Init(&argc, &argv);\n    MPI_Bcast(v, 4, MPI_LONG, 0, MPI_COMM_WORLD);\n    MPI_Allreduce(v, r, 4, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);\n    MPI_Finalize();\n    return 0;\n}\n",
    )
    .unwrap();
    let program = dir.path().join("collectives");
    let status = std::process::Command::new("mpicc.openmpi")
        .arg("-o")
        .arg(&program)
        .arg(&source)
        .status()?;
    if !status.success() {
        return Err("mpicc.openmpi failed".into());
    }
    let json = dir.path().join("run.json");
    let out = run(
        mpi_grade(&[
            "run",
            "--mpi",
            "openmpi",
            "-n",
            "2",
            "--json",
            json.to_str().unwrap(),
            "--",
            program.to_str().unwrap(),
        ]),
        Duration::from_secs(120),
    );
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
    // Two ranks, two collectives each; each rank contributes its 32 B to each.
    let (calls, bytes) = (&report["collectives"], &report["collective_bytes"]);
    if report["messages"] != 0 || *calls != 4 || bytes.as_u64().is_none_or(|b| b < 64) {
        return Err(format!("collectives {calls}, {bytes} B in\n{report:#}").into());
    }
    if !said.contains("0 messages, 0 B; 4 collective calls") {
        return Err(format!("run said: {said}").into());
    }
    Ok(())
}
