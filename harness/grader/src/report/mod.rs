//! The finished grade, as data. Reporters only read it: `human` renders the coloured table,
//! `json` writes it as the documented JSON document (`format_version` 1).
//!
//! Field names are part of the JSON format that course tooling reads: rename nothing, add freely.

pub mod human;
pub mod json;

use serde::Serialize;

/// Version of the JSON document.
pub const FORMAT_VERSION: u32 = 1;

/// A whole grade of one submission.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub format_version: u32,
    /// The submission's directory, as given.
    pub submission: String,
    pub challenge: String,
    /// The grade's seed: `--seed` with this value reproduces the payloads.
    pub seed: u64,
    pub mpi: MpiInfo,
    pub build: BuildReport,
    pub parts: Vec<PartReport>,
    pub points: f64,
    pub max_points: f64,
    /// Wall time of the whole grade.
    pub seconds: f64,
    /// `mpiexec` jobs started.
    pub launches: u32,
    /// Problems of the grader itself worth knowing (processes it could not stop, ...).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MpiInfo {
    /// `"Open MPI"`.
    pub implementation: String,
    /// The launcher's version (`"4.1.4"`).
    pub version: String,
    /// `MPI_Get_library_version` as a rank reported it, when a rank ran.
    pub library: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub ok: bool,
    pub seconds: f64,
    /// The first error, when the build failed.
    pub summary: Option<String>,
    /// The compiler's messages, when the build failed.
    pub details: Option<String>,
}

/// The verdict on one part and every run behind it.
#[derive(Debug, Clone, Serialize)]
pub struct PartReport {
    pub name: String,
    pub title: String,
    /// `"complete"` or `"deadlock"`.
    pub expect: String,
    pub passed: bool,
    /// The deciding outcome when the part failed: `"deadlock"`, `"hang"`, `"crash"`,
    /// `"wrong-result"`, `"not-implemented"`, `"timeout"`, `"no-deadlock"`, `"forbidden-call"`,
    /// `"build-error"` (or `"not-run"` when the grade was interrupted).
    pub failure: Option<String>,
    /// One sentence.
    pub summary: String,
    pub points: f64,
    pub max_points: f64,
    /// More than a sentence, when there is more: the compiler's message for a part that does
    /// not build.
    pub details: Option<String>,
    pub runs: Vec<RunReport>,
}

/// One cell: one call of the part's function at one rank count and size.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub ranks: u32,
    pub scaling_factor: u64,
    /// `"standard"` or `"zero-buffer"`.
    pub mode: String,
    /// `"pass"`, `"wrong-result"`, `"crash"`, `"not-implemented"`, `"timeout"`, `"not-run"`.
    pub outcome: String,
    /// Slowest rank's time in the function, for runs that returned.
    pub seconds: Option<f64>,
    /// What happened, for anything but a pass.
    pub detail: Option<String>,
    /// The job's captured output (capped), for the run a job ended in.
    pub output: Option<String>,
}

impl Report {
    /// Whether every graded part passed (exit code 0).
    pub fn all_passed(&self) -> bool {
        self.parts.iter().all(|p| p.passed)
    }
}
