//! The command line: its flags ([`args`]), the request they make ([`request`]), and what each
//! subcommand prints and writes once the library has done its work ([`output`]).
//!
//! Exit codes: 0 when every graded part passes, 1 when a part fails, 2 when the grader itself
//! cannot work (bad configuration, no MPI, not a crate, ...) or the flags are wrong (clap's).

mod args;
mod output;
mod request;

use args::{Cli, Command};
use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;

/// Runs the command line of this process.
pub fn main() -> ExitCode {
    let mut command = Cli::command();
    // Looking for MPI takes a launcher's start: only for `--version`.
    if std::env::args_os().any(|a| a == "--version") {
        command = command.long_version(args::long_version());
    }
    let cli = Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit());
    if let Err(e) = request::usage(&cli) {
        e.exit();
    }
    let result = match cli.command {
        Command::Grade(args) => output::grade(args),
        Command::New(args) => output::new(args),
        Command::List(args) => output::list(args),
        Command::Check(args) => output::check(args),
        Command::Run(args) => output::run(args),
        Command::Merge(args) => output::merge(args),
        Command::Compare(args) => output::compare(args),
        Command::Probe(args) => output::probe(args),
        Command::Completions(args) => output::completions(args.shell),
        Command::Man => output::man(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // An error may quote a submission (its manifest, its paths).
            let e = crate::report::clean::clean(&e.to_string(), crate::report::clean::OUTPUT_BYTES);
            eprintln!("mpi-grade: error: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests;
