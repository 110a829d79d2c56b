//! The `truncate` exercise of mpi-grade, from "An Introduction to MPI in Python - Part 1",
//! section "mpi4py Idiosyncracies: MPI_ERR_TRUNCATE".
//!
//! Receive an array of `i64` (NumPy's `'l'`) into a buffer of the same type and length.
//!
//! As `send-recv`, with a buffer: rank 0 sends its `values[0]` (`i64`s); rank 1 receives it into
//! a buffer of `i64`s as long as its own `values[0]` and returns `vec![it]`. A buffer of `i32`s
//! (the tutorial's `dtype='i'`) is half as many bytes: MPI reports `MPI_ERR_TRUNCATE`.
//!
//! Check your work with `mpi-grade check --challenge truncate` in this folder. You do not write a
//! `main`: the grader calls these functions from its own.

use mpi::topology::SimpleCommunicator;
#[allow(unused_imports)]
use mpi::traits::*;

/// Send, and receive into an `i64` buffer of the same length.
pub fn recv_typed(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let _ = (comm, values);
    todo!("recv_typed")
}
