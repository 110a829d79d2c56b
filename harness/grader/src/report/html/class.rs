//! The class page of a batch (`DIR/index.html`): the score histogram, the failures by kind
//! with a link to each submission's page (`DIR/<name>.html`), and the fastest and slowest
//! correct submissions, timed as the sum of their passed cells' times.

use super::{escape, href_segment};
use crate::fmt;
use crate::report::batch::Graded;
use crate::report::{Mode, OutcomeKind, Report};
use std::collections::BTreeMap;

/// How many submissions each end of the speed ranking lists.
const RANKED: usize = 5;

/// The page of a submission, relative to the class page; a submission named `index` does not
/// take the class page's place.
pub fn page_name(name: &str) -> String {
    if name == "index" {
        "index.submission.html".into()
    } else {
        format!("{name}.html")
    }
}

/// The class page of `graded` (the submissions graded so far, of `total`).
pub fn page(graded: &[Graded], total: usize) -> String {
    let challenge = graded
        .first()
        .map(|g| g.report.challenge.as_str())
        .unwrap_or("");
    let passed = graded
        .iter()
        .filter(|g| g.error.is_none() && g.report.all_passed())
        .count();
    let mut body = format!(
        "<h1>Class: {}</h1>\n<p>{} of {total} submissions graded, {passed} passed every part.</p>\n",
        escape(challenge),
        graded.len()
    );
    body.push_str("<h2>Scores</h2>\n");
    body.push_str(&histogram(graded));
    body.push_str("<h2>Failures by kind</h2>\n");
    body.push_str(&failures(graded));
    body.push_str("<h2>Correct submissions by speed</h2>\n");
    body.push_str(&speed(graded));
    body.push_str("<h2>Every submission</h2>\n");
    body.push_str(&everyone(graded));
    super::document(&format!("Class: {challenge}"), &body)
}

/// A link to a submission's page.
fn link(name: &str) -> String {
    format!(
        "<a href=\"{}\">{}</a>",
        href_segment(&page_name(name)),
        escape(name)
    )
}

/// Bars of the number of submissions per score, a bar per tenth of the maximum.
pub fn histogram(graded: &[Graded]) -> String {
    const BINS: usize = 10;
    let max = graded
        .iter()
        .map(|g| g.report.max_points)
        .fold(0.0, f64::max);
    let mut counts = [0usize; BINS + 1];
    for g in graded {
        let bin = if max > 0.0 {
            ((g.report.points / max) * BINS as f64).floor() as usize
        } else {
            0
        };
        counts[bin.min(BINS)] += 1;
    }
    let tallest = counts.iter().copied().max().unwrap_or(0).max(1);
    let (width, height, bar) = (460.0, 180.0, 36.0);
    let mut out = format!(
        "<svg class=\"histogram\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"score histogram\">\n"
    );
    for (i, &count) in counts.iter().enumerate() {
        let h = (height - 40.0) * count as f64 / tallest as f64;
        let x = 20.0 + i as f64 * (bar + 2.0);
        let low = max * i as f64 / BINS as f64;
        let label = if i == BINS {
            fmt::points(max)
        } else {
            format!("≥{}", fmt::points(low))
        };
        out.push_str(&format!(
            "<g><title>{count} submissions with {label} points</title><rect class=\"bar\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar}\" height=\"{h:.1}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\">{count}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"9\">{}</text></g>\n",
            height - 24.0 - h,
            x + bar / 2.0,
            height - 28.0 - h,
            x + bar / 2.0,
            height - 10.0,
            escape(&label)
        ));
    }
    out.push_str("</svg>\n");
    out
}

/// Each failure kind, most common first, with the submissions (and parts) it hit.
pub fn failures(graded: &[Graded]) -> String {
    let mut by_kind: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for g in graded {
        if let Some(error) = &g.error {
            by_kind
                .entry("error".into())
                .or_default()
                .push((g.name.clone(), error.clone()));
            continue;
        }
        for (part, failure) in g.report.failed_parts() {
            by_kind
                .entry(failure.into())
                .or_default()
                .push((g.name.clone(), part.into()));
        }
    }
    if by_kind.is_empty() {
        return "<p>No failure.</p>\n".into();
    }
    let mut kinds: Vec<_> = by_kind.into_iter().collect();
    kinds.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let mut out = String::from(
        "<table class=\"failures\"><tr><th>failure</th><th>count</th><th>submissions</th></tr>\n",
    );
    for (kind, hits) in kinds {
        let links: Vec<String> = hits
            .iter()
            .map(|(name, what)| format!("{} ({})", link(name), escape(what)))
            .collect();
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&kind),
            hits.len(),
            links.join(", ")
        ));
    }
    out.push_str("</table>\n");
    out
}

/// The sum of a report's passed standard cells' times.
pub fn total_seconds(report: &Report) -> f64 {
    report
        .parts
        .iter()
        .flat_map(|p| &p.runs)
        .filter(|r| r.outcome == OutcomeKind::Pass && r.mode == Mode::Standard)
        .filter_map(|r| r.seconds)
        .sum()
}

/// The fastest and the slowest submissions that passed every part.
fn speed(graded: &[Graded]) -> String {
    let mut correct: Vec<(&Graded, f64)> = graded
        .iter()
        .filter(|g| g.error.is_none() && g.report.all_passed())
        .map(|g| (g, total_seconds(&g.report)))
        .collect();
    if correct.is_empty() {
        return "<p>No submission passed every part.</p>\n".into();
    }
    correct.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.name.cmp(&b.0.name)));
    let list = |title: &str, items: Vec<&(&Graded, f64)>| {
        let mut out = format!("<div><h3>{title}</h3><ol>");
        for (g, seconds) in items {
            out.push_str(&format!(
                "<li>{} {}</li>",
                link(&g.name),
                fmt::duration(*seconds)
            ));
        }
        out.push_str("</ol></div>");
        out
    };
    format!(
        "<p class=\"muted\">Time: the sum of the passed cells' times (standard mode).</p>\n<div class=\"figures\">{}{}</div>\n",
        list("Fastest", correct.iter().take(RANKED).collect()),
        list("Slowest", correct.iter().rev().take(RANKED).collect())
    )
}

/// Every submission with its points and failures.
fn everyone(graded: &[Graded]) -> String {
    let mut out = String::from(
        "<table class=\"everyone\"><tr><th>submission</th><th>points</th><th>failures</th></tr>\n",
    );
    for g in graded {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{} / {}</td><td>{}</td></tr>\n",
            link(&g.name),
            fmt::points(g.report.points),
            fmt::points(g.report.max_points),
            escape(&g.failures())
        ));
    }
    out.push_str("</table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    fn batch() -> Vec<Graded> {
        let mut good = sample::report(vec![sample::part(
            "part1",
            "",
            crate::report::Expect::Complete,
            1.0,
        )]);
        good.parts[0]
            .runs
            .push(sample::run(2, 100, Mode::Standard, OutcomeKind::Pass));
        vec![
            Graded {
                name: "alice".into(),
                report: sample::graded(),
                error: None,
            },
            Graded {
                name: "bob <b>&".into(),
                report: good,
                error: None,
            },
            Graded {
                name: "carol".into(),
                report: sample::build_failure(),
                error: Some("it <would not> build".into()),
            },
        ]
    }

    #[test]
    fn the_class_page_counts_and_links_every_failure() {
        let html = page(&batch(), 4);
        assert!(html.contains("3 of 4 submissions graded, 1 passed every part."));
        assert!(
            html.contains("<a href=\"alice.html\">alice</a> (part2)"),
            "{html}"
        );
        assert!(html.contains("<a href=\"bob%20%3Cb%3E%26.html\">bob &lt;b&gt;&amp;</a>"));
        assert!(html.contains("it &lt;would not&gt; build"));
        assert!(!html.contains("<b>&"));
        assert!(html.contains("<h3>Fastest</h3><ol><li><a href=\"bob"));
        assert!(html.contains("<svg class=\"histogram\""));
        assert_eq!(page_name("index"), "index.submission.html");
        assert_eq!(page_name("alice"), "alice.html");
    }

    #[test]
    fn a_histogram_puts_every_submission_in_one_bar() {
        let svg = histogram(&batch());
        let total: usize = svg
            .split("<title>")
            .skip(1)
            .map(|t| t.split(' ').next().unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(total, 3);
        assert_eq!(failures(&[]), "<p>No failure.</p>\n");
    }
}
