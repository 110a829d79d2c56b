//! The alltoall challenge, from "An Introduction to MPI in Python - Part 1".
//!
//! Each function below exchanges one block of values between every pair of ranks: `values[i]` is
//! the block this rank sends to rank `i` (including itself), and element `i` of the result must be
//! the block this rank received from rank `i`, unchanged. Blocks can be short (1 element) or long
//! (100 000 elements); every function must work for any number of ranks from 2 up.
//!
//! Check your work with `mpi-grade grade .` (or `mpi-grade grade . --part 2` for one part). You
//! do not write a `main`: the grader calls these functions from its own.

use mpi::topology::SimpleCommunicator;
#[allow(unused_imports)]
use mpi::traits::*;

/// Part 1: an alltoall using only blocking `send` and `receive` (`MPI_Send`/`MPI_Recv`) that
/// **deadlocks for sufficiently large messages**.
///
/// It must return the right blocks when messages are small, and hang forever once they are too
/// large for the MPI library to buffer. The natural way: every rank first sends all its blocks,
/// then receives all of its blocks.
pub fn part1(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let _ = (comm, values);
    todo!("part 1: blocking send/receive alltoall that deadlocks for large messages")
}

/// Part 2: correct the deadlock of part 1, still using only blocking `send` and `receive`.
///
/// It must never deadlock, whatever the message size and the number of ranks, even if the MPI
/// library buffered nothing. Hint: order the sends and receives so that every send meets a
/// receive that is already waiting for it, and keep several pairs of ranks busy at once.
pub fn part2(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let _ = (comm, values);
    todo!("part 2: deadlock-free alltoall with blocking send/receive only")
}

/// Part 3: resolve the deadlock of part 1 with non-blocking sends instead: `immediate_send`
/// (`MPI_Isend`) to every rank, blocking `receive` (`MPI_Recv`), then wait for the sends.
///
/// Like part 2, it must work for every message size and rank count.
pub fn part3(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let _ = (comm, values);
    todo!("part 3: alltoall with Isend and blocking receive")
}
