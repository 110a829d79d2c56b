//! mpi-grade: an auto-grader and self-checker for MPI message-passing exercises.
//!
//! A grade goes through one module per concern:
//!
//! - [`config`]: `challenges.toml`, what is graded;
//! - [`compile`]: the submission built into a driver program (with [`embedded`] sources);
//! - [`schedule`]: which cells run in which `mpiexec` launch;
//! - [`launch`], [`launcher`], [`procs`], [`capture`]: running one launch and stopping it;
//! - [`rundir`]: the files ranks report through;
//! - [`verify`], [`classify`]: the outcome of each cell ([`outcome`]);
//! - [`verdict`]: the verdict on each part;
//! - [`report`]: the finished grade as data, rendered for people or as JSON.
//!
//! A student's failure is an [`outcome::Outcome`]; an [`error::Error`] is the grader's own.

pub mod batch;
pub mod capture;
pub mod classify;
pub mod cli;
pub mod compare;
pub mod compile;
pub mod config;
pub mod embedded;
pub mod error;
pub mod grade;
pub mod intake;
pub mod interrupt;
pub mod launch;
pub mod launcher;
pub mod learn;
pub mod outcome;
pub mod probe;
pub mod procs;
pub mod program;
pub mod report;
pub mod rundir;
pub mod sandbox;
pub mod schedule;
pub mod solutions;
pub mod template;
pub mod trace;
pub mod verdict;
pub mod verify;
