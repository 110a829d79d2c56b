//! Adversarial fixture `fork-loop`: rank 0 forks until the kernel refuses, and leaves every child
//! behind; rank 1 leaves a process that escapes: its own session, no environment, orphaned.

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// Forks until fork fails (each child sleeps forever), then exchanges correctly. Without a
/// process limit it stops at 100 000 and returns a wrong result.
pub fn part2(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let mut forked = 0;
    if comm.rank() == 1 {
        static ESCAPE: std::sync::Once = std::sync::Once::new();
        ESCAPE.call_once(|| {
            let _ = std::process::Command::new("/bin/sh")
                .args(["-c", "setsid env -i /bin/sleep 3607 </dev/null >/dev/null 2>&1 &"])
                .status();
        });
    }
    if comm.rank() == 0 {
        while forked < 100_000 {
            // SAFETY: the child only calls async-signal-safe functions (pause, _exit).
            match unsafe { libc::fork() } {
                0 => loop {
                    unsafe { libc::pause() };
                },
                -1 => break,
                _ => forked += 1,
            }
        }
    }
    let mut result = exchange(comm, values);
    if forked >= 100_000 {
        result.clear();
    }
    result
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
