//! The `igather-timing` exercise of mpi-grade, from "An Introduction to MPI in Python - Part 1",
//! section "Blocking and non-blocking calls" (the Igather experiment).
//!
//! Every rank is given one block per iteration: `values[i]` is what it contributes in
//! iteration `i`, for `i` in `0..size`. In iteration `i`, rank `i` first sleeps [`SLEEP`] (it
//! is late once, as in the tutorial), then every rank's `values[i]` is gathered at rank 0.
//! Rank 0 returns the `size * size` blocks it gathered, iteration by iteration (block
//! `i * size + r` is rank `r`'s `values[i]`); the other ranks return `vec![]`.
//!
//! `gather_loop` uses the blocking gather (`MPI_Gather`): rank 0 waits for the late rank in every
//! iteration, about `size` sleeps in all. `igather_loop` starts every gather with
//! `immediate_gather_into(_root)` (`MPI_Igather`) and waits for them all at the end: about one
//! sleep. The grader times both in the same launch: `gather_loop` must take at least `size / 2`
//! times as long as `igather_loop`.
//!
//! Check your work with `mpi-grade check --challenge igather-timing` in this folder. You do not
//! write a `main`: the grader calls these functions from its own.

use mpi::topology::SimpleCommunicator;
#[allow(unused_imports)]
use mpi::traits::*;
use std::time::Duration;

/// How long rank `i` sleeps in iteration `i`.
pub const SLEEP: Duration = Duration::from_millis(200);

/// The blocking version: `gather_into_root` / `gather_into` in every iteration.
pub fn gather_loop(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let (rank, size) = (comm.rank() as usize, comm.size() as usize);
    let root = comm.process_at_rank(0);
    let len = values[0].len();
    let mut gathered = Vec::new();
    for (i, value) in values.iter().enumerate().take(size) {
        if rank == i {
            std::thread::sleep(SLEEP);
        }
        if rank == 0 {
            let mut all = vec![0i64; size * len];
            root.gather_into_root(&value[..], &mut all[..]);
            gathered.extend(all.chunks(len).map(<[i64]>::to_vec));
        } else {
            root.gather_into(&value[..]);
        }
    }
    gathered
}

/// The non-blocking version: `immediate_gather_into_root` / `immediate_gather_into` in every
/// iteration, then wait for them all.
pub fn igather_loop(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let (rank, size) = (comm.rank() as usize, comm.size() as usize);
    let root = comm.process_at_rank(0);
    let len = values[0].len();
    let mut all = vec![0i64; if rank == 0 { size * size * len } else { 0 }];
    mpi::request::scope(|scope| {
        let mut requests = Vec::new();
        let mut chunks = all.chunks_mut(size * len.max(1));
        for (i, value) in values.iter().enumerate().take(size) {
            if rank == i {
                std::thread::sleep(SLEEP);
            }
            let request = match chunks.next() {
                Some(chunk) if rank == 0 => root.immediate_gather_into_root(scope, &value[..], chunk),
                _ => root.immediate_gather_into(scope, &value[..]),
            };
            requests.push(request);
        }
        for request in requests {
            request.wait();
        }
    });
    all.chunks(len).map(<[i64]>::to_vec).collect()
}
