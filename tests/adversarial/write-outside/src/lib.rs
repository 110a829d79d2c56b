//! Adversarial fixture `write-outside`: writes everywhere it can think of, at build time and at run time.

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// Places outside the sandbox's scratch area (the test checks that none of them appeared).
fn targets() -> Vec<std::path::PathBuf> {
    let mut paths: Vec<std::path::PathBuf> = [
        "/tmp/mpi-grade-adversarial-escape",
        "/var/tmp/mpi-grade-adversarial-escape",
        "/dev/shm/mpi-grade-adversarial-escape",
    ]
    .iter()
    .map(Into::into)
    .collect();
    if let Ok(exe) = std::env::current_exe() {
        // The driver is in the grade's scratch directory, itself in the grader's cache.
        if let Some(scratch) = exe.parent() {
            paths.push(scratch.join("escape"));
            if let Some(runs) = scratch.parent() {
                paths.push(runs.join("mpi-grade-adversarial-escape"));
                if let Some(cache) = runs.parent() {
                    paths.push(cache.join("mpi-grade-adversarial-escape"));
                }
            }
        }
    }
    if let Some(home) = std::env::var_os("HOME") {
        paths.push(std::path::Path::new(&home).join("mpi-grade-adversarial-escape"));
    }
    paths.push(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("escape"));
    paths.push("../mpi-grade-adversarial-escape".into());
    paths
}

/// Writes everywhere, then exchanges correctly.
pub fn part2(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    for path in targets() {
        let _ = std::fs::write(&path, format!("rank {} was here\n", comm.rank()));
    }
    exchange(comm, values)
}

/// A correct alltoall: pairwise exchanges, lower rank sends first.
fn exchange(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let (n, me) = (comm.size(), comm.rank());
    let mut received = vec![Vec::new(); n as usize];
    for round in 0..n {
        let partner = (round - me).rem_euclid(n);
        let peer = comm.process_at_rank(partner);
        let out = &values[partner as usize][..];
        received[partner as usize] = if partner == me {
            out.to_vec()
        } else if me < partner {
            peer.send(out);
            peer.receive_vec::<i64>().0
        } else {
            let got = peer.receive_vec::<i64>().0;
            peer.send(out);
            got
        };
    }
    received
}
