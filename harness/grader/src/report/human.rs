//! The report for people: per part, a table of rank counts × sizes with one symbol and the
//! time per run, the verdict, and the first failure explained. Colour comes from `colored`,
//! whose global switch the command line sets (`--color`, `NO_COLOR`).

use super::clean::{self, continued};
use super::{table, text, Expect, Mode, OutcomeKind, PartReport, Report, RunReport};
use crate::fmt;
use crate::run::compare::{Comparison, Row};
use crate::run::probe::ProbeReport;
use colored::{ColoredString, Colorize};
use std::io::Write;

const CELL_WIDTH: usize = 11;
const OUTPUT_LINES: usize = 15;
/// Before each line of a submission's text: no such line can look like one of the report's.
const GUTTER: &str = "    │ ";

/// Writes the human report.
pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    guarded(out, |out| render_report(report, out))
}

/// Renders into memory, then writes only what a terminal may see: the report's text is clean
/// already ([`budget::report`](super::budget::report)); this filter is the last line of defence, and lets through
/// only the colour sequences this renderer makes.
fn guarded(
    out: &mut dyn Write,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut buffer: Vec<u8> = Vec::new();
    let result = render(&mut buffer);
    out.write_all(clean::terminal(&String::from_utf8_lossy(&buffer)).as_bytes())?;
    result
}

fn render_report(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    render_header(report, out)?;
    if !report.build.ok {
        writeln!(out)?;
        writeln!(
            out,
            "{} {}",
            "build failed:".red().bold(),
            continued(report.build.summary.as_deref().unwrap_or(""), GUTTER)
        )?;
        if let Some(details) = &report.build.details {
            write_indented(out, details, 40)?;
        }
    }
    for part in &report.parts {
        writeln!(out)?;
        render_part(part, out)?;
    }
    if let Some(comparison) = &report.comparison {
        writeln!(out)?;
        render_comparison(comparison, false, out)?;
    }
    writeln!(out)?;
    render_legend(report, out)?;
    for warning in &report.warnings {
        writeln!(
            out,
            "{} {}",
            "warning:".yellow().bold(),
            continued(warning, GUTTER)
        )?;
    }
    let score = format!(
        "score: {}/{}",
        fmt::points(report.points),
        fmt::points(report.max_points)
    );
    writeln!(
        out,
        "{}",
        if report.all_passed() {
            score.green().bold()
        } else {
            score.red().bold()
        }
    )
}

fn render_header(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{} · {} · {}",
        "mpi-grade".bold(),
        report.challenge,
        report.submission.bold()
    )?;
    let library = report
        .mpi
        .library
        .as_deref()
        .map(short_library)
        .unwrap_or_default();
    writeln!(
        out,
        "  {} {}{} · seed {} · {} s, {} launch{}, build {} s (tracer {} s)",
        report.mpi.implementation,
        report.mpi.version,
        library,
        report.seed,
        fmt::seconds_fixed(report.seconds),
        report.launches,
        if report.launches == 1 { "" } else { "es" },
        fmt::seconds_fixed(report.build.seconds),
        fmt::seconds_fixed(report.build.tracer_seconds),
    )?;
    // What a regrade needs besides the seed: the same configuration and grader.
    writeln!(
        out,
        "  config {} (sha256 {}) · mpi-grade {}",
        report.config.path,
        report.config.sha256.get(..12).unwrap_or("-"),
        report.grader.describe()
    )?;
    Ok(())
}

fn render_part(part: &PartReport, out: &mut dyn Write) -> std::io::Result<()> {
    let verdict = if part.passed {
        "PASS".green().bold()
    } else {
        "FAIL".red().bold()
    };
    writeln!(
        out,
        "{}  {}  {} {}/{}",
        part.name.bold(),
        part.title,
        verdict,
        fmt::points(part.points),
        fmt::points(part.max_points)
    )?;
    render_matrix(part, out)?;
    if part.passed {
        writeln!(out, "  {}", continued(&part.summary, GUTTER))?;
        // A part meant to deadlock passed: show one of its deadlocks, explained.
        if let Some(run) = part
            .runs
            .iter()
            .find(|r| r.diagnosis.is_some() && r.mode == Mode::Standard)
        {
            let d = run.diagnosis.as_ref().expect("found above");
            writeln!(
                out,
                "  {} {}",
                format!(
                    "at {} ranks, {} elements per block:",
                    run.ranks,
                    fmt::thousands(run.scaling_factor)
                )
                .dimmed(),
                continued(&d.explanation, GUTTER)
            )?;
        }
    } else {
        let failure = part.failure_name();
        writeln!(
            out,
            "  {} {}",
            format!("{failure}:").red().bold(),
            continued(&part.summary, GUTTER)
        )?;
        if let Some(details) = &part.details {
            write_indented(out, details, 40)?;
        }
        for group in &part.credit {
            let mark = if group.passed {
                "✓".green()
            } else {
                "✗".red()
            };
            writeln!(
                out,
                "  {} {mark} {}/{} {}",
                format!("partial credit, {}:", group.name).dimmed(),
                fmt::points(group.points),
                fmt::points(group.max_points),
                if group.passed {
                    String::new()
                } else {
                    format!("({})", continued(&group.summary, GUTTER))
                }
            )?;
        }
        // A todo!() says all there is to say; other failures come with the job's output.
        if let Some(output) = text::deciding_output(part) {
            writeln!(
                out,
                "  {}",
                format!("output of that job (last {OUTPUT_LINES} lines):").dimmed()
            )?;
            write_indented(out, output, OUTPUT_LINES)?;
        }
    }
    Ok(())
}

fn render_matrix(part: &PartReport, out: &mut dyn Write) -> std::io::Result<()> {
    if part.runs.is_empty() {
        return Ok(());
    }
    let sizes = table::sizes(part);
    let mut header = format!("  {:<16}", "ranks \\ size");
    for sf in &sizes {
        header.push_str(&format!("{:>CELL_WIDTH$}", fmt::thousands(*sf)));
    }
    writeln!(out, "{}", header.dimmed())?;
    for row in table::rows(part) {
        write!(out, "  {:<16}", table::row_label(row.0, row.1))?;
        let mut previous: Option<&RunReport> = None;
        for sf in &sizes {
            match table::run_at(part, row, *sf) {
                None => write!(out, "{:>CELL_WIDTH$}", "")?,
                Some(run) => {
                    let padded = format!("{:>CELL_WIDTH$}", table::cell(run));
                    write!(out, "{}", paint(padded, run, previous, part))?;
                    previous = Some(run);
                }
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// `mpi-grade compare`: the header, a line per part, and the full comparison.
pub fn render_comparison_report(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    guarded(out, |out| comparison_report(report, out))
}

fn comparison_report(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    render_header(report, out)?;
    writeln!(out)?;
    for part in &report.parts {
        if part.passed {
            writeln!(
                out,
                "{} {}  {}",
                part.name.bold(),
                "correct".green(),
                continued(&part.summary, GUTTER)
            )?;
        } else {
            let failure = part.failure_name();
            writeln!(
                out,
                "{} {} {}",
                part.name.bold(),
                format!("{failure}:").red(),
                continued(&part.summary, GUTTER)
            )?;
        }
    }
    writeln!(out)?;
    match &report.comparison {
        Some(c) => render_comparison(c, true, out),
        None => writeln!(out, "no part to compare"),
    }
}

/// Per part: with `full`, its time over `MPI_Alltoall`'s across the matrix; then at the largest
/// size, its time, traffic and ratio to every baseline.
pub fn render_comparison(c: &Comparison, full: bool, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{} {}",
        "comparison".bold(),
        format!(
            "(the part's time over the baseline's; fastest of {} call{}, slowest rank)",
            c.repetitions,
            if c.repetitions == 1 { "" } else { "s" }
        )
        .dimmed()
    )?;
    if c.rows.is_empty() {
        return writeln!(out, "  no part passed in standard mode: nothing to compare");
    }
    let mut parts: Vec<&str> = c.rows.iter().map(|r| r.part.as_str()).collect();
    parts.dedup();
    let mut sizes: Vec<u64> = c.rows.iter().map(|r| r.scaling_factor).collect();
    sizes.sort_unstable();
    sizes.dedup();
    for part in parts {
        let rows: Vec<&Row> = c.rows.iter().filter(|r| r.part == part).collect();
        let mut ranks: Vec<u32> = rows.iter().map(|r| r.ranks).collect();
        ranks.sort_unstable();
        ranks.dedup();
        if full {
            render_ratio_matrix(part, &rows, &ranks, &sizes, out)?;
        }
        let largest = rows.iter().map(|r| r.scaling_factor).max().unwrap_or(0);
        let mut header = format!(
            "  {part} at {} elements: ranks       time   messages      bytes",
            fmt::thousands(largest)
        );
        for b in &c.baselines {
            header.push_str(&format!("  {:>15}", format!("×{}", b.name)));
        }
        writeln!(out, "{}", header.dimmed())?;
        for r in rows.iter().filter(|r| r.scaling_factor == largest) {
            write!(
                out,
                "  {:>width$}{:>7} {:>10} {:>10} {:>10}",
                "",
                r.ranks,
                fmt::duration(r.seconds),
                r.messages.map(|m| m.to_string()).unwrap_or_default(),
                r.bytes.map(fmt::bytes).unwrap_or_default(),
                width = part.len() + 15
            )?;
            for b in &c.baselines {
                let ratio = r
                    .against
                    .iter()
                    .find(|a| a.baseline == b.name)
                    .map(|a| format!("{:.2}", a.ratio));
                write!(out, "  {:>15}", ratio.unwrap_or_default())?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}

fn render_ratio_matrix(
    part: &str,
    rows: &[&Row],
    ranks: &[u32],
    sizes: &[u64],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut header = format!("  {:<16}", format!("{part} / MPI_Alltoall"));
    for sf in sizes {
        header.push_str(&format!("{:>CELL_WIDTH$}", fmt::thousands(*sf)));
    }
    writeln!(out, "{}", header.dimmed())?;
    for &n in ranks {
        write!(out, "  {n:<16}")?;
        for sf in sizes {
            let ratio = rows
                .iter()
                .find(|r| r.ranks == n && r.scaling_factor == *sf)
                .and_then(|r| r.against.iter().find(|a| a.baseline == "MPI_Alltoall"))
                .map(|a| a.ratio);
            let text = ratio.map(|x| format!("{x:.2}×")).unwrap_or_default();
            let padded = format!("{text:>CELL_WIDTH$}");
            let painted = match ratio {
                Some(x) if x <= 1.25 => padded.green(),
                Some(x) if x <= 2.0 => padded.normal(),
                Some(_) => padded.yellow(),
                None => padded.normal(),
            };
            write!(out, "{painted}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Green for what the part should do, red for what it should not, dim for runs skipped.
fn paint(
    text: String,
    run: &RunReport,
    previous: Option<&RunReport>,
    part: &PartReport,
) -> ColoredString {
    let expected_deadlock = part.expect == Expect::Deadlock
        && matches!(run.outcome, OutcomeKind::Deadlock | OutcomeKind::Timeout)
        && previous.is_some_and(|p| p.outcome == OutcomeKind::Pass);
    match run.outcome {
        OutcomeKind::Pass => text.green(),
        OutcomeKind::NotRun => text.dimmed(),
        _ if expected_deadlock => text.green(),
        _ => text.red(),
    }
}

fn render_legend(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let seen = table::legend(report.parts.iter().flat_map(|p| &p.runs));
    if !seen.is_empty() {
        writeln!(out, "{}", format!("legend: {}", seen.join("  ")).dimmed())?;
    }
    Ok(())
}

fn write_indented(out: &mut dyn Write, text: &str, max_lines: usize) -> std::io::Result<()> {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let skipped = lines.len().saturating_sub(max_lines);
    if skipped > 0 {
        writeln!(
            out,
            "{GUTTER}{}",
            format!("[{skipped} earlier lines]").dimmed()
        )?;
    }
    for line in &lines[skipped..] {
        writeln!(out, "{GUTTER}{line}")?;
    }
    Ok(())
}

/// `Open MPI v4.1.4, package: ...` → ` (v4.1.4)`; empty when the launcher already said it.
fn short_library(library: &str) -> String {
    library
        .split(',')
        .next()
        .and_then(|first| first.split_whitespace().last())
        .map(|v| format!(" (library {v})"))
        .unwrap_or_default()
}

/// A duration in a cell: `12µs`, `1.2ms`, `34ms`, `0.35s`, `12s`.
/// The report for a student checking their own crate: the table, then for each failed part
/// what the verdict means, what to try, and where the tutorial covers it.
pub fn render_for_learner(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    guarded(out, |out| for_learner(report, out))
}

fn for_learner(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    render_report(report, out)?;
    for part in &report.parts {
        let Some(advice) = crate::commands::check::advise_in(part, &report.language) else {
            continue;
        };
        writeln!(out)?;
        writeln!(out, "{}", format!("{}: what this means", part.name).bold())?;
        writeln!(out, "  {}", advice.meaning)?;
        writeln!(out, "  {} {}", "next:".bold(), advice.next)?;
        writeln!(out, "  {} {}", "in the tutorial:".dimmed(), advice.tutorial)?;
    }
    if report.all_passed() {
        writeln!(out)?;
        writeln!(
            out,
            "Every part passes. Your teacher's grade may run more rank counts and sizes."
        )?;
    }
    Ok(())
}

/// The summary table of a batch: a row per submission, its points per part and total.
pub fn render_batch(
    graded: &[super::batch::Graded],
    parts: &[String],
    planned: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    guarded(out, |out| batch_table(graded, parts, planned, out))
}

fn batch_table(
    graded: &[super::batch::Graded],
    parts: &[String],
    planned: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let width = graded
        .iter()
        .map(|g| g.name.chars().count())
        .max()
        .unwrap_or(10)
        .max(10);
    let mut header = format!("{:<width$}", "submission");
    for part in parts {
        header.push_str(&format!("{part:>8}"));
    }
    header.push_str(&format!("{:>9}  {}", "total", "failures"));
    writeln!(out, "{}", header.bold())?;
    for g in graded {
        let r = &g.report;
        write!(out, "{:<width$}", g.name)?;
        for name in parts {
            let cell = match r.parts.iter().find(|p| &p.name == name) {
                None => format!("{:>8}", "-").dimmed(),
                Some(p) => {
                    let text = format!("{:>8}", fmt::points(p.points));
                    if p.passed {
                        text.green()
                    } else {
                        text.red()
                    }
                }
            };
            write!(out, "{cell}")?;
        }
        let total = format!(
            "{:>9}",
            format!("{}/{}", fmt::points(r.points), fmt::points(r.max_points))
        );
        writeln!(out, "{}  {}", total.bold(), g.failures())?;
    }
    let passed = graded
        .iter()
        .filter(|g| g.error.is_none() && g.report.all_passed())
        .count();
    let mut line = format!(
        "{} submissions graded, {passed} with every part passed",
        graded.len()
    );
    if graded.len() < planned {
        line.push_str(&format!(
            "; interrupted: {} not graded",
            planned - graded.len()
        ));
    }
    writeln!(out, "{line}")
}

/// `mpi-grade probe`: what the local MPI buffers, and how fast it starts.
pub fn render_probe(report: &ProbeReport, out: &mut dyn Write) -> std::io::Result<()> {
    let t = fmt::thousands;
    writeln!(out, "{} {}", report.implementation, report.version)?;
    if let Some(library) = report.library.as_deref().and_then(|l| l.lines().next()) {
        writeln!(out, "  library: {library}")?;
    }
    writeln!(
        out,
        "  start-up: {:.2} s for 2 ranks (MPI_Init to MPI_Finalize)",
        report.startup_seconds
    )?;
    for (what, limit) in [
        ("the naive alltoall (to itself first)", &report.eager),
        ("to another rank only", &report.eager_between_ranks),
    ] {
        match limit.deadlocks {
            Some(deadlocks) => writeln!(
                out,
                "  eager limit, {what}: up to {} B ({} elements) complete before their receive; \
                 {} elements deadlock ({} launches)",
                t(limit.bytes),
                t(limit.completes),
                t(deadlocks),
                limit.launches
            )?,
            None => writeln!(
                out,
                "  eager limit, {what}: every size up to {} B completed",
                t(limit.bytes)
            )?,
        }
    }
    match report.zero_buffer.deadlocks {
        Some(1) => writeln!(
            out,
            "  zero-buffer mode: no standard send completes before its receive (1 element deadlocks)"
        ),
        Some(d) => writeln!(
            out,
            "  zero-buffer mode: deadlocks from {} elements (expected: 1)",
            t(d)
        ),
        None => writeln!(
            out,
            "  zero-buffer mode: did not deadlock (expected: it should at 1 element)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn a_submissions_text_never_starts_a_line_and_escapes_never_pass() {
        let mut report = crate::report::sample::graded();
        let fake = "boom\npart2  \x1b[32mPASS\x1b[0m 1/1\nscore: 3/3\x1b[2J\x1b]0;t\x07\rPASS";
        report.parts[1].summary = format!("rank 1 panicked: {fake}");
        for run in &mut report.parts[1].runs {
            run.output = Some(fake.to_string());
        }
        report.warnings.push(fake.to_string());
        // Even without the cleaner, the renderer's gutter and filter hold.
        let mut out = Vec::new();
        render_for_learner(&report, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let plain = clean::strip(&text);
        for line in plain.lines() {
            assert!(
                !line.starts_with("score: 3/3") && !line.starts_with("PASS"),
                "{line:?} in\n{text}"
            );
            assert!(
                !(line.starts_with("part2") && line.contains("1/1")),
                "{line:?}"
            );
        }
        assert!(!text.contains("\x1b[2J") && !text.contains("\x1b]") && !text.contains('\r'));
        assert!(plain.contains("    │ score: 3/3"), "{plain}");
    }

    /// One part that passes by deadlocking, with a run of each kind the legend names.
    fn report() -> Report {
        let mut part = sample::part("part1", "naive", Expect::Deadlock, 1.0);
        part.summary = "deadlocked from 10 elements per block at every rank count".into();
        part.runs = vec![
            sample::run(2, 1, Mode::Standard, OutcomeKind::Pass),
            sample::run(2, 10, Mode::Standard, OutcomeKind::Deadlock),
            sample::run(2, 100, Mode::Standard, OutcomeKind::NotRun),
        ];
        sample::report(vec![part])
    }

    #[test]
    fn the_table_has_one_symbol_per_run_and_a_legend() {
        colored::control::set_override(false);
        let mut out = Vec::new();
        render(&report(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("part1  naive  PASS 1/1"), "{text}");
        let row = text
            .lines()
            .find(|l| l.trim_start().starts_with("2 "))
            .unwrap();
        assert!(
            row.contains("✓ 12µs") && row.contains('D') && row.contains('·'),
            "{row}"
        );
        assert!(
            text.contains("legend: ✓ pass  D deadlock  · not run"),
            "{text}"
        );
        assert!(text.ends_with("score: 1/1\n"), "{text}");
        assert!(
            text.contains(
                "  config course/challenges.toml (sha256 9f86d081884c) · mpi-grade 0.1.0 (commit 0123456789ab)\n"
            ),
            "{text}"
        );
    }
}
