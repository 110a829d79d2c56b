//! What a stuck launch looked like, explained: which ranks are in which calls, what they wait
//! for, the cycle, and (once stacks are symbolised) where in the source each one is.

use super::graph::{Analysis, Status};
use super::matching::Mismatch;
use super::records::{Call, Peer, RankSnapshot, Wait};
use crate::fmt::thousands;
use mpi_grade_protocol::trace::{Func, WaitKind};
use serde::Serialize;

/// The kind of stall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StallKind {
    /// Blocked ranks that no rank can ever release.
    Deadlock,
    /// Blocked ranks waiting on ranks that run outside MPI and do not come back.
    Hang,
    /// Blocked ranks waiting on a rank whose process is gone.
    Gone,
    /// Ranks that called a communicator's collectives differently (whether or not the
    /// library then blocked): [`Diagnosis::mismatch`] says how.
    CallMismatch,
}

/// One rank's part in a stall.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankActivity {
    /// World rank.
    pub rank: u32,
    /// `"blocked"`, `"running"` (outside MPI), `"gone"` or `"finalized"`.
    pub state: &'static str,
    /// The MPI function it is blocked in.
    pub function: Option<String>,
    /// What the call waits for, in words ("a send to rank 1, tag 0, 8 000 B").
    pub waits: Vec<String>,
    /// Seconds in that call, or since the rank's last MPI call when running.
    pub seconds: f64,
    /// `true` when in the student's code, `false` when in the grader's own calls around it.
    pub in_student_code: bool,
    /// Where in the source, when a stack was captured and symbolised (`src/lib.rs:12 (part1)`).
    pub location: Option<String>,
}

/// An edge of the wait-for graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitEdge {
    /// World rank that waits.
    pub from: u32,
    /// World rank it waits on.
    pub to: u32,
    /// `"send"`, `"recv"`, `"collective"` or `"finalize"`.
    pub kind: &'static str,
    /// The MPI function `from` is blocked in.
    pub function: String,
    /// Tag of the operation; `None` for any tag or none.
    pub tag: Option<i32>,
    /// Payload bytes of the operation.
    pub bytes: u64,
}

/// A stall, with everything needed to explain it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Diagnosis {
    /// What kind of stall this is.
    pub kind: StallKind,
    /// The ranks involved, in rank order.
    pub ranks: Vec<RankActivity>,
    /// A cycle of waiting ranks, when there is one.
    pub cycle: Vec<u32>,
    /// The rank(s) the others wait for (a hang's runners, a gone rank).
    pub culprits: Vec<u32>,
    /// The waits between the ranks involved.
    pub edges: Vec<WaitEdge>,
    /// Standard sends were synchronous (zero-buffer mode).
    pub zero_buffer: bool,
    /// Every rank was blocked and none progressed, though no wait-for cycle explains it.
    pub stalled: bool,
    /// The explanation in a few sentences.
    pub explanation: String,
    /// For a call mismatch: the two calls that differ.
    pub mismatch: Option<Mismatch>,
}

impl Diagnosis {
    /// Builds the diagnosis of `analysis` for the ranks in `involved`.
    pub fn new(
        kind: StallKind,
        snapshot: &[RankSnapshot],
        analysis: &Analysis,
        culprits: Vec<u32>,
        now_ns: u64,
    ) -> Diagnosis {
        let mut involved: Vec<u32> = analysis.deadlocked.iter().copied().collect();
        for &c in &culprits {
            if !involved.contains(&c) {
                involved.push(c);
            }
        }
        if kind == StallKind::Hang {
            for waiters in culprits
                .iter()
                .filter_map(|c| analysis.waiting_on_free.get(c))
            {
                involved.extend(
                    waiters
                        .iter()
                        .filter(|w| !involved.contains(w))
                        .collect::<Vec<_>>(),
                );
            }
        }
        involved.sort_unstable();
        let ranks = involved
            .iter()
            .map(|&r| activity(&snapshot[r as usize], analysis.status[r as usize], now_ns))
            .collect();
        let edges = analysis
            .edges
            .iter()
            .filter_map(|e| {
                let call = snapshot[e.from as usize].call.as_ref()?;
                let w = call.waits.get(e.wait)?;
                Some(WaitEdge {
                    from: e.from,
                    to: e.to,
                    kind: kind_name(w.kind),
                    function: call.func.name().to_string(),
                    tag: w.tag,
                    bytes: w.bytes,
                })
            })
            .collect();
        let zero_buffer = involved.iter().any(|&r| snapshot[r as usize].zero_buffer);
        let mut d = Diagnosis {
            kind,
            ranks,
            cycle: analysis.cycle.clone().unwrap_or_default(),
            culprits,
            edges,
            zero_buffer,
            stalled: false,
            explanation: String::new(),
            mismatch: None,
        };
        d.explanation = d.explain();
        d
    }

    /// The diagnosis of a collective mismatch: the ranks of the two calls as they are now.
    pub fn mismatch(snapshot: &[RankSnapshot], mismatch: Mismatch, now_ns: u64) -> Diagnosis {
        let involved = mismatch.ranks.clone();
        let analysis = super::graph::analyze(
            snapshot,
            &vec![super::graph::Presence::Alive; snapshot.len()],
        );
        let mut d = Diagnosis::new(
            StallKind::CallMismatch,
            snapshot,
            &Analysis {
                deadlocked: Default::default(),
                edges: Vec::new(),
                cycle: None,
                ..analysis
            },
            involved,
            now_ns,
        );
        d.mismatch = Some(mismatch);
        d.explanation = d.explain();
        d
    }

    /// Every rank blocked and none completing a call for a long time, although the graph finds
    /// what they wait for met: a deadlock it cannot explain call by call.
    pub fn stalled(
        snapshot: &[RankSnapshot],
        analysis: &Analysis,
        blocked: Vec<u32>,
        now_ns: u64,
    ) -> Diagnosis {
        let mut d = Diagnosis::new(StallKind::Deadlock, snapshot, analysis, blocked, now_ns);
        d.stalled = true;
        d.explanation = d.explain();
        d
    }

    /// Adds source locations (after stacks were captured) and rewrites the explanation.
    pub fn locate(&mut self, locations: &[(u32, String)]) {
        for (rank, location) in locations {
            if let Some(a) = self.ranks.iter_mut().find(|a| a.rank == *rank) {
                a.location = Some(location.clone());
                // A line of the submission on the stack is the student's code calling, also
                // outside the marks (a Python file's code outside functions, at import).
                a.in_student_code = true;
            }
        }
        self.explanation = self.explain();
    }

    fn explain(&self) -> String {
        if let Some(m) = &self.mismatch {
            let now: Vec<String> = self
                .ranks
                .iter()
                .filter_map(|a| Some(format!("rank {} is at {}", a.rank, a.location.as_deref()?)))
                .collect();
            let now = if now.is_empty() {
                String::new()
            } else {
                format!(" Since then, {}.", now.join(", "))
            };
            let (what, rule) = match m.kind {
                "truncation" => ("A message does not fit its receive", "MPI requires a receive's buffer to hold the whole message it matches; the library stops the program (MPI_ERR_TRUNCATE) or the data is cut"),
                "type" => ("A message's datatypes do not match", "MPI requires the type signature of a send and of the receive that matches it to agree; the library does not check it when the bytes agree, and the receiver reads the bytes as another type"),
                "unmatched" => ("A message or request was left unmatched", "MPI requires every message to be received and every request to be completed before MPI_Finalize; the library may let the program end anyway"),
                _ => ("Collective calls do not match", "MPI requires every rank of a communicator to make its collective calls in the same order, with the same root, operation and amount of data; the library does not check this, and pairs the calls anyway (wrong data, an unrelated error or a hang follow)"),
            };
            return format!("{what}: {}. {rule}.{now}", m.summary);
        }
        let describe = |a: &RankActivity| {
            let at = a
                .location
                .as_deref()
                .map(|l| format!(" at {l}"))
                .unwrap_or_default();
            let whose = if a.in_student_code || a.state != "blocked" {
                ""
            } else {
                " (the grader's own call, after the part returned)"
            };
            match a.state {
                "blocked" => format!(
                    "rank {} is blocked in {} waiting for {}{at}{whose}",
                    a.rank,
                    a.function.as_deref().unwrap_or("MPI"),
                    a.waits.join(" and ")
                ),
                "running" => format!(
                    "rank {} has been running outside MPI for {:.1} s{at}",
                    a.rank, a.seconds
                ),
                "finalized" => format!("rank {} has finalised MPI", a.rank),
                _ => format!("rank {}'s process is gone", a.rank),
            }
        };
        let listed: Vec<String> = self.ranks.iter().take(8).map(describe).collect();
        let more = self.ranks.len().saturating_sub(8);
        let mut text = listed.join("; ");
        if more > 0 {
            text.push_str(&format!("; and {more} more ranks"));
        }
        let why = match self.kind {
            StallKind::Deadlock if self.stalled => {
                let longest = self.ranks.iter().map(|a| a.seconds).fold(0.0, f64::max);
                format!(
                    "no rank has completed an MPI call for {longest:.1} s and none runs outside MPI, although what they wait for looks matched: usually collective calls made in a different order on different ranks, one collective's message taken by another"
                )
            }
            StallKind::Deadlock => self.deadlock_reason(),
            StallKind::Hang => self.hang_reason(),
            StallKind::Gone => format!(
                "{} exited while others still wait for it",
                rank_list(&self.culprits)
            ),
            StallKind::CallMismatch => match self.mismatch.as_ref().map(|m| m.kind) {
                Some("type") => "the datatypes of a send and its receive do not match".to_string(),
                Some("truncation") => "a message is larger than the receive's buffer".to_string(),
                Some("unmatched") => {
                    "a message or request was left unmatched at the end".to_string()
                }
                _ => "their collective calls do not match".to_string(),
            },
        };
        format!(
            "{}{text}. {}.",
            capitalise_first(&self.headline()),
            capitalise_first(&why)
        )
    }

    /// What was seen of a hang: how long the culprits have not called MPI, who waits for them.
    fn hang_reason(&self) -> String {
        let who = rank_list(&self.culprits);
        let idle = self
            .ranks
            .iter()
            .filter(|a| self.culprits.contains(&a.rank))
            .map(|a| a.seconds)
            .fold(f64::INFINITY, f64::min);
        let waiting: Vec<u32> = self
            .ranks
            .iter()
            .filter(|a| a.state == "blocked")
            .map(|a| a.rank)
            .collect();
        let verb = if self.culprits.len() == 1 {
            "has"
        } else {
            "have"
        };
        let since = if idle.is_finite() {
            format!(" for {idle:.1} s")
        } else {
            String::new()
        };
        let whom = match waiting.len() {
            0 => String::new(),
            1 => format!(" while rank {} waits for it", waiting[0]),
            _ => format!(" while {} wait for it", rank_list(&waiting)),
        };
        format!("{who} {verb} not called MPI{since}{whom}, longer than the hang limit (a busy loop, a sleep, I/O that does not end, or a compute phase longer than the limit)")
    }

    fn headline(&self) -> String {
        match (self.kind, self.cycle.len()) {
            (StallKind::Deadlock, 0) => "deadlock: ".to_string(),
            (StallKind::Deadlock, 1) => {
                format!("deadlock: rank {} waits for itself; ", self.cycle[0])
            }
            (StallKind::Deadlock, _) => {
                let mut cycle: Vec<String> = self.cycle.iter().map(u32::to_string).collect();
                cycle.push(cycle[0].clone());
                format!("deadlock, cycle {}: ", cycle.join(" → "))
            }
            (StallKind::Hang, _) => "hang: ".to_string(),
            (StallKind::Gone, _) => "crash: ".to_string(),
            (StallKind::CallMismatch, _) => "call mismatch: ".to_string(),
        }
    }

    /// Two ranks whose collective edges join different collective calls.
    fn mismatched_collectives(&self) -> Option<(&RankActivity, &RankActivity)> {
        self.edges
            .iter()
            .filter(|e| e.kind == "collective")
            .find_map(|e| {
                let from = self.ranks.iter().find(|a| a.rank == e.from)?;
                let to = self.ranks.iter().find(|a| a.rank == e.to)?;
                let to_collective = to
                    .waits
                    .iter()
                    .any(|w| w.starts_with("every member to join"));
                (to.state == "blocked" && to_collective && to.function != from.function)
                    .then_some((from, to))
            })
    }

    /// Why the ranks of a deadlock cannot proceed, from the kinds of their waits.
    fn deadlock_reason(&self) -> String {
        // The cycle's own edges say why; ranks merely waiting on the cycle (in a barrier,
        // say) do not.
        let in_cycle = |e: &&WaitEdge| self.cycle.contains(&e.from) && self.cycle.contains(&e.to);
        let cycle_edges: Vec<&WaitEdge> = self.edges.iter().filter(in_cycle).collect();
        let edges: Vec<&WaitEdge> = if cycle_edges.is_empty() {
            self.edges.iter().collect()
        } else {
            cycle_edges
        };
        let kinds: Vec<&str> = edges.iter().map(|e| e.kind).collect();
        if !kinds.is_empty() && kinds.iter().all(|k| *k == "send") {
            if self.zero_buffer {
                "every send waits for a matching receive that is never posted; in zero-buffer mode no standard send is buffered, so a program that relies on buffering deadlocks at any size".to_string()
            } else {
                let largest = edges.iter().map(|e| e.bytes).max().unwrap_or(0);
                format!(
                    "every send waits for a matching receive that is never posted: the MPI library does not buffer messages this large ({} B), so a send cannot complete before its receive starts",
                    thousands(largest)
                )
            }
        } else if !kinds.is_empty() && kinds.iter().all(|k| *k == "recv") {
            "every rank waits to receive before it sends, so no message is ever sent".to_string()
        } else if let Some((a, b)) = self.mismatched_collectives() {
            format!(
                "rank {} is in {} and rank {} in {} on the same communicator: every member must make the same collective calls in the same order, so neither can complete",
                a.rank,
                a.function.as_deref().unwrap_or("a collective"),
                b.rank,
                b.function.as_deref().unwrap_or("another one")
            )
        } else if kinds.contains(&"collective") {
            "a collective call waits for ranks that never join it, while they wait for something only a member of the collective would do".to_string()
        } else if kinds.contains(&"finalize") {
            "a rank reached MPI_Finalize while others still wait for it to communicate".to_string()
        } else {
            "each rank waits for another one in the cycle, so none can proceed".to_string()
        }
    }
}

fn activity(s: &RankSnapshot, status: Status, now_ns: u64) -> RankActivity {
    let seconds = |since: u64| now_ns.saturating_sub(since) as f64 / 1e9;
    match (status, &s.call) {
        (Status::Blocked, Some(call)) => RankActivity {
            rank: s.rank,
            state: "blocked",
            function: Some(call.func.name().to_string()),
            waits: describe_waits(call),
            seconds: seconds(call.since_ns),
            in_student_code: call.cell.is_some(),
            location: None,
        },
        (Status::Finalized, _) | (Status::Gone, _) => RankActivity {
            rank: s.rank,
            state: if status == Status::Finalized {
                "finalized"
            } else {
                "gone"
            },
            function: None,
            waits: Vec::new(),
            seconds: 0.0,
            in_student_code: false,
            location: None,
        },
        _ => RankActivity {
            rank: s.rank,
            state: "running",
            function: None,
            waits: Vec::new(),
            seconds: seconds(s.progress_ns),
            in_student_code: s.cell.is_some(),
            location: None,
        },
    }
}

fn describe_waits(call: &Call) -> Vec<String> {
    let mut out: Vec<String> = call
        .waits
        .iter()
        .map(|w| describe_wait(call.func, w))
        .collect();
    out.dedup();
    if call.waits.is_empty() {
        out.push("completion".to_string());
    }
    if call.mode == mpi_grade_protocol::trace::WaitMode::Any && out.len() > 1 {
        out = vec![format!("any of: {}", out.join(", "))];
    }
    out
}

fn describe_wait(func: Func, w: &Wait) -> String {
    let peer = match w.peer {
        Peer::Rank(r) => format!("rank {r}"),
        Peer::Any => "any rank".to_string(),
        Peer::ProcNull => "MPI_PROC_NULL".to_string(),
        Peer::None => String::new(),
    };
    let tag = match w.tag {
        Some(t) => format!("tag {t}"),
        None => "any tag".to_string(),
    };
    let size = if w.bytes > 0 {
        format!(", {} B", thousands(w.bytes))
    } else {
        String::new()
    };
    match w.kind {
        WaitKind::Send => format!("its send to {peer} to be received ({tag}{size})"),
        WaitKind::Recv => format!("a message from {peer} ({tag})"),
        WaitKind::Collective => format!("every member to join {}", func.name()),
        WaitKind::Finalize => "every rank to reach MPI_Finalize".to_string(),
        WaitKind::Unknown | WaitKind::None => "a request it does not describe".to_string(),
    }
}

fn kind_name(kind: WaitKind) -> &'static str {
    match kind {
        WaitKind::Send => "send",
        WaitKind::Recv => "recv",
        WaitKind::Collective => "collective",
        WaitKind::Finalize => "finalize",
        WaitKind::Unknown | WaitKind::None => "unknown",
    }
}

fn rank_list(ranks: &[u32]) -> String {
    let names: Vec<String> = ranks.iter().map(u32::to_string).collect();
    match names.len() {
        0 => "no rank".into(),
        1 => format!("rank {}", names[0]),
        _ => format!("ranks {}", names.join(", ")),
    }
}

fn capitalise_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The wait-for graph of diagnosed runs, for Graphviz (`--dot`).
pub fn dot<'a>(runs: impl IntoIterator<Item = (String, &'a Diagnosis)>) -> String {
    let mut out = String::from(
        "digraph waits {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    for (i, (title, d)) in runs.into_iter().enumerate() {
        out.push_str(&format!(
            "  subgraph cluster_{i} {{\n    label={:?};\n",
            title
        ));
        for a in &d.ranks {
            let label = format!(
                "rank {}\\n{}{}",
                a.rank,
                crate::report::clean::dot_label(a.function.as_deref().unwrap_or(a.state)),
                a.location
                    .as_deref()
                    .map(|l| format!("\\n{}", crate::report::clean::dot_label(l)))
                    .unwrap_or_default()
            );
            let color = if d.culprits.contains(&a.rank) {
                ", color=red"
            } else {
                ""
            };
            out.push_str(&format!(
                "    r{i}_{} [label=\"{label}\"{color}];\n",
                a.rank
            ));
        }
        for e in &d.edges {
            let tag = e.tag.map(|t| format!(" tag {t}")).unwrap_or_default();
            out.push_str(&format!(
                "    r{i}_{} -> r{i}_{} [label=\"{}{tag} {} B\"];\n",
                e.from, e.to, e.kind, e.bytes
            ));
        }
        if d.kind == StallKind::Hang {
            for a in d.ranks.iter().filter(|a| a.state == "blocked") {
                for c in &d.culprits {
                    out.push_str(&format!(
                        "    r{i}_{} -> r{i}_{c} [style=dashed];\n",
                        a.rank
                    ));
                }
            }
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

/// The stall's records as a report holds them, read back (`mpi-grade merge`): the words kept
/// as `&'static str` are read as strings and kept for the rest of the process.
mod read {
    use serde::{Deserialize, Deserializer};

    /// A word kept as `&'static str` (a rank's state, a wait's kind, always one of a few the
    /// grader wrote), read back: kept for the rest of the process, which reads a bounded
    /// number of reports.
    fn leak(text: String) -> &'static str {
        Box::leak(text.into_boxed_str())
    }

    impl<'de> Deserialize<'de> for super::RankActivity {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<super::RankActivity, D::Error> {
            RankActivity::deserialize(d).map(Into::into)
        }
    }

    impl<'de> Deserialize<'de> for crate::trace::matching::Mismatch {
        fn deserialize<D: Deserializer<'de>>(
            d: D,
        ) -> Result<crate::trace::matching::Mismatch, D::Error> {
            Mismatch::deserialize(d).map(Into::into)
        }
    }

    /// [`crate::trace::matching::Mismatch`] with its kind as a string.
    #[derive(Deserialize)]
    struct Mismatch {
        kind: String,
        comm: u64,
        seq: u64,
        ranks: Vec<u32>,
        calls: Vec<crate::trace::matching::MismatchedCall>,
        summary: String,
    }

    impl From<Mismatch> for crate::trace::matching::Mismatch {
        fn from(m: Mismatch) -> crate::trace::matching::Mismatch {
            crate::trace::matching::Mismatch {
                kind: leak(m.kind),
                comm: m.comm,
                seq: m.seq,
                ranks: m.ranks,
                calls: m.calls,
                cell: None,
                summary: m.summary,
            }
        }
    }

    impl<'de> Deserialize<'de> for super::WaitEdge {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<super::WaitEdge, D::Error> {
            WaitEdge::deserialize(d).map(Into::into)
        }
    }

    /// [`super::RankActivity`] with its state as a string.
    #[derive(Deserialize)]
    struct RankActivity {
        rank: u32,
        state: String,
        function: Option<String>,
        waits: Vec<String>,
        seconds: f64,
        in_student_code: bool,
        location: Option<String>,
    }

    impl From<RankActivity> for super::RankActivity {
        fn from(r: RankActivity) -> super::RankActivity {
            super::RankActivity {
                rank: r.rank,
                state: leak(r.state),
                function: r.function,
                waits: r.waits,
                seconds: r.seconds,
                in_student_code: r.in_student_code,
                location: r.location,
            }
        }
    }

    /// [`super::WaitEdge`] with its kind as a string.
    #[derive(Deserialize)]
    struct WaitEdge {
        from: u32,
        to: u32,
        kind: String,
        function: String,
        tag: Option<i32>,
        bytes: u64,
    }

    impl From<WaitEdge> for super::WaitEdge {
        fn from(e: WaitEdge) -> super::WaitEdge {
            super::WaitEdge {
                from: e.from,
                to: e.to,
                kind: leak(e.kind),
                function: e.function,
                tag: e.tag,
                bytes: e.bytes,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::graph::{analyze, Presence};
    use crate::trace::records::Comm;
    use mpi_grade_protocol::trace::{RankState, WaitMode};

    fn blocked_send(r: u32, to: u32) -> RankSnapshot {
        RankSnapshot {
            rank: r,
            initialised: true,
            pid: 1,
            tid: 1,
            state: RankState::InCall,
            cell: Some(0),
            zero_buffer: false,
            progress: 3,
            progress_ns: 0,
            polls: 0,
            exit_code: 0,
            call: Some(Call {
                func: Func::Send,
                mode: WaitMode::All,
                waits: vec![Wait {
                    kind: WaitKind::Send,
                    peer: Peer::Rank(to),
                    tag: Some(0),
                    comm: 1,
                    bytes: 800_000,
                    coll_seq: 0,
                    dtype: 0,
                }],
                truncated: false,
                since_ns: 1_000_000_000,
                cell: Some(0),
            }),
            pending: vec![],
            pending_overflowed: false,
            comms: vec![Comm {
                id: 1,
                size: 2,
                members: None,
                coll_count: 0,
                recent: Vec::new(),
            }],
        }
    }

    #[test]
    fn a_send_cycle_is_explained_with_sizes_and_locations() {
        let snap = vec![blocked_send(0, 1), blocked_send(1, 0)];
        let analysis = analyze(&snap, &[Presence::Alive, Presence::Alive]);
        let mut d = Diagnosis::new(StallKind::Deadlock, &snap, &analysis, vec![], 1_500_000_000);
        d.locate(&[(0, "src/lib.rs:12 (part1)".into())]);
        assert_eq!(d.cycle, vec![0, 1]);
        assert_eq!(d.edges.len(), 2);
        assert!(d.explanation.starts_with("Deadlock, cycle 0 → 1 → 0: rank 0 is blocked in MPI_Send waiting for its send to rank 1 to be received (tag 0, 800 000 B) at src/lib.rs:12 (part1); rank 1"), "{}", d.explanation);
        assert!(
            d.explanation
                .contains("does not buffer messages this large (800 000 B)"),
            "{}",
            d.explanation
        );
        assert_eq!(d.ranks[0].seconds, 0.5);
        let graph = dot([("part1".to_string(), &d)]);
        assert!(
            graph.contains("r0_0 -> r0_1 [label=\"send tag 0 800000 B\"]"),
            "{graph}"
        );
    }
}
