//! A wait-for graph drawn as SVG, laid out here (deterministic, no program needed): the
//! ranks on a circle in rank order, each wait an arrow from the rank that waits to the rank it
//! waits on, curved so that the two directions between a pair stay apart, and labelled with
//! the call, the kind, the tag and the bytes. The cycle's ranks and arrows are red, a hang's
//! or a gone rank's culprits orange. Beside it, a table of the ranks: state, call, what it
//! waits for and the source line it is blocked at.

use super::escape;
use crate::fmt;
use crate::report::{PartReport, RunReport};
use crate::trace::diagnosis::{Diagnosis, StallKind, WaitEdge};
use std::collections::BTreeMap;
use std::f64::consts::PI;

/// A node's radius, in pixels.
const NODE: f64 = 22.0;
/// Above this many arrows, their words are left to the hover (`<title>`) and the ranks' table:
/// drawn, they would cover each other.
const LABELLED_ARROWS: usize = 24;

/// Every diagnosed run of `part`: its title, the graph and the ranks' table, each under a
/// `<details>` that is open for the runs that decided a failed part (for a part that passed,
/// or whose failure no stall decided, the first).
pub fn part_graphs(part: &PartReport) -> String {
    let diagnosed: Vec<&RunReport> = part.runs.iter().filter(|r| r.diagnosis.is_some()).collect();
    let deciding = |r: &RunReport| !part.passed && part.decided_by(r);
    let any_deciding = diagnosed.iter().any(|r| deciding(r));
    let mut out = String::new();
    for (i, run) in diagnosed.into_iter().enumerate() {
        let Some(d) = &run.diagnosis else { continue };
        let open = if deciding(run) || (!any_deciding && i == 0) {
            " open"
        } else {
            ""
        };
        out.push_str(&format!(
            "<details class=\"stall\"{open}><summary>{} at {}</summary>\n",
            kind_title(d),
            escape(&crate::report::text::cell_name(run))
        ));
        let id = format!(
            "{}-{}-{}-{}",
            part.name,
            run.ranks,
            run.scaling_factor,
            run.mode.as_str()
        );
        out.push_str(&stall(d, &id));
        out.push_str("</details>\n");
    }
    out
}

/// One stall: the explanation, the graph and the ranks' table.
pub fn stall(d: &Diagnosis, id: &str) -> String {
    format!(
        "<p>{}</p>\n<div class=\"figures\">{}{}</div>\n",
        escape(&d.explanation),
        svg(d, id),
        ranks_table(d)
    )
}

/// The title of a stall: `Deadlock`, `Hang`, ...
pub fn title(d: &Diagnosis) -> &'static str {
    kind_title(d)
}

fn kind_title(d: &Diagnosis) -> &'static str {
    match d.kind {
        StallKind::Deadlock => "Deadlock",
        StallKind::Hang => "Hang",
        StallKind::Gone => "A rank is gone",
        StallKind::CallMismatch => "Call mismatch",
    }
}

/// The ranks a graph draws: those of the diagnosis, and any an edge names besides.
fn nodes(d: &Diagnosis) -> Vec<u32> {
    let mut nodes: Vec<u32> = d.ranks.iter().map(|a| a.rank).collect();
    for e in &d.edges {
        nodes.extend([e.from, e.to]);
    }
    nodes.sort_unstable();
    nodes.dedup();
    nodes
}

/// Where each node goes: on a circle, rank order clockwise from the top.
pub fn layout(count: usize) -> (f64, Vec<(f64, f64)>) {
    let radius = match count {
        0 | 1 => 0.0,
        2 => 110.0,
        n => (NODE * 3.2 * n as f64 / (2.0 * PI)).max(120.0),
    };
    let size = 2.0 * (radius + NODE + 100.0);
    let centre = size / 2.0;
    let points = (0..count)
        .map(|i| {
            let angle = -PI / 2.0 + 2.0 * PI * i as f64 / count.max(1) as f64;
            (centre + radius * angle.cos(), centre + radius * angle.sin())
        })
        .collect();
    (size, points)
}

/// Whether `from → to` is an arrow of the cycle.
fn in_cycle(cycle: &[u32], from: u32, to: u32) -> bool {
    let n = cycle.len();
    (0..n).any(|i| cycle[i] == from && cycle[(i + 1) % n] == to)
}

/// One arrow's words: `MPI_Send, tag 0, 78 KiB`, `MPI_Barrier (collective)`.
fn edge_label(e: &WaitEdge) -> String {
    match e.kind {
        "send" | "recv" => {
            let tag = e.tag.map_or("any tag".to_string(), |t| format!("tag {t}"));
            format!("{} {}, {tag}, {}", e.function, e.kind, fmt::bytes(e.bytes))
        }
        kind => format!("{} ({kind})", e.function),
    }
}

/// The SVG of `d`'s wait-for graph; `id` keeps its arrowheads apart from other graphs'.
pub fn svg(d: &Diagnosis, id: &str) -> String {
    let nodes = nodes(d);
    let (size, points) = layout(nodes.len());
    let at = |rank: u32| points[nodes.binary_search(&rank).expect("every rank is a node")];
    let marker = |class: &str| escape(&format!("arrow-{class}-{id}"));
    let mut out = format!(
        "<svg class=\"wait-for\" width=\"{size:.0}\" height=\"{size:.0}\" viewBox=\"0 0 {size:.0} {size:.0}\" role=\"img\" aria-label=\"wait-for graph\">\n<defs>{}{}</defs>\n",
        arrowhead(&marker("plain"), "#777"),
        arrowhead(&marker("cycle"), "#c62828"),
    );
    // One arrow per pair of ranks, its waits' labels stacked.
    let mut pairs: BTreeMap<(u32, u32), Vec<String>> = BTreeMap::new();
    for e in &d.edges {
        let labels = pairs.entry((e.from, e.to)).or_default();
        let label = edge_label(e);
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    let labelled = pairs.len() <= LABELLED_ARROWS;
    for (&(from, to), labels) in &pairs {
        let cycle = in_cycle(&d.cycle, from, to);
        let class = if cycle { "cycle" } else { "plain" };
        let (path, (lx, ly)) = arrow_path(at(from), at(to), size / 2.0);
        let shown: Vec<String> = labels
            .iter()
            .take(if labelled { 3 } else { 0 })
            .cloned()
            .collect();
        let mut text = String::new();
        for (i, label) in shown.iter().enumerate() {
            text.push_str(&format!(
                "<tspan x=\"{lx:.1}\" dy=\"{}\">{}</tspan>",
                if i == 0 { "0" } else { "1.1em" },
                escape(label)
            ));
        }
        if labelled && labels.len() > shown.len() {
            text.push_str(&format!(
                "<tspan x=\"{lx:.1}\" dy=\"1.1em\">and {} more</tspan>",
                labels.len() - shown.len()
            ));
        }
        out.push_str(&format!(
            "<g class=\"edge {class}\"><title>rank {from} waits on rank {to}: {}</title>\
             <path d=\"{path}\" marker-end=\"url(#{})\"/>\
             <text x=\"{lx:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\">{text}</text></g>\n",
            escape(&labels.join("; ")),
            marker(class),
        ));
    }
    for (i, &rank) in nodes.iter().enumerate() {
        out.push_str(&node(d, rank, points[i], size / 2.0));
    }
    out.push_str("</svg>\n");
    out
}

fn arrowhead(id: &str, colour: &str) -> String {
    format!(
        "<marker id=\"{id}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" \
         markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"{colour}\"/></marker>"
    )
}

/// The path of an arrow from the circle at `a` to the circle at `b` (a loop for a rank that
/// waits on itself), bent to its right so that `b → a` takes the other side; and where its
/// label goes.
fn arrow_path(a: (f64, f64), b: (f64, f64), centre: f64) -> (String, (f64, f64)) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length = (dx * dx + dy * dy).sqrt();
    if length < 1e-6 {
        // A loop above the node, outwards from the centre.
        let (ox, oy) = (a.0 - centre, a.1 - centre);
        let norm = (ox * ox + oy * oy).sqrt().max(1e-6);
        let (ux, uy) = if norm > 1e-3 {
            (ox / norm, oy / norm)
        } else {
            (0.0, -1.0)
        };
        let tip = (a.0 + ux * 3.2 * NODE, a.1 + uy * 3.2 * NODE);
        let (px, py) = (-uy * NODE, ux * NODE);
        let path = format!(
            "M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
            a.0 + ux * NODE + px * 0.4,
            a.1 + uy * NODE + py * 0.4,
            tip.0 + px,
            tip.1 + py,
            tip.0 - px,
            tip.1 - py,
            a.0 + ux * NODE - px * 0.4,
            a.1 + uy * NODE - py * 0.4
        );
        return (path, (tip.0 + ux * 10.0, tip.1 + uy * 10.0));
    }
    let (ux, uy) = (dx / length, dy / length);
    // The right-hand normal (screen coordinates: y down).
    let (nx, ny) = (-uy, ux);
    let bend = (length * 0.22).min(70.0);
    let control = ((a.0 + b.0) / 2.0 + nx * bend, (a.1 + b.1) / 2.0 + ny * bend);
    let leave = unit(control.0 - a.0, control.1 - a.1);
    let arrive = unit(b.0 - control.0, b.1 - control.1);
    let start = (a.0 + leave.0 * NODE, a.1 + leave.1 * NODE);
    let end = (b.0 - arrive.0 * (NODE + 2.0), b.1 - arrive.1 * (NODE + 2.0));
    let path = format!(
        "M{:.1},{:.1} Q{:.1},{:.1} {:.1},{:.1}",
        start.0, start.1, control.0, control.1, end.0, end.1
    );
    // The curve's midpoint, pushed a little further to its side.
    let mid = (
        0.25 * start.0 + 0.5 * control.0 + 0.25 * end.0 + nx * 10.0,
        0.25 * start.1 + 0.5 * control.1 + 0.25 * end.1 + ny * 10.0 + 4.0,
    );
    (path, mid)
}

fn unit(x: f64, y: f64) -> (f64, f64) {
    let n = (x * x + y * y).sqrt().max(1e-9);
    (x / n, y / n)
}

/// A rank's circle, its number, its call under it, and all it is doing in its `<title>`.
fn node(d: &Diagnosis, rank: u32, (x, y): (f64, f64), centre: f64) -> String {
    let activity = d.ranks.iter().find(|a| a.rank == rank);
    let class = if d.cycle.contains(&rank) {
        "node cycle"
    } else if d.culprits.contains(&rank) {
        "node culprit"
    } else {
        "node"
    };
    let call = activity
        .and_then(|a| a.function.clone())
        .or_else(|| activity.map(|a| a.state.to_string()))
        .unwrap_or_default();
    let mut hover = format!("rank {rank}");
    if let Some(a) = activity {
        hover.push_str(&format!(": {} {}", a.state, call));
        if !a.waits.is_empty() {
            hover.push_str(&format!(", waiting for {}", a.waits.join(" and ")));
        }
        if let Some(location) = &a.location {
            hover.push_str(&format!(" at {location}"));
        }
    }
    // The call's name outside the circle, away from the centre, where no arrow arrives.
    let (ux, uy) = if (x - centre).abs() + (y - centre).abs() < 1e-6 {
        (0.0, 1.0)
    } else {
        unit(x - centre, y - centre)
    };
    let (cx, cy) = (x + ux * (NODE + 14.0), y + uy * (NODE + 10.0) + 4.0);
    format!(
        "<g class=\"{class}\" data-rank=\"{rank}\"><title>{}</title>\
         <circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{NODE}\"/>\
         <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{rank}</text>\
         <text class=\"call\" x=\"{cx:.1}\" y=\"{cy:.1}\" text-anchor=\"{}\" font-size=\"11\">{}</text></g>\n",
        escape(&hover),
        y + 5.0,
        if ux > 0.3 { "start" } else if ux < -0.3 { "end" } else { "middle" },
        escape(&call)
    )
}

/// The ranks of `d`: state, call, waits, how long, and where in the source.
fn ranks_table(d: &Diagnosis) -> String {
    let mut out = String::from(
        "<table class=\"ranks\"><tr><th>rank</th><th>state</th><th>call</th><th>waits for</th><th>for</th><th>source</th></tr>\n",
    );
    for a in &d.ranks {
        let mark = if d.cycle.contains(&a.rank) {
            " class=\"failed\""
        } else {
            ""
        };
        out.push_str(&format!(
            "<tr{mark}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2} s</td><td><code>{}</code></td></tr>\n",
            a.rank,
            escape(a.state),
            escape(a.function.as_deref().unwrap_or("")),
            escape(&a.waits.join("; ")),
            a.seconds,
            escape(a.location.as_deref().unwrap_or("")),
        ));
    }
    out.push_str("</table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;
    use crate::trace::diagnosis::RankActivity;

    /// A three-rank cycle 0 → 1 → 2 → 0, and rank 3 waiting on rank 0 outside it.
    fn ring() -> Diagnosis {
        let mut d = sample::diagnosis(false);
        let edge = |from, to| WaitEdge {
            from,
            to,
            kind: "recv",
            function: "MPI_Recv".into(),
            tag: None,
            bytes: 8,
        };
        d.edges = vec![edge(0, 1), edge(1, 2), edge(2, 0), edge(3, 0)];
        d.cycle = vec![0, 1, 2];
        d.ranks = (0..4)
            .map(|rank| RankActivity {
                rank,
                state: "blocked",
                function: Some("MPI_Recv".into()),
                waits: vec![format!("a message from rank {}", (rank + 1) % 3)],
                seconds: 1.0,
                in_student_code: true,
                location: Some(format!("src/lib.rs:{} (part2)", 10 + rank)),
            })
            .collect();
        d
    }

    #[test]
    fn the_cycle_is_drawn_in_red_and_the_rest_not() {
        let svg = svg(&ring(), "t");
        assert_eq!(svg.matches("<g class=\"edge cycle\">").count(), 3, "{svg}");
        assert_eq!(svg.matches("<g class=\"edge plain\">").count(), 1);
        assert_eq!(svg.matches("<g class=\"node cycle\"").count(), 3);
        assert_eq!(svg.matches("<g class=\"node\"").count(), 1);
        assert!(svg.contains("<title>rank 3 waits on rank 0: MPI_Recv recv, any tag, 8 B</title>"));
        assert!(svg.contains("url(#arrow-cycle-t)"));
        assert!(svg.contains("at src/lib.rs:12 (part2)"));
    }

    #[test]
    fn both_directions_between_two_ranks_bend_apart_and_the_layout_is_fixed() {
        let d = sample::diagnosis(false);
        let first = svg(&d, "a");
        assert_eq!(first, svg(&d, "a"), "the same graph, the same drawing");
        let paths: Vec<&str> = first
            .split("<path d=\"")
            .skip(3)
            .map(|p| p.split('"').next().unwrap())
            .collect();
        assert_eq!(paths.len(), 2, "{first}");
        assert_ne!(paths[0], paths[1]);
        let (size, points) = layout(2);
        assert!(points
            .iter()
            .all(|&(x, y)| x > 0.0 && x < size && y > 0.0 && y < size));
        let (_, many) = layout(64);
        let closest = many
            .windows(2)
            .map(|w| ((w[0].0 - w[1].0).powi(2) + (w[0].1 - w[1].1).powi(2)).sqrt())
            .fold(f64::MAX, f64::min);
        assert!(closest > 2.0 * NODE, "64 ranks do not overlap: {closest}");
    }

    #[test]
    fn only_the_deciding_stalls_are_open() {
        let report = sample::graded();
        let failed = &report.parts[2];
        let html = part_graphs(failed);
        let open = html.matches("<details class=\"stall\" open>").count();
        let deciding = failed
            .runs
            .iter()
            .filter(|r| r.diagnosis.is_some() && failed.decided_by(r))
            .count();
        assert!(deciding > 0);
        assert_eq!(open, deciding, "{html}");
        let passed = &report.parts[0];
        let html = part_graphs(passed);
        assert_eq!(html.matches(" open>").count(), 1, "{html}");
    }

    #[test]
    fn a_hang_marks_its_culprit_and_a_big_ring_keeps_words_to_the_hover() {
        let mut d = sample::diagnosis(false);
        d.kind = StallKind::Hang;
        d.cycle = vec![];
        d.culprits = vec![1];
        d.edges.truncate(1);
        d.ranks[1].state = "running";
        d.ranks[1].function = None;
        let svg = svg(&d, "hang");
        assert_eq!(svg.matches("<g class=\"node culprit\"").count(), 1, "{svg}");
        assert!(svg.contains(">running</text>"));
        assert!(!svg.contains("edge cycle"));
        // 64 ranks in a ring: every arrow drawn and hoverable, none labelled on the picture.
        let mut ring = ring();
        ring.edges = (0..64)
            .map(|r| WaitEdge {
                from: r,
                to: (r + 1) % 64,
                ..ring.edges[0].clone()
            })
            .collect();
        ring.cycle = (0..64).collect();
        ring.ranks.clear();
        let svg = super::svg(&ring, "big");
        assert_eq!(svg.matches("<g class=\"edge cycle\">").count(), 64);
        assert_eq!(svg.matches("<tspan").count(), 0);
        assert_eq!(svg.matches("<title>rank ").count(), 128);
    }

    #[test]
    fn a_rank_waiting_on_itself_gets_a_loop() {
        let mut d = sample::diagnosis(false);
        d.edges.truncate(1);
        d.edges[0].to = 0;
        d.cycle = vec![0];
        let svg = svg(&d, "self");
        assert!(svg.contains(" C"), "{svg}");
        assert!(!svg.contains("NaN"));
    }
}
