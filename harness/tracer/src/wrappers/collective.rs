//! Collective calls, blocking and non-blocking.
//!
//! Each one is the next collective on its communicator: the tracer counts them per
//! communicator (`coll_count`), and the condition of the call (or of its request) is "every
//! member enters collective number `coll_seq` on this communicator". MPI requires all members
//! to call collectives on a communicator in the same order, so the numbers agree across ranks.
//!
//! Counted bytes are those this rank sends: its send buffer as the call describes it (all the
//! blocks of an `Alltoall`, the root's blocks of a `Scatter`, nothing from a non-root `Bcast`
//! or an in-place root `Gather`).

use super::{comm_rank, in_place, scaled, sum_counts, type_bytes, type_size};
use crate::comms::{CommRef, Matching};
use crate::handle::RawHandle;
use crate::pmpi::real;
use crate::tracer::Tracer;
use mpi_grade_protocol::trace::{Func, WaitMode, NO_OP, NO_ROOT};
use mpi_sys::*;
use std::os::raw::{c_int, c_void};

impl Tracer {
    /// Runs a blocking collective on `comm`; `m` is what every member must give alike, `bytes`
    /// what this rank sends.
    #[inline(always)]
    pub(super) unsafe fn collective(
        &self,
        func: Func,
        comm: MPI_Comm,
        m: Matching,
        bytes: impl FnOnce(&CommRef) -> u64,
        call: impl FnOnce() -> c_int,
    ) -> c_int {
        let c = self.comm(comm);
        let bytes = bytes(&c);
        self.count(func, bytes);
        if bytes > 0 && super::comm_size(comm) > 1 {
            self.sent(None, bytes);
        }
        let seq = self.next_coll(&c);
        self.note_coll(&c, seq, func, &m);
        let w = self.coll(&c, seq, bytes);
        self.blocking(func, WaitMode::All, &[w], call)
    }

    /// Starts a non-blocking collective on `comm`; its request waits for the collective.
    #[inline(always)]
    pub(super) unsafe fn icollective(
        &self,
        func: Func,
        comm: MPI_Comm,
        m: Matching,
        bytes: impl FnOnce(&CommRef) -> u64,
        request: *mut MPI_Request,
        call: impl FnOnce() -> c_int,
    ) -> c_int {
        let c = self.comm(comm);
        let bytes = bytes(&c);
        self.count(func, bytes);
        if bytes > 0 && super::comm_size(comm) > 1 {
            self.sent(None, bytes);
        }
        let seq = self.next_coll(&c);
        self.note_coll(&c, seq, func, &m);
        let w = self.coll(&c, seq, bytes);
        let rc = call();
        if rc == 0 {
            self.add_request(request, &w);
        }
        rc
    }
}

/// A collective with neither root, operation nor data (`Barrier`).
fn none() -> Matching {
    Matching {
        sig: 0,
        ..Matching::UNKNOWN
    }
}

/// `count` elements of `datatype` that every member gives alike.
unsafe fn sig(root: c_int, op: u32, count: c_int, datatype: MPI_Datatype) -> Matching {
    let size = if count > 0 { type_size(datatype) } else { 0 };
    Matching {
        root,
        op,
        sig: (count.max(0) as u64).saturating_mul(size),
        type_size: size,
    }
}

/// A rooted collective over one buffer (`Bcast`).
unsafe fn rooted(root: c_int, count: c_int, datatype: MPI_Datatype) -> Matching {
    sig(root, NO_OP, count, datatype)
}

/// A reduction (`Reduce`, `Allreduce`, `Scan`, ...): its operation too.
unsafe fn reduction(
    t: &Tracer,
    op: MPI_Op,
    root: c_int,
    count: c_int,
    datatype: MPI_Datatype,
) -> Matching {
    sig(root, t.op_code(op.0.bits()), count, datatype)
}

/// The block every member gives (`Allgather`, `Alltoall`): in place, the receive block.
unsafe fn block(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvcount: c_int,
    recvtype: MPI_Datatype,
) -> Matching {
    if in_place(sendbuf) {
        sig(NO_ROOT, NO_OP, recvcount, recvtype)
    } else {
        sig(NO_ROOT, NO_OP, sendcount, sendtype)
    }
}

/// `Gather`: every member's send block, an in-place root's receive block.
unsafe fn gather_matching(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    root: c_int,
) -> Matching {
    if in_place(sendbuf) {
        sig(root, NO_OP, recvcount, recvtype)
    } else {
        sig(root, NO_OP, sendcount, sendtype)
    }
}

/// `Scatter`: every member's receive block, an in-place root's send block.
unsafe fn scatter_matching(
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    root: c_int,
) -> Matching {
    if in_place(recvbuf) {
        sig(root, NO_OP, sendcount, sendtype)
    } else {
        sig(root, NO_OP, recvcount, recvtype)
    }
}

/// The root sends the buffer (once, whatever the size of the communicator).
unsafe fn bcast_bytes(count: c_int, datatype: MPI_Datatype, root: c_int, comm: MPI_Comm) -> u64 {
    if count > 0 && comm_rank(comm) == root {
        type_bytes(count, datatype)
    } else {
        0
    }
}

/// Every rank sends its block, except an in-place root (its block stays where it is).
unsafe fn gather_bytes(sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype) -> u64 {
    if in_place(sendbuf) {
        0
    } else {
        type_bytes(sendcount, sendtype)
    }
}

/// The root sends `n` blocks.
unsafe fn scatter_bytes(
    sendcount: c_int,
    sendtype: MPI_Datatype,
    root: c_int,
    comm: MPI_Comm,
    n: c_int,
) -> u64 {
    if sendcount > 0 && comm_rank(comm) == root {
        type_bytes(sendcount, sendtype).saturating_mul(n.max(0) as u64)
    } else {
        0
    }
}

/// The root sends every block.
unsafe fn scatterv_bytes(
    sendcounts: *const c_int,
    sendtype: MPI_Datatype,
    root: c_int,
    comm: MPI_Comm,
    n: c_int,
) -> u64 {
    if comm_rank(comm) == root {
        scaled(sum_counts(sendcounts, n), sendtype)
    } else {
        0
    }
}

/// Every rank sends its block (in place: the block already in the receive buffer).
unsafe fn allgather_bytes(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvcount: c_int,
    recvtype: MPI_Datatype,
) -> u64 {
    if in_place(sendbuf) {
        type_bytes(recvcount, recvtype)
    } else {
        type_bytes(sendcount, sendtype)
    }
}

unsafe fn allgatherv_bytes(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvcounts: *const c_int,
    recvtype: MPI_Datatype,
    comm: MPI_Comm,
) -> u64 {
    if !in_place(sendbuf) {
        return type_bytes(sendcount, sendtype);
    }
    let me = comm_rank(comm);
    if recvcounts.is_null() || me < 0 {
        return 0;
    }
    type_bytes(*recvcounts.add(me as usize), recvtype)
}

/// Every rank sends `n` blocks.
unsafe fn alltoall_bytes(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    n: c_int,
) -> u64 {
    let block = if in_place(sendbuf) {
        type_bytes(recvcount, recvtype)
    } else {
        type_bytes(sendcount, sendtype)
    };
    block.saturating_mul(n.max(0) as u64)
}

unsafe fn alltoallv_bytes(
    sendbuf: *const c_void,
    sendcounts: *const c_int,
    sendtype: MPI_Datatype,
    recvcounts: *const c_int,
    recvtype: MPI_Datatype,
    n: c_int,
) -> u64 {
    if in_place(sendbuf) {
        scaled(sum_counts(recvcounts, n), recvtype)
    } else {
        scaled(sum_counts(sendcounts, n), sendtype)
    }
}

unsafe fn alltoallw_bytes(
    sendbuf: *const c_void,
    sendcounts: *const c_int,
    sendtypes: *const MPI_Datatype,
    recvcounts: *const c_int,
    recvtypes: *const MPI_Datatype,
    n: c_int,
) -> u64 {
    let (counts, types) = if in_place(sendbuf) {
        (recvcounts, recvtypes)
    } else {
        (sendcounts, sendtypes)
    };
    if counts.is_null() || types.is_null() || n <= 0 {
        return 0;
    }
    let counts = std::slice::from_raw_parts(counts, n as usize);
    let types = std::slice::from_raw_parts(types, n as usize);
    counts
        .iter()
        .zip(types)
        .filter(|(&c, _)| c > 0)
        .map(|(&c, &t)| (c as u64).saturating_mul(type_size(t)))
        .fold(0u64, u64::saturating_add)
}

/// Defines each blocking collective and its non-blocking twin, which differ only in the
/// request argument:
///
/// ```text
/// MPI_Bcast = PMPI_Bcast / MPI_Ibcast = PMPI_Ibcast as Bcast / Ibcast,
///     (buffer: *mut c_void, ..., comm: MPI_Comm) on comm sends |t, c| <bytes>;
///     matches |t| <matching>;
/// ```
///
/// `<bytes>` is what this rank sends, from the arguments, the tracer `t` and the
/// communicator's record `c` (for its size); it is evaluated once per call. `matches |t|
/// <matching>` is what every member must give alike (root, operation, type signature).
macro_rules! collectives {
    ($(
        $blocking:ident = $pblocking:ident / $nonblocking:ident = $pnonblocking:ident
        as $func:ident / $ifunc:ident,
        ($($arg:ident: $ty:ty),* $(,)?) on $comm:ident
        sends |$t:pat_param, $c:pat_param| $bytes:expr;
        matches |$mt:pat_param| $m:expr;
    )*) => {$(
        #[doc = concat!("`", stringify!($blocking), "`.")]
        #[no_mangle]
        pub unsafe extern "C" fn $blocking($($arg: $ty),*) -> c_int {
            let a = traced!(real::$pblocking($($arg),*));
            let t = a.t;
            t.collective(
                Func::$func,
                $comm,
                (|$mt: &Tracer| $m)(t),
                |c| (|$t: &Tracer, $c: &CommRef| $bytes)(t, c),
                || if t.waits_politely() {
                    super::polite::run(
                        |request| real::$pnonblocking($($arg,)* request),
                        RSMPI_STATUS_IGNORE,
                    )
                } else {
                    real::$pblocking($($arg),*)
                },
            )
        }

        #[doc = concat!("`", stringify!($nonblocking), "`: its request waits for the collective.")]
        #[no_mangle]
        pub unsafe extern "C" fn $nonblocking($($arg: $ty,)* request: *mut MPI_Request) -> c_int {
            let a = traced!(real::$pnonblocking($($arg,)* request));
            let t = a.t;
            t.icollective(
                Func::$ifunc,
                $comm,
                (|$mt: &Tracer| $m)(t),
                |c| (|$t: &Tracer, $c: &CommRef| $bytes)(t, c),
                request,
                || real::$pnonblocking($($arg,)* request),
            )
        }
    )*};
}

collectives! {
    MPI_Barrier = PMPI_Barrier / MPI_Ibarrier = PMPI_Ibarrier
        as Barrier / Ibarrier,
        (comm: MPI_Comm) on comm
        sends |_, _| 0;
        matches |_| none();
    MPI_Bcast = PMPI_Bcast / MPI_Ibcast = PMPI_Ibcast
        as Bcast / Ibcast,
        (buffer: *mut c_void, count: c_int, datatype: MPI_Datatype, root: c_int,
         comm: MPI_Comm) on comm
        sends |_, _| bcast_bytes(count, datatype, root, comm);
        matches |_| rooted(root, count, datatype);
    MPI_Reduce = PMPI_Reduce / MPI_Ireduce = PMPI_Ireduce
        as Reduce / Ireduce,
        (sendbuf: *const c_void, recvbuf: *mut c_void, count: c_int, datatype: MPI_Datatype,
         op: MPI_Op, root: c_int, comm: MPI_Comm) on comm
        sends |_, _| type_bytes(count, datatype);
        matches |t| reduction(t, op, root, count, datatype);
    MPI_Allreduce = PMPI_Allreduce / MPI_Iallreduce = PMPI_Iallreduce
        as Allreduce / Iallreduce,
        (sendbuf: *const c_void, recvbuf: *mut c_void, count: c_int, datatype: MPI_Datatype,
         op: MPI_Op, comm: MPI_Comm) on comm
        sends |_, _| type_bytes(count, datatype);
        matches |t| reduction(t, op, NO_ROOT, count, datatype);
    MPI_Gather = PMPI_Gather / MPI_Igather = PMPI_Igather
        as Gather / Igather,
        (sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void,
         recvcount: c_int, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm) on comm
        sends |_, _| gather_bytes(sendbuf, sendcount, sendtype);
        matches |_| gather_matching(sendbuf, sendcount, sendtype, recvcount, recvtype, root);
    MPI_Gatherv = PMPI_Gatherv / MPI_Igatherv = PMPI_Igatherv
        as Gatherv / Igatherv,
        (sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void,
         recvcounts: *const c_int, displs: *const c_int, recvtype: MPI_Datatype, root: c_int,
         comm: MPI_Comm) on comm
        sends |_, _| gather_bytes(sendbuf, sendcount, sendtype);
        matches |_| Matching { root, ..Matching::UNKNOWN };
    MPI_Scatter = PMPI_Scatter / MPI_Iscatter = PMPI_Iscatter
        as Scatter / Iscatter,
        (sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void,
         recvcount: c_int, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm) on comm
        sends |t, c| scatter_bytes(sendcount, sendtype, root, comm, t.comm_size(c, comm));
        matches |_| scatter_matching(sendcount, sendtype, recvbuf, recvcount, recvtype, root);
    MPI_Scatterv = PMPI_Scatterv / MPI_Iscatterv = PMPI_Iscatterv
        as Scatterv / Iscatterv,
        (sendbuf: *const c_void, sendcounts: *const c_int, displs: *const c_int,
         sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: c_int, recvtype: MPI_Datatype,
         root: c_int, comm: MPI_Comm) on comm
        sends |t, c| scatterv_bytes(sendcounts, sendtype, root, comm, t.comm_size(c, comm));
        matches |_| Matching { root, ..Matching::UNKNOWN };
    MPI_Allgather = PMPI_Allgather / MPI_Iallgather = PMPI_Iallgather
        as Allgather / Iallgather,
        (sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void,
         recvcount: c_int, recvtype: MPI_Datatype, comm: MPI_Comm) on comm
        sends |_, _| allgather_bytes(sendbuf, sendcount, sendtype, recvcount, recvtype);
        matches |_| block(sendbuf, sendcount, sendtype, recvcount, recvtype);
    MPI_Allgatherv = PMPI_Allgatherv / MPI_Iallgatherv = PMPI_Iallgatherv
        as Allgatherv / Iallgatherv,
        (sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void,
         recvcounts: *const c_int, displs: *const c_int, recvtype: MPI_Datatype,
         comm: MPI_Comm) on comm
        sends |_, _| allgatherv_bytes(sendbuf, sendcount, sendtype, recvcounts, recvtype, comm);
        matches |_| Matching::UNKNOWN;
    MPI_Alltoall = PMPI_Alltoall / MPI_Ialltoall = PMPI_Ialltoall
        as Alltoall / Ialltoall,
        (sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void,
         recvcount: c_int, recvtype: MPI_Datatype, comm: MPI_Comm) on comm
        sends |t, c|
            alltoall_bytes(sendbuf, sendcount, sendtype, recvcount, recvtype, t.comm_size(c, comm));
        matches |_| block(sendbuf, sendcount, sendtype, recvcount, recvtype);
    MPI_Alltoallv = PMPI_Alltoallv / MPI_Ialltoallv = PMPI_Ialltoallv
        as Alltoallv / Ialltoallv,
        (sendbuf: *const c_void, sendcounts: *const c_int, sdispls: *const c_int,
         sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const c_int,
         rdispls: *const c_int, recvtype: MPI_Datatype, comm: MPI_Comm) on comm
        sends |t, c|
            alltoallv_bytes(
                sendbuf, sendcounts, sendtype, recvcounts, recvtype,
                t.comm_size(c, comm),
            );
        matches |_| Matching::UNKNOWN;
    MPI_Alltoallw = PMPI_Alltoallw / MPI_Ialltoallw = PMPI_Ialltoallw
        as Alltoallw / Ialltoallw,
        (sendbuf: *const c_void, sendcounts: *const c_int, sdispls: *const c_int,
         sendtypes: *const MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const c_int,
         rdispls: *const c_int, recvtypes: *const MPI_Datatype, comm: MPI_Comm) on comm
        sends |t, c|
            alltoallw_bytes(
                sendbuf, sendcounts, sendtypes, recvcounts, recvtypes,
                t.comm_size(c, comm),
            );
        matches |_| Matching::UNKNOWN;
    MPI_Reduce_scatter = PMPI_Reduce_scatter / MPI_Ireduce_scatter = PMPI_Ireduce_scatter
        as ReduceScatter / IreduceScatter,
        (sendbuf: *const c_void, recvbuf: *mut c_void, recvcounts: *const c_int,
         datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm) on comm
        sends |t, c| scaled(sum_counts(recvcounts, t.comm_size(c, comm)), datatype);
        matches |t| Matching { op: t.op_code(op.0.bits()), ..Matching::UNKNOWN };
    MPI_Reduce_scatter_block = PMPI_Reduce_scatter_block
        / MPI_Ireduce_scatter_block = PMPI_Ireduce_scatter_block
        as ReduceScatterBlock / IreduceScatterBlock,
        (sendbuf: *const c_void, recvbuf: *mut c_void, recvcount: c_int, datatype: MPI_Datatype,
         op: MPI_Op, comm: MPI_Comm) on comm
        sends |t, c|
            type_bytes(recvcount, datatype).saturating_mul(t.comm_size(c, comm).max(0) as u64);
        matches |t| reduction(t, op, NO_ROOT, recvcount, datatype);
    MPI_Scan = PMPI_Scan / MPI_Iscan = PMPI_Iscan
        as Scan / Iscan,
        (sendbuf: *const c_void, recvbuf: *mut c_void, count: c_int, datatype: MPI_Datatype,
         op: MPI_Op, comm: MPI_Comm) on comm
        sends |_, _| type_bytes(count, datatype);
        matches |t| reduction(t, op, NO_ROOT, count, datatype);
    MPI_Exscan = PMPI_Exscan / MPI_Iexscan = PMPI_Iexscan
        as Exscan / Iexscan,
        (sendbuf: *const c_void, recvbuf: *mut c_void, count: c_int, datatype: MPI_Datatype,
         op: MPI_Op, comm: MPI_Comm) on comm
        sends |_, _| type_bytes(count, datatype);
        matches |t| reduction(t, op, NO_ROOT, count, datatype);
}
