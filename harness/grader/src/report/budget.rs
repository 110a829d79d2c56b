//! A finished report cleaned as a whole: every student-controlled string through the cleaner
//! ([`super::clean`]) with its cap, and all of them together within the report's budget, the
//! text that decides charged first.

use super::clean::{
    clean, line, output, FLOOR_BYTES, ITEM_BYTES, NAME_BYTES, OUTPUT_BYTES, REPORT_BUDGET,
};
use super::{Report, RunReport};

/// Cleans every string of a finished report, within the report's budget. Text that decides
/// (the build's, each part's summary and details, the run that decided each part) is charged
/// first; the other runs get what is left.
pub fn report(r: &mut Report) {
    let mut budget = Budget(REPORT_BUDGET);
    for s in [&mut r.submission, &mut r.challenge, &mut r.isolation] {
        *s = line(s, NAME_BYTES);
    }
    for s in [&mut r.mpi.implementation, &mut r.mpi.version] {
        *s = line(s, NAME_BYTES);
    }
    if let Some(library) = &mut r.mpi.library {
        *library = line(library, NAME_BYTES);
    }
    budget.option(&mut r.build.summary, ITEM_BYTES);
    budget.option(&mut r.build.details, OUTPUT_BYTES);
    for part in &mut r.parts {
        for s in [&mut part.name, &mut part.title] {
            *s = line(s, NAME_BYTES);
        }
        budget.text(&mut part.summary, ITEM_BYTES);
        budget.option(&mut part.details, OUTPUT_BYTES);
        for group in &mut part.credit {
            group.name = line(&group.name, NAME_BYTES);
            budget.text(&mut group.summary, ITEM_BYTES);
        }
    }
    // The runs that decided first, then the others.
    let deciding: Vec<Option<usize>> = r
        .parts
        .iter()
        .map(|p| {
            let decides = |run: &&RunReport| p.decided_by(run);
            // The one whose output the text formats show, else the first that failed so.
            p.runs
                .iter()
                .position(|run| decides(&run) && run.output.is_some())
                .or_else(|| p.runs.iter().position(|run| decides(&run)))
        })
        .collect();
    for (part, first) in r.parts.iter_mut().zip(&deciding) {
        if let Some(i) = *first {
            budget.run(&mut part.runs[i]);
        }
    }
    for (part, first) in r.parts.iter_mut().zip(&deciding) {
        for (i, run) in part.runs.iter_mut().enumerate() {
            if Some(i) != *first {
                budget.run(run);
            }
        }
    }
    for warning in &mut r.warnings {
        budget.text(warning, ITEM_BYTES);
    }
}

/// What is left of a report's budget.
struct Budget(usize);

impl Budget {
    fn text(&mut self, s: &mut String, max_bytes: usize) {
        *s = clean(s, max_bytes.min(self.0.max(FLOOR_BYTES)));
        self.0 = self.0.saturating_sub(s.len());
    }

    fn option(&mut self, s: &mut Option<String>, max_bytes: usize) {
        if let Some(s) = s {
            self.text(s, max_bytes);
        }
    }

    fn run(&mut self, run: &mut RunReport) {
        self.option(&mut run.detail, ITEM_BYTES);
        if let Some(output) = &mut run.output {
            *output = self::output(output, OUTPUT_BYTES.min(self.0.max(FLOOR_BYTES)));
            self.0 = self.0.saturating_sub(output.len());
        }
        if let Some(d) = &mut run.diagnosis {
            self.text(&mut d.explanation, ITEM_BYTES);
            for rank in &mut d.ranks {
                if let Some(f) = &mut rank.function {
                    *f = line(f, NAME_BYTES);
                }
                for wait in &mut rank.waits {
                    *wait = line(wait, NAME_BYTES);
                }
                if let Some(location) = &mut rank.location {
                    *location = line(location, NAME_BYTES);
                }
            }
            for edge in &mut d.edges {
                edge.function = line(&edge.function, NAME_BYTES);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_cleaned_everywhere_and_bounded_in_all() {
        let mut r = crate::report::sample::graded();
        let evil = format!(
            "\x1b[2J\x1b]52;c;eA==\x07boom\u{202e}{}",
            "y".repeat(200_000)
        );
        r.submission = format!("sub\x1b]0;title\x07{evil}");
        r.mpi.library = Some(evil.clone());
        r.build.details = Some(evil.clone());
        r.warnings = vec![evil.clone(); 50];
        let runs = r.parts[1].runs.clone();
        for part in &mut r.parts {
            part.summary = evil.clone();
            part.details = Some(evil.clone());
            // A thousand runs in all, each with a huge detail and output.
            part.runs = (0..1000 / (3 * runs.len()))
                .flat_map(|_| runs.clone())
                .collect();
            for run in &mut part.runs {
                run.detail = Some(evil.clone());
                run.output = Some(evil.clone());
                if let Some(d) = &mut run.diagnosis {
                    d.explanation = evil.clone();
                }
            }
        }
        report(&mut r);
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("\\u001b") && !json.contains('\u{202e}'));
        assert!(json.contains("boom"));
        let runs: usize = r.parts.iter().map(|p| p.runs.len()).sum();
        // The budget, plus the floor of every item after it.
        let bound = REPORT_BUDGET + (runs * 2 + 60) * (FLOOR_BYTES + 64) + 256 * 1024;
        assert!(json.len() < bound, "{} > {bound}", json.len());
        assert!(json.len() < 1 << 20, "{}", json.len());
        // The deciding runs kept their whole item.
        let p = &r.parts[1];
        let first = p.runs.iter().position(|run| p.decided_by(run)).unwrap();
        assert!(runs > 900, "{runs}");
        assert!(p.runs[first].detail.as_ref().unwrap().len() > ITEM_BYTES / 2);
        assert!(p.runs.last().unwrap().detail.as_ref().unwrap().len() < FLOOR_BYTES + 64);
    }
}
