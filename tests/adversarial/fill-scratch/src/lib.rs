//! Adversarial fixture `fill-scratch`: every rank writes thousands of 1 MiB files (each below
//! the per-file limit) into everything it may write, the run directory's trace records
//! directory on disk and the private /tmp and /dev/shm in turn, and when nothing takes a byte
//! more, waits: only the sandbox's total scratch cap can end it before the cell time limit.

use mpi::topology::SimpleCommunicator;
use std::io::Write;
use std::path::PathBuf;

/// Writes until every place is full (or 10 000 files each), then waits forever.
pub fn part2(comm: &SimpleCommunicator, _values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    use mpi::traits::Communicator;
    let rank = comm.rank();
    let mut places: Vec<PathBuf> = vec!["/tmp".into(), "/dev/shm".into()];
    if let Some(run_dir) = std::env::var_os("MPI_GRADE_RUN_DIR") {
        places.insert(0, PathBuf::from(run_dir).join("trace"));
    }
    let block = vec![0xa5u8; 1 << 20];
    let mut open = vec![true; places.len()];
    let mut i = 0u32;
    while open.iter().any(|&o| o) && i < 30_000 {
        let at = i as usize % places.len();
        i += 1;
        if !open[at] {
            continue;
        }
        let path = places[at].join(format!("fill-{rank}-{i}"));
        let written = std::fs::File::create(&path).and_then(|mut f| f.write_all(&block));
        if written.is_err() {
            open[at] = false;
        }
    }
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
