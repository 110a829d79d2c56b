//! `mpi-grade grade`: build, run the matrix, decide, report.

use crate::build::compile::{BuildCache, BuildOutcome, Driver, Lang, Submission};
use crate::build::python::{PythonBuild, PythonEnv};
use crate::config::{Challenge, Expect, Part};
use crate::error::{Error, Result};
use crate::judge::outcome::{Cell, Outcome};
use crate::judge::part::{judge, PartEvidence, Ran};
use crate::mpi::{Choice, Launcher, Runner};
use crate::report::{self, BuildReport, MpiInfo, PartReport, Report};
use crate::run::compare::{Comparison, Measurer};
use crate::run::matrix::{Matrix, Results};
use crate::run::probe::ProbeReport;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What to grade and how.
#[derive(Clone)]
pub struct GradeOptions {
    /// The submission's crate.
    pub submission: PathBuf,
    /// The challenge it answers.
    pub challenge: Challenge,
    /// Part names to grade; all when empty.
    pub parts: Vec<String>,
    /// Payload seed; random when `None`.
    pub seed: Option<u64>,
    /// The grader's cache (builds, baselines, probe, scratch areas).
    pub cache_dir: PathBuf,
    /// Keep the run directories (plans, events) for inspection.
    pub keep_runs: bool,
    /// Which MPI implementation to grade with.
    pub mpi: Choice,
    /// Print progress lines on stderr.
    pub progress: bool,
    /// Trace MPI calls (deadlock and hang diagnosis, allowed calls, zero-buffer mode).
    pub trace: bool,
    /// Compare the parts' times with the reference solutions and `MPI_Alltoall`.
    pub compare: bool,
    /// What starts the ranks.
    pub runner: Runner,
    /// Isolate the build and the ranks (`--no-sandbox` turns it off).
    pub sandbox: bool,
    /// The submission's language; found from its files when `None`.
    pub lang: Option<Lang>,
}

impl GradeOptions {
    /// A progress line on stderr, when asked for.
    fn note(&self, text: &str) {
        if self.progress {
            eprintln!("{text}");
        }
    }
}

/// Grades one submission.
pub fn grade(options: &GradeOptions) -> Result<Report> {
    finish(options, prepare(options)?)
}

/// A submission built and ready to run (or known not to build).
pub struct Prepared {
    submission: Submission,
    launcher: Launcher,
    seed: u64,
    cache_dir: PathBuf,
    scratch: tempfile::TempDir,
    build: BuildOutcome,
    tracer: Option<PathBuf>,
    tracer_seconds: f64,
    /// What isolates the submission (its build is done; its ranks are next).
    isolation: crate::sandbox::grade::Isolation,
    /// Ctrl-C came during the build.
    interrupted: bool,
    /// Time spent preparing.
    seconds: f64,
}

/// The first half of a grade: checks the submission and builds its driver and the tracer.
/// A batch prepares the next submission while the current one runs.
pub fn prepare(options: &GradeOptions) -> Result<Prepared> {
    let started = Instant::now();
    let challenge = &options.challenge;
    let parts = selected_parts(challenge, &options.parts)?;
    let original = Submission::open_as(&options.submission, options.lang)?;
    let mut launcher = Launcher::detect(options.mpi)?;
    launcher.runner = options.runner.clone();
    check_srun(&launcher, options)?;
    let seed = options.seed.unwrap_or_else(random_seed);
    let note = |text: String| options.note(&text);

    let cache_dir = crate::run::scratch::absolute_cache(&options.cache_dir)?;
    let scratch = crate::run::scratch::scratch(&cache_dir, "grade-")?;
    let python = match original.lang {
        Lang::Python => Some(PythonEnv::find(launcher.implementation)?),
        Lang::Rust => None,
    };
    let mut isolation = crate::sandbox::grade::Isolation::set_up(
        options.sandbox,
        &original,
        &cache_dir,
        scratch.path(),
        &challenge.sandbox,
        &challenge.submission,
    )?;
    if let (Some(env), Some(ranks)) = (&python, isolation.ranks.as_mut()) {
        if env.outside_usr() {
            ranks.confinement.keep.push((env.prefix.clone(), true));
        }
    }
    if let Some(notice) = isolation.sandbox.notice() {
        eprintln!("{notice}");
    }
    let submission = isolation.submission.clone();

    note(format!("building {} ...", submission.display));
    let cache = BuildCache::new(
        &cache_dir,
        &launcher,
        Duration::from_secs_f64(challenge.limits.build_seconds),
    )
    .with_jail(isolation.build.clone());
    let functions: Vec<String> = parts.iter().map(|p| p.function.clone()).collect();
    let build = match &python {
        None => cache.build_driver(&submission, challenge.kind, &functions, scratch.path())?,
        Some(env) => PythonBuild {
            env,
            out_dir: scratch.path(),
            jail: isolation.ranks.as_ref(),
            time_limit: Duration::from_secs_f64(challenge.limits.build_seconds),
        }
        .build(&submission, &functions)?,
    };
    let tracer_started = Instant::now();
    // Ctrl-C during the build also stops cargo: that is not the student's build error.
    let interrupted = crate::run::interrupt::requested();
    let tracer = if options.trace && !interrupted {
        Some(cache.build_tracer(scratch.path())?)
    } else {
        None
    };
    Ok(Prepared {
        submission,
        launcher,
        seed,
        cache_dir,
        scratch,
        build,
        tracer,
        tracer_seconds: tracer_started.elapsed().as_secs_f64(),
        isolation,
        interrupted,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The second half of a grade: runs the matrix of a prepared submission and decides.
pub fn finish(options: &GradeOptions, prepared: Prepared) -> Result<Report> {
    let started = Instant::now();
    let parts = selected_parts(&options.challenge, &options.parts)?;
    let p = &prepared;
    let mut report = empty_report(
        options,
        &p.submission.display,
        &parts,
        p.seed,
        Some(&p.launcher),
    );
    report.build.tracer_seconds = p.tracer_seconds;
    report.language = p.submission.lang.as_str().to_string();
    report.warnings.extend(p.isolation.sandbox.notice());
    report.isolation = p.isolation.sandbox.describe();
    let short = |t: &str| p.submission.shorten(t);
    match &p.build {
        _ if p.interrupted => {
            report.parts = not_run_parts(&short, &parts, PartEvidence::Interrupted);
        }
        BuildOutcome::Failed(failure) => {
            options.note(&format!(
                "build failed: {}",
                report::clean::line(&failure.summary, report::clean::ITEM_BYTES)
            ));
            report.build = BuildReport {
                ok: false,
                seconds: failure.seconds,
                tracer_seconds: p.tracer_seconds,
                memoized: false,
                summary: Some(failure.summary.clone()),
                details: Some(failure.details.clone()),
            };
            let why = match p.submission.lang {
                Lang::Rust => format!("the crate does not build: {}", failure.summary),
                Lang::Python => format!("the Python files cannot be graded: {}", failure.summary),
            };
            report.parts = not_run_parts(&short, &parts, PartEvidence::NotBuilt(&why));
        }
        BuildOutcome::Built(driver) => run_and_judge(options, p, driver, &parts, &mut report)?,
    }
    let Prepared {
        scratch, seconds, ..
    } = prepared;
    Ok(close(
        options,
        report,
        scratch,
        seconds + started.elapsed().as_secs_f64(),
    ))
}

/// The reports of parts that never ran: every one judged on the same evidence.
fn not_run_parts(
    short: &dyn Fn(&str) -> String,
    parts: &[&Part],
    evidence: PartEvidence<'_>,
) -> Vec<PartReport> {
    let results = Results::new();
    parts
        .iter()
        .map(|part| report::build::part(short, part, judge(part, &evidence), None, &results))
        .collect()
}

/// A built driver: runs the matrix and the comparison, then judges every part.
fn run_and_judge(
    options: &GradeOptions,
    p: &Prepared,
    driver: &Driver,
    parts: &[&Part],
    report: &mut Report,
) -> Result<()> {
    match driver.memoized {
        true => options.note("built earlier: the same bytes, the same driver"),
        false => options.note(&format!("built in {:.1} s", driver.seconds)),
    }
    report.build.seconds = driver.seconds;
    report.build.memoized = driver.memoized;
    report.warnings.extend(driver.warnings.iter().cloned());
    // Without the tracer, zero-buffer mode does not exist.
    let mut challenge = options.challenge.clone();
    challenge.zero_buffer &= options.trace;
    let problem = |part: &Part| driver.problems.iter().find(|q| q.function == part.function);
    let graded: Vec<&Part> = parts
        .iter()
        .copied()
        .filter(|p| problem(p).is_none())
        .collect();
    let results = run_matrix(options, p, &challenge, driver, &graded, report)?;
    report.comparison = compare(options, p, &challenge, &graded, &results)?;
    let outcomes: BTreeMap<Cell, Outcome> = results
        .iter()
        .map(|(cell, r)| (cell.clone(), r.result.outcome.clone()))
        .collect();
    let short = |t: &str| p.submission.shorten(t);
    for part in parts {
        let part_report = match problem(part) {
            Some(problem) => {
                let verdict = judge(part, &PartEvidence::NotBuilt(&problem.message));
                let details = Some(problem.details.clone());
                report::build::part(&short, part, verdict, details, &results)
            }
            None => {
                let usage = report::build::part_usage(part, &results);
                let probe = probe(options, p, part, &mut report.warnings);
                let evidence = Ran {
                    cells: &outcomes,
                    usage: usage.as_ref(),
                    comparison: report.comparison.as_ref(),
                    probe: probe.as_ref(),
                };
                let verdict = judge(part, &PartEvidence::Ran(evidence));
                let verdict = with_ratio(part, verdict, &results);
                report::build::part(&short, part, verdict, None, &results)
            }
        };
        report.parts.push(part_report);
    }
    Ok(())
}

/// The verdict with the part's ratio rule applied (`judge/ratio.rs`), from the times of this
/// grade's cells.
fn with_ratio(
    part: &Part,
    verdict: crate::judge::part::Verdict,
    results: &Results,
) -> crate::judge::part::Verdict {
    let Some(ratio) = &part.ratio else {
        return verdict;
    };
    let cells = results
        .iter()
        .map(|(cell, r)| (cell.clone(), (r.result.outcome.clone(), r.result.timing)))
        .collect();
    let measured = crate::judge::ratio::measured(part, ratio, &cells);
    crate::judge::ratio::apply(part, verdict, &measured)
}

/// Runs the matrix of the graded parts (none: nothing to run) and notes what it found.
fn run_matrix(
    options: &GradeOptions,
    p: &Prepared,
    challenge: &Challenge,
    driver: &Driver,
    graded: &[&Part],
    report: &mut Report,
) -> Result<Results> {
    if graded.is_empty() {
        return Ok(Results::new());
    }
    let progress = |ranks: u32, settled: usize, planned: usize, seconds: f64| {
        options.note(&format!(
            "{ranks} ranks: launch settled {settled} of {planned} cells in {seconds:.2} s"
        ));
    };
    let matrix = Matrix {
        challenge,
        parts: graded.to_vec(),
        launcher: &p.launcher,
        driver,
        tracer: p.tracer.as_deref(),
        submission: &driver.source_dir,
        seed: p.seed,
        scratch: p.scratch.path().to_path_buf(),
        limits: &challenge.limits,
        progress: &progress,
        jail: p.isolation.ranks.as_ref(),
        keep_runs: options.keep_runs,
        overlap: crate::run::matrix::overlap(
            (p.isolation.ranks.as_ref())
                .and_then(|j| j.confinement.limits)
                .map_or(0, |l| l.memory_mb),
        ),
    };
    let run = matrix.run()?;
    report.launches = run.launches;
    report.mpi.library = run.library;
    report.warnings.extend(run.warnings);
    Ok(run.results)
}

/// The graded parts' times against the baselines, when asked for and some part must complete.
fn compare(
    options: &GradeOptions,
    p: &Prepared,
    challenge: &Challenge,
    graded: &[&Part],
    results: &Results,
) -> Result<Option<Comparison>> {
    // The baselines are alltoalls: other kinds have none to be compared with.
    let wanted = options.compare
        && challenge.kind == crate::config::Kind::Alltoall
        && graded.iter().any(|p| p.expect == Expect::Complete)
        && !crate::run::interrupt::requested();
    if !wanted {
        return Ok(None);
    }
    let cache = BuildCache::new(
        &p.cache_dir,
        &p.launcher,
        Duration::from_secs_f64(options.challenge.limits.build_seconds),
    );
    let measurer = Measurer {
        cache: &cache,
        cache_dir: &p.cache_dir,
        launcher: &p.launcher,
        tracer: p.tracer.as_deref(),
        scratch: p.scratch.path(),
    };
    let measurements = measurer.baselines(challenge, &|text| options.note(text))?;
    Ok(Some(crate::run::compare::compare(
        results,
        graded,
        &measurements,
        challenge.repetitions,
    )))
}

/// The probe of this MPI, for a traced deadlock part; its failure is a warning, not an error.
fn probe(
    options: &GradeOptions,
    p: &Prepared,
    part: &Part,
    warnings: &mut Vec<String>,
) -> Option<ProbeReport> {
    if part.expect != Expect::Deadlock || !options.trace {
        return None;
    }
    crate::run::probe::cached(&p.cache_dir, &p.launcher, &|text| options.note(text))
        .map_err(|e| warnings.push(format!("the probe of this MPI failed: {e}")))
        .ok()
}

/// The report's total, the kept run directories, the time, and the cleaning of what the
/// submission wrote.
fn close(
    options: &GradeOptions,
    mut report: Report,
    scratch: tempfile::TempDir,
    seconds: f64,
) -> Report {
    report.points = report.parts.iter().map(|p| p.points).sum();
    if options.keep_runs {
        let kept = scratch.keep();
        report
            .warnings
            .push(format!("run directories kept in {}", kept.display()));
    }
    report.seconds = seconds;
    // Where what the submission wrote becomes report text, for every format.
    report::budget::report(&mut report);
    report
}

/// A report with no part decided yet.
fn empty_report(
    options: &GradeOptions,
    submission: &str,
    parts: &[&Part],
    seed: u64,
    launcher: Option<&Launcher>,
) -> Report {
    Report {
        format_version: report::FORMAT_VERSION,
        submission: submission.to_string(),
        language: options.lang.unwrap_or(Lang::Rust).as_str().to_string(),
        challenge: options.challenge.name.clone(),
        seed,
        seed_string: seed.to_string(),
        mpi: MpiInfo {
            implementation: launcher
                .map(|l| l.implementation.display_name().to_string())
                .unwrap_or_default(),
            version: launcher.map(|l| l.version.clone()).unwrap_or_default(),
            library: None,
        },
        build: BuildReport {
            ok: true,
            seconds: 0.0,
            tracer_seconds: 0.0,
            memoized: false,
            summary: None,
            details: None,
        },
        parts: Vec::new(),
        points: 0.0,
        max_points: parts.iter().map(|p| p.points).sum(),
        seconds: 0.0,
        launches: 0,
        traced: options.trace,
        comparison: None,
        warnings: Vec::new(),
        isolation: "off".to_string(),
        config: options.challenge.source.clone(),
        grader: report::Grader::this(),
    }
}

/// The report of a submission that cannot be graded at all (not a crate, a workspace, ...):
/// every part fails as a build error, so that a batch's gradebook still has its row.
pub fn unusable(options: &GradeOptions, why: &str) -> Report {
    let parts = selected_parts(&options.challenge, &options.parts).unwrap_or_default();
    let launcher = Launcher::detect(options.mpi).ok();
    let display = options.submission.display().to_string();
    let mut report = empty_report(options, &display, &parts, 0, launcher.as_ref());
    report.build.ok = false;
    report.build.summary = Some(why.to_string());
    let why = format!("cannot be graded: {why}");
    report.parts = not_run_parts(&str::to_string, &parts, PartEvidence::NotBuilt(&why));
    report::budget::report(&mut report);
    report
}

/// A grade through `srun` needs srun on PATH, and no sandbox (see
/// [`crate::run::slurm::SANDBOX_REFUSED`]).
fn check_srun(launcher: &Launcher, options: &GradeOptions) -> Result<()> {
    if launcher.runner != Runner::Srun {
        return Ok(());
    }
    if crate::mpi::find_on_path("srun").is_none() {
        return Err(Error::Other(
            "launcher = \"srun\" but no srun on PATH: grade inside a Slurm allocation".into(),
        ));
    }
    if options.sandbox {
        return Err(Error::Other(crate::run::slurm::SANDBOX_REFUSED.into()));
    }
    Ok(())
}

fn selected_parts<'a>(challenge: &'a Challenge, wanted: &[String]) -> Result<Vec<&'a Part>> {
    if wanted.is_empty() {
        return Ok(challenge.parts.iter().collect());
    }
    wanted
        .iter()
        .map(|w| {
            challenge.select_part(w).ok_or_else(|| {
                let names: Vec<&str> = challenge.parts.iter().map(|p| p.name.as_str()).collect();
                Error::Other(format!(
                    "no part `{w}` in challenge `{}` (it has: {})",
                    challenge.name,
                    names.join(", ")
                ))
            })
        })
        .collect()
}

fn random_seed() -> u64 {
    getrandom::u64().unwrap_or_else(|_| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        mpi_grade_protocol::payload::mix64(nanos ^ u64::from(std::process::id()))
    })
}

/// The command line of the launch of each rank count, as a grade would run it, with
/// `<scratch>` for the paths it would create (`grade --dry-run`).
pub fn launch_lines(challenge: &Challenge, launcher: &Launcher) -> Vec<(u32, String)> {
    let scratch = PathBuf::from("<scratch>");
    let program = scratch.join("driver");
    let tracer = scratch.join("libmpi_grade_tracer.so");
    let run_dir = scratch.join("launch-<k>");
    challenge
        .ranks
        .iter()
        .map(|&ranks| {
            let mut env = vec![(
                mpi_grade_protocol::run::ENV_RUN_DIR.to_string(),
                run_dir.display().to_string(),
            )];
            env.extend(crate::trace::rank_env(
                &mpi_grade_protocol::run::trace_dir(&run_dir),
                false,
                false,
            ));
            let spec = crate::mpi::LaunchSpec {
                ranks,
                program: &program,
                args: &[],
                env,
                preload: Some(&tracer),
            };
            (ranks, Launcher::describe(&launcher.command(&spec)))
        })
        .collect()
}
