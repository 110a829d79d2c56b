//! Command-line arguments, and the glue from them to the library.
//!
//! Exit codes: 0 when every graded part passes, 1 when a part fails, 2 when the grader itself
//! cannot work (bad configuration, no MPI, not a crate, ...).

use crate::commands::batch::{self, BuildAhead};
use crate::commands::grade::{self, GradeOptions};
use crate::config::{Challenge, Config, Expect};
use crate::error::{Error, Result};
use crate::mpi::Choice;
use crate::report::{classroom, file, gradescope, human, json, junit, Report};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "mpi-grade",
    version,
    about = "Auto-grader and self-checker for MPI message-passing exercises"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build a student crate and grade every part on real MPI.
    Grade(GradeArgs),
    /// Write the starter crate of a challenge into a new directory.
    New(NewArgs),
    /// A student's self-check: grade the crate here (or CRATE_DIR) and explain each failure.
    Check(CheckArgs),
    /// Time a crate's parts against the reference solutions and the library's MPI_Alltoall.
    Compare(CompareArgs),
    /// What the local MPI does: implementation, start-up time, and the eager limit (the
    /// largest message a standard send completes without a matching receive).
    Probe(ProbeArgs),
    /// Run any MPI program under the tracer and explain it if it deadlocks or hangs.
    ///
    /// Exits with the program's status, or 3 (deadlock), 4 (hang), 5 (time limit); 2 when
    /// mpi-grade itself cannot work.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
struct CompareArgs {
    /// The crate to time (a student's, or solutions/reference).
    crate_dir: PathBuf,
    /// The challenges file [default: ./challenges.toml if present, else the bundled one].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Which challenge of the file (needed when it has several).
    #[arg(long, value_name = "NAME")]
    challenge: Option<String>,
    /// Compare only this part (`2` or `part2`); repeat for several.
    #[arg(long = "part", value_name = "PART")]
    parts: Vec<String>,
    /// Calls timed per cell: the fastest (of the slowest rank) counts.
    #[arg(long, value_name = "N", default_value_t = 5)]
    repetitions: u32,
    /// MPI implementation: openmpi, mpich or auto.
    #[arg(long, value_name = "IMPL", value_parser = parse_mpi)]
    mpi: Option<Choice>,
    /// Also write the report as JSON to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Colour the table.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Where builds, runs and the references' timings are cached.
    #[arg(long, value_name = "DIR", env = "MPI_GRADE_CACHE")]
    cache_dir: Option<PathBuf>,
    /// No progress lines on stderr.
    #[arg(short, long)]
    quiet: bool,
    /// Build and run the crate without isolation (only for code you trust).
    #[arg(long)]
    no_sandbox: bool,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The crate to check.
    #[arg(default_value = ".")]
    crate_dir: PathBuf,
    /// The challenges file [default: ./challenges.toml if present, else the bundled one].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Which challenge of the file (needed when it has several).
    #[arg(long, value_name = "NAME")]
    challenge: Option<String>,
    /// Check only this part (`2` or `part2`); repeat for several.
    #[arg(long = "part", value_name = "PART")]
    parts: Vec<String>,
    /// MPI implementation: openmpi, mpich or auto.
    #[arg(long, value_name = "IMPL", value_parser = parse_mpi)]
    mpi: Option<Choice>,
    /// Colour the report.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Where builds are cached.
    #[arg(long, value_name = "DIR", env = "MPI_GRADE_CACHE")]
    cache_dir: Option<PathBuf>,
    /// No progress lines on stderr.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Debug, clap::Args)]
struct ProbeArgs {
    /// MPI implementation: openmpi, mpich or auto.
    #[arg(long, value_name = "IMPL", value_parser = parse_mpi, default_value = "auto")]
    mpi: Choice,
    /// Also write the findings as JSON to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Where builds are cached and the findings kept for grades.
    #[arg(long, value_name = "DIR", env = "MPI_GRADE_CACHE")]
    cache_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Number of ranks.
    #[arg(short = 'n', long = "np", value_name = "N")]
    ranks: u32,
    /// Make every standard MPI_Send synchronous (MPI_Ssend): a program that is only safe
    /// because the library buffers small messages deadlocks at any size.
    #[arg(long)]
    zero_buffer: bool,
    /// A rank outside MPI this long while others wait for it is a hang.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    hang_after: f64,
    /// Stop the program after this long.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0)]
    timeout: f64,
    /// Write how the run ended (diagnosis, MPI calls) as JSON to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// MPI implementation: openmpi, mpich or auto (the first installed).
    #[arg(long, value_name = "IMPL", value_parser = parse_mpi, default_value = "auto")]
    mpi: Choice,
    /// Where the tracer is built and runs are kept.
    #[arg(long, value_name = "DIR", env = "MPI_GRADE_CACHE")]
    cache_dir: Option<PathBuf>,
    /// The program and its arguments, after `--`.
    #[arg(required = true, last = true, value_name = "PROGRAM")]
    command: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct GradeArgs {
    /// The student crate (a library crate with `part1`, `part2`, ... in src/lib.rs); several
    /// grade a batch.
    #[arg(value_name = "CRATE_DIR", required_unless_present = "batch")]
    crate_dirs: Vec<PathBuf>,
    /// Grade every subdirectory of ROOT as a submission (a batch).
    #[arg(long, value_name = "ROOT", conflicts_with = "crate_dirs")]
    batch: Option<PathBuf>,
    /// Batch: write each submission's reports to DIR/<name>.json and DIR/<name>.txt as soon as
    /// it is graded.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Batch: the gradebook (points per part, total, failures), rewritten after each submission.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Also write JUnit XML to FILE (GitLab, Jenkins, test-report actions): a test suite per
    /// submission, a test case per part.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write Gradescope's results.json (to FILE, or into DIR).
    #[arg(long, value_name = "FILE_OR_DIR")]
    gradescope: Option<PathBuf>,
    /// Also give GitHub Classroom's result: a `result=` line appended to $GITHUB_OUTPUT, or
    /// printed after the report when that is unset.
    #[arg(long)]
    classroom: bool,
    /// Batch: build the next submission while the current one runs [auto: when there are more
    /// cores than ranks].
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = BuildAhead::Auto)]
    build_ahead: BuildAhead,
    /// The challenges file [default: ./challenges.toml if present, else the bundled one].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Which challenge of the file to grade (needed when it has several).
    #[arg(long, value_name = "NAME")]
    challenge: Option<String>,
    /// Grade only this part (`2` or `part2`); repeat for several.
    #[arg(long = "part", value_name = "PART")]
    parts: Vec<String>,
    /// Payload seed (decimal or 0x-hex), to reproduce a grade; random by default.
    #[arg(long, value_parser = parse_seed)]
    seed: Option<u64>,
    /// Also write the report as JSON to FILE (`-` for stdout; the table then goes to stderr).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Colour the table.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// MPI implementation: openmpi, mpich or auto (the first installed) [default: the
    /// config's `[launch] mpi`, else auto].
    #[arg(long, value_name = "IMPL", value_parser = parse_mpi)]
    mpi: Option<Choice>,
    /// Where builds and runs are cached [default: $XDG_CACHE_HOME/mpi-grade or ~/.cache/mpi-grade].
    #[arg(long, value_name = "DIR", env = "MPI_GRADE_CACHE")]
    cache_dir: Option<PathBuf>,
    /// Keep the run directories (plans and rank events) and print where.
    #[arg(long)]
    keep_runs: bool,
    /// Write the wait-for graphs of the deadlocks and hangs found to FILE, for Graphviz.
    #[arg(long, value_name = "FILE")]
    dot: Option<PathBuf>,
    /// Do not trace MPI calls: stalls are then time-outs, and calls and zero-buffer mode are not
    /// checked (for comparison; the grade is then incomplete).
    #[arg(long)]
    no_trace: bool,
    /// Do not compare the parts' times with the reference solutions and MPI_Alltoall.
    #[arg(long)]
    no_compare: bool,
    /// Print the launch command line of each rank count, and run nothing.
    #[arg(long)]
    dry_run: bool,
    /// Build and run the submission without isolation (no own PID, mount or network namespace,
    /// user, cgroup, limits, scrubbed environment or scratch copy): only for code you trust.
    /// Without it, a machine that cannot give the sandbox refuses to grade (exit 2).
    #[arg(long)]
    no_sandbox: bool,
    /// No progress lines on stderr.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Debug, clap::Args)]
struct NewArgs {
    /// Directory to create.
    dir: PathBuf,
    /// Challenge kind of the starter crate.
    #[arg(long, default_value = "alltoall")]
    kind: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Runs the command line of this process.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Grade(args) => run_grade(args),
        Command::New(args) => run_new(args),
        Command::Check(args) => run_check(args),
        Command::Run(args) => run_program(args),
        Command::Compare(args) => run_compare(args),
        Command::Probe(args) => run_probe(args),
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

/// `--config FILE`, else `./challenges.toml` if present, else the bundled one.
fn load_config(path: Option<&Path>) -> Result<Config> {
    match path {
        Some(path) => Config::load(path),
        None if Path::new("challenges.toml").is_file() => {
            Config::load(Path::new("challenges.toml"))
        }
        None => Ok(Config::bundled()),
    }
}

fn run_grade(args: GradeArgs) -> Result<ExitCode> {
    let config = load_config(args.config.as_deref())?;
    let challenge = config.challenge(args.challenge.as_deref())?.clone();
    let json_to_stdout = args.json.as_deref() == Some(Path::new("-"));
    colour_the_table(args.color, json_to_stdout);

    let batch = match &args.batch {
        Some(root) => Some(batch::under(root)?),
        None if args.crate_dirs.len() > 1 => Some(batch::named(&args.crate_dirs)),
        None => None,
    };
    if args.dry_run {
        let dir = batch.as_ref().map_or(&args.crate_dirs[0], |b| &b[0].dir);
        return dry_run(&config, &challenge, args.mpi.unwrap_or(config.mpi), dir);
    }
    crate::run::procs::become_subreaper();
    crate::run::interrupt::install();
    let mut options = GradeOptions {
        parts: args.parts.clone(),
        seed: args.seed,
        keep_runs: args.keep_runs,
        trace: !args.no_trace,
        compare: !args.no_compare,
        sandbox: !args.no_sandbox,
        ..default_options(
            &config,
            challenge,
            args.crate_dirs.first().cloned().unwrap_or_default(),
            args.mpi,
            args.cache_dir.clone(),
            args.quiet,
        )
    };
    if let Some(entries) = batch {
        options.progress = false;
        return run_batch(&args, &options, &entries);
    }
    if args.out.is_some() || args.csv.is_some() {
        return Err(Error::Other(
            "--out and --csv are for batches: give several crates or --batch ROOT".into(),
        ));
    }
    let report = grade::grade(&options)?;
    // Course tooling's files first: a reader of the table must not delay them.
    if let Some(path) = &args.junit {
        file::write(path, |out| junit::write(std::slice::from_ref(&report), out))
            .map_err(Error::io(format!("cannot write {}", path.display())))?;
    }
    if let Some(target) = &args.gradescope {
        let path = gradescope::results_path(target);
        file::write(&path, |out| gradescope::write(&report, out))
            .map_err(Error::io(format!("cannot write {}", path.display())))?;
    }
    write_reports(&report, args.json.as_deref(), json_to_stdout, human::render)?;
    if args.classroom {
        classroom::emit(&report).map_err(Error::io("cannot write the GitHub Classroom result"))?;
    }
    if let Some(path) = &args.dot {
        let graph = crate::trace::diagnosis::dot(report.diagnoses());
        std::fs::write(path, graph)
            .map_err(Error::io(format!("cannot write {}", path.display())))?;
    }
    Ok(exit_code(&report))
}

/// Writes the JSON report (to a file, or stdout) and then the human one with `render` (to
/// stdout, or stderr when the JSON went there).
fn write_reports(
    report: &Report,
    json_path: Option<&Path>,
    json_to_stdout: bool,
    render: fn(&Report, &mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    // The machine-readable result first: a reader of the table must not delay it.
    if let Some(path) = json_path {
        if json_to_stdout {
            json::write(report, &mut std::io::stdout().lock())
                .map_err(Error::io("cannot write the JSON report"))?;
        } else {
            file::write(path, |out| json::write(report, out))
                .map_err(Error::io(format!("cannot write {}", path.display())))?;
        }
    }
    let mut human_out: Box<dyn Write> = if json_to_stdout {
        Box::new(std::io::stderr().lock())
    } else {
        Box::new(std::io::stdout().lock())
    };
    render(report, &mut human_out).map_err(Error::io("cannot write the report"))
}

/// Grades a batch, writing each result as it comes, and the summary table at the end.
fn run_batch(
    args: &GradeArgs,
    options: &GradeOptions,
    entries: &[batch::Entry],
) -> Result<ExitCode> {
    if args.json.is_some() || args.dot.is_some() || args.gradescope.is_some() || args.classroom {
        return Err(Error::Other(
            "--json, --dot, --gradescope and --classroom are about one submission: in a batch, use --out DIR, --csv and --junit".into(),
        ));
    }
    // The MPI installation is the same for every submission: a missing one stops here.
    crate::mpi::Launcher::detect(options.mpi)?;
    let outputs = batch::Outputs {
        out_dir: args.out.clone(),
        csv: args.csv.clone(),
        junit: args.junit.clone(),
        parts: options
            .challenge
            .parts
            .iter()
            .map(|p| p.name.clone())
            .collect(),
    };
    let progress = batch::Progress::new(entries.len(), args.quiet);
    let mut all: Vec<batch::Graded> = Vec::new();
    let build_ahead = batch::builds_ahead(args.build_ahead, options);
    let graded = batch::run(
        options,
        entries,
        build_ahead,
        &mut |entry| progress.started(entry),
        &mut |one| {
            all.push(one.clone());
            progress.graded(one);
            outputs.write(&all)
        },
    )?;
    progress.finish();
    let interrupted = graded.len() < entries.len();
    human::render_batch(
        &graded,
        &outputs.parts,
        entries.len(),
        &mut std::io::stdout().lock(),
    )
    .map_err(Error::io("cannot write the summary"))?;
    let all_passed = graded
        .iter()
        .all(|g| g.error.is_none() && g.report.all_passed());
    Ok(if all_passed && !interrupted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Prints the command lines a grade would run, and runs nothing.
fn dry_run(
    config: &Config,
    challenge: &Challenge,
    mpi: Choice,
    crate_dir: &Path,
) -> Result<ExitCode> {
    let mut launcher = crate::mpi::Launcher::detect(mpi)?;
    launcher.runner = config.runner.clone();
    println!(
        "would build {} against {} {} (MPICC={}), then launch for each rank count:",
        crate_dir.display(),
        launcher.implementation.display_name(),
        launcher.version,
        launcher.mpicc.display()
    );
    for (ranks, line) in grade::launch_lines(challenge, &launcher) {
        println!("  {ranks} ranks: {line}");
    }
    Ok(ExitCode::SUCCESS)
}

fn run_compare(args: CompareArgs) -> Result<ExitCode> {
    let config = load_config(args.config.as_deref())?;
    let mut challenge = config.challenge(args.challenge.as_deref())?.clone();
    // Only parts that complete have times to compare; no zero-buffer runs are needed.
    challenge.parts.retain(|p| p.expect == Expect::Complete);
    challenge.zero_buffer = false;
    if !(1..=1000).contains(&args.repetitions) {
        return Err(Error::Other("--repetitions must be 1 to 1000".into()));
    }
    challenge.repetitions = args.repetitions;
    let json_to_stdout = args.json.as_deref() == Some(Path::new("-"));
    colour_the_table(args.color, json_to_stdout);
    crate::run::procs::become_subreaper();
    crate::run::interrupt::install();
    let options = GradeOptions {
        parts: args.parts,
        sandbox: !args.no_sandbox,
        ..default_options(
            &config,
            challenge,
            args.crate_dir,
            args.mpi,
            args.cache_dir,
            args.quiet,
        )
    };
    let report = grade::grade(&options)?;
    write_reports(
        &report,
        args.json.as_deref(),
        json_to_stdout,
        human::render_comparison_report,
    )?;
    Ok(exit_code(&report))
}

fn run_check(args: CheckArgs) -> Result<ExitCode> {
    let config = load_config(args.config.as_deref())?;
    let mut challenge = config.challenge(args.challenge.as_deref())?.clone();
    // What the course hides from students is not checked here either.
    let all = challenge.parts.len();
    challenge
        .parts
        .retain(|p| p.visibility == crate::config::Visibility::Visible);
    if challenge.parts.len() < all {
        eprintln!(
            "note: {} of the {all} parts are hidden by {} and not checked here",
            all - challenge.parts.len(),
            config.path.display()
        );
    }
    colour_the_table(args.color, false);
    crate::run::procs::become_subreaper();
    crate::run::interrupt::install();
    let options = GradeOptions {
        parts: args.parts,
        ..default_options(
            &config,
            challenge,
            args.crate_dir,
            args.mpi,
            args.cache_dir,
            args.quiet,
        )
    };
    let report = grade::grade(&options)?;
    human::render_for_learner(&report, &mut std::io::stdout().lock())
        .map_err(Error::io("cannot write the report"))?;
    Ok(exit_code(&report))
}

fn run_probe(args: ProbeArgs) -> Result<ExitCode> {
    crate::run::procs::become_subreaper();
    crate::run::interrupt::install();
    let launcher = crate::mpi::Launcher::detect(args.mpi)?;
    let cache_dir = std::path::absolute(args.cache_dir.unwrap_or_else(default_cache_dir))
        .map_err(Error::io("cannot resolve the cache directory"))?;
    let quiet = !std::io::stderr().is_terminal();
    let report = crate::run::probe::probe(&cache_dir, &launcher, &|text| {
        if !quiet {
            eprintln!("{text} ...");
        }
    })?;
    crate::run::probe::store(&cache_dir, &launcher, &report)?;
    let text = serde_json::to_string_pretty(&report).expect("probe reports serialise") + "\n";
    match args.json.as_deref() {
        Some(path) if path == Path::new("-") => {
            print!("{text}");
            return Ok(ExitCode::SUCCESS);
        }
        Some(path) => std::fs::write(path, &text)
            .map_err(Error::io(format!("cannot write {}", path.display())))?,
        None => {}
    }
    human::render_probe(&report, &mut std::io::stdout().lock())
        .map_err(Error::io("cannot write the report"))?;
    Ok(ExitCode::SUCCESS)
}

fn run_new(args: NewArgs) -> Result<ExitCode> {
    let name = crate::commands::new::write_starter(&args.kind, &args.dir)?;
    println!(
        "created {} (package `{name}`): implement part1, part2 and part3 in src/lib.rs, then run\n  mpi-grade grade {}",
        args.dir.display(),
        args.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_program(args: RunArgs) -> Result<ExitCode> {
    let positive = |v: f64, flag: &str| {
        if v.is_finite() && v > 0.0 {
            Ok(std::time::Duration::from_secs_f64(v))
        } else {
            Err(Error::Other(format!(
                "{flag} must be a positive number of seconds"
            )))
        }
    };
    let mut command = args.command.into_iter();
    let program = PathBuf::from(command.next().expect("clap requires a program"));
    crate::run::procs::become_subreaper();
    crate::run::interrupt::install();
    let options = crate::commands::run::RunOptions {
        ranks: args.ranks,
        program,
        args: command.collect(),
        zero_buffer: args.zero_buffer,
        hang_after: positive(args.hang_after, "--hang-after")?,
        timeout: positive(args.timeout, "--timeout")?,
        cache_dir: args.cache_dir.unwrap_or_else(default_cache_dir),
        mpi: args.mpi,
    };
    let report = crate::commands::run::run(&options)?;
    match &report.diagnosis {
        Some(d) => eprintln!(
            "mpi-grade: {} after {:.2} s\n{}",
            report.outcome, report.seconds, d.explanation
        ),
        None if report.outcome == "exited" => eprintln!(
            "mpi-grade: exited with status {} after {:.2} s ({} messages, {} B)",
            report.status.map_or("?".to_string(), |s| s.to_string()),
            report.seconds,
            report.messages,
            report.bytes
        ),
        None => eprintln!(
            "mpi-grade: {} after {:.2} s",
            report.outcome, report.seconds
        ),
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).expect("reports serialise") + "\n";
        if path == Path::new("-") {
            print!("{text}");
        } else {
            std::fs::write(path, text)
                .map_err(Error::io(format!("cannot write {}", path.display())))?;
        }
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// A full grade of `submission` with the configuration's settings: traced, compared, every
/// part, a random seed.
fn default_options(
    config: &Config,
    challenge: Challenge,
    submission: PathBuf,
    mpi: Option<Choice>,
    cache_dir: Option<PathBuf>,
    quiet: bool,
) -> GradeOptions {
    GradeOptions {
        submission,
        challenge,
        parts: Vec::new(),
        seed: None,
        cache_dir: cache_dir.unwrap_or_else(default_cache_dir),
        keep_runs: false,
        mpi: mpi.unwrap_or(config.mpi),
        progress: !quiet && std::io::stderr().is_terminal(),
        trace: true,
        compare: true,
        runner: config.runner.clone(),
        sandbox: true,
    }
}

/// 0 when every graded part passed, 1 otherwise.
fn exit_code(report: &Report) -> ExitCode {
    if report.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Colours for the human report, which goes to stdout, or to stderr when the JSON takes stdout.
fn colour_the_table(choice: ColorChoice, json_to_stdout: bool) {
    let is_terminal = if json_to_stdout {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    colored::control::set_override(use_color(choice, is_terminal));
}

fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("mpi-grade")
}

fn parse_mpi(text: &str) -> std::result::Result<Choice, String> {
    Choice::parse(text)
        .ok_or_else(|| format!("`{text}` is not an MPI implementation (openmpi, mpich or auto)"))
}

fn parse_seed(text: &str) -> std::result::Result<u64, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("`{text}` is not a seed (a decimal or 0x-hex 64-bit number)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse_in_decimal_and_hex() {
        assert_eq!(parse_seed("42"), Ok(42));
        assert_eq!(parse_seed("0xff"), Ok(255));
        assert!(parse_seed("x").is_err());
    }

    #[test]
    fn colour_follows_the_choice_and_no_color() {
        assert!(use_color(ColorChoice::Always, false));
        assert!(!use_color(ColorChoice::Never, true));
        assert!(!use_color(ColorChoice::Auto, false));
    }

    #[test]
    fn the_command_line_parses() {
        let cli = Cli::try_parse_from([
            "mpi-grade",
            "grade",
            "x",
            "--part",
            "2",
            "--seed",
            "0x10",
            "--json",
            "-",
        ])
        .unwrap();
        let Command::Grade(args) = cli.command else {
            panic!()
        };
        assert_eq!(args.parts, ["2"]);
        assert_eq!(args.seed, Some(16));
        assert_eq!(args.json.as_deref(), Some(Path::new("-")));
    }
}
