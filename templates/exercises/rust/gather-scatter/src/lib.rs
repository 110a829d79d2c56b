//! The `gather-scatter` exercise of mpi-grade, from "An Introduction to MPI in Python - Part 1",
//! section "gather and scatter".
//!
//! Gather to rank 0, then scatter from rank 0.
//!
//! Every rank is given its own block, `values[0]`; rank 0 is also given one block per rank,
//! `values[1..=size]`. Gather every rank's `values[0]` at rank 0, then scatter rank 0's
//! `values[1 + i]` to rank `i`. Every rank returns `vec![the block scattered to it]`; rank 0
//! returns that block followed by the gathered ones, in rank order.
//!
//! Check your work with `mpi-grade check --challenge gather-scatter` in this folder. You do not write a
//! `main`: the grader calls these functions from its own.

use mpi::topology::SimpleCommunicator;
#[allow(unused_imports)]
use mpi::traits::*;

/// `gather_into_root`, then `scatter_into_root`.
pub fn gather_scatter(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let _ = (comm, values);
    todo!("gather_scatter")
}
