//! The library's own `MPI_Alltoall` behind the challenge's contract: the baseline that the
//! students' and the reference solutions are compared with.
//!
//! All three parts are the same collective. Part 1 fails by design: `MPI_Alltoall` never
//! deadlocks, and part 1 asks for an alltoall that does.

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use std::cell::RefCell;

thread_local! {
    /// The contiguous send and receive buffers MPI_Alltoall needs, kept from call to call: a
    /// program calling it repeatedly would keep them too. Fresh buffers on every call cost
    /// page faults while the library writes into them (10 times the collective itself at
    /// 4 ranks and 10^5 elements here), which is not what the baseline is meant to measure.
    static BUFFERS: RefCell<(Vec<i64>, Vec<i64>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

fn alltoall(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let len = values.first().map_or(0, Vec::len);
    BUFFERS.with_borrow_mut(|(send, recv)| {
        send.clear();
        for block in values {
            send.extend_from_slice(block);
        }
        recv.resize(send.len(), 0);
        comm.all_to_all_into(&send[..], &mut recv[..]);
        recv.chunks(len.max(1)).map(<[i64]>::to_vec).collect()
    })
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
