//! The communicator table: which communicators this rank knows, their cross-rank ids and their
//! members as world ranks.
//!
//! Ids agree across ranks without any extra communication: a child's id mixes its parent's id,
//! how many communicators were created from that parent before it (MPI requires every member of
//! the parent to make creation calls in the same order, so the counters agree), the
//! discriminating argument (the colour of `Comm_split`, say) and a hash of the child's members
//! as world ranks (which every member of the child computes alike, and which keeps apart
//! disjoint children that would otherwise share an id, like `Comm_split_type` on two nodes).
//!
//! Entries are free when their handle is 0 (not their id: a communicator created by a function
//! the tracer does not wrap is entered with id 0, "unknown", so that its members can still be
//! used to translate ranks). New and removed entries are published under `comms_seq`.

use crate::handle::comm_bits;
use crate::tracer::{bump, Tracer};
use mpi_grade_protocol::trace::{
    write_guarded, CommEntry, Func, Record, ANY_SIG, ANY_SOURCE, COLL_RING, MAX_COMMS,
    MAX_COMM_MEMBERS, NO_OP, NO_ROOT, OTHER_OP, PROC_NULL,
};
use mpi_sys::{MPI_Comm, MPI_Group};
use std::os::raw::c_int;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};

/// What every member of a communicator must give alike in a collective, beyond the function:
/// the root, the reduction operation and the bytes of the type signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matching {
    /// Root as a rank of the communicator, or `NO_ROOT`.
    pub root: i32,
    /// Operation code (`NO_OP`, a predefined one, `OTHER_OP`).
    pub op: u32,
    /// Type-signature bytes, or `ANY_SIG`.
    pub sig: u64,
    /// Size of the datatype `sig` counts (0: not noted).
    pub type_size: u64,
}

impl Matching {
    /// Only the function is compared (calls whose other arguments the tracer does not note).
    pub const UNKNOWN: Matching = Matching {
        root: NO_ROOT,
        op: NO_OP,
        sig: ANY_SIG,
        type_size: 0,
    };
}

/// Id of `MPI_COMM_WORLD` on every rank.
pub const WORLD_ID: u64 = 1;

/// A 64-bit finaliser (splitmix64): spreads every input bit over the output.
pub fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Combines two values into one, order-sensitively.
pub fn mix(a: u64, b: u64) -> u64 {
    splitmix(a.rotate_left(17) ^ splitmix(b))
}

/// Keeps derived ids off the reserved values 0 ("free/unknown") and 1 (the world).
fn usable(id: u64) -> u64 {
    if id <= WORLD_ID {
        id + 2
    } else {
        id
    }
}

/// The id of this rank's `MPI_COMM_SELF` (unique per rank).
pub fn self_id(world_rank: i32) -> u64 {
    usable(mix(2, world_rank as u32 as u64))
}

/// How a communicator was derived from its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derivation {
    /// `Comm_dup`, `Comm_dup_with_info`.
    Dup,
    /// `Comm_split` with this colour.
    Split {
        /// The `color` argument.
        color: i32,
    },
    /// `Comm_split_type` with this split type.
    SplitType {
        /// The `split_type` argument (`MPI_COMM_TYPE_SHARED`, ...).
        split_type: i32,
    },
    /// `Comm_create`.
    Create,
    /// `Cart_create`.
    Cart,
    /// `Cart_sub` (not a counted function, but its communicators get ids too).
    CartSub,
    /// `Comm_create_group` with this tag: collective over the group only, so the parent's
    /// creation counter is not used (non-members do not make the call).
    Group {
        /// The `tag` argument.
        tag: i32,
    },
}

impl Derivation {
    fn code(self) -> u64 {
        let (kind, arg) = match self {
            Derivation::Dup => (1, 0),
            Derivation::Split { color } => (2, color),
            Derivation::SplitType { split_type } => (3, split_type),
            Derivation::Create => (4, 0),
            Derivation::Cart => (5, 0),
            Derivation::CartSub => (6, 0),
            Derivation::Group { tag } => (7, tag),
        };
        (kind << 32) | u64::from(arg as u32)
    }

    /// Whether this derivation consumes one of the parent's creation counters.
    pub fn uses_counter(self) -> bool {
        !matches!(self, Derivation::Group { .. })
    }
}

/// The id of a communicator derived from `parent` (id) as its `counter`-th child, with the
/// given members' hash ([`Members::hash`]).
pub fn child_id(parent: u64, counter: u64, how: Derivation, members_hash: u64) -> u64 {
    usable(mix(mix(mix(parent, counter), how.code()), members_hash))
}

/// A communicator's members as world ranks, summarised to what the record keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Members {
    /// Number of members.
    pub size: i32,
    /// The first `MAX_COMM_MEMBERS` members.
    pub first: [i32; MAX_COMM_MEMBERS],
    /// Members are exactly `0..world_size` in order.
    pub world_order: bool,
    /// Hash of all members in order.
    pub hash: u64,
}

impl Members {
    /// Summarises members given one at a time (communicators can be larger than any buffer
    /// the tracer keeps).
    pub fn builder(world_size: i32) -> MembersBuilder {
        MembersBuilder {
            world_size,
            m: Members {
                size: 0,
                first: [0; MAX_COMM_MEMBERS],
                world_order: true,
                hash: 0x6d70_6967_7261_6465,
            },
        }
    }

    /// Summarises a list of members.
    pub fn from_slice(ranks: &[i32], world_size: i32) -> Members {
        let mut b = Members::builder(world_size);
        for &r in ranks {
            b.push(r);
        }
        b.finish()
    }

    /// Whether the record can list them all.
    pub fn truncated(&self) -> bool {
        !self.world_order && self.size as usize > MAX_COMM_MEMBERS
    }
}

/// Collects [`Members`].
pub struct MembersBuilder {
    world_size: i32,
    m: Members,
}

impl MembersBuilder {
    /// Adds the next member (world rank).
    pub fn push(&mut self, world_rank: i32) {
        let i = self.m.size;
        if let Some(slot) = self.m.first.get_mut(i as usize) {
            *slot = world_rank;
        }
        if world_rank != i {
            self.m.world_order = false;
        }
        self.m.hash = mix(self.m.hash, world_rank as u32 as u64);
        self.m.size = i.saturating_add(1);
    }

    /// The summary of the members pushed so far.
    pub fn finish(mut self) -> Members {
        self.m.world_order &= self.m.size == self.world_size;
        self.m
    }
}

/// What a wrapper knows about the communicator of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommRef {
    /// Index in the table, `None` when the communicator could not be entered (table full).
    pub slot: Option<usize>,
    /// Cross-rank id, 0 if unknown.
    pub id: u64,
}

/// Process-local bookkeeping of the communicator table.
pub struct CommLocal {
    /// Entries at this index and above are free.
    hwm: AtomicUsize,
    /// Creation counter of the communicator in each slot (how many children it had).
    children: [AtomicU64; MAX_COMMS],
    /// Last handle looked up and its slot, so that the common case is not a scan.
    cache_handle: AtomicU64,
    cache_slot: AtomicUsize,
}

impl Default for CommLocal {
    fn default() -> Self {
        CommLocal::new()
    }
}

impl CommLocal {
    /// Bookkeeping for an empty table.
    pub fn new() -> CommLocal {
        CommLocal {
            hwm: AtomicUsize::new(0),
            children: [const { AtomicU64::new(0) }; MAX_COMMS],
            cache_handle: AtomicU64::new(0),
            cache_slot: AtomicUsize::new(0),
        }
    }

    /// The slot holding `handle`.
    #[inline]
    pub fn lookup(&self, rec: &Record, handle: u64) -> Option<usize> {
        if handle == 0 {
            return None;
        }
        if self.cache_handle.load(Relaxed) == handle {
            let s = self.cache_slot.load(Relaxed);
            if rec.comms.get(s).map(|e| e.handle.load(Relaxed)) == Some(handle) {
                return Some(s);
            }
        }
        let hwm = self.hwm.load(Relaxed).min(MAX_COMMS);
        let s = rec.comms[..hwm]
            .iter()
            .position(|e| e.handle.load(Relaxed) == handle)?;
        self.cache_handle.store(handle, Relaxed);
        self.cache_slot.store(s, Relaxed);
        Some(s)
    }

    /// Enters a communicator (replacing a stale entry with the same handle); `None` and
    /// `comms_overflowed` when the table is full.
    pub fn insert(&self, rec: &Record, handle: u64, id: u64, members: &Members) -> Option<usize> {
        let hwm = self.hwm.load(Relaxed).min(MAX_COMMS);
        let slot = rec.comms[..hwm]
            .iter()
            .position(|e| e.handle.load(Relaxed) == handle)
            .or_else(|| {
                rec.comms[..hwm]
                    .iter()
                    .position(|e| e.handle.load(Relaxed) == 0)
            })
            .or((hwm < MAX_COMMS).then_some(hwm));
        let Some(slot) = slot else {
            rec.header.comms_overflowed.store(1, Relaxed);
            return None;
        };
        let e = &rec.comms[slot];
        write_guarded(&rec.comms_seq, || {
            e.id.store(id, Relaxed);
            e.handle.store(handle, Relaxed);
            e.size.store(members.size, Relaxed);
            e.is_world_order
                .store(u32::from(members.world_order), Relaxed);
            e.members_truncated
                .store(u32::from(members.truncated()), Relaxed);
            e.coll_count.store(0, Relaxed);
            e.recent.iter().for_each(|r| r.seq.store(0, Relaxed));
            let listed = if members.world_order {
                0
            } else {
                members.size.max(0) as usize
            };
            for (i, m) in e.members.iter().enumerate() {
                m.store(if i < listed { members.first[i] } else { 0 }, Relaxed);
            }
        });
        self.children[slot].store(0, Relaxed);
        if slot >= hwm {
            self.hwm.store(slot + 1, Relaxed);
        }
        Some(slot)
    }

    /// Removes the entry of `handle`, if any.
    pub fn remove(&self, rec: &Record, handle: u64) -> bool {
        let Some(slot) = self.lookup(rec, handle) else {
            return false;
        };
        let e = &rec.comms[slot];
        write_guarded(&rec.comms_seq, || {
            e.id.store(0, Relaxed);
            e.handle.store(0, Relaxed);
            e.size.store(0, Relaxed);
            e.is_world_order.store(0, Relaxed);
            e.members_truncated.store(0, Relaxed);
            e.coll_count.store(0, Relaxed);
            e.recent.iter().for_each(|r| r.seq.store(0, Relaxed));
        });
        if self.cache_handle.load(Relaxed) == handle {
            self.cache_handle.store(0, Relaxed);
        }
        let mut hwm = self.hwm.load(Relaxed).min(MAX_COMMS);
        while hwm > 0 && rec.comms[hwm - 1].handle.load(Relaxed) == 0 {
            hwm -= 1;
        }
        self.hwm.store(hwm, Relaxed);
        true
    }

    /// The next creation counter of the communicator in `slot` (1 for its first child).
    pub fn next_child(&self, slot: usize) -> u64 {
        self.children.get(slot).map_or(0, |c| bump(c, 1))
    }
}

/// The world rank of `rank` of the communicator in `e`: `PROC_NULL`/`ANY_SOURCE` for those,
/// `None` when the entry cannot tell (a rank beyond a truncated member list, or out of range).
pub fn to_world(e: &CommEntry, rank: c_int, proc_null: c_int, any_source: c_int) -> Option<i32> {
    if rank == proc_null {
        return Some(PROC_NULL);
    }
    if rank == any_source {
        return Some(ANY_SOURCE);
    }
    if e.is_world_order.load(Relaxed) == 1 {
        return Some(rank);
    }
    let size = e.size.load(Relaxed);
    if rank < 0 || rank >= size {
        return None;
    }
    e.members.get(rank as usize).map(|m| m.load(Relaxed))
}

/// Releases a group, ignoring errors (nothing to do about them).
unsafe fn free_group(g: &mut MPI_Group) {
    mpi_sys::PMPI_Group_free(g);
}

/// Translates ranks `start..` of `group` to ranks of `world`, `out.len()` of them (at most
/// `MAX_COMM_MEMBERS`).
unsafe fn translate_ranks(
    group: MPI_Group,
    world: MPI_Group,
    start: c_int,
    out: &mut [c_int],
) -> bool {
    let mut ranks = [0 as c_int; MAX_COMM_MEMBERS];
    let n = out.len().min(MAX_COMM_MEMBERS);
    for (i, r) in ranks.iter_mut().take(n).enumerate() {
        *r = start + i as c_int;
    }
    mpi_sys::PMPI_Group_translate_ranks(group, n as c_int, ranks.as_ptr(), world, out.as_mut_ptr())
        == 0
}

impl Tracer {
    /// Reads the members of `comm` from the MPI library (not on the hot path: once per
    /// communicator).
    ///
    /// # Safety
    /// `comm` must be a valid communicator handle, MPI initialised and not finalised.
    pub unsafe fn discover(&self, comm: MPI_Comm) -> Option<Members> {
        let mut group = mpi_sys::RSMPI_GROUP_NULL;
        let mut world = mpi_sys::RSMPI_GROUP_NULL;
        if mpi_sys::PMPI_Comm_group(comm, &mut group) != 0 {
            return None;
        }
        if mpi_sys::PMPI_Comm_group(mpi_sys::RSMPI_COMM_WORLD, &mut world) != 0 {
            free_group(&mut group);
            return None;
        }
        let mut size: c_int = 0;
        let mut ok = mpi_sys::PMPI_Group_size(group, &mut size) == 0;
        let mut b = Members::builder(self.world_size);
        let mut start = 0;
        let mut out = [0 as c_int; MAX_COMM_MEMBERS];
        while ok && start < size {
            let n = ((size - start) as usize).min(MAX_COMM_MEMBERS);
            ok = translate_ranks(group, world, start, &mut out[..n]);
            for &r in &out[..n] {
                // A process outside the world (spawned) has no world rank.
                b.push(if r == self.consts.undefined { -1 } else { r });
            }
            start += n as c_int;
        }
        free_group(&mut group);
        free_group(&mut world);
        ok.then(|| b.finish())
    }

    /// The world rank of one rank of `comm`, asking the library (for members the table does
    /// not list).
    unsafe fn translate_slow(&self, comm: MPI_Comm, rank: c_int) -> i32 {
        let mut group = mpi_sys::RSMPI_GROUP_NULL;
        let mut world = mpi_sys::RSMPI_GROUP_NULL;
        if mpi_sys::PMPI_Comm_group(comm, &mut group) != 0 {
            return rank;
        }
        let mut out = [rank];
        if mpi_sys::PMPI_Comm_group(mpi_sys::RSMPI_COMM_WORLD, &mut world) == 0 {
            let mut r = [0 as c_int];
            if mpi_sys::PMPI_Group_translate_ranks(group, 1, out.as_ptr(), world, r.as_mut_ptr())
                == 0
            {
                out = r;
            }
            free_group(&mut world);
        }
        free_group(&mut group);
        out[0]
    }

    /// The table entry of `comm`, entering it (with id 0, "unknown") if the tracer has not
    /// seen it created.
    ///
    /// # Safety
    /// `comm` is a handle passed to an MPI call (validity is the caller's business: an invalid
    /// one is never looked up in the library).
    #[inline]
    pub unsafe fn comm(&self, comm: MPI_Comm) -> CommRef {
        let handle = comm_bits(comm);
        if let Some(slot) = self.comms.lookup(self.rec, handle) {
            return CommRef {
                slot: Some(slot),
                id: self.rec.comms[slot].id.load(Relaxed),
            };
        }
        self.enter_unknown(comm, handle)
    }

    #[cold]
    #[inline(never)]
    unsafe fn enter_unknown(&self, comm: MPI_Comm, handle: u64) -> CommRef {
        let unknown = CommRef { slot: None, id: 0 };
        if handle == 0 || handle == self.consts.comm_null {
            return unknown;
        }
        match self.discover(comm) {
            Some(m) => CommRef {
                slot: self.comms.insert(self.rec, handle, 0, &m),
                id: 0,
            },
            None => unknown,
        }
    }

    /// The world rank of `rank` in `comm` (or `PROC_NULL`/`ANY_SOURCE`).
    ///
    /// # Safety
    /// As for [`comm`](Self::comm).
    #[inline]
    pub unsafe fn peer(&self, c: &CommRef, comm: MPI_Comm, rank: c_int) -> i32 {
        let (pn, any) = (self.consts.proc_null, self.consts.any_source);
        if let Some(e) = c.slot.and_then(|s| self.rec.comms.get(s)) {
            if let Some(r) = to_world(e, rank, pn, any) {
                return r;
            }
            // Beyond the listed members of a large communicator: ask the library. An invalid
            // rank is left as it is, for the call itself to report.
            let listed = rank >= 0 && rank < e.size.load(Relaxed);
            if listed && e.members_truncated.load(Relaxed) == 1 {
                return self.translate_slow(comm, rank);
            }
            return rank;
        }
        if rank == pn {
            return PROC_NULL;
        }
        if rank == any {
            return ANY_SOURCE;
        }
        // Not in the table (it was full): ask the library, for valid ranks only.
        let mut size = 0;
        if mpi_sys::PMPI_Comm_size(comm, &mut size) != 0 || rank < 0 || rank >= size {
            return rank;
        }
        self.translate_slow(comm, rank)
    }

    /// Counts one more collective on the communicator; its sequence number (1 = first),
    /// 0 if the communicator is not in the table.
    #[inline]
    pub fn next_coll(&self, c: &CommRef) -> u64 {
        c.slot
            .and_then(|s| self.rec.comms.get(s))
            .map_or(0, |e| bump(&e.coll_count, 1))
    }

    /// Notes collective `seq` on the communicator (its entry of the ring of recent ones).
    #[inline]
    pub fn note_coll(&self, c: &CommRef, seq: u64, func: Func, m: &Matching) {
        let Some(e) = c.slot.and_then(|s| self.rec.comms.get(s)) else {
            return;
        };
        if seq == 0 {
            return;
        }
        let r = &e.recent[(seq % COLL_RING as u64) as usize];
        r.seq.store(0, Relaxed);
        std::sync::atomic::fence(Release);
        r.func.store(func as u32 + 1, Relaxed);
        r.root.store(m.root, Relaxed);
        r.op.store(m.op, Relaxed);
        r.cell.store(self.rec.header.cell.load(Relaxed), Relaxed);
        r.sig.store(m.sig, Relaxed);
        r.type_size.store(m.type_size, Relaxed);
        r.seq.store(seq, Release);
        if e.size.load(Relaxed) == self.world_size {
            if let Some(cell) = self.counting_cell().and_then(|c| self.rec.cells.get(c)) {
                bump(&cell.colls, 1);
                let term = mix(mix(e.id.load(Relaxed), seq), func as u64);
                bump(&cell.coll_sig, term);
            }
        }
    }

    /// The number the record gives reduction operation `op` (see
    /// [`CollEntry::op`](mpi_grade_protocol::trace::CollEntry::op)).
    #[inline]
    pub fn op_code(&self, op: u64) -> u32 {
        self.consts
            .ops
            .iter()
            .position(|&o| o == op)
            .map_or(OTHER_OP, |i| i as u32 + 1)
    }

    /// The size of `comm` (its local group).
    ///
    /// # Safety
    /// As for [`comm`](Self::comm).
    #[inline]
    pub unsafe fn comm_size(&self, c: &CommRef, comm: MPI_Comm) -> i32 {
        if let Some(e) = c.slot.and_then(|s| self.rec.comms.get(s)) {
            return e.size.load(Relaxed);
        }
        let mut n = 0;
        if mpi_sys::PMPI_Comm_size(comm, &mut n) != 0 {
            return 0;
        }
        n
    }

    /// Takes the next creation counter of `parent` for a child derived `how`.
    pub fn child_counter(&self, parent: &CommRef, how: Derivation) -> u64 {
        match parent.slot {
            Some(s) if how.uses_counter() => self.comms.next_child(s),
            _ => 0,
        }
    }

    /// Enters a communicator just created from `parent`.
    ///
    /// # Safety
    /// `newcomm` must be a valid communicator or `MPI_COMM_NULL` (then nothing happens).
    pub unsafe fn register_child(
        &self,
        parent: &CommRef,
        counter: u64,
        how: Derivation,
        newcomm: MPI_Comm,
    ) {
        let handle = comm_bits(newcomm);
        if handle == self.consts.comm_null || handle == 0 {
            return;
        }
        let Some(m) = self.discover(newcomm) else {
            return;
        };
        let id = child_id(parent.id, counter, how, m.hash);
        self.comms.insert(self.rec, handle, id, &m);
    }

    /// Enters `MPI_COMM_WORLD` and `MPI_COMM_SELF` (at activation).
    pub fn register_predefined(&self) {
        let world = Members {
            size: self.world_size,
            first: [0; MAX_COMM_MEMBERS],
            world_order: true,
            hash: 0,
        };
        self.comms
            .insert(self.rec, self.consts.comm_world, WORLD_ID, &world);
        let me = Members::from_slice(&[self.rank], self.world_size);
        self.comms
            .insert(self.rec, self.consts.comm_self, self_id(self.rank), &me);
    }
}
