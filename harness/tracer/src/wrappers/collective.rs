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
use crate::comms::CommRef;
use crate::tracer::Tracer;
use mpi_grade_protocol::trace::{Func, WaitMode};
use mpi_sys::*;
use std::os::raw::{c_int, c_void};

impl Tracer {
    /// Runs a blocking collective on `comm`; `bytes` tells what this rank sends.
    #[inline(always)]
    unsafe fn collective(
        &self,
        func: Func,
        comm: MPI_Comm,
        bytes: impl FnOnce(&CommRef) -> u64,
        call: impl FnOnce() -> c_int,
    ) -> c_int {
        let c = self.comm(comm);
        let bytes = bytes(&c);
        self.count(func, bytes);
        let seq = self.next_coll(&c);
        let w = self.coll(&c, seq, bytes);
        self.blocking(func, WaitMode::All, &[w], call)
    }

    /// Starts a non-blocking collective on `comm`; its request waits for the collective.
    #[inline(always)]
    unsafe fn icollective(
        &self,
        func: Func,
        comm: MPI_Comm,
        bytes: impl FnOnce(&CommRef) -> u64,
        request: *mut MPI_Request,
        call: impl FnOnce() -> c_int,
    ) -> c_int {
        let c = self.comm(comm);
        let bytes = bytes(&c);
        self.count(func, bytes);
        let seq = self.next_coll(&c);
        let w = self.coll(&c, seq, bytes);
        let rc = call();
        if rc == 0 {
            self.add_request(request, &w);
        }
        rc
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

/// `MPI_Barrier`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Barrier(comm: MPI_Comm) -> c_int {
    let a = traced!(PMPI_Barrier(comm));
    let t = a.t;
    t.collective(Func::Barrier, comm, |_c| 0, || PMPI_Barrier(comm))
}

/// `MPI_Bcast`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Bcast(
    buffer: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    root: c_int,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Bcast(buffer, count, datatype, root, comm));
    let t = a.t;
    t.collective(
        Func::Bcast,
        comm,
        |_c| bcast_bytes(count, datatype, root, comm),
        || PMPI_Bcast(buffer, count, datatype, root, comm),
    )
}

/// `MPI_Reduce`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Reduce(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    op: MPI_Op,
    root: c_int,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Reduce(
        sendbuf, recvbuf, count, datatype, op, root, comm
    ));
    let t = a.t;
    t.collective(
        Func::Reduce,
        comm,
        |_c| type_bytes(count, datatype),
        || PMPI_Reduce(sendbuf, recvbuf, count, datatype, op, root, comm),
    )
}

/// `MPI_Allreduce`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Allreduce(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    op: MPI_Op,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm));
    let t = a.t;
    t.collective(
        Func::Allreduce,
        comm,
        |_c| type_bytes(count, datatype),
        || PMPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm),
    )
}

/// `MPI_Gather`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Gather(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    root: c_int,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Gather(
        sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm
    ));
    let t = a.t;
    t.collective(
        Func::Gather,
        comm,
        |_c| gather_bytes(sendbuf, sendcount, sendtype),
        || {
            PMPI_Gather(
                sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm,
            )
        },
    )
}

/// `MPI_Gatherv`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Gatherv(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    displs: *const c_int,
    recvtype: MPI_Datatype,
    root: c_int,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Gatherv(
        sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, root, comm
    ));
    let t = a.t;
    t.collective(
        Func::Gatherv,
        comm,
        |_c| gather_bytes(sendbuf, sendcount, sendtype),
        || {
            PMPI_Gatherv(
                sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, root, comm,
            )
        },
    )
}

/// `MPI_Scatter`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Scatter(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    root: c_int,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Scatter(
        sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm
    ));
    let t = a.t;
    t.collective(
        Func::Scatter,
        comm,
        |c| scatter_bytes(sendcount, sendtype, root, comm, t.comm_size(c, comm)),
        || {
            PMPI_Scatter(
                sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm,
            )
        },
    )
}

/// `MPI_Scatterv`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Scatterv(
    sendbuf: *const c_void,
    sendcounts: *const c_int,
    displs: *const c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    root: c_int,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Scatterv(
        sendbuf, sendcounts, displs, sendtype, recvbuf, recvcount, recvtype, root, comm
    ));
    let t = a.t;
    t.collective(
        Func::Scatterv,
        comm,
        |c| scatterv_bytes(sendcounts, sendtype, root, comm, t.comm_size(c, comm)),
        || {
            PMPI_Scatterv(
                sendbuf, sendcounts, displs, sendtype, recvbuf, recvcount, recvtype, root, comm,
            )
        },
    )
}

/// `MPI_Allgather`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Allgather(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Allgather(
        sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm
    ));
    let t = a.t;
    t.collective(
        Func::Allgather,
        comm,
        |_c| allgather_bytes(sendbuf, sendcount, sendtype, recvcount, recvtype),
        || {
            PMPI_Allgather(
                sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm,
            )
        },
    )
}

/// `MPI_Allgatherv`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Allgatherv(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    displs: *const c_int,
    recvtype: MPI_Datatype,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Allgatherv(
        sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, comm
    ));
    let t = a.t;
    t.collective(
        Func::Allgatherv,
        comm,
        |_c| allgatherv_bytes(sendbuf, sendcount, sendtype, recvcounts, recvtype, comm),
        || {
            PMPI_Allgatherv(
                sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, comm,
            )
        },
    )
}

/// `MPI_Alltoall`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Alltoall(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Alltoall(
        sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm
    ));
    let t = a.t;
    t.collective(
        Func::Alltoall,
        comm,
        |c| {
            alltoall_bytes(
                sendbuf,
                sendcount,
                sendtype,
                recvcount,
                recvtype,
                t.comm_size(c, comm),
            )
        },
        || {
            PMPI_Alltoall(
                sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm,
            )
        },
    )
}

/// `MPI_Alltoallv`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Alltoallv(
    sendbuf: *const c_void,
    sendcounts: *const c_int,
    sdispls: *const c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    rdispls: *const c_int,
    recvtype: MPI_Datatype,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Alltoallv(
        sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm
    ));
    let t = a.t;
    t.collective(
        Func::Alltoallv,
        comm,
        |c| {
            alltoallv_bytes(
                sendbuf,
                sendcounts,
                sendtype,
                recvcounts,
                recvtype,
                t.comm_size(c, comm),
            )
        },
        || {
            PMPI_Alltoallv(
                sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype,
                comm,
            )
        },
    )
}

/// `MPI_Alltoallw`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Alltoallw(
    sendbuf: *const c_void,
    sendcounts: *const c_int,
    sdispls: *const c_int,
    sendtypes: *const MPI_Datatype,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    rdispls: *const c_int,
    recvtypes: *const MPI_Datatype,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Alltoallw(
        sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm
    ));
    let t = a.t;
    t.collective(
        Func::Alltoallw,
        comm,
        |c| {
            alltoallw_bytes(
                sendbuf,
                sendcounts,
                sendtypes,
                recvcounts,
                recvtypes,
                t.comm_size(c, comm),
            )
        },
        || {
            PMPI_Alltoallw(
                sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes,
                comm,
            )
        },
    )
}

/// `MPI_Reduce_scatter`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Reduce_scatter(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    datatype: MPI_Datatype,
    op: MPI_Op,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Reduce_scatter(
        sendbuf, recvbuf, recvcounts, datatype, op, comm
    ));
    let t = a.t;
    t.collective(
        Func::ReduceScatter,
        comm,
        |c| scaled(sum_counts(recvcounts, t.comm_size(c, comm)), datatype),
        || PMPI_Reduce_scatter(sendbuf, recvbuf, recvcounts, datatype, op, comm),
    )
}

/// `MPI_Reduce_scatter_block`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Reduce_scatter_block(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    recvcount: c_int,
    datatype: MPI_Datatype,
    op: MPI_Op,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Reduce_scatter_block(
        sendbuf, recvbuf, recvcount, datatype, op, comm
    ));
    let t = a.t;
    t.collective(
        Func::ReduceScatterBlock,
        comm,
        |c| type_bytes(recvcount, datatype).saturating_mul(t.comm_size(c, comm).max(0) as u64),
        || PMPI_Reduce_scatter_block(sendbuf, recvbuf, recvcount, datatype, op, comm),
    )
}

/// `MPI_Scan`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Scan(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    op: MPI_Op,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Scan(sendbuf, recvbuf, count, datatype, op, comm));
    let t = a.t;
    t.collective(
        Func::Scan,
        comm,
        |_c| type_bytes(count, datatype),
        || PMPI_Scan(sendbuf, recvbuf, count, datatype, op, comm),
    )
}

/// `MPI_Exscan`.
#[no_mangle]
pub unsafe extern "C" fn MPI_Exscan(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    op: MPI_Op,
    comm: MPI_Comm,
) -> c_int {
    let a = traced!(PMPI_Exscan(sendbuf, recvbuf, count, datatype, op, comm));
    let t = a.t;
    t.collective(
        Func::Exscan,
        comm,
        |_c| type_bytes(count, datatype),
        || PMPI_Exscan(sendbuf, recvbuf, count, datatype, op, comm),
    )
}

/// `MPI_Ibarrier`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ibarrier(comm: MPI_Comm, request: *mut MPI_Request) -> c_int {
    let a = traced!(PMPI_Ibarrier(comm, request));
    let t = a.t;
    t.icollective(
        Func::Ibarrier,
        comm,
        |_c| 0,
        request,
        || PMPI_Ibarrier(comm, request),
    )
}

/// `MPI_Ibcast`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ibcast(
    buffer: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    root: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Ibcast(buffer, count, datatype, root, comm, request));
    let t = a.t;
    t.icollective(
        Func::Ibcast,
        comm,
        |_c| bcast_bytes(count, datatype, root, comm),
        request,
        || PMPI_Ibcast(buffer, count, datatype, root, comm, request),
    )
}

/// `MPI_Ireduce`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ireduce(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    op: MPI_Op,
    root: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Ireduce(
        sendbuf, recvbuf, count, datatype, op, root, comm, request
    ));
    let t = a.t;
    t.icollective(
        Func::Ireduce,
        comm,
        |_c| type_bytes(count, datatype),
        request,
        || PMPI_Ireduce(sendbuf, recvbuf, count, datatype, op, root, comm, request),
    )
}

/// `MPI_Iallreduce`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Iallreduce(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    op: MPI_Op,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Iallreduce(
        sendbuf, recvbuf, count, datatype, op, comm, request
    ));
    let t = a.t;
    t.icollective(
        Func::Iallreduce,
        comm,
        |_c| type_bytes(count, datatype),
        request,
        || PMPI_Iallreduce(sendbuf, recvbuf, count, datatype, op, comm, request),
    )
}

/// `MPI_Igather`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Igather(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    root: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Igather(
        sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm, request
    ));
    let t = a.t;
    t.icollective(
        Func::Igather,
        comm,
        |_c| gather_bytes(sendbuf, sendcount, sendtype),
        request,
        || {
            PMPI_Igather(
                sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm, request,
            )
        },
    )
}

/// `MPI_Igatherv`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Igatherv(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    displs: *const c_int,
    recvtype: MPI_Datatype,
    root: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Igatherv(
        sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, root, comm, request
    ));
    let t = a.t;
    t.icollective(
        Func::Igatherv,
        comm,
        |_c| gather_bytes(sendbuf, sendcount, sendtype),
        request,
        || {
            PMPI_Igatherv(
                sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, root, comm,
                request,
            )
        },
    )
}

/// `MPI_Iscatter`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Iscatter(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    root: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Iscatter(
        sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm, request
    ));
    let t = a.t;
    t.icollective(
        Func::Iscatter,
        comm,
        |c| scatter_bytes(sendcount, sendtype, root, comm, t.comm_size(c, comm)),
        request,
        || {
            PMPI_Iscatter(
                sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm, request,
            )
        },
    )
}

/// `MPI_Iscatterv`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Iscatterv(
    sendbuf: *const c_void,
    sendcounts: *const c_int,
    displs: *const c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    root: c_int,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Iscatterv(
        sendbuf, sendcounts, displs, sendtype, recvbuf, recvcount, recvtype, root, comm, request
    ));
    let t = a.t;
    t.icollective(
        Func::Iscatterv,
        comm,
        |c| scatterv_bytes(sendcounts, sendtype, root, comm, t.comm_size(c, comm)),
        request,
        || {
            PMPI_Iscatterv(
                sendbuf, sendcounts, displs, sendtype, recvbuf, recvcount, recvtype, root, comm,
                request,
            )
        },
    )
}

/// `MPI_Iallgather`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Iallgather(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Iallgather(
        sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request
    ));
    let t = a.t;
    t.icollective(
        Func::Iallgather,
        comm,
        |_c| allgather_bytes(sendbuf, sendcount, sendtype, recvcount, recvtype),
        request,
        || {
            PMPI_Iallgather(
                sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request,
            )
        },
    )
}

/// `MPI_Iallgatherv`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Iallgatherv(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    displs: *const c_int,
    recvtype: MPI_Datatype,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Iallgatherv(
        sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, comm, request
    ));
    let t = a.t;
    t.icollective(
        Func::Iallgatherv,
        comm,
        |_c| allgatherv_bytes(sendbuf, sendcount, sendtype, recvcounts, recvtype, comm),
        request,
        || {
            PMPI_Iallgatherv(
                sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, comm, request,
            )
        },
    )
}

/// `MPI_Ialltoall`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ialltoall(
    sendbuf: *const c_void,
    sendcount: c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcount: c_int,
    recvtype: MPI_Datatype,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Ialltoall(
        sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request
    ));
    let t = a.t;
    t.icollective(
        Func::Ialltoall,
        comm,
        |c| {
            alltoall_bytes(
                sendbuf,
                sendcount,
                sendtype,
                recvcount,
                recvtype,
                t.comm_size(c, comm),
            )
        },
        request,
        || {
            PMPI_Ialltoall(
                sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request,
            )
        },
    )
}

/// `MPI_Ialltoallv`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ialltoallv(
    sendbuf: *const c_void,
    sendcounts: *const c_int,
    sdispls: *const c_int,
    sendtype: MPI_Datatype,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    rdispls: *const c_int,
    recvtype: MPI_Datatype,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Ialltoallv(
        sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm,
        request
    ));
    let t = a.t;
    t.icollective(
        Func::Ialltoallv,
        comm,
        |c| {
            alltoallv_bytes(
                sendbuf,
                sendcounts,
                sendtype,
                recvcounts,
                recvtype,
                t.comm_size(c, comm),
            )
        },
        request,
        || {
            PMPI_Ialltoallv(
                sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype,
                comm, request,
            )
        },
    )
}

/// `MPI_Ialltoallw`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ialltoallw(
    sendbuf: *const c_void,
    sendcounts: *const c_int,
    sdispls: *const c_int,
    sendtypes: *const MPI_Datatype,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    rdispls: *const c_int,
    recvtypes: *const MPI_Datatype,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Ialltoallw(
        sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm,
        request
    ));
    let t = a.t;
    t.icollective(
        Func::Ialltoallw,
        comm,
        |c| {
            alltoallw_bytes(
                sendbuf,
                sendcounts,
                sendtypes,
                recvcounts,
                recvtypes,
                t.comm_size(c, comm),
            )
        },
        request,
        || {
            PMPI_Ialltoallw(
                sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes,
                comm, request,
            )
        },
    )
}

/// `MPI_Ireduce_scatter`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ireduce_scatter(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    recvcounts: *const c_int,
    datatype: MPI_Datatype,
    op: MPI_Op,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Ireduce_scatter(
        sendbuf, recvbuf, recvcounts, datatype, op, comm, request
    ));
    let t = a.t;
    t.icollective(
        Func::IreduceScatter,
        comm,
        |c| scaled(sum_counts(recvcounts, t.comm_size(c, comm)), datatype),
        request,
        || PMPI_Ireduce_scatter(sendbuf, recvbuf, recvcounts, datatype, op, comm, request),
    )
}

/// `MPI_Ireduce_scatter_block`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Ireduce_scatter_block(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    recvcount: c_int,
    datatype: MPI_Datatype,
    op: MPI_Op,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Ireduce_scatter_block(
        sendbuf, recvbuf, recvcount, datatype, op, comm, request
    ));
    let t = a.t;
    t.icollective(
        Func::IreduceScatterBlock,
        comm,
        |c| type_bytes(recvcount, datatype).saturating_mul(t.comm_size(c, comm).max(0) as u64),
        request,
        || PMPI_Ireduce_scatter_block(sendbuf, recvbuf, recvcount, datatype, op, comm, request),
    )
}

/// `MPI_Iscan`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Iscan(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    op: MPI_Op,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Iscan(
        sendbuf, recvbuf, count, datatype, op, comm, request
    ));
    let t = a.t;
    t.icollective(
        Func::Iscan,
        comm,
        |_c| type_bytes(count, datatype),
        request,
        || PMPI_Iscan(sendbuf, recvbuf, count, datatype, op, comm, request),
    )
}

/// `MPI_Iexscan`: its request waits for the collective.
#[no_mangle]
pub unsafe extern "C" fn MPI_Iexscan(
    sendbuf: *const c_void,
    recvbuf: *mut c_void,
    count: c_int,
    datatype: MPI_Datatype,
    op: MPI_Op,
    comm: MPI_Comm,
    request: *mut MPI_Request,
) -> c_int {
    let a = traced!(PMPI_Iexscan(
        sendbuf, recvbuf, count, datatype, op, comm, request
    ));
    let t = a.t;
    t.icollective(
        Func::Iexscan,
        comm,
        |_c| type_bytes(count, datatype),
        request,
        || PMPI_Iexscan(sendbuf, recvbuf, count, datatype, op, comm, request),
    )
}
