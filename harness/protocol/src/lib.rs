#![warn(missing_docs)]
//! The contract between `mpi-grade`, the code running in each rank, and the tracer.
//!
//! Everything that crosses a process boundary is defined here, once:
//!
//! - [`payload`]: the values every rank sends, expanded from a key only that rank holds. The
//!   grader knows every key and checks every received element itself.
//! - [`run`]: the files of a run directory. The grader writes `plan.json`; each rank appends
//!   JSON lines to `ranks/<rank>.jsonl`. Plain files and JSON, so that a driver in another
//!   language (an mpi4py one, say) can take part by following `docs/protocol.md`.
//! - [`trace`]: the shared-memory record the tracer keeps per rank, which the grader reads while
//!   the ranks run, and the `MPI_Pcontrol` levels that mark the student's code.

pub mod payload;
pub mod run;
pub mod shake;
pub mod trace;
