//! Python submissions (mpi4py and NumPy): the grader's Python for an MPI implementation, which
//! module serves each part, and the "build": a static check of the student's files, run
//! confined like every build, that finds what Python would only find at import or call time
//! (a `SyntaxError`, a missing or mistyped function, a module that does not exist, code outside
//! functions that would run the exchange at import). Nothing of the student's runs here; the
//! modules are imported in the ranks, by the Python runtime (`harness/python`).

use super::compile::{BuildFailure, BuildOutcome, Driver, PartProblem, Submission};
use crate::error::{Error, Result};
use crate::mpi::Implementation;
use crate::run::supervisor::{self, Job};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The runtime every Python rank runs, and the checker of the build step (embedded).
const RUNTIME: &str = "mpi_grade_runtime.py";
const CHECKER: &str = "mpi_grade_check.py";
/// Where `scripts/install-python` puts the environments when run as root (under `/usr`, which
/// the sandbox mounts read-only).
const SYSTEM_ROOT: &str = "/usr/local/lib/mpi-grade/python";
/// Names a single-module submission's file may have, in the order they are looked for.
const MODULE_NAMES: [&str; 4] = ["alltoall", "submission", "solution", "challenge"];

/// The Python that runs submissions for one MPI implementation: a virtual environment whose
/// mpi4py calls that implementation's library.
#[derive(Debug, Clone)]
pub struct PythonEnv {
    /// Its interpreter.
    pub python: PathBuf,
    /// The environment's directory (read-only in the ranks' sandbox when outside `/usr`).
    pub prefix: PathBuf,
}

impl PythonEnv {
    /// The environment for `implementation`: `MPI_GRADE_PYTHON_<IMPL>` (an interpreter), else
    /// what `scripts/install-python` made (system-wide, then the user's).
    pub fn find(implementation: Implementation) -> Result<PythonEnv> {
        let var = format!("MPI_GRADE_PYTHON_{}", implementation.key().to_uppercase());
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(python) = std::env::var_os(&var) {
            candidates.push(PathBuf::from(python));
        } else {
            candidates.push(Path::new(SYSTEM_ROOT).join(implementation.key()));
            let data = std::env::var_os("XDG_DATA_HOME")
                .map(PathBuf::from)
                .or_else(|| crate::sandbox::home_dir().map(|h| h.join(".local/share")));
            candidates.extend(data.map(|d| d.join("mpi-grade/python").join(implementation.key())));
            candidates
                .iter_mut()
                .for_each(|c| *c = c.join("bin/python"));
        }
        for python in &candidates {
            if python.is_file() {
                let prefix = python
                    .parent()
                    .and_then(Path::parent)
                    .unwrap_or(Path::new("/"))
                    .to_path_buf();
                return Ok(PythonEnv {
                    python: python.clone(),
                    prefix,
                });
            }
        }
        Err(Error::Other(format!(
            "no Python with mpi4py for {} (looked for {}): run scripts/install-python, or set {var} \
             to a python whose mpi4py was built against {}",
            implementation.display_name(),
            candidates
                .iter()
                .map(|c| c.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            implementation.display_name()
        )))
    }

    /// Whether the sandbox must bind this environment in (it is outside `/usr`).
    pub fn outside_usr(&self) -> bool {
        !self.prefix.starts_with("/usr")
    }
}

/// Which module and function serve one part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The part's function in the plan (`part1`).
    pub function: String,
    /// The module (a file `<module>.py` at the submission's top level).
    pub module: String,
    /// The names tried in it, in order (`alltoall` in the tutorial's one-file-per-part shape).
    pub names: Vec<String>,
}

impl Entry {
    /// `part1=part1:alltoall,part1`, as the runtime and the checker read it.
    fn spec(&self) -> String {
        format!("{}={}:{}", self.function, self.module, self.names.join(","))
    }
}

/// The module of each part: `partN.py` (the tutorial's scaffold, one file per part defining
/// `alltoall`) when present, else the submission's one module (see [`MODULE_NAMES`], or the
/// only `.py` file). A part without a module is a problem of its own.
pub fn layout(dir: &Path, functions: &[String]) -> (Vec<Entry>, Vec<PartProblem>) {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter_map(|n| n.strip_suffix(".py").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let per_part = |m: &str| functions.iter().any(|f| f == m) || m.starts_with("test");
    let main = MODULE_NAMES
        .iter()
        .find(|m| files.iter().any(|f| f == *m))
        .map(|m| m.to_string())
        .or_else(|| {
            let others: Vec<&String> = files.iter().filter(|f| !per_part(f)).collect();
            (others.len() == 1).then(|| others[0].clone())
        });
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for function in functions {
        let entry = if files.iter().any(|f| f == function) {
            Some((
                function.clone(),
                vec!["alltoall".to_string(), function.clone()],
            ))
        } else {
            main.clone().map(|m| (m, vec![function.clone()]))
        };
        match entry {
            Some((module, _)) if !is_identifier(&module) => problems.push(PartProblem {
                function: function.clone(),
                message: format!(
                    "{module}.py cannot be imported under that name: rename it to letters, digits and _"
                ),
                details: String::new(),
            }),
            Some((module, names)) => entries.push(Entry {
                function: function.clone(),
                module,
                names,
            }),
            None => problems.push(PartProblem {
                function: function.clone(),
                message: format!(
                    "no module defines {function}: put `def {function}(comm, values)` in alltoall.py \
                     (or one file {function}.py defining `def alltoall(comm, values)`)"
                ),
                details: format!("Python files found: {}", files.join(".py, ") + ".py"),
            }),
        }
    }
    (entries, problems)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What the checker printed.
#[derive(Debug, Deserialize)]
struct Checked {
    environment: Option<String>,
    problems: Vec<CheckedProblem>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct CheckedProblem {
    function: String,
    message: String,
    #[serde(default)]
    details: String,
}

/// A Python build: the checker's verdict and the driver the ranks run.
pub struct PythonBuild<'a> {
    /// The environment of this implementation.
    pub env: &'a PythonEnv,
    /// Where the runtime and the checker are written (read by the sandbox user).
    pub out_dir: &'a Path,
    /// The jail the checker runs in (the ranks' jail), when sandboxed.
    pub jail: Option<&'a crate::sandbox::Jail>,
    /// The time limit of the check.
    pub time_limit: Duration,
}

impl PythonBuild<'_> {
    /// Checks `submission` for `functions` and returns the driver: the environment's Python
    /// running the runtime with the module of each part that passed.
    pub fn build(&self, submission: &Submission, functions: &[String]) -> Result<BuildOutcome> {
        let started = Instant::now();
        let dir = self.out_dir.join("python");
        crate::build::embedded::write_tree("support/python", &dir)?;
        let (entries, mut problems) = layout(&submission.dir, functions);
        let checked = self.check(&dir, submission, &entries)?;
        if let Some(why) = checked.environment {
            return Err(Error::Other(format!(
                "the grader's Python ({}) cannot run submissions: {why}; run scripts/install-python",
                self.env.python.display()
            )));
        }
        problems.extend(checked.problems.into_iter().map(|p| PartProblem {
            function: p.function,
            message: p.message,
            details: p.details,
        }));
        let usable: Vec<&Entry> = entries
            .iter()
            .filter(|e| !problems.iter().any(|p| p.function == e.function))
            .collect();
        let seconds = started.elapsed().as_secs_f64();
        if usable.is_empty() && !problems.is_empty() && problems_share_a_cause(&problems) {
            let first = &problems[0];
            return Ok(BuildOutcome::Failed(BuildFailure {
                summary: first.message.clone(),
                details: if first.details.is_empty() {
                    first.message.clone()
                } else {
                    first.details.clone()
                },
                seconds,
            }));
        }
        let mut args = vec![
            "-I".to_string(),
            "-B".to_string(),
            dir.join(RUNTIME).display().to_string(),
            submission.dir.display().to_string(),
        ];
        args.extend(usable.iter().map(|e| e.spec()));
        Ok(BuildOutcome::Built(Driver {
            exe: self.env.python.clone(),
            args,
            lang: super::compile::Lang::Python,
            warnings: checked.warnings,
            problems,
            seconds,
            source_dir: submission.dir.clone(),
            memoized: false,
        }))
    }

    /// Runs the checker, confined, and reads its answer.
    fn check(&self, dir: &Path, submission: &Submission, entries: &[Entry]) -> Result<Checked> {
        if entries.is_empty() {
            return Ok(Checked {
                environment: None,
                problems: Vec::new(),
                warnings: Vec::new(),
            });
        }
        let marker = supervisor::marker(supervisor::Kind::Build);
        let mut command = Command::new(&self.env.python);
        command
            .args(["-I", "-B"])
            .arg(dir.join(CHECKER))
            .arg(&submission.dir)
            .args(entries.iter().map(Entry::spec));
        let start = supervisor::Start {
            kind: supervisor::Kind::Build,
            marker: &marker,
            capture: Some((1 << 20, 64 << 10)),
            name: "python",
            cannot_start: format!("cannot run {}", self.env.python.display()),
        };
        let jail = match self.jail {
            Some(jail) => Some(jail.for_launch(None)?),
            None => None,
        };
        let mut job = Job::start(command, &start, |command| match &jail {
            Some(jail) => jail.confine(command),
            None => Ok(()),
        })?;
        let status = job.wait_timeout(self.time_limit)?;
        if status.is_none() {
            job.stop(Duration::from_millis(200), Duration::from_secs(5))
                .ok();
        }
        let finished = job.finish(status, Duration::from_secs(2));
        let stdout = &finished.stdout.text;
        serde_json::from_str(stdout.trim()).map_err(|e| {
            Error::Other(format!(
                "the Python check of {} gave no answer ({e}); {} said:\n{}",
                submission.display,
                self.env.python.display(),
                finished.stderr.tail_lines(20)
            ))
        })
    }
}

/// Every part failed for the same reason (one file that does not parse): the build failed.
fn problems_share_a_cause(problems: &[PartProblem]) -> bool {
    problems.windows(2).all(|w| w[0].message == w[1].message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn functions() -> Vec<String> {
        ["part1", "part2", "part3"].map(String::from).to_vec()
    }

    fn dir_with(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        dir
    }

    #[test]
    fn one_module_serves_every_part() {
        let dir = dir_with(&["mine.py", "helpers_test.py"]);
        let dir2 = dir_with(&["mine.py"]);
        let (entries, problems) = layout(dir2.path(), &functions());
        assert!(problems.is_empty());
        assert_eq!(entries[1].module, "mine");
        assert_eq!(entries[1].names, ["part2"]);
        // Two candidates and none of the known names: nothing to choose.
        let (entries, problems) = layout(dir.path(), &functions());
        assert!(entries.is_empty());
        assert_eq!(problems.len(), 3);
        assert!(problems[0].message.contains("no module defines part1"));
    }

    #[test]
    fn the_tutorials_scaffold_has_a_file_per_part() {
        let dir = dir_with(&["part1.py", "part2.py", "alltoall.py"]);
        let (entries, problems) = layout(dir.path(), &functions());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(entries[0].spec(), "part1=part1:alltoall,part1");
        assert_eq!(entries[2].spec(), "part3=alltoall:part3");
    }

    #[test]
    fn a_module_name_python_cannot_import_is_refused() {
        let dir = dir_with(&["my-solution.py"]);
        let (_, problems) = layout(dir.path(), &functions());
        assert!(problems[0]
            .message
            .contains("cannot be imported under that name"));
    }
}
