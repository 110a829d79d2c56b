//! The `buffers` exercise of mpi-grade, from "An Introduction to MPI in Python - Part 1",
//! section "mpi4py Idiosyncracies".
//!
//! The buffer variants: each part is an earlier exercise, received into buffers of the
//! right type and size (in Python: NumPy arrays with the upper-case calls, `Send`, `Bcast`, ...).
//!
//! * `send_recv_buffers`: as `send-recv`, rank 1 receives into a buffer (`receive_into`).
//! * `bcast_reduce_max`: as `bcast-reduce`, with `SystemOperation::max()`.
//! * `gather_scatter_buffers`: as `gather-scatter`.
//! * `allreduce_max`: as `allreduce`, with `SystemOperation::max()`.
//!
//! Check your work with `mpi-grade check --challenge buffers` in this folder. You do not write a
//! `main`: the grader calls these functions from its own.

use mpi::topology::SimpleCommunicator;
#[allow(unused_imports)]
use mpi::traits::*;

/// Send, and receive into a buffer of the right length.
pub fn send_recv_buffers(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let _ = (comm, values);
    todo!("send_recv_buffers")
}

/// Broadcast, then reduce with the maximum to rank 0.
pub fn bcast_reduce_max(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let _ = (comm, values);
    todo!("bcast_reduce_max")
}

/// Gather, then scatter, of buffers.
pub fn gather_scatter_buffers(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let _ = (comm, values);
    todo!("gather_scatter_buffers")
}

/// Broadcast, then allreduce with the maximum.
pub fn allreduce_max(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let _ = (comm, values);
    todo!("allreduce_max")
}
