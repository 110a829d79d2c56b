//! A part's result as plain text, for the formats course tools show to people (JUnit failure
//! bodies, Gradescope test output, GitHub Classroom messages): the same facts as the human
//! report, without colour, so that every format says the same thing.

use super::clean::{continued, GUTTER};
use super::table;
use super::{FailureKind, Mode, OutcomeKind, PartReport, Report, RunReport};
use crate::fmt::{self, thousands};
use std::fmt::Write;

/// Lines of a job's output kept in a part's text.
const OUTPUT_LINES: usize = 15;
/// Lines of a compiler message kept in a part's text.
const DETAIL_LINES: usize = 40;
/// Runs listed one by one among those that did not pass.
const FAILED_RUNS: usize = 10;

/// `part1: Blocking Send/Recv alltoall ...`, or the name alone when the part has no title.
pub fn part_title(part: &PartReport) -> String {
    if part.title.is_empty() {
        part.name.clone()
    } else {
        format!("{}: {}", part.name, part.title)
    }
}

/// The part's verdict in one line: `PASS 1/1: summary`, `FAIL 0/2 (deadlock): summary` (a
/// summary quoting a message of several lines goes on behind a gutter).
pub fn verdict_line(part: &PartReport) -> String {
    let score = format!(
        "{}/{}",
        fmt::points(part.points),
        fmt::points(part.max_points)
    );
    let summary = continued(&part.summary, &format!("  {GUTTER}"));
    if part.passed {
        format!("PASS {score}: {summary}")
    } else {
        format!("FAIL {score} ({}): {summary}", part.failure_name(),)
    }
}

/// Everything about the part after its verdict line: the compiler's message, partial credit,
/// the matrix of runs, the deadlock explained, the runs that failed and (`with_output`) the
/// output of the job that decided. Empty when there is nothing to add.
pub fn part_body(report: &Report, part: &PartReport, with_output: bool) -> String {
    let mut sections: Vec<String> = Vec::new();
    // A crate that does not build gives each part the compiler's message on the report.
    let details = part.details.as_deref().or_else(|| {
        (part.failure == Some(FailureKind::BuildError))
            .then_some(report.build.details.as_deref())
            .flatten()
    });
    if let Some(details) = details {
        sections.push(indent(&tail(details, DETAIL_LINES)));
    }
    if !part.credit.is_empty() {
        sections.push(credit(part));
    }
    if !part.runs.is_empty() {
        sections.push(matrix(part));
    }
    // What is already said (the summary often quotes the deciding run's explanation) is not
    // said again.
    let mut said: Vec<&str> = vec![part.summary.as_str()];
    if let Some((run, explanation)) = explained_run(part) {
        if !part.summary.contains(explanation) {
            sections.push(format!(
                "at {}: {}\n",
                cell_name(run),
                continued(explanation, &format!("  {GUTTER}"))
            ));
            said.push(explanation);
        }
    }
    if !part.passed {
        if let Some(text) = failed_runs(part, &said) {
            sections.push(text);
        }
        if let Some(output) = deciding_output(part).filter(|_| with_output) {
            sections.push(format!(
                "output of the job that failed (last {OUTPUT_LINES} lines):\n{}",
                indent(&tail(output, OUTPUT_LINES))
            ));
        }
    }
    sections.join("\n")
}

/// `partial credit:` and a line per group of runs.
fn credit(part: &PartReport) -> String {
    let mut text = String::from("partial credit:\n");
    for group in &part.credit {
        let _ = writeln!(
            text,
            "  {} {}: {}/{}{}",
            if group.passed { '✓' } else { '✗' },
            group.name,
            fmt::points(group.points),
            fmt::points(group.max_points),
            if group.passed {
                String::new()
            } else {
                format!(" ({})", continued(&group.summary, &format!("    {GUTTER}")))
            }
        );
    }
    text
}

/// `runs that did not pass:` and a line per such run (the first few), leaving out the details
/// already `said`; `None` when every run passed or was not run.
fn failed_runs(part: &PartReport, said: &[&str]) -> Option<String> {
    let failed: Vec<&RunReport> = part
        .runs
        .iter()
        .filter(|r| !matches!(r.outcome, OutcomeKind::Pass | OutcomeKind::NotRun))
        .collect();
    if failed.is_empty() {
        return None;
    }
    let mut text = String::from("runs that did not pass:\n");
    for run in failed.iter().take(FAILED_RUNS) {
        let detail = run
            .detail
            .as_deref()
            .filter(|d| !said.iter().any(|s| s.contains(d)))
            .unwrap_or("");
        let _ = writeln!(
            text,
            "  {}: {}{}{}",
            cell_name(run),
            run.outcome.name(),
            if detail.is_empty() { "" } else { ": " },
            continued(detail, &format!("    {GUTTER}"))
        );
    }
    if failed.len() > FAILED_RUNS {
        let _ = writeln!(text, "  and {} more", failed.len() - FAILED_RUNS);
    }
    Some(text)
}

/// The verdict line and the body: the whole text of a part.
pub fn part_text(report: &Report, part: &PartReport) -> String {
    let body = part_body(report, part, true);
    if body.is_empty() {
        format!("{}\n", verdict_line(part))
    } else {
        format!("{}\n\n{body}", verdict_line(part))
    }
}

/// The captured output of the job the part's deciding run ended (not for a `todo!()`, which
/// says all there is to say).
pub fn deciding_output(part: &PartReport) -> Option<&str> {
    part.runs
        .iter()
        .find(|r| {
            part.decided_by(r) && r.outcome != OutcomeKind::NotImplemented && r.output.is_some()
        })
        .and_then(|r| r.output.as_deref())
}

/// `2 ranks, 1 000 elements per block` (`, zero-buffer mode` when not standard).
pub fn cell_name(run: &RunReport) -> String {
    let mode = match run.mode {
        Mode::Standard => String::new(),
        Mode::ZeroBuffer => format!(", {} mode", run.mode.as_str()),
    };
    format!(
        "{}{mode}",
        fmt::ranks_and_size(run.ranks, run.scaling_factor)
    )
}

/// A stall's explanation worth showing: the deciding run's for a failed part, the first
/// standard deadlock for a part that passed by deadlocking.
pub fn explained_run(part: &PartReport) -> Option<(&RunReport, &str)> {
    let run = if part.passed {
        part.runs
            .iter()
            .find(|r| r.diagnosis.is_some() && r.mode == Mode::Standard)
    } else {
        part.runs
            .iter()
            .find(|r| r.diagnosis.is_some() && part.decided_by(r))
            .or_else(|| part.runs.iter().find(|r| r.diagnosis.is_some()))
    }?;
    Some((run, run.diagnosis.as_ref()?.explanation.as_str()))
}

/// The runs as a table of rank counts (and modes) × sizes, one symbol and time per run, and
/// the legend of the symbols used.
pub fn matrix(part: &PartReport) -> String {
    const WIDTH: usize = 11;
    let sizes = table::sizes(part);
    let mut text = format!("{:<16}", "ranks \\ size");
    for sf in &sizes {
        let _ = write!(text, "{:>WIDTH$}", thousands(*sf));
    }
    text.push('\n');
    for row in table::rows(part) {
        let mut line = format!("{:<16}", table::row_label(row.0, row.1));
        for sf in &sizes {
            let cell = table::run_at(part, row, *sf)
                .map(table::cell)
                .unwrap_or_default();
            let _ = write!(line, "{cell:>WIDTH$}");
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    let legend = table::legend(part.runs.iter());
    let _ = writeln!(text, "legend: {}", legend.join("  "));
    text
}

/// The last `lines` lines of `text`, saying how many were left out.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    let skipped = all.len().saturating_sub(lines);
    let mut out = String::new();
    if skipped > 0 {
        let _ = writeln!(out, "[{skipped} earlier lines]");
    }
    for line in &all[skipped..] {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A submission's text (a job's output, a compiler's messages) behind the gutter.
fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {GUTTER}{l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn a_failed_part_says_what_failed_where_with_the_output() {
        let report = sample::graded();
        let text = part_text(&report, &report.parts[1]);
        assert!(
            text.starts_with("FAIL 0.5/2 (wrong-result): rank 1 received a wrong value"),
            "{text}"
        );
        assert!(text.contains("  ✓ 2 ranks: 0.5/0.5\n"), "{text}");
        assert!(
            text.contains("  ✗ 3 ranks: 0/1 (wrong result at 100 elements)"),
            "{text}"
        );
        assert!(
            text.contains(
                "  3 ranks, 100 elements per block: wrong-result: wrong-result at 3 ranks"
            ),
            "{text}"
        );
        assert!(text.contains("output of the job that failed"), "{text}");
        assert!(
            text.contains("  │ thread 'main' printed <Vec<i64>> & more"),
            "{text}"
        );
        let row = text.lines().find(|l| l.starts_with("3 ")).unwrap();
        assert!(row.contains('✓') && row.contains('✗'), "{row}");
        assert!(text.contains("legend: ✓ pass  ✗ wrong result"), "{text}");
    }

    #[test]
    fn a_part_that_passed_by_deadlocking_explains_the_deadlock() {
        let report = sample::graded();
        let text = part_text(&report, &report.parts[0]);
        assert!(
            text.starts_with("PASS 1/1: deadlocked from 10 000"),
            "{text}"
        );
        assert!(
            text.contains("at 2 ranks, 10 000 elements per block: Deadlock: rank 0 is blocked"),
            "{text}"
        );
        assert!(!text.contains("runs that did not pass"), "{text}");
        assert!(text.contains("2 zero-buffer"), "{text}");
    }

    #[test]
    fn what_the_summary_says_is_not_repeated() {
        let mut report = sample::graded();
        let part = &mut report.parts[2];
        let explanation = part.runs[1].diagnosis.as_ref().unwrap().explanation.clone();
        part.runs[1].detail = Some(explanation.clone());
        part.summary = format!("2 ranks, 10 000 elements per block: {explanation}");
        let text = part_text(&report, &report.parts[2]);
        assert_eq!(text.matches(&explanation).count(), 1, "{text}");
        assert!(
            text.contains("  2 ranks, 10 000 elements per block: deadlock\n"),
            "{text}"
        );
    }

    #[test]
    fn a_build_error_carries_the_compiler_message() {
        let report = sample::build_failure();
        let text = part_text(&report, &report.parts[0]);
        assert!(text.contains("error[E0308]: mismatched types"), "{text}");
        assert!(!text.contains("ranks \\ size"), "{text}");
    }

    #[test]
    fn long_texts_keep_their_end() {
        let text: String = (1..=50).map(|i| format!("line {i}\n")).collect();
        let kept = tail(&text, 15);
        assert!(kept.starts_with("[35 earlier lines]\nline 36\n"), "{kept}");
        assert!(kept.ends_with("line 50\n"));
    }
}
