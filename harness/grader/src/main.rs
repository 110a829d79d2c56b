//! The `mpi-grade` command: everything happens in the library.

fn main() -> std::process::ExitCode {
    mpi_grade::cli::main()
}
