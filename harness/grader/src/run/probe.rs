//! `mpi-grade probe`: what the local MPI does where this challenge lives. Which implementation
//! and version, how long a launch takes to start, and the eager limit: the largest message a
//! standard send hands over without waiting for its receive (the tutorial's "sufficiently large"),
//! found with the naive alltoall of the reference solution at 2 ranks, normally and with no
//! buffering. Grades use it to explain part 1.

use crate::build::compile::{BuildCache, BuildOutcome, Driver, Submission};
use crate::build::solutions::Solution;
use crate::config::{Challenge, Expect, Kind, Limits, Part};
use crate::error::{Error, Result};
use crate::judge::outcome::{Cell, Outcome};
use crate::mpi::Launcher;
use crate::run::matrix::Matrix;
use mpi_grade_protocol::run::Mode;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Block sizes the probe tries: up to 2^20 elements (8 MiB messages).
const LARGEST: u64 = 1 << 20;
/// The naive alltoall of the reference (part 1): each rank sends to itself first.
const NAIVE: &str = "part1";
/// The same without the send to itself (see the reference solution).
const PEERS_ONLY: &str = "part1_peers_only";
/// Sizes tried per refining launch.
const PER_LAUNCH: u64 = 8;
/// Ranks of the probe's launches.
const RANKS: u32 = 2;

/// What the probe found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// The version of this record's format (a cached probe of another is measured again).
    pub format_version: u32,
    /// The MPI implementation's display name.
    pub implementation: String,
    /// Its version.
    pub version: String,
    /// `MPI_Get_library_version`.
    pub library: Option<String>,
    /// Wall time of the fastest of three launches that only initialise and finalise MPI.
    pub startup_seconds: f64,
    /// Standard sends, the naive alltoall (each rank sends to itself first).
    pub eager: EagerLimit,
    /// Standard sends to another rank only (the naive alltoall without the send to itself):
    /// often a different limit from the one of a send to itself.
    pub eager_between_ranks: EagerLimit,
    /// Every standard send made synchronous (zero-buffer mode): nothing should be buffered.
    pub zero_buffer: EagerLimit,
    /// What the results depend on; a cached probe with another key is measured again.
    pub key: String,
}

/// The largest block that completed and the smallest that deadlocked, for the naive alltoall at
/// 2 ranks (each rank first sends to itself, then to the other).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EagerLimit {
    /// Elements (8 bytes each) of the largest block that completed; 0 when even 1 deadlocked.
    pub completes: u64,
    /// Elements of the smallest block that deadlocked; `None` when none did up to 2^20.
    pub deadlocks: Option<u64>,
    /// `completes` in bytes: messages up to this size are buffered.
    pub bytes: u64,
    /// Launches the search took.
    pub launches: u32,
}

/// Runs the probe.
pub fn probe(
    cache_dir: &Path,
    launcher: &Launcher,
    progress: &dyn Fn(&str),
) -> Result<ProbeReport> {
    let scratch = crate::run::scratch::scratch(cache_dir, "probe-")?;
    let cache = BuildCache::new(cache_dir, launcher, std::time::Duration::from_secs(600));
    let tracer = cache.build_tracer(scratch.path())?;
    let submission = Solution::Reference.submission(cache_dir, launcher.implementation)?;
    let driver = build_reference(&cache, &submission, scratch.path())?;
    let challenge = challenge();
    let matrix = Matrix {
        challenge: &challenge,
        parts: challenge.parts.iter().collect(),
        launcher,
        driver: &driver,
        tracer: Some(&tracer),
        submission: &driver.source_dir,
        seed: 1,
        scratch: scratch.path().to_path_buf(),
        limits: &challenge.limits,
        progress: &|_, _, _, _| {},
        jail: None,
        keep_runs: false,
        // The probe measures: every launch alone.
        overlap: crate::run::matrix::Overlap::ALONE,
    };
    let mut launches = 0u32;

    progress("timing the launcher");
    let mut startup = f64::INFINITY;
    let mut library = None;
    for _ in 0..3 {
        let batch = matrix.launch(RANKS, &[], launches)?;
        launches += 1;
        startup = startup.min(batch.seconds);
        library = library.or(batch.library);
    }
    progress("looking for the eager limit");
    let eager = eager_limit(&matrix, NAIVE, Mode::Standard, &mut launches)?;
    let eager_between_ranks = eager_limit(&matrix, PEERS_ONLY, Mode::Standard, &mut launches)?;
    progress("checking zero-buffer mode");
    let zero_buffer = eager_limit(&matrix, NAIVE, Mode::ZeroBuffer, &mut launches)?;
    Ok(ProbeReport {
        format_version: 1,
        implementation: launcher.implementation.display_name().to_string(),
        version: launcher.version.clone(),
        library,
        startup_seconds: startup,
        eager,
        eager_between_ranks,
        zero_buffer,
        key: key(launcher),
    })
}

/// The driver of the reference's two naive alltoalls.
fn build_reference(cache: &BuildCache, submission: &Submission, scratch: &Path) -> Result<Driver> {
    let functions = [NAIVE.to_string(), PEERS_ONLY.to_string()];
    match cache.build_driver(submission, Kind::Alltoall, &functions, scratch)? {
        BuildOutcome::Built(driver) if driver.problems.is_empty() => Ok(driver),
        _ => Err(Error::Other(
            "the bundled reference solution does not build".into(),
        )),
    }
}

/// The probe's own challenge: the two naive alltoalls at 2 ranks, expected to deadlock.
fn challenge() -> Challenge {
    Challenge {
        name: "probe".into(),
        kind: Kind::Alltoall,
        title: String::new(),
        section: String::new(),
        ranks: vec![RANKS],
        scaling_factors: vec![1],
        zero_buffer: false,
        repetitions: 1,
        limits: Limits {
            cell_seconds: 30.0,
            ..Limits::default()
        },
        sandbox: Default::default(),
        submission: Default::default(),
        parts: [NAIVE, PEERS_ONLY]
            .iter()
            .map(|&function| Part::ungraded(function, function, "", Expect::Deadlock))
            .collect(),
        source: Default::default(),
    }
}

/// Powers of two in one launch (a deadlock ends it, the cells before it completed), then the
/// bracket split in nine by each further launch, down to one element.
fn eager_limit(
    matrix: &Matrix<'_>,
    function: &str,
    mode: Mode,
    launches: &mut u32,
) -> Result<EagerLimit> {
    let first = *launches;
    let powers: Vec<u64> =
        std::iter::successors(Some(1u64), |s| (*s < LARGEST).then_some(s * 2)).collect();
    let (mut lo, mut hi) = match first_deadlock(matrix, function, &powers, mode, launches)? {
        None => {
            return Ok(EagerLimit {
                completes: LARGEST,
                deadlocks: None,
                bytes: LARGEST * 8,
                launches: *launches - first,
            })
        }
        Some(0) => (0, 1),
        Some(i) => (powers[i - 1], powers[i]),
    };
    while hi - lo > 1 {
        let step = ((hi - lo) as f64 / (PER_LAUNCH + 1) as f64).max(1.0);
        let mut sizes: Vec<u64> = (1..=PER_LAUNCH)
            .map(|i| lo + (i as f64 * step).round() as u64)
            .collect();
        sizes.retain(|&s| s > lo && s < hi);
        sizes.dedup();
        match first_deadlock(matrix, function, &sizes, mode, launches)? {
            None => lo = *sizes.last().expect("the bracket has room"),
            Some(i) => {
                hi = sizes[i];
                if i > 0 {
                    lo = sizes[i - 1];
                }
            }
        }
    }
    Ok(EagerLimit {
        completes: lo,
        deadlocks: Some(hi),
        bytes: lo * 8,
        launches: *launches - first,
    })
}

/// Runs the naive alltoall at `sizes` (ascending) in one launch: the index of the first size
/// that deadlocked, `None` when every size completed.
fn first_deadlock(
    matrix: &Matrix<'_>,
    function: &str,
    sizes: &[u64],
    mode: Mode,
    launches: &mut u32,
) -> Result<Option<usize>> {
    let cells: Vec<Cell> = sizes
        .iter()
        .map(|&sf| Cell {
            part: function.into(),
            function: function.into(),
            ranks: RANKS,
            scaling_factor: sf,
            mode,
        })
        .collect();
    let batch = matrix.launch(RANKS, &cells, *launches)?;
    *launches += 1;
    for (i, cell) in cells.iter().enumerate() {
        let Some((_, record)) = batch.settled.iter().find(|(c, _)| c == cell) else {
            return Err(Error::Other(format!(
                "the probe's launch did not settle {} elements",
                cell.scaling_factor
            )));
        };
        match &record.result.outcome {
            Outcome::Pass => continue,
            Outcome::Deadlock(_) => return Ok(Some(i)),
            other => {
                return Err(Error::Other(format!(
                    "the probe's naive alltoall did not complete or deadlock at {} elements: {}",
                    cell.scaling_factor,
                    other.explain().unwrap_or_default()
                )))
            }
        }
    }
    Ok(None)
}

/// What a probe's results depend on.
fn key(launcher: &Launcher) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    format!(
        "{} {} {} {}",
        launcher.implementation.key(),
        launcher.version,
        host.trim(),
        crate::mpi::available_cores()
    )
}

fn cache_path(cache_dir: &Path, launcher: &Launcher) -> std::path::PathBuf {
    cache_dir
        .join(launcher.implementation.key())
        .join("probe.json")
}

/// The probe of this machine and MPI, measured once and cached.
pub fn cached(
    cache_dir: &Path,
    launcher: &Launcher,
    progress: &dyn Fn(&str),
) -> Result<ProbeReport> {
    let path = cache_path(cache_dir, launcher);
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(report) = serde_json::from_str::<ProbeReport>(&text) {
            if report.key == key(launcher) && report.format_version == 1 {
                return Ok(report);
            }
        }
    }
    let report = probe(cache_dir, launcher, progress)?;
    store(cache_dir, launcher, &report)?;
    Ok(report)
}

/// Keeps a probe for later grades.
pub fn store(cache_dir: &Path, launcher: &Launcher, report: &ProbeReport) -> Result<()> {
    let path = cache_path(cache_dir, launcher);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(Error::io(format!("cannot create {}", parent.display())))?;
    }
    let text = serde_json::to_string_pretty(report).expect("probe reports serialise");
    std::fs::write(&path, text).map_err(Error::io(format!("cannot write {}", path.display())))
}
