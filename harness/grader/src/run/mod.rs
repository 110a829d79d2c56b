//! Run: the matrix of cells planned into launches (through the `cells::Launches` seam, real
//! or scripted), one `mpiexec` launch watched and stopped, the job supervisor every child of
//! the grader runs under, the processes it started, their captured output, the run directory
//! ranks report through, and the measurements (baselines, eager-limit probe) a grade compares
//! with.

pub mod capture;
pub mod cells;
pub mod compare;
pub mod interrupt;
pub mod launch;
pub mod matrix;
pub mod probe;
pub mod procs;
pub mod rundir;
pub mod schedule;
pub mod scratch;
pub mod slurm;
pub mod supervisor;
