//! The pieces of a part's matrix that the coloured and the plain renderings share: which rows
//! and columns it has, what a cell shows, and the legend of the symbols used.

use super::{Mode, OutcomeKind, PartReport, RunReport};
use crate::fmt;

/// The part's sizes, smallest first: the matrix's columns.
pub fn sizes(part: &PartReport) -> Vec<u64> {
    let mut sizes: Vec<u64> = part.runs.iter().map(|r| r.scaling_factor).collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// The part's rows: standard runs by rank count, then zero-buffer runs by rank count.
pub fn rows(part: &PartReport) -> Vec<(Mode, u32)> {
    let mut rows: Vec<(Mode, u32)> = part.runs.iter().map(|r| (r.mode, r.ranks)).collect();
    rows.sort_by_key(|&(mode, ranks)| (mode != Mode::Standard, ranks));
    rows.dedup();
    rows
}

/// A row's label: `3`, or `3 zero-buffer`.
pub fn row_label(mode: Mode, ranks: u32) -> String {
    match mode {
        Mode::Standard => ranks.to_string(),
        Mode::ZeroBuffer => format!("{ranks} {}", mode.as_str()),
    }
}

/// The run of `part` in row `(mode, ranks)` and column `scaling_factor`, if it has one.
pub fn run_at(
    part: &PartReport,
    (mode, ranks): (Mode, u32),
    scaling_factor: u64,
) -> Option<&RunReport> {
    part.runs
        .iter()
        .find(|r| r.ranks == ranks && r.mode == mode && r.scaling_factor == scaling_factor)
}

/// What a cell shows: the outcome's symbol and the time, `✓ 34ms`.
pub fn cell(run: &RunReport) -> String {
    let time = run.seconds.map(fmt::duration).unwrap_or_default();
    format!("{} {time}", run.outcome.symbol())
        .trim_end()
        .to_string()
}

/// The words the legend gives an outcome's symbol.
pub fn legend_words(outcome: OutcomeKind) -> &'static str {
    match outcome {
        OutcomeKind::Pass => "pass",
        OutcomeKind::WrongResult => "wrong result",
        OutcomeKind::Crash => "crash",
        OutcomeKind::NotImplemented => "not implemented",
        OutcomeKind::Deadlock => "deadlock",
        OutcomeKind::Hang => "hang",
        OutcomeKind::CallMismatch => "call mismatch",
        OutcomeKind::Timeout => "time limit",
        OutcomeKind::NotRun => "not run",
    }
}

/// `✓ pass`, `D deadlock`, ...: the symbols `runs` use, in the order of [`OutcomeKind::ALL`].
pub fn legend<'a>(runs: impl Iterator<Item = &'a RunReport> + Clone) -> Vec<String> {
    OutcomeKind::ALL
        .into_iter()
        .filter(|&kind| runs.clone().any(|r| r.outcome == kind))
        .map(|kind| format!("{} {}", kind.symbol(), legend_words(kind)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_lists_the_symbols_used_in_a_fixed_order() {
        let report = crate::report::sample::graded();
        let runs = report.parts.iter().flat_map(|p| &p.runs);
        assert_eq!(legend(runs), ["✓ pass", "✗ wrong result", "D deadlock"]);
        let interrupted = crate::report::sample::interrupted();
        let runs = interrupted.parts.iter().flat_map(|p| &p.runs);
        assert_eq!(legend(runs), ["✓ pass", "D deadlock", "· not run"]);
    }

    #[test]
    fn rows_put_zero_buffer_runs_after_standard_ones() {
        let part = &crate::report::sample::graded().parts[1];
        assert_eq!(
            rows(part),
            [
                (Mode::Standard, 2),
                (Mode::Standard, 3),
                (Mode::ZeroBuffer, 2)
            ]
        );
        assert_eq!(sizes(part), [1, 100]);
        assert_eq!(row_label(Mode::ZeroBuffer, 3), "3 zero-buffer");
        assert_eq!(row_label(Mode::Standard, 3), "3");
        let wrong = run_at(part, (Mode::Standard, 3), 100).unwrap();
        assert_eq!(wrong.outcome, OutcomeKind::WrongResult);
        assert_eq!(cell(wrong), "✗");
        assert!(run_at(part, (Mode::ZeroBuffer, 3), 1).is_none());
    }
}
