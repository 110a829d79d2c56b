//! `mpi-grade new`: the starter crate of a challenge, written out for a student.

use crate::error::{Error, Result};
use std::path::Path;

/// Writes the Python starter of challenge kind `kind` (`<kind>.py`, from `templates/python`)
/// into `dir`, which must not exist or be empty. Returns the file's name.
pub fn write_python_starter(kind: &str, dir: &Path) -> Result<String> {
    let file = format!("{kind}.py");
    let Some((_, contents)) = crate::build::embedded::tree("templates/python")
        .iter()
        .find(|(name, _)| *name == file)
    else {
        return Err(Error::Other(format!(
            "no Python starter for challenge kind `{kind}`"
        )));
    };
    refuse_non_empty(dir)?;
    std::fs::create_dir_all(dir).map_err(Error::io(format!("cannot create {}", dir.display())))?;
    let path = dir.join(&file);
    std::fs::write(&path, contents)
        .map_err(Error::io(format!("cannot write {}", path.display())))?;
    Ok(file)
}

fn refuse_non_empty(dir: &Path) -> Result<()> {
    if dir.exists() && dir.read_dir().map_or(true, |mut d| d.next().is_some()) {
        return Err(Error::Other(format!(
            "{} already exists and is not empty",
            dir.display()
        )));
    }
    Ok(())
}

/// The starter crate's `.gitignore`.
pub const GITIGNORE: &str = "/target/\n";

/// Writes the starter crate of challenge kind `kind` into `dir`, which must not exist or be
/// empty. The package is named after the directory.
pub fn write_starter(kind: &str, dir: &Path) -> Result<String> {
    let tree = format!("templates/{kind}");
    if crate::build::embedded::TREES
        .iter()
        .all(|(name, _)| *name != tree)
    {
        return Err(Error::Other(format!(
            "no starter crate for challenge kind `{kind}`"
        )));
    }
    refuse_non_empty(dir)?;
    crate::build::embedded::write_tree(&tree, dir)?;
    name_package(dir, kind)
}

/// The tree of the catalogue's starters (`templates/exercises/{rust,python}/<challenge>`).
const EXERCISES: &str = "templates/exercises";

/// Writes the starter of the catalogue's challenge `name` into `dir` (which must not exist or
/// be empty): a crate named after the directory, or with `python` the Python module
/// `solution.py`. The alltoall challenge's starters are the kind's (`templates/alltoall`).
/// Returns what was written (the package's name, or the file's).
pub fn write_exercise_starter(name: &str, dir: &Path, python: bool) -> Result<String> {
    if name == "alltoall" {
        return if python {
            write_python_starter(name, dir)
        } else {
            write_starter(name, dir)
        };
    }
    let prefix = format!("{}/{name}/", if python { "python" } else { "rust" });
    let files: Vec<(&str, &[u8])> = crate::build::embedded::tree(EXERCISES)
        .iter()
        .filter_map(|(rel, contents)| rel.strip_prefix(prefix.as_str()).map(|r| (r, *contents)))
        .collect();
    if files.is_empty() {
        return Err(Error::Other(format!(
            "no {} starter for challenge `{name}` (`mpi-grade list` names the challenges)",
            if python { "Python" } else { "Rust" }
        )));
    }
    refuse_non_empty(dir)?;
    for (rel, contents) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(Error::io(format!("cannot create {}", parent.display())))?;
        }
        std::fs::write(&path, contents)
            .map_err(Error::io(format!("cannot write {}", path.display())))?;
    }
    if python {
        return Ok("solution.py".to_string());
    }
    name_package(dir, name)
}

/// Renames the starter's package (`name = "<template>"`) after its directory and writes the
/// `.gitignore`; returns the package's name.
fn name_package(dir: &Path, template: &str) -> Result<String> {
    let name = package_name(dir);
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .map_err(Error::io(format!("cannot read {}", manifest.display())))?;
    let text = text.replacen(
        &format!("name = \"{template}\""),
        &format!("name = \"{name}\""),
        1,
    );
    std::fs::write(&manifest, text)
        .map_err(Error::io(format!("cannot write {}", manifest.display())))?;
    // cargo's build output stays out of the student's repository (and of their uploads).
    let ignore = dir.join(".gitignore");
    std::fs::write(&ignore, GITIGNORE)
        .map_err(Error::io(format!("cannot write {}", ignore.display())))?;
    Ok(name)
}

/// A valid package name from a directory name.
fn package_name(dir: &Path) -> String {
    let raw = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    match cleaned.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => cleaned,
        _ => format!("alltoall-{cleaned}")
            .trim_end_matches('-')
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_is_written_and_named_after_its_directory() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("My Solution");
        assert_eq!(write_starter("alltoall", &dir).unwrap(), "my-solution");
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"my-solution\""), "{manifest}");
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(lib.contains("pub fn part3"));
        let ignore = std::fs::read_to_string(dir.join(".gitignore")).unwrap();
        assert_eq!(ignore, "/target/\n");
        assert!(
            write_starter("alltoall", &dir).is_err(),
            "a non-empty directory is refused"
        );
        assert!(write_starter("ring", &root.path().join("x")).is_err());
    }

    #[test]
    fn every_catalogue_challenge_has_both_starters() {
        let config = crate::config::Config::bundled();
        let root = tempfile::tempdir().unwrap();
        for c in &config.challenges {
            let dir = root.path().join(&c.name);
            let name = write_exercise_starter(&c.name, &dir, false).unwrap();
            assert_eq!(name, c.name);
            let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
            let py_dir = root.path().join(format!("{}-py", c.name));
            let file = write_exercise_starter(&c.name, &py_dir, true).unwrap();
            let py = std::fs::read_to_string(py_dir.join(&file)).unwrap();
            for part in &c.parts {
                assert!(
                    lib.contains(&format!("pub fn {}(", part.function)),
                    "{}",
                    c.name
                );
                assert!(
                    py.contains(&format!("def {}(comm, values)", part.function)),
                    "{}",
                    c.name
                );
            }
        }
        assert!(write_exercise_starter("ring", &root.path().join("r"), false).is_err());
    }

    #[test]
    fn package_names_are_valid() {
        assert_eq!(package_name(Path::new("/a/123")), "alltoall-123");
        assert_eq!(package_name(Path::new("/a/ok_name")), "ok_name");
    }
}
