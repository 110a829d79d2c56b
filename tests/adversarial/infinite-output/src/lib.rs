//! Adversarial fixture `infinite-output`: every rank writes to stdout and stderr without end.

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// Floods both output streams forever, in large writes.
pub fn part2(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    use std::io::Write;
    let line = format!("rank {} floods its output {}\n", comm.rank(), "x".repeat(1 << 16));
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    loop {
        let _ = out.write_all(line.as_bytes());
        let _ = err.write_all(line.as_bytes());
    }
    #[allow(unreachable_code)]
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
