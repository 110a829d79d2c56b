//! MPI's matching rule for collectives, checked from the calls: every member's n-th collective
//! on a communicator must be the same operation, with the same root, reduction operation and
//! type signature. The libraries do not check it: they pair mismatched calls anyway, and the
//! program then completes with wrong data, aborts with an unrelated error or blocks.
//!
//! The tracer keeps the last few collectives of each communicator in the record (`recent`);
//! this compares the ranks' entries of the same number.

use super::records::{Coll, RankSnapshot, TraceDir};
use crate::fmt::{ordinal, thousands};
use mpi_grade_protocol::trace::OP_NAMES;
use serde::Serialize;

/// One rank's side of a mismatch: the call it made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MismatchedCall {
    /// World rank.
    pub rank: u32,
    /// The MPI function (`MPI_Allgather`).
    pub function: String,
    /// The root, as a rank of the communicator, for a rooted collective.
    pub root: Option<i32>,
    /// The reduction operation (`MPI_SUM`), for a reduction with a predefined one.
    pub op: Option<String>,
    /// The bytes of the type signature, where the tracer compares them.
    pub bytes: Option<u64>,
}

/// Two ranks whose n-th collective on a communicator differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// `"collective"`, or `"truncation"` (a message larger than the receive's buffer).
    pub kind: &'static str,
    /// The communicator's cross-rank id (1 = `MPI_COMM_WORLD`).
    pub comm: u64,
    /// Which collective on it (1 = the first); 0 when only the cell's signature shows it.
    pub seq: u64,
    /// The two ranks whose calls differ.
    pub ranks: Vec<u32>,
    /// The two calls that differ: the lowest rank's, and the first rank's that differs.
    pub calls: Vec<MismatchedCall>,
    /// Cell of the student's code the first call belongs to, if in one.
    #[serde(skip)]
    pub cell: Option<u32>,
    /// One sentence.
    pub summary: String,
}

/// What differs between two calls, `None` when they match.
fn differs(a: &Coll, b: &Coll) -> Option<&'static str> {
    if a.func != b.func {
        return Some("function");
    }
    if let (Some(x), Some(y)) = (a.root, b.root) {
        if x != y {
            return Some("root");
        }
    }
    if let (Some(x), Some(y)) = (a.op, b.op) {
        if x != y {
            return Some("op");
        }
    }
    if let (Some(x), Some(y)) = (a.sig, b.sig) {
        if x != y {
            return Some("bytes");
        }
    }
    None
}

/// The first collective mismatch the ranks' records show, if any: the lowest collective number
/// at which two members of a communicator made different calls.
pub fn find(snapshot: &[RankSnapshot]) -> Option<Mismatch> {
    let mut best: Option<(u64, Mismatch)> = None;
    for s in snapshot {
        for comm in &s.comms {
            for mine in &comm.recent {
                if best.as_ref().is_some_and(|(seq, _)| *seq <= mine.seq) {
                    continue;
                }
                let other = snapshot
                    .iter()
                    .filter(|o| o.rank > s.rank)
                    .filter_map(|o| {
                        let c = o.comm(comm.id)?.recent.iter().find(|c| c.seq == mine.seq)?;
                        Some((o.rank, c))
                    })
                    .find_map(|(rank, theirs)| Some((rank, theirs, differs(mine, theirs)?)));
                if let Some((rank, theirs, what)) = other {
                    let m = describe(comm.id, (s.rank, mine), (rank, theirs), what);
                    best = Some((mine.seq, m));
                }
            }
        }
    }
    best.map(|(_, m)| m)
}

/// A rank that ended inside a receive from a peer whose last send to it with that tag was
/// larger than the receive's buffer: the truncation (`MPI_ERR_TRUNCATE`) the library aborted
/// with, explained.
pub fn truncation(dir: &TraceDir) -> Option<Mismatch> {
    use mpi_grade_protocol::trace::WaitKind;
    (0..dir.ranks()).find_map(|r| {
        let call = super::records::last_call(dir.record(r))?;
        call.waits.iter().find_map(|w| {
            let super::records::Peer::Rank(from) = w.peer else {
                return None;
            };
            if w.kind != WaitKind::Recv || from >= dir.ranks() {
                return None;
            }
            let sent = super::records::recent_sends(dir.record(from))
                .into_iter()
                .find(|s| s.peer == r && s.comm == w.comm && w.tag.is_none_or(|t| t == s.tag))?;
            (sent.bytes > w.bytes).then(|| {
                let part = if sent.bytes == 2 * w.bytes {
                    "half the message".to_string()
                } else {
                    format!("{} B of it", thousands(w.bytes))
                };
                Mismatch {
                    kind: "truncation",
                    comm: w.comm,
                    seq: 0,
                    ranks: vec![from, r],
                    calls: vec![],
                    cell: call.cell,
                    summary: format!(
                        "rank {from} sent {} B with tag {}; rank {r} received into {} B ({}): the buffer holds {part}",
                        thousands(sent.bytes),
                        sent.tag,
                        thousands(w.bytes),
                        call.func.name()
                    ),
                }
            })
        })
    })
}

/// Two ranks whose collectives in `cell` differ by the cell's signature (the cell's counters,
/// which the rings' overwriting cannot lose): the numbers of their collectives, and theirs.
pub fn cell_signatures_differ(dir: &TraceDir, cell: u32) -> Option<Mismatch> {
    use std::sync::atomic::Ordering::Relaxed;
    let sig = |r: u32| {
        let rec = dir.record(r);
        let c = rec.cells.get(cell as usize)?;
        rec.is_initialised()
            .then(|| (c.colls.load(Relaxed), c.coll_sig.load(Relaxed)))
    };
    let first = sig(0)?;
    let (other, theirs) =
        (1..dir.ranks()).find_map(|r| Some((r, sig(r)?)).filter(|(_, s)| *s != first))?;
    let summary = format!(
        "rank 0 and rank {other} made different collective calls (rank 0 {}, rank {other} {}); which ones was not kept, so many collectives followed",
        plural(first.0),
        plural(theirs.0)
    );
    Some(Mismatch {
        kind: "collective",
        comm: 0,
        seq: 0,
        ranks: vec![0, other],
        calls: vec![],
        cell: Some(cell),
        summary,
    })
}

fn plural(n: u64) -> String {
    if n == 1 {
        "1 collective".to_string()
    } else {
        format!("{n} collectives")
    }
}

fn call(rank: u32, c: &Coll) -> MismatchedCall {
    MismatchedCall {
        rank,
        function: c.func.name().to_string(),
        root: c.root,
        op: c
            .op
            .and_then(|o| OP_NAMES.get((o as usize).wrapping_sub(1)))
            .map(|n| n.to_string()),
        bytes: c.sig,
    }
}

/// The name of a communicator in a sentence.
pub fn comm_name(id: u64) -> String {
    if id == 1 {
        "MPI_COMM_WORLD".to_string()
    } else {
        format!("communicator #{id:x}")
    }
}

fn describe(comm: u64, (ra, a): (u32, &Coll), (rb, b): (u32, &Coll), what: &str) -> Mismatch {
    let (ca, cb) = (call(ra, a), call(rb, b));
    let detail = |c: &MismatchedCall| match what {
        "root" => format!("{} with root {}", c.function, c.root.unwrap_or(-1)),
        "op" => format!(
            "{} with {}",
            c.function,
            c.op.as_deref().unwrap_or("another operation")
        ),
        "bytes" => format!("{} of {} B", c.function, thousands(c.bytes.unwrap_or(0))),
        _ => c.function.clone(),
    };
    let summary = format!(
        "rank {ra}'s {} collective on {} is {}, rank {rb}'s is {}",
        ordinal(a.seq),
        comm_name(comm),
        detail(&ca),
        detail(&cb)
    );
    Mismatch {
        kind: "collective",
        comm,
        seq: a.seq,
        ranks: vec![ra, rb],
        calls: vec![ca, cb],
        cell: a.cell,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::records::Comm;
    use mpi_grade_protocol::trace::{Func, RankState};

    fn coll(seq: u64, func: Func, root: Option<i32>, op: Option<u32>, sig: Option<u64>) -> Coll {
        Coll {
            seq,
            func,
            root,
            op,
            sig,
            cell: Some(0),
        }
    }

    fn rank(rank: u32, recent: Vec<Coll>) -> RankSnapshot {
        RankSnapshot {
            rank,
            initialised: true,
            pid: 1,
            tid: 1,
            state: RankState::Running,
            cell: Some(0),
            zero_buffer: false,
            progress: 0,
            progress_ns: 0,
            exit_code: 0,
            call: None,
            pending: Vec::new(),
            pending_overflowed: false,
            comms: vec![Comm {
                id: 1,
                size: 2,
                members: None,
                coll_count: recent.len() as u64,
                recent,
            }],
        }
    }

    #[test]
    fn the_first_differing_collective_is_named_with_both_calls() {
        let even = vec![
            coll(1, Func::Barrier, None, None, Some(0)),
            coll(2, Func::Allgather, None, None, Some(16)),
            coll(3, Func::Iscan, None, Some(3), Some(8)),
        ];
        let odd = vec![
            coll(1, Func::Barrier, None, None, Some(0)),
            coll(2, Func::Iscan, None, Some(3), Some(8)),
            coll(3, Func::Allgather, None, None, Some(16)),
        ];
        let m = find(&[rank(0, even.clone()), rank(1, odd), rank(2, even)]).unwrap();
        assert_eq!(
            m.summary,
            "rank 0's 2nd collective on MPI_COMM_WORLD is MPI_Allgather, rank 1's is MPI_Iscan"
        );
        assert_eq!((m.comm, m.seq, m.cell), (1, 2, Some(0)));
        assert_eq!(m.calls[1].op.as_deref(), Some("MPI_SUM"));
    }

    #[test]
    fn roots_operations_and_amounts_must_agree_where_both_ranks_noted_them() {
        let one = |c: Coll| vec![c];
        let pair = |a: Coll, b: Coll| find(&[rank(0, one(a)), rank(1, one(b))]);
        let bcast = |root, sig| coll(1, Func::Bcast, Some(root), None, Some(sig));
        assert_eq!(
            pair(bcast(0, 8), bcast(1, 8)).unwrap().summary,
            "rank 0's 1st collective on MPI_COMM_WORLD is MPI_Bcast with root 0, rank 1's is MPI_Bcast with root 1"
        );
        assert_eq!(
            pair(bcast(0, 8), bcast(0, 4_000)).unwrap().summary,
            "rank 0's 1st collective on MPI_COMM_WORLD is MPI_Bcast of 8 B, rank 1's is MPI_Bcast of 4 000 B"
        );
        let sum = coll(1, Func::Allreduce, None, Some(3), Some(8));
        let max = coll(1, Func::Allreduce, None, Some(1), Some(8));
        assert!(pair(sum.clone(), max)
            .unwrap()
            .summary
            .ends_with("is MPI_Allreduce with MPI_SUM, rank 1's is MPI_Allreduce with MPI_MAX"));
        // Unknown on one side (a user-defined operation, a v-form): not compared.
        let user = coll(1, Func::Allreduce, None, None, None);
        assert_eq!(pair(sum.clone(), user), None);
        assert_eq!(pair(sum.clone(), sum), None);
        // Different numbers never compare (the ring lost the others).
        let later = coll(2, Func::Barrier, None, None, Some(0));
        assert_eq!(pair(bcast(0, 8), later), None);
    }
}
