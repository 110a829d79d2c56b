//! Files of a sandboxed grade: the submission's copy, and who owns what.

use crate::error::{Error, Result};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// The most a submission may hold (files and bytes), so that copying it cannot fill the disk.
const MAX_FILES: usize = 20_000;
const MAX_BYTES: u64 = 512 << 20;

/// Copies the crate at `from` into `to` (which must not exist): regular files and directories,
/// symbolic links as links (never followed: a link to a file only root may read must not become
/// a readable copy), without the crate's own `target/` and `.git/`. Files are readable by
/// everyone and writable by no one but the grader.
pub fn copy_submission(from: &Path, to: &Path) -> Result<()> {
    let mut budget = (MAX_FILES, MAX_BYTES);
    copy_dir(from, to, true, &mut budget)
}

fn copy_dir(from: &Path, to: &Path, top: bool, budget: &mut (usize, u64)) -> Result<()> {
    std::fs::create_dir(to).map_err(Error::io(format!("cannot create {}", to.display())))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755)).map_err(Error::io(
        format!("cannot set the mode of {}", to.display()),
    ))?;
    let entries =
        std::fs::read_dir(from).map_err(Error::io(format!("cannot read {}", from.display())))?;
    for entry in entries {
        let entry = entry.map_err(Error::io(format!("cannot read {}", from.display())))?;
        let name = entry.file_name();
        if top && (name == "target" || name == ".git") {
            continue;
        }
        let source = entry.path();
        let dest = to.join(&name);
        let kind = entry
            .file_type()
            .map_err(Error::io(format!("cannot read {}", source.display())))?;
        budget.0 = budget.0.checked_sub(1).ok_or_else(|| too_large(from))?;
        if kind.is_dir() {
            copy_dir(&source, &dest, false, budget)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&source)
                .map_err(Error::io(format!("cannot read {}", source.display())))?;
            std::os::unix::fs::symlink(&target, &dest)
                .map_err(Error::io(format!("cannot create {}", dest.display())))?;
        } else if kind.is_file() {
            let size = entry
                .metadata()
                .map_err(Error::io(format!("cannot read {}", source.display())))?
                .len();
            budget.1 = budget.1.checked_sub(size).ok_or_else(|| too_large(from))?;
            std::fs::copy(&source, &dest).map_err(Error::io(format!(
                "cannot copy {} to {}",
                source.display(),
                dest.display()
            )))?;
            let mode = if is_executable(&source) { 0o755 } else { 0o644 };
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode)).map_err(
                Error::io(format!("cannot set the mode of {}", dest.display())),
            )?;
        }
        // Sockets, fifos and devices are not part of a crate.
    }
    Ok(())
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.mode() & 0o111 != 0)
}

fn too_large(path: &Path) -> Error {
    Error::NotACrate {
        path: path.to_path_buf(),
        message: format!(
            "the crate is too large to grade (more than {MAX_FILES} files or {} MiB, target/ and .git/ aside)",
            MAX_BYTES >> 20
        ),
    }
}

/// Gives `path` (not following a link) to `uid`/`gid`.
pub fn give(path: &Path, uid: u32, gid: u32) -> Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).map_err(Error::io(format!(
        "cannot give {} to the sandbox user",
        path.display()
    )))
}

/// Gives `root` and everything below it to `uid`/`gid` (entries already theirs are left alone,
/// so that doing it before every build costs a directory walk).
pub fn give_tree(root: &Path, uid: u32, gid: u32) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(root) else {
        return Ok(());
    };
    if meta.uid() != uid || meta.gid() != gid {
        give(root, uid, gid)?;
    }
    if meta.is_dir() {
        let entries = std::fs::read_dir(root)
            .map_err(Error::io(format!("cannot read {}", root.display())))?;
        for entry in entries.flatten() {
            give_tree(&entry.path(), uid, gid)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_skips_target_and_keeps_links_as_links() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("crate");
        std::fs::create_dir_all(from.join("src")).unwrap();
        std::fs::create_dir_all(from.join("target/release")).unwrap();
        std::fs::write(from.join("Cargo.toml"), "[package]\n").unwrap();
        std::fs::write(from.join("src/lib.rs"), "").unwrap();
        std::fs::write(from.join("target/release/big"), "x").unwrap();
        std::os::unix::fs::symlink("/etc/shadow", from.join("src/secret")).unwrap();
        let to = dir.path().join("copy");
        copy_submission(&from, &to).unwrap();
        assert!(to.join("src/lib.rs").is_file());
        assert!(!to.join("target").exists());
        let link = std::fs::symlink_metadata(to.join("src/secret")).unwrap();
        assert!(link.file_type().is_symlink());
        assert_eq!(
            std::fs::metadata(to.join("Cargo.toml")).unwrap().mode() & 0o777,
            0o644
        );
    }
}
