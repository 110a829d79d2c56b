//! The `isend-irecv` exercise of mpi-grade, from "An Introduction to MPI in Python - Part 1",
//! section "Blocking and non-blocking calls".
//!
//! Non-blocking send and receive, then wait.
//!
//! As `send-recv`: rank 0 sends its `values[0]` to rank 1 with `immediate_send` (`MPI_Isend`),
//! rank 1 receives it into a buffer with `immediate_receive_into` (`MPI_Irecv`), and both wait
//! for their request before the buffer is used again (`MPI_Wait`).
//!
//! Check your work with `mpi-grade check --challenge isend-irecv` in this folder. You do not write a
//! `main`: the grader calls these functions from its own.

use mpi::topology::SimpleCommunicator;
#[allow(unused_imports)]
use mpi::traits::*;

/// `immediate_send` / `immediate_receive_into`, then `wait`.
pub fn isend_irecv(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let _ = (comm, values);
    todo!("isend_irecv")
}
