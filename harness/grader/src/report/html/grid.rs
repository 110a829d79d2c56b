//! A part's matrix as a coloured grid: rows by rank count (zero-buffer rows after the
//! standard ones), columns by size, each cell the terminal's symbol and time, its whole
//! detail on hover (`title`), and the failed cells' details and output under a `<details>`.

use super::escape;
use crate::fmt;
use crate::report::{table, OutcomeKind, PartReport, RunReport};

/// The grid of `part`, its legend, and the failed cells' details; a sentence when it has no run.
pub fn grid(part: &PartReport) -> String {
    let sizes = table::sizes(part);
    let rows = table::rows(part);
    if rows.is_empty() || sizes.is_empty() {
        return "<p class=\"muted grid-empty\">No run of this part.</p>\n".to_string();
    }
    let mut out = String::from("<table class=\"grid\">\n<tr><th>ranks \\ size</th>");
    for size in &sizes {
        out.push_str(&format!("<th>{}</th>", fmt::thousands(*size)));
    }
    out.push_str("</tr>\n");
    for &row in &rows {
        out.push_str(&format!(
            "<tr><th>{}</th>",
            escape(&table::row_label(row.0, row.1))
        ));
        for &size in &sizes {
            match table::run_at(part, row, size) {
                Some(run) => out.push_str(&format!(
                    "<td class=\"o-{}\" title=\"{}\">{}</td>",
                    run.outcome.name(),
                    escape(&hover(run)),
                    escape(&table::cell(run))
                )),
                None => out.push_str("<td class=\"none\"></td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    let legend = table::legend(part.runs.iter());
    out.push_str(&format!(
        "<p class=\"legend muted\">{}</p>\n",
        escape(&legend.join(" · "))
    ));
    out.push_str(&failed_details(part));
    out
}

/// Everything about one cell, for its tooltip.
fn hover(run: &RunReport) -> String {
    let mut lines = vec![format!(
        "{} in {} mode: {}",
        fmt::ranks_and_size(run.ranks, run.scaling_factor),
        run.mode.as_str(),
        table::legend_words(run.outcome)
    )];
    if let Some(seconds) = run.seconds {
        lines.push(format!("time: {}", fmt::duration(seconds)));
    }
    if let (Some(messages), Some(bytes)) = (run.messages, run.bytes) {
        lines.push(format!(
            "{} messages, {}",
            fmt::thousands(messages),
            fmt::bytes(bytes)
        ));
    }
    if let Some(detail) = &run.detail {
        lines.push(detail.clone());
    }
    lines.join("\n")
}

/// The cells that did not pass, each expandable to its detail and captured output.
fn failed_details(part: &PartReport) -> String {
    let failed: Vec<&RunReport> = part
        .runs
        .iter()
        .filter(|r| r.outcome != OutcomeKind::Pass && r.outcome != OutcomeKind::NotRun)
        .collect();
    if failed.is_empty() {
        return String::new();
    }
    let mut out = String::from("<div class=\"cells\">\n");
    for run in failed {
        out.push_str(&format!(
            "<details class=\"cell\"><summary>{} {}</summary>\n",
            escape(&crate::report::text::cell_name(run)),
            escape(table::legend_words(run.outcome))
        ));
        if let Some(detail) = &run.detail {
            out.push_str(&format!("<pre>{}</pre>\n", escape(detail)));
        }
        if let Some(output) = &run.output {
            out.push_str(&format!(
                "<p class=\"muted\">The job's output:</p><pre>{}</pre>\n",
                escape(output)
            ));
        }
        out.push_str("</details>\n");
    }
    out.push_str("</div>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn every_cell_has_its_symbol_colour_and_detail() {
        let part = &sample::graded().parts[1];
        let html = grid(part);
        assert!(html.contains("<td class=\"o-wrong-result\""), "{html}");
        assert!(
            html.contains("<td class=\"o-pass\" title=\"2 ranks"),
            "{html}"
        );
        assert!(html.contains(">✗</td>"));
        assert!(html.contains("<th>2 zero-buffer</th>"));
        assert!(html.contains("<details class=\"cell\">"));
        assert_eq!(html.matches("<tr>").count(), 1 + table::rows(part).len());
    }

    #[test]
    fn an_empty_matrix_says_so() {
        let part = sample::part("part1", "", crate::report::Expect::Complete, 1.0);
        assert_eq!(
            grid(&part),
            "<p class=\"muted grid-empty\">No run of this part.</p>\n"
        );
    }
}
