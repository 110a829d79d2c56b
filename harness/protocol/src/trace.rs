//! The tracer's per-rank record, shared between a rank (writer) and the grader (reader).
//!
//! The grader creates `<trace dir>/<rank>.trace`, [`RECORD_SIZE`] bytes of zeros, before the
//! launch. The tracer, preloaded into every rank, maps its rank's file after `MPI_Init` and keeps
//! it current: which call the rank is in and what that call waits for, its pending non-blocking
//! requests, its communicators, a progress counter, and per-cell call counts. The grader maps the
//! same file read-only and polls it to build the wait-for graph; after the launch the file still
//! holds the counts.
//!
//! Every field is an atomic, so a zero-filled mapping is a valid record and both sides access it
//! without locks. There is exactly one writer per record (the rank's MPI thread). Parts that must
//! be read consistently (the current call, the request table) are guarded by a sequence lock:
//! the writer makes the sequence odd, writes, then makes it even; a reader retries until it saw
//! the same even sequence before and after reading.
//!
//! Ranks are world ranks throughout. Communicators are identified by a [`CommEntry::id`] that is
//! the same on every member (derived from the parent's id and the order of creation, which MPI
//! requires to be the same on all members); 0 means "not known to the tracer".

use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicU8, Ordering};

/// `b"MPIGTRC1"`: written last by the tracer once the record is initialised.
pub const MAGIC: u64 = u64::from_le_bytes(*b"MPIGTRC1");
/// Bumped whenever the layout below changes.
pub const LAYOUT_VERSION: u32 = 6;

/// Cells per launch that get their own counters (`MPI_Pcontrol` marks cells `0..MAX_CELLS`).
pub const MAX_CELLS: usize = 64;
/// Pending non-blocking requests tracked per rank.
pub const MAX_REQUESTS: usize = 256;
/// Conditions a single call can wait on (requests of a `Waitall`, say).
pub const MAX_WAIT: usize = 64;
/// Communicators tracked per rank (live at once).
pub const MAX_COMMS: usize = 64;
/// Members listed per communicator; larger ones set `members_truncated`.
pub const MAX_COMM_MEMBERS: usize = 64;
/// Frames kept of a stack captured on request.
pub const MAX_STACK: usize = 64;
/// First call sites remembered per record (one per cell and function).
pub const MAX_SITES: usize = 128;
/// Frames kept per call site.
pub const SITE_DEPTH: usize = 32;
/// Last collectives remembered per communicator, to compare the ranks' calls.
pub const COLL_RING: usize = 8;
/// [`CollEntry::root`] of a collective without a root, or whose root the tracer did not note.
pub const NO_ROOT: i32 = -1;
/// [`CollEntry::op`] of a collective without a reduction operation.
pub const NO_OP: u32 = 0;
/// [`CollEntry::op`] of a reduction operation that is not one of the predefined ones the
/// tracer names (a user-defined one, `MPI_MINLOC`, ...): not comparable across ranks.
pub const OTHER_OP: u32 = u32::MAX;
/// [`CollEntry::sig`] when the call's type signature is not compared (the v/w forms).
pub const ANY_SIG: u64 = u64::MAX;
/// Names of the predefined reduction operations, by [`CollEntry::op`] - 1.
pub const OP_NAMES: [&str; 10] = [
    "MPI_MAX", "MPI_MIN", "MPI_SUM", "MPI_PROD", "MPI_LAND", "MPI_BAND", "MPI_LOR", "MPI_BOR",
    "MPI_LXOR", "MPI_BXOR",
];
/// What a predefined datatype holds, to compare the two sides of a message: MPI requires the
/// type signatures to match, and a send of `MPI_INT` received as `MPI_LONG` completes with
/// wrong values when the byte counts agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeClass {
    /// Signed integers (`MPI_INT`, `MPI_LONG`, `MPI_INT32_T`, `MPI_CHAR`, ...).
    Signed,
    /// Unsigned integers.
    Unsigned,
    /// Floating point.
    Float,
    /// Complex numbers.
    Complex,
    /// Booleans.
    Bool,
    /// `MPI_BYTE` and `MPI_PACKED`: match any data, never compared.
    Bytes,
    /// Pairs for `MPI_MINLOC`/`MPI_MAXLOC` (`MPI_2INT`, ...): compared by name.
    Pair,
}

/// The predefined datatypes the tracer names, with what they hold ([`WaitEntry::dtype`] is
/// 1 + an index). Sizes come from the library (`MPI_Type_size`), not from this table.
pub const DATATYPES: [(&str, TypeClass); 44] = {
    use TypeClass::*;
    [
        ("MPI_CHAR", Signed),
        ("MPI_SIGNED_CHAR", Signed),
        ("MPI_UNSIGNED_CHAR", Unsigned),
        ("MPI_BYTE", Bytes),
        ("MPI_PACKED", Bytes),
        ("MPI_SHORT", Signed),
        ("MPI_UNSIGNED_SHORT", Unsigned),
        ("MPI_INT", Signed),
        ("MPI_UNSIGNED", Unsigned),
        ("MPI_LONG", Signed),
        ("MPI_UNSIGNED_LONG", Unsigned),
        ("MPI_LONG_LONG_INT", Signed),
        ("MPI_LONG_LONG", Signed),
        ("MPI_UNSIGNED_LONG_LONG", Unsigned),
        ("MPI_FLOAT", Float),
        ("MPI_DOUBLE", Float),
        ("MPI_LONG_DOUBLE", Float),
        ("MPI_WCHAR", Unsigned),
        ("MPI_INT8_T", Signed),
        ("MPI_INT16_T", Signed),
        ("MPI_INT32_T", Signed),
        ("MPI_INT64_T", Signed),
        ("MPI_UINT8_T", Unsigned),
        ("MPI_UINT16_T", Unsigned),
        ("MPI_UINT32_T", Unsigned),
        ("MPI_UINT64_T", Unsigned),
        ("MPI_C_BOOL", Bool),
        ("MPI_CXX_BOOL", Bool),
        ("MPI_C_COMPLEX", Complex),
        ("MPI_C_FLOAT_COMPLEX", Complex),
        ("MPI_C_DOUBLE_COMPLEX", Complex),
        ("MPI_C_LONG_DOUBLE_COMPLEX", Complex),
        ("MPI_AINT", Signed),
        ("MPI_OFFSET", Signed),
        ("MPI_COUNT", Signed),
        ("MPI_FLOAT_INT", Pair),
        ("MPI_DOUBLE_INT", Pair),
        ("MPI_LONG_INT", Pair),
        ("MPI_2INT", Pair),
        ("MPI_SHORT_INT", Pair),
        ("MPI_LONG_DOUBLE_INT", Pair),
        ("MPI_UNSIGNED_LONG_LONG_INT", Unsigned),
        ("MPI_CXX_FLOAT_COMPLEX", Complex),
        ("MPI_CXX_DOUBLE_COMPLEX", Complex),
    ]
};

/// The [`WaitEntry::dtype`] code of a predefined datatype's name (`"MPI_INT"`) and size in
/// bytes: 1 + its index in [`DATATYPES`] in the low byte, the size (below 256) above it; 0
/// for a name that is not a predefined one.
pub fn dtype_code(name: &[u8], size: u64) -> u32 {
    let Some(i) = DATATYPES.iter().position(|(n, _)| n.as_bytes() == name) else {
        return 0;
    };
    (i as u32 + 1) | ((size.min(255) as u32) << 8)
}

/// The name, class and size in bytes of a [`WaitEntry::dtype`] code; `None` for 0.
pub fn dtype(code: u32) -> Option<(&'static str, TypeClass, u64)> {
    let (name, class) = DATATYPES
        .get(((code & 0xff) as usize).checked_sub(1)?)
        .copied()?;
    Some((name, class, u64::from(code >> 8)))
}

/// [`MsgEntry::bytes`] of a receive whose buffer the tracer does not know: a matched probe
/// (`MPI_Mprobe`, `MPI_Improbe`) takes the message before the buffer is given.
pub const UNKNOWN_BYTES: u64 = u64::MAX;
/// Last point-to-point sends remembered per rank, to explain a receive they overflowed.
pub const SEND_RING: usize = 32;
/// Last completed point-to-point receives remembered per rank, to pair them with the sends
/// they matched and compare their datatypes.
pub const RECV_RING: usize = 32;
/// World ranks whose messages are counted per cell (sent to, received from), so that the
/// grader can tell the messages that were sent and never received.
pub const MAX_PEERS: usize = 64;
/// [`CellCounters::unpaired`] bit: the cell used persistent requests, whose messages the tracer
/// does not count, so its counts cannot be compared.
pub const UNPAIRED_PERSISTENT: u32 = 1;
/// [`CellCounters::unpaired`] bit: the cell cancelled a request.
pub const UNPAIRED_CANCEL: u32 = 2;
/// [`CellCounters::unpaired`] bit: the cell made a large-count call the tracer does not follow.
pub const UNPAIRED_LARGE: u32 = 4;
/// Bytes of the executable's path kept.
pub const EXE_PATH_LEN: usize = 512;

/// `peer` of a receive from any source.
pub const ANY_SOURCE: i32 = -1;
/// `peer` of an operation on `MPI_PROC_NULL` (completes at once).
pub const PROC_NULL: i32 = -2;
/// `peer` when the operation has no single peer (collectives).
pub const NO_PEER: i32 = -3;
/// `tag` of a receive with any tag.
pub const ANY_TAG: i32 = -1;

/// Signal the grader sends (with `tgkill`, to [`Header::tid`]) to ask for a stack capture.
/// Its default action is to be ignored, so a rank without the tracer is not harmed.
pub const STACK_SIGNAL: i32 = 23; // SIGURG on Linux

/// `MPI_Pcontrol` levels used by the runtime to mark the student's code.
///
/// `MPI_Pcontrol(0)` leaves the student's code. `MPI_Pcontrol(1 + 2 * cell + zero_buffer)`
/// enters it for cell `cell` (`0..MAX_CELLS`), with standard sends made synchronous when
/// `zero_buffer` is 1; the same level plus [`pcontrol::POLITE`] enters it with blocking calls
/// waiting politely and their tests counted (a cell whose time is not reported, see
/// [`Header::polls`]). mpi4py exposes the same call as `MPI.Pcontrol(level)`.
pub mod pcontrol {
    /// Level that leaves the student's code.
    pub const LEAVE: i32 = 0;
    /// Added to an entering level: the cell's blocking calls wait politely.
    pub const POLITE: i32 = 1 << 16;

    /// How a cell is entered.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Entry {
        /// The cell (`0..MAX_CELLS`).
        pub cell: u32,
        /// Standard sends are made synchronous.
        pub zero_buffer: bool,
        /// Blocking calls are run as their non-blocking twins, tested politely and counted.
        pub polite: bool,
    }

    /// Level that enters the student's code for `cell`.
    pub fn enter(cell: u32, zero_buffer: bool) -> i32 {
        1 + 2 * cell as i32 + i32::from(zero_buffer)
    }

    /// Level that enters the student's code as `entry` says.
    pub fn enter_with(entry: Entry) -> i32 {
        enter(entry.cell, entry.zero_buffer) + if entry.polite { POLITE } else { 0 }
    }

    /// How an entering level enters, `None` for `LEAVE` or a bad level.
    pub fn decode(level: i32) -> Option<Entry> {
        let polite = level > POLITE;
        let level = if polite { level - POLITE } else { level };
        if level < 1 {
            return None;
        }
        let cell = ((level - 1) / 2) as u32;
        ((cell as usize) < super::MAX_CELLS).then_some(Entry {
            cell,
            zero_buffer: (level - 1) % 2 == 1,
            polite,
        })
    }
}

macro_rules! funcs {
    ($($variant:ident = $name:literal : $class:ident,)*) => {
        /// Every MPI function the tracer wraps, with a stable number (its index in the
        /// per-cell counters).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u32)]
        pub enum Func {
            $(#[doc = concat!("`", $name, "`")] $variant,)*
        }

        /// Number of [`Func`] values.
        pub const FUNC_COUNT: usize = [$(Func::$variant,)*].len();

        impl Func {
            /// All functions, in numbering order.
            pub const ALL: [Func; FUNC_COUNT] = [$(Func::$variant,)*];

            /// The C name, as used in `challenges.toml` and reports (`"MPI_Send"`).
            pub fn name(self) -> &'static str {
                match self { $(Func::$variant => $name,)* }
            }

            /// What kind of call this is.
            pub fn class(self) -> FuncClass {
                match self { $(Func::$variant => FuncClass::$class,)* }
            }
        }
    };
}

funcs! {
    Init = "MPI_Init": Lifecycle,
    InitThread = "MPI_Init_thread": Lifecycle,
    Finalize = "MPI_Finalize": Lifecycle,
    Abort = "MPI_Abort": Lifecycle,
    Pcontrol = "MPI_Pcontrol": Lifecycle,

    Send = "MPI_Send": BlockingPointToPoint,
    Ssend = "MPI_Ssend": BlockingPointToPoint,
    Bsend = "MPI_Bsend": BlockingPointToPoint,
    Rsend = "MPI_Rsend": BlockingPointToPoint,
    Recv = "MPI_Recv": BlockingPointToPoint,
    Sendrecv = "MPI_Sendrecv": BlockingPointToPoint,
    SendrecvReplace = "MPI_Sendrecv_replace": BlockingPointToPoint,
    Probe = "MPI_Probe": BlockingPointToPoint,
    Mprobe = "MPI_Mprobe": BlockingPointToPoint,
    Mrecv = "MPI_Mrecv": BlockingPointToPoint,

    Isend = "MPI_Isend": NonBlockingPointToPoint,
    Issend = "MPI_Issend": NonBlockingPointToPoint,
    Ibsend = "MPI_Ibsend": NonBlockingPointToPoint,
    Irsend = "MPI_Irsend": NonBlockingPointToPoint,
    Irecv = "MPI_Irecv": NonBlockingPointToPoint,
    Iprobe = "MPI_Iprobe": NonBlockingPointToPoint,
    Improbe = "MPI_Improbe": NonBlockingPointToPoint,
    Imrecv = "MPI_Imrecv": NonBlockingPointToPoint,
    SendInit = "MPI_Send_init": NonBlockingPointToPoint,
    SsendInit = "MPI_Ssend_init": NonBlockingPointToPoint,
    BsendInit = "MPI_Bsend_init": NonBlockingPointToPoint,
    RsendInit = "MPI_Rsend_init": NonBlockingPointToPoint,
    RecvInit = "MPI_Recv_init": NonBlockingPointToPoint,
    Start = "MPI_Start": NonBlockingPointToPoint,
    Startall = "MPI_Startall": NonBlockingPointToPoint,

    Wait = "MPI_Wait": Completion,
    Waitall = "MPI_Waitall": Completion,
    Waitany = "MPI_Waitany": Completion,
    Waitsome = "MPI_Waitsome": Completion,
    Test = "MPI_Test": Completion,
    Testall = "MPI_Testall": Completion,
    Testany = "MPI_Testany": Completion,
    Testsome = "MPI_Testsome": Completion,
    RequestFree = "MPI_Request_free": Completion,
    Cancel = "MPI_Cancel": Completion,

    Barrier = "MPI_Barrier": Collective,
    Bcast = "MPI_Bcast": Collective,
    Reduce = "MPI_Reduce": Collective,
    Allreduce = "MPI_Allreduce": Collective,
    Gather = "MPI_Gather": Collective,
    Gatherv = "MPI_Gatherv": Collective,
    Scatter = "MPI_Scatter": Collective,
    Scatterv = "MPI_Scatterv": Collective,
    Allgather = "MPI_Allgather": Collective,
    Allgatherv = "MPI_Allgatherv": Collective,
    Alltoall = "MPI_Alltoall": Collective,
    Alltoallv = "MPI_Alltoallv": Collective,
    Alltoallw = "MPI_Alltoallw": Collective,
    ReduceScatter = "MPI_Reduce_scatter": Collective,
    ReduceScatterBlock = "MPI_Reduce_scatter_block": Collective,
    Scan = "MPI_Scan": Collective,
    Exscan = "MPI_Exscan": Collective,

    Ibarrier = "MPI_Ibarrier": NonBlockingCollective,
    Ibcast = "MPI_Ibcast": NonBlockingCollective,
    Ireduce = "MPI_Ireduce": NonBlockingCollective,
    Iallreduce = "MPI_Iallreduce": NonBlockingCollective,
    Igather = "MPI_Igather": NonBlockingCollective,
    Igatherv = "MPI_Igatherv": NonBlockingCollective,
    Iscatter = "MPI_Iscatter": NonBlockingCollective,
    Iscatterv = "MPI_Iscatterv": NonBlockingCollective,
    Iallgather = "MPI_Iallgather": NonBlockingCollective,
    Iallgatherv = "MPI_Iallgatherv": NonBlockingCollective,
    Ialltoall = "MPI_Ialltoall": NonBlockingCollective,
    Ialltoallv = "MPI_Ialltoallv": NonBlockingCollective,
    Ialltoallw = "MPI_Ialltoallw": NonBlockingCollective,
    IreduceScatter = "MPI_Ireduce_scatter": NonBlockingCollective,
    IreduceScatterBlock = "MPI_Ireduce_scatter_block": NonBlockingCollective,
    Iscan = "MPI_Iscan": NonBlockingCollective,
    Iexscan = "MPI_Iexscan": NonBlockingCollective,

    CommDup = "MPI_Comm_dup": Communicator,
    CommDupWithInfo = "MPI_Comm_dup_with_info": Communicator,
    CommSplit = "MPI_Comm_split": Communicator,
    CommSplitType = "MPI_Comm_split_type": Communicator,
    CommCreate = "MPI_Comm_create": Communicator,
    CommCreateGroup = "MPI_Comm_create_group": Communicator,
    CartCreate = "MPI_Cart_create": Communicator,
    CommFree = "MPI_Comm_free": Communicator,
}

/// Broad kinds of MPI calls, for reports and for `challenges.toml` shorthands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FuncClass {
    /// `MPI_Init`, `MPI_Finalize`, `MPI_Abort` and the like.
    Lifecycle,
    /// `MPI_Send`, `MPI_Recv`, `MPI_Sendrecv`, probes.
    BlockingPointToPoint,
    /// `MPI_Isend`, `MPI_Irecv` and their kin.
    NonBlockingPointToPoint,
    /// `MPI_Wait`, `MPI_Test` and their kin.
    Completion,
    /// Blocking collectives (`MPI_Alltoall`, `MPI_Barrier`, ...).
    Collective,
    /// Non-blocking collectives (`MPI_Ialltoall`, ...).
    NonBlockingCollective,
    /// Communicator management (`MPI_Comm_dup`, `MPI_Comm_split`, ...).
    Communicator,
}

impl Func {
    /// The function with this number, if any.
    pub fn from_index(index: u32) -> Option<Func> {
        Func::ALL.get(index as usize).copied()
    }

    /// The function with this C name (`"MPI_Send"`), if the tracer knows it.
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.iter().copied().find(|f| f.name() == name)
    }
}

/// What the current call of a rank is doing, as far as waiting goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum RankState {
    /// The record was not initialised yet: the rank has not returned from `MPI_Init`.
    NotStarted = 0,
    /// Between MPI calls: in the program's own code.
    Running = 1,
    /// Inside an MPI call; [`CallSlot`] says which.
    InCall = 2,
    /// `MPI_Finalize` returned.
    Finalized = 3,
    /// `MPI_Abort` was called; [`Header::exit_code`] holds the code.
    Aborted = 4,
    /// The process ended itself (`exit`) without finalising MPI; [`Header::exit_code`] holds
    /// its status. A process killed by a signal never gets here.
    Exited = 5,
}

impl RankState {
    /// The state stored as this number; `NotStarted` for an unknown one.
    pub fn from_u32(value: u32) -> RankState {
        match value {
            1 => RankState::Running,
            2 => RankState::InCall,
            3 => RankState::Finalized,
            4 => RankState::Aborted,
            5 => RankState::Exited,
            _ => RankState::NotStarted,
        }
    }
}

/// What one wait condition of a blocked call needs from other ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum WaitKind {
    /// Unused entry.
    None = 0,
    /// A send that needs a matching receive at `peer` (or buffering).
    Send = 1,
    /// A receive or probe that needs a matching send from `peer` (or from anyone: `ANY_SOURCE`).
    Recv = 2,
    /// A collective that needs every member of `comm` to enter its `coll_seq`-th collective.
    Collective = 3,
    /// `MPI_Finalize`, which needs every rank to reach it.
    Finalize = 4,
    /// A request the tracer does not know (persistent, generalised): assumed to complete.
    Unknown = 5,
}

impl WaitKind {
    /// The kind stored as this number; `None` for an unknown one.
    pub fn from_u32(value: u32) -> WaitKind {
        match value {
            1 => WaitKind::Send,
            2 => WaitKind::Recv,
            3 => WaitKind::Collective,
            4 => WaitKind::Finalize,
            5 => WaitKind::Unknown,
            _ => WaitKind::None,
        }
    }
}

/// Whether a call needs all of its wait conditions or any one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum WaitMode {
    /// `Send`, `Recv`, `Sendrecv`, `Wait`, `Waitall`, collectives: every condition.
    All = 0,
    /// `Waitany`, `Waitsome`: one condition is enough.
    Any = 1,
}

impl WaitMode {
    /// The mode stored as this number; `All` for an unknown one.
    pub fn from_u32(value: u32) -> WaitMode {
        if value == 1 {
            WaitMode::Any
        } else {
            WaitMode::All
        }
    }
}

/// One condition a blocked call waits on.
#[repr(C)]
#[derive(Default)]
pub struct WaitEntry {
    /// A [`WaitKind`].
    pub kind: AtomicU32,
    /// World rank of the peer, [`ANY_SOURCE`], [`PROC_NULL`] or [`NO_PEER`].
    pub peer: AtomicI32,
    /// Tag, or [`ANY_TAG`].
    pub tag: AtomicI32,
    /// For a point-to-point operation, its datatype as [`dtype_code`] packs it, 0 when it is
    /// not a predefined one (or not noted).
    pub dtype: AtomicU32,
    /// [`CommEntry::id`] of the communicator, 0 if unknown.
    pub comm: AtomicU64,
    /// Payload bytes of this operation.
    pub bytes: AtomicU64,
    /// For [`WaitKind::Collective`]: which collective on `comm` this is (1 = the first).
    pub coll_seq: AtomicU64,
}

/// The call a rank is in, guarded by `seq` (odd while being written).
#[repr(C)]
pub struct CallSlot {
    /// Seqlock: odd while the tracer rewrites the slot, even when it is consistent.
    pub seq: AtomicU64,
    /// 1 + [`Func`] number; 0 when the rank is not in a call.
    pub func: AtomicU32,
    /// A [`WaitMode`].
    pub mode: AtomicU32,
    /// Entries of `waits` in use.
    pub nwait: AtomicU32,
    /// 1 when the call had more conditions than `MAX_WAIT` (the rest are not listed).
    pub truncated: AtomicU32,
    /// `CLOCK_MONOTONIC_COARSE` nanoseconds at entry (the `CLOCK_MONOTONIC` clock, in ticks).
    pub since_ns: AtomicU64,
    /// Cell the call belongs to, -1 outside the student's code.
    pub cell: AtomicI32,
    /// Padding to keep the layout 8-byte aligned.
    pub _pad: AtomicU32,
    /// The call's wait conditions (`nwait` entries in use).
    pub waits: [WaitEntry; MAX_WAIT],
}

/// A pending non-blocking request (an entry of the request table).
#[repr(C)]
#[derive(Default)]
pub struct RequestEntry {
    /// The request handle's bits; 0 for a free entry.
    pub handle: AtomicU64,
    /// What completing the request needs, as a wait condition.
    pub wait: WaitEntry,
}

/// One collective a rank entered on a communicator, kept so that the grader can check that
/// every member's n-th collective on it is the same call (MPI's matching rule, which the
/// libraries do not check).
///
/// The writer clears `seq`, writes the other fields, then stores `seq` with release; a reader
/// takes an entry only when it read the same non-zero `seq` before and after the fields.
#[repr(C)]
#[derive(Default)]
pub struct CollEntry {
    /// Which collective on the communicator this is (1 = the first); 0 for an empty entry.
    pub seq: AtomicU64,
    /// 1 + [`Func`] number.
    pub func: AtomicU32,
    /// Root, as a rank of the communicator; [`NO_ROOT`] if none.
    pub root: AtomicI32,
    /// The reduction operation: [`NO_OP`], 1 + an index of [`OP_NAMES`], or [`OTHER_OP`].
    pub op: AtomicU32,
    /// Cell of the student's code the call belongs to, -1 outside it.
    pub cell: AtomicI32,
    /// The bytes of the type signature every member must give alike (the block of an
    /// `Allgather`, the buffer of a `Bcast` or `Reduce`, ...), or [`ANY_SIG`].
    pub sig: AtomicU64,
    /// The size of the call's datatype (the one `sig` counts), 0 if not noted.
    pub type_size: AtomicU64,
}

/// A point-to-point message as one side saw it: a send a rank started, or a receive that
/// completed; each kept in a ring of the last ones (`sends`, `recvs`). Written like
/// [`CollEntry`]: `seq` cleared, the fields, then `seq` with release.
#[repr(C)]
#[derive(Default)]
pub struct MsgEntry {
    /// Which send (receive) of the rank this is (1 = the first); 0 for an empty entry.
    pub seq: AtomicU64,
    /// World rank of the other side: the destination of a send, the source of a receive
    /// ([`ANY_SOURCE`] when the tracer did not learn it).
    pub peer: AtomicI32,
    /// The tag ([`ANY_TAG`] for a receive whose tag the tracer did not learn).
    pub tag: AtomicI32,
    /// [`CommEntry::id`] of the communicator, 0 if unknown.
    pub comm: AtomicU64,
    /// Payload bytes of a send, bytes of the buffer of a receive.
    pub bytes: AtomicU64,
    /// The datatype, as [`WaitEntry::dtype`].
    pub dtype: AtomicU32,
    /// Cell of the student's code it belongs to, -1 outside it.
    pub cell: AtomicI32,
    /// Which message to (from) `peer` in that cell this is (1 = the first), as
    /// [`CellCounters::msgs_to`] ([`CellCounters::msgs_from`]) counts them; 0 when the source
    /// of a receive is not known.
    pub nth: AtomicU64,
}

/// A communicator known to the tracer.
#[repr(C)]
pub struct CommEntry {
    /// Cross-rank identity (1 = `MPI_COMM_WORLD`); 0 for a free entry.
    pub id: AtomicU64,
    /// The handle's bits in this process.
    pub handle: AtomicU64,
    /// Number of members.
    pub size: AtomicI32,
    /// 1 when the members are exactly the world ranks in order (`members` is then not filled).
    pub is_world_order: AtomicU32,
    /// 1 when the communicator has more than `MAX_COMM_MEMBERS` members and is not in world order.
    pub members_truncated: AtomicU32,
    /// Padding to keep the layout 8-byte aligned.
    pub _pad: AtomicU32,
    /// How many collectives this rank has entered on this communicator.
    pub coll_count: AtomicU64,
    /// World rank of each member, in communicator rank order.
    pub members: [AtomicI32; MAX_COMM_MEMBERS],
    /// The last [`COLL_RING`] collectives, collective `n` at index `n % COLL_RING`.
    pub recent: [CollEntry; COLL_RING],
}

/// Calls and payload bytes of one function in one cell.
#[repr(C)]
#[derive(Default)]
pub struct FuncCount {
    /// Calls of the function.
    pub calls: AtomicU64,
    /// Payload bytes the calls sent or received.
    pub bytes: AtomicU64,
}

/// The counters of one cell.
#[repr(C)]
pub struct CellCounters {
    /// Per [`Func`], the cell's calls and bytes.
    pub funcs: [FuncCount; FUNC_COUNT],
    /// Payload bytes the student's code sent to other ranks: point-to-point sends to another
    /// rank, and the send buffers of collectives on communicators of more than one rank.
    pub sent_to_others: AtomicU64,
    /// `MPI_Pcontrol` calls of the cell in marked scope, whoever made them: the runtime makes
    /// exactly two per call of the student function (enter, leave), so any other number means
    /// the student's code called `MPI_Pcontrol` too.
    pub marks: AtomicU64,
    /// Collectives of the cell on communicators of every world rank (which every rank must
    /// call alike).
    pub colls: AtomicU64,
    /// Their signature: the wrapping sum over them of a hash of (communicator id, number on
    /// it, function). Equal on every rank that made the same collectives, whatever the
    /// interleaving of different communicators; unlike the rings, never overwritten.
    pub coll_sig: AtomicU64,
    /// Point-to-point messages sent to each world rank (below [`MAX_PEERS`]), counted when the
    /// send starts.
    pub msgs_to: [AtomicU64; MAX_PEERS],
    /// Messages received from each world rank, counted when the receive completes (a
    /// matched probe `MPI_Mprobe`/`MPI_Improbe` counts as the receive).
    pub msgs_from: [AtomicU64; MAX_PEERS],
    /// Messages received whose source the tracer did not learn (a non-blocking receive from
    /// `MPI_ANY_SOURCE`, a receive request freed before it completed).
    pub msgs_from_unknown: AtomicU64,
    /// `UNPAIRED_*` bits: why the counts of this cell cannot be compared.
    pub unpaired: AtomicU32,
    /// Padding to keep the layout 8-byte aligned.
    pub _pad: AtomicU32,
}

/// Where a function was first called in a cell: return addresses, innermost first.
#[repr(C)]
pub struct CallSite {
    /// 1 + cell; 0 for a free entry (entries fill in order).
    pub cell: AtomicU32,
    /// [`Func`] number.
    pub func: AtomicU32,
    /// Entries of `ips` in use.
    pub depth: AtomicU32,
    /// Padding to keep the layout 8-byte aligned.
    pub _pad: AtomicU32,
    /// Instruction pointers of the call site, innermost first.
    pub ips: [AtomicU64; SITE_DEPTH],
}

/// A stack captured when the grader asked for one.
#[repr(C)]
pub struct StackSlot {
    /// Generation the grader asks for (it increments this, then sends [`STACK_SIGNAL`]).
    pub request: AtomicU64,
    /// Generation of the stack in `ips` (equal to `request` once captured).
    pub done: AtomicU64,
    /// Entries of `ips` in use.
    pub depth: AtomicU32,
    /// Padding to keep the layout 8-byte aligned.
    pub _pad: AtomicU32,
    /// Instruction pointers, innermost first.
    pub ips: [AtomicU64; MAX_STACK],
}

/// Identity and state of the rank.
#[repr(C)]
pub struct Header {
    /// [`MAGIC`] once initialised (written last).
    pub magic: AtomicU64,
    /// [`LAYOUT_VERSION`] of the tracer that wrote the record.
    pub layout_version: AtomicU32,
    /// The rank in `MPI_COMM_WORLD`.
    pub rank: AtomicI32,
    /// The size of `MPI_COMM_WORLD`.
    pub world_size: AtomicI32,
    /// The rank's process id, in its own PID namespace.
    pub pid: AtomicI32,
    /// Thread id of the thread that initialised MPI (target of [`STACK_SIGNAL`]).
    pub tid: AtomicI32,
    /// A [`RankState`].
    pub state: AtomicU32,
    /// Current cell from `MPI_Pcontrol`, -1 outside the student's code.
    pub cell: AtomicI32,
    /// 1 while standard sends are made synchronous.
    pub zero_buffer: AtomicU32,
    /// 1 when every call counts (program scope), 0 when only marked regions do.
    pub program_scope: AtomicU32,
    /// Code given to `MPI_Abort` (state `Aborted`), or status given to `exit` (state `Exited`).
    pub exit_code: AtomicI32,
    /// Incremented whenever an operation completes or starts (not by a `Test` that fails).
    pub progress: AtomicU64,
    /// `CLOCK_MONOTONIC_COARSE` nanoseconds of the last increment of `progress`.
    pub progress_ns: AtomicU64,
    /// Tests that found nothing done, made by blocking calls waiting politely: each one drove
    /// the library's progress once. A rank whose count advances while its call stays the same
    /// is trying, and failing, to complete it.
    pub polls: AtomicU64,
    /// Load bias of the main executable (subtract from an instruction pointer in it to get
    /// the address its debug information uses).
    pub exe_bias: AtomicU64,
    /// 1 when a request could not be recorded because the table was full.
    pub requests_overflowed: AtomicU32,
    /// 1 when a communicator could not be recorded because the table was full.
    pub comms_overflowed: AtomicU32,
    /// Entries of `sites` in use.
    pub nsites: AtomicU32,
    /// 1 when the rank waits politely in blocking calls (`run::ENV_POLITE`); also keeps the
    /// layout 8-byte aligned.
    pub polite: AtomicU32,
    /// NUL-padded path of the main executable.
    pub exe_path: [AtomicU8; EXE_PATH_LEN],
}

/// The whole record of one rank. Mapped from a file of [`RECORD_SIZE`] bytes.
#[repr(C)]
pub struct Record {
    /// Identity, state and progress of the rank.
    pub header: Header,
    /// The call the rank is in.
    pub call: CallSlot,
    /// Guards `requests` (odd while being written).
    pub requests_seq: AtomicU64,
    /// The rank's pending requests.
    pub requests: [RequestEntry; MAX_REQUESTS],
    /// Guards `comms` (odd while being written).
    pub comms_seq: AtomicU64,
    /// The communicators the rank knows.
    pub comms: [CommEntry; MAX_COMMS],
    /// The stack the grader asked for.
    pub stack: StackSlot,
    /// First call sites per cell and function.
    pub sites: [CallSite; MAX_SITES],
    /// Call counters per cell.
    pub cells: [CellCounters; MAX_CELLS],
    /// Sends started so far (the last one's [`MsgEntry::seq`]).
    pub sends_count: AtomicU64,
    /// The last sends, send `n` at index `n % SEND_RING`.
    pub sends: [MsgEntry; SEND_RING],
    /// Receives completed so far (the last one's [`MsgEntry::seq`]).
    pub recvs_count: AtomicU64,
    /// The last completed receives, receive `n` at index `n % RECV_RING`.
    pub recvs: [MsgEntry; RECV_RING],
}

/// Size of a record file: the record rounded up to whole 4 KiB pages.
pub const RECORD_SIZE: usize = std::mem::size_of::<Record>().div_ceil(4096) * 4096;

impl Record {
    /// Views mapped memory as a record.
    ///
    /// # Safety
    /// `ptr` must point to at least [`RECORD_SIZE`] bytes, aligned to 8, that stay mapped for
    /// `'a`, and that are only ever accessed through atomics (a zero-filled file qualifies).
    pub unsafe fn from_ptr<'a>(ptr: *const u8) -> &'a Record {
        debug_assert_eq!(ptr as usize % 8, 0);
        &*(ptr as *const Record)
    }

    /// Whether the tracer initialised this record (with this layout).
    pub fn is_initialised(&self) -> bool {
        self.header.magic.load(Ordering::Acquire) == MAGIC
            && self.header.layout_version.load(Ordering::Relaxed) == LAYOUT_VERSION
    }
}

/// Reads data guarded by a sequence lock: retries `read` until the sequence was even and
/// unchanged around it. Gives up after `attempts` tries (a writer that died mid-write leaves the
/// sequence odd forever) and returns the last, possibly torn, value with `false`.
pub fn read_consistent<T>(
    seq: &AtomicU64,
    attempts: usize,
    mut read: impl FnMut() -> T,
) -> (T, bool) {
    let mut last = None;
    for _ in 0..attempts.max(1) {
        let before = seq.load(Ordering::Acquire);
        let value = read();
        std::sync::atomic::fence(Ordering::Acquire);
        let after = seq.load(Ordering::Relaxed);
        if before == after && before.is_multiple_of(2) {
            return (value, true);
        }
        last = Some(value);
        std::hint::spin_loop();
    }
    (last.expect("at least one attempt"), false)
}

/// The writer's side of a sequence lock: makes `seq` odd, runs `write`, makes it even again.
/// Only the single writer of the record may call this.
#[inline]
pub fn write_guarded<T>(seq: &AtomicU64, write: impl FnOnce() -> T) -> T {
    let s = seq.load(Ordering::Relaxed);
    seq.store(s.wrapping_add(1), Ordering::Relaxed);
    std::sync::atomic::fence(Ordering::Release);
    let out = write();
    seq.store(s.wrapping_add(2), Ordering::Release);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcontrol_levels_round_trip() {
        assert_eq!(pcontrol::decode(pcontrol::LEAVE), None);
        for cell in [0, 1, 17, MAX_CELLS as u32 - 1] {
            for zero_buffer in [false, true] {
                for polite in [false, true] {
                    let entry = pcontrol::Entry {
                        cell,
                        zero_buffer,
                        polite,
                    };
                    assert_eq!(pcontrol::decode(pcontrol::enter_with(entry)), Some(entry));
                }
            }
        }
        assert_eq!(
            pcontrol::enter(3, true),
            8,
            "the levels runtimes have always used"
        );
        for bad in [
            pcontrol::enter(MAX_CELLS as u32, false),
            pcontrol::POLITE + pcontrol::enter(MAX_CELLS as u32, true),
            pcontrol::POLITE,
            -5,
        ] {
            assert_eq!(pcontrol::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn funcs_have_unique_names_and_round_trip() {
        for (i, f) in Func::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i);
            assert_eq!(Func::from_index(i as u32), Some(*f));
            assert_eq!(Func::from_name(f.name()), Some(*f));
            assert!(f.name().starts_with("MPI_"));
        }
        assert_eq!(Func::from_name("MPI_Nonsense"), None);
    }

    // The record is page-aligned, holds a Record, and stays small.
    const _: () = assert!(RECORD_SIZE.is_multiple_of(4096));
    const _: () = assert!(RECORD_SIZE >= std::mem::size_of::<Record>());
    const _: () = assert!(RECORD_SIZE < 1 << 20);

    #[test]
    fn zeroed_memory_is_an_uninitialised_record() {
        let layout = std::alloc::Layout::from_size_align(RECORD_SIZE, 4096).unwrap();
        unsafe {
            let ptr = std::alloc::alloc_zeroed(layout);
            let record = Record::from_ptr(ptr);
            assert!(!record.is_initialised());
            assert_eq!(
                RankState::from_u32(record.header.state.load(Ordering::Relaxed)),
                RankState::NotStarted
            );
            std::alloc::dealloc(ptr, layout);
        }
    }

    #[test]
    fn sequence_lock_reads_consistently() {
        let seq = AtomicU64::new(0);
        let value = AtomicU64::new(1);
        write_guarded(&seq, || value.store(2, Ordering::Relaxed));
        let (v, ok) = read_consistent(&seq, 3, || value.load(Ordering::Relaxed));
        assert!(ok);
        assert_eq!(v, 2);
        seq.store(5, Ordering::Relaxed); // a writer died mid-write
        let (_, ok) = read_consistent(&seq, 3, || value.load(Ordering::Relaxed));
        assert!(!ok);
    }
}
