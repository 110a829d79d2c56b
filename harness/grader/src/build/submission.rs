//! A submission as the grader takes it in: a Rust crate or Python modules, opened, recognised
//! and copied (intake) before anything of it is built or run.

use crate::error::{Error, Result};
use std::path::Path;
use std::path::PathBuf;

/// A student crate to grade.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The directory as the user named it, for messages.
    pub display: String,
    /// Canonical path of the crate.
    pub dir: PathBuf,
    /// Package name from its `Cargo.toml`, or why it could not be read (a Python submission:
    /// its folder's name, or why its files cannot be taken in).
    pub package: std::result::Result<String, String>,
    /// Its language.
    pub lang: Lang,
    /// A submission that is one `.py` file: its name in `dir` (only it is taken in).
    pub only: Option<String>,
}

/// The language of a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// A library crate on `mpi` (rsmpi).
    Rust,
    /// Modules for mpi4py and NumPy.
    Python,
}

impl Lang {
    /// Its name on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
        }
    }

    /// `rust` or `python`.
    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "rust" => Some(Lang::Rust),
            "python" => Some(Lang::Python),
            _ => None,
        }
    }
}

impl Submission {
    /// Opens a submission: a crate (a `Cargo.toml`), or Python (`*.py` files, or one `.py`
    /// file), as `lang` says or as the files show.
    pub fn open_as(path: &Path, lang: Option<Lang>) -> Result<Submission> {
        let has_manifest = path.join("Cargo.toml").exists();
        let lang = lang.unwrap_or(if !has_manifest && is_python(path) {
            Lang::Python
        } else {
            Lang::Rust
        });
        match lang {
            Lang::Rust => Submission::open(path),
            Lang::Python => Submission::open_python(path),
        }
    }

    /// A Python submission: a folder of modules, or one `.py` file.
    fn open_python(path: &Path) -> Result<Submission> {
        let not_python = |message: &str| Error::NotACrate {
            path: path.to_path_buf(),
            message: message.to_string(),
        };
        let meta =
            std::fs::symlink_metadata(path).map_err(|_| not_python("no such file or directory"))?;
        let resolved = path
            .canonicalize()
            .map_err(Error::io(format!("cannot resolve {}", path.display())))?;
        let (dir, only) = if meta.is_file() {
            let name = resolved
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !name.ends_with(".py") {
                return Err(not_python("not a .py file"));
            }
            let parent = resolved.parent().unwrap_or(Path::new("/")).to_path_buf();
            (parent, Some(name.to_string()))
        } else if meta.is_dir() {
            if !is_python(&resolved) {
                return Err(not_python("no .py file here: not a Python submission"));
            }
            (resolved, None)
        } else {
            return Err(not_python("not a regular file or folder"));
        };
        let name = only
            .clone()
            .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "submission".into());
        Ok(Submission {
            display: path.display().to_string(),
            dir,
            package: Ok(name),
            lang: Lang::Python,
            only,
        })
    }

    /// Checks that `path` is a crate with a library target.
    pub fn open(path: &Path) -> Result<Submission> {
        let not_a_crate = |message: &str| Error::NotACrate {
            path: path.to_path_buf(),
            message: message.to_string(),
        };
        if !path.is_dir() {
            return Err(not_a_crate("no such directory"));
        }
        let dir = path
            .canonicalize()
            .map_err(Error::io(format!("cannot resolve {}", path.display())))?;
        // Read as data, never through a link (a link to /proc/self/environ or to a file only
        // the grader may read must not reach a message).
        let text = match crate::build::intake::read_manifest(&dir) {
            Ok(text) => Ok(text),
            Err(why) if why.starts_with("no Cargo.toml") => return Err(not_a_crate(&why)),
            Err(why) => Err(why),
        };
        let package = match text.and_then(|text| {
            toml::from_str::<toml::Table>(&text)
                .map_err(|e| format!("Cargo.toml cannot be parsed: {}", e.message()))
        }) {
            Err(e) => Err(e),
            Ok(table) => {
                let package = table
                    .get("package")
                    .and_then(|p| p.get("name"))
                    .and_then(|n| n.as_str());
                match package {
                    None if table.contains_key("workspace") => {
                        return Err(not_a_crate(
                            "this is a cargo workspace, not a crate: point mpi-grade at the member crate that has the parts",
                        ))
                    }
                    None => Err("Cargo.toml has no [package] name".to_string()),
                    Some(name) => {
                        let lib_path = table
                            .get("lib")
                            .and_then(|l| l.get("path"))
                            .and_then(|p| p.as_str())
                            .unwrap_or("src/lib.rs");
                        let lib = std::fs::symlink_metadata(dir.join(lib_path));
                        if !lib.is_ok_and(|m| m.is_file() || m.file_type().is_symlink()) {
                            return Err(not_a_crate(&format!(
                                "the crate has no library target ({lib_path} is missing); the parts must be in src/lib.rs"
                            )));
                        }
                        Ok(name.to_string())
                    }
                }
            }
        };
        Ok(Submission {
            display: path.display().to_string(),
            dir,
            package,
            lang: Lang::Rust,
            only: None,
        })
    }

    /// Submission intake: copies the crate into `to` (see `sandbox::fs::copy_submission`),
    /// checks its manifest against `policy` (see `intake`) and writes the grader's manifest
    /// there. The copy is what gets built; a submission that breaks the policy or holds a link
    /// leaving the crate is not built at all: its `package` says why, one line per problem
    /// (every part is then a build error with that message).
    pub fn intake(&self, to: &Path, policy: &crate::build::intake::Policy) -> Result<Submission> {
        if self.lang == Lang::Python {
            return self.intake_python(to);
        }
        let mut problems = crate::sandbox::fs::copy_submission(&self.dir, to)?;
        let dir = to
            .canonicalize()
            .map_err(Error::io(format!("cannot resolve {}", to.display())))?;
        let has_build_rs = std::fs::symlink_metadata(self.dir.join("build.rs")).is_ok();
        let manifest = crate::build::intake::read_manifest(&self.dir)
            .map_err(|why| vec![why])
            .and_then(|text| crate::build::intake::check(&text, policy, has_build_rs));
        match manifest {
            Err(found) => problems.extend(found),
            Ok(manifest) => {
                let text = crate::build::intake::manifest_text(&manifest, policy);
                std::fs::write(dir.join("Cargo.toml"), text).map_err(Error::io(format!(
                    "cannot write the manifest of {}",
                    dir.display()
                )))?;
                if problems.is_empty() {
                    return Ok(Submission {
                        display: self.display.clone(),
                        dir,
                        package: Ok(manifest.name),
                        lang: Lang::Rust,
                        only: None,
                    });
                }
            }
        }
        // At most a screenful: each line names its file.
        problems.truncate(20);
        Ok(Submission {
            display: self.display.clone(),
            dir,
            package: Err(problems.join("\n")),
            lang: Lang::Rust,
            only: None,
        })
    }

    /// Python intake: the folder copied as a crate is (links checked, sizes capped), or the one
    /// file alone; no manifest.
    fn intake_python(&self, to: &Path) -> Result<Submission> {
        let problems = match &self.only {
            Some(name) => crate::sandbox::fs::copy_one_file(&self.dir.join(name), to)?,
            None => crate::sandbox::fs::copy_submission(&self.dir, to)?,
        };
        let dir = to
            .canonicalize()
            .map_err(Error::io(format!("cannot resolve {}", to.display())))?;
        let mut problems = problems;
        problems.truncate(20);
        Ok(Submission {
            display: self.display.clone(),
            dir,
            package: if problems.is_empty() {
                self.package.clone()
            } else {
                Err(problems.join("\n"))
            },
            lang: Lang::Python,
            only: self.only.clone(),
        })
    }

    /// Replaces the canonical path in messages (compiler, panics) by the one the user gave.
    pub fn shorten(&self, text: &str) -> String {
        let prefix = format!("{}/", self.dir.display());
        let replacement = format!("{}/", self.display.trim_end_matches('/'));
        text.replace(&prefix, &replacement)
    }
}

/// Whether `path` (a folder, or the file itself) looks like a Python submission.
pub fn is_python(path: &Path) -> bool {
    if path.is_file() {
        return path.extension().is_some_and(|e| e == "py");
    }
    std::fs::read_dir(path).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "py"))
    })
}
