//! From parsed flags to what the library is asked to do: the configuration loaded, the
//! challenge chosen, defaults filled in ([`GradeOptions`], [`RunOptions`]).
//!
//! Ranges and conflicts of flags are declared to clap in [`super::args`]; [`usage`] holds the
//! only ones clap cannot declare (they depend on how many CRATE_DIRs were given), and reports
//! them as clap does (its format, exit status 2).

use super::args::{
    BuildAheadArg, CheckArgs, Cli, Command, CompareArgs, GradeArgs, Machine, RunArgs, Selection,
};
use crate::build::compile::Lang;
use crate::commands::batch::{self, BuildAhead};
use crate::commands::grade::GradeOptions;
use crate::commands::run::RunOptions;
use crate::config::{Challenge, Config, Expect, Visibility};
use crate::error::Result;
use clap::error::ErrorKind;
use clap::CommandFactory;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// The combinations of flags clap cannot judge: `--out` and `--csv` need a batch, and the
/// flags about one submission refuse one, where several CRATE_DIRs make a batch (`--batch`
/// itself is declared to clap).
pub(crate) fn usage(cli: &Cli) -> std::result::Result<(), clap::Error> {
    let Command::Grade(args) = &cli.command else {
        return Ok(());
    };
    let batch = args.batch.is_some() || args.crate_dirs.len() > 1;
    let refuse = |kind: ErrorKind, message: &str| {
        let mut command = Cli::command();
        command.build();
        let grade = command
            .find_subcommand_mut("grade")
            .expect("grade is a subcommand");
        Err(grade.error(kind, message))
    };
    if !batch && (args.out.is_some() || args.csv.is_some()) {
        return refuse(
            ErrorKind::MissingRequiredArgument,
            "--out and --csv are for batches: give several crates or --batch ROOT",
        );
    }
    if batch
        && (args.json.is_some()
            || args.dot.is_some()
            || args.gradescope.is_some()
            || args.classroom)
    {
        return refuse(
            ErrorKind::ArgumentConflict,
            "--json, --dot, --gradescope and --classroom are about one submission: in a batch, use --out DIR, --csv and --junit",
        );
    }
    Ok(())
}

/// `--config FILE`, else `./challenges.toml` if present, else the bundled one.
pub(crate) fn load_config(path: Option<&Path>) -> Result<Config> {
    match path {
        Some(path) => Config::load(path),
        None if Path::new("challenges.toml").is_file() => {
            Config::load(Path::new("challenges.toml"))
        }
        None => Ok(Config::bundled()),
    }
}

/// The configuration and the challenge `selection` names.
pub(crate) fn load(selection: &Selection) -> Result<(Config, Challenge)> {
    let config = load_config(selection.config.as_deref())?;
    let challenge = config.challenge(selection.challenge.as_deref())?.clone();
    Ok((config, challenge))
}

/// A full grade of `submission` with the configuration's settings: traced, compared, the
/// selected parts, a random seed.
pub(crate) fn grade_options(
    config: &Config,
    challenge: Challenge,
    submission: PathBuf,
    selection: &Selection,
    machine: &Machine,
    quiet: bool,
) -> GradeOptions {
    GradeOptions {
        submission,
        challenge,
        parts: selection.parts.clone(),
        seed: None,
        cache_dir: cache_dir(machine.cache_dir.clone()),
        keep_runs: false,
        mpi: machine.mpi.unwrap_or(config.mpi),
        progress: !quiet && std::io::stderr().is_terminal(),
        trace: true,
        compare: true,
        runner: config.runner.clone(),
        sandbox: true,
        lang: selection.lang.map(|l| match l {
            crate::cli::args::LangArg::Rust => Lang::Rust,
            crate::cli::args::LangArg::Python => Lang::Python,
        }),
    }
}

/// What `grade` is asked to do.
pub(crate) struct GradeRequest {
    /// The configuration the challenge comes from.
    pub config: Config,
    /// The grade of one submission (the first, for a batch).
    pub options: GradeOptions,
    /// The submissions of a batch; `None` for one submission.
    pub batch: Option<Vec<batch::Entry>>,
}

/// `grade`'s flags as a request.
pub(crate) fn grade(args: &GradeArgs) -> Result<GradeRequest> {
    let (config, challenge) = load(&args.selection)?;
    let batch = match &args.batch {
        Some(root) => Some(batch::under(root)?),
        None if args.crate_dirs.len() > 1 => Some(batch::named(&args.crate_dirs)),
        None => None,
    };
    let batch = match (batch, args.partition) {
        (Some(entries), Some(share)) => Some(share.select(entries)),
        (batch, _) => batch,
    };
    // An empty share grades nothing; its options name the root.
    let submission = match (&batch, &args.batch) {
        (Some(entries), _) if !entries.is_empty() => entries[0].dir.clone(),
        (_, Some(root)) => root.clone(),
        _ => args.crate_dirs[0].clone(),
    };
    let mut options = GradeOptions {
        seed: args.seed,
        keep_runs: args.keep_runs,
        trace: !args.no_trace,
        compare: !args.no_compare,
        sandbox: !args.no_sandbox,
        ..grade_options(
            &config,
            challenge,
            submission,
            &args.selection,
            &args.machine,
            args.terminal.quiet,
        )
    };
    if batch.is_some() {
        options.progress = false;
    }
    Ok(GradeRequest {
        config,
        options,
        batch,
    })
}

/// `compare`'s flags as a grade: only the parts that complete (the others have no times),
/// standard mode only, `--repetitions` calls per cell.
pub(crate) fn compare(args: CompareArgs) -> Result<GradeOptions> {
    let (config, mut challenge) = load(&args.selection)?;
    challenge.parts.retain(|p| p.expect == Expect::Complete);
    challenge.zero_buffer = false;
    challenge.repetitions = args.repetitions;
    Ok(GradeOptions {
        sandbox: !args.no_sandbox,
        ..grade_options(
            &config,
            challenge,
            args.crate_dir,
            &args.selection,
            &args.machine,
            args.terminal.quiet,
        )
    })
}

/// The configuration `check CRATE_DIR` reads: `--config FILE`, else the crate's own
/// `CRATE_DIR/challenges.toml` (the course's, beside the starter's Cargo.toml), else what
/// `grade` reads.
pub(crate) fn check_selection(selection: &Selection, crate_dir: &Path) -> Selection {
    let own = crate_dir.join("challenges.toml");
    let mut selection = selection.clone();
    if selection.config.is_none() && own.is_file() {
        selection.config = Some(own);
    }
    selection
}

/// `check`'s flags as a grade of the parts students may see (a note on stderr says how many
/// are hidden).
pub(crate) fn check(args: CheckArgs) -> Result<GradeOptions> {
    let selection = check_selection(&args.selection, &args.crate_dir);
    let (config, mut challenge) = load(&selection)?;
    // What the course hides from students is not checked here either.
    let all = challenge.parts.len();
    challenge
        .parts
        .retain(|p| p.visibility == Visibility::Visible);
    if challenge.parts.len() < all {
        eprintln!(
            "note: {} of the {all} parts are hidden by {} and not checked here",
            all - challenge.parts.len(),
            config.path.display()
        );
    }
    Ok(GradeOptions {
        seed: args.seed,
        compare: !args.no_compare,
        ..grade_options(
            &config,
            challenge,
            args.crate_dir,
            &selection,
            &args.machine,
            args.terminal.quiet,
        )
    })
}

/// `run`'s flags as the library's options.
pub(crate) fn run(args: &RunArgs) -> RunOptions {
    let mut command = args.command.iter().cloned();
    let program = PathBuf::from(command.next().expect("clap requires a program"));
    RunOptions {
        ranks: args.ranks,
        program,
        args: command.collect(),
        zero_buffer: args.zero_buffer,
        hang_after: std::time::Duration::from_secs_f64(args.hang_after),
        timeout: std::time::Duration::from_secs_f64(args.timeout),
        cache_dir: cache_dir(args.launch.cache_dir.clone()),
        mpi: args.launch.mpi,
    }
}

/// `--build-ahead` in the library's terms.
pub(crate) fn build_ahead(choice: BuildAheadArg) -> BuildAhead {
    match choice {
        BuildAheadArg::Auto => BuildAhead::Auto,
        BuildAheadArg::Always => BuildAhead::Always,
        BuildAheadArg::Never => BuildAhead::Never,
    }
}

/// `--cache-dir`, else `$XDG_CACHE_HOME/mpi-grade`, else `~/.cache/mpi-grade`.
pub(crate) fn cache_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(|| {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("mpi-grade")
    })
}
