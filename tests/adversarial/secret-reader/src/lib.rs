//! Adversarial fixture `secret-reader`: reads what a rank should never see: every process's
//! command line and environment in `/proc` (the grader's `--config` path, its secrets), files
//! the test planted outside the scratch area (world-readable, at fixed places, next to the
//! grader's cache and in its memo of builds), the grader's home; then panics with everything
//! it found. The report must carry none of it.

use mpi::topology::SimpleCommunicator;
use std::path::{Path, PathBuf};

const PLANTED: &str = "mpi-grade-adversarial-planted";

fn interesting(text: &str) -> bool {
    text.contains("--config")
        || text.contains("secret-")
        || text.contains("tok-")
        || text.contains("ghp-")
        || text.contains("aws-")
        || text.contains("sec-")
        || text.contains("planted-")
}

fn look(found: &mut Vec<String>, path: &Path) {
    if let Ok(bytes) = std::fs::read(path) {
        let text = String::from_utf8_lossy(&bytes).replace('\0', " ");
        if interesting(&text) {
            found.push(format!("{}: {}", path.display(), text.trim()));
        }
    }
}

pub fn part2(_comm: &SimpleCommunicator, _values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let mut found = Vec::new();
    let mut processes = 0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            processes += 1;
            look(&mut found, &entry.path().join("cmdline"));
            look(&mut found, &entry.path().join("environ"));
        }
    }
    let mut places: Vec<PathBuf> = ["/tmp", "/var/tmp", "/", "/root", "/home", "/run", "/opt"]
        .iter()
        .map(|d| Path::new(d).join(PLANTED))
        .collect();
    // Next to the grader's cache: every directory above this executable.
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1) {
            places.push(dir.join(PLANTED));
            places.push(dir.join("memo").join(PLANTED));
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if entry.file_name().to_string_lossy().contains("secret-") {
                    places.push(entry.path().join("challenges.toml"));
                }
            }
        }
    }
    for place in &places {
        look(&mut found, place);
    }
    panic!("secret-reader saw {processes} processes; found: {found:?}");
}
