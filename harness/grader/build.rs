//! Embeds the sources the grader writes out at run time: the rank runtime, the protocol and the
//! tracer (built per MPI implementation in the grader's cache, next to each submission), the
//! starter templates (`mpi-grade new`), and the reference solutions (the baselines of
//! comparisons and the probe). An installed `mpi-grade` needs no checkout.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// (name in the cache, directory relative to this crate)
const TREES: &[(&str, &str)] = &[
    ("support/protocol", "../protocol"),
    ("support/runtime", "../runtime"),
    ("support/tracer", "../tracer"),
    ("templates/alltoall", "../../templates/alltoall"),
    ("solutions/reference", "../../solutions/reference"),
    ("solutions/native", "../../solutions/native"),
    ("support/python", "../python"),
    ("templates/python", "../../templates/python"),
    ("templates/exercises", "../../templates/exercises"),
    ("solutions/python", "../../solutions/python"),
];

fn main() {
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let mut out = String::from("/// The files of one tree: (relative path, contents).\n");
    out.push_str("pub type Files = &'static [(&'static str, &'static [u8])];\n");
    out.push_str("/// Embedded source trees: (name, [(relative path, contents)]).\n");
    out.push_str("pub static TREES: &[(&str, Files)] = &[\n");
    for (name, dir) in TREES {
        let root = here
            .join(dir)
            .canonicalize()
            .unwrap_or_else(|e| panic!("{dir}: {e}"));
        println!("cargo:rerun-if-changed={}", root.display());
        let mut files = Vec::new();
        collect(&root, &root, &mut files);
        files.sort();
        writeln!(out, "    ({name:?}, &[").unwrap();
        for rel in files {
            let abs = root.join(&rel);
            writeln!(
                out,
                "        ({:?}, include_bytes!({:?})),",
                rel,
                abs.display().to_string()
            )
            .unwrap();
        }
        out.push_str("    ]),\n");
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    std::fs::write(dest, out).unwrap();
    commit(&here);
}

/// `MPI_GRADE_COMMIT`: the commit this grader is built from (`--version`, every report), from
/// the environment variable of that name when set (a build outside a checkout that knows it),
/// else `git rev-parse`, else `unknown`.
fn commit(here: &Path) {
    println!("cargo:rerun-if-env-changed=MPI_GRADE_COMMIT");
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(here)
            .args(args)
            .output()
            .ok()?;
        let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !text.is_empty()).then_some(text)
    };
    let commit = std::env::var("MPI_GRADE_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    // A new commit (HEAD moved, or the branch it names) rebuilds with the new name.
    for name in ["HEAD", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", name]) {
            println!("cargo:rerun-if-changed={}", here.join(path).display());
        }
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(path) = git(&["rev-parse", "--git-path", &branch]) {
            println!("cargo:rerun-if-changed={}", here.join(path).display());
        }
    }
    println!("cargo:rustc-env=MPI_GRADE_COMMIT={commit}");
}

/// Files needed to build a crate: its manifest, build script and everything under `src/`; of a
/// tree without a manifest (Python), its `.py` files.
fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    if !root.join("Cargo.toml").exists() {
        collect_python(root, dir, files);
        return;
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            if dir == root && rel != "src" {
                continue; // tests/, target/, ... are not needed to build
            }
            collect(root, &path, files);
        } else if dir != root || rel == "Cargo.toml" || rel == "build.rs" {
            files.push(rel);
        }
    }
}

/// The `.py` files below `dir` (not in `__pycache__` or other `__` folders), and the files of
/// every crate below it (the catalogue's starters: `rust/<challenge>/`).
fn collect_python(root: &Path, dir: &Path, files: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if path.is_dir()
            && !path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("__")
        {
            if path.join("Cargo.toml").exists() {
                let mut inner = Vec::new();
                collect(&path, &path, &mut inner);
                files.extend(inner.into_iter().map(|f| format!("{rel}/{f}")));
                continue;
            }
            collect_python(root, &path, files);
        } else if rel.ends_with(".py") {
            files.push(rel);
        }
    }
}
