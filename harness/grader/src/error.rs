//! The grader's own failures. A student's failure is never an `Error`: it is an outcome.

use std::path::PathBuf;

/// Something that stops the grader from grading (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration file (a challenge's TOML, say) is wrong.
    #[error("{path}:{line}:{column}: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// Where in it, from 1.
        line: usize,
        /// Where in the line, from 1.
        column: usize,
        /// What is wrong.
        message: String,
    },

    /// A submission is not a crate the grader can build.
    #[error("{path}: {message}")]
    NotACrate {
        /// The submission's directory (or the file at fault).
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// No usable MPI implementation was found.
    #[error("{message}\n  install it with: {install}")]
    NoMpi {
        /// What was looked for and not found.
        message: String,
        /// The command that installs it.
        install: String,
    },

    /// An I/O operation of the grader's own failed.
    #[error("{context}: {source}")]
    Io {
        /// What the grader was doing.
        context: String,
        /// The error itself.
        #[source]
        source: std::io::Error,
    },

    /// Any other failure, worded for the user.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Wraps an I/O error with what the grader was doing.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}

/// The grader's result type: [`Error`] unless told otherwise.
pub type Result<T, E = Error> = std::result::Result<T, E>;
