//! `challenges.toml`: what is graded, and how.
//!
//! ```toml
//! format_version = 1
//!
//! [[challenge]]
//! name = "alltoall"            # chosen with --challenge when the file has several
//! kind = "alltoall"            # fixes the student contract and the payload
//! ranks = [2, 3, 4, 5, 8]
//! scaling_factors = [1, 10, 100, 1000, 10000, 100000]
//!
//! [challenge.limits]
//! cell_seconds = 10            # one call of a student function
//! launch_seconds = 120         # one mpiexec job
//!
//! [[challenge.part]]
//! name = "part1"
//! expect = "deadlock"          # or "complete"
//! points = 1
//! visibility = "visible"       # Gradescope: or "hidden", "after_due_date", "after_published"
//! allowed_calls = ["MPI_Send", "MPI_Recv", "MPI_Mprobe", "MPI_Mrecv"]
//! required_calls = []
//! ```
//!
//! Parsing checks everything a grade relies on and reports problems with the file, line and
//! column of the offending value.

use crate::error::{Error, Result};
use crate::mpi::{Choice, Runner};
use mpi_grade_protocol::run::Mode;
use mpi_grade_protocol::trace::Func;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The configuration shipped with mpi-grade (the repository's `challenges.toml`).
pub const BUNDLED: &str = include_str!("../../../../challenges.toml");
/// Name under which the bundled configuration appears in messages.
pub const BUNDLED_NAME: &str = "<bundled challenges.toml>";

/// A validated configuration: one or more challenges.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    /// Which MPI implementation to grade with (`[launch] mpi`); `--mpi` overrides it.
    pub mpi: Choice,
    /// What starts the ranks (`[launch] launcher` and `hostfile`).
    pub runner: Runner,
    pub challenges: Vec<Challenge>,
}

/// One graded challenge.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub name: String,
    pub kind: Kind,
    pub title: String,
    pub ranks: Vec<u32>,
    pub scaling_factors: Vec<u64>,
    /// Also run each part once per rank count at the smallest size with every standard send
    /// made synchronous: a part expected to complete must still complete, one expected to
    /// deadlock must deadlock.
    pub zero_buffer: bool,
    /// Calls of a part expected to complete per cell: each run alone after a barrier, the
    /// fastest one kept (`[challenge.timing] repetitions`, default 3).
    pub repetitions: u32,
    pub limits: Limits,
    /// Resource limits of the sandboxed build and ranks (`[challenge.sandbox]`).
    pub sandbox: crate::sandbox::limits::SandboxLimits,
    /// What a submission may be made of (`[challenge.submission]`).
    pub submission: crate::build::intake::Policy,
    pub parts: Vec<Part>,
}

/// Challenge kinds the runtime knows: each fixes a function signature and a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `fn(&SimpleCommunicator, &[Vec<i64>]) -> Vec<Vec<i64>>`, `values[i]` goes to rank `i`.
    Alltoall,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Alltoall => "alltoall",
        }
    }

    /// The Rust signature a part of this kind must have.
    pub fn signature(self, function: &str) -> String {
        match self {
            Kind::Alltoall => format!(
                "pub fn {function}(comm: &mpi::topology::SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>>"
            ),
        }
    }
}

/// Time limits, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// A cell (one call of a student function, on every rank) running longer is stopped.
    pub cell_seconds: f64,
    /// An `mpiexec` job running longer is stopped, whatever its cells do.
    pub launch_seconds: f64,
    /// Building a submission (its `build.rs` and proc macros included) taking longer is stopped.
    pub build_seconds: f64,
    /// A rank that stays outside MPI this long while others wait for it is a hang.
    pub hang_seconds: f64,
    /// Bytes of each output stream kept (half from the start, half from the end).
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            cell_seconds: 10.0,
            launch_seconds: 120.0,
            build_seconds: 600.0,
            hang_seconds: 5.0,
            output_bytes: 64 * 1024,
        }
    }
}

/// One graded part: a student function and what it must do.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    /// The student function graded (by default the part's name).
    pub function: String,
    pub title: String,
    pub expect: Expect,
    pub points: f64,
    /// When students see the part's result on Gradescope.
    pub visibility: Visibility,
    /// MPI functions the student's code may call (`None`: any).
    pub allowed_calls: Option<Vec<Func>>,
    /// MPI functions the student's code must call.
    pub required_calls: Vec<Func>,
    /// A speed the part must reach against a baseline (`[challenge.part.performance]`).
    pub performance: Option<Performance>,
    /// Partial credit: points earned by groups of cells on their own
    /// (`[[challenge.part.credit]]`). The rest of `points` needs the whole part to pass.
    pub credit: Vec<Credit>,
}

impl Part {
    /// A part that is run but not graded: no points, no call rules (baselines, probes).
    pub fn ungraded(name: &str, function: &str, title: &str, expect: Expect) -> Part {
        Part {
            name: name.to_string(),
            function: function.to_string(),
            title: title.to_string(),
            expect,
            points: 0.0,
            visibility: Visibility::Visible,
            allowed_calls: None,
            required_calls: Vec::new(),
            performance: None,
            credit: Vec::new(),
        }
    }
}

/// Points a group of a part's cells earns when the part's rule holds on those cells alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Credit {
    /// For people: given, or made from the filters ("2, 3 ranks, zero-buffer mode").
    pub name: String,
    /// Rank counts the group covers (`None`: all).
    pub ranks: Option<Vec<u32>>,
    /// Sizes the group covers (`None`: all; only for parts expected to complete).
    pub scaling_factors: Option<Vec<u64>>,
    /// The mode the group covers (`None`: both).
    pub mode: Option<Mode>,
    pub points: f64,
}

impl Credit {
    /// Whether `cell` belongs to the group.
    pub fn covers(&self, ranks: u32, scaling_factor: u64, mode: Mode) -> bool {
        self.ranks.as_ref().is_none_or(|r| r.contains(&ranks))
            && self
                .scaling_factors
                .as_ref()
                .is_none_or(|s| s.contains(&scaling_factor))
            && self.mode.is_none_or(|m| m == mode)
    }
}

/// At the largest size of each rank count, the part may take at most `max_ratio` times as long
/// as the baseline (`"MPI_Alltoall"`, `"reference-part2"`, `"reference-part3"`).
#[derive(Debug, Clone, PartialEq)]
pub struct Performance {
    pub baseline: String,
    pub max_ratio: f64,
}

/// What a part must do across the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Complete with the right result for every rank count and size.
    Complete,
    /// Complete at the smallest size, and deadlock at some larger size, for every rank count.
    Deadlock,
}

impl Expect {
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Complete => "complete",
            Expect::Deadlock => "deadlock",
        }
    }
}

/// When students see a part's result, in Gradescope's words (its `visibility` of a test).
/// Instructors always see everything; formats other than Gradescope's only carry it along.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Always shown.
    #[default]
    Visible,
    /// Never shown to students.
    Hidden,
    /// Shown once the assignment's due date (or late due date) has passed.
    AfterDueDate,
    /// Shown once the instructor publishes the grades.
    AfterPublished,
}

impl Visibility {
    /// Every value, in the order messages list them.
    pub const ALL: [Visibility; 4] = [
        Visibility::Visible,
        Visibility::Hidden,
        Visibility::AfterDueDate,
        Visibility::AfterPublished,
    ];

    /// The name in `challenges.toml` and in Gradescope's `results.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Visible => "visible",
            Visibility::Hidden => "hidden",
            Visibility::AfterDueDate => "after_due_date",
            Visibility::AfterPublished => "after_published",
        }
    }

    /// The visibility named `text` (as in `challenges.toml`), if it is one.
    pub fn parse(text: &str) -> Option<Visibility> {
        Visibility::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(Error::io(format!("cannot read {}", path.display())))?;
        Config::parse(&text, path)
    }

    /// The configuration shipped with mpi-grade.
    pub fn bundled() -> Config {
        Config::parse(BUNDLED, Path::new(BUNDLED_NAME))
            .expect("the bundled challenges.toml is valid")
    }

    /// Parses and validates configuration text; `path` is used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let at = |span: Range<usize>, message: String| {
            let (line, column) = line_column(text, span.start);
            Error::Config {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        let raw: raw::File = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().to_string();
            at(e.span().unwrap_or(0..0), message)
        })?;
        if *raw.format_version.get_ref() != 1 {
            return Err(at(
                raw.format_version.span(),
                format!(
                    "format_version {} is not supported (this mpi-grade reads 1)",
                    raw.format_version.get_ref()
                ),
            ));
        }
        if raw.challenge.is_empty() {
            return Err(at(0..0, "no [[challenge]] defined".into()));
        }
        let mut challenges: Vec<Challenge> = Vec::new();
        for c in raw.challenge {
            let challenge = validate_challenge(c, &at)?;
            if challenges.iter().any(|other| other.name == challenge.name) {
                return Err(at(
                    0..0,
                    format!("challenge `{}` is defined twice", challenge.name),
                ));
            }
            challenges.push(challenge);
        }
        let mpi = match &raw.launch {
            None => Choice::Auto,
            Some(launch) => match &launch.mpi {
                None => Choice::Auto,
                Some(mpi) => Choice::parse(mpi.get_ref()).ok_or_else(|| {
                    at(
                        mpi.span(),
                        format!(
                            "mpi must be \"auto\", \"openmpi\" or \"mpich\", not \"{}\"",
                            mpi.get_ref()
                        ),
                    )
                })?,
            },
        };
        let runner = match &raw.launch {
            None => Runner::Mpiexec,
            Some(launch) => {
                // A hostfile is named relative to the configuration file.
                let hostfile = launch
                    .hostfile
                    .as_ref()
                    .map(|h| path.parent().unwrap_or(Path::new(".")).join(h.get_ref()));
                let launcher = launch
                    .launcher
                    .as_ref()
                    .map_or("mpiexec", |l| l.get_ref().as_str());
                Runner::parse(launcher, hostfile).ok_or_else(|| {
                    let span = launch.launcher.as_ref().map_or(0..0, |l| l.span());
                    at(
                        span,
                        format!("launcher must be \"mpiexec\" (with an optional hostfile) or \"srun\" (without), not \"{launcher}\" with that hostfile setting"),
                    )
                })?
            }
        };
        Ok(Config {
            path: path.to_path_buf(),
            mpi,
            runner,
            challenges,
        })
    }

    /// The challenge called `name`, or the only one when `name` is `None`.
    pub fn challenge(&self, name: Option<&str>) -> Result<&Challenge> {
        let names = || {
            self.challenges
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match name {
            Some(name) => self
                .challenges
                .iter()
                .find(|c| c.name == name)
                .ok_or_else(|| {
                    Error::Other(format!(
                        "{}: no challenge named `{name}` (it has: {})",
                        self.path.display(),
                        names()
                    ))
                }),
            None if self.challenges.len() == 1 => Ok(&self.challenges[0]),
            None => Err(Error::Other(format!(
                "{} defines several challenges; choose one with --challenge ({})",
                self.path.display(),
                names()
            ))),
        }
    }
}

impl Challenge {
    /// The part selected by `--part`: `"2"` or `"part2"`.
    pub fn select_part(&self, wanted: &str) -> Option<&Part> {
        self.parts
            .iter()
            .find(|p| p.name == wanted || p.name.strip_prefix("part") == Some(wanted))
    }
}

type At<'a> = dyn Fn(Range<usize>, String) -> Error + 'a;

fn validate_challenge(c: raw::Challenge, at: &At<'_>) -> Result<Challenge> {
    let name = c.name.get_ref().clone();
    if !is_identifier(&name) {
        return Err(at(
            c.name.span(),
            format!("challenge name `{name}` must be a simple identifier"),
        ));
    }
    let kind = match c.kind.get_ref().as_str() {
        "alltoall" => Kind::Alltoall,
        other => {
            return Err(at(
                c.kind.span(),
                format!("unknown challenge kind `{other}` (known: alltoall)"),
            ))
        }
    };

    let ranks = c.ranks.get_ref().clone();
    if ranks.is_empty() {
        return Err(at(
            c.ranks.span(),
            "ranks must list at least one rank count".into(),
        ));
    }
    for &n in &ranks {
        if !(2..=1024).contains(&n) {
            return Err(at(
                c.ranks.span(),
                format!("rank count {n} is out of range (2 to 1024)"),
            ));
        }
    }
    if has_duplicates(&ranks) {
        return Err(at(c.ranks.span(), "ranks lists a rank count twice".into()));
    }

    let scaling_factors = c.scaling_factors.get_ref().clone();
    if scaling_factors.is_empty() {
        return Err(at(
            c.scaling_factors.span(),
            "scaling_factors must list at least one size".into(),
        ));
    }
    for &sf in &scaling_factors {
        if !(1..=100_000_000).contains(&sf) {
            return Err(at(
                c.scaling_factors.span(),
                format!("scaling factor {sf} is out of range (1 to 100000000 elements per block)"),
            ));
        }
    }
    if has_duplicates(&scaling_factors) {
        return Err(at(
            c.scaling_factors.span(),
            "scaling_factors lists a size twice".into(),
        ));
    }

    let limits = validate_limits(c.limits, at)?;
    let sandbox = crate::sandbox::limits::validate(c.sandbox, at)?;
    let submission = crate::build::intake::validate(c.submission, at)?;
    let repetitions = match c.timing.and_then(|t| t.repetitions) {
        None => 3,
        Some(r) if (1..=1000).contains(r.get_ref()) => *r.get_ref() as u32,
        Some(r) => {
            return Err(at(
                r.span(),
                format!("repetitions must be 1 to 1000, not {}", r.get_ref()),
            ))
        }
    };

    if c.part.is_empty() {
        return Err(at(
            c.name.span(),
            format!("challenge `{name}` has no [[challenge.part]]"),
        ));
    }
    let mut parts: Vec<Part> = Vec::new();
    for p in c.part {
        let part_name = p.name.get_ref().clone();
        if !is_identifier(&part_name) {
            return Err(at(
                p.name.span(),
                format!("part name `{part_name}` must be a simple identifier"),
            ));
        }
        if parts.iter().any(|q| q.name == part_name) {
            return Err(at(
                p.name.span(),
                format!("part `{part_name}` is defined twice"),
            ));
        }
        let function = match p.function {
            Some(f) if !is_identifier(f.get_ref()) => {
                return Err(at(
                    f.span(),
                    format!("function `{}` is not a Rust identifier", f.get_ref()),
                ))
            }
            Some(f) => f.into_inner(),
            None => part_name.clone(),
        };
        let expect = match p.expect.get_ref().as_str() {
            "complete" => Expect::Complete,
            "deadlock" => Expect::Deadlock,
            other => {
                return Err(at(
                    p.expect.span(),
                    format!("expect must be \"complete\" or \"deadlock\", not \"{other}\""),
                ))
            }
        };
        if expect == Expect::Deadlock && scaling_factors.len() < 2 {
            return Err(at(
                p.expect.span(),
                "a part expected to deadlock needs at least two scaling factors (small and large)"
                    .into(),
            ));
        }
        let points = *p.points.get_ref();
        if !(points.is_finite() && points >= 0.0) {
            return Err(at(
                p.points.span(),
                format!("points must be a number >= 0, not {points}"),
            ));
        }
        let visibility = match &p.visibility {
            None => Visibility::default(),
            Some(v) => Visibility::parse(v.get_ref()).ok_or_else(|| {
                let names: Vec<String> = Visibility::ALL
                    .iter()
                    .map(|v| format!("\"{}\"", v.as_str()))
                    .collect();
                at(
                    v.span(),
                    format!(
                        "visibility must be one of {}, not \"{}\"",
                        names.join(", "),
                        v.get_ref()
                    ),
                )
            })?,
        };
        let allowed_calls = p
            .allowed_calls
            .map(|list| functions(list, "allowed_calls", at))
            .transpose()?;
        let required_calls = match p.required_calls {
            Some(list) => functions(list, "required_calls", at)?,
            None => Vec::new(),
        };
        if let Some(allowed) = &allowed_calls {
            if let Some(f) = required_calls.iter().find(|f| !allowed.contains(f)) {
                return Err(at(
                    p.name.span(),
                    format!(
                        "part `{part_name}` requires {} but does not allow it",
                        f.name()
                    ),
                ));
            }
        }
        let performance = match p.performance {
            None => None,
            Some(perf) => {
                if crate::run::compare::baseline(perf.baseline.get_ref()).is_none() {
                    let names: Vec<&str> = crate::run::compare::BASELINES
                        .iter()
                        .map(|b| b.name)
                        .collect();
                    return Err(at(
                        perf.baseline.span(),
                        format!(
                            "unknown baseline `{}` (known: {})",
                            perf.baseline.get_ref(),
                            names.join(", ")
                        ),
                    ));
                }
                let ratio = *perf.max_ratio.get_ref();
                if !(ratio.is_finite() && ratio >= 1.0) {
                    return Err(at(
                        perf.max_ratio.span(),
                        format!("max_ratio must be a number >= 1, not {ratio}"),
                    ));
                }
                if expect != Expect::Complete {
                    return Err(at(
                        perf.baseline.span(),
                        "only a part expected to complete can have a performance target".into(),
                    ));
                }
                Some(Performance {
                    baseline: perf.baseline.into_inner(),
                    max_ratio: ratio,
                })
            }
        };
        let credit = p
            .credit
            .into_iter()
            .map(|c| validate_credit(c, expect, &ranks, &scaling_factors, at))
            .collect::<Result<Vec<Credit>>>()?;
        let credited: f64 = credit.iter().map(|c| c.points).sum();
        if credited > points + 1e-9 {
            return Err(at(
                p.points.span(),
                format!("the credit groups of part `{part_name}` give {credited} points, more than its {points}"),
            ));
        }
        if credit.iter().any(|c| c.mode == Some(Mode::ZeroBuffer)) && c.zero_buffer == Some(false) {
            return Err(at(
                p.name.span(),
                format!(
                    "part `{part_name}` gives credit for zero-buffer runs, but zero_buffer = false"
                ),
            ));
        }
        parts.push(Part {
            credit,
            title: p.title.unwrap_or_default(),
            name: part_name,
            function,
            expect,
            points,
            visibility,
            allowed_calls,
            required_calls,
            performance,
        });
    }

    let mut ranks = ranks;
    ranks.sort_unstable();
    let mut scaling_factors = scaling_factors;
    scaling_factors.sort_unstable();
    Ok(Challenge {
        name,
        kind,
        title: c.title.unwrap_or_default(),
        ranks,
        scaling_factors,
        zero_buffer: c.zero_buffer.unwrap_or(true),
        repetitions,
        limits,
        sandbox,
        submission,
        parts,
    })
}

fn validate_credit(
    c: raw::Credit,
    expect: Expect,
    ranks: &[u32],
    scaling_factors: &[u64],
    at: &At<'_>,
) -> Result<Credit> {
    let points = *c.points.get_ref();
    if !(points.is_finite() && points >= 0.0) {
        return Err(at(
            c.points.span(),
            format!("points must be a number >= 0, not {points}"),
        ));
    }
    if let Some(list) = &c.ranks {
        if let Some(n) = list.get_ref().iter().find(|n| !ranks.contains(n)) {
            return Err(at(
                list.span(),
                format!("credit for {n} ranks, which the challenge does not run"),
            ));
        }
    }
    if let Some(list) = &c.scaling_factors {
        if expect == Expect::Deadlock {
            return Err(at(
                list.span(),
                "a part expected to deadlock is judged over all sizes of a rank count: its credit groups can choose ranks and mode, not sizes".into(),
            ));
        }
        if let Some(sf) = list
            .get_ref()
            .iter()
            .find(|sf| !scaling_factors.contains(sf))
        {
            return Err(at(
                list.span(),
                format!("credit for scaling factor {sf}, which the challenge does not run"),
            ));
        }
    }
    let mode = match &c.mode {
        None => None,
        Some(m) => Some(match m.get_ref().as_str() {
            "standard" => Mode::Standard,
            "zero-buffer" => Mode::ZeroBuffer,
            other => {
                return Err(at(
                    m.span(),
                    format!("mode must be \"standard\" or \"zero-buffer\", not \"{other}\""),
                ))
            }
        }),
    };
    let empty = |l: &Option<Spanned<Vec<_>>>| l.as_ref().is_some_and(|l| l.get_ref().is_empty());
    if empty(&c.ranks)
        || c.scaling_factors
            .as_ref()
            .is_some_and(|l| l.get_ref().is_empty())
    {
        return Err(at(
            c.points.span(),
            "a credit group with an empty list covers no run".into(),
        ));
    }
    let ranks = c.ranks.map(Spanned::into_inner);
    let scaling_factors = c.scaling_factors.map(Spanned::into_inner);
    let name = c.name.unwrap_or_else(|| {
        let mut words = Vec::new();
        if let Some(r) = &ranks {
            let r: Vec<String> = r.iter().map(u32::to_string).collect();
            words.push(format!("{} ranks", r.join(", ")));
        }
        if let Some(s) = &scaling_factors {
            let s: Vec<String> = s
                .iter()
                .map(|&n| crate::judge::outcome::thousands(n))
                .collect();
            words.push(format!("{} elements", s.join(", ")));
        }
        if let Some(m) = mode {
            words.push(format!("{} mode", m.as_str()));
        }
        if words.is_empty() {
            "every run".to_string()
        } else {
            words.join(", ")
        }
    });
    Ok(Credit {
        name,
        ranks,
        scaling_factors,
        mode,
        points,
    })
}

/// MPI function names, each one the tracer knows.
fn functions(list: Spanned<Vec<Spanned<String>>>, key: &str, at: &At<'_>) -> Result<Vec<Func>> {
    list.into_inner()
        .into_iter()
        .map(|name| {
            Func::from_name(name.get_ref()).ok_or_else(|| {
                at(
                    name.span(),
                    format!("{key}: `{}` is not an MPI function mpi-grade traces (write them as in C: \"MPI_Send\")", name.get_ref()),
                )
            })
        })
        .collect()
}

fn validate_limits(raw: Option<raw::Limits>, at: &At<'_>) -> Result<Limits> {
    let mut limits = Limits::default();
    let Some(raw) = raw else {
        return Ok(limits);
    };
    let seconds = |value: Option<Spanned<f64>>, key: &str, slot: &mut f64| -> Result<()> {
        if let Some(v) = value {
            if !(v.get_ref().is_finite() && *v.get_ref() > 0.0) {
                return Err(at(
                    v.span(),
                    format!("{key} must be a positive number of seconds"),
                ));
            }
            *slot = *v.get_ref();
        }
        Ok(())
    };
    seconds(raw.cell_seconds, "cell_seconds", &mut limits.cell_seconds)?;
    seconds(
        raw.launch_seconds,
        "launch_seconds",
        &mut limits.launch_seconds,
    )?;
    seconds(
        raw.build_seconds,
        "build_seconds",
        &mut limits.build_seconds,
    )?;
    seconds(raw.hang_seconds, "hang_seconds", &mut limits.hang_seconds)?;
    if let Some(bytes) = raw.output_bytes {
        if *bytes.get_ref() < 1024 {
            return Err(at(
                bytes.span(),
                "output_bytes must be at least 1024".into(),
            ));
        }
        limits.output_bytes = *bytes.get_ref() as usize;
    }
    Ok(limits)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn has_duplicates<T: Ord + Clone>(items: &[T]) -> bool {
    let mut sorted = items.to_vec();
    sorted.sort();
    sorted.windows(2).any(|w| w[0] == w[1])
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The file as written, before validation.
mod raw {
    use serde::Deserialize;
    use toml::Spanned;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct File {
        pub format_version: Spanned<i64>,
        pub launch: Option<Launch>,
        #[serde(default)]
        pub challenge: Vec<Challenge>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Launch {
        pub mpi: Option<Spanned<String>>,
        pub launcher: Option<Spanned<String>>,
        pub hostfile: Option<Spanned<String>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Challenge {
        pub name: Spanned<String>,
        pub kind: Spanned<String>,
        pub title: Option<String>,
        pub ranks: Spanned<Vec<u32>>,
        pub scaling_factors: Spanned<Vec<u64>>,
        pub zero_buffer: Option<bool>,
        pub timing: Option<Timing>,
        pub limits: Option<Limits>,
        pub sandbox: Option<crate::sandbox::limits::RawSandbox>,
        pub submission: Option<crate::build::intake::RawPolicy>,
        #[serde(default)]
        pub part: Vec<Part>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Timing {
        pub repetitions: Option<Spanned<i64>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Limits {
        pub cell_seconds: Option<Spanned<f64>>,
        pub launch_seconds: Option<Spanned<f64>>,
        pub build_seconds: Option<Spanned<f64>>,
        pub hang_seconds: Option<Spanned<f64>>,
        pub output_bytes: Option<Spanned<u64>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Part {
        pub name: Spanned<String>,
        pub function: Option<Spanned<String>>,
        pub title: Option<String>,
        pub expect: Spanned<String>,
        pub points: Spanned<f64>,
        pub visibility: Option<Spanned<String>>,
        pub allowed_calls: Option<Spanned<Vec<Spanned<String>>>>,
        pub required_calls: Option<Spanned<Vec<Spanned<String>>>>,
        pub performance: Option<Performance>,
        #[serde(default)]
        pub credit: Vec<Credit>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Credit {
        pub name: Option<String>,
        pub ranks: Option<Spanned<Vec<u32>>>,
        pub scaling_factors: Option<Spanned<Vec<u64>>>,
        pub mode: Option<Spanned<String>>,
        pub points: Spanned<f64>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Performance {
        pub baseline: Spanned<String>,
        pub max_ratio: Spanned<f64>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("challenges.toml"))
    }

    fn error_at(text: &str) -> (usize, usize, String) {
        match parse(text) {
            Err(Error::Config {
                line,
                column,
                message,
                ..
            }) => (line, column, message),
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    const MINIMAL: &str = r#"
format_version = 1
[[challenge]]
name = "alltoall"
kind = "alltoall"
ranks = [4, 2]
scaling_factors = [10, 1]
[[challenge.part]]
name = "part1"
expect = "deadlock"
points = 1
"#;

    #[test]
    fn the_bundled_file_is_valid_and_has_the_three_parts() {
        let config = Config::bundled();
        let c = config.challenge(None).unwrap();
        assert_eq!(c.kind, Kind::Alltoall);
        assert_eq!(c.ranks, vec![2, 3, 4, 5, 8]);
        assert_eq!(c.scaling_factors, vec![1, 10, 100, 1000, 10000, 100000]);
        let names: Vec<_> = c.parts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["part1", "part2", "part3"]);
        assert_eq!(c.parts[0].expect, Expect::Deadlock);
        assert_eq!(c.parts[1].expect, Expect::Complete);
        assert!(c.zero_buffer);
        let allowed = |i: usize| c.parts[i].allowed_calls.clone().unwrap();
        assert!(allowed(1).contains(&Func::Send) && !allowed(1).contains(&Func::Sendrecv));
        assert!(!allowed(2).contains(&Func::Alltoall) && !allowed(2).contains(&Func::Send));
        assert_eq!(c.parts[2].required_calls, vec![Func::Isend]);
    }

    #[test]
    fn submission_policies_default_and_are_checked_where_written() {
        let c = parse(MINIMAL).unwrap().challenges.remove(0);
        assert_eq!(c.submission, crate::build::intake::Policy::default());
        assert_eq!(
            Config::bundled().challenges[0].submission,
            crate::build::intake::Policy::default()
        );
        let with = |table: &str| {
            MINIMAL.replace(
                "[[challenge.part]]",
                &format!("[challenge.submission]\n{table}\n[[challenge.part]]"),
            )
        };
        let c = parse(&with(
            "dependencies = [\"mpi\", \"rayon\"]\nbuild_script = true",
        ))
        .unwrap()
        .challenges
        .remove(0);
        assert_eq!(c.submission.dependencies, ["mpi", "rayon"]);
        assert!(c.submission.build_script && c.submission.forbid_unsafe);
        let (line, column, message) = error_at(&with("dependencies = [\"rayon\"]"));
        assert_eq!((line, column), (9, 16), "{message}");
        assert!(message.contains("must include \"mpi\""), "{message}");
        let (line, _, message) = error_at(&with("dependencies = [\"mpi\", \"no way\"]"));
        assert_eq!(line, 9);
        assert!(
            message.contains("`no way` is not a crate name"),
            "{message}"
        );
        let (line, _, message) = error_at(&with("unsafe = true"));
        assert_eq!(line, 9);
        assert!(message.contains("unsafe"), "{message}");
    }

    #[test]
    fn unknown_call_names_are_rejected_where_they_are() {
        let text = MINIMAL.replace(
            "points = 1",
            "points = 1\nallowed_calls = [\"MPI_Send\", \"MPI_Snd\"]",
        );
        let (line, column, message) = error_at(&text);
        assert_eq!((line, column), (12, 30), "{message}");
        assert!(message.contains("`MPI_Snd`"), "{message}");
        let text = MINIMAL.replace(
            "points = 1",
            "points = 1\nallowed_calls = [\"MPI_Send\"]\nrequired_calls = [\"MPI_Isend\"]",
        );
        let (_, _, message) = error_at(&text);
        assert!(
            message.contains("requires MPI_Isend but does not allow it"),
            "{message}"
        );
    }

    #[test]
    fn a_minimal_file_gets_defaults_and_sorted_lists() {
        let config = parse(MINIMAL).unwrap();
        let c = &config.challenges[0];
        assert_eq!(c.ranks, vec![2, 4]);
        assert_eq!(c.scaling_factors, vec![1, 10]);
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.parts[0].function, "part1");
        assert_eq!(c.select_part("1").unwrap().name, "part1");
        assert_eq!(c.select_part("part1").unwrap().name, "part1");
        assert!(c.select_part("7").is_none());
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let (line, column, message) = error_at("format_version = 1\n[[challenge]\nname = 1\n");
        assert_eq!((line, column), (2, 13), "{message}");
    }

    #[test]
    fn unknown_keys_are_errors_at_the_key() {
        let text = MINIMAL.replace("points = 1", "points = 1\npionts = 2");
        let (line, _, message) = error_at(&text);
        assert_eq!(line, 12);
        assert!(message.contains("pionts"), "{message}");
    }

    #[test]
    fn rank_counts_below_two_are_rejected_where_they_are() {
        let (line, column, message) = error_at(&MINIMAL.replace("[4, 2]", "[4, 1]"));
        assert_eq!((line, column), (6, 9));
        assert!(message.contains("rank count 1"), "{message}");
        let (_, _, message) = error_at(&MINIMAL.replace("[4, 2]", "[]"));
        assert!(message.contains("at least one"), "{message}");
    }

    #[test]
    fn bad_values_are_rejected() {
        for (from, to, needle) in [
            (
                "kind = \"alltoall\"",
                "kind = \"ring\"",
                "unknown challenge kind",
            ),
            (
                "expect = \"deadlock\"",
                "expect = \"hang\"",
                "expect must be",
            ),
            ("points = 1", "points = -1", "points must be"),
            ("[10, 1]", "[10, 0]", "out of range"),
            ("[10, 1]", "[10]", "at least two scaling factors"),
            ("format_version = 1", "format_version = 2", "not supported"),
            ("name = \"part1\"", "name = \"part 1\"", "identifier"),
        ] {
            let (_, _, message) = error_at(&MINIMAL.replace(from, to));
            assert!(message.contains(needle), "{to}: {message}");
        }
        let (_, _, message) =
            error_at(&format!("{MINIMAL}[challenge.limits]\ncell_seconds = -3\n"));
        assert!(message.contains("positive"), "{message}");
    }

    #[test]
    fn visibility_defaults_to_visible_and_bad_values_are_located() {
        assert_eq!(
            parse(MINIMAL).unwrap().challenges[0].parts[0].visibility,
            Visibility::Visible
        );
        for v in Visibility::ALL {
            let text = MINIMAL.replace(
                "points = 1",
                &format!("points = 1\nvisibility = \"{}\"", v.as_str()),
            );
            assert_eq!(parse(&text).unwrap().challenges[0].parts[0].visibility, v);
        }
        let text = MINIMAL.replace("points = 1", "points = 1\nvisibility = \"secret\"");
        let (line, column, message) = error_at(&text);
        assert_eq!((line, column), (12, 14), "{message}");
        assert!(
            message.contains("visibility must be one of \"visible\", \"hidden\", \"after_due_date\", \"after_published\", not \"secret\""),
            "{message}"
        );
    }

    #[test]
    fn sandbox_limits_have_defaults_and_are_checked_where_they_are() {
        let c = &parse(MINIMAL).unwrap().challenges[0];
        assert_eq!(c.sandbox, crate::sandbox::limits::SandboxLimits::default());
        let text = format!(
            "{MINIMAL}[challenge.sandbox.ranks]\nmemory_mb = 1024\n[challenge.sandbox.build]\ncpu_seconds = 60\n"
        );
        let c = &parse(&text).unwrap().challenges[0];
        assert_eq!(c.sandbox.ranks.memory_mb, 1024);
        assert_eq!(c.sandbox.build.cpu_seconds, 60);
        assert_eq!(c.sandbox.ranks.cpu_seconds, 600);
        let (line, column, message) = error_at(&text.replace("1024", "-5"));
        assert_eq!((line, column), (13, 13), "{message}");
        assert!(message.contains("sandbox.ranks.memory_mb must be a positive integer"));
        let (_, _, message) = error_at(&text.replace("1024", "16"));
        assert!(message.contains("too small"), "{message}");
        let (_, _, message) = error_at(&text.replace("memory_mb", "memroy_mb"));
        assert!(message.contains("memroy_mb"), "{message}");
    }

    #[test]
    fn performance_targets_name_a_baseline() {
        let text = MINIMAL.replace("expect = \"deadlock\"", "expect = \"complete\"")
            + "[challenge.part.performance]\nbaseline = \"MPI_Alltoall\"\nmax_ratio = 3\n";
        let part = &parse(&text).unwrap().challenges[0].parts[0];
        assert_eq!(
            part.performance,
            Some(Performance {
                baseline: "MPI_Alltoall".into(),
                max_ratio: 3.0
            })
        );
        let (_, _, message) = error_at(&text.replace("MPI_Alltoall", "MPI_Bcast"));
        assert!(
            message.contains("unknown baseline `MPI_Bcast`"),
            "{message}"
        );
        let (_, _, message) = error_at(&text.replace("max_ratio = 3", "max_ratio = 0.5"));
        assert!(message.contains("max_ratio must be"), "{message}");
    }

    #[test]
    fn credit_groups_are_checked_against_the_matrix() {
        let text = MINIMAL.replace("points = 1", "points = 3")
            + "[[challenge.part.credit]]\nranks = [2]\npoints = 1\n"
            + "[[challenge.part.credit]]\nname = \"no buffering\"\nmode = \"zero-buffer\"\npoints = 0.5\n";
        let part = &parse(&text).unwrap().challenges[0].parts[0];
        let names: Vec<&str> = part.credit.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["2 ranks", "no buffering"]);
        assert!(part.credit[0].covers(2, 10, Mode::ZeroBuffer));
        assert!(!part.credit[0].covers(4, 10, Mode::Standard));
        assert!(!part.credit[1].covers(2, 1, Mode::Standard));

        for (from, to, needle, line) in [
            (
                "ranks = [2]",
                "ranks = [3]",
                "3 ranks, which the challenge does not run",
                13,
            ),
            (
                "points = 0.5",
                "points = 2.5",
                "give 3.5 points, more than its 3",
                11,
            ),
            ("\"zero-buffer\"", "\"eager\"", "mode must be", 17),
            ("ranks = [2]", "ranks = []", "covers no run", 14),
            ("ranks = [2]", "scaling_factors = [10]", "not sizes", 13),
        ] {
            let (at_line, _, message) = error_at(&text.replace(from, to));
            assert!(message.contains(needle), "{to}: {message}");
            assert_eq!(at_line, line, "{to}: {message}");
        }
    }

    #[test]
    fn the_mpi_implementation_can_be_chosen() {
        assert_eq!(parse(MINIMAL).unwrap().mpi, Choice::Auto);
        let text = MINIMAL.replace(
            "format_version = 1",
            "format_version = 1\n[launch]\nmpi = \"mpich\"",
        );
        assert_eq!(
            parse(&text).unwrap().mpi,
            Choice::Only(crate::mpi::Implementation::Mpich)
        );
        let (_, _, message) = error_at(&text.replace("\"mpich\"", "\"lam\""));
        assert!(message.contains("mpi must be"), "{message}");
    }

    #[test]
    fn launchers_for_clusters_are_configured() {
        let text = MINIMAL.replace(
            "format_version = 1",
            "format_version = 1\n[launch]\nlauncher = \"srun\"",
        );
        assert_eq!(parse(&text).unwrap().runner, Runner::Srun);
        let text = MINIMAL.replace(
            "format_version = 1",
            "format_version = 1\n[launch]\nhostfile = \"hosts\"",
        );
        assert_eq!(
            parse(&text).unwrap().runner,
            Runner::Hostfile("hosts".into())
        );
        let text = MINIMAL.replace(
            "format_version = 1",
            "format_version = 1\n[launch]\nlauncher = \"qsub\"",
        );
        assert!(error_at(&text).2.contains("launcher must be"));
    }

    #[test]
    fn several_challenges_need_a_choice() {
        let two = format!(
            "{MINIMAL}{}",
            MINIMAL
                .replace("format_version = 1", "")
                .replace("\"alltoall\"\nkind", "\"other\"\nkind")
        );
        let config = parse(&two).unwrap();
        assert_eq!(config.challenges.len(), 2);
        assert!(config.challenge(None).is_err());
        assert_eq!(config.challenge(Some("other")).unwrap().name, "other");
        assert!(config.challenge(Some("nope")).is_err());
    }
}
