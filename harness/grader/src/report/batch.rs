//! A batch's grades as data, and the gradebook they make (CSV): what `mpi-grade batch` keeps
//! of each submission, for the reporters to render.

use super::{clean, Report};
use crate::fmt;

/// The grade of one submission of a batch.
#[derive(Debug, Clone)]
pub struct Graded {
    /// The submission's name in the batch (see `commands::batch::Entry`).
    pub name: String,
    /// Its report (every part failed when the grader could not grade it).
    pub report: Report,
    /// Why the grader could not grade it at all (the report then fails every part).
    pub error: Option<String>,
}

impl Graded {
    /// Why it did not pass, in a few words: `part2 deadlock, part3 hang`, or `error: ...`.
    pub fn failures(&self) -> String {
        match &self.error {
            Some(error) => format!("error: {error}"),
            None => self
                .report
                .failed_parts()
                .map(|(part, failure)| format!("{part} {failure}"))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// The gradebook as CSV: a row per submission with the points of each part, the total, why
/// parts failed, and what reproduces its grade (the seed, the grader's version and commit, the
/// configuration's SHA-256).
pub fn gradebook(parts: &[String], all: &[Graded]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["submission".to_string()];
    header.extend(parts.iter().cloned());
    header.extend(
        [
            "total",
            "max_points",
            "status",
            "failures",
            "seed",
            "grader_version",
            "config_sha256",
        ]
        .map(String::from),
    );
    writer.write_record(&header).expect("writing to memory");
    for g in all {
        let r = &g.report;
        // Text cells are the student's: no formulas.
        let mut row = vec![clean::csv_cell(&g.name)];
        for name in parts {
            let points = r.parts.iter().find(|p| &p.name == name).map(|p| p.points);
            row.push(points.map(fmt::points).unwrap_or_default());
        }
        row.push(fmt::points(r.points));
        row.push(fmt::points(r.max_points));
        let status = if g.error.is_some() {
            "error"
        } else if r.all_passed() {
            "pass"
        } else {
            "fail"
        };
        row.push(status.to_string());
        let failures: Vec<String> = match &g.error {
            Some(error) => vec![error.clone()],
            None => r
                .failed_parts()
                .map(|(part, failure)| format!("{part}: {failure}"))
                .collect(),
        };
        row.push(clean::csv_cell(&failures.join("; ")));
        // A seed as text: a spreadsheet would round it as a number.
        row.push(if g.error.is_some() {
            String::new()
        } else {
            r.seed_string.clone()
        });
        row.push(r.grader.describe());
        row.push(r.config.sha256.clone());
        writer.write_record(&row).expect("writing to memory");
    }
    writer.into_inner().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_errors_reach_the_gradebook_clean_and_never_as_formulas() {
        let report = crate::report::sample::graded();
        let graded = Graded {
            name: "=cmd|' x".into(),
            report,
            error: Some("-2+3\nsecond line".into()),
        };
        let csv = String::from_utf8(gradebook(&["part1".into()], &[graded])).unwrap();
        let row = csv.lines().nth(1).unwrap();
        assert!(row.starts_with("'=cmd|' x,"), "{row}");
        assert!(
            row.contains(",error,'-2+3 second line,,0.1.0 (commit 0123456789ab),9f86d08"),
            "{row}"
        );
    }

    #[test]
    fn each_row_says_what_reproduces_its_grade() {
        let mut report = crate::report::sample::graded();
        report.seed = 16045690984503098046;
        report.seed_string = report.seed.to_string();
        let graded = Graded {
            name: "alice".into(),
            report,
            error: None,
        };
        let csv = gradebook(&["part1".into()], &[graded]);
        let mut reader = csv::Reader::from_reader(&csv[..]);
        let header = reader.headers().unwrap().clone();
        let row = reader.records().next().unwrap().unwrap();
        let cell = |name: &str| {
            let i = header.iter().position(|h| h == name).unwrap();
            row[i].to_string()
        };
        assert_eq!(cell("seed"), "16045690984503098046");
        assert_eq!(cell("grader_version"), "0.1.0 (commit 0123456789ab)");
        assert_eq!(cell("config_sha256").len(), 64);
        assert_eq!(cell("status"), "fail");
    }
}
