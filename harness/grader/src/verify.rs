//! Deciding whether a completed cell returned the right blocks.
//!
//! The grader recomputes the digest of every block from the cell's seed and compares it with
//! the digest each rank reported. The rank's own report of the first wrong element only
//! explains a mismatch; it never decides.

use crate::outcome::{Outcome, Problem, WrongResult};
use crate::rundir::Events;
use mpi_grade_protocol::payload;
use mpi_grade_protocol::run::{PlannedCell, RankEvent, ResultError};

/// How long a completed cell took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// The slowest rank's time in each repetition, minimised over the repetitions: the time of
    /// the alltoall when nothing else got in its way.
    pub seconds: f64,
    /// Repetitions every rank ran.
    pub repetitions: u32,
}

/// The outcome of a cell every rank completed, and its timing.
pub fn verify(cell: &PlannedCell, events: &Events) -> (Outcome, Option<Timing>) {
    let ranks = events.ranks.len() as u32;
    let mut per_rank: Vec<Vec<f64>> = Vec::new();
    for (rank, log) in (0..ranks).zip(&events.ranks) {
        if let Some((from, what)) = &log.tampered {
            if *from <= cell.index {
                let what = what.clone();
                return (wrong(rank, Problem::Tampered { what }), None);
            }
        }
        let Some(RankEvent::Done {
            seconds,
            times,
            blocks,
            error,
            ..
        }) = log.done(cell.index)
        else {
            return (wrong(rank, Problem::NoReport), timing(&per_rank));
        };
        per_rank.push(if times.is_empty() {
            vec![*seconds]
        } else {
            times.clone()
        });
        if let Some(problem) = check_rank(cell, rank, ranks, blocks, error.as_ref()) {
            return (wrong(rank, problem), timing(&per_rank));
        }
    }
    (Outcome::Pass, timing(&per_rank))
}

/// Per repetition the slowest rank, then the fastest repetition.
fn timing(per_rank: &[Vec<f64>]) -> Option<Timing> {
    let repetitions = per_rank.iter().map(Vec::len).min()?;
    let seconds = (0..repetitions)
        .map(|r| per_rank.iter().map(|t| t[r]).fold(0.0, f64::max))
        .fold(f64::INFINITY, f64::min);
    (repetitions > 0).then_some(Timing {
        seconds,
        repetitions: repetitions as u32,
    })
}

fn wrong(rank: u32, problem: Problem) -> Outcome {
    Outcome::WrongResult(WrongResult { rank, problem })
}

fn check_rank(
    cell: &PlannedCell,
    rank: u32,
    ranks: u32,
    blocks: &[mpi_grade_protocol::run::BlockReport],
    reported: Option<&ResultError>,
) -> Option<Problem> {
    if blocks.len() != ranks as usize {
        return Some(Problem::BlockCount {
            expected: ranks,
            got: blocks.len() as u32,
        });
    }
    for (source, block) in (0..ranks).zip(blocks) {
        if block.len != cell.scaling_factor {
            return Some(Problem::Length {
                source,
                expected: cell.scaling_factor,
                got: block.len,
            });
        }
        let expected = payload::expected_digest(cell.seed, source, rank, cell.scaling_factor);
        if payload::parse_digest_hex(&block.digest) != Some(expected) {
            return Some(match reported {
                Some(&ResultError::WrongElement {
                    source: s,
                    index,
                    expected,
                    got,
                }) if s == source => Problem::Element {
                    source,
                    index,
                    expected,
                    got,
                },
                _ => Problem::Digest { source },
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpi_grade_protocol::run::{BlockReport, Mode};

    fn cell() -> PlannedCell {
        PlannedCell {
            index: 0,
            function: "part2".into(),
            scaling_factor: 5,
            mode: Mode::Standard,
            seed: 77,
            repetitions: 1,
        }
    }

    fn report(block: &[i64]) -> BlockReport {
        BlockReport {
            len: block.len() as u64,
            digest: payload::digest_hex(payload::digest(block)),
        }
    }

    fn correct_blocks(rank: u32, ranks: u32) -> Vec<BlockReport> {
        (0..ranks)
            .map(|s| report(&payload::block(77, s, rank, 5)))
            .collect()
    }

    #[test]
    fn timing_is_the_fastest_repetition_of_the_slowest_rank() {
        let t = timing(&[vec![1.0, 0.5, 0.9], vec![0.2, 0.7, 0.3]]).unwrap();
        assert_eq!(t.seconds, 0.7);
        assert_eq!(t.repetitions, 3);
        assert_eq!(timing(&[vec![1.0, 0.4], vec![2.0]]).unwrap().seconds, 2.0);
        assert_eq!(timing(&[]), None);
    }

    #[test]
    fn right_digests_pass() {
        assert_eq!(check_rank(&cell(), 1, 3, &correct_blocks(1, 3), None), None);
    }

    #[test]
    fn a_wrong_digest_fails_even_if_the_rank_says_nothing() {
        let mut blocks = correct_blocks(1, 3);
        blocks[2] = report(&payload::block(77, 2, 0, 5)); // the block meant for rank 0
        assert_eq!(
            check_rank(&cell(), 1, 3, &blocks, None),
            Some(Problem::Digest { source: 2 })
        );
        let said = ResultError::WrongElement {
            source: 2,
            index: 0,
            expected: 1,
            got: 2,
        };
        assert_eq!(
            check_rank(&cell(), 1, 3, &blocks, Some(&said)),
            Some(Problem::Element {
                source: 2,
                index: 0,
                expected: 1,
                got: 2
            })
        );
    }

    #[test]
    fn a_rank_claiming_an_error_with_right_digests_passes() {
        // The digests decide; a report alone cannot fail (or pass) a cell.
        let said = ResultError::WrongLength {
            source: 0,
            expected: 5,
            got: 4,
        };
        assert_eq!(
            check_rank(&cell(), 0, 2, &correct_blocks(0, 2), Some(&said)),
            None
        );
    }

    #[test]
    fn counts_and_lengths_are_checked() {
        let blocks = correct_blocks(0, 2);
        assert_eq!(
            check_rank(&cell(), 0, 3, &blocks, None),
            Some(Problem::BlockCount {
                expected: 3,
                got: 2
            })
        );
        let mut blocks = correct_blocks(0, 2);
        blocks[1].len = 4;
        assert_eq!(
            check_rank(&cell(), 0, 2, &blocks, None),
            Some(Problem::Length {
                source: 1,
                expected: 5,
                got: 4
            })
        );
    }
}
