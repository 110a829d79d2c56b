//! Adversarial fixture `kill-parent`: rank 1 kills its parent and every ancestor it can, the grader included.

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// Rank 1 sends SIGKILL to each ancestor up to (not including) init.
pub fn part2(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    if comm.rank() == 1 {
        let mut pid = unsafe { libc::getppid() };
        while pid > 1 {
            let parent = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| s.rsplit(')').next().and_then(|r| r.split_whitespace().nth(1).and_then(|p| p.parse().ok())))
                .unwrap_or(0);
            // SAFETY: kill has no memory effects.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            pid = parent;
        }
        // Long enough for the grader to see its launcher gone in the middle of the cell.
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    exchange(comm, values)
}

/// A correct alltoall: pairwise exchanges, lower rank sends first.
fn exchange(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let (n, me) = (comm.size(), comm.rank());
    let mut received = vec![Vec::new(); n as usize];
    for round in 0..n {
        let partner = (round - me).rem_euclid(n);
        let peer = comm.process_at_rank(partner);
        let out = &values[partner as usize][..];
        received[partner as usize] = if partner == me {
            out.to_vec()
        } else if me < partner {
            peer.send(out);
            peer.receive_vec::<i64>().0
        } else {
            let got = peer.receive_vec::<i64>().0;
            peer.send(out);
            got
        };
    }
    received
}
