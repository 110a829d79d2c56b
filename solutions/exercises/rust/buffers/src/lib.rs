//! The `buffers` exercise of mpi-grade, from "An Introduction to MPI in Python - Part 1",
//! section "mpi4py Idiosyncracies".
//!
//! The buffer variants: each part is an earlier exercise, received into buffers of the
//! right type and size (in Python: NumPy arrays with the upper-case calls, `Send`, `Bcast`, ...).
//!
//! * `send_recv_buffers`: as `send-recv`, rank 1 receives into a buffer (`receive_into`).
//! * `bcast_reduce_max`: as `bcast-reduce`, with `SystemOperation::max()`.
//! * `gather_scatter_buffers`: as `gather-scatter`.
//! * `allreduce_max`: as `allreduce`, with `SystemOperation::max()`.
//!
//! Check your work with `mpi-grade check --challenge buffers` in this folder. You do not write a
//! `main`: the grader calls these functions from its own.

use mpi::topology::SimpleCommunicator;
#[allow(unused_imports)]
use mpi::traits::*;

/// Send, and receive into a buffer of the right length.
pub fn send_recv_buffers(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    match comm.rank() {
        0 => {
            comm.process_at_rank(1).send(&values[0][..]);
            Vec::new()
        }
        1 => {
            let mut received = vec![0i64; values[0].len()];
            comm.process_at_rank(0).receive_into(&mut received[..]);
            vec![received]
        }
        _ => Vec::new(),
    }
}

/// Broadcast, then reduce with the maximum to rank 0.
pub fn bcast_reduce_max(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let rank = comm.rank();
    let root = comm.process_at_rank(0);
    // Rank 0's values[0] is the block to broadcast; every rank's last block is its own.
    let own = values.last().expect("a block");
    let mut broadcast = if rank == 0 { values[0].clone() } else { vec![0; own.len()] };
    root.broadcast_into(&mut broadcast[..]);
    let sum: Vec<i64> = broadcast.iter().zip(own).map(|(b, o)| b + o).collect();
    if rank == 0 {
        let mut reduced = vec![0; sum.len()];
        root.reduce_into_root(&sum[..], &mut reduced[..], mpi::collective::SystemOperation::max());
        vec![broadcast, reduced]
    } else {
        root.reduce_into(&sum[..], mpi::collective::SystemOperation::max());
        vec![broadcast]
    }
}

/// Gather, then scatter, of buffers.
pub fn gather_scatter_buffers(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let root = comm.process_at_rank(0);
    let own = &values[0];
    let mut mine = vec![0; own.len()];
    if comm.rank() == 0 {
        let mut gathered = vec![0; own.len() * comm.size() as usize];
        root.gather_into_root(&own[..], &mut gathered[..]);
        let blocks: Vec<i64> = values[1..].concat();
        root.scatter_into_root(&blocks[..], &mut mine[..]);
        let mut out = vec![mine];
        out.extend(gathered.chunks(own.len()).map(<[i64]>::to_vec));
        out
    } else {
        root.gather_into(&own[..]);
        root.scatter_into(&mut mine[..]);
        vec![mine]
    }
}

/// Broadcast, then allreduce with the maximum.
pub fn allreduce_max(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let rank = comm.rank();
    let root = comm.process_at_rank(0);
    // Rank 0's values[0] is the block to broadcast; every rank's last block is its own.
    let own = values.last().expect("a block");
    let mut broadcast = if rank == 0 { values[0].clone() } else { vec![0; own.len()] };
    root.broadcast_into(&mut broadcast[..]);
    let sum: Vec<i64> = broadcast.iter().zip(own).map(|(b, o)| b + o).collect();
    let mut reduced = vec![0; sum.len()];
    comm.all_reduce_into(&sum[..], &mut reduced[..], mpi::collective::SystemOperation::max());
    vec![reduced]
}
