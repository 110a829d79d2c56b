//! `mpi-grade grade`: build, run the matrix, decide, report.

use crate::build::compile::{BuildCache, BuildOutcome, Submission};
use crate::config::{Challenge, Part};
use crate::error::{Error, Result};
use crate::judge::outcome::Cell;
use crate::judge::part::{self as verdict, Verdict};
use crate::mpi::{Choice, Launcher, Runner};
use crate::report::{self, BuildReport, MpiInfo, PartReport, Report, RunReport};
use crate::run::compare::Measurer;
use crate::run::matrix::{CellRecord, Matrix, Results};
use crate::trace::usage::Usage;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What to grade and how.
#[derive(Clone)]
pub struct GradeOptions {
    pub submission: PathBuf,
    pub challenge: Challenge,
    /// Part names to grade; all when empty.
    pub parts: Vec<String>,
    /// Payload seed; random when `None`.
    pub seed: Option<u64>,
    pub cache_dir: PathBuf,
    /// Keep the run directories (plans, events) for inspection.
    pub keep_runs: bool,
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
    let original = Submission::open(&options.submission)?;
    let mut launcher = Launcher::detect(options.mpi)?;
    launcher.runner = options.runner.clone();
    if launcher.runner == Runner::Srun && crate::mpi::find_on_path("srun").is_none() {
        return Err(Error::Other(
            "launcher = \"srun\" but no srun on PATH: grade inside a Slurm allocation".into(),
        ));
    }
    let seed = options.seed.unwrap_or_else(random_seed);
    let note = |text: String| options.note(&text);

    let cache_dir = crate::run::scratch::absolute_cache(&options.cache_dir)?;
    let scratch = crate::run::scratch::scratch(&cache_dir, "grade-")?;
    let isolation = crate::sandbox::grade::Isolation::set_up(
        options.sandbox,
        &original,
        &cache_dir,
        scratch.path(),
        &challenge.sandbox,
        &challenge.submission,
    )?;
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
    let build = cache.build_driver(&submission, challenge.kind, &functions, scratch.path())?;
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
    let Prepared {
        submission,
        launcher,
        seed,
        cache_dir,
        scratch,
        build,
        tracer,
        tracer_seconds,
        isolation,
        interrupted,
        seconds: prepare_seconds,
    } = prepared;
    let note = |text: String| options.note(&text);
    let cache = BuildCache::new(
        &cache_dir,
        &launcher,
        Duration::from_secs_f64(options.challenge.limits.build_seconds),
    );
    // Without the tracer, zero-buffer mode does not exist.
    let mut challenge = options.challenge.clone();
    challenge.zero_buffer &= options.trace;
    let challenge = &challenge;

    let mut report = empty_report(options, &submission.display, &parts, seed, Some(&launcher));
    report.build.tracer_seconds = tracer_seconds;
    report.warnings.extend(isolation.sandbox.notice());
    report.isolation = isolation.sandbox.describe();

    match build {
        _ if interrupted => {
            for part in &parts {
                let verdict = verdict::interrupted();
                report.parts.push(part_report(
                    &|t| submission.shorten(t),
                    part,
                    verdict,
                    None,
                    &Results::new(),
                ));
            }
        }
        BuildOutcome::Failed(failure) => {
            note(format!(
                "build failed: {}",
                report::clean::line(&failure.summary, report::clean::ITEM_BYTES)
            ));
            report.build = BuildReport {
                ok: false,
                seconds: failure.seconds,
                tracer_seconds,
                summary: Some(failure.summary.clone()),
                details: Some(failure.details),
            };
            for part in &parts {
                let verdict =
                    verdict::build_error(format!("the crate does not build: {}", failure.summary));
                report.parts.push(part_report(
                    &|t| submission.shorten(t),
                    part,
                    verdict,
                    None,
                    &Results::new(),
                ));
            }
        }
        BuildOutcome::Built(driver) => {
            note(format!("built in {:.1} s", driver.seconds));
            report.build.seconds = driver.seconds;
            let graded: Vec<&Part> = parts
                .iter()
                .copied()
                .filter(|p| !driver.problems.iter().any(|q| q.function == p.function))
                .collect();
            let progress = |ranks: u32, settled: usize, planned: usize, seconds: f64| {
                note(format!(
                    "{ranks} ranks: launch settled {settled} of {planned} cells in {seconds:.2} s"
                ));
            };
            let matrix = Matrix {
                challenge,
                parts: graded.clone(),
                launcher: &launcher,
                driver: &driver.exe,
                tracer: tracer.as_deref(),
                submission: &submission.dir,
                seed,
                scratch: scratch.path().to_path_buf(),
                limits: &challenge.limits,
                progress: &progress,
                jail: isolation.ranks.as_ref(),
                keep_runs: options.keep_runs,
            };
            let run = if graded.is_empty() {
                None
            } else {
                Some(matrix.run()?)
            };
            let results = run.as_ref().map(|r| r.results.clone()).unwrap_or_default();
            if let Some(run) = &run {
                report.launches = run.launches;
                report.mpi.library = run.library.clone();
                report.warnings.extend(run.warnings.iter().cloned());
            }
            let wants_comparison = options.compare
                && graded
                    .iter()
                    .any(|p| p.expect == crate::config::Expect::Complete)
                && !crate::run::interrupt::requested();
            if wants_comparison {
                let measurer = Measurer {
                    cache: &cache,
                    cache_dir: &cache_dir,
                    launcher: &launcher,
                    tracer: tracer.as_deref(),
                    scratch: scratch.path(),
                };
                let measurements = measurer.baselines(challenge, &|text| note(text.to_string()))?;
                report.comparison = Some(crate::run::compare::compare(
                    &results,
                    &graded,
                    &measurements,
                    challenge.repetitions,
                ));
            }
            for part in &parts {
                let part_report = match driver.problems.iter().find(|q| q.function == part.function)
                {
                    Some(problem) => part_report(
                        &|t| submission.shorten(t),
                        part,
                        verdict::build_error(problem.message.clone()),
                        Some(problem.details.clone()),
                        &results,
                    ),
                    None => {
                        let outcomes = results
                            .iter()
                            .map(|(cell, r)| (cell.clone(), r.result.outcome.clone()))
                            .collect();
                        let usage = part_usage(part, &results);
                        let mut verdict = verdict::decide(part, &outcomes, usage.as_ref());
                        if part.expect == crate::config::Expect::Deadlock && options.trace {
                            // What this MPI buffers is why part 1 deadlocks where it does.
                            match crate::run::probe::cached(&cache_dir, &launcher, &|text| {
                                note(text.to_string())
                            }) {
                                Ok(probe) => {
                                    verdict.summary = format!(
                                        "{}; {}",
                                        verdict.summary,
                                        crate::run::probe::explain_buffering(&probe)
                                    )
                                }
                                Err(e) => report
                                    .warnings
                                    .push(format!("the probe of this MPI failed: {e}")),
                            }
                        }
                        if let (true, Some(target), Some(comparison)) =
                            (verdict.passed, &part.performance, &report.comparison)
                        {
                            if let Some(why) = crate::run::compare::too_slow(
                                comparison,
                                &part.name,
                                &target.baseline,
                                target.max_ratio,
                            ) {
                                verdict = verdict::too_slow(why);
                            }
                        }
                        part_report(&|t| submission.shorten(t), part, verdict, None, &results)
                    }
                };
                report.parts.push(part_report);
            }
        }
    }
    report.points = report.parts.iter().map(|p| p.points).sum();
    if options.keep_runs {
        let kept = scratch.keep();
        report
            .warnings
            .push(format!("run directories kept in {}", kept.display()));
    }
    report.seconds = prepare_seconds + started.elapsed().as_secs_f64();
    // Where what the submission wrote becomes report text, for every format.
    report::clean::report(&mut report);
    Ok(report)
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
        challenge: options.challenge.name.clone(),
        seed,
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
    report.parts = parts
        .iter()
        .map(|part| {
            let verdict = verdict::build_error(format!("cannot be graded: {why}"));
            part_report(&str::to_string, part, verdict, None, &Results::new())
        })
        .collect();
    report::clean::report(&mut report);
    report
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

/// The report of one part; `short` writes the submission's paths as the user gave them.
fn part_report(
    short: &dyn Fn(&str) -> String,
    part: &Part,
    mut verdict: Verdict,
    details: Option<String>,
    results: &Results,
) -> PartReport {
    let outcomes = results
        .iter()
        .filter(|(cell, _)| cell.part == part.name)
        .map(|(cell, r)| (cell.clone(), r.result.outcome.clone()))
        .collect();
    let credit = verdict::credit(part, &mut verdict, &outcomes);
    let runs = results
        .iter()
        .filter(|(cell, _)| cell.part == part.name)
        .map(|(cell, record): (&Cell, &CellRecord)| {
            let r = &record.result;
            RunReport {
                ranks: cell.ranks,
                scaling_factor: cell.scaling_factor,
                mode: cell.mode.as_str().to_string(),
                outcome: r.outcome.name().to_string(),
                seconds: r.timing.map(|t| t.seconds),
                detail: r.outcome.explain().map(|d| short(&d)),
                output: r.output.as_deref().map(short),
                messages: record.usage.as_ref().map(Usage::messages),
                bytes: record.usage.as_ref().map(Usage::message_bytes),
                calls: record
                    .usage
                    .as_ref()
                    .map(Usage::by_name)
                    .unwrap_or_default(),
                diagnosis: r.outcome.diagnosis().cloned().map(|mut d| {
                    d.explanation = short(&d.explanation);
                    d
                }),
            }
        })
        .collect();
    PartReport {
        name: part.name.clone(),
        title: part.title.clone(),
        expect: part.expect.as_str().to_string(),
        passed: verdict.passed,
        failure: verdict.failure.as_ref().map(|f| f.name().to_string()),
        summary: short(&verdict.summary),
        points: verdict.points,
        max_points: part.points,
        visibility: part.visibility,
        details,
        calls: part_usage(part, results)
            .map(|u| u.by_name())
            .unwrap_or_default(),
        credit,
        runs,
    }
}

/// What the part's function called over all its traced runs.
fn part_usage(part: &Part, results: &Results) -> Option<Usage> {
    let mut total: Option<Usage> = None;
    for (_, record) in results.iter().filter(|(cell, _)| cell.part == part.name) {
        if let Some(usage) = &record.usage {
            total.get_or_insert_with(Usage::default).add(usage);
        }
    }
    total
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
