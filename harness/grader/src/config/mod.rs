//! `challenges.toml`: what is graded, and how.
//!
//! ```toml
//! format_version = 1
//!
//! [[challenge]]
//! name = "alltoall"            # chosen with --challenge when the file has several
//! kind = "alltoall"            # fixes the student contract and the payload
//! ranks = [2, 3, 4, 5, 8]
//! scaling_factors = [1, 10, 100, 1000, 10000, 100000]
//!
//! [challenge.limits]
//! cell_seconds = 10            # one call of a student function
//! launch_seconds = 120         # one mpiexec job
//!
//! [[challenge.part]]
//! name = "part1"
//! expect = "deadlock"          # or "complete"
//! points = 1
//! visibility = "visible"       # Gradescope: or "hidden", "after_due_date", "after_published"
//! allowed_calls = ["MPI_Send", "MPI_Recv", "MPI_Mprobe", "MPI_Mrecv"]
//! required_calls = []
//! ```
//!
//! Parsing checks everything a grade relies on and reports problems with the file, line and
//! column of the offending value.

mod model;
mod raw;
mod validate;

pub use model::*;

/// The configuration shipped with mpi-grade (the repository's `challenges.toml`).
pub const BUNDLED: &str = include_str!("../../../../challenges.toml");
/// Name under which the bundled configuration appears in messages.
pub const BUNDLED_NAME: &str = "<bundled challenges.toml>";

#[cfg(test)]
mod tests;
