//! Run: the matrix of cells planned into launches, one `mpiexec` launch watched and stopped,
//! the processes it started, their captured output, the run directory ranks report through,
//! and the measurements (baselines, eager-limit probe) a grade compares with.

pub mod capture;
pub mod compare;
pub mod interrupt;
pub mod launch;
pub mod matrix;
pub mod probe;
pub mod procs;
pub mod rundir;
pub mod scratch;
