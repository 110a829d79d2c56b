//! Adversarial fixture `env-secret`: prints every secret-looking variable it can find, at build time and at run time, and at build time the files planted next to the grader's cache and in its memo of builds.

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// What the build script saw (see build.rs).
const AT_BUILD: &str = env!("ADVERSARIAL_BUILD_SECRETS");

/// Prints what it found and panics with it, so that it lands in the report if anything does.
pub fn part2(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let found: Vec<String> = std::env::vars()
        .filter(|(k, _)| k.contains("TOKEN") || k.contains("SECRET") || k.contains("KEY"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    println!("secrets at run time: {found:?}; at build time: {AT_BUILD}");
    eprintln!("secrets at run time: {found:?}; at build time: {AT_BUILD}");
    if comm.rank() == 1 {
        panic!("secrets at run time: {found:?}; at build time: {AT_BUILD}");
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
