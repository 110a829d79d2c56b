//! Writes outside the build's output directory.
fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    for path in [
        "/tmp/mpi-grade-adversarial-build-escape".to_string(),
        format!("{manifest}/build-escape"),
        format!("{manifest}/../mpi-grade-adversarial-build-escape"),
        format!("{}/mpi-grade-adversarial-build-escape", std::env::var("CARGO_HOME").unwrap_or_default()),
        format!("{}/mpi-grade-adversarial-build-escape", std::env::var("HOME").unwrap_or_default()),
    ] {
        let _ = std::fs::write(&path, "the build was here\n");
    }
    // The workspace the grader builds in (above the target directory).
    if let Ok(out) = std::env::var("OUT_DIR") {
        let mut dir = std::path::PathBuf::from(out);
        while dir.file_name().is_some_and(|n| n != "target") {
            dir.pop();
        }
        dir.pop();
        let _ = std::fs::write(dir.join("mpi-grade-adversarial-build-escape"), "x");
    }
}
