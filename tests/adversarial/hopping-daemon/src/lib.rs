//! Adversarial fixture `hopping-daemon`: rank 0 leaves a daemon behind, in a session of its own,
//! that changes its pid on every SIGTERM (it forks and the old one exits) and keeps writing into
//! the host's `/run/lock`, `/var/tmp` and `/dev/shm`, and attacks every process started after it
//! (the next grade's ranks in a batch, if it survived). Then the rank exchanges correctly. Nothing
//! of it may survive the launch, and nothing may appear on the host.

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

const NAME: &str = "mpi-grade-adversarial-escape";

extern "C" fn hop(_: libc::c_int) {
    // SAFETY: fork and _exit are async-signal-safe.
    unsafe {
        if libc::fork() > 0 {
            libc::_exit(0);
        }
    }
}

/// What the daemon tries on every process started after it, outside its own session (the next
/// grade's ranks, were it to survive): write their memory, append to the event files they
/// hold open.
fn attack(first: i32, session: i32) {
    use std::io::Write;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        // SAFETY: getsid has no preconditions.
        if pid <= first || unsafe { libc::getsid(pid) } == session {
            continue;
        }
        if let Ok(mut mem) = std::fs::OpenOptions::new().write(true).open(entry.path().join("mem")) {
            let _ = mem.write_all(b"x");
        }
        for fd in std::fs::read_dir(entry.path().join("fd")).into_iter().flatten().flatten() {
            let target = std::fs::read_link(fd.path()).unwrap_or_default();
            if target.to_string_lossy().contains("/ranks/") {
                if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(fd.path()) {
                    let _ = f.write_all(b"{\"event\":\"done\",\"rank\":0,\"cell\":0}\n");
                }
            }
        }
    }
}

fn daemon() -> ! {
    let first = std::process::id() as i32;
    // SAFETY: setsid and signal only change this process.
    let session = unsafe { libc::setsid() };
    // SAFETY: as above.
    unsafe {
        libc::signal(libc::SIGTERM, hop as *const () as libc::sighandler_t);
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGINT, libc::SIG_IGN);
    }
    loop {
        for dir in ["/run/lock", "/var/tmp", "/dev/shm", "/tmp"] {
            let _ = std::fs::write(format!("{dir}/{NAME}"), "the daemon was here");
        }
        attack(first, session);
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

pub fn part2(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    if comm.rank() == 0 {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: the child runs only the daemon loop (no lock of the parent's is needed:
            // std's fs and sleep do not take locks another thread may hold).
            if unsafe { libc::fork() } == 0 {
                daemon();
            }
        });
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
