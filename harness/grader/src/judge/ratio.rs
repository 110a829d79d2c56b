//! The timing rule of a part measured against another part of the same grade
//! (`[challenge.part.ratio]`, the tutorial's Igather experiment): at every rank count and size
//! where both passed in standard mode, the other part must take at least the factor times as
//! long as this one. Both times come from the same launch (one launch runs every cell of a rank
//! count), so the rule is a ratio, never an absolute time.

use crate::config::{Part, Ratio};
use crate::judge::outcome::{Cell, Outcome};
use crate::judge::part::{Failure, Verdict};
use crate::judge::verify::Timing;
use mpi_grade_protocol::run::Mode;
use std::collections::BTreeMap;

/// One comparison: at `cell`'s rank count and size, the other part's time and this part's.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// The cell of this part.
    pub cell: Cell,
    /// The other (slower) part's time.
    pub against: f64,
    /// This part's time.
    pub seconds: f64,
}

/// The pairs of times the rule compares: every standard cell of `part` that passed with a
/// time, next to the cell of `ratio.against` at the same rank count and size.
pub fn measured(
    part: &Part,
    ratio: &Ratio,
    cells: &BTreeMap<Cell, (Outcome, Option<Timing>)>,
) -> Vec<Measured> {
    let timed = |cell: &Cell| match cells.get(cell) {
        Some((Outcome::Pass, Some(t))) => Some(t.seconds),
        _ => None,
    };
    cells
        .keys()
        .filter(|c| c.part == part.name && c.mode == Mode::Standard)
        .filter_map(|cell| {
            let other = cells.keys().find(|o| {
                o.part == ratio.against
                    && o.ranks == cell.ranks
                    && o.scaling_factor == cell.scaling_factor
                    && o.mode == Mode::Standard
            })?;
            Some(Measured {
                cell: cell.clone(),
                against: timed(other)?,
                seconds: timed(cell)?,
            })
        })
        .collect()
}

/// `verdict` with the rule applied: a passed part whose times do not show the ratio at some
/// cell fails as too slow, with both times in the sentence; a passed part with nothing to
/// compare (the other part failed) fails too, said so.
pub fn apply(part: &Part, mut verdict: Verdict, measured: &[Measured]) -> Verdict {
    let Some(ratio) = &part.ratio else {
        return verdict;
    };
    if !verdict.passed {
        return verdict;
    }
    let both = |m: &Measured| {
        format!(
            "{} took {:.2} s and this part {:.2} s (ratio {:.1}, at least {} needed at {} ranks)",
            ratio.against,
            m.against,
            m.seconds,
            m.against / m.seconds.max(1e-9),
            crate::fmt::trimmed(ratio.factor(m.cell.ranks)),
            m.cell.ranks
        )
    };
    let slow = measured
        .iter()
        .find(|m| m.against < ratio.factor(m.cell.ranks) * m.seconds);
    let failed = match (slow, measured.first()) {
        (Some(m), _) => Some(format!(
            "not faster than {} by enough: at {}, {}",
            ratio.against,
            m.cell.describe(),
            both(m)
        )),
        (None, None) => Some(format!(
            "no time of {} to compare with (it must pass too)",
            ratio.against
        )),
        (None, Some(m)) => {
            verdict.summary = format!("{}; {}", verdict.summary, both(m));
            None
        }
    };
    if let Some(summary) = failed {
        verdict.passed = false;
        verdict.failure = Some(Failure::TooSlow);
        verdict.summary = summary;
        verdict.points = 0.0;
        verdict.credit.iter_mut().for_each(|c| c.points = 0.0);
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Expect;

    fn cell(part: &str, ranks: u32) -> Cell {
        Cell {
            part: part.into(),
            function: part.into(),
            ranks,
            scaling_factor: 1000,
            mode: Mode::Standard,
        }
    }

    fn timing(seconds: f64) -> Option<Timing> {
        Some(Timing {
            seconds,
            repetitions: 3,
        })
    }

    fn part() -> Part {
        let mut part = Part::ungraded("igather_loop", "igather_loop", "", Expect::Complete);
        part.points = 1.0;
        part.ratio = Some(Ratio {
            against: "gather_loop".into(),
            at_least: 0.0,
            per_rank: 0.5,
        });
        part
    }

    fn passed() -> Verdict {
        Verdict {
            passed: true,
            failure: None,
            summary: "correct".into(),
            points: 1.0,
            credit: Vec::new(),
        }
    }

    #[test]
    fn the_blocking_part_must_be_slower_by_the_factor_at_each_rank_count() {
        let part = part();
        let ratio = part.ratio.clone().unwrap();
        let mut cells = BTreeMap::new();
        // 4 ranks: 0.8 s against 0.2 s (4x, 2x needed); 8 ranks: 1.6 s against 0.5 s (3.2x,
        // 4x needed).
        for (ranks, blocking, non_blocking) in [(4, 0.8, 0.2), (8, 1.6, 0.5)] {
            cells.insert(
                cell("gather_loop", ranks),
                (Outcome::Pass, timing(blocking)),
            );
            cells.insert(
                cell("igather_loop", ranks),
                (Outcome::Pass, timing(non_blocking)),
            );
        }
        let m = measured(&part, &ratio, &cells);
        assert_eq!(m.len(), 2);
        let v = apply(&part, passed(), &m);
        assert_eq!(v.failure, Some(Failure::TooSlow));
        assert_eq!(v.points, 0.0);
        assert!(v.summary.contains("8 ranks"), "{}", v.summary);
        assert!(
            v.summary.contains("ratio 3.2, at least 4 needed"),
            "{}",
            v.summary
        );
        // 4 ranks alone passes, and says both times.
        let v = apply(&part, passed(), &m[..1]);
        assert!(v.passed);
        assert!(
            v.summary
                .contains("gather_loop took 0.80 s and this part 0.20 s (ratio 4.0"),
            "{}",
            v.summary
        );
        // Nothing to compare with (the blocking part did not pass): no pass either.
        let v = apply(&part, passed(), &[]);
        assert_eq!(v.failure, Some(Failure::TooSlow));
        assert!(
            v.summary.contains("no time of gather_loop"),
            "{}",
            v.summary
        );
    }
}
