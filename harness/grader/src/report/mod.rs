//! The finished grade, as data. Reporters only read it: `human` renders the coloured table,
//! `json` writes it as the documented JSON document (`format_version` 1).
//!
//! Field names are part of the JSON format that course tooling reads: rename nothing, add freely.

pub mod batch;
pub mod budget;
pub mod build;
pub mod classroom;
pub mod clean;
pub mod file;
pub mod gradescope;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod kinds;
#[cfg(test)]
pub(crate) mod sample;
pub mod table;
pub mod text;

pub use crate::config::Visibility;
use crate::judge::part::Earned;
use crate::run::compare::Comparison;
use crate::trace::diagnosis::Diagnosis;
use crate::trace::usage::Count;
pub use kinds::{Expect, FailureKind, Mode, OutcomeKind};
use serde::Serialize;
use std::collections::BTreeMap;

/// Version of the JSON document.
pub const FORMAT_VERSION: u32 = 1;

/// A whole grade of one submission.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Report {
    /// [`FORMAT_VERSION`]: changes only when a field changes meaning or goes away.
    pub format_version: u32,
    /// The submission's directory, as given.
    pub submission: String,
    /// The submission's language: `rust` or `python`.
    pub language: String,
    /// The challenge graded (its `name` in `challenges.toml`).
    pub challenge: String,
    /// The grade's seed: `--seed` with this value reproduces the payloads. JSON readers that
    /// hold numbers as doubles (JavaScript, jq 1.6) round seeds above 2^53: read
    /// [`Report::seed_string`] instead.
    pub seed: u64,
    /// The seed in decimal, as a string: what `--seed` takes, exact in every JSON reader.
    pub seed_string: String,
    /// The MPI implementation the grade ran under.
    pub mpi: MpiInfo,
    /// The build of the submission and the tracer.
    pub build: BuildReport,
    /// Every part of the challenge, in `challenges.toml` order.
    pub parts: Vec<PartReport>,
    /// Points earned over all parts.
    pub points: f64,
    /// Points the parts are worth.
    pub max_points: f64,
    /// Wall time of the whole grade.
    pub seconds: f64,
    /// `mpiexec` jobs started.
    pub launches: u32,
    /// Whether MPI calls were traced (deadlock and hang diagnosis, call checks).
    pub traced: bool,
    /// The parts' times next to the reference solutions' and `MPI_Alltoall`'s.
    pub comparison: Option<Comparison>,
    /// Problems of the grader itself worth knowing (processes it could not stop, ...).
    pub warnings: Vec<String>,
    /// What isolated the submission's build and ranks (`"off"` with `--no-sandbox`).
    pub isolation: String,
    /// The configuration graded with: its path and the SHA-256 of its text.
    pub config: crate::config::Source,
    /// The grader that graded: its version and commit.
    pub grader: Grader,
}

/// Which mpi-grade wrote a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Grader {
    /// The crate's version (`0.1.0`).
    pub version: String,
    /// The git commit it was built from (12 hex digits), or `unknown`.
    pub commit: String,
}

impl Grader {
    /// This grader.
    pub fn this() -> Grader {
        Grader {
            version: env!("CARGO_PKG_VERSION").to_string(),
            commit: env!("MPI_GRADE_COMMIT").to_string(),
        }
    }

    /// `0.1.0 (commit 1234abcd5678)`.
    pub fn describe(&self) -> String {
        format!("{} (commit {})", self.version, self.commit)
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
/// The MPI implementation the ranks ran under.
pub struct MpiInfo {
    /// `"Open MPI"`.
    pub implementation: String,
    /// The launcher's version (`"4.1.4"`).
    pub version: String,
    /// `MPI_Get_library_version` as a rank reported it, when a rank ran.
    pub library: Option<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
/// How the submission built.
pub struct BuildReport {
    /// Whether the submission built.
    pub ok: bool,
    /// Building the submission into its driver.
    pub seconds: f64,
    /// Building (or finding up to date) the tracer library.
    pub tracer_seconds: f64,
    /// The driver was an earlier build of the same bytes (`build/memo.rs`): cargo did not run.
    #[serde(default)]
    pub memoized: bool,
    /// The first error, when the build failed.
    pub summary: Option<String>,
    /// The compiler's messages, when the build failed.
    pub details: Option<String>,
}

/// The verdict on one part and every run behind it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct PartReport {
    /// The part's name in `challenges.toml` (`"part1"`).
    pub name: String,
    /// Its title for people (may be empty).
    pub title: String,
    /// `"complete"` or `"deadlock"`.
    #[serde(
        serialize_with = "kinds::expect_name",
        deserialize_with = "kinds::expect_from_name"
    )]
    pub expect: Expect,
    /// Whether the part did what it must.
    pub passed: bool,
    /// The deciding outcome when the part failed: `"deadlock"`, `"hang"`, `"crash"`,
    /// `"wrong-result"`, `"not-implemented"`, `"timeout"`, `"no-deadlock"`, `"forbidden-call"`,
    /// `"build-error"`, `"too-slow"` (or `"not-run"` when the grade was interrupted).
    pub failure: Option<FailureKind>,
    /// One sentence.
    pub summary: String,
    /// Points earned (partial credit included).
    pub points: f64,
    /// Points the part is worth.
    pub max_points: f64,
    /// When students see the part's result on Gradescope (`"visible"`, `"hidden"`,
    /// `"after_due_date"`, `"after_published"`), from `challenges.toml`.
    pub visibility: Visibility,
    /// More than a sentence, when there is more: the compiler's message for a part that does
    /// not build.
    pub details: Option<String>,
    /// MPI calls of the part's code over all its runs (traced grades), by C name.
    pub calls: BTreeMap<String, Count>,
    /// Partial credit: what each group of runs `challenges.toml` gives points for earned
    /// (empty when it defines none).
    pub credit: Vec<Earned>,
    /// Every cell of the part, by rank count, size and mode.
    pub runs: Vec<RunReport>,
}

/// One cell: one call of the part's function at one rank count and size.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RunReport {
    /// Rank count of the launch.
    pub ranks: u32,
    /// Elements per block (each rank sends `scaling_factor` values to every rank).
    pub scaling_factor: u64,
    /// `"standard"` or `"zero-buffer"`.
    pub mode: Mode,
    /// `"pass"`, `"wrong-result"`, `"crash"`, `"not-implemented"`, `"deadlock"`, `"hang"`,
    /// `"timeout"`, `"not-run"`.
    pub outcome: OutcomeKind,
    /// Slowest rank's time in the function, for runs that returned.
    pub seconds: Option<f64>,
    /// What happened, for anything but a pass.
    pub detail: Option<String>,
    /// The job's captured output (capped), for the run a job ended in.
    pub output: Option<String>,
    /// Point-to-point messages the function sent, over all ranks (traced grades).
    pub messages: Option<u64>,
    /// Payload bytes of those messages.
    pub bytes: Option<u64>,
    /// MPI calls of the function over all ranks, by C name (traced grades).
    pub calls: BTreeMap<String, Count>,
    /// For a deadlock or a hang: the ranks, their calls, the wait-for graph, the explanation.
    pub diagnosis: Option<Diagnosis>,
}

impl Report {
    /// Whether every graded part passed (exit code 0).
    pub fn all_passed(&self) -> bool {
        self.parts.iter().all(|p| p.passed)
    }

    /// The parts that failed, with why: `("part2", "deadlock")`.
    pub fn failed_parts(&self) -> impl Iterator<Item = (&str, &'static str)> {
        self.parts
            .iter()
            .filter(|p| !p.passed)
            .map(|p| (p.name.as_str(), p.failure_name()))
    }

    /// Runs with a deadlock or hang diagnosis, titled for people.
    pub fn diagnoses(&self) -> impl Iterator<Item = (String, &Diagnosis)> {
        self.parts.iter().flat_map(|p| {
            p.runs.iter().filter_map(move |r| {
                let d = r.diagnosis.as_ref()?;
                let mode = match r.mode {
                    Mode::Standard => String::new(),
                    Mode::ZeroBuffer => format!(" in {} mode", r.mode.as_str()),
                };
                Some((
                    format!(
                        "{}: {}{mode}",
                        p.name,
                        crate::fmt::ranks_and_size(r.ranks, r.scaling_factor)
                    ),
                    d,
                ))
            })
        })
    }
}

impl PartReport {
    /// The failure's name, `"failed"` when a failed part has none.
    pub fn failure_name(&self) -> &'static str {
        self.failure.map_or("failed", FailureKind::name)
    }

    /// Whether `run` is one of the runs that decided the part's failure.
    pub fn decided_by(&self, run: &RunReport) -> bool {
        self.failure.is_some_and(|f| f.decided_by(run.outcome))
    }
}
