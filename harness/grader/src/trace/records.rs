//! The tracer's per-rank records, as the grader sees them: files it creates before a launch,
//! maps, and reads as plain snapshot values.

use crate::error::{Error, Result};
use crate::run::procs::LaunchProcs;
use memmap2::{MmapOptions, MmapRaw};
use mpi_grade_protocol::run;
use mpi_grade_protocol::trace::{
    self as layout, read_consistent, Func, RankState, Record, WaitKind, WaitMode, ANY_SOURCE,
    ANY_TAG, NO_PEER, PROC_NULL, RECORD_SIZE,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

/// Attempts at a consistent read of a sequence-locked part before taking what is there.
const READ_ATTEMPTS: usize = 200;

/// The records of one launch, mapped.
pub struct TraceDir {
    /// The folder holding the record files, one per rank.
    pub path: PathBuf,
    maps: Vec<MmapRaw>,
}

impl TraceDir {
    /// Creates one zeroed record file per rank in `dir` and maps them.
    pub fn create(dir: &Path, ranks: u32) -> Result<TraceDir> {
        std::fs::create_dir_all(dir)
            .map_err(Error::io(format!("cannot create {}", dir.display())))?;
        let maps = (0..ranks)
            .map(|rank| {
                let path = run::trace_path(dir, rank);
                let file = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&path)
                    .map_err(Error::io(format!("cannot create {}", path.display())))?;
                file.set_len(RECORD_SIZE as u64)
                    .map_err(Error::io(format!("cannot size {}", path.display())))?;
                MmapOptions::new()
                    .map_raw(&file)
                    .map_err(Error::io(format!("cannot map {}", path.display())))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TraceDir {
            path: dir.to_path_buf(),
            maps,
        })
    }

    /// The record of `rank`.
    pub fn record(&self, rank: u32) -> &Record {
        // SAFETY: the mapping is RECORD_SIZE bytes, page-aligned, lives as long as `self`, and
        // both sides only access it through the atomics of `Record`.
        unsafe { Record::from_ptr(self.maps[rank as usize].as_ptr()) }
    }

    /// Number of ranks, one record each.
    pub fn ranks(&self) -> u32 {
        self.maps.len() as u32
    }

    /// What every rank is doing now.
    pub fn snapshot(&self) -> Vec<RankSnapshot> {
        (0..self.ranks())
            .map(|r| RankSnapshot::read(r, self.record(r)))
            .collect()
    }
}

/// A peer as the tracer recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Peer {
    /// A world rank.
    Rank(u32),
    /// Any source (`MPI_ANY_SOURCE`).
    Any,
    /// No peer at all (`MPI_PROC_NULL`): the operation completes at once.
    ProcNull,
    /// No single peer (collectives).
    None,
}

impl Peer {
    fn from_raw(peer: i32) -> Peer {
        match peer {
            ANY_SOURCE => Peer::Any,
            PROC_NULL => Peer::ProcNull,
            NO_PEER => Peer::None,
            r if r >= 0 => Peer::Rank(r as u32),
            _ => Peer::None,
        }
    }
}

/// One condition a call waits on (an operation it needs to complete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    /// What the condition is: a send, a receive, a collective, ...
    pub kind: WaitKind,
    /// The rank on the other side.
    pub peer: Peer,
    /// `None` for any tag.
    pub tag: Option<i32>,
    /// Cross-rank communicator id, 0 if unknown.
    pub comm: u64,
    /// Payload bytes of the operation.
    pub bytes: u64,
    /// For a collective: which one on `comm` this is (1 = the first), to match the ranks' calls.
    pub coll_seq: u64,
    /// For a point-to-point operation: its datatype's code, 0 if not a predefined one.
    pub dtype: u32,
}

impl Wait {
    fn read(w: &layout::WaitEntry) -> Wait {
        let tag = w.tag.load(Relaxed);
        Wait {
            kind: WaitKind::from_u32(w.kind.load(Relaxed)),
            peer: Peer::from_raw(w.peer.load(Relaxed)),
            tag: (tag != ANY_TAG).then_some(tag),
            comm: w.comm.load(Relaxed),
            bytes: w.bytes.load(Relaxed),
            coll_seq: w.coll_seq.load(Relaxed),
            dtype: w.dtype.load(Relaxed),
        }
    }
}

/// The blocking call a rank is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The MPI function.
    pub func: Func,
    /// Whether the call needs all of `waits` or any one of them.
    pub mode: WaitMode,
    /// The conditions the call waits on.
    pub waits: Vec<Wait>,
    /// More conditions than the record holds: the call waits on more than `waits`.
    pub truncated: bool,
    /// When the call began, in `CLOCK_MONOTONIC_COARSE` nanoseconds.
    pub since_ns: u64,
    /// Cell of the student's code the call belongs to; `None` for the runtime's own calls.
    pub cell: Option<u32>,
}

/// A communicator known to a rank's tracer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comm {
    /// Cross-rank identity of the communicator (1 = `MPI_COMM_WORLD`).
    pub id: u64,
    /// Number of members.
    pub size: u32,
    /// World ranks of the members; `None` when they are all world ranks in order, or unknown.
    pub members: Option<Vec<u32>>,
    /// Collectives this rank entered on it.
    pub coll_count: u64,
    /// The last of them the record keeps, oldest first.
    pub recent: Vec<Coll>,
}

/// A collective a rank entered, as the ring of its communicator keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coll {
    /// Which collective on the communicator (1 = the first).
    pub seq: u64,
    /// The MPI function.
    pub func: Func,
    /// Its root (a rank of the communicator), when it has one the tracer noted.
    pub root: Option<i32>,
    /// Its reduction operation (1 + an index of `OP_NAMES`), when predefined.
    pub op: Option<u32>,
    /// The bytes of its type signature, where compared.
    pub sig: Option<u64>,
    /// The cell of the student's code it belongs to.
    pub cell: Option<u32>,
}

impl Coll {
    /// The entry, when it is whole (not being rewritten) and in use.
    fn read(e: &layout::CollEntry) -> Option<Coll> {
        let seq = e.seq.load(Acquire);
        if seq == 0 {
            return None;
        }
        let func = Func::from_index(e.func.load(Relaxed).checked_sub(1)?)?;
        let root = e.root.load(Relaxed);
        let op = e.op.load(Relaxed);
        let sig = e.sig.load(Relaxed);
        let cell = e.cell.load(Relaxed);
        std::sync::atomic::fence(Acquire);
        (e.seq.load(Relaxed) == seq).then_some(Coll {
            seq,
            func,
            root: (root != layout::NO_ROOT).then_some(root),
            op: (op != layout::NO_OP && op != layout::OTHER_OP).then_some(op),
            sig: (sig != layout::ANY_SIG).then_some(sig),
            cell: u32::try_from(cell).ok(),
        })
    }
}

/// One rank's record, read at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankSnapshot {
    /// World rank of the record's owner.
    pub rank: u32,
    /// The tracer initialised the record (the rank returned from `MPI_Init`).
    pub initialised: bool,
    /// Process id of the rank, in its own PID namespace.
    pub pid: i32,
    /// Thread id of the thread that initialised MPI (where stacks are requested).
    pub tid: i32,
    /// What the rank is doing: running, in a call, finalized, exited, ...
    pub state: RankState,
    /// Current cell of the student's code; `None` outside it.
    pub cell: Option<u32>,
    /// Standard sends were made synchronous (zero-buffer mode).
    pub zero_buffer: bool,
    /// Counter of operations started or completed; unchanged means no progress.
    pub progress: u64,
    /// When `progress` last changed, in `CLOCK_MONOTONIC_COARSE` nanoseconds.
    pub progress_ns: u64,
    /// Failed tests of the rank's polite waits so far (see `Header::polls`).
    pub polls: u64,
    /// Code given to `MPI_Abort` or status given to `exit`, per `state`.
    pub exit_code: i32,
    /// The blocking call the rank is in, if any.
    pub call: Option<Call>,
    /// Operations posted by non-blocking calls and not yet completed.
    pub pending: Vec<Wait>,
    /// Some pending operations were not recorded because the table was full.
    pub pending_overflowed: bool,
    /// Communicators the rank's tracer knows.
    pub comms: Vec<Comm>,
}

impl RankSnapshot {
    /// Reads a record.
    pub fn read(rank: u32, record: &Record) -> RankSnapshot {
        let h = &record.header;
        let initialised = record.is_initialised();
        let (call, _) =
            read_consistent(&record.call.seq, READ_ATTEMPTS, || read_call(&record.call));
        let (pending, _) = read_consistent(&record.requests_seq, READ_ATTEMPTS, || {
            record
                .requests
                .iter()
                .filter(|r| r.handle.load(Relaxed) != 0)
                .map(|r| Wait::read(&r.wait))
                .filter(|w| w.kind != WaitKind::None)
                .collect::<Vec<_>>()
        });
        let (comms, _) = read_consistent(&record.comms_seq, READ_ATTEMPTS, || {
            record
                .comms
                .iter()
                .filter(|c| c.id.load(Relaxed) != 0)
                .map(|c| {
                    let size = c.size.load(Relaxed).max(0) as u32;
                    let listed = c.is_world_order.load(Relaxed) == 0
                        && c.members_truncated.load(Relaxed) == 0;
                    Comm {
                        id: c.id.load(Relaxed),
                        size,
                        members: listed.then(|| {
                            c.members[..(size as usize).min(layout::MAX_COMM_MEMBERS)]
                                .iter()
                                .map(|m| m.load(Relaxed).max(0) as u32)
                                .collect()
                        }),
                        coll_count: c.coll_count.load(Relaxed),
                        recent: {
                            let mut r: Vec<Coll> = c.recent.iter().filter_map(Coll::read).collect();
                            r.sort_by_key(|c| c.seq);
                            r
                        },
                    }
                })
                .collect::<Vec<_>>()
        });
        let state = RankState::from_u32(h.state.load(Acquire));
        let cell = h.cell.load(Relaxed);
        RankSnapshot {
            rank,
            initialised,
            pid: h.pid.load(Relaxed),
            tid: h.tid.load(Relaxed),
            state,
            cell: u32::try_from(cell).ok(),
            zero_buffer: h.zero_buffer.load(Relaxed) == 1,
            progress: h.progress.load(Relaxed),
            progress_ns: h.progress_ns.load(Relaxed),
            polls: h.polls.load(Relaxed),
            exit_code: h.exit_code.load(Relaxed),
            call: if state == RankState::InCall {
                call
            } else {
                None
            },
            pending,
            pending_overflowed: h.requests_overflowed.load(Relaxed) != 0,
            comms,
        }
    }

    /// The communicator `id` as this rank knows it.
    pub fn comm(&self, id: u64) -> Option<&Comm> {
        self.comms.iter().find(|c| c.id == id)
    }
}

/// The call the rank was in when it last wrote its record, whatever its state since (a rank
/// that a library's error handler ended inside a call still shows that call).
pub fn last_call(record: &Record) -> Option<Call> {
    read_consistent(&record.call.seq, READ_ATTEMPTS, || read_call(&record.call)).0
}

/// A point-to-point message as one rank's ring keeps it: a send it started or a receive
/// that completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// World rank of the other side; `None` for a receive whose source is not known.
    pub peer: Option<u32>,
    /// The tag; `None` for a receive whose tag is not known.
    pub tag: Option<i32>,
    /// Cross-rank communicator id, 0 if unknown.
    pub comm: u64,
    /// Payload bytes (of a send), bytes of the buffer (of a receive).
    pub bytes: u64,
    /// The datatype's code (`mpi_grade_protocol::trace::dtype`), 0 if not a predefined one.
    pub dtype: u32,
    /// Cell of the student's code.
    pub cell: Option<u32>,
    /// Which message to (from) `peer` in the cell (1 = the first); 0 if not known.
    pub nth: u64,
}

/// The last sends of a rank, newest first.
pub fn recent_sends(record: &Record) -> Vec<Message> {
    ring(&record.sends)
}

/// The last completed receives of a rank, newest first.
pub fn recent_recvs(record: &Record) -> Vec<Message> {
    ring(&record.recvs)
}

fn ring(entries: &[layout::MsgEntry]) -> Vec<Message> {
    let mut all: Vec<(u64, Message)> = entries
        .iter()
        .filter_map(|e| {
            let seq = e.seq.load(Acquire);
            let tag = e.tag.load(Relaxed);
            let m = Message {
                peer: u32::try_from(e.peer.load(Relaxed)).ok(),
                tag: (tag != layout::ANY_TAG).then_some(tag),
                comm: e.comm.load(Relaxed),
                bytes: e.bytes.load(Relaxed),
                dtype: e.dtype.load(Relaxed),
                cell: u32::try_from(e.cell.load(Relaxed)).ok(),
                nth: e.nth.load(Relaxed),
            };
            std::sync::atomic::fence(Acquire);
            (seq != 0 && e.seq.load(Relaxed) == seq).then_some((seq, m))
        })
        .collect();
    all.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq));
    all.into_iter().map(|(_, m)| m).collect()
}

fn read_call(slot: &layout::CallSlot) -> Option<Call> {
    let func = Func::from_index(slot.func.load(Relaxed).checked_sub(1)?)?;
    let n = (slot.nwait.load(Relaxed) as usize).min(layout::MAX_WAIT);
    Some(Call {
        func,
        mode: WaitMode::from_u32(slot.mode.load(Relaxed)),
        waits: slot.waits[..n].iter().map(Wait::read).collect(),
        truncated: slot.truncated.load(Relaxed) != 0,
        since_ns: slot.since_ns.load(Relaxed),
        cell: u32::try_from(slot.cell.load(Relaxed)).ok(),
    })
}

/// Asks a rank's tracer for its stack: bumps the request generation, then signals the thread
/// that runs MPI. Returns the generation to wait for.
pub fn request_stack(record: &Record, procs: &LaunchProcs) -> Option<u64> {
    let h = &record.header;
    let (pid, tid) = (h.pid.load(Relaxed), h.tid.load(Relaxed));
    if pid <= 0 || tid <= 0 {
        return None;
    }
    // The record holds the ids the rank has in its own PID namespace; only a rank of this
    // launch, while it runs, is signalled.
    let (pid, tid) = procs.thread(pid, tid)?;
    let generation = record.stack.request.load(Relaxed) + 1;
    record.stack.request.store(generation, Release);
    // SAFETY: tgkill sends a signal to one thread; STACK_SIGNAL's default action is to be
    // ignored, so a process without the tracer's handler is unaffected.
    let sent = unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, layout::STACK_SIGNAL) };
    (sent == 0).then_some(generation)
}

/// The stack a rank captured for request `generation`, innermost first, if it has.
pub fn captured_stack(record: &Record, generation: u64) -> Option<Vec<u64>> {
    if record.stack.done.load(Acquire) != generation {
        return None;
    }
    let depth = (record.stack.depth.load(Relaxed) as usize).min(layout::MAX_STACK);
    Some(
        record.stack.ips[..depth]
            .iter()
            .map(|ip| ip.load(Relaxed))
            .collect(),
    )
}

/// The current `CLOCK_MONOTONIC` time in nanoseconds: the clock the tracer stamps calls with
/// (it reads the coarse variant, at most a scheduler tick behind).
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we pass.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpi_grade_protocol::trace::{write_guarded, MAGIC};

    #[test]
    fn a_written_record_reads_back_as_a_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let traces = TraceDir::create(dir.path(), 2).unwrap();
        let r = traces.record(1);
        assert!(!traces.snapshot()[1].initialised);

        r.header
            .layout_version
            .store(layout::LAYOUT_VERSION, Relaxed);
        r.header.pid.store(42, Relaxed);
        r.header.cell.store(3, Relaxed);
        r.header.state.store(RankState::InCall as u32, Relaxed);
        r.header.magic.store(MAGIC, Release);
        write_guarded(&r.call.seq, || {
            r.call.func.store(Func::Send as u32 + 1, Relaxed);
            r.call.nwait.store(1, Relaxed);
            let w = &r.call.waits[0];
            w.kind.store(WaitKind::Send as u32, Relaxed);
            w.peer.store(0, Relaxed);
            w.tag.store(ANY_TAG, Relaxed);
            w.comm.store(7, Relaxed);
            w.bytes.store(800, Relaxed);
            r.call.cell.store(-1, Relaxed);
        });
        write_guarded(&r.comms_seq, || {
            let c = &r.comms[0];
            c.id.store(7, Relaxed);
            c.size.store(2, Relaxed);
            c.members[0].store(1, Relaxed);
            c.members[1].store(0, Relaxed);
            c.coll_count.store(4, Relaxed);
        });

        let s = &traces.snapshot()[1];
        assert!(s.initialised);
        assert_eq!(s.pid, 42);
        assert_eq!(s.cell, Some(3));
        let call = s.call.as_ref().unwrap();
        assert_eq!(call.func, Func::Send);
        assert_eq!(call.cell, None);
        assert_eq!(
            call.waits,
            vec![Wait {
                kind: WaitKind::Send,
                peer: Peer::Rank(0),
                tag: None,
                comm: 7,
                bytes: 800,
                coll_seq: 0,
                dtype: 0,
            }]
        );
        assert_eq!(s.comm(7).unwrap().members, Some(vec![1, 0]));
        assert_eq!(s.comm(7).unwrap().coll_count, 4);
        assert!(s.pending.is_empty());
    }
}
