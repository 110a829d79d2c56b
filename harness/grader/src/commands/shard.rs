//! A class graded in shards (a Slurm job array, a CI matrix): `grade --batch ROOT --partition
//! K/N` grades the submissions whose name hashes to share K of N, and `merge` joins the JSON
//! reports of the shards into the files one unsplit batch writes (gradebook, JUnit, the HTML
//! class page, the summary), with the batch's own writers.

use crate::commands::batch::{Entry, Graded, Outputs};
use crate::error::{Error, Result};
use crate::report::{clean, Report};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Share `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// Which share, from 1 to `count`.
    pub index: u64,
    /// How many shares.
    pub count: u64,
}

impl Partition {
    /// `"K/N"` with 1 ≤ K ≤ N.
    pub fn parse(text: &str) -> std::result::Result<Partition, String> {
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?}: give the share as K/N, as in 2/8"))?;
        let number = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("{text:?}: {s:?} is not a whole number"))
        };
        let (index, count) = (number(k)?, number(n)?);
        if count == 0 || index == 0 || index > count {
            return Err(format!("{text:?}: K/N needs 1 ≤ K ≤ N"));
        }
        Ok(Partition { index, count })
    }

    /// The share a submission of this name belongs to (1-based): the first 8 bytes of the
    /// SHA-256 of its name, modulo N. It depends on the name only, so a submission keeps its
    /// share when others are added or removed, and every shard of a job array agrees.
    pub fn share_of(name: &str, count: u64) -> u64 {
        let digest = Sha256::digest(name.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first) % count + 1
    }

    /// The entries of this share, in their order.
    pub fn select(self, entries: Vec<Entry>) -> Vec<Entry> {
        entries
            .into_iter()
            .filter(|e| Partition::share_of(&e.name, self.count) == self.index)
            .collect()
    }
}

/// The JSON reports named on `merge`'s command line: files as given, and every `*.json`
/// directly in a directory given (a shard's `--out DIR`).
pub fn report_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let listing = std::fs::read_dir(path)
                .map_err(Error::io(format!("cannot list {}", path.display())))?;
            let mut found: Vec<PathBuf> = listing
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    if files.is_empty() {
        return Err(Error::Other(
            "merge: no JSON report among the paths given".into(),
        ));
    }
    Ok(files)
}

/// One shard's report of one submission, as the batch graded it: named after its file
/// (`--out` writes `DIR/<name>.json`), with the batch's error when the grader could not grade
/// it (such a report says so in every part: see `grade::unusable`).
pub fn read_graded(path: &Path) -> Result<Graded> {
    let text = std::fs::read_to_string(path)
        .map_err(Error::io(format!("cannot read {}", path.display())))?;
    let report: Report = serde_json::from_str(&text).map_err(|e| {
        Error::Other(format!(
            "{}: not an mpi-grade JSON report: {e}",
            path.display()
        ))
    })?;
    let name = path
        .file_stem()
        .map(|s| clean::line(&s.to_string_lossy(), 200))
        .unwrap_or_default();
    let error = report.build.summary.as_ref().filter(|why| {
        report.launches == 0
            && !report.parts.is_empty()
            && report
                .parts
                .iter()
                .all(|p| p.summary == format!("cannot be graded: {why}"))
    });
    let error = error.map(|why| clean::line(why, clean::ITEM_BYTES));
    Ok(Graded {
        name,
        report,
        error,
    })
}

/// The shards' grades as one batch: sorted by name (the order `grade --batch` grades a root
/// in), every submission once, all graded with the same configuration.
pub fn join(mut all: Vec<Graded>) -> Result<Vec<Graded>> {
    all.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(twice) = all.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(Error::Other(format!(
            "merge: submission {} is in two of the reports given",
            twice[0].name
        )));
    }
    if let Some(first) = all.first() {
        let sha = &first.report.config.sha256;
        if let Some(other) = all.iter().find(|g| &g.report.config.sha256 != sha) {
            return Err(Error::Other(format!(
                "merge: {} was graded with another configuration (sha256 {}) than {} ({})",
                other.name, other.report.config.sha256, first.name, sha
            )));
        }
    }
    Ok(all)
}

/// Writes the merged batch's files (`outputs.out_dir` is left alone: the shards wrote the
/// per-submission files), as the unsplit batch has them once its last submission is graded.
pub fn write(outputs: &Outputs, all: &[Graded]) -> Result<()> {
    // The batch writes after each submission from everything graded so far, the HTML page
    // of the newest one among them: the class page's submissions each need theirs.
    if outputs.html.is_some() {
        for i in 1..all.len() {
            outputs.write(&all[..i])?;
        }
    }
    outputs.write(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_is_read_as_k_of_n() {
        assert_eq!(
            Partition::parse("2/3"),
            Ok(Partition { index: 2, count: 3 })
        );
        for bad in ["0/3", "4/3", "1/0", "3", "a/3", "1/b", ""] {
            assert!(Partition::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shares_depend_on_the_name_only_and_cover_every_submission_once() {
        let names: Vec<String> = (0..200).map(|i| format!("student-{i}")).collect();
        let entries = |names: &[String]| -> Vec<Entry> {
            names
                .iter()
                .map(|n| Entry {
                    name: n.clone(),
                    dir: PathBuf::from(n),
                })
                .collect()
        };
        let shares: Vec<Vec<Entry>> = (1..=3)
            .map(|k| Partition { index: k, count: 3 }.select(entries(&names)))
            .collect();
        let total: usize = shares.iter().map(Vec::len).sum();
        assert_eq!(total, names.len());
        // Not all in one share (200 names over 3 shares).
        assert!(
            shares.iter().all(|s| s.len() > 30),
            "{:?}",
            shares.iter().map(Vec::len).collect::<Vec<_>>()
        );
        // Adding submissions moves none of the others.
        let mut more = names.clone();
        more.extend((0..50).map(|i| format!("late-{i}")));
        for (k, share) in shares.iter().enumerate() {
            let again = Partition {
                index: k as u64 + 1,
                count: 3,
            }
            .select(entries(&more));
            assert!(share.iter().all(|e| again.contains(e)));
        }
        // The hash is fixed: the same name has the same share on every machine and version.
        assert_eq!(
            Partition::share_of("alice", 3),
            Partition::share_of("alice", 3)
        );
        assert_eq!(Partition::share_of("", 1), 1);
    }

    #[test]
    fn a_report_read_back_keeps_what_the_gradebook_shows() {
        let mut report = crate::report::sample::graded();
        report.seed_string = "42".into();
        let mut text = Vec::new();
        crate::report::json::write(&report, &mut text).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alice.json");
        std::fs::write(&path, &text).unwrap();
        let read = read_graded(&path).unwrap();
        assert_eq!(read.name, "alice");
        assert!(read.error.is_none());
        let mut again = Vec::new();
        crate::report::json::write(&read.report, &mut again).unwrap();
        assert_eq!(
            String::from_utf8(again).unwrap(),
            String::from_utf8(text).unwrap()
        );
    }

    #[test]
    fn a_submission_that_could_not_be_graded_reads_back_as_the_same_gradebook_row() {
        // What `grade::unusable` makes of a grade that could not be made, and the batch's
        // error beside it.
        let why = "not a crate: no Cargo.toml";
        let mut report = crate::report::sample::graded();
        report.launches = 0;
        report.build.ok = false;
        report.build.summary = Some(why.to_string());
        for part in &mut report.parts {
            part.summary = format!("cannot be graded: {why}");
        }
        let batch = Graded {
            name: "bob".into(),
            report: report.clone(),
            error: Some(clean::line(why, clean::ITEM_BYTES)),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bob.json");
        let mut text = Vec::new();
        crate::report::json::write(&report, &mut text).unwrap();
        std::fs::write(&path, &text).unwrap();
        let read = read_graded(&path).unwrap();
        let parts: Vec<String> = report.parts.iter().map(|p| p.name.clone()).collect();
        let row = |g: &Graded| crate::report::batch::gradebook(&parts, std::slice::from_ref(g));
        assert_eq!(
            String::from_utf8(row(&read)),
            String::from_utf8(row(&batch))
        );
        assert!(String::from_utf8(row(&read)).unwrap().contains(",error,"));
    }

    #[test]
    fn the_same_submission_twice_or_two_configurations_are_refused() {
        let graded = |name: &str, sha: &str| {
            let mut report = crate::report::sample::graded();
            report.config.sha256 = sha.into();
            Graded {
                name: name.into(),
                report,
                error: None,
            }
        };
        let joined = join(vec![graded("b", "x"), graded("a", "x")]).unwrap();
        assert_eq!(
            joined.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(join(vec![graded("a", "x"), graded("a", "x")]).is_err());
        assert!(join(vec![graded("a", "x"), graded("b", "y")]).is_err());
    }
}
