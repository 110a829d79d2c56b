//! The grader's own failures. A student's failure is never an `Error`: it is an outcome.

use std::path::PathBuf;

/// Something that stops the grader from grading (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}:{line}:{column}: {message}")]
    Config {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{path}: {message}")]
    NotACrate { path: PathBuf, message: String },

    #[error("{message}\n  install it with: {install}")]
    NoMpi { message: String, install: String },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

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

pub type Result<T, E = Error> = std::result::Result<T, E>;
