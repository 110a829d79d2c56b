#![warn(missing_docs)]
//! PMPI interposition library of mpi-grade, preloaded (`LD_PRELOAD`) into every rank.
//!
//! Every MPI function named by [`mpi_grade_protocol::trace::Func`] is exported here under its
//! `MPI_` name and forwards to the library's `PMPI_` twin; the `PMPI_` name is exported too and
//! traced the same way when the program calls it (see [`pmpi`]). When the grader set
//! [`ENV_TRACE_DIR`](mpi_grade_protocol::run::ENV_TRACE_DIR), the first `MPI_Init` maps the
//! rank's record file (see [`mpi_grade_protocol::trace`]) and every wrapper keeps it current:
//! per-cell call counts and first call sites, the call the rank is blocked in and what it
//! waits for, its pending requests and its communicators. Without the variable (or when
//! mapping fails) the library stays passive and only forwards.
//!
//! Modules, one concern each:
//!
//! - [`record`]: activation after `MPI_Init`: mapping the file, filling the header.
//! - [`tracer`]: the process-wide tracer state and the hot-path operations every wrapper uses
//!   (re-entrancy guard, counting, call sites, the current-call slot, progress, `Pcontrol`).
//! - [`comms`]: the communicator table, cross-rank ids, rank translation.
//! - [`requests`]: the pending-request table.
//! - [`stack`]: stack capture and the [`STACK_SIGNAL`](mpi_grade_protocol::trace::STACK_SIGNAL)
//!   handler.
//! - [`handle`]: MPI handles as bits, the same code for Open MPI (pointers) and MPICH (ints).
//! - [`wrappers`]: the exported `MPI_*` functions (and, where the library has them, the MPI-4
//!   large-count `MPI_*_c` ones, traced as their int-count twins).
//! - [`pmpi`]: the exported `PMPI_*` functions, and the library's, which the wrappers call.
//!
//! The hot path takes no locks, allocates nothing (but for the large-count v/w collectives,
//! which copy their count arrays) and makes no system call (the monotonic clock is read
//! through the vDSO). It must never panic: a panic cannot cross the C boundary.

pub mod comms;
pub mod handle;
pub mod pmpi;
pub mod record;
pub mod requests;
pub mod stack;
pub mod tracer;
pub mod wrappers;

#[cfg(test)]
mod tests;
