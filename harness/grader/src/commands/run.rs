//! `mpi-grade run`: any MPI program (C, Rust, Python) under the tracer, with the same deadlock
//! and hang diagnosis as a grade. The self-check tool for anyone learning MPI.

use crate::build::compile::{BuildCache, Lang};
use crate::error::Result;
use crate::mpi::{Choice, Launcher};
use crate::run::launch::{self, Ending, Launch};
use crate::trace::diagnosis::{Diagnosis, StallKind};
use crate::trace::usage::{Count, Usage};
use crate::trace::LaunchTrace;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

// Exit codes of the run's own verdicts: above every MPI error class (Open MPI's and MPICH's
// fatal error handlers exit with the class: `MPI_ERR_TYPE` = 3, ...; the classes stay below
// 100) and above the shells' 128 + signal, so that none is taken for the program's own status.
/// Exit code when the ranks' calls do not match (whatever the program then did): collectives
/// called differently, a message truncated or received as another datatype, a message never
/// received.
pub const EXIT_CALL_MISMATCH: u8 = 240;
/// Exit code when the program deadlocked.
pub const EXIT_DEADLOCK: u8 = 241;
/// Exit code when the program hung.
pub const EXIT_HANG: u8 = 242;
/// Exit code when the program reached the time limit.
pub const EXIT_TIMEOUT: u8 = 243;
/// Exit code when the MPI library ended the program from inside a call (an argument it
/// refused) and no mismatch explains it.
pub const EXIT_MPI_ERROR: u8 = 244;

/// What to run.
pub struct RunOptions {
    /// How many ranks to start.
    pub ranks: u32,
    /// The MPI program every rank runs.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Whether the runtime makes sends zero-buffer (to expose sends that rely on buffering).
    pub zero_buffer: bool,
    /// How long ranks may wait without progress before the run counts as hung.
    pub hang_after: Duration,
    /// The time limit of the whole run.
    pub timeout: Duration,
    /// The grader's cache (the tracer is built there), and the parent of the run's scratch.
    pub cache_dir: PathBuf,
    /// Which MPI implementation to use.
    pub mpi: Choice,
}

/// How a run ended, as data (and as the JSON of `--json`).
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The version of this JSON layout.
    pub format_version: u32,
    /// The program that was run, as given.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// How many ranks ran.
    pub ranks: u32,
    /// Whether sends were zero-buffer.
    pub zero_buffer: bool,
    /// `"exited"`, `"deadlock"`, `"hang"`, `"crash"` (a rank vanished while others waited),
    /// `"call-mismatch"` (stopped at collectives called differently), `"timeout"` or
    /// `"interrupted"`.
    pub outcome: String,
    /// `mpiexec`'s exit code, when it exited by itself.
    pub status: Option<i32>,
    /// How long the run took, in seconds.
    pub seconds: f64,
    /// What the tracer found, for a deadlock or a hang.
    pub diagnosis: Option<Diagnosis>,
    /// MPI calls over all ranks, by C name.
    pub calls: BTreeMap<String, Count>,
    /// Point-to-point messages sent, over all ranks.
    pub messages: u64,
    /// Payload bytes of those messages.
    pub bytes: u64,
    /// Collective calls, over all ranks (each rank's call counts once).
    pub collectives: u64,
    /// Payload bytes the ranks contributed to those calls.
    pub collective_bytes: u64,
    /// Every error the tracer found, whatever the program then did; empty when none.
    pub findings: Vec<RunFinding>,
}

/// One error found in a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunFinding {
    /// `"collective-mismatch"`, `"truncation"`, `"type"` (a message received as another
    /// datatype), `"unmatched"` (a message sent and never received, a request never
    /// completed), `"mpi-error"` (the library ended the program from inside a call),
    /// `"deadlock"`, `"hang"` or `"crash"`.
    pub kind: String,
    /// The ranks involved.
    pub ranks: Vec<u32>,
    /// One sentence.
    pub summary: String,
}

impl RunFinding {
    /// The finding a diagnosis states.
    pub fn of(d: &Diagnosis) -> RunFinding {
        match &d.mismatch {
            Some(m) => RunFinding {
                kind: match m.kind {
                    "collective" => "collective-mismatch".to_string(),
                    other => other.to_string(),
                },
                ranks: m.ranks.clone(),
                summary: m.summary.clone(),
            },
            None => RunFinding {
                kind: stall_name(d.kind).to_string(),
                ranks: d.ranks.iter().map(|a| a.rank).collect(),
                summary: d.explanation.clone(),
            },
        }
    }
}

/// The outcome name of a stall.
fn stall_name(kind: StallKind) -> &'static str {
    match kind {
        StallKind::Deadlock => "deadlock",
        StallKind::Hang => "hang",
        StallKind::Gone => "crash",
        StallKind::CallMismatch => "call-mismatch",
    }
}

impl RunReport {
    /// The exit code of `mpi-grade run`: one saying what was found or why the program was
    /// stopped, else the program's own.
    pub fn exit_code(&self) -> u8 {
        match self.outcome.as_str() {
            "call-mismatch" => EXIT_CALL_MISMATCH,
            "deadlock" => EXIT_DEADLOCK,
            "hang" => EXIT_HANG,
            "timeout" => EXIT_TIMEOUT,
            _ if self.findings.iter().any(|f| f.kind == "mpi-error") => EXIT_MPI_ERROR,
            _ if self
                .findings
                .iter()
                .any(|f| !matches!(f.kind.as_str(), "deadlock" | "hang" | "crash")) =>
            {
                EXIT_CALL_MISMATCH
            }
            _ => self.status.map_or(1, |s| s.clamp(0, 255) as u8),
        }
    }
}

/// `PYTHONPATH` with the grader's `sitecustomize` first (it registers the Python stack dump
/// that names the program's lines in a diagnosis), then whatever the user had.
fn python_path(scratch: &Path) -> Result<(String, String)> {
    let dir = scratch.join("python");
    crate::build::embedded::write_tree("support/python", &dir)?;
    let mut path = dir.join("site").display().to_string();
    if let Some(old) = std::env::var_os("PYTHONPATH").filter(|p| !p.is_empty()) {
        path.push(':');
        path.push_str(&old.to_string_lossy());
    }
    Ok(("PYTHONPATH".to_string(), path))
}

/// A program that ended with an error status while a rank was still inside an MPI call: the
/// library's fatal error handler ended it from that call, and (Open MPI, MPICH) exits with the
/// error class. Said with the call and the class's name.
fn mpi_error(
    trace: &LaunchTrace,
    status: Option<i32>,
    mpi: crate::mpi::Implementation,
) -> Option<RunFinding> {
    let status = status.filter(|&s| s != 0)?;
    let (rank, call) = (0..trace.dir.ranks()).find_map(|r| {
        let rec = trace.dir.record(r);
        let state = mpi_grade_protocol::trace::RankState::from_u32(
            rec.header.state.load(std::sync::atomic::Ordering::Acquire),
        );
        (state == mpi_grade_protocol::trace::RankState::InCall)
            .then(|| crate::trace::records::last_call(rec).map(|c| (r, c)))
            .flatten()
    })?;
    let class = match mpi.error_class(status) {
        Some(name) => {
            format!(" ({name}, the error class the library's fatal error handler exits with)")
        }
        None => String::new(),
    };
    Some(RunFinding {
        kind: "mpi-error".to_string(),
        ranks: vec![rank],
        summary: format!(
            "rank {rank} ended inside {} and the program exited with status {status}{class}: the call's arguments were refused",
            call.func.name()
        ),
    })
}

/// Runs the program and reports how it ended. Its output goes straight to the terminal.
pub fn run(options: &RunOptions) -> Result<RunReport> {
    let launcher = Launcher::detect(options.mpi)?;
    let cache_dir = crate::run::scratch::absolute_cache(&options.cache_dir)?;
    let scratch = crate::run::scratch::scratch(&cache_dir, "run-")?;
    let tracer = BuildCache::new(&cache_dir, &launcher, Duration::from_secs(600))
        .build_tracer(scratch.path())?;

    let lang = crate::trace::pystacks::program_lang(&options.program);
    let trace = LaunchTrace::create(scratch.path(), options.ranks, None, lang)?;
    let mut env = trace.rank_env(true, options.zero_buffer);
    if lang == Lang::Python {
        env.push(python_path(scratch.path())?);
    }
    let launch = Launch {
        launcher: &launcher,
        program: &options.program,
        args: &options.args,
        ranks: options.ranks,
        env,
        preload: Some(&tracer),
        capture: None,
        launch_seconds: options.timeout.as_secs_f64(),
        cells: None,
        untimed: None,
        jail: None,
        hold: None,
    };
    let srun = launcher.runner == crate::mpi::Runner::Srun;
    let record = launch::run(&launch, &mut trace.watcher(options.hang_after, None, srun))?;
    let usage = trace.usage(0);
    let (outcome, diagnosis) = match record.ending {
        Ending::Exited => ("exited", None),
        Ending::Stalled(finding) => (stall_name(finding.diagnosis.kind), Some(finding.diagnosis)),
        Ending::LaunchTimeout { .. } | Ending::CellTimeout { .. } => ("timeout", None),
        Ending::Interrupted => ("interrupted", None),
        Ending::ScratchFull { .. } => ("crash", None),
        // Only a graded launch is released (its watcher has a release time).
        Ending::Released => ("released", None),
    };
    // The library may have paired mismatched collectives and the program gone on to the end
    // (or to an error) before a poll saw them: the records still hold them.
    let late = match &diagnosis {
        Some(d) if d.mismatch.is_some() => None,
        _ => {
            // The signature of cell 0 compares only when every rank made all its calls.
            let all_done = trace
                .dir
                .snapshot()
                .iter()
                .all(|s| s.state == mpi_grade_protocol::trace::RankState::Finalized);
            trace
                .mismatch(u32::from(all_done))
                .map(|(_, d)| d)
                .or_else(|| all_done.then(|| trace.pending_at_finalize()).flatten())
        }
    };
    let mut findings: Vec<RunFinding> = late.iter().chain(&diagnosis).map(RunFinding::of).collect();
    let status = record.status.and_then(|s| s.code());
    if findings.is_empty() && outcome == "exited" {
        findings.extend(mpi_error(&trace, status, launcher.implementation));
    }
    Ok(RunReport {
        format_version: 1,
        program: options.program.display().to_string(),
        args: options.args.clone(),
        ranks: options.ranks,
        zero_buffer: options.zero_buffer,
        outcome: outcome.to_string(),
        status,
        seconds: record.seconds,
        diagnosis,
        calls: usage.by_name(),
        messages: Usage::messages(&usage),
        bytes: usage.message_bytes(),
        collectives: usage.collective_calls(),
        collective_bytes: usage.collective_bytes(),
        findings,
    })
}
