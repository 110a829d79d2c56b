//! What a launch through `srun` leaves in Slurm: its job step (or job, when `srun` made one of
//! its own), found by the name `srun --job-name` gave it (the launch's marker), cancelled after
//! the launch ends, and waited for, so that `squeue` shows nothing of it afterwards.

use std::process::Command;

/// Why a grade through `srun` needs `--no-sandbox`.
pub const SANDBOX_REFUSED: &str = "launcher = \"srun\": the ranks are started by Slurm's \
slurmstepd, not by the grader, so the grader's sandbox cannot wrap them (and srun needs the \
network to reach slurmctld); grade with --no-sandbox, as an unprivileged user whose jobs Slurm \
confines, or use launcher = \"mpiexec\" inside the allocation, which keeps the sandbox";
use std::time::{Duration, Instant};

/// The ids (`1234.0`, or `1234` for a job) of the steps and jobs of this user named `name`,
/// from the output of `squeue --steps` and `squeue` (`%i %j` lines: id, name).
pub fn ids_named(squeue_output: &str, name: &str) -> Vec<String> {
    squeue_output
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let id = words.next()?;
            (words.next()? == name && words.next().is_none()).then(|| id.to_string())
        })
        .collect()
}

/// What `squeue` lists under `name`: job steps and jobs. `None` when squeue cannot be run.
fn listed(name: &str) -> Option<Vec<String>> {
    let mut ids = Vec::new();
    for steps in [true, false] {
        let mut command = Command::new("squeue");
        command.args(["--noheader", "--format=%i %j"]);
        if steps {
            command.arg("--steps");
        }
        let out = command.output().ok()?;
        if !out.status.success() {
            return None;
        }
        ids.extend(ids_named(&String::from_utf8_lossy(&out.stdout), name));
    }
    Some(ids)
}

/// Cancels (SIGKILL) every step and job named `name` and waits until `squeue` lists none, for at
/// most `deadline`. Returns what is still listed then (empty when all is gone or squeue
/// cannot be asked).
pub fn cancel_steps(name: &str, deadline: Duration) -> Vec<String> {
    let started = Instant::now();
    loop {
        let Some(ids) = listed(name) else {
            return Vec::new();
        };
        if ids.is_empty() || started.elapsed() >= deadline {
            return ids;
        }
        let _ = Command::new("scancel")
            .args(["--quiet", "--signal=KILL", "--full"])
            .args(&ids)
            .status();
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_jobs_are_found_by_their_exact_name() {
        // `squeue --steps --noheader --format='%i %j'` and `squeue --noheader --format='%i %j'`
        // as Slurm 22.05 prints them.
        let text = "12.0 4242-1\n12.1 4242-10\n13 4242-1\n14 other\n";
        assert_eq!(ids_named(text, "4242-1"), ["12.0", "13"]);
        assert!(ids_named(text, "4242").is_empty());
        assert!(ids_named("", "x").is_empty());
    }
}
