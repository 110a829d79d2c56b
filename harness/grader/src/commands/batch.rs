//! Grading a class: many submissions in one run, one shared build cache, every result written
//! as soon as its submission is graded.
//!
//! Submissions are graded one after the other: their runs must not share the cores, or time
//! limits and timings mean nothing. The build of the next submission can overlap the runs of
//! the current one when the machine has cores to spare (see [`BuildAhead`]).

use crate::commands::grade::{self, GradeOptions, Prepared};
use crate::error::{Error, Result};
use crate::fmt;
pub use crate::report::batch::{gradebook, Graded};
use crate::report::{clean, file, html, human, json, junit, Report};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// One submission of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Unique within the batch: the directory's name (`-2`, `-3` appended to repeats).
    pub name: String,
    /// The submission's directory.
    pub dir: PathBuf,
}

/// Whether the next submission is built while the current one runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildAhead {
    /// When the machine has more cores than the largest rank count: the build then never
    /// competes with the ranks for a core.
    Auto,
    /// Always, even when it competes with the ranks.
    Always,
    /// Never: builds and runs take turns.
    Never,
}

/// Every directory directly under `root` (hidden ones aside), by name.
pub fn under(root: &Path) -> Result<Vec<Entry>> {
    let listing =
        std::fs::read_dir(root).map_err(Error::io(format!("cannot list {}", root.display())))?;
    let mut dirs: Vec<PathBuf> = listing
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(Error::Other(format!(
            "{}: no submission directories in it",
            root.display()
        )));
    }
    Ok(named(&dirs))
}

/// The submissions at `dirs`, named after their directories.
pub fn named(dirs: &[PathBuf]) -> Vec<Entry> {
    let mut taken = BTreeSet::new();
    dirs.iter()
        .map(|dir| {
            let base = std::path::absolute(dir)
                .ok()
                // A directory's name is the student's: one clean line in every report.
                .and_then(|d| {
                    d.file_name()
                        .map(|n| clean::line(&n.to_string_lossy(), 200))
                })
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| "submission".to_string());
            let name = (1..)
                .map(|k| {
                    if k == 1 {
                        base.clone()
                    } else {
                        format!("{base}-{k}")
                    }
                })
                .find(|n| !taken.contains(n))
                .expect("some suffix is free");
            taken.insert(name.clone());
            Entry {
                name,
                dir: dir.clone(),
            }
        })
        .collect()
}

/// Whether to build ahead on this machine for this matrix.
pub fn builds_ahead(choice: BuildAhead, options: &GradeOptions) -> bool {
    let largest = options.challenge.ranks.iter().copied().max().unwrap_or(2) as usize;
    match choice {
        BuildAhead::Always => true,
        BuildAhead::Never => false,
        BuildAhead::Auto => crate::mpi::available_cores() > largest,
    }
}

/// Grades every entry in order, calling `started` before each and `graded` after each (where
/// the caller writes its results: a batch killed later keeps them). Stops early, with the
/// entries graded so far, on Ctrl-C. A submission that cannot be graded is reported as such
/// and the batch goes on.
pub fn run(
    options: &GradeOptions,
    entries: &[Entry],
    build_ahead: bool,
    started: &mut dyn FnMut(&Entry),
    graded: &mut dyn FnMut(&Graded) -> Result<()>,
) -> Result<Vec<Graded>> {
    let for_entry = |entry: &Entry| GradeOptions {
        submission: entry.dir.clone(),
        ..options.clone()
    };
    let mut done = Vec::new();
    let mut finish = |entry: &Entry, prepared: Result<Prepared>| -> Result<()> {
        let entry_options = for_entry(entry);
        let result = prepared.and_then(|p| grade::finish(&entry_options, p));
        let one = match result {
            Ok(report) => Graded {
                name: entry.name.clone(),
                report,
                error: None,
            },
            Err(e) => Graded {
                name: entry.name.clone(),
                report: grade::unusable(&entry_options, &e.to_string()),
                error: Some(clean::line(&e.to_string(), clean::ITEM_BYTES)),
            },
        };
        graded(&one)?;
        done.push(one);
        Ok(())
    };
    if !build_ahead {
        for entry in entries {
            if crate::run::interrupt::requested() {
                break;
            }
            started(entry);
            finish(entry, grade::prepare(&for_entry(entry)))?;
        }
        return Ok(done);
    }
    std::thread::scope(|scope| -> Result<()> {
        // A rendezvous channel: the builder holds at most one finished build while the
        // submission before it runs.
        let (sender, receiver) = mpsc::sync_channel::<(usize, Result<Prepared>)>(0);
        scope.spawn(move || {
            for (i, entry) in entries.iter().enumerate() {
                if crate::run::interrupt::requested() {
                    break;
                }
                if sender.send((i, grade::prepare(&for_entry(entry)))).is_err() {
                    break;
                }
            }
        });
        for (i, prepared) in receiver {
            if crate::run::interrupt::requested() {
                break;
            }
            started(&entries[i]);
            finish(&entries[i], prepared)?;
        }
        Ok(())
    })?;
    Ok(done)
}

/// Where a batch writes its results. Every file is complete after each submission: per
/// submission files appear as it is graded, batch-wide files are rewritten (atomically) with
/// everything graded so far.
pub struct Outputs {
    /// `DIR/<name>.json` and `DIR/<name>.txt` (the JSON and human reports) per submission.
    pub out_dir: Option<PathBuf>,
    /// The gradebook.
    pub csv: Option<PathBuf>,
    /// JUnit XML, a test suite per submission.
    pub junit: Option<PathBuf>,
    /// `DIR/<name>.html` per submission and the class page `DIR/index.html`.
    pub html: Option<PathBuf>,
    /// Submissions in the batch (the class page says how many are graded).
    pub total: usize,
    /// Part names, the CSV's columns.
    pub parts: Vec<String>,
}

impl Outputs {
    /// Writes what `all` (the submissions graded so far, `all.last()` the newest) gives.
    pub fn write(&self, all: &[Graded]) -> Result<()> {
        let Some(newest) = all.last() else {
            return Ok(());
        };
        let written = |path: &Path| Error::io(format!("cannot write {}", path.display()));
        if let Some(dir) = &self.out_dir {
            let path = dir.join(format!("{}.json", newest.name));
            file::write(&path, |out| json::write(&newest.report, out)).map_err(written(&path))?;
            let path = dir.join(format!("{}.txt", newest.name));
            file::write(&path, |out| human::render(&newest.report, out)).map_err(written(&path))?;
        }
        if let Some(path) = &self.csv {
            file::write(path, |out| out.write_all(&gradebook(&self.parts, all)))
                .map_err(written(path))?;
        }
        if let Some(path) = &self.junit {
            let reports: Vec<Report> = all.iter().map(|g| g.report.clone()).collect();
            file::write(path, |out| junit::write(&reports, out)).map_err(written(path))?;
        }
        if let Some(dir) = &self.html {
            let page =
                |text: String| move |out: &mut dyn std::io::Write| out.write_all(text.as_bytes());
            let path = dir.join(html::class::page_name(&newest.name));
            file::write(&path, page(html::page(&newest.report))).map_err(written(&path))?;
            let path = dir.join(html::INDEX);
            file::write(&path, page(html::class::page(all, self.total))).map_err(written(&path))?;
        }
        Ok(())
    }
}

/// Progress of a batch on stderr: a bar with the submission being graded and an ETA on a
/// terminal, a line per graded submission otherwise (CI logs), nothing when quiet.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    total: usize,
    done: std::cell::Cell<usize>,
}

impl Progress {
    /// `total` submissions to grade; `quiet` shows nothing.
    pub fn new(total: usize, quiet: bool) -> Progress {
        use std::io::IsTerminal;
        let terminal = !quiet && std::io::stderr().is_terminal();
        let bar = terminal.then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} graded, ETA {eta} · {msg}",
                )
                .expect("a valid template"),
            );
            bar
        });
        Progress {
            bar,
            lines: !quiet && !terminal,
            total,
            done: std::cell::Cell::new(0),
        }
    }

    /// `entry` is being graded.
    pub fn started(&self, entry: &Entry) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("grading {}", entry.name));
        }
    }

    /// `one` is graded: a line with its points and failures.
    pub fn graded(&self, one: &Graded) {
        self.done.set(self.done.get() + 1);
        let r = &one.report;
        let why = match one.failures() {
            failures if failures.is_empty() => failures,
            failures => format!(" ({failures})"),
        };
        let line = format!(
            "[{}/{}] {}: {}/{} points{why}, {:.1} s",
            self.done.get(),
            self.total,
            one.name,
            fmt::points(r.points),
            fmt::points(r.max_points),
            r.seconds
        );
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None if self.lines => eprintln!("{line}"),
            None => {}
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submissions_are_named_after_their_directories_uniquely() {
        let entries = named(&[
            PathBuf::from("class/alice"),
            PathBuf::from("other/alice"),
            PathBuf::from("bob/"),
        ]);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["alice", "alice-2", "bob"]);
    }

    #[test]
    fn a_hostile_directory_name_is_cleaned_into_a_submission_name() {
        let entries = named(&[PathBuf::from("class/=cmd|' \x1b]0;title\x07\u{202e}x")]);
        assert_eq!(entries[0].name, "=cmd|' x");
    }

    #[test]
    fn a_root_lists_its_visible_subdirectories_in_order() {
        let root = tempfile::tempdir().unwrap();
        for d in ["zoe", "adam", ".git"] {
            std::fs::create_dir(root.path().join(d)).unwrap();
        }
        std::fs::write(root.path().join("README"), "not a submission").unwrap();
        let names: Vec<String> = under(root.path())
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["adam", "zoe"]);
        let empty = tempfile::tempdir().unwrap();
        assert!(under(empty.path()).is_err());
    }
}
