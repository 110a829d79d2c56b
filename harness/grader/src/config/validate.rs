//! From the raw file to the model: every rule a grade relies on, each broken one reported
//! with the file, line and column of the offending value.

use super::model::*;
use super::raw;
use super::{BUNDLED, BUNDLED_NAME};
use crate::error::{Error, Result};
use crate::mpi::{Choice, Runner};
use mpi_grade_protocol::run::Mode;
use mpi_grade_protocol::trace::Func;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

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
            let mut challenge = validate_challenge(c, &at)?;
            challenge.source = Source::of(path, text);
            if challenges.iter().any(|other| other.name == challenge.name) {
                return Err(at(
                    0..0,
                    format!("challenge `{}` is defined twice", challenge.name),
                ));
            }
            challenges.push(challenge);
        }
        let (mpi, runner) = match &raw.launch {
            None => (Choice::Auto, Runner::Mpiexec),
            Some(launch) => validate_launch(launch, path, &at)?,
        };
        let default = match raw.default {
            Some(name) if !challenges.iter().any(|c| &c.name == name.get_ref()) => {
                return Err(at(
                    name.span(),
                    format!(
                        "default names no challenge of this file: `{}`",
                        name.get_ref()
                    ),
                ))
            }
            other => other.map(Spanned::into_inner),
        };
        Ok(Config {
            path: path.to_path_buf(),
            mpi,
            runner,
            challenges,
            default,
        })
    }
}

type At<'a> = dyn Fn(Range<usize>, String) -> Error + 'a;

/// `[launch]`: the MPI implementation and what starts the ranks.
fn validate_launch(launch: &raw::Launch, path: &Path, at: &At<'_>) -> Result<(Choice, Runner)> {
    let mpi = match &launch.mpi {
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
    };
    // A hostfile is named relative to the configuration file.
    let hostfile = launch
        .hostfile
        .as_ref()
        .map(|h| path.parent().unwrap_or(Path::new(".")).join(h.get_ref()));
    let launcher = launch
        .launcher
        .as_ref()
        .map_or("mpiexec", |l| l.get_ref().as_str());
    let runner = Runner::parse(launcher, hostfile).ok_or_else(|| {
        let span = launch.launcher.as_ref().map_or(0..0, |l| l.span());
        at(
            span,
            format!("launcher must be \"mpiexec\" (with an optional hostfile) or \"srun\" (without), not \"{launcher}\" with that hostfile setting"),
        )
    })?;
    Ok((mpi, runner))
}

/// The matrix a challenge runs, as its parts' rules need it.
struct Matrix<'a> {
    ranks: &'a [u32],
    scaling_factors: &'a [u64],
    /// `zero_buffer` as written (`None`: the default, on).
    zero_buffer: Option<bool>,
}

fn validate_challenge(c: raw::Challenge, at: &At<'_>) -> Result<Challenge> {
    // Challenge names may be kebab-case as the tutorial's exercises are (`send-recv`).
    let name = c.name.get_ref().clone();
    if !is_identifier(&name.replace('-', "_")) || name.ends_with('-') {
        return Err(at(
            c.name.span(),
            format!("challenge name `{name}` must be a simple identifier (letters, digits, `_` and `-`)"),
        ));
    }
    let kind = validate_kind(&c.kind, at)?;
    let mut ranks = axis(
        &c.ranks,
        2..=1024,
        [
            "ranks must list at least one rank count",
            "ranks lists a rank count twice",
        ],
        |n| format!("rank count {n} is out of range (2 to 1024)"),
        at,
    )?;
    let mut scaling_factors = axis(
        &c.scaling_factors,
        1..=100_000_000,
        [
            "scaling_factors must list at least one size",
            "scaling_factors lists a size twice",
        ],
        |sf| format!("scaling factor {sf} is out of range (1 to 100000000 elements per block)"),
        at,
    )?;
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
    let matrix = Matrix {
        ranks: &ranks,
        scaling_factors: &scaling_factors,
        zero_buffer: c.zero_buffer,
    };
    let mut parts: Vec<Part> = Vec::new();
    for p in c.part {
        let part = validate_part(p, kind, &matrix, &parts, at)?;
        parts.push(part);
    }
    ranks.sort_unstable();
    scaling_factors.sort_unstable();
    Ok(Challenge {
        name,
        kind,
        title: c.title.unwrap_or_default(),
        section: c.section.unwrap_or_default(),
        ranks,
        scaling_factors,
        zero_buffer: c.zero_buffer.unwrap_or(true),
        repetitions,
        limits,
        sandbox,
        submission,
        parts,
        source: Source::default(),
    })
}

/// A name that must be a simple identifier; `what` starts the message ("part name").
fn simple_identifier(name: &Spanned<String>, what: &str, at: &At<'_>) -> Result<String> {
    let text = name.get_ref();
    if is_identifier(text) {
        Ok(text.clone())
    } else {
        Err(at(
            name.span(),
            format!("{what} `{text}` must be a simple identifier"),
        ))
    }
}

/// One axis of the matrix (rank counts, sizes): not empty, every value in `allowed`, none
/// twice. `messages` are the empty and the twice messages.
fn axis<T: Copy + Ord>(
    list: &Spanned<Vec<T>>,
    allowed: std::ops::RangeInclusive<T>,
    messages: [&str; 2],
    out_of_range: impl Fn(T) -> String,
    at: &At<'_>,
) -> Result<Vec<T>> {
    let values = list.get_ref().clone();
    if values.is_empty() {
        return Err(at(list.span(), messages[0].into()));
    }
    if let Some(&v) = values.iter().find(|v| !allowed.contains(v)) {
        return Err(at(list.span(), out_of_range(v)));
    }
    if has_duplicates(&values) {
        return Err(at(list.span(), messages[1].into()));
    }
    Ok(values)
}

/// Points of a part or a credit group: a number >= 0.
fn points(points: &Spanned<f64>, at: &At<'_>) -> Result<f64> {
    let value = *points.get_ref();
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(at(
            points.span(),
            format!("points must be a number >= 0, not {value}"),
        ))
    }
}

/// A challenge kind by its name (`kind = "send-recv"`).
fn validate_kind(kind: &Spanned<String>, at: &At<'_>) -> Result<Kind> {
    Kind::parse(kind.get_ref()).ok_or_else(|| {
        let known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        at(
            kind.span(),
            format!(
                "unknown challenge kind `{}` (known: {})",
                kind.get_ref(),
                known.join(", ")
            ),
        )
    })
}

/// One `[[challenge.part]]` of a challenge of kind `kind`; `earlier` are the challenge's parts
/// before it.
fn validate_part(
    p: raw::Part,
    kind: Kind,
    matrix: &Matrix<'_>,
    earlier: &[Part],
    at: &At<'_>,
) -> Result<Part> {
    let part_name = simple_identifier(&p.name, "part name", at)?;
    if earlier.iter().any(|q| q.name == part_name) {
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
    let kind = p.kind.as_ref().map_or(Ok(kind), |k| validate_kind(k, at))?;
    let expect = validate_expect(&p.expect, matrix, at)?;
    let points = points(&p.points, at)?;
    let visibility = p
        .visibility
        .as_ref()
        .map_or(Ok(Visibility::default()), |v| validate_visibility(v, at))?;
    let (allowed_calls, required_calls) =
        validate_calls(p.allowed_calls, p.required_calls, &p.name, at)?;
    let performance = p
        .performance
        .map(|perf| validate_performance(perf, expect, at))
        .transpose()?;
    let credit = p
        .credit
        .into_iter()
        .map(|c| validate_credit(c, expect, matrix, at))
        .collect::<Result<Vec<Credit>>>()?;
    let credited: f64 = credit.iter().map(|c| c.points).sum();
    if credited > points + 1e-9 {
        return Err(at(
            p.points.span(),
            format!("the credit groups of part `{part_name}` give {credited} points, more than its {points}"),
        ));
    }
    if credit.iter().any(|c| c.mode == Some(Mode::ZeroBuffer)) && matrix.zero_buffer == Some(false)
    {
        return Err(at(
            p.name.span(),
            format!(
                "part `{part_name}` gives credit for zero-buffer runs, but zero_buffer = false"
            ),
        ));
    }
    let ratio = p
        .ratio
        .map(|r| validate_ratio(r, expect, earlier, at))
        .transpose()?;
    Ok(Part {
        ratio,
        credit,
        title: p.title.unwrap_or_default(),
        name: part_name,
        function,
        kind,
        expect,
        points,
        visibility,
        allowed_calls,
        required_calls,
        performance,
    })
}

/// `[challenge.part.ratio]`: an earlier part that completes, and a factor of at least 1 at
/// 2 ranks.
fn validate_ratio(r: raw::Ratio, expect: Expect, earlier: &[Part], at: &At<'_>) -> Result<Ratio> {
    let against = r.against.get_ref();
    if !earlier
        .iter()
        .any(|q| &q.name == against && q.expect == Expect::Complete)
        || expect != Expect::Complete
    {
        return Err(at(
            r.against.span(),
            format!("ratio.against must name an earlier part expected to complete, in a part expected to complete (not `{against}`)"),
        ));
    }
    let number = |v: &Option<Spanned<f64>>| v.as_ref().map_or(0.0, |v| *v.get_ref());
    let ratio = Ratio {
        against: against.clone(),
        at_least: number(&r.at_least),
        per_rank: number(&r.per_rank),
    };
    if !(ratio.factor(2) >= 1.0 && ratio.per_rank >= 0.0 && ratio.factor(2).is_finite()) {
        return Err(at(
            r.against.span(),
            "ratio: at_least + per_rank x 2 must be at least 1, and per_rank >= 0".into(),
        ));
    }
    Ok(ratio)
}

/// `allowed_calls` and `required_calls`: MPI functions the tracer knows, and nothing required
/// that is not allowed.
fn validate_calls(
    allowed: Option<Spanned<Vec<Spanned<String>>>>,
    required: Option<Spanned<Vec<Spanned<String>>>>,
    part_name: &Spanned<String>,
    at: &At<'_>,
) -> Result<(Option<Vec<Func>>, Vec<Func>)> {
    let allowed_calls = allowed
        .map(|list| functions(list, "allowed_calls", at))
        .transpose()?;
    let required_calls = match required {
        Some(list) => functions(list, "required_calls", at)?,
        None => Vec::new(),
    };
    if let Some(allowed) = &allowed_calls {
        if let Some(f) = required_calls.iter().find(|f| !allowed.contains(f)) {
            return Err(at(
                part_name.span(),
                format!(
                    "part `{}` requires {} but does not allow it",
                    part_name.get_ref(),
                    f.name()
                ),
            ));
        }
    }
    Ok((allowed_calls, required_calls))
}

/// `expect`: a part expected to deadlock needs a small and a large size.
fn validate_expect(expect: &Spanned<String>, matrix: &Matrix<'_>, at: &At<'_>) -> Result<Expect> {
    let value = match expect.get_ref().as_str() {
        "complete" => Expect::Complete,
        "deadlock" => Expect::Deadlock,
        other => {
            return Err(at(
                expect.span(),
                format!("expect must be \"complete\" or \"deadlock\", not \"{other}\""),
            ))
        }
    };
    if value == Expect::Deadlock && matrix.scaling_factors.len() < 2 {
        return Err(at(
            expect.span(),
            "a part expected to deadlock needs at least two scaling factors (small and large)"
                .into(),
        ));
    }
    Ok(value)
}

fn validate_visibility(v: &Spanned<String>, at: &At<'_>) -> Result<Visibility> {
    Visibility::parse(v.get_ref()).ok_or_else(|| {
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
    })
}

/// `[challenge.part.performance]`: a known baseline, a ratio >= 1, a part that completes.
fn validate_performance(
    perf: raw::Performance,
    expect: Expect,
    at: &At<'_>,
) -> Result<Performance> {
    let baseline = Baseline::parse(perf.baseline.get_ref()).ok_or_else(|| {
        let names: Vec<&str> = Baseline::ALL.iter().map(|b| b.name()).collect();
        at(
            perf.baseline.span(),
            format!(
                "unknown baseline `{}` (known: {})",
                perf.baseline.get_ref(),
                names.join(", ")
            ),
        )
    })?;
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
    Ok(Performance {
        baseline,
        max_ratio: ratio,
    })
}

/// One `[[challenge.part.credit]]`: its filters must name runs the challenge makes.
fn validate_credit(
    c: raw::Credit,
    expect: Expect,
    matrix: &Matrix<'_>,
    at: &At<'_>,
) -> Result<Credit> {
    let points = points(&c.points, at)?;
    if let Some(list) = &c.ranks {
        if let Some(n) = list.get_ref().iter().find(|n| !matrix.ranks.contains(n)) {
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
            .find(|sf| !matrix.scaling_factors.contains(sf))
        {
            return Err(at(
                list.span(),
                format!("credit for scaling factor {sf}, which the challenge does not run"),
            ));
        }
    }
    let mode = c.mode.as_ref().map(|m| validate_mode(m, at)).transpose()?;
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
    let name = c
        .name
        .unwrap_or_else(|| credit_name(ranks.as_deref(), scaling_factors.as_deref(), mode));
    Ok(Credit {
        name,
        ranks,
        scaling_factors,
        mode,
        points,
    })
}

fn validate_mode(m: &Spanned<String>, at: &At<'_>) -> Result<Mode> {
    match m.get_ref().as_str() {
        "standard" => Ok(Mode::Standard),
        "zero-buffer" => Ok(Mode::ZeroBuffer),
        other => Err(at(
            m.span(),
            format!("mode must be \"standard\" or \"zero-buffer\", not \"{other}\""),
        )),
    }
}

/// A credit group's name made from its filters ("2, 3 ranks, zero-buffer mode").
fn credit_name(
    ranks: Option<&[u32]>,
    scaling_factors: Option<&[u64]>,
    mode: Option<Mode>,
) -> String {
    let mut words = Vec::new();
    if let Some(r) = ranks {
        let r: Vec<String> = r.iter().map(u32::to_string).collect();
        words.push(format!("{} ranks", r.join(", ")));
    }
    if let Some(s) = scaling_factors {
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
