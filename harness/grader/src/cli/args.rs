//! The command line as clap sees it: flags, their defaults, ranges and conflicts.
//!
//! Nothing here is used by the library: [`super::request`] turns these into the library's own
//! options. Flags that several subcommands share are one struct flattened into each, with the
//! help text of a subcommand adjusted by `mut_arg` where its wording differs.

use crate::mpi::Choice;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `--version`'s first line: the crate's version and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("MPI_GRADE_COMMIT"),
    ")"
);

/// `--version` in full: [`VERSION`], then each MPI implementation found (or not) on this
/// machine.
pub fn long_version() -> String {
    let mut text = format!("{VERSION}\n");
    for implementation in crate::mpi::Implementation::ALL {
        let found = crate::mpi::Launcher::detect(Choice::Only(implementation));
        let line = match found {
            Ok(l) => format!("{} ({})", l.version, l.mpiexec.display()),
            Err(_) => "not found".to_string(),
        };
        text.push_str(&format!("{}: {line}\n", implementation.display_name()));
    }
    text
}

/// The whole command line.
#[derive(Debug, Parser)]
#[command(
    name = "mpi-grade",
    version = VERSION,
    about = "Auto-grader and self-checker for MPI message-passing exercises"
)]
pub struct Cli {
    /// The subcommand and its flags.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build a student crate and grade every part on real MPI.
    Grade(GradeArgs),
    /// Write the starter crate of a challenge into a new directory.
    New(NewArgs),
    /// The challenges of the catalogue, one line each, with the tutorial section of each.
    List(ListArgs),
    /// A student's self-check: grade the crate here (or CRATE_DIR) and explain each failure.
    Check(CheckArgs),
    /// Time a crate's parts against the reference solutions and the library's MPI_Alltoall.
    Compare(CompareArgs),
    /// What the local MPI does: implementation, start-up time, and the eager limit (the
    /// largest message a standard send completes without a matching receive).
    Probe(ProbeArgs),
    /// Join the JSON reports of a class graded in shards (`grade --batch ROOT --partition K/N`,
    /// each with `--out DIR`) into one gradebook, JUnit file, HTML class page and summary, as
    /// one unsplit batch writes them. Exits 0 when every part of every submission passed.
    Merge(MergeArgs),
    /// Run any MPI program under the tracer and explain it if it deadlocks or hangs.
    ///
    /// Exits with 240 (the ranks' calls do not match, even if the program then completed:
    /// collectives called differently, a message truncated, received as another datatype or
    /// never received), 241 (deadlock), 242 (hang), 243 (time limit) or 244 (the MPI library
    /// ended the program from inside a call: an argument it refused); else with the program's
    /// own status; 2 when mpi-grade itself cannot work. MPI error classes (which the
    /// libraries' fatal error handlers exit with) stay below 100.
    Run(RunArgs),
    /// Print the completion script of SHELL on stdout (`mpi-grade completions bash >
    /// ~/.local/share/bash-completion/completions/mpi-grade`).
    Completions(CompletionsArgs),
    /// Print the man page (roff) on stdout (`mpi-grade man > mpi-grade.1; man ./mpi-grade.1`).
    Man,
}

/// `mpi-grade completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Which challenges file, which challenge of it, which of its parts (`grade`, `check`,
/// `compare`).
#[derive(Debug, Clone, clap::Args)]
pub struct Selection {
    /// The challenges file [default: ./challenges.toml if present, else the bundled one].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Which challenge of the file (needed when it has several).
    #[arg(long, value_name = "NAME")]
    pub challenge: Option<String>,
    /// Grade only this part (`2` or `part2`); repeat for several.
    #[arg(long = "part", value_name = "PART")]
    pub parts: Vec<String>,
    /// The submission's language [default: rust with a Cargo.toml, python with *.py files].
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
}

/// `--lang` (its values carry no doc comments: clap would list them in `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[allow(missing_docs)]
pub enum LangArg {
    Rust,
    Python,
}

/// Which MPI, and where builds are cached (`grade`, `check`, `compare`).
#[derive(Debug, Clone, clap::Args)]
pub struct Machine {
    /// MPI implementation: openmpi, mpich or auto.
    #[arg(long, value_name = "IMPL", value_parser = parse_mpi)]
    pub mpi: Option<Choice>,
    /// Where builds and runs are cached [default: $XDG_CACHE_HOME/mpi-grade or ~/.cache/mpi-grade].
    #[arg(long, value_name = "DIR", env = "MPI_GRADE_CACHE")]
    pub cache_dir: Option<PathBuf>,
}

/// Which MPI (the first installed by default), and where the tracer is built (`probe`, `run`).
#[derive(Debug, Clone, clap::Args)]
pub struct Launch {
    /// MPI implementation: openmpi, mpich or auto.
    #[arg(long, value_name = "IMPL", value_parser = parse_mpi, default_value = "auto")]
    pub mpi: Choice,
    /// Where builds are cached and the findings kept for grades.
    #[arg(long, value_name = "DIR", env = "MPI_GRADE_CACHE")]
    pub cache_dir: Option<PathBuf>,
}

/// What the terminal shows while a grade runs (`grade`, `check`, `compare`).
#[derive(Debug, Clone, clap::Args)]
pub struct Terminal {
    /// Colour the table.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No progress lines on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `mpi-grade compare`.
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("parts", |a| a.help("Compare only this part (`2` or `part2`); repeat for several")),
    mut_arg("cache_dir", |a| a.help("Where builds, runs and the references' timings are cached")),
)]
pub struct CompareArgs {
    /// The crate to time (a student's, or solutions/reference).
    pub crate_dir: PathBuf,
    /// The challenge and parts.
    #[command(flatten)]
    pub selection: Selection,
    /// Calls timed per cell: the fastest (of the slowest rank) counts.
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repetitions: u32,
    /// The MPI and the cache.
    #[command(flatten)]
    pub machine: Machine,
    /// Also write the report as JSON to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Colours and progress lines.
    #[command(flatten)]
    pub terminal: Terminal,
    /// Build and run the crate without isolation (only for code you trust).
    #[arg(long)]
    pub no_sandbox: bool,
}

/// `mpi-grade check`.
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("parts", |a| a.help("Check only this part (`2` or `part2`); repeat for several")),
    mut_arg("cache_dir", |a| a.help("Where builds are cached")),
    mut_arg("color", |a| a.help("Colour the report")),
)]
pub struct CheckArgs {
    /// The crate to check.
    #[arg(default_value = ".")]
    pub crate_dir: PathBuf,
    /// Also write the report as a self-contained HTML page to DIR/index.html.
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,
    /// The challenge and parts.
    #[command(flatten)]
    pub selection: Selection,
    /// The MPI and the cache.
    #[command(flatten)]
    pub machine: Machine,
    /// Colours and progress lines.
    #[command(flatten)]
    pub terminal: Terminal,
    /// Also write the report as JSON to FILE (`-` for stdout; the explanations then go to
    /// stderr).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Payload seed (decimal or 0x-hex, a report's `seed_string`), to reproduce a check.
    #[arg(long, value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Do not compare the parts' times with the reference solutions and MPI_Alltoall.
    #[arg(long)]
    pub no_compare: bool,
    /// CRATE_DIR is a folder of exercises: check each subfolder named after a challenge
    /// (`send-recv/`, `alltoall/`, ...) with that challenge, and print one summary.
    #[arg(long, conflicts_with_all = ["challenge", "parts", "html", "json", "seed"])]
    pub all: bool,
}

/// `mpi-grade list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The challenges file [default: ./challenges.toml if present, else the bundled one].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `mpi-grade probe`.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// The MPI and the cache.
    #[command(flatten)]
    pub launch: Launch,
    /// Colours and progress lines.
    #[command(flatten)]
    pub terminal: Terminal,
    /// Also write the findings as JSON to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// `mpi-grade run`.
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("mpi", |a| a.help("MPI implementation: openmpi, mpich or auto (the first installed)")),
    mut_arg("cache_dir", |a| a.help("Where the tracer is built and runs are kept")),
)]
pub struct RunArgs {
    /// Number of ranks.
    #[arg(short = 'n', long = "np", value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub ranks: u32,
    /// Make every standard MPI_Send synchronous (MPI_Ssend): a program that is only safe
    /// because the library buffers small messages deadlocks at any size.
    #[arg(long)]
    pub zero_buffer: bool,
    /// A rank outside MPI this long while others wait for it is a hang. A program may
    /// compute for long between calls, so the default is long (a grade uses its challenge's
    /// own limit); every rank blocked in MPI with nothing completing is a stall after 5 s or
    /// this, whichever is shorter.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = parse_seconds)]
    pub hang_after: f64,
    /// Stop the program after this long.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0, value_parser = parse_seconds)]
    pub timeout: f64,
    /// Write how the run ended (diagnosis, MPI calls) as JSON to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write how the run ended, with a deadlock's or hang's wait-for graph drawn, to
    /// DIR/index.html.
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,
    /// The MPI and the cache.
    #[command(flatten)]
    pub launch: Launch,
    /// Colours, and (`-q`) no line on stderr when the program simply exits.
    #[command(flatten)]
    pub terminal: Terminal,
    /// The program and its arguments, after `--`.
    #[arg(required = true, last = true, value_name = "PROGRAM")]
    pub command: Vec<String>,
}

/// `mpi-grade grade`.
///
/// The flags about one submission (`--json`, `--dot`, `--gradescope`, `--classroom`) conflict
/// with `--batch` here; a batch of several CRATE_DIRs is counted by [`super::request::usage`],
/// since clap cannot count a positional's values.
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("challenge", |a| a.help("Which challenge of the file to grade (needed when it has several)")),
    mut_arg("mpi", |a| a.help("MPI implementation: openmpi, mpich or auto (the first installed) [default: the config's `[launch] mpi`, else auto]")),
)]
pub struct GradeArgs {
    /// The student crate (a library crate with `part1`, `part2`, ... in src/lib.rs); several
    /// grade a batch.
    #[arg(value_name = "CRATE_DIR", required_unless_present = "batch")]
    pub crate_dirs: Vec<PathBuf>,
    /// Grade every subdirectory of ROOT as a submission (a batch).
    #[arg(long, value_name = "ROOT", conflicts_with = "crate_dirs")]
    pub batch: Option<PathBuf>,
    /// Batch: write each submission's reports to DIR/<name>.json and DIR/<name>.txt as soon as
    /// it is graded.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Batch: the gradebook (points per part, total, failures), rewritten after each submission.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Batch: grade share K of N only (1 ≤ K ≤ N): the submissions whose name hashes to it,
    /// the same share whatever else is in ROOT (a Slurm job array, a CI matrix; join the
    /// shards' `--out` directories with `mpi-grade merge`).
    #[arg(long, value_name = "K/N", requires = "batch", value_parser = crate::commands::shard::Partition::parse)]
    pub partition: Option<crate::commands::shard::Partition>,
    /// Also write JUnit XML to FILE (GitLab, Jenkins, test-report actions): a test suite per
    /// submission, a test case per part.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write Gradescope's results.json (to FILE, or into DIR).
    #[arg(long, value_name = "FILE_OR_DIR", conflicts_with = "batch")]
    pub gradescope: Option<PathBuf>,
    /// Gradescope: each test's output as HTML (the grid and the wait-for graphs drawn;
    /// `output_format: "html"`) instead of plain text.
    #[arg(long, requires = "gradescope")]
    pub gradescope_html: bool,
    /// Also write the report as a self-contained HTML page to DIR/index.html (grid, wait-for
    /// graphs, plots); a batch writes DIR/<name>.html per submission and the class page
    /// DIR/index.html.
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,
    /// Also give GitHub Classroom's result: a `result=` line appended to $GITHUB_OUTPUT, or
    /// printed after the report when that is unset.
    #[arg(long, conflicts_with = "batch")]
    pub classroom: bool,
    /// Batch: build the next submission while the current one runs [auto: when there are more
    /// cores than ranks].
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = BuildAheadArg::Auto)]
    pub build_ahead: BuildAheadArg,
    /// The challenge and parts.
    #[command(flatten)]
    pub selection: Selection,
    /// Payload seed (decimal or 0x-hex), to reproduce a grade: the JSON report's `seed_string`;
    /// random by default.
    #[arg(long, value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Also write the report as JSON to FILE (`-` for stdout; the table then goes to stderr).
    #[arg(long, value_name = "FILE", conflicts_with = "batch")]
    pub json: Option<PathBuf>,
    /// The MPI and the cache.
    #[command(flatten)]
    pub machine: Machine,
    /// Keep the run directories (plans and rank events) and print where.
    #[arg(long)]
    pub keep_runs: bool,
    /// Write the wait-for graphs of the deadlocks and hangs found to FILE, for Graphviz.
    #[arg(long, value_name = "FILE", conflicts_with = "batch")]
    pub dot: Option<PathBuf>,
    /// Do not trace MPI calls: stalls are then time-outs, and calls and zero-buffer mode are not
    /// checked (for comparison; the grade is then incomplete).
    #[arg(long)]
    pub no_trace: bool,
    /// Do not compare the parts' times with the reference solutions and MPI_Alltoall.
    #[arg(long)]
    pub no_compare: bool,
    /// Check the submission (a crate, its manifest against the challenge's rules) and the
    /// configuration, print the launch command line of each rank count, and run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Build and run the submission without isolation (no own PID, mount or network namespace,
    /// user, cgroup, limits, scrubbed environment or scratch copy): only for code you trust.
    /// Without it, a machine that cannot give the sandbox refuses to grade (exit 2).
    #[arg(long)]
    pub no_sandbox: bool,
    /// Colours and progress lines.
    #[command(flatten)]
    pub terminal: Terminal,
}

/// `mpi-grade merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shards' JSON reports: files, or directories (each shard's `--out DIR`) whose
    /// `*.json` are read.
    #[arg(required = true, value_name = "REPORTS")]
    pub reports: Vec<PathBuf>,
    /// The gradebook of all the shards' submissions.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// JUnit XML of all of them, a test suite per submission.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// DIR/<name>.html per submission and the class page DIR/index.html.
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,
}

/// `mpi-grade new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// Directory to create.
    pub dir: PathBuf,
    /// Challenge kind of the starter crate.
    #[arg(long, default_value = "alltoall", value_parser = starter_kinds())]
    pub kind: String,
    /// The starter of this challenge of the catalogue (`mpi-grade list` names them).
    #[arg(long, value_name = "NAME", conflicts_with = "kind")]
    pub challenge: Option<String>,
    /// Write the Python starter (mpi4py and NumPy) instead of a Rust crate.
    #[arg(long)]
    pub python: bool,
}

/// `--color` (its values carry no doc comments: clap would list them in `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `--build-ahead`, mapped onto [`crate::commands::batch::BuildAhead`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BuildAheadArg {
    /// When the machine has more cores than the largest rank count: the build then never
    /// competes with the ranks for a core.
    Auto,
    Always,
    Never,
}

/// The kinds `new` has a starter crate for (the embedded `templates/KIND`): clap lists them when
/// `--kind` is given another.
fn starter_kinds() -> clap::builder::PossibleValuesParser {
    let kinds = crate::build::embedded::TREES
        .iter()
        .filter_map(|(name, _)| name.strip_prefix("templates/"))
        // templates/python holds the Python starters (`new --python`), one file per kind, and
        // templates/exercises the catalogue's (`new --challenge`).
        .filter(|kind| *kind != "python" && *kind != "exercises");
    clap::builder::PossibleValuesParser::new(kinds)
}

fn parse_mpi(text: &str) -> std::result::Result<Choice, String> {
    Choice::parse(text)
        .ok_or_else(|| format!("`{text}` is not an MPI implementation (openmpi, mpich or auto)"))
}

/// A seed in decimal or 0x-hex; the decimal may keep the double quotes of a JSON string (the
/// report's `seed_string`, as `jq` without `-r` prints it).
pub(crate) fn parse_seed(text: &str) -> std::result::Result<u64, String> {
    let bare = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    let parsed = match bare.strip_prefix("0x").or_else(|| bare.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => bare.parse(),
    };
    parsed.map_err(|_| format!("`{text}` is not a seed (a decimal or 0x-hex 64-bit number)"))
}

/// A positive, finite number of seconds.
pub(crate) fn parse_seconds(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("`{text}` is not a positive number of seconds")),
    }
}
