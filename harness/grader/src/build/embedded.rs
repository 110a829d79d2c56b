//! Source trees compiled into the grader (see `build.rs`) and written out when needed.

use crate::error::{Error, Result};
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The files of the embedded tree `name` (`"support/runtime"`, `"templates/alltoall"`).
pub fn tree(name: &str) -> &'static [(&'static str, &'static [u8])] {
    TREES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, files)| *files)
        .unwrap_or_else(|| panic!("no embedded tree {name}"))
}

/// Writes tree `name` under `dest`, leaving files that already have the right contents alone
/// (so that cargo does not see them as changed and rebuild).
pub fn write_tree(name: &str, dest: &Path) -> Result<()> {
    for (rel, contents) in tree(name) {
        let path = dest.join(rel);
        if std::fs::read(&path).is_ok_and(|old| old == *contents) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(Error::io(format!("cannot create {}", parent.display())))?;
        }
        std::fs::write(&path, contents)
            .map_err(Error::io(format!("cannot write {}", path.display())))?;
    }
    Ok(())
}

/// [`write_tree`], then removes every file under `dest` that the tree does not have: a cache
/// written by another version of the grader (a `build.rs` its tracer had, say) must not leave
/// a file that changes what cargo builds.
pub fn write_tree_exact(name: &str, dest: &Path) -> Result<()> {
    write_tree(name, dest)?;
    let files: std::collections::BTreeSet<&str> = tree(name).iter().map(|(rel, _)| *rel).collect();
    prune(dest, dest, &files)
}

fn prune(root: &Path, dir: &Path, keep: &std::collections::BTreeSet<&str>) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            prune(root, &path, keep)?;
        } else if let Some(rel) = path.strip_prefix(root).ok().and_then(Path::to_str) {
            if !keep.contains(rel) {
                std::fs::remove_file(&path)
                    .map_err(Error::io(format!("cannot remove {}", path.display())))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exact_tree_loses_the_files_of_another_version() {
        let dir = tempfile::tempdir().unwrap();
        write_tree("support/protocol", dir.path()).unwrap();
        std::fs::write(dir.path().join("build.rs"), "fn main() {}").unwrap();
        std::fs::write(dir.path().join("src/old.rs"), "").unwrap();
        write_tree_exact("support/protocol", dir.path()).unwrap();
        assert!(!dir.path().join("build.rs").exists());
        assert!(!dir.path().join("src/old.rs").exists());
        assert!(dir.path().join("src/lib.rs").exists());
    }

    #[test]
    fn support_trees_are_complete_crates() {
        for name in [
            "support/protocol",
            "support/runtime",
            "support/tracer",
            "templates/alltoall",
        ] {
            let files: Vec<&str> = tree(name).iter().map(|(p, _)| *p).collect();
            assert!(files.contains(&"Cargo.toml"), "{name}: {files:?}");
            assert!(files.contains(&"src/lib.rs"), "{name}: {files:?}");
            assert!(
                files
                    .iter()
                    .all(|f| f == &"Cargo.toml" || f == &"build.rs" || f.starts_with("src/")),
                "{name}: {files:?}"
            );
        }
    }

    #[test]
    fn writing_twice_leaves_files_untouched() {
        let dir = tempfile::tempdir().unwrap();
        write_tree("support/protocol", dir.path()).unwrap();
        let lib = dir.path().join("src/lib.rs");
        let before = std::fs::metadata(&lib).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_tree("support/protocol", dir.path()).unwrap();
        assert_eq!(std::fs::metadata(&lib).unwrap().modified().unwrap(), before);
    }
}
