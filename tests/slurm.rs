//! Grading on a real Slurm (`scripts/slurm up`: munged, slurmctld and two slurmd on this
//! machine): a grade through `srun` and one through `mpiexec` inside an allocation pass the
//! reference and diagnose a deadlocking fixture as the local grade does, and leave nothing in
//! `squeue` and no process behind; a small class split with `--partition K/3` over a Slurm job
//! array and joined with `mpi-grade merge` gives the unsplit batch's gradebook row for row.
//!
//! Without a Slurm that answers, every trial is skipped with a message saying so. A custom
//! harness (libtest-mimic) runs the trials one at a time under the workspace's MPI lock.

#[path = "support/mod.rs"]
mod support;

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::*;

const LIMIT: Duration = Duration::from_secs(600);
/// One seed for every grade: the gradebooks of the split and unsplit batches are compared.
const SEED: &str = "12345";

fn main() {
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let up = slurm_answers();
    if !up {
        eprintln!(
            "tests/slurm: SKIPPED: no Slurm answers here (sinfo shows no idle node); \
             `scripts/slurm up` starts one"
        );
    }
    let _lock = up.then(mpi_lock);
    let mut trials = Vec::new();
    for mpi in IMPLEMENTATIONS {
        trials.push(Trial::test(
            format!("{mpi}::srun_grades_like_mpiexec"),
            move || srun_grades_like_mpiexec(mpi),
        ));
    }
    trials.push(Trial::test(
        "a_job_array_of_partitions_merges_into_the_unsplit_gradebook",
        partitions_merge_into_the_unsplit_gradebook,
    ));
    let trials = trials
        .into_iter()
        .map(|t| t.with_ignored_flag(!up))
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    let left = leftovers();
    assert!(left.is_empty(), "processes left behind: {left:?}");
    conclusion.exit();
}

/// Whether `sinfo` lists an idle node.
fn slurm_answers() -> bool {
    Command::new("sinfo")
        .args(["--noheader", "--states=idle", "--format=%N"])
        .output()
        .is_ok_and(|o| o.status.success() && !String::from_utf8_lossy(&o.stdout).trim().is_empty())
}

/// The fixtures' challenge on a small matrix (2 and 4 ranks, a small and a large size, no
/// zero-buffer runs), with `launcher` in `[launch]`, written under the test's scratch.
fn config(name: &str, launcher: &str) -> Result<PathBuf, Failed> {
    let text = std::fs::read_to_string(repo().join("tests/fixtures/challenges.toml"))?;
    let small = text
        .replace("ranks = [2, 3, 4]", "ranks = [2, 4]")
        .replace(
            "scaling_factors = [1, 100, 10000]",
            "scaling_factors = [1, 10000]",
        )
        .replace("zero_buffer = true", "zero_buffer = false")
        .replacen(
            "format_version = 1\n",
            &format!("format_version = 1\n\n[launch]\nlauncher = \"{launcher}\"\n"),
            1,
        );
    if small == text || !small.contains("ranks = [2, 4]") || !small.contains("zero_buffer = false")
    {
        return Err(
            "tests/fixtures/challenges.toml changed: the test's edits no longer apply".into(),
        );
    }
    let path = tmp().join("slurm").join(format!("{name}.toml"));
    std::fs::create_dir_all(path.parent().unwrap())?;
    std::fs::write(&path, small)?;
    Ok(path)
}

/// Runs `mpi-grade grade ARGS --json FILE` inside `salloc` with `alloc` (the allocation's
/// flags) and returns the exit code and the report. Before the allocation ends (which would
/// end every step of it anyway), the job's steps are listed: the grader's must all be gone.
fn grade_in_allocation(alloc: &[&str], args: &[&str], json: &Path) -> Result<(i32, Value), Failed> {
    let grader = mpi_grade(&[]);
    let steps = json.with_extension("steps");
    let _ = std::fs::remove_file(&steps);
    let script = format!(
        "\"$0\" \"$@\"; code=$?; squeue --steps --noheader --format='%i %j' --jobs=\"$SLURM_JOB_ID\" > '{}'; exit $code",
        steps.display()
    );
    let mut cmd = Command::new("salloc");
    cmd.args(alloc)
        .args(["--quiet", "--", "sh", "-c", &script])
        .arg(grader.get_program())
        .args(["grade", "--seed", SEED, "--json"])
        .arg(json)
        .args(args)
        .current_dir(repo())
        .envs(grader.get_envs().filter_map(|(k, v)| Some((k, v?))))
        // Two slurmd on one host: Open MPI's shared-memory transport takes ranks of the two
        // "nodes" for neighbours of one; TCP over loopback connects them (a real cluster needs
        // none of this).
        .env("OMPI_MCA_btl", "self,tcp")
        .env("OMPI_MCA_btl_tcp_if_include", "lo")
        .env("OMPI_MCA_oob_tcp_if_include", "lo");
    let out = run(cmd, LIMIT);
    let report: Value = serde_json::from_slice(&std::fs::read(json).map_err(|e| {
        format!(
            "no report ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?)?;
    let listed = std::fs::read_to_string(&steps)
        .map_err(|e| format!("the job's steps were not listed ({e})"))?;
    if !listed.trim().is_empty() {
        return Err(format!("steps left in the allocation after the grade:\n{listed}").into());
    }
    Ok((out.status.code().unwrap_or(-1), report))
}

/// Nothing of a grade may be left: no step in `squeue`, no job but one completing (an
/// allocation just released; waited for, at most a minute), no process of this test.
fn nothing_left() -> Result<(), Failed> {
    let listing = |steps: bool| -> Result<String, Failed> {
        let mut cmd = Command::new("squeue");
        cmd.args(["--noheader", "--format=%i %j %T"]);
        if steps {
            cmd.arg("--steps");
        }
        let out = cmd.output()?;
        if !out.status.success() {
            return Err(format!("squeue failed: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let steps = listing(true)?;
    if !steps.trim().is_empty() {
        return Err(format!("squeue still lists steps:\n{steps}").into());
    }
    for _ in 0..600 {
        let jobs = listing(false)?;
        if jobs.trim().is_empty() {
            let left = leftovers();
            if !left.is_empty() {
                return Err(format!("processes left: {left:?}").into());
            }
            return Ok(());
        }
        if jobs.lines().any(|l| !l.ends_with(" COMPLETING")) {
            return Err(format!("squeue still lists:\n{jobs}").into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "a job is still completing after a minute:\n{}",
        listing(false)?
    )
    .into())
}

fn part<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["parts"]
        .as_array()
        .and_then(|parts| parts.iter().find(|p| p["name"] == name))
        .unwrap_or(&Value::Null)
}

/// The deadlocks of a part as (ranks, size, cycle, culprits, blocked functions): what a
/// diagnosis says, without the source locations (a rank started by slurmstepd is not the
/// grader's to take a stack of).
fn deadlocks(report: &Value, name: &str) -> Vec<String> {
    part(report, name)["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["outcome"] == "deadlock")
        .map(|r| {
            let d = &r["diagnosis"];
            let functions: Vec<String> = d["ranks"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| format!("{}:{}:{}", a["rank"], a["state"], a["function"]))
                .collect();
            format!(
                "{} ranks, {} per block: {} cycle {} culprits {} edges {} [{}]",
                r["ranks"],
                r["scaling_factor"],
                d["kind"],
                d["cycle"],
                d["culprits"],
                d["edges"].as_array().map_or(0, Vec::len),
                functions.join(" ")
            )
        })
        .collect()
}

/// The reference passes and `rank-count-deadlock`'s part 2 deadlocks, through srun (ranks
/// spread over both nodes of a two-node allocation) as through mpiexec inside an allocation
/// (the grader's sandbox on), with the same diagnoses.
fn srun_grades_like_mpiexec(mpi: &str) -> Result<(), Failed> {
    let srun = config("srun", "srun")?;
    let mpiexec = config("mpiexec", "mpiexec")?;
    let dir = tmp().join("slurm").join(mpi);
    std::fs::create_dir_all(&dir)?;
    let two_nodes = ["--nodes=2", "--ntasks=4"];
    let one_node = ["--nodes=1", "--ntasks=4"];
    let mut diagnoses = Vec::new();
    for (how, config, alloc, sandbox) in [
        ("srun", &srun, &two_nodes, false),
        ("mpiexec", &mpiexec, &one_node, true),
    ] {
        let config = config.to_str().unwrap();
        let mut args = vec!["--config", config, "--mpi", mpi];
        if !sandbox {
            args.push("--no-sandbox");
        }
        let json = dir.join(format!("{how}-reference.json"));
        let mut with = args.clone();
        with.push("solutions/reference");
        let (code, report) = grade_in_allocation(alloc.as_slice(), &with, &json)?;
        if code != 0 || report["points"] != 6.0 {
            return Err(format!(
                "{how}: the reference got {} (exit {code})",
                report["points"]
            )
            .into());
        }
        nothing_left()?;
        let part1 = deadlocks(&report, "part1");
        if part1.len() != 2 {
            return Err(format!(
                "{how}: part 1 should deadlock at 10 000 at 2 and 4 ranks: {part1:?}"
            )
            .into());
        }
        let json = dir.join(format!("{how}-deadlock.json"));
        let mut with = args.clone();
        with.extend(["--part", "2", "tests/fixtures/rank-count-deadlock"]);
        let (code, report) = grade_in_allocation(alloc.as_slice(), &with, &json)?;
        let part2 = part(&report, "part2");
        if code != 1 || part2["failure"] != "deadlock" {
            return Err(format!(
                "{how}: rank-count-deadlock's part 2 is {} (exit {code})",
                part2["failure"]
            )
            .into());
        }
        nothing_left()?;
        if how == "srun" {
            srun_time_out_leaves_nothing(&args, alloc.as_slice(), &dir)?;
            // The 4-rank runs' tasks were on both nodes: srun names each node's tasks.
            let output: String = part2["runs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["ranks"] == 4)
                .map(|r| r["output"].as_str().unwrap_or_default().to_string())
                .collect();
            if !(output.contains("node1") && output.contains("node2")) {
                return Err(format!("srun: the 4 ranks were not on both nodes:\n{output}").into());
            }
        }
        diagnoses.push((part1, deadlocks(&report, "part2")));
    }
    if diagnoses[0] != diagnoses[1] {
        return Err(format!(
            "srun and mpiexec diagnose differently:\nsrun:    {:?}\nmpiexec: {:?}",
            diagnoses[0], diagnoses[1]
        )
        .into());
    }
    if diagnoses[0].1.is_empty() {
        return Err("rank-count-deadlock's part 2 has no deadlocked run".into());
    }
    Ok(())
}

/// Without the tracer a deadlock is a time-out: the grader kills `srun` at the cell time
/// limit, and the step's tasks, which are slurmstepd's, must go too.
fn srun_time_out_leaves_nothing(args: &[&str], alloc: &[&str], dir: &Path) -> Result<(), Failed> {
    let json = dir.join("srun-timeout.json");
    let mut with = args.to_vec();
    with.extend([
        "--no-trace",
        "--part",
        "2",
        "tests/fixtures/rank-count-deadlock",
    ]);
    let (code, report) = grade_in_allocation(alloc, &with, &json)?;
    let timed_out = part(&report, "part2")["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| r["outcome"] == "timeout");
    if code != 1 || !timed_out {
        return Err(format!(
            "srun --no-trace: no run of part 2 timed out (exit {code}): {}",
            part(&report, "part2")["summary"]
        )
        .into());
    }
    nothing_left()
}

/// Four fixtures (a pass, a wrong result, a build error, a deadlock) graded as one batch, and
/// as three shards of a Slurm job array (`sbatch --array=1-3 --wait`, one task at a time):
/// `merge` of the shards' `--out` directories gives the unsplit batch's gradebook.
fn partitions_merge_into_the_unsplit_gradebook() -> Result<(), Failed> {
    let config = config("batch", "mpiexec")?;
    let base = tmp().join("slurm").join("batch");
    let _ = std::fs::remove_dir_all(&base);
    let root = base.join("class");
    std::fs::create_dir_all(&root)?;
    // Names whose shares of 3 are 3, 3, 2 and 1 (`Partition::share_of`): every shard grades.
    for (name, path) in [
        ("alice", "solutions/reference"),
        ("erin", "tests/fixtures/wrong-element"),
        ("carol", "tests/fixtures/compile-error"),
        ("dave", "tests/fixtures/rank-count-deadlock"),
    ] {
        std::os::unix::fs::symlink(repo().join(path), root.join(name))?;
    }
    let grader = mpi_grade(&[]);
    let exe = grader.get_program().to_string_lossy().into_owned();
    let common = format!(
        "grade --seed {SEED} --config {} --mpi openmpi --batch {}",
        config.display(),
        root.display()
    );
    // The unsplit batch, here.
    let full_csv = base.join("full.csv");
    let mut cmd = mpi_grade(&[]);
    cmd.args(common.split(' '))
        .arg("--csv")
        .arg(&full_csv)
        .arg("--quiet");
    let out = run(cmd, LIMIT);
    if out.status.code() != Some(1) {
        return Err(format!(
            "the unsplit batch exited {:?}:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    // The shards, as a job array.
    let script = base.join("grade-shard.sbatch");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec {exe} {common} --partition \"$SLURM_ARRAY_TASK_ID/3\" --out {}/shard-$SLURM_ARRAY_TASK_ID --quiet\n",
            base.display()
        ),
    )?;
    let mut cmd = Command::new("sbatch");
    cmd.args([
        "--wait",
        "--array=1-3%1",
        "--ntasks=4",
        "--nodes=1",
        "--quiet",
    ])
    .arg(format!("--output={}/shard-%a.log", base.display()))
    .arg(&script)
    .current_dir(repo())
    .envs(grader.get_envs().filter_map(|(k, v)| Some((k, v?))));
    let out = run(cmd, LIMIT);
    // A task's status is its batch's: 1 when a submission failed, 0 for an empty or passing one.
    let logs: String = (1..=3)
        .map(|k| std::fs::read_to_string(base.join(format!("shard-{k}.log"))).unwrap_or_default())
        .collect();
    nothing_left()?;
    let shards: Vec<PathBuf> = (1..=3)
        .map(|k| base.join(format!("shard-{k}")))
        .filter(|d| d.is_dir())
        .collect();
    if shards.len() != 3 {
        return Err(format!("{} shard directories, not 3; logs:\n{logs}", shards.len()).into());
    }
    let graded: usize = shards
        .iter()
        .map(|d| {
            std::fs::read_dir(d).map_or(0, |r| {
                r.filter_map(|e| e.ok())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                    .count()
            })
        })
        .sum();
    if graded != 4 {
        return Err(format!(
            "the shards graded {graded} submissions, not 4 (sbatch: {:?} {}); logs:\n{logs}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let merged_csv = base.join("merged.csv");
    let junit = base.join("merged.xml");
    let html = base.join("html");
    let mut cmd = mpi_grade(&["merge", "--csv"]);
    cmd.arg(&merged_csv)
        .arg("--junit")
        .arg(&junit)
        .arg("--html")
        .arg(&html)
        .args(&shards);
    let out = run(cmd, LIMIT);
    if out.status.code() != Some(1) {
        return Err(format!(
            "merge exited {:?}:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let rows = |path: &Path| -> Result<Vec<csv::StringRecord>, Failed> {
        let mut reader = csv::Reader::from_path(path)?;
        let mut rows = vec![reader.headers()?.clone()];
        for row in reader.records() {
            rows.push(row?);
        }
        Ok(rows)
    };
    let (full, merged) = (rows(&full_csv)?, rows(&merged_csv)?);
    if full.len() != 5 {
        return Err(format!("the unsplit gradebook has {} rows: {full:?}", full.len()).into());
    }
    for (a, b) in full.iter().zip(&merged) {
        if a != b {
            return Err(format!("gradebooks differ:\nunsplit: {a:?}\nmerged:  {b:?}").into());
        }
    }
    if full.len() != merged.len() {
        return Err(format!("merged has {} rows, unsplit {}", merged.len(), full.len()).into());
    }
    let xml = std::fs::read_to_string(&junit)?;
    let suites = xml.matches("<testsuite ").count();
    if suites != 4 {
        return Err(format!("the merged JUnit has {suites} test suites, not 4").into());
    }
    // The summary and the class page name every submission; each has its page.
    let summary = String::from_utf8_lossy(&out.stdout);
    let index = std::fs::read_to_string(html.join("index.html"))?;
    for name in ["alice", "carol", "dave", "erin"] {
        if !summary.contains(name) || !index.contains(&format!("{name}.html")) {
            return Err(
                format!("merge's summary or class page does not name {name}:\n{summary}").into(),
            );
        }
        if !html.join(format!("{name}.html")).is_file() {
            return Err(format!("merge wrote no page for {name}").into());
        }
    }
    Ok(())
}
