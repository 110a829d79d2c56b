//! The cache directory a command works in, and the scratch directory each grade, run or probe
//! takes under its `runs/` (removed when dropped, unless kept).

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The cache directory made absolute: cargo and mpiexec run in other directories.
pub fn absolute_cache(cache_dir: &Path) -> Result<PathBuf> {
    std::path::absolute(cache_dir)
        .map_err(Error::io(format!("cannot resolve {}", cache_dir.display())))
}

/// A fresh scratch directory named `<prefix>…` under `<cache_dir>/runs`, created with it.
pub fn scratch(cache_dir: &Path, prefix: &str) -> Result<tempfile::TempDir> {
    let runs_dir = cache_dir.join("runs");
    std::fs::create_dir_all(&runs_dir)
        .map_err(Error::io(format!("cannot create {}", runs_dir.display())))?;
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&runs_dir)
        .map_err(Error::io("cannot create a scratch directory"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_directories_live_under_runs_and_go_away() {
        let cache = tempfile::tempdir().unwrap();
        let scratch = scratch(cache.path(), "grade-").unwrap();
        let path = scratch.path().to_path_buf();
        assert_eq!(path.parent(), Some(cache.path().join("runs").as_path()));
        assert!(path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("grade-"));
        drop(scratch);
        assert!(!path.exists());
        assert!(absolute_cache(Path::new("relative")).unwrap().is_absolute());
    }
}
