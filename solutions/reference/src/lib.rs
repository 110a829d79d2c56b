//! Reference solutions of the alltoall challenge (see `templates/alltoall` for the task).

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// Part 1: every rank sends all its blocks, then receives all of its blocks.
///
/// Correct while the MPI library buffers the sends; once a block is too large to be buffered,
/// every rank waits in its first send for a receive that nobody will post: a deadlock.
pub fn part1(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    for (dest, block) in (0..).zip(values) {
        comm.process_at_rank(dest).send(&block[..]);
    }
    (0..comm.size())
        .map(|source| comm.process_at_rank(source).receive_vec::<i64>().0)
        .collect()
}

/// Part 1 without the message to itself: every rank sends to the other ranks, keeps its own
/// block, then receives. Not graded; `mpi-grade probe` uses it to find how large a message to
/// *another* rank may be and still be buffered, which is not the same as to *itself* (Open MPI:
/// 4 KiB between processes, 1 KiB to itself).
pub fn part1_peers_only(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let me = comm.rank();
    for (dest, block) in (0..).zip(values).filter(|&(dest, _)| dest != me) {
        comm.process_at_rank(dest).send(&block[..]);
    }
    (0..comm.size())
        .map(|source| {
            if source == me {
                values[me as usize].clone()
            } else {
                comm.process_at_rank(source).receive_vec::<i64>().0
            }
        })
        .collect()
}

/// Part 2: pairwise exchanges in `n` rounds, blocking send and receive only.
///
/// In round `k`, rank `i` exchanges with rank `(k - i) mod n`: a perfect pairing, since the
/// partner of the partner is `i` again, and over the `n` rounds each rank meets every rank once.
/// Within a pair the lower rank sends first and the higher receives first, so every send meets
/// a waiting receive and nothing depends on buffering; all pairs of a round work in parallel.
/// The round in which a rank is paired with itself is a local copy.
pub fn part2(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let n = comm.size();
    let me = comm.rank();
    let mut received = vec![Vec::new(); n as usize];
    for round in 0..n {
        let partner = (round - me).rem_euclid(n);
        let peer = comm.process_at_rank(partner);
        let outgoing = &values[partner as usize][..];
        received[partner as usize] = if partner == me {
            outgoing.to_vec()
        } else if me < partner {
            peer.send(outgoing);
            peer.receive_vec::<i64>().0
        } else {
            let (incoming, _) = peer.receive_vec::<i64>();
            peer.send(outgoing);
            incoming
        };
    }
    received
}

/// Part 3: part 1 with non-blocking sends: start a send to every rank, receive from every rank
/// with blocking receives, then wait for the sends.
///
/// No rank waits in a send any more, so every rank reaches its receives and every message finds
/// one, whatever its size.
pub fn part3(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let n = comm.size();
    mpi::request::multiple_scope(n as usize, |scope, sends| {
        for (dest, block) in (0..).zip(values) {
            sends.add(comm.process_at_rank(dest).immediate_send(scope, &block[..]));
        }
        let received = (0..n)
            .map(|source| comm.process_at_rank(source).receive_vec::<i64>().0)
            .collect();
        sends.wait_all(&mut Vec::with_capacity(n as usize));
        received
    })
}
