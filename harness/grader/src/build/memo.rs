//! A memo of driver builds: the driver that a submission's bytes built into, kept under a key
//! over everything the build read that can change between grades, so that a grade of the same
//! bytes (a re-grade after the challenge's sizes changed, CI run again, a student grading the
//! same code twice) copies the driver instead of running cargo three times. The tracer library
//! is kept the same way, under a key without a submission.
//!
//! ```text
//! <cache>/memo/<implementation>/<key>/driver       the driver (or tracer) as the build left it
//!                                   /entry.json   what else the build gave (`compile.rs`:
//!                                                 the parts that could not be built in, the
//!                                                 directory it was built from)
//! ```
//!
//! The key (SHA-256) covers: this memo's format, the grader's version and every embedded source
//! tree (runtime, tracer, protocol), the generated driver's manifest and `main.rs` (with the
//! submission's directory, which is new for every grade, left out), the workspace manifest,
//! the MPI implementation and the environment its builds get, the compiler (`rustc -vV`),
//! whether the build is sandboxed and its limits, the challenge kind and functions, and every
//! file of the submission's copy (path, kind, bytes: the grader's rewritten manifest included).
//! `Cargo.lock` is left out: it names every driver built so far, so it differs at every grade;
//! the submission's dependencies are in its manifest, and cargo resolves them to the same
//! locked versions.
//!
//! Only builds that succeeded are kept. The memo lives beside the workspace, not in it: the
//! sandboxed build sees the workspace (through its overlay) and never the rest of the cache, so
//! no build can read another submission's driver. `MPI_GRADE_BUILD_MEMO=0` turns it off.

use crate::error::{Error, Result};
use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Bumped when what an entry holds, or what the key covers, changes.
const FORMAT: &str = "mpi-grade build memo 1";
/// Entries kept per implementation; the least recently used go first.
const MAX_ENTRIES: usize = 64;
/// A submission whose copy is larger than this is built every time (hashing it would cost
/// more than it saves, and the memo would hold too much).
const MAX_TREE_BYTES: u64 = 64 << 20;
/// Turns the memo off when set to `0`.
pub const ENV_MEMO: &str = "MPI_GRADE_BUILD_MEMO";

/// The memo of one implementation's driver builds.
pub struct Memo {
    dir: PathBuf,
}

/// A build's key, as hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

/// Feeds the parts of a key, each length-prefixed so that no two sequences of parts collide.
pub struct KeyBuilder(Sha256);

impl KeyBuilder {
    /// A key of this memo's format.
    pub fn new() -> KeyBuilder {
        let mut b = KeyBuilder(Sha256::new());
        b.part(FORMAT.as_bytes());
        b.part(env!("CARGO_PKG_VERSION").as_bytes());
        b
    }

    /// One part of the key.
    pub fn part(&mut self, bytes: &[u8]) -> &mut KeyBuilder {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    /// Every file of an embedded tree.
    pub fn tree(&mut self, name: &str) -> &mut KeyBuilder {
        self.part(name.as_bytes());
        for (rel, contents) in super::embedded::tree(name) {
            self.part(rel.as_bytes()).part(contents);
        }
        self
    }

    /// Every entry under `dir`, in name order: its path, its kind, and a file's bytes or a
    /// link's target. `None` when the tree cannot be read whole or is over
    /// [`MAX_TREE_BYTES`].
    pub fn dir(&mut self, dir: &Path) -> Option<&mut KeyBuilder> {
        let mut total = 0u64;
        self.walk(dir, dir, &mut total).then_some(self)
    }

    fn walk(&mut self, root: &Path, dir: &Path, total: &mut u64) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        let mut paths: Vec<PathBuf> = match entries.map(|e| e.map(|e| e.path())).collect() {
            Ok(paths) => paths,
            Err(_) => return false,
        };
        paths.sort();
        for path in paths {
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                return false;
            };
            let rel = path.strip_prefix(root).unwrap_or(&path);
            self.part(rel.as_os_str().as_encoded_bytes());
            let kind = meta.file_type();
            if kind.is_symlink() {
                let Ok(target) = std::fs::read_link(&path) else {
                    return false;
                };
                self.part(b"link")
                    .part(target.as_os_str().as_encoded_bytes());
            } else if kind.is_dir() {
                self.part(b"dir");
                if !self.walk(root, &path, total) {
                    return false;
                }
            } else if kind.is_file() {
                *total += meta.len();
                if *total > MAX_TREE_BYTES {
                    return false;
                }
                let Ok(bytes) = std::fs::read(&path) else {
                    return false;
                };
                self.part(b"file").part(&bytes);
            } else {
                // A fifo or a device in a submission: never memoized.
                return false;
            }
        }
        self.part(b"end");
        true
    }

    /// The key.
    pub fn finish(&self) -> Key {
        Key(format!("{:x}", self.0.clone().finalize()))
    }
}

impl Default for KeyBuilder {
    fn default() -> KeyBuilder {
        KeyBuilder::new()
    }
}

impl Memo {
    /// The memo under `<cache>/memo/<implementation>`, unless [`ENV_MEMO`] is `0`.
    pub fn new(cache_dir: &Path, implementation: &str) -> Option<Memo> {
        if std::env::var(ENV_MEMO).as_deref() == Ok("0") {
            return None;
        }
        Some(Memo {
            dir: cache_dir.join("memo").join(implementation),
        })
    }

    /// The entry under `key`, its driver copied to `exe`; `None` when there is none or it
    /// cannot be read whole (then the build runs, as without a memo).
    pub fn get<E: DeserializeOwned>(&self, key: &Key, exe: &Path) -> Option<E> {
        let dir = self.dir.join(&key.0);
        let text = std::fs::read_to_string(dir.join("entry.json")).ok()?;
        let entry: E = serde_json::from_str(&text).ok()?;
        std::fs::copy(dir.join("driver"), exe).ok()?;
        // Least recently used goes first when the memo is pruned.
        if let Ok(file) = std::fs::File::open(dir.join("entry.json")) {
            file.set_modified(std::time::SystemTime::now()).ok();
        }
        Some(entry)
    }

    /// Keeps `exe` and `entry` under `key`: written aside, then renamed into place, so that
    /// a grade interrupted halfway, or another grade keeping the same key at once, leaves
    /// no half entry. Then prunes the memo to [`MAX_ENTRIES`].
    pub fn put(&self, key: &Key, exe: &Path, entry: &impl Serialize) -> Result<()> {
        std::fs::create_dir_all(&self.dir)
            .map_err(Error::io(format!("cannot create {}", self.dir.display())))?;
        let aside = tempfile::Builder::new()
            .prefix(".new-")
            .tempdir_in(&self.dir)
            .map_err(Error::io(format!("cannot write in {}", self.dir.display())))?;
        std::fs::copy(exe, aside.path().join("driver"))
            .map_err(Error::io(format!("cannot copy {}", exe.display())))?;
        let text = serde_json::to_string(entry).expect("an entry serialises");
        std::fs::write(aside.path().join("entry.json"), text)
            .map_err(Error::io("cannot write a memo entry"))?;
        let aside = aside.keep();
        if std::fs::rename(&aside, self.dir.join(&key.0)).is_err() {
            // Another grade kept the same build first.
            std::fs::remove_dir_all(&aside).ok();
        }
        self.prune();
        Ok(())
    }

    /// Removes the least recently used entries beyond [`MAX_ENTRIES`].
    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut kept: Vec<(std::time::SystemTime, PathBuf)> = entries
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| {
                let used = std::fs::metadata(e.path().join("entry.json"))
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                (used, e.path())
            })
            .collect();
        if kept.len() <= MAX_ENTRIES {
            return;
        }
        kept.sort();
        for (_, path) in &kept[..kept.len() - MAX_ENTRIES] {
            std::fs::remove_dir_all(path).ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Entry {
        included: Vec<String>,
        source_dir: PathBuf,
    }

    fn key_of(dir: &Path) -> Key {
        KeyBuilder::new().dir(dir).expect("readable").finish()
    }

    #[test]
    fn the_key_follows_every_byte_path_and_kind_of_the_tree() {
        let tree = tempfile::tempdir().unwrap();
        std::fs::create_dir(tree.path().join("src")).unwrap();
        std::fs::write(tree.path().join("src/lib.rs"), "pub fn part1() {}").unwrap();
        let first = key_of(tree.path());
        assert_eq!(key_of(tree.path()), first, "the same bytes, the same key");

        std::fs::write(tree.path().join("src/lib.rs"), "pub fn part1() {} ").unwrap();
        let edited = key_of(tree.path());
        assert_ne!(edited, first);

        std::fs::rename(
            tree.path().join("src/lib.rs"),
            tree.path().join("src/main.rs"),
        )
        .unwrap();
        assert_ne!(key_of(tree.path()), edited, "a file renamed");
        std::fs::rename(
            tree.path().join("src/main.rs"),
            tree.path().join("src/lib.rs"),
        )
        .unwrap();
        assert_eq!(key_of(tree.path()), edited);

        std::os::unix::fs::symlink("lib.rs", tree.path().join("src/other.rs")).unwrap();
        assert_ne!(key_of(tree.path()), edited, "a link added");

        // The same tree elsewhere has the same key: the directory is not part of it.
        let copy = tempfile::tempdir().unwrap();
        std::fs::create_dir(copy.path().join("src")).unwrap();
        std::fs::write(copy.path().join("src/lib.rs"), "pub fn part1() {} ").unwrap();
        assert_eq!(key_of(copy.path()), edited);

        // Parts are length-prefixed: "ab" + "c" is not "a" + "bc".
        let mut a = KeyBuilder::new();
        a.part(b"ab").part(b"c");
        let mut b = KeyBuilder::new();
        b.part(b"a").part(b"bc");
        assert_ne!(a.finish(), b.finish());
    }

    #[test]
    fn an_entry_comes_back_with_its_driver_and_the_memo_keeps_the_recently_used() {
        let cache = tempfile::tempdir().unwrap();
        let memo = Memo {
            dir: cache.path().join("memo/openmpi"),
        };
        let work = tempfile::tempdir().unwrap();
        let exe = work.path().join("driver");
        std::fs::write(&exe, b"\x7fELF driver").unwrap();
        let entry = Entry {
            included: vec!["part1".into(), "part3".into()],
            source_dir: "/cache/runs/grade-x/submission".into(),
        };
        let key = KeyBuilder::new().part(b"one").finish();
        assert_eq!(memo.get::<Entry>(&key, &work.path().join("out")), None);
        memo.put(&key, &exe, &entry).unwrap();
        let out = work.path().join("out");
        assert_eq!(memo.get(&key, &out), Some(entry.clone()));
        assert_eq!(std::fs::read(&out).unwrap(), b"\x7fELF driver");
        // Kept twice: the first stays, nothing is left aside.
        memo.put(&key, &exe, &entry).unwrap();
        let names: Vec<String> = std::fs::read_dir(&memo.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, std::slice::from_ref(&key.0));

        // A torn entry is a miss, not an error.
        std::fs::write(memo.dir.join(&key.0).join("entry.json"), "{").unwrap();
        assert_eq!(memo.get::<Entry>(&key, &out), None);

        // Beyond MAX_ENTRIES the least recently used go.
        for i in 0..MAX_ENTRIES + 3 {
            let k = KeyBuilder::new().part(format!("{i}").as_bytes()).finish();
            memo.put(&k, &exe, &entry).unwrap();
        }
        assert_eq!(std::fs::read_dir(&memo.dir).unwrap().count(), MAX_ENTRIES);
    }
}
