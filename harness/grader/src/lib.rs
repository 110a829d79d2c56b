#![warn(missing_docs)]
//! mpi-grade: an auto-grader and self-checker for MPI message-passing exercises.
//!
//! A grade goes through one folder per stage of the pipeline (see ARCHITECTURE.md):
//!
//! - [`cli`]: the command line, turned into a validated request;
//! - [`config`]: `challenges.toml`, what is graded;
//! - [`build`]: the submission taken in and built into a driver program;
//! - [`run`]: which cells run in which `mpiexec` launch, one launch run and stopped;
//! - [`trace`]: the tracer's records, the wait-for graph, stall detection and diagnosis;
//! - [`judge`]: the outcome of each cell and the verdict on each part;
//! - [`report`]: the finished grade as data, rendered for people or as JSON and other formats;
//! - [`commands`]: one file per subcommand;
//! - [`sandbox`]: the isolation every build and launch of a submission runs in;
//! - [`mpi`]: the MPI implementation and its launcher;
//! - [`fmt`]: numbers as reports write them (a leaf every stage may use).
//!
//! A student's failure is a [`judge::outcome::Outcome`]; an [`error::Error`] is the grader's own.

pub mod build;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod fmt;
pub mod judge;
pub mod mpi;
pub mod report;
pub mod run;
pub mod sandbox;
pub mod trace;
