//! The process-wide tracer and the operations every wrapper performs on the record.
//!
//! There is one [`Tracer`], created by [`crate::record::activate`] and never freed (the record
//! must outlive every MPI call, including those made by atexit handlers). Wrappers reach it
//! through [`enter`], which also guards against re-entrancy: when a PMPI function calls another
//! wrapped `MPI_` function (or, through this library's exports, a `PMPI_` one), only the
//! outermost call is recorded.
//!
//! Everything here runs on the hot path: no locks, no allocation, no system calls. The rank's
//! MPI thread is the only writer of the record, so single-writer counters use plain Relaxed
//! load + store, and the parts a reader must see consistently are written with
//! [`write_guarded`].

use crate::comms::CommLocal;
use crate::requests::RequestLocal;
use mpi_grade_protocol::trace::{
    pcontrol, write_guarded, CallSlot, Func, MsgEntry, RankState, Record, WaitEntry, WaitKind,
    WaitMode, ANY_SOURCE, NO_PEER,
};
use std::cell::Cell;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicPtr, Ordering::*};

/// MPI constants the hot path needs, read once at activation (the bindings expose them as
/// extern statics of the C shim).
#[derive(Debug, Clone, Copy)]
pub struct Consts {
    /// Bits of `MPI_COMM_WORLD`.
    pub comm_world: u64,
    /// Bits of `MPI_COMM_SELF`.
    pub comm_self: u64,
    /// Bits of `MPI_COMM_NULL`.
    pub comm_null: u64,
    /// Bits of `MPI_REQUEST_NULL`.
    pub request_null: u64,
    /// Value of `MPI_ANY_SOURCE`.
    pub any_source: c_int,
    /// Value of `MPI_ANY_TAG`.
    pub any_tag: c_int,
    /// Value of `MPI_PROC_NULL`.
    pub proc_null: c_int,
    /// Value of `MPI_UNDEFINED`.
    pub undefined: c_int,
    /// Bits of the predefined reduction operations, in the order of
    /// [`OP_NAMES`](mpi_grade_protocol::trace::OP_NAMES).
    pub ops: [u64; 10],
}

impl Consts {
    /// The constants of the MPI library this crate is linked to.
    ///
    /// # Safety
    /// Reads the C shim's extern statics; they are initialised before `main`.
    pub unsafe fn from_library() -> Consts {
        use crate::handle::{comm_bits, request_bits};
        Consts {
            comm_world: comm_bits(mpi_sys::RSMPI_COMM_WORLD),
            comm_self: comm_bits(mpi_sys::RSMPI_COMM_SELF),
            comm_null: comm_bits(mpi_sys::RSMPI_COMM_NULL),
            request_null: request_bits(mpi_sys::RSMPI_REQUEST_NULL),
            any_source: mpi_sys::RSMPI_ANY_SOURCE,
            any_tag: mpi_sys::RSMPI_ANY_TAG,
            proc_null: mpi_sys::RSMPI_PROC_NULL,
            undefined: mpi_sys::RSMPI_UNDEFINED,
            ops: [
                mpi_sys::RSMPI_MAX,
                mpi_sys::RSMPI_MIN,
                mpi_sys::RSMPI_SUM,
                mpi_sys::RSMPI_PROD,
                mpi_sys::RSMPI_LAND,
                mpi_sys::RSMPI_BAND,
                mpi_sys::RSMPI_LOR,
                mpi_sys::RSMPI_BOR,
                mpi_sys::RSMPI_LXOR,
                mpi_sys::RSMPI_BXOR,
            ]
            .map(|op| crate::handle::RawHandle::bits(op.0)),
        }
    }
}

/// The state of an active tracer: the mapped record and what only this process needs.
pub struct Tracer {
    /// The rank's record, mapped shared; never unmapped.
    pub rec: &'static Record,
    /// Whether every call counts (program scope) rather than only marked cells.
    pub program_scope: bool,
    /// World rank of this process.
    pub rank: i32,
    /// Size of `MPI_COMM_WORLD`.
    pub world_size: i32,
    /// The MPI library's constants, read once at start.
    pub consts: Consts,
    /// Address range of this library's code, skipped at the top of captured stacks.
    pub own_code: (u64, u64),
    /// Process-local bookkeeping of the record's communicator table.
    pub comms: CommLocal,
    /// Process-local bookkeeping of the record's request table.
    pub requests: RequestLocal,
    /// The cell the last entering `MPI_Pcontrol` named (-1 before the first).
    pub last_cell: std::sync::atomic::AtomicI32,
    /// Blocking calls wait politely (see [`crate::wrappers::polite`]): the grader asked for it.
    pub polite: bool,
    /// The cell entered last asked for polite waits (`pcontrol::Entry::polite`).
    pub polite_cell: std::sync::atomic::AtomicBool,
}

static TRACER: AtomicPtr<Tracer> = AtomicPtr::new(std::ptr::null_mut());

thread_local! {
    // Nesting depth of wrapped calls on this thread. Const-initialised and without a
    // destructor, so access is a plain TLS load and cannot fail during thread teardown.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// The active tracer, if any.
#[inline(always)]
pub fn tracer() -> Option<&'static Tracer> {
    let p = TRACER.load(Acquire);
    // SAFETY: only ever set to a leaked `Box<Tracer>`, never freed.
    unsafe { p.as_ref() }
}

/// Publishes the tracer; from now on wrappers record.
pub(crate) fn publish(t: &'static Tracer) {
    TRACER.store(t as *const Tracer as *mut Tracer, Release);
}

/// Proof that the current wrapper is the outermost traced call on this thread; resets the
/// depth when dropped.
pub struct Active {
    /// The active tracer.
    pub t: &'static Tracer,
}

impl Drop for Active {
    #[inline(always)]
    fn drop(&mut self) {
        let _ = DEPTH.try_with(|d| d.set(0));
    }
}

/// Starts recording a wrapped call: `None` when the tracer is passive or this call is nested
/// inside another wrapped call (then the wrapper only forwards).
#[inline(always)]
pub fn enter() -> Option<Active> {
    let t = tracer()?;
    let outermost = DEPTH
        .try_with(|d| {
            if d.get() == 0 {
                d.set(1);
                true
            } else {
                false
            }
        })
        .unwrap_or(false);
    outermost.then_some(Active { t })
}

/// Whether this thread is inside a traced call (the tracer is active and a wrapper below
/// recorded this call): a `PMPI_` function called now is the MPI library's own business, not the
/// program's. `true` when the thread-local state is gone (thread teardown), as [`enter`] then
/// records nothing either.
#[inline(always)]
pub fn inside_traced_call() -> bool {
    DEPTH.try_with(|d| d.get() != 0).unwrap_or(true)
}

/// `CLOCK_MONOTONIC_COARSE` in nanoseconds (served by the vDSO, no system call). The same clock
/// as `CLOCK_MONOTONIC` at the resolution of the scheduler tick (1 to 4 ms), which is plenty for
/// quiet windows of 150 ms and hangs of seconds, and a third of the cost per read: it halves the
/// tracer's cost per call (measured: 51 ns with CLOCK_MONOTONIC).
#[inline]
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// One wait condition, as a plain value (written into a [`WaitEntry`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wait {
    /// A [`WaitKind`] number.
    pub kind: u32,
    /// World rank of the peer, or `ANY_SOURCE`, `PROC_NULL`, `NO_PEER`.
    pub peer: i32,
    /// Tag, or `ANY_TAG`.
    pub tag: i32,
    /// Cross-rank id of the communicator, 0 if unknown.
    pub comm: u64,
    /// Payload bytes of the operation.
    pub bytes: u64,
    /// For a collective: which one on `comm` this is (1 = the first).
    pub coll_seq: u64,
    /// For a point-to-point operation: its datatype's code (`DATATYPES`), 0 if not named.
    pub dtype: u32,
}

impl Wait {
    /// A condition of `kind` with no peer, tag or communicator.
    pub fn bare(kind: WaitKind) -> Wait {
        Wait {
            kind: kind as u32,
            peer: NO_PEER,
            tag: 0,
            comm: 0,
            bytes: 0,
            coll_seq: 0,
            dtype: 0,
        }
    }

    /// Writes this condition into a record entry.
    #[inline]
    pub fn store(&self, e: &WaitEntry) {
        e.kind.store(self.kind, Relaxed);
        e.peer.store(self.peer, Relaxed);
        e.tag.store(self.tag, Relaxed);
        e.comm.store(self.comm, Relaxed);
        e.bytes.store(self.bytes, Relaxed);
        e.coll_seq.store(self.coll_seq, Relaxed);
        e.dtype.store(self.dtype, Relaxed);
    }

    /// Reads a condition from a record entry.
    #[inline]
    pub fn load(e: &WaitEntry) -> Wait {
        Wait {
            kind: e.kind.load(Relaxed),
            peer: e.peer.load(Relaxed),
            tag: e.tag.load(Relaxed),
            comm: e.comm.load(Relaxed),
            bytes: e.bytes.load(Relaxed),
            coll_seq: e.coll_seq.load(Relaxed),
            dtype: e.dtype.load(Relaxed),
        }
    }
}

/// Writes message `w` (of `cell`, the `nth` to or from its peer there) into the next entry of
/// a ring whose count is `count`: `seq` cleared, the fields, then `seq` with release.
#[inline]
fn note_msg(
    ring: &[MsgEntry],
    count: &std::sync::atomic::AtomicU64,
    w: &Wait,
    cell: Option<usize>,
    nth: u64,
) {
    let seq = bump(count, 1);
    let e = &ring[(seq % ring.len() as u64) as usize];
    e.seq.store(0, Relaxed);
    std::sync::atomic::fence(Release);
    e.peer.store(w.peer, Relaxed);
    e.tag.store(w.tag, Relaxed);
    e.comm.store(w.comm, Relaxed);
    e.bytes.store(w.bytes, Relaxed);
    e.dtype.store(w.dtype, Relaxed);
    e.cell.store(cell.map_or(-1, |c| c as i32), Relaxed);
    e.nth.store(nth, Relaxed);
    e.seq.store(seq, Release);
}

/// Adds one to a single-writer counter.
#[inline(always)]
pub(crate) fn bump(c: &std::sync::atomic::AtomicU64, by: u64) -> u64 {
    let v = c.load(Relaxed).wrapping_add(by);
    c.store(v, Relaxed);
    v
}

impl Tracer {
    /// A tracer over `rec` (which must be zeroed or already initialised by this process).
    pub fn new(
        rec: &'static Record,
        rank: i32,
        world_size: i32,
        program_scope: bool,
        consts: Consts,
    ) -> Tracer {
        Tracer {
            rec,
            program_scope,
            rank,
            world_size,
            consts,
            own_code: (0, 0),
            comms: CommLocal::new(),
            requests: RequestLocal::new(),
            last_cell: std::sync::atomic::AtomicI32::new(-1),
            polite: false,
            polite_cell: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Whether blocking calls wait politely now: for the whole run (the grader's environment),
    /// or in the cell entered last.
    #[inline(always)]
    pub fn waits_politely(&self) -> bool {
        self.polite || self.polite_cell.load(Relaxed)
    }

    /// The counters slot calls go to now, `None` when calls do not count (marked scope,
    /// outside the student's code).
    #[inline]
    pub fn counting_cell(&self) -> Option<usize> {
        let cell = self.rec.header.cell.load(Relaxed);
        if self.program_scope || cell >= 0 {
            Some(cell.max(0) as usize)
        } else {
            None
        }
    }

    /// Counts one call of `func` moving `bytes` if calls count now; the first call of a
    /// function in a cell also records its call site.
    #[inline]
    pub fn count(&self, func: Func, bytes: u64) {
        let Some(cell) = self.counting_cell() else {
            return;
        };
        let Some(fc) = self
            .rec
            .cells
            .get(cell)
            .and_then(|c| c.funcs.get(func as usize))
        else {
            return;
        };
        let calls = fc.calls.load(Relaxed);
        fc.calls.store(calls.wrapping_add(1), Relaxed);
        bump(&fc.bytes, bytes);
        if calls == 0 {
            self.record_site(cell, func);
        }
    }

    /// Appends the current stack as the call site of `func` in `cell`, while there is room.
    #[cold]
    #[inline(never)]
    fn record_site(&self, cell: usize, func: Func) {
        let h = &self.rec.header;
        let n = h.nsites.load(Relaxed) as usize;
        let Some(site) = self.rec.sites.get(n) else {
            return;
        };
        site.func.store(func as u32, Relaxed);
        // SAFETY: the unwinder only reads this thread's stack and the loaded objects' unwind
        // tables; the record's single writer is this thread.
        let depth = unsafe { crate::stack::capture(&site.ips, self.own_code) };
        site.depth.store(depth as u32, Relaxed);
        // `cell` last: a reader takes a non-zero cell as "entry filled".
        site.cell.store(cell as u32 + 1, Release);
        h.nsites.store(n as u32 + 1, Release);
    }

    /// Adds to the bytes the student's code sent to other ranks (`peer`: the destination's
    /// world rank, `None` for a collective).
    #[inline]
    pub fn sent(&self, peer: Option<i32>, bytes: u64) {
        if bytes == 0 || peer.is_some_and(|p| p < 0 || p == self.rank) {
            return;
        }
        let Some(cell) = self.counting_cell() else {
            return;
        };
        if let Some(c) = self.rec.cells.get(cell) {
            bump(&c.sent_to_others, bytes);
        }
    }

    /// Notes a point-to-point send in the ring of recent ones, and counts it as a message to
    /// its destination.
    #[inline]
    pub fn note_send(&self, w: &Wait) {
        let cell = self.counting_cell();
        let nth = cell
            .and_then(|c| self.rec.cells.get(c))
            .and_then(|c| c.msgs_to.get(w.peer as usize))
            .map_or(0, |n| bump(n, 1));
        note_msg(&self.rec.sends, &self.rec.sends_count, w, cell, nth);
    }

    /// Counts a completed receive, `w` with the message's source and tag where the tracer
    /// learnt them (`w.peer` is [`ANY_SOURCE`] when it did not; nothing for `MPI_PROC_NULL`),
    /// and notes it in the ring of recent receives.
    #[inline]
    pub fn received(&self, w: &Wait) {
        if w.peer < 0 && w.peer != ANY_SOURCE {
            return;
        }
        let cell = self.counting_cell();
        let nth = match cell.and_then(|c| self.rec.cells.get(c)) {
            None => 0,
            Some(c) if w.peer == ANY_SOURCE => {
                bump(&c.msgs_from_unknown, 1);
                0
            }
            Some(c) => c.msgs_from.get(w.peer as usize).map_or(0, |n| bump(n, 1)),
        };
        note_msg(&self.rec.recvs, &self.rec.recvs_count, w, cell, nth);
    }

    /// Marks the counting cell's message counts as not comparable (`UNPAIRED_*` bits).
    #[inline]
    pub fn unpaired(&self, why: u32) {
        if let Some(c) = self.counting_cell().and_then(|c| self.rec.cells.get(c)) {
            c.unpaired.fetch_or(why, Relaxed);
        }
    }

    /// Notes that an operation started or completed.
    #[inline]
    pub fn progress(&self) {
        let h = &self.rec.header;
        bump(&h.progress, 1);
        h.progress_ns.store(now_ns(), Relaxed);
    }

    /// Whether standard sends are to be made synchronous now.
    #[inline]
    pub fn zero_buffer(&self) -> bool {
        self.rec.header.zero_buffer.load(Relaxed) == 1
    }

    /// Fills the current-call slot: `fill` writes the wait entries and returns how many it
    /// wrote and whether some did not fit. Then the rank is `InCall`.
    #[inline]
    pub fn begin_call(
        &self,
        func: Func,
        mode: WaitMode,
        fill: impl FnOnce(&CallSlot) -> (usize, bool),
    ) {
        let call = &self.rec.call;
        let since = now_ns();
        let cell = self.rec.header.cell.load(Relaxed);
        write_guarded(&call.seq, || {
            call.func.store(func as u32 + 1, Relaxed);
            call.mode.store(mode as u32, Relaxed);
            call.since_ns.store(since, Relaxed);
            call.cell.store(cell, Relaxed);
            let (n, truncated) = fill(call);
            call.nwait.store(n as u32, Relaxed);
            call.truncated.store(u32::from(truncated), Relaxed);
        });
        self.rec
            .header
            .state
            .store(RankState::InCall as u32, Release);
    }

    /// [`begin_call`](Self::begin_call) with a fixed list of conditions.
    #[inline]
    pub fn begin_call_with(&self, func: Func, mode: WaitMode, waits: &[Wait]) {
        self.begin_call(func, mode, |call| {
            for (w, e) in waits.iter().zip(call.waits.iter()) {
                w.store(e);
            }
            let n = waits.len().min(call.waits.len());
            (n, n < waits.len())
        });
    }

    /// Clears the current-call slot after the call returned; the rank is now in `state`.
    #[inline]
    pub fn end_call(&self, state: RankState) {
        let call = &self.rec.call;
        write_guarded(&call.seq, || {
            call.func.store(0, Relaxed);
            call.nwait.store(0, Relaxed);
            call.truncated.store(0, Relaxed);
        });
        self.rec.header.state.store(state as u32, Release);
        self.progress();
    }

    /// Runs a blocking call with the slot showing `waits` while it runs.
    #[inline]
    pub fn blocking(
        &self,
        func: Func,
        mode: WaitMode,
        waits: &[Wait],
        call: impl FnOnce() -> c_int,
    ) -> c_int {
        self.begin_call_with(func, mode, waits);
        let rc = call();
        self.end_call(RankState::Running);
        rc
    }

    /// Handles `MPI_Pcontrol(level)`: enters or leaves a cell (marked scope only).
    ///
    /// Every call is also counted as a mark of the cell it enters, or else of the cell entered
    /// last: the runtime makes exactly two per call of the student function, so the grader
    /// sees any `MPI_Pcontrol` of the student's (one that leaves early to hide calls, re-enters,
    /// or uses a level of its own) as extra marks.
    pub fn pcontrol(&self, level: i32) {
        if self.program_scope {
            self.count(Func::Pcontrol, 0);
            return;
        }
        let h = &self.rec.header;
        let decoded = pcontrol::decode(level);
        let marked = match decoded {
            Some(entry) => entry.cell as i32,
            None => self.last_cell.load(Relaxed),
        };
        if let Some(c) = usize::try_from(marked)
            .ok()
            .and_then(|m| self.rec.cells.get(m))
        {
            bump(&c.marks, 1);
        }
        match decoded {
            Some(entry) => {
                self.last_cell.store(entry.cell as i32, Relaxed);
                h.cell.store(entry.cell as i32, Relaxed);
                h.zero_buffer.store(u32::from(entry.zero_buffer), Relaxed);
                self.polite_cell.store(entry.polite, Relaxed);
            }
            None if level == pcontrol::LEAVE => {
                h.cell.store(-1, Relaxed);
                h.zero_buffer.store(0, Relaxed);
                self.polite_cell.store(false, Relaxed);
            }
            // A level that is neither: counted as a mark, changes nothing.
            None => return,
        }
        self.progress();
    }
}
