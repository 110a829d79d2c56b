//! Adversarial fixture `memory-hog`: rank 0 allocates and touches memory until it cannot.

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// Rank 0 allocates 64 MiB blocks and writes every page, forever.
pub fn part2(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    while comm.rank() == 0 {
        let mut block = vec![0u8; 64 << 20];
        for page in block.chunks_mut(4096) {
            page[0] = 1;
        }
        hoard.push(block);
        if hoard.len() > 1 << 20 {
            break;
        }
    }
    let _ = hoard;
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
