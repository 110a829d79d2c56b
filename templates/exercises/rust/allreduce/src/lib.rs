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
    let _ = (comm, values);
    todo!("allreduce")
}
