//! The step from verdicts to the report: a part's verdict and its cells' records become the
//! report's data ([`PartReport`], [`RunReport`]), with the submission's paths written as the
//! user gave them. Exporters and renderers read only what this builds.

use crate::config::Part;
use crate::judge::outcome::Cell;
use crate::judge::part::Verdict;
use crate::report::{FailureKind, PartReport, RunReport};
use crate::run::matrix::{CellRecord, Results};
use crate::trace::usage::Usage;

/// The report of one part; `short` writes the submission's paths as the user gave them.
pub fn part(
    short: &dyn Fn(&str) -> String,
    part: &Part,
    verdict: Verdict,
    details: Option<String>,
    results: &Results,
) -> PartReport {
    let runs = results
        .iter()
        .filter(|(cell, _)| cell.part == part.name)
        .map(|(cell, record): (&Cell, &CellRecord)| {
            let r = &record.result;
            RunReport {
                ranks: cell.ranks,
                scaling_factor: cell.scaling_factor,
                mode: cell.mode,
                outcome: r.outcome.kind(),
                seconds: r.timing.map(|t| t.seconds),
                detail: r.outcome.explain().map(|d| short(&d)),
                output: r.output.as_deref().map(short),
                messages: record.usage.as_ref().map(Usage::messages),
                bytes: record.usage.as_ref().map(Usage::message_bytes),
                calls: record
                    .usage
                    .as_ref()
                    .map(Usage::by_name)
                    .unwrap_or_default(),
                diagnosis: r.outcome.diagnosis().cloned().map(|mut d| {
                    d.explanation = short(&d.explanation);
                    d
                }),
            }
        })
        .collect();
    PartReport {
        name: part.name.clone(),
        title: part.title.clone(),
        expect: part.expect,
        passed: verdict.passed,
        failure: verdict.failure.as_ref().map(FailureKind::from),
        summary: short(&verdict.summary),
        points: verdict.points,
        max_points: part.points,
        visibility: part.visibility,
        details,
        calls: part_usage(part, results)
            .map(|u| u.by_name())
            .unwrap_or_default(),
        credit: verdict
            .credit
            .into_iter()
            .map(|mut group| {
                group.summary = short(&group.summary);
                group
            })
            .collect(),
        runs,
    }
}

/// What the part's function called over all its traced runs.
pub fn part_usage(part: &Part, results: &Results) -> Option<Usage> {
    let mut total: Option<Usage> = None;
    for (_, record) in results.iter().filter(|(cell, _)| cell.part == part.name) {
        if let Some(usage) = &record.usage {
            total.get_or_insert_with(Usage::default).add(usage);
        }
    }
    total
}
