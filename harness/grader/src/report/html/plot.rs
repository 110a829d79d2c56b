//! Log-log plots of a part's time against block size, one per rank count: the part's passed
//! runs as a line, beside the references and `MPI_Alltoall` where the report's comparison
//! measured them (without a comparison, the part alone).

use super::escape;
use crate::fmt;
use crate::report::{Mode, OutcomeKind, PartReport, Report};
use std::collections::BTreeMap;

/// Series colours: the part first, then the baselines in the comparison's order.
const COLOURS: [&str; 6] = [
    "#c62828", "#1565c0", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f",
];
const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 250.0;
const LEFT: f64 = 58.0;
const BOTTOM: f64 = 36.0;
const TOP: f64 = 12.0;
const RIGHT: f64 = 12.0;

/// One line of a plot: its name and its points (size, seconds).
pub struct Series {
    /// `part2`, or a baseline's name.
    pub name: String,
    /// (elements per block, seconds), by size.
    pub points: Vec<(f64, f64)>,
}

/// The plots of `part`, one per rank count with at least one timed size; empty without any.
pub fn part_plots(report: &Report, part: &PartReport) -> String {
    series_by_ranks(report, part)
        .iter()
        .map(|(ranks, series)| plot(&format!("{ranks} ranks"), series))
        .collect()
}

/// The series of `part` at each rank count: the part's own passed standard runs at every
/// size, and each baseline where the comparison measured it (often the largest size only).
pub fn series_by_ranks(report: &Report, part: &PartReport) -> BTreeMap<u32, Vec<Series>> {
    let mut by_ranks: BTreeMap<u32, BTreeMap<String, Vec<(f64, f64)>>> = BTreeMap::new();
    let mut order: Vec<String> = vec![part.name.clone()];
    for run in part.runs.iter().filter(|r| r.mode == Mode::Standard) {
        if let (OutcomeKind::Pass, Some(seconds)) = (run.outcome, run.seconds) {
            by_ranks
                .entry(run.ranks)
                .or_default()
                .entry(part.name.clone())
                .or_default()
                .push((run.scaling_factor as f64, seconds));
        }
    }
    let rows = report
        .comparison
        .iter()
        .flat_map(|c| &c.rows)
        .filter(|r| r.part == part.name);
    for row in rows {
        let series = by_ranks.entry(row.ranks).or_default();
        for against in &row.against {
            if !order.contains(&against.baseline) {
                order.push(against.baseline.clone());
            }
            series
                .entry(against.baseline.clone())
                .or_default()
                .push((row.scaling_factor as f64, against.seconds));
        }
    }
    by_ranks
        .into_iter()
        .map(|(ranks, mut named)| {
            let series = order
                .iter()
                .filter_map(|name| {
                    let mut points = named.remove(name)?;
                    points.retain(|&(x, y)| x > 0.0 && y > 0.0 && y.is_finite());
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    (!points.is_empty()).then(|| Series {
                        name: name.clone(),
                        points,
                    })
                })
                .collect();
            (ranks, series)
        })
        .filter(|(_, series): &(u32, Vec<Series>)| !series.is_empty())
        .collect()
}

/// Whole powers of ten around `low..=high` (at least one decade).
fn decades(low: f64, high: f64) -> (i32, i32) {
    let lo = low.log10().floor() as i32;
    let hi = (high.log10().ceil() as i32).max(lo + 1);
    (lo, hi)
}

/// One log-log plot: axes with decade ticks, a polyline and points per series, a legend.
pub fn plot(title: &str, series: &[Series]) -> String {
    let all = series.iter().flat_map(|s| &s.points);
    let (xs, ys): (Vec<f64>, Vec<f64>) = all.clone().copied().unzip();
    let min = |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min);
    let max = |v: &[f64]| v.iter().copied().fold(f64::MIN, f64::max);
    let (x0, x1) = decades(min(&xs), max(&xs));
    let (y0, y1) = decades(min(&ys), max(&ys));
    let legend_height = 14.0 * series.len() as f64;
    let height = HEIGHT + legend_height;
    let px =
        |x: f64| LEFT + (x.log10() - f64::from(x0)) / f64::from(x1 - x0) * (WIDTH - LEFT - RIGHT);
    let py =
        |y: f64| TOP + (f64::from(y1) - y.log10()) / f64::from(y1 - y0) * (HEIGHT - TOP - BOTTOM);
    let mut out = format!(
        "<svg class=\"plot\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"{}\">\n\
         <text x=\"{:.0}\" y=\"10\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>\n",
        escape(&format!("time against block size, {title}")),
        WIDTH / 2.0,
        escape(title),
    );
    for e in x0..=x1 {
        let x = px(10f64.powi(e));
        out.push_str(&format!(
            "<line class=\"tick\" x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{:.1}\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
            HEIGHT - BOTTOM,
            HEIGHT - BOTTOM + 12.0,
            fmt::thousands(10u64.pow(e.max(0) as u32))
        ));
    }
    for e in y0..=y1 {
        let y = py(10f64.powi(e));
        out.push_str(&format!(
            "<line class=\"tick\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            WIDTH - RIGHT,
            LEFT - 4.0,
            y + 3.0,
            fmt::duration(10f64.powi(e))
        ));
    }
    out.push_str(&format!(
        "<path class=\"axis\" d=\"M{LEFT},{TOP}V{:.1}H{:.1}\" fill=\"none\"/>\n\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">elements per block</text>\n",
        HEIGHT - BOTTOM,
        WIDTH - RIGHT,
        (LEFT + WIDTH - RIGHT) / 2.0,
        HEIGHT - 8.0
    ));
    for (i, s) in series.iter().enumerate() {
        out.push_str(&line(i, s, &px, &py));
    }
    out.push_str("</svg>\n");
    out
}

/// Series `i`'s line, its points (each with its numbers on hover) and its legend entry.
fn line(i: usize, s: &Series, px: &dyn Fn(f64) -> f64, py: &dyn Fn(f64) -> f64) -> String {
    let mut out = String::new();
    let colour = COLOURS[i % COLOURS.len()];
    let points: Vec<String> = s
        .points
        .iter()
        .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
        .collect();
    out.push_str(&format!(
        "<g class=\"series\"><polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{}\"/>",
        points.join(" "),
        if i == 0 { 2.5 } else { 1.5 }
    ));
    for &(x, y) in &s.points {
        out.push_str(&format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"><title>{}: {} elements, {}</title></circle>",
            px(x),
            py(y),
            escape(&s.name),
            fmt::thousands(x as u64),
            fmt::duration(y)
        ));
    }
    let ly = HEIGHT + 14.0 * i as f64;
    out.push_str(&format!(
        "<rect x=\"{LEFT}\" y=\"{:.1}\" width=\"14\" height=\"4\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text></g>\n",
        ly - 4.0,
        LEFT + 20.0,
        ly,
        escape(&s.name)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn the_comparison_gives_the_part_and_each_baseline_a_line() {
        let report = sample::graded();
        for part in &report.parts {
            let by_ranks = series_by_ranks(&report, part);
            for series in by_ranks.values() {
                assert_eq!(series[0].name, part.name);
                assert!(series.iter().all(|s| !s.points.is_empty()));
            }
        }
        let html: String = report
            .parts
            .iter()
            .map(|p| part_plots(&report, p))
            .collect();
        assert!(html.contains("<svg class=\"plot\""), "{html}");
        assert!(!html.contains("NaN") && !html.contains("inf"));
    }

    #[test]
    fn one_point_still_spans_a_decade() {
        let svg = plot(
            "2 ranks",
            &[Series {
                name: "part1".into(),
                points: vec![(100.0, 0.001)],
            }],
        );
        assert!(svg.contains("<circle"), "{svg}");
        assert!(!svg.contains("NaN"));
        assert_eq!(decades(100.0, 100.0), (2, 3));
    }
}
