//! What a challenge kind means rank by rank: how many blocks each rank is given, how many it
//! must return, and what each returned block must hold, as a formula over the blocks the ranks
//! were given. This is the one place a kind is decided: the plan carries the counts and the
//! shift to the runtimes (which know no kind), and `judge/verify.rs` evaluates the formulas
//! with every rank's key, so that every expected result, reductions included, is computed by
//! the grader and never taken from a rank.

use crate::config::{Kind, Op};

/// Block `block` of those rank `rank` was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRef {
    /// The rank that was given it.
    pub rank: u32,
    /// Its index among that rank's blocks.
    pub block: u32,
}

/// What one returned block must hold: per term the element-wise (wrapping) sum of its blocks,
/// then the terms combined element-wise with `op`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// How the terms are combined.
    pub op: Op,
    /// The terms (one block each for a block passed on unchanged).
    pub terms: Vec<Vec<BlockRef>>,
    /// What the block is, for the explanation ("the block broadcast by rank 0").
    pub what: String,
}

impl Expected {
    fn block(rank: u32, block: u32, what: String) -> Expected {
        Expected {
            op: Op::Sum,
            terms: vec![vec![BlockRef { rank, block }]],
            what,
        }
    }
}

/// Values given to reduction kinds are shifted right by this many bits: the sum of 1024 of
/// them (each below 2^31 in magnitude, twice) cannot overflow an `i64`.
const REDUCTION_SHIFT: u32 = 33;

/// The root of the rooted kinds.
const ROOT: u32 = 0;

/// How many blocks `rank` of `size` ranks is given.
pub fn inputs(kind: Kind, rank: u32, size: u32) -> u32 {
    match kind {
        Kind::Alltoall => size,
        // Rank 1's own block only gives it the length of its receive buffer.
        Kind::SendRecv => 1,
        Kind::BcastReduce(_) | Kind::Allreduce(_) => 1 + u32::from(rank == ROOT),
        Kind::GatherLoop => size,
        Kind::GatherScatter if rank == ROOT => 1 + size,
        Kind::GatherScatter => 1,
    }
}

/// The right shift of every given value.
pub fn shift(kind: Kind) -> u32 {
    match kind {
        Kind::BcastReduce(_) | Kind::Allreduce(_) => REDUCTION_SHIFT,
        _ => 0,
    }
}

/// The block of `rank`'s own that rooted reduction kinds add to the broadcast one.
fn own(rank: u32) -> BlockRef {
    BlockRef {
        rank,
        block: u32::from(rank == ROOT),
    }
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Sum => "sum",
        Op::Max => "maximum",
    }
}

/// The reduction of (broadcast block + own block) over every rank.
fn reduction(op: Op, size: u32, at: &str) -> Expected {
    let broadcast = BlockRef {
        rank: ROOT,
        block: 0,
    };
    Expected {
        op,
        terms: (0..size).map(|r| vec![broadcast, own(r)]).collect(),
        what: format!(
            "the {} over every rank of (the block broadcast by rank {ROOT} + the rank's own block){at}",
            op_name(op)
        ),
    }
}

/// What each block `rank` of `size` ranks returns must hold, in order.
pub fn outputs(kind: Kind, rank: u32, size: u32) -> Vec<Expected> {
    let broadcast = || Expected::block(ROOT, 0, format!("the block broadcast by rank {ROOT}"));
    match kind {
        Kind::Alltoall => (0..size)
            .map(|s| Expected::block(s, rank, format!("the block from rank {s}")))
            .collect(),
        Kind::SendRecv if rank == 1 => {
            vec![Expected::block(
                ROOT,
                0,
                format!("the block rank {ROOT} sent"),
            )]
        }
        Kind::SendRecv => Vec::new(),
        Kind::BcastReduce(op) if rank == ROOT => {
            vec![
                broadcast(),
                reduction(op, size, &format!(", at root {ROOT}")),
            ]
        }
        Kind::BcastReduce(_) => vec![broadcast()],
        Kind::Allreduce(op) => vec![reduction(op, size, "")],
        Kind::GatherLoop if rank == ROOT => (0..size)
            .flat_map(|i| {
                (0..size).map(move |r| {
                    Expected::block(
                        r,
                        i,
                        format!("the block gathered from rank {r} in iteration {i}"),
                    )
                })
            })
            .collect(),
        Kind::GatherLoop => Vec::new(),
        Kind::GatherScatter => {
            let mut out = vec![Expected::block(
                ROOT,
                1 + rank,
                format!(
                    "block {} of rank {ROOT}'s values, scattered to rank {rank}",
                    1 + rank
                ),
            )];
            if rank == ROOT {
                out.extend(
                    (0..size).map(|r| {
                        Expected::block(r, 0, format!("the block gathered from rank {r}"))
                    }),
                );
            }
            out
        }
    }
}

/// Payload bytes `rank` must at least send to other ranks through traced calls for its result
/// to have come through MPI (`len` elements per block): what the tracer's records are checked
/// against once the results are right.
pub fn min_sent(kind: Kind, rank: u32, size: u32, len: u64) -> u64 {
    match kind {
        Kind::Alltoall => u64::from(size.saturating_sub(1)) * len * 8,
        Kind::SendRecv if rank == ROOT => len * 8,
        // A collective's bytes per rank depend on the library's algorithm: the results
        // themselves, which no rank can compute alone, are the check.
        _ => 0,
    }
}

/// The contract in a sentence, for `mpi-grade list` and the starters.
pub fn describe(kind: Kind) -> &'static str {
    match kind {
        Kind::Alltoall => "values[i] goes to rank i; return the blocks received, element i from rank i",
        Kind::SendRecv => "rank 0 sends values[0] to rank 1; rank 1 returns [it], the others []",
        Kind::BcastReduce(_) => {
            "rank 0 broadcasts values[0]; each rank adds it to its own block (rank 0: values[1]) and the sums are reduced to rank 0; return [broadcast] (rank 0: [broadcast, reduction])"
        }
        Kind::GatherScatter => {
            "gather every rank's values[0] at rank 0, scatter rank 0's values[1..=n]; return [scattered] (rank 0: [scattered, gathered...])"
        }
        Kind::Allreduce(_) => {
            "rank 0 broadcasts values[0]; each rank adds it to its own block (rank 0: values[1]); return [the allreduce of the sums]"
        }
        Kind::GatherLoop => {
            "in iteration i of size, rank i sleeps, then values[i] of every rank is gathered at rank 0; rank 0 returns the size x size blocks, iteration by iteration"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_refers_only_to_blocks_that_were_given() {
        for kind in Kind::ALL {
            for size in [2, 3, 8] {
                for rank in 0..size {
                    for e in outputs(kind, rank, size) {
                        for r in e.terms.iter().flatten() {
                            assert!(r.rank < size, "{kind:?}");
                            assert!(r.block < inputs(kind, r.rank, size), "{kind:?} {r:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn contracts_are_the_tutorials_exercises() {
        // Send/recv: only rank 1 returns, the block rank 0 was given.
        assert_eq!(outputs(Kind::SendRecv, 0, 2), vec![]);
        assert_eq!(
            outputs(Kind::SendRecv, 1, 2)[0].terms,
            vec![vec![BlockRef { rank: 0, block: 0 }]]
        );
        // Bcast + reduce at 3 ranks: root returns the broadcast and the reduction of
        // (broadcast + own) over ranks 0, 1, 2 (rank 0's own block is its second).
        let root = outputs(Kind::BcastReduce(Op::Sum), 0, 3);
        assert_eq!(root.len(), 2);
        let b = BlockRef { rank: 0, block: 0 };
        assert_eq!(
            root[1].terms,
            vec![
                vec![b, BlockRef { rank: 0, block: 1 }],
                vec![b, BlockRef { rank: 1, block: 0 }],
                vec![b, BlockRef { rank: 2, block: 0 }],
            ]
        );
        assert_eq!(outputs(Kind::BcastReduce(Op::Max), 2, 3).len(), 1);
        // Gather/scatter: rank 2 gets block 3 of the root's; the root also the gathered ones.
        assert_eq!(
            outputs(Kind::GatherScatter, 2, 3)[0].terms,
            vec![vec![BlockRef { rank: 0, block: 3 }]]
        );
        assert_eq!(outputs(Kind::GatherScatter, 0, 3).len(), 4);
        assert_eq!(inputs(Kind::GatherScatter, 0, 3), 4);
        assert_eq!(shift(Kind::Allreduce(Op::Sum)), 33);
        assert_eq!(min_sent(Kind::Alltoall, 0, 3, 10), 160);
        assert_eq!(min_sent(Kind::SendRecv, 1, 2, 10), 0);
        // The gather loop: block i * size + r of the root's is rank r's values[i].
        let root = outputs(Kind::GatherLoop, 0, 3);
        assert_eq!(root.len(), 9);
        assert_eq!(root[5].terms, vec![vec![BlockRef { rank: 2, block: 1 }]]);
        assert!(outputs(Kind::GatherLoop, 1, 3).is_empty());
    }
}
