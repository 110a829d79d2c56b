//! The report as one self-contained HTML page (`--html DIR`): no network, no script, only
//! inline CSS and SVG. Per submission ([`page`]): each part's matrix as a coloured grid with
//! the terminal's symbols ([`grid`]), each deadlock's and hang's wait-for graph drawn
//! ([`graph`]), the part's time against block size beside the references and `MPI_Alltoall`
//! on log-log axes ([`plot`]), and what graded it (seed, versions, isolation). For a batch,
//! the class page ([`class`]).
//!
//! Pure functions of a finished [`Report`]: every student string in it was cleaned by
//! [`super::clean`] when the report was built, and is HTML-escaped here ([`escape`]) on top,
//! wherever it goes (text, attribute, `<title>` of an SVG element).

pub mod class;
pub mod graph;
pub mod grid;
pub mod plot;

use super::{PartReport, Report};
use crate::fmt;
use crate::trace::diagnosis::Diagnosis;

/// The page of one submission, when a single grade writes into `--html DIR`.
pub const INDEX: &str = "index.html";

/// `text` safe inside HTML text and quoted attribute values (and SVG's): `&`, `<`, `>`, `"`
/// and `'` become entities.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `name` as one segment of a relative link: everything but ASCII letters, digits and `-._~`
/// percent-encoded, so that a submission named `a b#c` or `../x` links to its own page.
pub fn href_segment(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The page's style: outcome colours (the terminal's: green pass, red failures, yellow time
/// limits), the grid, the graphs, the plots.
pub const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:78em}\
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}\
h3{font-size:1em}pre{background:#f6f6f6;padding:.5em;overflow:auto;white-space:pre-wrap}\
table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.25em .5em;text-align:left}\
table.grid td{text-align:center;font-family:monospace;min-width:5em}\
details.stall{margin:.6em 0}details.stall>summary{font-weight:bold;cursor:pointer}\
.o-pass{background:#c8f0c8}.o-wrong-result,.o-crash,.o-deadlock,.o-hang{background:#f6c1c1}\
.o-not-implemented{background:#e6d2f0}.o-timeout{background:#f7e7a6}.o-not-run{background:#e4e4e4}\
.passed{color:#17692a}.failed{color:#b11d1d}.muted{color:#666}\
.figures{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}\
svg{background:#fff;border:1px solid #ddd}svg text{font-family:sans-serif}\
.node circle{fill:#fff;stroke:#555;stroke-width:2}.node.cycle circle{stroke:#c62828;fill:#fdecea;stroke-width:3}\
.node.culprit circle{stroke:#ef6c00;fill:#fff3e0;stroke-width:3}\
.edge path{fill:none;stroke:#777;stroke-width:1.5}.edge.cycle path{stroke:#c62828;stroke-width:2.5}\
.edge text{font-size:11px;fill:#333;paint-order:stroke;stroke:#fff;stroke-width:3px}.edge.cycle text{fill:#a31515}\
.plot .axis{stroke:#444}.plot .tick{stroke:#eee}.plot text{font-size:10px}\
.bar{fill:#5b8def}";

/// The whole page of `report`.
pub fn page(report: &Report) -> String {
    let title = format!("{} — {}", report.submission, report.challenge);
    let mut body = format!(
        "<h1>{}</h1>\n<p class=\"{}\"><b>{} / {} points</b>{}</p>\n",
        escape(&title),
        if report.all_passed() {
            "passed"
        } else {
            "failed"
        },
        fmt::points(report.points),
        fmt::points(report.max_points),
        failed_summary(report),
    );
    if !report.build.ok {
        body.push_str(&format!(
            "<h2>The crate does not build</h2>\n<p>{}</p>\n",
            escape(
                report
                    .build
                    .summary
                    .as_deref()
                    .unwrap_or("see the compiler's message")
            )
        ));
        if let Some(details) = &report.build.details {
            body.push_str(&format!("<pre>{}</pre>\n", escape(details)));
        }
    }
    for part in &report.parts {
        body.push_str(&part_section(report, part, 2));
    }
    body.push_str(&about(report));
    document(&title, &body)
}

/// `: part2 deadlock, part3 hang`, or nothing when every part passed.
fn failed_summary(report: &Report) -> String {
    let failed: Vec<String> = report
        .failed_parts()
        .map(|(part, failure)| format!("{part} {failure}"))
        .collect();
    if failed.is_empty() {
        String::new()
    } else {
        escape(&format!(" — {}", failed.join(", ")))
    }
}

/// One part: its verdict, grid, graphs and plots, under a heading of `level`.
pub fn part_section(report: &Report, part: &PartReport, level: u8) -> String {
    let verdict = if part.passed { "passed" } else { "failed" };
    let mut out = format!(
        "<section class=\"part\" id=\"{id}\">\n<h{level}>{} <span class=\"{verdict}\">{} {}/{}</span></h{level}>\n",
        escape(&super::text::part_title(part)),
        if part.passed { "PASS" } else { "FAIL" },
        fmt::points(part.points),
        fmt::points(part.max_points),
        id = escape(&format!("part-{}", part.name)),
    );
    if !part.summary.is_empty() {
        out.push_str(&format!("<p>{}</p>\n", escape(&part.summary)));
    }
    if let Some(details) = &part.details {
        out.push_str(&format!("<pre>{}</pre>\n", escape(details)));
    }
    out.push_str(&grid::grid(part));
    let graphs = graph::part_graphs(part);
    if !graphs.is_empty() {
        out.push_str(&format!("<h{0}>Wait-for graphs</h{0}>\n", level + 1));
        out.push_str(&graphs);
    }
    let plots = plot::part_plots(report, part);
    if !plots.is_empty() {
        out.push_str(&format!(
            "<h{0}>Time against block size</h{0}>\n<div class=\"figures\">{plots}</div>\n",
            level + 1
        ));
    }
    out.push_str("</section>\n");
    out
}

/// What graded the submission, and how to reproduce it.
fn about(report: &Report) -> String {
    let mut rows = vec![
        (
            "grader",
            format!(
                "mpi-grade {} (commit {})",
                report.grader.version, report.grader.commit
            ),
        ),
        ("challenge", report.challenge.clone()),
        (
            "config",
            format!("{} (sha256 {})", report.config.path, report.config.sha256),
        ),
        ("language", report.language.clone()),
        (
            "seed",
            format!(
                "{} (mpi-grade grade --seed {} reproduces the payloads)",
                report.seed_string, report.seed_string
            ),
        ),
        (
            "MPI",
            format!("{} {}", report.mpi.implementation, report.mpi.version),
        ),
    ];
    if let Some(library) = &report.mpi.library {
        rows.push(("MPI library", library.clone()));
    }
    rows.push((
        "traced",
        if report.traced { "yes" } else { "no" }.to_string(),
    ));
    rows.push(("isolation", report.isolation.clone()));
    rows.push(("launches", report.launches.to_string()));
    rows.push(("wall time", fmt::duration(report.seconds)));
    let mut out = String::from("<h2>About this grade</h2>\n<table class=\"about\">\n");
    for (name, value) in rows {
        out.push_str(&format!(
            "<tr><th>{name}</th><td>{}</td></tr>\n",
            escape(&value)
        ));
    }
    out.push_str("</table>\n");
    for warning in &report.warnings {
        out.push_str(&format!(
            "<p class=\"muted\">warning: {}</p>\n",
            escape(warning)
        ));
    }
    out
}

/// The page of `mpi-grade run`: how the program ended (`facts`, name and value) and, for a
/// deadlock or a hang, its wait-for graph.
pub fn run_page(title: &str, facts: &[(&str, String)], diagnosis: Option<&Diagnosis>) -> String {
    let mut body = format!("<h1>{}</h1>\n<table class=\"about\">\n", escape(title));
    for (name, value) in facts {
        body.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>\n",
            escape(name),
            escape(value)
        ));
    }
    body.push_str("</table>\n");
    if let Some(d) = diagnosis {
        body.push_str(&format!("<h2>{}</h2>\n", graph::title(d)));
        body.push_str(&graph::stall(d, "run"));
    }
    document(title, &body)
}

/// A whole HTML document around `body` (already HTML): one page, no external resource.
pub fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn escaping_leaves_no_markup_of_a_hostile_string() {
        let hostile = "</pre><script>alert('x')</script><img src=x onerror=\"y\">&amp;";
        let escaped = escape(hostile);
        assert_eq!(
            escaped,
            "&lt;/pre&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x \
             onerror=&quot;y&quot;&gt;&amp;amp;"
        );
        assert!(!escaped.contains(['<', '>', '"', '\'']));
        assert_eq!(href_segment("a b#c/../é"), "a%20b%23c%2F..%2F%C3%A9");
    }

    #[test]
    fn a_hostile_report_puts_no_markup_of_its_own_on_the_page() {
        let mut report = sample::graded();
        let evil = "<script>alert(1)</script>\"' onload=x";
        report.submission = evil.into();
        report.warnings = vec![evil.into()];
        for part in &mut report.parts {
            part.summary = evil.into();
            part.title = evil.into();
            for run in &mut part.runs {
                run.detail = Some(evil.into());
                run.output = Some(evil.into());
                if let Some(d) = &mut run.diagnosis {
                    d.explanation = evil.into();
                    for a in &mut d.ranks {
                        a.location = Some(evil.into());
                        a.waits = vec![evil.into()];
                    }
                }
            }
        }
        let html = page(&report);
        assert!(!html.contains("<script"), "{html}");
        assert!(
            !html.contains("\"' onload"),
            "a quote of the student's ends no attribute"
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39; onload=x"));
        // The graph is still drawn, the student's text only in its escaped form.
        assert!(html.contains("<svg"));
    }

    #[test]
    fn a_run_page_draws_its_deadlock() {
        let d = sample::diagnosis(false);
        let html = run_page(
            "mpi-grade run ./a.out <x>",
            &[("outcome", "deadlock".into())],
            Some(&d),
        );
        assert!(html.contains("<h1>mpi-grade run ./a.out &lt;x&gt;</h1>"));
        assert_eq!(html.matches("<g class=\"edge cycle\">").count(), 2);
        assert!(!run_page("t", &[], None).contains("<svg"));
    }

    #[test]
    fn the_page_says_what_graded_it_and_how_to_regrade() {
        let report = sample::graded();
        let html = page(&report);
        for needle in [
            format!("sha256 {}", report.config.sha256),
            format!("--seed {}", report.seed_string),
            format!("commit {}", report.grader.commit),
        ] {
            assert!(html.contains(&needle), "{needle} not on the page");
        }
    }

    #[test]
    fn the_page_is_self_contained() {
        let html = page(&sample::graded());
        for external in ["http://", "https://", "<script", "<link", "src=\""] {
            assert!(!html.contains(external), "{external} in the page");
        }
        assert!(html.contains("seed"));
        assert!(html.contains("42 (mpi-grade grade --seed 42"));
        assert!(html.contains("Open MPI 4.1.4"));
    }
}
