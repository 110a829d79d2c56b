//! The catalogue of challenges: `mpi-grade list` (one line per challenge, with the tutorial
//! section it belongs to) and `mpi-grade check --all` (a learner's folder of exercises, one
//! subfolder per challenge, checked one by one with one summary).

use crate::config::{Challenge, Config};
use crate::error::{Error, Result};
use crate::report::Report;
use std::path::{Path, PathBuf};

/// `mpi-grade list`: a line per challenge, in file order: its name, its points, the tutorial
/// section, the title, and its parts with the contract of each kind.
pub fn list(config: &Config) -> String {
    let width = config
        .challenges
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for c in &config.challenges {
        let points: f64 = c.parts.iter().map(|p| p.points).sum();
        let section = if c.section.is_empty() {
            String::new()
        } else {
            format!("[{}] ", c.section)
        };
        out.push_str(&format!(
            "{:width$}  {} part{}, {} point{}  {section}{}\n",
            c.name,
            c.parts.len(),
            if c.parts.len() == 1 { "" } else { "s" },
            crate::fmt::points(points),
            if points == 1.0 { "" } else { "s" },
            c.title,
        ));
    }
    out
}

/// The exercises of a folder, each with its challenge, in the catalogue's order.
pub type Exercises<'a> = Vec<(&'a Challenge, PathBuf)>;

/// The exercises of folder `dir`: each subfolder named after a challenge of `config`, in the
/// catalogue's order; the names of the other subfolders (not graded, said so).
pub fn exercises<'a>(config: &'a Config, dir: &Path) -> Result<(Exercises<'a>, Vec<String>)> {
    let entries = std::fs::read_dir(dir).map_err(Error::io(format!(
        "cannot read the folder of exercises {}",
        dir.display()
    )))?;
    let mut others = Vec::new();
    let mut found = Vec::new();
    for entry in entries.flatten() {
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        match config.challenges.iter().position(|c| c.name == name) {
            Some(i) => found.push((i, entry.path())),
            None => others.push(name),
        }
    }
    found.sort();
    others.sort();
    if found.is_empty() {
        return Err(Error::Other(format!(
            "{} has no exercise: name each subfolder after a challenge (`mpi-grade list`: {})",
            dir.display(),
            config
                .challenges
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let found = found
        .into_iter()
        .map(|(i, path)| (&config.challenges[i], path))
        .collect();
    Ok((found, others))
}

/// One exercise's line of the summary: its verdict per part, or why it could not be checked.
pub struct Row {
    /// The challenge.
    pub challenge: String,
    /// Its report, or the grader's error.
    pub result: std::result::Result<Report, String>,
}

/// The one summary of `check --all`: a line per exercise and the total.
pub fn summary(rows: &[Row], others: &[String]) -> String {
    let width = rows.iter().map(|r| r.challenge.len()).max().unwrap_or(0);
    let mut out = String::new();
    let (mut points, mut max) = (0.0, 0.0);
    for row in rows {
        let line = match &row.result {
            Ok(report) => {
                points += report.points;
                max += report.max_points;
                let parts: Vec<String> = report
                    .parts
                    .iter()
                    .map(|p| {
                        let verdict = p.failure.map_or("pass", |f| f.name());
                        format!("{} {verdict}", p.name)
                    })
                    .collect();
                format!(
                    "{}/{}  {}",
                    crate::fmt::points(report.points),
                    crate::fmt::points(report.max_points),
                    parts.join(", ")
                )
            }
            Err(e) => format!("not checked: {e}"),
        };
        out.push_str(&format!("{:width$}  {line}\n", row.challenge));
    }
    out.push_str(&format!(
        "total: {} of {} points in {} exercise{}\n",
        crate::fmt::points(points),
        crate::fmt::points(max),
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    ));
    if !others.is_empty() {
        out.push_str(&format!(
            "not exercises (no challenge of that name): {}\n",
            others.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_catalogue_is_the_tutorials_order() {
        let config = Config::bundled();
        let text = list(&config);
        let names: Vec<&str> = text.lines().map(|l| l.split(' ').next().unwrap()).collect();
        assert_eq!(
            names,
            [
                "send-recv",
                "bcast-reduce",
                "gather-scatter",
                "allreduce",
                "buffers",
                "truncate",
                "isend-irecv",
                "igather-timing",
                "alltoall"
            ]
        );
        assert!(text.contains("[bcast and reduce]"), "{text}");
        assert!(
            text.contains("alltoall        3 parts, 3 points  [Challenge]"),
            "{text}"
        );
    }

    #[test]
    fn a_folder_of_exercises_is_read_in_catalogue_order() {
        let config = Config::bundled();
        let dir = tempfile::tempdir().unwrap();
        for name in ["alltoall", "send-recv", "notes", "target"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        std::fs::write(dir.path().join("README"), "").unwrap();
        let (found, others) = exercises(&config, dir.path()).unwrap();
        let names: Vec<&str> = found.iter().map(|(c, _)| c.name.as_str()).collect();
        assert_eq!(names, ["send-recv", "alltoall"]);
        assert_eq!(others, ["notes"]);
        let empty = tempfile::tempdir().unwrap();
        let e = exercises(&config, empty.path()).unwrap_err().to_string();
        assert!(e.contains("send-recv, bcast-reduce"), "{e}");
        let rows = [Row {
            challenge: "send-recv".into(),
            result: Err("not a crate".into()),
        }];
        let text = summary(&rows, &others);
        assert_eq!(
            text,
            "send-recv  not checked: not a crate\ntotal: 0 of 0 points in 1 exercise\nnot exercises (no challenge of that name): notes\n"
        );
    }
}
