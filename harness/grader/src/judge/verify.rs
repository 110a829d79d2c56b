//! Deciding whether a completed cell returned the right blocks.
//!
//! Each rank appended what the student function returned, raw, to its results file; its `done`
//! event says where each block is. The grader knows every rank's key, so it recomputes every
//! block each rank should have received and compares it, element by element, with what is in
//! the file. Nothing the rank says about correctness is believed: a block is right only if
//! its bytes are, and no rank can produce another rank's bytes without receiving them.

use crate::config::Op;
use crate::judge::contract::{self, Expected};
use crate::judge::outcome::{Outcome, Problem, WrongResult};
use crate::run::rundir::{Events, RunDir};
use mpi_grade_protocol::payload::{self, Key};
use mpi_grade_protocol::run::{self, BlockReport, PlannedCell, RankEvent};
use std::os::unix::fs::FileExt;

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
pub fn verify(cell: &PlannedCell, run_dir: &RunDir, events: &Events) -> (Outcome, Option<Timing>) {
    let ranks = events.ranks.len() as u32;
    let checker = Checker {
        keys: &run_dir.keys,
        cells: &run_dir.plan.cells,
    };
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
            results,
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
        let file = std::fs::File::open(run::rank_results_path(&run_dir.path, rank)).ok();
        let read = |report: &BlockReport, out: &mut [i64]| -> bool {
            read_block(file.as_ref(), report, out)
        };
        if let Some(problem) = checker.check_rank(cell, rank, ranks, results, &read) {
            return (wrong(rank, problem), timing(&per_rank));
        }
    }
    (Outcome::Pass, timing(&per_rank))
}

/// [`verify`] of each of `cells`, in order, on every core: the grader recomputes every element
/// of every block, which is most of its own time in a grade, and no launch runs meanwhile.
/// Each worker takes the next cell not taken yet, the largest (the last) first.
pub fn verify_all(
    cells: &[&PlannedCell],
    run_dir: &RunDir,
    events: &Events,
) -> Vec<(Outcome, Option<Timing>)> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(cells.len());
    if workers <= 1 {
        return cells.iter().map(|c| verify(c, run_dir, events)).collect();
    }
    let taken = AtomicUsize::new(0);
    let verdicts = Mutex::new(vec![None; cells.len()]);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let n = taken.fetch_add(1, Ordering::Relaxed);
                let Some(i) = cells.len().checked_sub(n + 1) else {
                    return;
                };
                let verdict = verify(cells[i], run_dir, events);
                verdicts.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(verdict);
            });
        }
    });
    verdicts
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|v| v.expect("every cell was verified"))
        .collect()
}

/// Reads the elements of one block from a results file; `false` if they are not all there.
fn read_block(file: Option<&std::fs::File>, report: &BlockReport, out: &mut [i64]) -> bool {
    let Some(file) = file else {
        return false;
    };
    let mut bytes = vec![0u8; out.len() * 8];
    if file.read_exact_at(&mut bytes, report.offset).is_err() {
        return false;
    }
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(8)) {
        *o = i64::from_le_bytes(b.try_into().expect("8 bytes"));
    }
    true
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

/// What every rank of a launch sent: the keys, and the cells (to name a stale block).
struct Checker<'a> {
    keys: &'a [Key],
    cells: &'a [PlannedCell],
}

impl Checker<'_> {
    /// The first problem with what `rank` received in every repetition of `cell`.
    fn check_rank(
        &self,
        cell: &PlannedCell,
        rank: u32,
        ranks: u32,
        results: &[Vec<BlockReport>],
        read: &dyn Fn(&BlockReport, &mut [i64]) -> bool,
    ) -> Option<Problem> {
        let of = cell.repetitions.max(1);
        if results.len() != of as usize {
            return Some(Problem::NoReport);
        }
        let len = cell.scaling_factor as usize;
        let mut got = vec![0i64; len];
        let mut want = vec![0i64; len];
        for (repetition, blocks) in (0..of).zip(results) {
            let problem = self.check_repetition(
                cell, repetition, rank, ranks, blocks, read, &mut got, &mut want,
            );
            if let Some(problem) = problem {
                return Some(if repetition > 0 {
                    Problem::Repetition {
                        repetition,
                        of,
                        problem: Box::new(problem),
                    }
                } else {
                    problem
                });
            }
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    fn check_repetition(
        &self,
        cell: &PlannedCell,
        repetition: u32,
        rank: u32,
        ranks: u32,
        blocks: &[BlockReport],
        read: &dyn Fn(&BlockReport, &mut [i64]) -> bool,
        got: &mut [i64],
        want: &mut [i64],
    ) -> Option<Problem> {
        match crate::config::Kind::parse(&cell.kind) {
            None | Some(crate::config::Kind::Alltoall) => {}
            Some(kind) => {
                return self.check_contract(kind, cell, repetition, rank, ranks, blocks, read)
            }
        }
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
        }
        for (source, block) in (0..ranks).zip(blocks) {
            if !read(block, got) {
                return Some(Problem::Unreadable { source });
            }
            let key = &self.keys[source as usize];
            payload::fill_block(key, cell.index, repetition, rank, want);
            if let Some(index) = got.iter().zip(want.iter()).position(|(g, w)| g != w) {
                return Some(self.stale(cell, repetition, source, rank, got).unwrap_or(
                    Problem::Element {
                        source,
                        index: index as u64,
                        expected: want[index],
                        got: got[index],
                    },
                ));
            }
        }
        None
    }

    /// [`Self::check_repetition`] for a kind other than the alltoall: every returned block
    /// against its formula in `judge/contract.rs`, evaluated from the keys.
    #[allow(clippy::too_many_arguments)]
    fn check_contract(
        &self,
        kind: crate::config::Kind,
        cell: &PlannedCell,
        repetition: u32,
        rank: u32,
        ranks: u32,
        blocks: &[BlockReport],
        read: &dyn Fn(&BlockReport, &mut [i64]) -> bool,
    ) -> Option<Problem> {
        let expected = contract::outputs(kind, rank, ranks);
        if blocks.len() != expected.len() {
            return Some(Problem::OutputCount {
                expected: expected.len() as u32,
                got: blocks.len() as u32,
                what: expected.iter().map(|e| e.what.clone()).collect(),
            });
        }
        for ((index, block), e) in (0..).zip(blocks).zip(&expected) {
            if block.len != cell.scaling_factor {
                return Some(Problem::OutputLength {
                    block: index,
                    what: e.what.clone(),
                    expected: cell.scaling_factor,
                    got: block.len,
                });
            }
        }
        let len = cell.scaling_factor as usize;
        let mut got = vec![0i64; len];
        for ((index, block), e) in (0..).zip(blocks).zip(&expected) {
            if !read(block, &mut got) {
                return Some(Problem::Unreadable { source: rank });
            }
            let want = self.evaluate(e, cell, repetition, len);
            if let Some(at) = got.iter().zip(&want).position(|(g, w)| g != w) {
                return Some(Problem::Output {
                    block: index,
                    what: e.what.clone(),
                    index: at as u64,
                    expected: want[at],
                    got: got[at],
                });
            }
        }
        None
    }

    /// The block `e` says a rank must return, from the keys of the ranks it refers to.
    fn evaluate(&self, e: &Expected, cell: &PlannedCell, repetition: u32, len: usize) -> Vec<i64> {
        let mut block = vec![0i64; len];
        let mut result: Option<Vec<i64>> = None;
        for term in &e.terms {
            let mut sum = vec![0i64; len];
            for r in term {
                payload::fill_block(
                    &self.keys[r.rank as usize],
                    cell.index,
                    repetition,
                    r.block,
                    &mut block,
                );
                for (s, v) in sum.iter_mut().zip(&block) {
                    *s = s.wrapping_add(*v >> cell.shift);
                }
            }
            result = Some(match result {
                None => sum,
                Some(mut acc) => {
                    for (a, v) in acc.iter_mut().zip(sum) {
                        *a = match e.op {
                            Op::Sum => a.wrapping_add(v),
                            Op::Max => (*a).max(v),
                        };
                    }
                    acc
                }
            });
        }
        result.unwrap_or(block)
    }

    /// Whether a wrong block is what `source` sent `rank` in an earlier call of this launch.
    fn stale(
        &self,
        cell: &PlannedCell,
        repetition: u32,
        source: u32,
        rank: u32,
        got: &[i64],
    ) -> Option<Problem> {
        let key = &self.keys[source as usize];
        let earlier = self
            .cells
            .iter()
            .filter(|c| c.index < cell.index && c.scaling_factor as usize >= got.len())
            .flat_map(|c| (0..c.repetitions.max(1)).map(move |r| (c, r)))
            .chain((0..repetition).map(|r| (cell, r)));
        let mut candidate = vec![0i64; got.len()];
        for (c, r) in earlier {
            payload::fill_block(key, c.index, r, rank, &mut candidate);
            if candidate == got {
                let earlier = if c.index == cell.index {
                    format!("call {} of this cell", r + 1)
                } else {
                    format!(
                        "an earlier cell ({} elements per block)",
                        crate::judge::outcome::thousands(c.scaling_factor)
                    )
                };
                return Some(Problem::Stale { source, earlier });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpi_grade_protocol::run::Mode;
    use std::collections::HashMap;

    fn cells() -> Vec<PlannedCell> {
        (0..2)
            .map(|index| PlannedCell {
                index,
                function: "part2".into(),
                scaling_factor: 5,
                mode: Mode::Standard,
                repetitions: 2,
                ..PlannedCell::default()
            })
            .collect()
    }

    fn keys() -> Vec<Key> {
        (0..3).map(|r| payload::rank_key(77, 0, r)).collect()
    }

    /// A bcast-reduce cell at 3 ranks: rank 0 must return the broadcast block and the sum,
    /// computed here by hand from the keys, and a wrong sum, a missing block or a short block
    /// are each named with what the block is.
    #[test]
    fn contract_kinds_are_checked_against_the_formulas() {
        let cell = PlannedCell {
            index: 0,
            function: "bcast_reduce".into(),
            scaling_factor: 4,
            kind: "bcast-reduce".into(),
            shift: 33,
            ..PlannedCell::default()
        };
        let keys = keys();
        let given = |rank: usize, block: u32| -> Vec<i64> {
            payload::block(&keys[rank], 0, 0, block, 4)
                .into_iter()
                .map(|v| v >> 33)
                .collect()
        };
        let b = given(0, 0);
        let own = [given(0, 1), given(1, 0), given(2, 0)];
        let sum: Vec<i64> = (0..4)
            .map(|i| own.iter().map(|o| b[i] + o[i]).sum())
            .collect();
        let checker = Checker {
            keys: &keys,
            cells: std::slice::from_ref(&cell),
        };
        let check = |blocks: Vec<Vec<i64>>| {
            let mut file = HashMap::new();
            let reports: Vec<BlockReport> = blocks
                .into_iter()
                .enumerate()
                .map(|(i, block)| {
                    let offset = 64 * i as u64;
                    let len = block.len() as u64;
                    file.insert(offset, block);
                    BlockReport { len, offset }
                })
                .collect();
            let read = |r: &BlockReport, out: &mut [i64]| match file.get(&r.offset) {
                Some(b) if b.len() == out.len() => {
                    out.copy_from_slice(b);
                    true
                }
                _ => false,
            };
            checker.check_rank(&cell, 0, 3, &[reports], &read)
        };
        assert_eq!(check(vec![b.clone(), sum.clone()]), None);
        let mut wrong = sum.clone();
        wrong[2] -= own[0][2] + own[1][2] + own[2][2];
        match check(vec![b.clone(), wrong]) {
            Some(Problem::Output {
                block: 1,
                index: 2,
                what,
                ..
            }) => assert!(what.contains("sum over every rank"), "{what}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            check(vec![b.clone()]),
            Some(Problem::OutputCount {
                expected: 2,
                got: 1,
                ..
            })
        ));
        assert!(matches!(
            check(vec![b[..3].to_vec(), sum]),
            Some(Problem::OutputLength {
                block: 0,
                expected: 4,
                got: 3,
                ..
            })
        ));
    }

    /// A fake results file: blocks by offset.
    struct File(HashMap<u64, Vec<i64>>);

    impl File {
        /// What `rank` correctly received in every repetition of `cell`, as the runtime lays
        /// it out; `edit` may change the block of (repetition, source) first.
        fn correct(
            cell: &PlannedCell,
            rank: u32,
            edit: impl Fn(u32, u32, &mut Vec<i64>),
        ) -> (File, Vec<Vec<BlockReport>>) {
            let mut blocks = HashMap::new();
            let mut results = Vec::new();
            let mut offset = 0;
            for rep in 0..cell.repetitions {
                let mut reports = Vec::new();
                for source in 0..3 {
                    let mut b = payload::block(&keys()[source as usize], cell.index, rep, rank, 5);
                    edit(rep, source, &mut b);
                    reports.push(BlockReport {
                        len: b.len() as u64,
                        offset,
                    });
                    offset += 8 * b.len() as u64;
                    blocks.insert(reports.last().unwrap().offset, b);
                }
                results.push(reports);
            }
            (File(blocks), results)
        }

        fn read(&self, report: &BlockReport, out: &mut [i64]) -> bool {
            match self.0.get(&report.offset) {
                Some(b) if b.len() == out.len() => {
                    out.copy_from_slice(b);
                    true
                }
                _ => false,
            }
        }
    }

    fn check(
        cell: &PlannedCell,
        rank: u32,
        edit: impl Fn(u32, u32, &mut Vec<i64>),
    ) -> Option<Problem> {
        let (keys, cells) = (keys(), cells());
        let checker = Checker {
            keys: &keys,
            cells: &cells,
        };
        let (file, results) = File::correct(cell, rank, edit);
        checker.check_rank(cell, rank, 3, &results, &|r, out| file.read(r, out))
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
    fn the_right_bytes_pass() {
        assert_eq!(check(&cells()[1], 1, |_, _, _| {}), None);
    }

    #[test]
    fn the_first_wrong_element_is_named_with_its_call() {
        let cell = &cells()[0];
        let problem = check(cell, 1, |rep, source, b| {
            if rep == 1 && source == 2 {
                b[3] = 42;
            }
        });
        let expected = payload::block(&keys()[2], 0, 1, 1, 5)[3];
        assert_eq!(
            problem,
            Some(Problem::Repetition {
                repetition: 1,
                of: 2,
                problem: Box::new(Problem::Element {
                    source: 2,
                    index: 3,
                    expected,
                    got: 42
                })
            })
        );
    }

    #[test]
    fn own_blocks_sent_back_are_wrong() {
        let problem = check(&cells()[0], 0, |rep, source, b| {
            *b = payload::block(&keys()[0], 0, rep, source, 5);
        });
        assert!(
            matches!(
                problem,
                Some(Problem::Element {
                    source: 1,
                    index: 0,
                    ..
                })
            ),
            "{problem:?}"
        );
    }

    #[test]
    fn stale_blocks_are_recognised() {
        // The previous call's block, and the block of the cell before.
        let problem = check(&cells()[1], 2, |rep, source, b| {
            if rep == 1 && source == 0 {
                *b = payload::block(&keys()[0], 1, 0, 2, 5);
            }
        });
        assert!(
            format!("{problem:?}")
                .contains("Stale { source: 0, earlier: \"call 1 of this cell\" }"),
            "{problem:?}"
        );
        let problem = check(&cells()[1], 2, |rep, source, b| {
            if rep == 0 && source == 1 {
                *b = payload::block(&keys()[1], 0, 1, 2, 5);
            }
        });
        assert!(
            format!("{problem:?}").contains("earlier: \"an earlier cell (5 elements per block)\""),
            "{problem:?}"
        );
    }

    #[test]
    fn counts_lengths_and_missing_bytes_are_checked() {
        let cell = &cells()[0];
        let (keys, cells) = (keys(), cells());
        let checker = Checker {
            keys: &keys,
            cells: &cells,
        };
        let (file, mut results) = File::correct(cell, 0, |_, _, _| {});
        let read = |r: &BlockReport, out: &mut [i64]| file.read(r, out);
        results[0].pop();
        assert_eq!(
            checker.check_rank(cell, 0, 3, &results, &read),
            Some(Problem::BlockCount {
                expected: 3,
                got: 2
            })
        );
        let (_, mut results) = File::correct(cell, 0, |_, _, _| {});
        results[1][2].len = 4;
        assert!(
            format!("{:?}", checker.check_rank(cell, 0, 3, &results, &read))
                .contains("Length { source: 2, expected: 5, got: 4 }")
        );
        let (_, mut results) = File::correct(cell, 0, |_, _, _| {});
        results[0][1].offset = 9999;
        assert!(
            format!("{:?}", checker.check_rank(cell, 0, 3, &results, &read))
                .contains("Unreadable { source: 1 }")
        );
        // A forged `done` naming fewer repetitions than the cell ran.
        let (_, results) = File::correct(cell, 0, |_, _, _| {});
        assert_eq!(
            checker.check_rank(cell, 0, 3, &results[..1], &read),
            Some(Problem::NoReport)
        );
    }
}
