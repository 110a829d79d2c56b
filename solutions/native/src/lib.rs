//! The library's own `MPI_Alltoall` behind the challenge's contract: the baseline that the
//! students' and the reference solutions are compared with.
//!
//! All three parts are the same collective. Part 1 fails by design: `MPI_Alltoall` never
//! deadlocks, and part 1 asks for an alltoall that does.

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

fn alltoall(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let len = values.first().map_or(0, Vec::len);
    let send: Vec<i64> = values.concat();
    let mut recv = vec![0i64; send.len()];
    comm.all_to_all_into(&send[..], &mut recv[..]);
    recv.chunks(len.max(1)).map(<[i64]>::to_vec).collect()
}

/// `MPI_Alltoall`.
pub fn part1(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    alltoall(comm, values)
}

/// `MPI_Alltoall`.
pub fn part2(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    alltoall(comm, values)
}

/// `MPI_Alltoall`.
pub fn part3(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    alltoall(comm, values)
}
