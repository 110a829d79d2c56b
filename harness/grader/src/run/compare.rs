//! How a submission's alltoall compares with the references' and the library's own.
//!
//! Baselines are the bundled solutions run on the same matrix the same way (fastest of
//! `repetitions` calls of the slowest rank): the ordered-pairs reference (part 2), the Isend
//! reference (part 3) and `MPI_Alltoall`. They are measured once per machine, implementation,
//! version and matrix, and cached. Students learn most from seeing their ordering's cost against
//! the library's.

use crate::build::compile::{BuildCache, BuildOutcome};
use crate::build::python::{PythonBuild, PythonEnv};
use crate::build::solutions::Solution;
use crate::config::{Baseline, Challenge, Expect, Part};
use crate::error::{Error, Result};
use crate::judge::outcome::{Cell, Outcome};
use crate::mpi::Launcher;
use crate::run::matrix::{Matrix, Results};
use crate::trace::usage::Usage;
use mpi_grade_protocol::payload::mix64;
use mpi_grade_protocol::run::Mode;
use mpi_grade_protocol::trace::FuncClass;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The bundled solution and its function that a baseline runs.
fn source(baseline: Baseline) -> (Solution, &'static str) {
    match baseline {
        Baseline::ReferencePart2 => (Solution::Reference, "part2"),
        Baseline::ReferencePart3 => (Solution::Reference, "part3"),
        Baseline::MpiAlltoall => (Solution::Native, "part2"),
        Baseline::PythonPart2 => (Solution::PythonReference, "part2"),
        Baseline::PythonPart3 => (Solution::PythonReference, "part3"),
    }
}

/// One timed cell of a baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The baseline's name (`"reference-part3"`, say).
    pub baseline: String,
    /// How many ranks the cell ran.
    pub ranks: u32,
    /// Elements per block.
    pub scaling_factor: u64,
    /// The cell's time, in seconds (see [`Comparison::repetitions`]).
    pub seconds: f64,
    /// Point-to-point messages sent (all ranks).
    pub messages: u64,
    /// Bytes sent by point-to-point and collective calls (all ranks).
    pub bytes: u64,
}

#[derive(Serialize, Deserialize)]
struct CachedBaselines {
    format_version: u32,
    key: String,
    measurements: Vec<Measurement>,
}

/// What is needed to build and run the baselines.
pub struct Measurer<'a> {
    /// Builds the bundled solutions that the baselines run.
    pub cache: &'a BuildCache,
    /// The grader's cache: the solutions are written there, and the measurements kept.
    pub cache_dir: &'a Path,
    /// The MPI implementation to build and launch with.
    pub launcher: &'a Launcher,
    /// The tracer library preloaded into the ranks, if any (it counts messages and bytes).
    pub tracer: Option<&'a Path>,
    /// Scratch space for the baselines' build and launches.
    pub scratch: &'a Path,
}

impl Measurer<'_> {
    /// The baselines' measurements on `challenge`'s matrix, from the cache when it has them.
    /// `progress` is told when they have to be measured (it takes a grade's time).
    pub fn baselines(
        &self,
        challenge: &Challenge,
        progress: &dyn Fn(&str),
    ) -> Result<Vec<Measurement>> {
        let key = self.key(challenge);
        let dir = self
            .cache_dir
            .join(self.launcher.implementation.key())
            .join("baselines");
        let path = dir.join(format!("{key}.json"));
        if let Ok(text) = std::fs::read_to_string(&path) {
            if let Ok(cached) = serde_json::from_str::<CachedBaselines>(&text) {
                if cached.key == key && cached.format_version == 1 {
                    return Ok(cached.measurements);
                }
            }
        }
        progress("measuring the reference solutions on this machine (once; cached after)");
        let mut measurements = Vec::new();
        for solution in [
            Solution::Reference,
            Solution::Native,
            Solution::PythonReference,
        ] {
            let baselines: Vec<Baseline> = Baseline::ALL
                .into_iter()
                .filter(|&b| source(b).0 == solution)
                .collect();
            measurements.extend(self.measure(challenge, solution, &baselines)?);
        }
        std::fs::create_dir_all(&dir)
            .map_err(Error::io(format!("cannot create {}", dir.display())))?;
        let cached = CachedBaselines {
            format_version: 1,
            key,
            measurements: measurements.clone(),
        };
        let text = serde_json::to_string_pretty(&cached).expect("measurements serialise");
        std::fs::write(&path, text)
            .map_err(Error::io(format!("cannot write {}", path.display())))?;
        Ok(measurements)
    }

    fn measure(
        &self,
        challenge: &Challenge,
        solution: Solution,
        baselines: &[Baseline],
    ) -> Result<Vec<Measurement>> {
        let submission = solution.submission(self.cache_dir, self.launcher.implementation)?;
        let functions: Vec<String> = baselines.iter().map(|&b| source(b).1.to_string()).collect();
        let built = match solution {
            Solution::PythonReference => {
                // Without the grader's Python, there are no Python baselines (not an error).
                let Ok(env) = PythonEnv::find(self.launcher.implementation) else {
                    return Ok(Vec::new());
                };
                PythonBuild {
                    env: &env,
                    out_dir: self.scratch,
                    jail: None,
                    time_limit: std::time::Duration::from_secs(120),
                }
                .build(&submission, &functions)?
            }
            Solution::Reference | Solution::Native => {
                self.cache
                    .build_driver(&submission, challenge.kind, &functions, self.scratch)?
            }
        };
        let driver = match built {
            BuildOutcome::Built(driver) if driver.problems.is_empty() => driver,
            _ => {
                return Err(Error::Other(format!(
                    "the bundled {solution:?} solution does not build"
                )))
            }
        };
        let parts: Vec<Part> = baselines
            .iter()
            .map(|&b| Part::ungraded(b.name(), source(b).1, b.description(), Expect::Complete))
            .collect();
        let mut plain = challenge.clone();
        plain.zero_buffer = false;
        plain.parts = parts;
        let matrix = Matrix {
            challenge: &plain,
            parts: plain.parts.iter().collect(),
            launcher: self.launcher,
            driver: &driver,
            tracer: self.tracer,
            submission: &driver.source_dir,
            seed: 1,
            scratch: self.scratch.join(format!("baseline-{solution:?}")),
            limits: &plain.limits,
            progress: &|_, _, _, _| {},
            jail: None,
            keep_runs: false,
            // A baseline is a measurement: every launch alone.
            overlap: crate::run::matrix::Overlap::ALONE,
        };
        let run = matrix.run()?;
        Ok(run
            .results
            .iter()
            .filter(|(_, r)| r.result.outcome == Outcome::Pass)
            .filter_map(|(cell, r)| {
                Some(Measurement {
                    baseline: cell.part.clone(),
                    ranks: cell.ranks,
                    scaling_factor: cell.scaling_factor,
                    seconds: r.result.timing?.seconds,
                    messages: r.usage.as_ref().map_or(0, Usage::messages),
                    bytes: r.usage.as_ref().map_or(0, sent_bytes),
                })
            })
            .collect())
    }

    /// What the measurements depend on: the solutions, the matrix and how it is timed, the
    /// MPI, and the machine.
    fn key(&self, challenge: &Challenge) -> String {
        let mut text = format!(
            "{:?} {:?} {} {} {} {} {}",
            challenge.ranks,
            challenge.scaling_factors,
            challenge.repetitions,
            self.launcher.implementation.key(),
            self.launcher.version,
            hostname(),
            crate::mpi::available_cores(),
        );
        // Python baselines are measured when the grader has Python for this implementation.
        if let Ok(env) = PythonEnv::find(self.launcher.implementation) {
            text.push_str(&env.python.display().to_string());
        }
        for (tree, files) in crate::build::embedded::TREES {
            if tree.starts_with("solutions/") || *tree == "support/runtime" {
                for (path, bytes) in *files {
                    text.push_str(path);
                    text.push_str(&String::from_utf8_lossy(bytes));
                }
            }
        }
        let hash = text.bytes().fold(0u64, |h, b| mix64(h ^ u64::from(b)));
        format!("{hash:016x}")
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// Bytes a cell sent: its point-to-point messages and its collectives' send buffers.
pub fn sent_bytes(usage: &Usage) -> u64 {
    let collectives: u64 = usage
        .counts
        .iter()
        .filter(|(f, _)| {
            matches!(
                f.class(),
                FuncClass::Collective | FuncClass::NonBlockingCollective
            )
        })
        .map(|(_, c)| c.bytes)
        .sum();
    usage.message_bytes() + collectives
}

/// One part's run next to the baselines at the same rank count and size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The part's name.
    pub part: String,
    /// How many ranks the cell ran.
    pub ranks: u32,
    /// Elements per block.
    pub scaling_factor: u64,
    /// The part's time, in seconds (see [`Comparison::repetitions`]).
    pub seconds: f64,
    /// Point-to-point messages the part sent (all ranks), when it was traced.
    pub messages: Option<u64>,
    /// Bytes it sent by point-to-point and collective calls (all ranks), when it was traced.
    pub bytes: Option<u64>,
    /// The baselines measured at the same rank count and size.
    pub against: Vec<Against>,
}

/// A baseline's numbers for a row, and the ratio of the part's time to its time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Against {
    /// The baseline's name.
    pub baseline: String,
    /// Its time, in seconds.
    pub seconds: f64,
    /// The part's time over the baseline's (2.0: twice as slow).
    pub ratio: f64,
    /// Point-to-point messages it sent (all ranks).
    pub messages: u64,
    /// Bytes it sent by point-to-point and collective calls (all ranks).
    pub bytes: u64,
}

/// The comparison section of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Calls timed per cell (the fastest, of the slowest rank, counts).
    pub repetitions: u32,
    /// Every baseline, named and described, whether measured or not.
    pub baselines: Vec<BaselineInfo>,
    /// One row per cell compared.
    pub rows: Vec<Row>,
}

/// A baseline, as the report lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineInfo {
    /// Its name, as in [`Against::baseline`].
    pub name: String,
    /// What it runs, for people.
    pub description: String,
}

/// The rows of the parts expected to complete, for every run that passed in standard mode.
pub fn compare(
    results: &Results,
    parts: &[&Part],
    measurements: &[Measurement],
    repetitions: u32,
) -> Comparison {
    let rows = results
        .iter()
        .filter(|(cell, r)| {
            cell.mode == Mode::Standard
                && r.result.outcome == Outcome::Pass
                && parts
                    .iter()
                    .any(|p| p.name == cell.part && p.expect == Expect::Complete)
        })
        .filter_map(|(cell, r)| {
            let seconds = r.result.timing?.seconds;
            Some(Row {
                part: cell.part.clone(),
                ranks: cell.ranks,
                scaling_factor: cell.scaling_factor,
                seconds,
                messages: r.usage.as_ref().map(Usage::messages),
                bytes: r.usage.as_ref().map(sent_bytes),
                against: against(cell, seconds, measurements),
            })
        })
        .collect();
    Comparison {
        repetitions,
        baselines: Baseline::ALL
            .into_iter()
            .filter(|b| measurements.iter().any(|m| m.baseline == b.name()))
            .map(|b| BaselineInfo {
                name: b.name().to_string(),
                description: b.description().to_string(),
            })
            .collect(),
        rows,
    }
}

fn against(cell: &Cell, seconds: f64, measurements: &[Measurement]) -> Vec<Against> {
    Baseline::ALL
        .into_iter()
        .filter_map(|b| {
            let m = measurements.iter().find(|m| {
                m.baseline == b.name()
                    && m.ranks == cell.ranks
                    && m.scaling_factor == cell.scaling_factor
            })?;
            Some(Against {
                baseline: b.name().to_string(),
                seconds: m.seconds,
                ratio: if m.seconds > 0.0 {
                    seconds / m.seconds
                } else {
                    f64::INFINITY
                },
                messages: m.messages,
                bytes: m.bytes,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baselines_are_named_for_the_config() {
        assert_eq!(source(Baseline::parse("MPI_Alltoall").unwrap()).1, "part2");
        assert!(Baseline::parse("reference-part3").is_some());
        assert!(Baseline::parse("nonsense").is_none());
    }
}
