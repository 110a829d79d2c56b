//! Files of a sandboxed grade: the submission's copy, and who owns what.

use crate::error::{Error, Result};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// The most a submission may hold (files and bytes), so that copying it cannot fill the disk.
const MAX_FILES: usize = 20_000;
const MAX_BYTES: u64 = 512 << 20;

/// Copies the crate at `from` into `to` (which must not exist): regular files and directories,
/// and symbolic links as links, never followed. Left out: the crate's own `target/` and `.git/`,
/// its `Cargo.toml` (the grader writes its own, see `intake`), `Cargo.lock`, rustup's
/// `rust-toolchain` files, and every `.cargo/` directory (cargo configuration) at any depth.
/// Files are readable by everyone and writable by no one but the grader.
///
/// Returns why the submission is rejected, one line per file: a link that leaves the crate
/// (absolute, `..` past the root, or through another link), that points nowhere or loops. Each
/// link is resolved by the kernel in the finished copy, which only the grader writes: links
/// that stay inside the crate are kept as links, the others are removed from the copy.
pub fn copy_submission(from: &Path, to: &Path) -> Result<Vec<String>> {
    let mut budget = (MAX_FILES, MAX_BYTES);
    let mut links = Vec::new();
    copy_dir(from, to, Path::new(""), &mut budget, &mut links)?;
    let root = to
        .canonicalize()
        .map_err(Error::io(format!("cannot resolve {}", to.display())))?;
    let mut rejected = Vec::new();
    for rel in links {
        let link = to.join(&rel);
        let why = match std::fs::canonicalize(&link) {
            Ok(target) if target.starts_with(&root) => continue,
            Ok(_) => "is a symbolic link that leaves the crate",
            Err(_) => "is a symbolic link that points nowhere (or loops)",
        };
        rejected.push(format!(
            "{} {why} (a submission may only hold its own files)",
            rel.display()
        ));
        std::fs::remove_file(&link)
            .map_err(Error::io(format!("cannot remove {}", link.display())))?;
    }
    rejected.sort();
    Ok(rejected)
}

/// Copies one file of a submission (a Python submission that is a single `.py` file) into the
/// new directory `to`. A link is refused, not followed.
pub fn copy_one_file(file: &Path, to: &Path) -> Result<Vec<String>> {
    std::fs::create_dir(to).map_err(Error::io(format!("cannot create {}", to.display())))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755)).map_err(Error::io(
        format!("cannot set the mode of {}", to.display()),
    ))?;
    let name = file.file_name().unwrap_or_default();
    let meta = std::fs::symlink_metadata(file)
        .map_err(Error::io(format!("cannot read {}", file.display())))?;
    if !meta.is_file() {
        return Ok(vec![format!(
            "{} is not a regular file (a submission may only hold its own files)",
            name.to_string_lossy()
        )]);
    }
    if meta.len() > MAX_BYTES {
        return Err(too_large(file));
    }
    copy_file(file, &to.join(name))?;
    Ok(Vec::new())
}

/// Names never copied: at the crate's root, and anywhere.
const SKIPPED_AT_ROOT: [&str; 6] = [
    "target",
    ".git",
    "Cargo.toml",
    "Cargo.lock",
    "rust-toolchain",
    "rust-toolchain.toml",
];
const SKIPPED_ANYWHERE: [&str; 1] = [".cargo"];

fn copy_dir(
    from: &Path,
    to: &Path,
    rel: &Path,
    budget: &mut (usize, u64),
    links: &mut Vec<std::path::PathBuf>,
) -> Result<()> {
    std::fs::create_dir(to).map_err(Error::io(format!("cannot create {}", to.display())))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755)).map_err(Error::io(
        format!("cannot set the mode of {}", to.display()),
    ))?;
    let entries =
        std::fs::read_dir(from).map_err(Error::io(format!("cannot read {}", from.display())))?;
    for entry in entries {
        let entry = entry.map_err(Error::io(format!("cannot read {}", from.display())))?;
        let name = entry.file_name();
        let top = rel.as_os_str().is_empty();
        if (top && SKIPPED_AT_ROOT.iter().any(|s| name == *s))
            || SKIPPED_ANYWHERE.iter().any(|s| name == *s)
        {
            continue;
        }
        let source = entry.path();
        let dest = to.join(&name);
        // Never follows a link: the type of the entry itself.
        let kind = entry
            .file_type()
            .map_err(Error::io(format!("cannot read {}", source.display())))?;
        budget.0 = budget.0.checked_sub(1).ok_or_else(|| too_large(from))?;
        if kind.is_dir() {
            copy_dir(&source, &dest, &rel.join(&name), budget, links)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&source)
                .map_err(Error::io(format!("cannot read {}", source.display())))?;
            std::os::unix::fs::symlink(&target, &dest)
                .map_err(Error::io(format!("cannot create {}", dest.display())))?;
            links.push(rel.join(&name));
        } else if kind.is_file() {
            let size = entry
                .metadata()
                .map_err(Error::io(format!("cannot read {}", source.display())))?
                .len();
            budget.1 = budget.1.checked_sub(size).ok_or_else(|| too_large(from))?;
            copy_file(&source, &dest)?;
        }
        // Sockets, fifos and devices are not part of a crate.
    }
    Ok(())
}

/// Copies the regular file `source` (opened without following a link: it may have been
/// replaced since it was listed) to the new file `dest`.
fn copy_file(source: &Path, dest: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let cannot = || Error::io(format!("cannot copy {}", source.display()));
    let mut input = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(source)
        .map_err(cannot())?;
    let meta = input.metadata().map_err(cannot())?;
    if !meta.is_file() {
        return Ok(());
    }
    let mode = if meta.mode() & 0o111 != 0 {
        0o755
    } else {
        0o644
    };
    let mut output = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(dest)
        .map_err(Error::io(format!("cannot create {}", dest.display())))?;
    std::io::copy(&mut (&mut input).take(meta.len()), &mut output).map_err(cannot())?;
    std::fs::set_permissions(dest, std::fs::Permissions::from_mode(mode)).map_err(Error::io(
        format!("cannot set the mode of {}", dest.display()),
    ))
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

/// Gives `path` (and, with `tree`, everything below it; links not followed) back to `grader`
/// where the sandbox user (`uid`) owns it.
pub fn reclaim(path: &Path, uid: u32, grader: (u32, u32), tree: bool) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if meta.uid() == uid {
        std::os::unix::fs::lchown(path, Some(grader.0), Some(grader.1)).map_err(Error::io(
            format!("cannot take {} back from the sandbox user", path.display()),
        ))?;
    }
    if tree && meta.is_dir() {
        let entries = std::fs::read_dir(path)
            .map_err(Error::io(format!("cannot read {}", path.display())))?;
        for entry in entries.flatten() {
            reclaim(&entry.path(), uid, grader, true)?;
        }
    }
    Ok(())
}

/// Files of a target directory a build writes even when nothing is rebuilt: the build gets its
/// own (empty locks; a copy of rustc's cached version information).
const OWN_FILES: [&str; 3] = [".cargo-lock", ".package-cache", ".rustc_info.json"];

/// What a farm holds of the trusted files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FarmFiles {
    /// None: an overlay shows the trusted ones.
    None,
    /// Hard links: the same inodes, still the grader's, read-only to the farm's owner.
    HardLinks,
    /// Copies (the owner is the grader's user: a link would give it the trusted inode).
    Copies,
}

/// Makes `into` (which must not exist) a farm of the target directory `trusted`: the same
/// directories, new and `owner`'s, and `files` of the trusted files. Cargo's lock files and
/// `.rustc_info.json` are `owner`'s own copies.
pub fn farm(trusted: &Path, into: &Path, owner: (u32, u32), files: FarmFiles) -> Result<()> {
    std::fs::create_dir(into).map_err(Error::io(format!("cannot create {}", into.display())))?;
    give(into, owner.0, owner.1)?;
    let entries = std::fs::read_dir(trusted)
        .map_err(Error::io(format!("cannot read {}", trusted.display())))?;
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        let (from, to) = (entry.path(), into.join(&name));
        if kind.is_dir() {
            farm(&from, &to, owner, files)?;
        } else if OWN_FILES.iter().any(|f| name == *f) {
            if name == ".rustc_info.json" {
                std::fs::copy(&from, &to)
                    .map_err(Error::io(format!("cannot copy {}", from.display())))?;
            } else {
                std::fs::File::create(&to)
                    .map_err(Error::io(format!("cannot create {}", to.display())))?;
            }
            give(&to, owner.0, owner.1)?;
        } else if kind.is_file() || kind.is_symlink() {
            match files {
                FarmFiles::None => {}
                FarmFiles::HardLinks => std::fs::hard_link(&from, &to)
                    .map_err(Error::io(format!("cannot link {}", from.display())))?,
                FarmFiles::Copies if kind.is_file() => {
                    std::fs::copy(&from, &to)
                        .map_err(Error::io(format!("cannot copy {}", from.display())))?;
                }
                FarmFiles::Copies => {
                    let target = std::fs::read_link(&from)
                        .map_err(Error::io(format!("cannot read {}", from.display())))?;
                    std::os::unix::fs::symlink(target, &to)
                        .map_err(Error::io(format!("cannot create {}", to.display())))?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_skips_target_and_configuration_and_keeps_inner_links() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("crate");
        std::fs::create_dir_all(from.join("src/.cargo")).unwrap();
        std::fs::create_dir_all(from.join(".cargo")).unwrap();
        std::fs::create_dir_all(from.join("target/release")).unwrap();
        std::fs::write(from.join("Cargo.toml"), "[package]\n").unwrap();
        std::fs::write(from.join("Cargo.lock"), "").unwrap();
        std::fs::write(from.join(".cargo/config.toml"), "").unwrap();
        std::fs::write(from.join("src/.cargo/config.toml"), "").unwrap();
        std::fs::write(from.join("src/lib.rs"), "").unwrap();
        std::fs::write(from.join("target/release/big"), "x").unwrap();
        std::os::unix::fs::symlink("lib.rs", from.join("src/inner.rs")).unwrap();
        let to = dir.path().join("copy");
        assert_eq!(copy_submission(&from, &to).unwrap(), Vec::<String>::new());
        assert!(to.join("src/lib.rs").is_file());
        for gone in ["target", "Cargo.toml", "Cargo.lock", ".cargo", "src/.cargo"] {
            assert!(!to.join(gone).exists(), "{gone}");
        }
        let link = std::fs::symlink_metadata(to.join("src/inner.rs")).unwrap();
        assert!(link.file_type().is_symlink());
        assert_eq!(
            std::fs::metadata(to.join("src/lib.rs")).unwrap().mode() & 0o777,
            0o644
        );
    }

    #[test]
    fn a_farm_has_new_directories_and_the_trusted_inodes() {
        let dir = tempfile::tempdir().unwrap();
        let trusted = dir.path().join("target");
        std::fs::create_dir_all(trusted.join("release/deps")).unwrap();
        std::fs::write(trusted.join("release/deps/libx.rlib"), "x").unwrap();
        std::fs::write(trusted.join("release/.cargo-lock"), "").unwrap();
        std::fs::write(trusted.join(".rustc_info.json"), "{}").unwrap();
        let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
        for (files, shared) in [
            (FarmFiles::HardLinks, Some(true)),
            (FarmFiles::Copies, Some(false)),
            (FarmFiles::None, None),
        ] {
            let farm_dir = dir.path().join(format!("{files:?}"));
            // SAFETY: plain queries of the test's own ids.
            let me = unsafe { (libc::geteuid(), libc::getegid()) };
            farm(&trusted, &farm_dir, me, files).unwrap();
            let rlib = farm_dir.join("release/deps/libx.rlib");
            match shared {
                Some(shared) => assert_eq!(
                    ino(&rlib) == ino(&trusted.join("release/deps/libx.rlib")),
                    shared
                ),
                None => assert!(!rlib.exists()),
            }
            assert!(farm_dir.join("release/deps").is_dir());
            let lock = farm_dir.join("release/.cargo-lock");
            assert_ne!(ino(&lock), ino(&trusted.join("release/.cargo-lock")));
            assert_eq!(
                std::fs::read(farm_dir.join(".rustc_info.json")).unwrap(),
                b"{}"
            );
        }
    }

    #[test]
    fn links_that_leave_the_crate_are_rejected_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("crate");
        std::fs::create_dir_all(from.join("src/deep")).unwrap();
        std::fs::write(from.join("src/lib.rs"), "").unwrap();
        std::fs::write(dir.path().join("outside"), "secret").unwrap();
        let links = [
            ("src/abs", "/etc/shadow"),
            ("src/up", "../../outside"),
            // Lexically inside, but `dot/..` is the crate's parent.
            ("src/dot", "."),
            ("src/via", "dot/../../outside"),
            ("src/loop", "loop"),
            ("src/nowhere", "missing"),
            ("src/deep/fine", "../lib.rs"),
        ];
        for (link, target) in links {
            std::os::unix::fs::symlink(target, from.join(link)).unwrap();
        }
        let to = dir.path().join("copy");
        let rejected = copy_submission(&from, &to).unwrap();
        let named: Vec<&str> = rejected
            .iter()
            .map(|r| r.split(' ').next().unwrap())
            .collect();
        assert_eq!(
            named,
            ["src/abs", "src/loop", "src/nowhere", "src/up", "src/via"],
            "{rejected:?}"
        );
        assert!(rejected[0].contains("leaves the crate"), "{rejected:?}");
        for (link, _) in &links[..2] {
            assert!(std::fs::symlink_metadata(to.join(link)).is_err(), "{link}");
        }
        assert!(to.join("src/deep/fine").is_file());
    }
}
