//! The `bcast-reduce` exercise of mpi-grade, from "An Introduction to MPI in Python - Part 1",
//! section "bcast and reduce".
//!
//! Broadcast, then reduce to rank 0.
//!
//! Rank 0 is given two blocks: `values[0]`, the block to broadcast, and `values[1]`, its own.
//! Every other rank is given its own block, `values[0]`. Broadcast rank 0's `values[0]` (the
//! tutorial's `val`), add it to your own block element by element (the tutorial's `rank + val`),
//! and reduce those sums to rank 0 with a sum. Every rank returns `vec![broadcast]`; rank 0
//! returns `vec![broadcast, reduction]`.
//!
//! `dict_reduce` is the tutorial's custom reduction: MPI's sum does not work on dicts (maps). Hold
//! each rank's sum in a map `{"v": sum}` and combine two maps with [`combine`] (the tutorial's
//! `dict_reduce`), rank by rank, at rank 0: the result is the same sum.
//!
//! Check your work with `mpi-grade check --challenge bcast-reduce` in this folder. You do not write a
//! `main`: the grader calls these functions from its own.

use mpi::topology::SimpleCommunicator;
#[allow(unused_imports)]
use mpi::traits::*;

/// The tutorial's `dict_reduce`, for maps: `{"v": a["v"] + b["v"]}`.
pub fn combine(a: &Map, b: &Map) -> Map {
    let v = a["v"].iter().zip(&b["v"]).map(|(x, y)| x + y).collect();
    Map::from([("v", v)])
}

/// A rank's value as a map, as the tutorial's dicts.
pub type Map = std::collections::BTreeMap<&'static str, Vec<i64>>;

/// `broadcast_into` from rank 0, then `reduce_into_root` with `SystemOperation::sum()`.
pub fn bcast_reduce(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let rank = comm.rank();
    let root = comm.process_at_rank(0);
    // Rank 0's values[0] is the block to broadcast; every rank's last block is its own.
    let own = values.last().expect("a block");
    let mut broadcast = if rank == 0 { values[0].clone() } else { vec![0; own.len()] };
    root.broadcast_into(&mut broadcast[..]);
    let sum: Vec<i64> = broadcast.iter().zip(own).map(|(b, o)| b + o).collect();
    if rank == 0 {
        let mut reduced = vec![0; sum.len()];
        root.reduce_into_root(&sum[..], &mut reduced[..], mpi::collective::SystemOperation::sum());
        vec![broadcast, reduced]
    } else {
        root.reduce_into(&sum[..], mpi::collective::SystemOperation::sum());
        vec![broadcast]
    }
}

/// The same, reducing maps `{"v": sum}` with [`combine`] at rank 0.
pub fn dict_reduce(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let rank = comm.rank();
    let root = comm.process_at_rank(0);
    // Rank 0's values[0] is the block to broadcast; every rank's last block is its own.
    let own = values.last().expect("a block");
    let mut broadcast = if rank == 0 { values[0].clone() } else { vec![0; own.len()] };
    root.broadcast_into(&mut broadcast[..]);
    let sum: Vec<i64> = broadcast.iter().zip(own).map(|(b, o)| b + o).collect();
    let mine = Map::from([("v", sum)]);
    if rank == 0 {
        let mut total = mine;
        for source in 1..comm.size() {
            let (v, _) = comm.process_at_rank(source).receive_vec::<i64>();
            total = combine(&total, &Map::from([("v", v)]));
        }
        vec![broadcast, total["v"].clone()]
    } else {
        root.send(&mine["v"][..]);
        vec![broadcast]
    }
}
