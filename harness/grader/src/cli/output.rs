//! Each subcommand from its request to its exit code: the process set up for child jobs, the
//! library called (`commands::*`), the reports written where the flags say.

use super::args::{
    CheckArgs, ColorChoice, CompareArgs, GradeArgs, ListArgs, MergeArgs, NewArgs, ProbeArgs,
    RunArgs,
};
use super::request;
use crate::commands::batch;
use crate::commands::grade::{self, GradeOptions};
use crate::config::{Challenge, Config};
use crate::error::{Error, Result};
use crate::mpi::Choice;
use crate::report::{classroom, file, gradescope, human, json, junit, Report};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

/// The grader starts process trees (builds, mpiexec): it adopts their orphans and stops them
/// on Ctrl-C.
fn supervise_children() {
    crate::run::procs::become_subreaper();
    crate::run::interrupt::install();
}

/// `mpi-grade grade`: one submission, a batch, or a dry run. With `--classroom`, a grade that
/// cannot be made still gives GitHub Classroom a result (status `error`, the reason).
pub(crate) fn grade(args: GradeArgs) -> Result<ExitCode> {
    if !args.classroom {
        return grade_with(args);
    }
    let selection = args.selection.clone();
    grade_with(args).inspect_err(|e| {
        let why = crate::report::clean::clean(&e.to_string(), crate::report::clean::ITEM_BYTES);
        let max_score = request::load(&selection).map_or(0.0, |(_, challenge)| {
            challenge.parts.iter().map(|p| p.points).sum::<f64>()
        });
        if let Err(io) = classroom::emit_line(&classroom::error_line(&why, max_score)) {
            eprintln!("mpi-grade: cannot write the GitHub Classroom result: {io}");
        }
    })
}

fn grade_with(args: GradeArgs) -> Result<ExitCode> {
    let json_to_stdout = args.json.as_deref() == Some(Path::new("-"));
    let request = request::grade(&args)?;
    colour_the_table(args.terminal.color, json_to_stdout);
    let options = &request.options;
    if args.dry_run {
        let mpi = args.machine.mpi.unwrap_or(request.config.mpi);
        let problems = check_submission(options)?;
        dry_run(
            &request.config,
            &options.challenge,
            mpi,
            &options.submission,
        )?;
        if problems.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
        // What a grade would report as every part's build error.
        for problem in &problems {
            println!("would fail every part (build-error): {problem}");
        }
        return Ok(ExitCode::from(1));
    }
    supervise_children();
    if let Some(entries) = &request.batch {
        return grade_batch(&args, options, entries);
    }
    let report = match grade::grade(options) {
        // On Gradescope a submission laid out wrong is the student's to fix: a graded
        // build error that says what to upload, not the grader's failure.
        Err(Error::NotACrate { message, .. }) if args.gradescope.is_some() => {
            grade::unusable(options, &format!("{message}. {}", gradescope::UPLOAD))
        }
        other => other?,
    };
    // Course tooling's files first: a reader of the table must not delay them.
    if let Some(path) = &args.junit {
        file::write(path, |out| junit::write(std::slice::from_ref(&report), out))
            .map_err(Error::io(format!("cannot write {}", path.display())))?;
    }
    if let Some(target) = &args.gradescope {
        let path = gradescope::results_path(target);
        let write = if args.gradescope_html {
            gradescope::write_html
        } else {
            gradescope::write
        };
        file::write(&path, |out| write(&report, out))
            .map_err(Error::io(format!("cannot write {}", path.display())))?;
    }
    if let Some(dir) = &args.html {
        write_html(dir, &report)?;
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

/// `--html DIR`: the page of one submission, DIR/index.html.
fn write_html(dir: &Path, report: &Report) -> Result<()> {
    let path = dir.join(crate::report::html::INDEX);
    file::write(&path, |out| {
        out.write_all(crate::report::html::page(report).as_bytes())
    })
    .map_err(Error::io(format!("cannot write {}", path.display())))
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
fn grade_batch(
    args: &GradeArgs,
    options: &GradeOptions,
    entries: &[batch::Entry],
) -> Result<ExitCode> {
    if entries.is_empty() {
        // Only a share can be empty (`--batch` refuses a root without submissions).
        eprintln!("mpi-grade: no submission falls in this --partition share: nothing to grade");
        return Ok(ExitCode::SUCCESS);
    }
    // The MPI installation is the same for every submission: a missing one stops here.
    crate::mpi::Launcher::detect(options.mpi)?;
    let outputs = batch::Outputs {
        out_dir: args.out.clone(),
        csv: args.csv.clone(),
        junit: args.junit.clone(),
        html: args.html.clone(),
        total: entries.len(),
        parts: options
            .challenge
            .parts
            .iter()
            .map(|p| p.name.clone())
            .collect(),
    };
    let progress = batch::Progress::new(entries.len(), args.terminal.quiet);
    let mut all: Vec<batch::Graded> = Vec::new();
    let build_ahead = batch::builds_ahead(request::build_ahead(args.build_ahead), options);
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

/// `mpi-grade merge`: the shards' reports as one batch's files and summary.
pub(crate) fn merge(args: MergeArgs) -> Result<ExitCode> {
    use crate::commands::shard;
    let files = shard::report_files(&args.reports)?;
    let read: Vec<batch::Graded> = files
        .iter()
        .map(|f| shard::read_graded(f))
        .collect::<Result<_>>()?;
    let all = shard::join(read)?;
    let parts: Vec<String> = all
        .first()
        .map(|g| g.report.parts.iter().map(|p| p.name.clone()).collect())
        .unwrap_or_default();
    let outputs = batch::Outputs {
        out_dir: None,
        csv: args.csv,
        junit: args.junit,
        html: args.html,
        total: all.len(),
        parts,
    };
    shard::write(&outputs, &all)?;
    human::render_batch(
        &all,
        &outputs.parts,
        all.len(),
        &mut std::io::stdout().lock(),
    )
    .map_err(Error::io("cannot write the summary"))?;
    let all_passed = all
        .iter()
        .all(|g| g.error.is_none() && g.report.all_passed());
    Ok(if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What a dry run checks before it prints: the submission is a crate (an error otherwise, as a
/// grade's), the parts asked for exist, and its manifest against the challenge's rules (the
/// problems a grade would report as build errors).
fn check_submission(options: &GradeOptions) -> Result<Vec<String>> {
    let submission = crate::build::compile::Submission::open(&options.submission)?;
    for wanted in &options.parts {
        if options.challenge.select_part(wanted).is_none() {
            return Err(Error::Other(format!(
                "no part `{wanted}` in challenge `{}`",
                options.challenge.name
            )));
        }
    }
    let has_build_rs = std::fs::symlink_metadata(submission.dir.join("build.rs")).is_ok();
    let manifest = crate::build::intake::read_manifest(&submission.dir).map_err(|why| vec![why]);
    let checked = manifest.and_then(|text| {
        crate::build::intake::check(&text, &options.challenge.submission, has_build_rs)
    });
    Ok(checked.err().unwrap_or_default())
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

/// `mpi-grade compare`: the comparison table (and the JSON report).
pub(crate) fn compare(args: CompareArgs) -> Result<ExitCode> {
    let json = args.json.clone();
    let json_to_stdout = json.as_deref() == Some(Path::new("-"));
    let color = args.terminal.color;
    let options = request::compare(args)?;
    colour_the_table(color, json_to_stdout);
    supervise_children();
    let report = crate::commands::compare::compare(&options)?;
    write_reports(
        &report,
        json.as_deref(),
        json_to_stdout,
        human::render_comparison_report,
    )?;
    Ok(exit_code(&report))
}

/// `mpi-grade check`: the learner's report.
pub(crate) fn check(args: CheckArgs) -> Result<ExitCode> {
    if args.all {
        return check_all(args);
    }
    let color = args.terminal.color;
    let html = args.html.clone();
    let json = args.json.clone();
    let json_to_stdout = json.as_deref() == Some(Path::new("-"));
    let options = request::check(args)?;
    colour_the_table(color, json_to_stdout);
    supervise_children();
    let report = grade::grade(&options)?;
    if let Some(dir) = &html {
        write_html(dir, &report)?;
    }
    write_reports(
        &report,
        json.as_deref(),
        json_to_stdout,
        human::render_for_learner,
    )?;
    Ok(exit_code(&report))
}

/// `mpi-grade check --all DIR`: each subfolder named after a challenge checked with it, the
/// learner's report of each, then one summary; exit 0 only when every exercise passes.
fn check_all(args: CheckArgs) -> Result<ExitCode> {
    let folder = args.crate_dir.clone();
    let config = request::load_config(args.selection.config.as_deref())?;
    let (found, others) = crate::commands::catalogue::exercises(&config, &folder)?;
    colour_the_table(args.terminal.color, false);
    supervise_children();
    let mut rows = Vec::new();
    for (challenge, dir) in found {
        let one = CheckArgs {
            crate_dir: dir,
            all: false,
            html: None,
            json: None,
            seed: None,
            selection: super::args::Selection {
                config: Some(config.path.clone()).filter(|_| config.path.is_file()),
                challenge: Some(challenge.name.clone()),
                ..args.selection.clone()
            },
            machine: args.machine.clone(),
            terminal: args.terminal.clone(),
            no_compare: true,
        };
        println!("== {} ==", challenge.name);
        let result = request::check(one)
            .and_then(|options| grade::grade(&options))
            .map_err(|e| crate::report::clean::clean(&e.to_string(), 4096));
        match &result {
            Ok(report) => write_reports(report, None, false, human::render_for_learner)?,
            Err(e) => println!("not checked: {e}"),
        }
        rows.push(crate::commands::catalogue::Row {
            challenge: challenge.name.clone(),
            result,
        });
    }
    println!("== summary ==");
    print!("{}", crate::commands::catalogue::summary(&rows, &others));
    let all_pass = rows.iter().all(|r| {
        r.result
            .as_ref()
            .is_ok_and(|r| r.parts.iter().all(|p| p.passed))
    });
    Ok(if all_pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `mpi-grade list`: the catalogue.
pub(crate) fn list(args: ListArgs) -> Result<ExitCode> {
    let config = request::load_config(args.config.as_deref())?;
    print!("{}", crate::commands::catalogue::list(&config));
    Ok(ExitCode::SUCCESS)
}

/// `mpi-grade probe`: the findings, kept for grades, as text or JSON.
pub(crate) fn probe(args: ProbeArgs) -> Result<ExitCode> {
    supervise_children();
    let launcher = crate::mpi::Launcher::detect(args.launch.mpi)?;
    let cache_dir = std::path::absolute(request::cache_dir(args.launch.cache_dir))
        .map_err(Error::io("cannot resolve the cache directory"))?;
    colored::control::set_override(use_color(
        args.terminal.color,
        std::io::stdout().is_terminal(),
    ));
    let quiet = args.terminal.quiet || !std::io::stderr().is_terminal();
    let report = crate::commands::probe::probe(&cache_dir, &launcher, &|text| {
        if !quiet {
            eprintln!("{text} ...");
        }
    })?;
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

/// `mpi-grade new`: the starter crate.
pub(crate) fn new(args: NewArgs) -> Result<ExitCode> {
    if let Some(challenge) = &args.challenge {
        let config = crate::config::Config::bundled();
        let parts: Vec<String> = config
            .challenge(Some(challenge))?
            .parts
            .iter()
            .map(|p| p.function.clone())
            .collect();
        let written =
            crate::commands::new::write_exercise_starter(challenge, &args.dir, args.python)?;
        let file = if args.python {
            written.as_str()
        } else {
            "src/lib.rs"
        };
        println!(
            "created {}/{file}: implement {} there, then check it with\n  cd {} && mpi-grade check --challenge {challenge}",
            args.dir.display(),
            parts.join(", "),
            args.dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if args.python {
        let file = crate::commands::new::write_python_starter(&args.kind, &args.dir)?;
        println!(
            "created {}/{file}: implement part1, part2 and part3 there (mpi4py and NumPy), then run\n  cd {} && mpi-grade check",
            args.dir.display(),
            args.dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let name = crate::commands::new::write_starter(&args.kind, &args.dir)?;
    println!(
        "created {} (package `{name}`): implement part1, part2 and part3 in src/lib.rs, then check them with\n  cd {} && mpi-grade check",
        args.dir.display(),
        args.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `mpi-grade run`: the program under the tracer; its end on stderr, JSON on request, and
/// an exit code that says how it ended.
pub(crate) fn run(args: RunArgs) -> Result<ExitCode> {
    let options = request::run(&args);
    supervise_children();
    colored::control::set_override(use_color(
        args.terminal.color,
        std::io::stderr().is_terminal(),
    ));
    let report = crate::commands::run::run(&options)?;
    match &report.diagnosis {
        // -q: nothing to add when the program simply exited.
        None if args.terminal.quiet && report.outcome == "exited" => {}
        Some(d) => eprintln!(
            "mpi-grade: {} after {:.2} s\n{}",
            report.outcome, report.seconds, d.explanation
        ),
        None if report.outcome == "exited" => eprintln!(
            "mpi-grade: exited with status {} after {:.2} s ({} messages, {} B; {} collective calls, {} B)",
            report.status.map_or("?".to_string(), |s| s.to_string()),
            report.seconds,
            report.messages,
            report.bytes,
            report.collectives,
            report.collective_bytes
        ),
        None => eprintln!(
            "mpi-grade: {} after {:.2} s",
            report.outcome, report.seconds
        ),
    }
    // A mismatch found after the program went on (the diagnosis, if any, is another stall).
    for f in &report.findings {
        let told = report
            .diagnosis
            .as_ref()
            .is_some_and(|d| d.mismatch.is_some());
        let said = report
            .diagnosis
            .as_ref()
            .is_some_and(|d| d.explanation == f.summary);
        if !told && !said {
            eprintln!("mpi-grade: {}: {}", f.kind, f.summary);
        }
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
    if let Some(dir) = &args.html {
        write_run_html(dir, &report)?;
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// `run --html DIR`: how the run ended, its graph drawn, in DIR/index.html.
fn write_run_html(dir: &Path, report: &crate::commands::run::RunReport) -> Result<()> {
    let mut command = vec![report.program.clone()];
    command.extend(report.args.iter().cloned());
    let facts = [
        ("command", command.join(" ")),
        ("ranks", report.ranks.to_string()),
        ("zero-buffer", report.zero_buffer.to_string()),
        ("outcome", report.outcome.clone()),
        ("seconds", format!("{:.2}", report.seconds)),
        (
            "messages",
            format!("{} ({} B)", report.messages, report.bytes),
        ),
    ];
    let page = crate::report::html::run_page(
        &format!("mpi-grade run: {}", report.outcome),
        &facts,
        report.diagnosis.as_ref(),
    );
    let path = dir.join(crate::report::html::INDEX);
    file::write(&path, |out| out.write_all(page.as_bytes()))
        .map_err(Error::io(format!("cannot write {}", path.display())))
}

/// `mpi-grade completions SHELL`: the completion script on stdout.
pub(crate) fn completions(shell: clap_complete::Shell) -> Result<ExitCode> {
    use clap::CommandFactory;
    let mut command = super::args::Cli::command();
    clap_complete::generate(shell, &mut command, "mpi-grade", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

/// `mpi-grade man`: the man page, roff, on stdout (every subcommand in it).
pub(crate) fn man() -> Result<ExitCode> {
    use clap::CommandFactory;
    let command = super::args::Cli::command();
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(command.clone())
        .render(&mut out)
        .map_err(Error::io("cannot write the man page"))?;
    // Each subcommand's synopsis, description and options, as sections of the one page.
    for sub in command.get_subcommands() {
        let name = format!("mpi-grade {}", sub.get_name());
        let page = clap_mangen::Man::new(sub.clone().name(name.clone()).bin_name(name.clone()));
        writeln!(out, ".SH \"{}\"", name.to_uppercase())
            .and_then(|()| page.render_synopsis_section(&mut out))
            .and_then(|()| page.render_description_section(&mut out))
            .and_then(|()| page.render_options_section(&mut out))
            .map_err(Error::io("cannot write the man page"))?;
    }
    Ok(ExitCode::SUCCESS)
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

/// Whether to colour, given the choice and whether the output is a terminal.
pub(crate) fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}
