//! Adversarial fixture `huge-panic`: rank 0 panics with a 10 MB message (after a useful start
//! that the report must keep), every rank prints a few hundred KiB first.

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// Rank 0 panics with ten megabytes of message.
pub fn part2(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let filler = "0123456789abcdef".repeat(10 << 20 >> 4);
    println!("{}", &filler[..256 << 10]);
    if comm.rank() == 0 {
        panic!("huge-panic fixture: the useful start of the message; then {filler} and its end");
    }
    comm.barrier();
    values.to_vec()
}
