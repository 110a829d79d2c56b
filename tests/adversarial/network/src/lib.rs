//! Adversarial fixture `network`: tries to reach a server on the grader's loopback.

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// The port the test listens on, on 127.0.0.1, outside the sandbox.
pub const PORT: u16 = 40817;

/// Connects to the test's listener; returns a wrong result if it got through.
pub fn part2(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    use std::io::Write;
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], PORT));
    let reached = std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_millis(500))
        .map(|mut s| {
            let _ = s.write_all(b"escaped from the sandbox\n");
        })
        .is_ok();
    let mut result = exchange(comm, values);
    if reached {
        result.clear();
    }
    result
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
