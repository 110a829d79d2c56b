//! `mpi-grade run` on a C program (compiled here with `mpicc`) under real Open MPI: each
//! exchange of `tests/programs/exchanges.c` must be diagnosed right, with the program's source
//! lines, and nothing the tests started may be left afterwards.

#[path = "support/mod.rs"]
mod support;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;
use support::*;

fn main() {
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let _lock = mpi_lock();
    type Check = fn(&'static str) -> Result<(), Failed>;
    let checks: [(&str, Check); 23] = [
        ("send_send_cycle_is_a_deadlock", send_send),
        ("recv_recv_cycle_is_a_deadlock", recv_recv),
        ("send_to_self_is_a_deadlock_of_one", self_send),
        ("any_source_exchange_is_correct", any_source),
        (
            "small_send_send_completes_but_not_in_zero_buffer_mode",
            zero_buffer,
        ),
        ("rank_spinning_outside_mpi_is_a_hang", spin),
        ("ranks_that_sleep_are_slow_not_deadlocked", sleepy),
        ("a_missing_program_is_a_clear_error", missing_program),
        (
            "a_deleted_submission_does_not_break_the_cache",
            deleted_submission,
        ),
        (
            "probe_finds_the_limit_a_hand_test_finds",
            probe_agrees_with_a_hand_test,
        ),
        ("different_collectives_are_a_call_mismatch", mismatch),
        (
            "different_reduction_operations_are_found_though_the_program_completes",
            op_mismatch,
        ),
        ("a_correct_program_has_no_findings", no_findings),
        ("a_truncated_message_is_explained", truncation),
        (
            "a_same_size_type_mismatch_is_found_though_the_program_completes",
            same_size,
        ),
        ("a_message_never_received_is_found", unreceived),
        ("a_receive_never_matched_is_found", pending_receive),
        (
            "zero_buffer_makes_an_isend_wait_cycle_deadlock",
            isend_cycle,
        ),
        ("an_mpi_error_is_explained_by_its_call_and_class", mpi_error),
        (
            "the_tutorials_truncate_snippet_names_both_datatypes",
            python_truncate,
        ),
        ("a_killed_grader_leaves_nothing_behind", killed_grader),
        ("bad_flags_are_refused_by_clap", bad_flags),
        (
            "the_command_line_tools_version_completions_man_new_dry_run_check",
            command_line_tools,
        ),
    ];
    let trials: Vec<Trial> = IMPLEMENTATIONS
        .iter()
        .flat_map(|&mpi| {
            checks.iter().map(move |&(name, check)| {
                Trial::test(format!("{mpi}::{name}"), move || check(mpi))
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    conclude(conclusion);
}

/// The test program, compiled once per implementation with its `mpicc` and debug information.
fn program(mpi: &str) -> PathBuf {
    static PROGRAMS: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut programs = PROGRAMS.lock().unwrap();
    programs
        .entry(mpi.to_string())
        .or_insert_with(|| {
            let out = tmp().join(format!("exchanges-{mpi}"));
            let source = repo().join("tests/programs/exchanges.c");
            let mpicc = format!("mpicc.{mpi}");
            let status = std::process::Command::new(&mpicc)
                .args(["-g", "-O0", "-o"])
                .arg(&out)
                .arg(&source)
                .status()
                .unwrap_or_else(|e| panic!("{mpicc}: {e}"));
            assert!(status.success(), "{mpicc} failed");
            out
        })
        .clone()
}

/// Runs the program with `mode` (and its arguments, after spaces) on `ranks` ranks; returns the
/// exit code and the JSON report.
fn run_mode(mpi: &str, ranks: u32, mode: &str, extra: &[&str]) -> Result<(i32, Value), Failed> {
    let json = tempfile::NamedTempFile::new().unwrap();
    let program = program(mpi).to_str().unwrap().to_string();
    let np = ranks.to_string();
    let mut args = vec![
        "run",
        "--mpi",
        mpi,
        "-n",
        &np,
        "--hang-after",
        "2",
        "--json",
        json.path().to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", &program]);
    args.extend(mode.split(' '));
    let out = run(mpi_grade(&args), Duration::from_secs(120));
    let text = std::fs::read_to_string(json.path()).unwrap_or_default();
    let report: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "no JSON report ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    Ok((out.status.code().unwrap_or(-1), report))
}

fn expect(cond: bool, what: &str, report: &Value) -> Result<(), Failed> {
    if cond {
        Ok(())
    } else {
        Err(format!("{what}\n{}", serde_json::to_string_pretty(report).unwrap()).into())
    }
}

/// `exchanges.c:<line> (main)` for the first line of the test program containing `text`.
fn at_line_of(text: &str) -> String {
    let source = std::fs::read_to_string(repo().join("tests/programs/exchanges.c")).unwrap();
    let line = source
        .lines()
        .position(|l| l.contains(text))
        .expect("the line exists")
        + 1;
    format!("exchanges.c:{line} (main)")
}

fn explanation(report: &Value) -> &str {
    report["diagnosis"]["explanation"].as_str().unwrap_or("")
}

fn send_send(mpi: &str) -> Result<(), Failed> {
    let (code, r) = run_mode(mpi, 3, "send-send", &[])?;
    expect(code == 241, "exit code 241 (deadlock)", &r)?;
    expect(r["outcome"] == "deadlock", "outcome deadlock", &r)?;
    expect(
        r["diagnosis"]["cycle"] == serde_json::json!([0, 1]),
        "cycle 0 -> 1",
        &r,
    )?;
    let e = explanation(&r);
    expect(e.contains("rank 0 is blocked in MPI_Send waiting for its send to rank 1 to be received (tag 7, 1 048 576 B)"), "rank 0's send", &r)?;
    expect(
        e.contains(&at_line_of("MPI_Send(out, n, MPI_DOUBLE, peer, 7")),
        "source line of the send",
        &r,
    )?;
    expect(e.contains("does not buffer messages this large"), "why", &r)?;
    // Rank 2 waits in the final barrier for the two: part of the stuck set, not of the cycle.
    let ranks = r["diagnosis"]["ranks"].as_array().unwrap();
    expect(
        ranks.len() == 3 && ranks[2]["function"] == "MPI_Barrier",
        "rank 2 in the barrier",
        &r,
    )
}

fn recv_recv(mpi: &str) -> Result<(), Failed> {
    let (code, r) = run_mode(mpi, 2, "recv-recv", &[])?;
    expect(code == 241 && r["outcome"] == "deadlock", "deadlock", &r)?;
    expect(
        r["diagnosis"]["cycle"] == serde_json::json!([0, 1]),
        "cycle 0 -> 1",
        &r,
    )?;
    let e = explanation(&r);
    expect(
        e.contains("rank 1 is blocked in MPI_Recv waiting for a message from rank 0 (tag 3)"),
        "rank 1's receive",
        &r,
    )?;
    expect(
        e.contains("Every rank waits to receive before it sends"),
        "why",
        &r,
    )
}

fn self_send(mpi: &str) -> Result<(), Failed> {
    let (code, r) = run_mode(mpi, 2, "self-send", &[])?;
    expect(code == 241 && r["outcome"] == "deadlock", "deadlock", &r)?;
    expect(
        r["diagnosis"]["cycle"] == serde_json::json!([0]),
        "a cycle of one",
        &r,
    )?;
    expect(
        explanation(&r).contains("rank 0 waits for itself"),
        "explained",
        &r,
    )
}

fn any_source(mpi: &str) -> Result<(), Failed> {
    let (code, r) = run_mode(mpi, 4, "any-source", &[])?;
    expect(
        code == 0 && r["outcome"] == "exited",
        "a correct run exits 0",
        &r,
    )?;
    expect(r["diagnosis"].is_null(), "no diagnosis", &r)?;
    expect(
        r["messages"] == 3 && r["calls"]["MPI_Recv"]["calls"] == 3,
        "3 messages received",
        &r,
    )
}

fn zero_buffer(mpi: &str) -> Result<(), Failed> {
    // One double each way: buffered, so the send-send exchange completes...
    let (code, report) = run_mode(mpi, 2, "send-send 1", &[])?;
    expect(
        code == 0 && report["outcome"] == "exited",
        "buffered: completes",
        &report,
    )?;
    // ... and deadlocks when no send is buffered.
    let (code, report) = run_mode(mpi, 2, "send-send 1", &["--zero-buffer"])?;
    expect(
        code == 241 && report["outcome"] == "deadlock",
        "zero-buffer: deadlock",
        &report,
    )?;
    expect(
        explanation(&report).contains("zero-buffer mode"),
        "explained as zero-buffer",
        &report,
    )
}

fn spin(mpi: &str) -> Result<(), Failed> {
    let (code, r) = run_mode(mpi, 3, "spin", &[])?;
    expect(code == 242 && r["outcome"] == "hang", "hang", &r)?;
    expect(
        r["diagnosis"]["culprits"] == serde_json::json!([1]),
        "rank 1 is the culprit",
        &r,
    )?;
    let e = explanation(&r);
    expect(
        e.contains("rank 1 has been running outside MPI"),
        "rank 1 outside MPI",
        &r,
    )?;
    // What was seen, not a prophecy: how long, and who waits.
    expect(
        e.contains("Rank 1 has not called MPI for ")
            && e.contains(" s while ranks 0, 2 wait for it"),
        "the hang said as seen",
        &r,
    )?;
    expect(
        e.contains(&at_line_of("for (;;) x++;")),
        "the busy loop's line",
        &r,
    )
}

fn sleepy(mpi: &str) -> Result<(), Failed> {
    // 8 ranks on 2 cores, 1 MiB messages, naps between steps: slow, never a deadlock.
    let (code, r) = run_mode(mpi, 8, "sleepy", &[])?;
    expect(code == 0 && r["outcome"] == "exited", "completes", &r)
}

fn missing_program(mpi: &str) -> Result<(), Failed> {
    let out = run(
        mpi_grade(&["run", "--mpi", mpi, "-n", "2", "--", "/nonexistent/program"]),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(0) || stderr.is_empty() {
        return Err(format!(
            "expected a failure with a message, got {:?}: {stderr}",
            out.status.code()
        )
        .into());
    }
    Ok(())
}

/// Out-of-range values and conflicting flags are refused before anything runs, the way clap
/// refuses flags (its `error:` line, exit status 2), whether clap or the request step judges
/// them.
fn bad_flags(mpi: &str) -> Result<(), Failed> {
    let cases: [(&[&str], &str); 10] = [
        (
            &["compare", "x", "--repetitions", "0"],
            "0 is not in 1..=1000",
        ),
        (&["run", "-n", "0", "--", "true"], "'--np <N>'"),
        (
            &["run", "-n", "2", "--hang-after", "0", "--", "true"],
            "not a positive number of seconds",
        ),
        (
            &["grade", "--batch", "x", "--json", "-"],
            "cannot be used with",
        ),
        (
            &["grade", "a", "b", "--dot", "g.dot"],
            "are about one submission",
        ),
        (&["grade", "a", "--csv", "book.csv"], "are for batches"),
        // Unknown values are listed with the valid ones.
        (
            &["new", "x", "--kind", "ring"],
            "[possible values: alltoall]",
        ),
        (&["completions", "tcsh"], "[possible values: bash,"),
        (
            &["grade", "x", "--color", "sometimes"],
            "[possible values: auto, always, never]",
        ),
        (
            &["run", "-n", "2", "-q", "--color", "no", "--", "true"],
            "[possible values:",
        ),
    ];
    for (args, expected) in cases {
        let out = run(mpi_grade(args), Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(2)
            || !stderr.starts_with("error: ")
            || !stderr.contains(expected)
        {
            return Err(format!(
                "{args:?} ({mpi}): expected exit 2 and clap's `error: ...{expected}...`, got {:?}: {stderr}",
                out.status.code()
            )
            .into());
        }
    }
    Ok(())
}

/// Output of a command that must succeed.
fn stdout_of(args: &[&str]) -> Result<String, Failed> {
    let out = run(mpi_grade(args), Duration::from_secs(600));
    if !out.status.success() {
        return Err(format!(
            "{args:?}: exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// `--version` (commit, MPIs), completions, the man page, `new`'s starter and hint, what a dry
/// run checks, and `check CRATE` with the crate's own challenges.toml, `--json -`, `--seed` and
/// `--no-compare`.
fn command_line_tools(mpi: &str) -> Result<(), Failed> {
    let version = stdout_of(&["--version"])?;
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(repo())
        .output()?;
    let commit = String::from_utf8(head.stdout)?.trim().to_string();
    let commit = if commit.is_empty() {
        "unknown".to_string()
    } else {
        commit
    };
    assert!(
        version.starts_with(&format!("mpi-grade {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    // The binary may be a build from before the last commit: a commit, or "unknown" only
    // outside a checkout.
    let named = version
        .split("(commit ")
        .nth(1)
        .unwrap_or("")
        .split(')')
        .next()
        .unwrap_or("");
    assert!(
        named.len() == 12 && named.chars().all(|c| c.is_ascii_hexdigit()) || commit == "unknown",
        "{version}"
    );
    let line = format!("{}: ", implementation_name(mpi));
    assert!(
        version
            .lines()
            .any(|l| l.starts_with(&line) && !l.ends_with("not found")),
        "{version}"
    );

    let bash = stdout_of(&["completions", "bash"])?;
    let mut check = std::process::Command::new("bash");
    check.arg("-n").stdin(std::process::Stdio::piped());
    let mut child = check.spawn()?;
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), bash.as_bytes())?;
    assert!(child.wait()?.success(), "the bash completion script parses");
    assert!(bash.contains("completions") && bash.contains("--dry-run"));
    for shell in ["zsh", "fish"] {
        assert!(stdout_of(&["completions", shell])?.contains("grade"));
    }
    let man = stdout_of(&["man"])?;
    assert!(
        man.starts_with(".ie") || man.contains(".TH mpi-grade"),
        "{}",
        &man[..200.min(man.len())]
    );
    assert!(
        man.contains(".SH \"MPI-GRADE GRADE\"") && man.contains("dry\\-run"),
        "the subcommands' options are in it"
    );

    let dir = tempfile::tempdir_in(tmp())?;
    let crate_dir = dir.path().join("starter");
    let crate_arg = crate_dir.to_str().unwrap();
    let created = stdout_of(&["new", crate_arg])?;
    assert!(created.contains("mpi-grade check"), "{created}");
    assert_eq!(
        std::fs::read_to_string(crate_dir.join(".gitignore"))?,
        "/target/\n"
    );

    // A dry run checks what it can without running: not a crate is an error, a manifest the
    // rules refuse is every part's build error.
    let missing = run(
        mpi_grade(&["grade", "/nonexistent", "--dry-run", "--mpi", mpi]),
        Duration::from_secs(60),
    );
    assert_eq!(missing.status.code(), Some(2));
    let refused = run(
        mpi_grade(&[
            "grade",
            "tests/adversarial/disallowed-dependency",
            "--dry-run",
            "--mpi",
            mpi,
            "--config",
            "tests/fixtures/challenges.toml",
        ]),
        Duration::from_secs(60),
    );
    let text = String::from_utf8_lossy(&refused.stdout);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(
        text.contains("would fail every part (build-error): Cargo.toml: dependency `libc`"),
        "{text}"
    );
    assert_eq!(
        run(
            mpi_grade(&["grade", crate_arg, "--dry-run", "--mpi", mpi]),
            Duration::from_secs(60)
        )
        .status
        .code(),
        Some(0)
    );

    // check reads the crate's own challenges.toml (here: only part 1, one rank count).
    let config = std::fs::read_to_string(repo().join("tests/fixtures/challenges.toml"))?;
    let one_part = config.replace("ranks = [2, 3, 4]", "ranks = [2]");
    let one_part = &one_part[..one_part
        .find("[[challenge.part]]\nname = \"part2\"")
        .unwrap()];
    std::fs::write(crate_dir.join("challenges.toml"), one_part)?;
    let out = run(
        mpi_grade(&[
            "check",
            crate_arg,
            "--json",
            "-",
            "--seed",
            "5",
            "--no-compare",
            "--mpi",
            mpi,
            "-q",
        ]),
        Duration::from_secs(600),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["seed_string"], "5");
    assert_eq!(report["comparison"], Value::Null);
    assert_eq!(
        report["config"]["path"],
        format!("{crate_arg}/challenges.toml")
    );
    assert_eq!(report["parts"].as_array().unwrap().len(), 1);
    assert_eq!(report["parts"][0]["failure"], "not-implemented");
    // The learner's explanations went to stderr.
    assert!(String::from_utf8_lossy(&out.stderr).contains("part1"));
    Ok(())
}

/// Regression: the cache's driver kept a path dependency on the last crate graded; once that
/// (temporary) crate was deleted, cargo could not load the workspace and `run` could not build
/// the tracer.
fn deleted_submission(mpi: &str) -> Result<(), Failed> {
    let dir = tempfile::tempdir_in(tmp()).unwrap();
    let crate_dir = dir.path().join("short-lived");
    let crate_arg = crate_dir.to_str().unwrap();
    assert!(run(mpi_grade(&["new", crate_arg]), Duration::from_secs(30))
        .status
        .success());
    let graded = run(
        mpi_grade(&[
            "grade",
            crate_arg,
            "--config",
            "tests/fixtures/challenges.toml",
            "--mpi",
            mpi,
            "--part",
            "1",
            "-q",
        ]),
        Duration::from_secs(600),
    );
    assert_eq!(
        graded.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&graded.stderr)
    );
    drop(dir);
    let (code, r) = run_mode(mpi, 2, "any-source", &[])?;
    expect(
        code == 0 && r["outcome"] == "exited",
        "run works after the graded crate is gone",
        &r,
    )
}

/// `mpi-grade probe` finds the largest message a send to another rank completes without its
/// receive; a hand test (the C send-send exchange, doubles of 8 bytes) must agree to the element:
/// at that many elements it completes, one more deadlocks.
fn probe_agrees_with_a_hand_test(mpi: &str) -> Result<(), Failed> {
    let out = run(
        mpi_grade(&["probe", "--mpi", mpi, "--json", "-"]),
        Duration::from_secs(300),
    );
    let probe: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("probe JSON: {e}: {}", String::from_utf8_lossy(&out.stderr)))?;
    let limit = &probe["eager_between_ranks"];
    let completes = limit["completes"].as_u64().ok_or("no limit found")?;
    let deadlocks = limit["deadlocks"].as_u64().ok_or("no deadlock found")?;
    expect(
        deadlocks == completes + 1,
        "bisected to one element",
        &probe,
    )?;
    let program = program(mpi).to_str().unwrap().to_string();
    for (n, outcome) in [(completes, "exited"), (deadlocks, "deadlock")] {
        let json = tempfile::NamedTempFile::new().unwrap();
        let count = n.to_string();
        let path = json.path().to_str().unwrap();
        let args = [
            "run",
            "--mpi",
            mpi,
            "-n",
            "2",
            "--json",
            path,
            "--",
            &program,
            "send-send",
            &count,
        ];
        run(mpi_grade(&args), Duration::from_secs(60));
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(json.path()).unwrap()).unwrap();
        expect(
            report["outcome"] == outcome,
            &format!("{n} doubles each way: {outcome}"),
            &report,
        )?;
    }
    Ok(())
}

/// Found from the calls as soon as both are made, on both MPIs (MPICH keeps the two apart and
/// blocks; Open MPI lets the barrier take the broadcast's message), not by waiting for a stall.
fn mismatch(mpi: &str) -> Result<(), Failed> {
    let (code, r) = run_mode(mpi, 2, "mismatch", &[])?;
    expect(
        code == 240 && r["outcome"] == "call-mismatch",
        "call mismatch",
        &r,
    )?;
    let summary = "rank 0's 1st collective on MPI_COMM_WORLD is MPI_Barrier, rank 1's is MPI_Bcast";
    expect(
        r["findings"]
            == serde_json::json!([
                {"kind": "collective-mismatch", "ranks": [0, 1], "summary": summary}
            ]),
        "one finding",
        &r,
    )?;
    expect(explanation(&r).contains(summary), "explained", &r)
}

/// The library pairs reductions with different operations and the program exits 0: still an
/// error, with its own exit code.
fn op_mismatch(mpi: &str) -> Result<(), Failed> {
    let (code, r) = run_mode(mpi, 2, "op-mismatch", &[])?;
    let summary = "rank 0's 1st collective on MPI_COMM_WORLD is MPI_Allreduce with MPI_SUM, rank 1's is MPI_Allreduce with MPI_MAX";
    expect(
        code == 240 && r["findings"][0]["summary"] == summary,
        "the operations named",
        &r,
    )?;
    expect(
        r["findings"][0]["kind"] == "collective-mismatch",
        "its kind",
        &r,
    )
}

/// A message larger than the receive's buffer: the library aborts (MPI_ERR_TRUNCATE, its own
/// exit status), and the finding says which send overflowed which receive.
fn truncation(mpi: &str) -> Result<(), Failed> {
    let (code, r) = run_mode(mpi, 2, "truncate", &[])?;
    let summary = "rank 0 sent 5 x MPI_LONG = 40 B with tag 0; rank 1 received into 5 x MPI_INT = 20 B (MPI_Recv): the buffer holds half the message";
    expect(
        code == 240
            && r["findings"]
                == serde_json::json!([{"kind": "truncation", "ranks": [0, 1], "summary": summary}]),
        "the truncation explained",
        &r,
    )
}

/// Ten `MPI_INT` received as five `MPI_LONG`: the bytes agree and the library completes, the
/// types do not (MPI requires them to match).
fn same_size(mpi: &str) -> Result<(), Failed> {
    let (code, r) = run_mode(mpi, 2, "same-size", &[])?;
    let summary = "rank 0 sent 10 x MPI_INT = 40 B with tag 4 on MPI_COMM_WORLD; rank 1 received it as 5 x MPI_LONG = 40 B: the datatypes of a send and its receive must match, the library only copied the bytes";
    expect(
        code == 240
            && r["outcome"] == "exited"
            && r["findings"]
                == serde_json::json!([{"kind": "type", "ranks": [0, 1], "summary": summary}]),
        "the type mismatch found",
        &r,
    )
}

/// A small send nobody receives: the library buffers it and finalizes; the counts show it.
fn unreceived(mpi: &str) -> Result<(), Failed> {
    let (code, r) = run_mode(mpi, 3, "unreceived", &[])?;
    let summary = "rank 0 sent a message to rank 1 that rank 1 never received (its last one to rank 1: 1 x MPI_INT = 4 B with tag 9 on MPI_COMM_WORLD): every send needs a matching receive before MPI_Finalize";
    expect(
        code == 240
            && r["findings"]
                == serde_json::json!([{"kind": "unmatched", "ranks": [0, 1], "summary": summary}]),
        "the message never received",
        &r,
    )
}

/// A receive posted and never matched nor completed when the program finalizes.
fn pending_receive(mpi: &str) -> Result<(), Failed> {
    let (code, r) = run_mode(mpi, 2, "pending", &[])?;
    let summary = "rank 1 reached MPI_Finalize with a non-blocking receive from rank 0 (tag 5) that was never completed: no message matched it, or no MPI_Wait/MPI_Test completed it";
    expect(
        code == 240
            && r["findings"]
                == serde_json::json!([{"kind": "unmatched", "ranks": [1, 0], "summary": summary}]),
        "the receive never matched",
        &r,
    )
}

/// `MPI_Isend` + `MPI_Wait` before the receive on both sides: passes while the library buffers
/// the small message, deadlocks once zero-buffer mode makes the send synchronous.
fn isend_cycle(mpi: &str) -> Result<(), Failed> {
    let (code, r) = run_mode(mpi, 2, "isend-cycle", &[])?;
    expect(
        code == 0 && r["findings"] == serde_json::json!([]),
        "buffered: correct",
        &r,
    )?;
    let (code, r) = run_mode(mpi, 2, "isend-cycle", &["--zero-buffer"])?;
    expect(
        code == 241 && r["outcome"] == "deadlock",
        "a deadlock in zero-buffer mode",
        &r,
    )
}

/// A negative tag: the library's fatal error handler ends the program from `MPI_Send` with
/// `MPI_ERR_TAG` (4 in both libraries); the finding names the call and the class.
fn mpi_error(mpi: &str) -> Result<(), Failed> {
    let (code, r) = run_mode(mpi, 2, "bad-tag", &[])?;
    let summary = "rank 0 ended inside MPI_Send and the program exited with status 4 (MPI_ERR_TAG, the error class the library's fatal error handler exits with): the call's arguments were refused";
    expect(
        code == 244
            && r["findings"]
                == serde_json::json!([{"kind": "mpi-error", "ranks": [0], "summary": summary}]),
        "the MPI error explained",
        &r,
    )
}

/// The tutorial's own `MPI_ERR_TRUNCATE` snippet in Python: mpi4py raises the error and the
/// program exits 1; the finding says which send overflowed which receive, with both datatypes.
fn python_truncate(mpi: &str) -> Result<(), Failed> {
    let var = format!("MPI_GRADE_PYTHON_{}", mpi.to_uppercase());
    let python = std::env::var(&var)
        .unwrap_or_else(|_| format!("/usr/local/lib/mpi-grade/python/{mpi}/bin/python"));
    let json = tempfile::NamedTempFile::new().unwrap();
    let script = repo().join("tests/programs/truncate.py");
    let out = run(
        mpi_grade(&[
            "run",
            "--mpi",
            mpi,
            "-n",
            "2",
            "--json",
            json.path().to_str().unwrap(),
            "--",
            &python,
            script.to_str().unwrap(),
        ]),
        Duration::from_secs(120),
    );
    let text = std::fs::read_to_string(json.path()).unwrap_or_default();
    let r: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "no JSON report ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let summary = "rank 0 sent 5 x MPI_LONG = 40 B with tag 0; rank 1 received into 5 x MPI_INT = 20 B: the buffer holds half the message";
    expect(
        out.status.code() == Some(240)
            && r["findings"]
                == serde_json::json!([{"kind": "truncation", "ranks": [0, 1], "summary": summary}]),
        "the truncation explained with both datatypes",
        &r,
    )
}

/// A correct program has no findings.
fn no_findings(mpi: &str) -> Result<(), Failed> {
    let (code, r) = run_mode(mpi, 3, "any-source", &[])?;
    expect(
        code == 0 && r["findings"] == serde_json::json!([]),
        "no findings",
        &r,
    )
}

/// SIGKILL to the grader while its job runs (no chance to clean up): the launcher dies with
/// it (parent-death signal) and takes its ranks down.
fn killed_grader(mpi: &str) -> Result<(), Failed> {
    let program = program(mpi).to_str().unwrap().to_string();
    let mut cmd = mpi_grade(&[
        "run",
        "--mpi",
        mpi,
        "-n",
        "3",
        "--hang-after",
        "60",
        "--",
        &program,
        "spin",
    ]);
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut grader = cmd.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let ours = |pid: i32| mpi_grade::run::procs::has_env(pid, TEST_MARKER_VAR, &marker());
    let running = mpi_grade::run::procs::scan()
        .into_iter()
        .filter(|p| p.is_alive() && ours(p.pid))
        .count();
    grader.kill().unwrap();
    grader.wait().unwrap();
    if running < 4 {
        return Err(format!(
            "expected the grader, mpiexec and ranks running, found {running} processes"
        )
        .into());
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if leftovers().is_empty() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "still running 10 s after the grader was killed: {}",
        leftovers().join(", ")
    )
    .into())
}
