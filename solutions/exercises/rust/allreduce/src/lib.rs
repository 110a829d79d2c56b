//! The `allreduce` exercise of mpi-grade, from "An Introduction to MPI in Python - Part 1",
//! section "all-".
//!
//! Broadcast, then allreduce.
//!
//! Given as in `bcast-reduce`: rank 0 `[broadcast, own]`, the others `[own]`. Broadcast rank 0's
//! `values[0]`, add it to your own block, and allreduce the sums with a sum: every rank returns
//! `vec![the allreduced sum]`.
//!
//! Check your work with `mpi-grade check --challenge allreduce` in this folder. You do not write a
//! `main`: the grader calls these functions from its own.

use mpi::topology::SimpleCommunicator;
#[allow(unused_imports)]
use mpi::traits::*;

/// `broadcast_into`, then `all_reduce_into` with `SystemOperation::sum()`.
pub fn allreduce(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let rank = comm.rank();
    let root = comm.process_at_rank(0);
    // Rank 0's values[0] is the block to broadcast; every rank's last block is its own.
    let own = values.last().expect("a block");
    let mut broadcast = if rank == 0 { values[0].clone() } else { vec![0; own.len()] };
    root.broadcast_into(&mut broadcast[..]);
    let sum: Vec<i64> = broadcast.iter().zip(own).map(|(b, o)| b + o).collect();
    let mut reduced = vec![0; sum.len()];
    comm.all_reduce_into(&sum[..], &mut reduced[..], mpi::collective::SystemOperation::sum());
    vec![reduced]
}
