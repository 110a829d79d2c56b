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
    use super::records::Peer;
    use mpi_grade_protocol::trace::WaitKind;
    (0..dir.ranks()).find_map(|r| {
        let call = super::records::last_call(dir.record(r))?;
        call.waits.iter().find_map(|w| {
            let Peer::Rank(from) = w.peer else {
                return None;
            };
            if w.kind != WaitKind::Recv || from >= dir.ranks() {
                return None;
            }
            let sent = super::records::recent_sends(dir.record(from))
                .into_iter()
                .find(|s| {
                    s.peer == Some(r) && s.comm == w.comm && w.tag.is_none_or(|t| Some(t) == s.tag)
                })?;
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
                        "rank {from} sent {} with tag {}; rank {r} received into {} ({}): the buffer holds {part}",
                        amount(sent.bytes, sent.dtype),
                        sent.tag.unwrap_or(0),
                        amount(w.bytes, w.dtype),
                        call.func.name()
                    ),
                }
            })
        })
    })
}

/// A message larger than the buffer of the receive it matched, which the library reported
/// (`MPI_ERR_TRUNCATE`) and the program went on after (mpi4py raises it as an exception).
fn truncated(
    from: u32,
    to: u32,
    sent: &super::records::Message,
    (bytes, dtype): (u64, u32),
    cell: u32,
) -> Mismatch {
    let part = if sent.bytes == 2 * bytes {
        "half the message".to_string()
    } else {
        format!("{} B of it", thousands(bytes))
    };
    Mismatch {
        kind: "truncation",
        comm: sent.comm,
        seq: 0,
        ranks: vec![from, to],
        calls: vec![],
        cell: Some(cell),
        summary: format!(
            "rank {from} sent {} with tag {}; rank {to} received into {}: the buffer holds {part}",
            amount(sent.bytes, sent.dtype),
            sent.tag.unwrap_or(0),
            amount(bytes, dtype),
        ),
    }
}

/// `5 x MPI_LONG = 40 B`, or `40 B` when the datatype is not a predefined one.
pub fn amount(bytes: u64, dtype: u32) -> String {
    match mpi_grade_protocol::trace::dtype(dtype) {
        Some((name, _, size)) if size > 0 && bytes.is_multiple_of(size) => {
            format!(
                "{} x {name} = {} B",
                thousands(bytes / size),
                thousands(bytes)
            )
        }
        _ => format!("{} B", thousands(bytes)),
    }
}

/// Whether the two sides of a message disagree on what it holds: both predefined, neither
/// `MPI_BYTE`/`MPI_PACKED`, and of another kind or size (`MPI_INT` against `MPI_LONG`, or
/// against `MPI_FLOAT`). Types of the same kind and size (`MPI_INT`, `MPI_INT32_T`) agree.
fn types_differ(a: u32, b: u32) -> bool {
    use mpi_grade_protocol::trace::{dtype, TypeClass};
    let (Some((na, ca, sa)), Some((nb, cb, sb))) = (dtype(a), dtype(b)) else {
        return false;
    };
    if ca == TypeClass::Bytes || cb == TypeClass::Bytes {
        return false;
    }
    ca != cb || sa != sb || (ca == TypeClass::Pair && na != nb)
}

/// The first message of `cell` whose send and receive name datatypes of another kind or size
/// (MPI requires the type signatures to match; the library delivers the bytes anyway). A
/// receive is paired with its send only where that is certain: the rings hold every message
/// between the two ranks in the cell, each receive's source and tag are known, and MPI's
/// order (per communicator and tag, messages from one sender arrive in the order sent) then
/// pairs them.
pub fn types(dir: &TraceDir, cell: u32) -> Option<Mismatch> {
    use super::records::{recent_recvs, recent_sends};
    use std::sync::atomic::Ordering::Relaxed;
    let ranks = dir.ranks();
    if ranks as usize > mpi_grade_protocol::trace::MAX_PEERS {
        return None;
    }
    let in_cell = |v: Vec<super::records::Message>| -> Vec<_> {
        let mut v: Vec<_> = v.into_iter().filter(|m| m.cell == Some(cell)).collect();
        v.reverse(); // oldest first
        v
    };
    let sends: Vec<_> = (0..ranks)
        .map(|r| in_cell(recent_sends(dir.record(r))))
        .collect();
    (0..ranks).find_map(|to| {
        let rec = dir.record(to);
        let counters = rec.cells.get(cell as usize)?;
        if !rec.is_initialised() || counters.msgs_from_unknown.load(Relaxed) != 0 {
            return None;
        }
        let recvs = in_cell(recent_recvs(rec));
        (0..ranks).find_map(|from| {
            let out: Vec<_> = sends[from as usize].iter().filter(|m| m.peer == Some(to)).collect();
            let got: Vec<_> = recvs.iter().filter(|m| m.peer == Some(from)).collect();
            let sent_all = dir.record(from).cells.get(cell as usize)?.msgs_to[to as usize].load(Relaxed);
            let got_all = counters.msgs_from[from as usize].load(Relaxed);
            let whole = out.len() as u64 == sent_all && got.len() as u64 == got_all;
            if !whole || got.iter().any(|m| m.tag.is_none()) {
                return None;
            }
            let mut taken = vec![false; out.len()];
            got.iter().find_map(|r| {
                let i = (0..out.len())
                    .find(|&i| !taken[i] && out[i].comm == r.comm && out[i].tag == r.tag)?;
                taken[i] = true;
                let s = out[i];
                if s.bytes > r.bytes && r.bytes != mpi_grade_protocol::trace::UNKNOWN_BYTES {
                    return Some(truncated(from, to, s, (r.bytes, r.dtype), cell));
                }
                types_differ(s.dtype, r.dtype).then(|| Mismatch {
                    kind: "type",
                    comm: r.comm,
                    seq: 0,
                    ranks: vec![from, to],
                    calls: vec![],
                    cell: Some(cell),
                    summary: format!(
                        "rank {from} sent {} with tag {} on {}; rank {to} received it as {}: the datatypes of a send and its receive must match, the library only copied the bytes",
                        amount(s.bytes, s.dtype),
                        s.tag.unwrap_or(0),
                        comm_name(s.comm),
                        amount(r.bytes, r.dtype),
                    ),
                })
            })
        })
    })
}

/// Messages of `cell` that were sent and never received: per pair of ranks, the sends the
/// sender's counters show against the receives the receiver's show (a receive whose source the
/// tracer did not learn covers any one sender's). `None` when the counts pair up, or cannot be
/// compared (persistent requests or a cancel in the cell, more ranks than are counted).
pub fn unmatched(dir: &TraceDir, cell: u32) -> Option<Mismatch> {
    use mpi_grade_protocol::trace::MAX_PEERS;
    use std::sync::atomic::Ordering::Relaxed;
    let ranks = dir.ranks();
    if ranks as usize > MAX_PEERS {
        return None;
    }
    let counters = |r: u32| {
        let rec = dir.record(r);
        rec.is_initialised()
            .then(|| rec.cells.get(cell as usize))
            .flatten()
    };
    let all: Vec<_> = (0..ranks).map(counters).collect::<Option<_>>()?;
    if all.iter().any(|c| c.unpaired.load(Relaxed) != 0) {
        return None;
    }
    (0..ranks).find_map(|to| {
        let mine = all[to as usize];
        let mut slack = mine.msgs_from_unknown.load(Relaxed);
        let mut first = None;
        for from in 0..ranks {
            let sent = all[from as usize].msgs_to[to as usize].load(Relaxed);
            let got = mine.msgs_from[from as usize].load(Relaxed);
            let lost = sent.saturating_sub(got);
            let covered = lost.min(slack);
            slack -= covered;
            if lost > covered && first.is_none() {
                first = Some((from, lost - covered, sent));
            }
        }
        let (from, lost, sent) = first?;
        let last = super::records::recent_sends(dir.record(from))
            .into_iter()
            .find(|s| s.peer == Some(to));
        let what = if lost == 1 && sent == 1 {
            "a message".to_string()
        } else {
            format!("{lost} of its {sent} messages")
        };
        let comm = last.as_ref().map_or(0, |s| s.comm);
        let detail = last
            .map(|s| format!(" (its last one to rank {to}: {} with tag {} on {})", amount(s.bytes, s.dtype), s.tag.unwrap_or(0), comm_name(s.comm)))
            .unwrap_or_default();
        Some(Mismatch {
            kind: "unmatched",
            comm,
            seq: 0,
            ranks: vec![from, to],
            calls: vec![],
            cell: Some(cell),
            summary: format!(
                "rank {from} sent {what} to rank {to} that rank {to} never received{detail}: every send needs a matching receive before MPI_Finalize"
            ),
        })
    })
}

/// Non-blocking operations still pending when every rank had finalized: a receive that was
/// never matched, or a request nobody completed with `MPI_Wait`/`MPI_Test`.
pub fn pending_at_finalize(snapshot: &[RankSnapshot]) -> Option<Mismatch> {
    use super::records::Peer;
    use mpi_grade_protocol::trace::WaitKind;
    snapshot.iter().find_map(|s| {
        let w = s.pending.iter().find(|w| matches!(w.kind, WaitKind::Send | WaitKind::Recv))?;
        let peer = match w.peer {
            Peer::Rank(p) => format!("rank {p}"),
            Peer::Any => "any rank".to_string(),
            _ => "nobody".to_string(),
        };
        let tag = w.tag.map_or("any tag".to_string(), |t| format!("tag {t}"));
        let (what, ranks) = match (w.kind, w.peer) {
            (WaitKind::Recv, Peer::Rank(p)) => (format!("a non-blocking receive from {peer} ({tag}) that was never completed: no message matched it, or no MPI_Wait/MPI_Test completed it"), vec![s.rank, p]),
            (WaitKind::Recv, _) => (format!("a non-blocking receive from {peer} ({tag}) that was never completed"), vec![s.rank]),
            (_, Peer::Rank(p)) => (format!("a non-blocking send to {peer} ({tag}, {} B) that no MPI_Wait/MPI_Test completed", thousands(w.bytes)), vec![s.rank, p]),
            _ => (format!("a non-blocking send ({tag}) that no MPI_Wait/MPI_Test completed"), vec![s.rank]),
        };
        Some(Mismatch {
            kind: "unmatched",
            comm: w.comm,
            seq: 0,
            ranks,
            calls: vec![],
            cell: None,
            summary: format!("rank {} reached MPI_Finalize with {what}", s.rank),
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
            polls: 0,
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
    fn datatypes_differ_by_kind_or_size_not_by_name() {
        use mpi_grade_protocol::trace::dtype_code;
        let int = dtype_code(b"MPI_INT", 4);
        let int32 = dtype_code(b"MPI_INT32_T", 4);
        let long = dtype_code(b"MPI_LONG", 8);
        let float = dtype_code(b"MPI_FLOAT", 4);
        let byte = dtype_code(b"MPI_BYTE", 1);
        assert!(!types_differ(int, int32));
        assert!(types_differ(int, long));
        assert!(types_differ(int, float));
        // MPI_BYTE matches anything; a derived type (0) is not compared.
        assert!(!types_differ(byte, long));
        assert!(!types_differ(0, long));
        assert_eq!(amount(40, long), "5 x MPI_LONG = 40 B");
        assert_eq!(amount(40, 0), "40 B");
        assert_eq!(amount(6, int), "6 B");
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
