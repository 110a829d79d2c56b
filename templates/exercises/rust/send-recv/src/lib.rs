//! The `send-recv` exercise of mpi-grade, from "An Introduction to MPI in Python - Part 1",
//! section "send and recv".
//!
//! Rank 0 sends a block to rank 1 with a blocking send; rank 1 receives it.
//!
//! Every rank is given one block (`values[0]`). Rank 0 sends its `values[0]` to rank 1 and returns
//! nothing (`vec![]`); rank 1 receives it and returns `vec![received]`; any other rank returns
//! `vec![]`. Rank 1's own `values[0]` only tells it the length (it is not what rank 0 sent).
//!
//! Check your work with `mpi-grade check --challenge send-recv` in this folder. You do not write a
//! `main`: the grader calls these functions from its own.

use mpi::topology::SimpleCommunicator;
#[allow(unused_imports)]
use mpi::traits::*;

/// Blocking `send` on rank 0, `receive` on rank 1.
pub fn send_recv(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let _ = (comm, values);
    todo!("send_recv")
}
