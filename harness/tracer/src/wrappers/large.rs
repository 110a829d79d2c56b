//! The MPI-4 large-count calls (`MPI_X_c`: `MPI_Count` counts, `MPI_Aint` displacements),
//! compiled where the library has them (the cfg `mpi_large_count`, see `build.rs`): MPICH 4
//! does, and mpi4py built against it calls only these.
//!
//! Each one is traced exactly like its int-count twin `MPI_X`: when every count and
//! displacement fits in a C `int` (always, in exercises), the arguments are converted and the
//! tracer's own `MPI_X` wrapper runs, so the counting, wait-for conditions, zero-buffer mode,
//! request table and scopes are the same code. The count and displacement arrays of the v/w
//! collectives are copied into `int` arrays for the call (the only allocation), and only the
//! arrays the call reads on this rank (a `Gatherv`'s receive counts only at its root; none of
//! the send arrays of an in-place `Alltoallv`).
//!
//! A call with a count beyond `INT_MAX` (or on an intercommunicator, for the array forms) goes
//! to the library's `PMPI_X_c` with its own arguments. It is still counted (calls and the bytes
//! it sends), a collective still takes its place in its communicator's sequence, and a blocking
//! call still shows as the call the rank is blocked in; but a point-to-point one shows no
//! wait-for condition (its request is `Unknown`), so a deadlock in it is reported as ranks
//! stuck rather than as a cycle.

use super::{comm_rank, comm_size, in_place, scaled, type_size};
use crate::comms::Matching;
use crate::pmpi::large::real;
use crate::tracer::{Tracer, Wait};
use crate::wrappers::{collective, nonblocking, p2p};
use mpi_grade_protocol::trace::{Func, WaitKind, WaitMode};
use mpi_sys::*;
use std::os::raw::{c_int, c_void};

/// `n` as a C `int`, if it fits.
#[inline(always)]
fn int(n: MPI_Count) -> Option<c_int> {
    c_int::try_from(n).ok()
}

/// A count or displacement array converted to C `int`s: the null pointer stays null.
struct Ints(Option<Vec<c_int>>);

impl Ints {
    /// The pointer to pass in place of the original array.
    fn ptr(&self) -> *const c_int {
        self.0.as_ref().map_or(std::ptr::null(), |v| v.as_ptr())
    }
}

/// The first `n` entries of `p` as C `int`s (`None` if one does not fit); null (or an array
/// the call does not read, `read` false) becomes null.
unsafe fn ints<T: Copy + TryInto<c_int>>(p: *const T, n: c_int, read: bool) -> Option<Ints> {
    if p.is_null() || !read || n <= 0 {
        return Some(Ints(None));
    }
    let src = std::slice::from_raw_parts(p, n as usize);
    let mut out = Vec::with_capacity(src.len());
    for &x in src {
        out.push(x.try_into().ok()?);
    }
    Some(Ints(Some(out)))
}

/// The size of `comm` when it is an intracommunicator (`None` otherwise: the array forms of
/// intercommunicators take the untouched path).
unsafe fn intra_size(comm: MPI_Comm) -> Option<c_int> {
    let mut inter: c_int = 0;
    if PMPI_Comm_test_inter(comm, &mut inter) != 0 || inter != 0 {
        return None;
    }
    Some(comm_size(comm))
}

/// Whether this rank is the root of a rooted collective on an intracommunicator.
unsafe fn is_root(root: c_int, comm: MPI_Comm) -> bool {
    comm_rank(comm) == root
}

/// `count` elements of `datatype` in bytes.
unsafe fn c_bytes(count: MPI_Count, datatype: MPI_Datatype) -> u64 {
    scaled(count.max(0) as u64, datatype)
}

/// The sum of the first `n` counts of `counts` in elements of `datatype`, in bytes.
unsafe fn c_sum_bytes(counts: *const MPI_Count, n: c_int, datatype: MPI_Datatype) -> u64 {
    if counts.is_null() || n <= 0 {
        return 0;
    }
    let total = std::slice::from_raw_parts(counts, n as usize)
        .iter()
        .map(|&c| c.max(0) as u64)
        .fold(0, u64::saturating_add);
    scaled(total, datatype)
}

/// An `Alltoallw`'s blocks in bytes, each of its own datatype.
unsafe fn c_typed_bytes(counts: *const MPI_Count, types: *const MPI_Datatype, n: c_int) -> u64 {
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
        .fold(0, u64::saturating_add)
}

/// The blocks of a collective with one block per member.
unsafe fn per_member(block: u64, comm: MPI_Comm) -> u64 {
    block.saturating_mul(comm_size(comm).max(0) as u64)
}

/// What a rooted collective's root alone sends.
unsafe fn at_root(bytes: u64, root: c_int, comm: MPI_Comm) -> u64 {
    if is_root(root, comm) {
        bytes
    } else {
        0
    }
}

/// Every rank sends its block, except an in-place root.
unsafe fn c_gather_bytes(
    sendbuf: *const c_void,
    sendcount: MPI_Count,
    sendtype: MPI_Datatype,
) -> u64 {
    if in_place(sendbuf) {
        0
    } else {
        c_bytes(sendcount, sendtype)
    }
}

/// Every rank sends its block (in place: the block already in the receive buffer).
unsafe fn c_allgather_bytes(
    sendbuf: *const c_void,
    sendcount: MPI_Count,
    sendtype: MPI_Datatype,
    recvcount: MPI_Count,
    recvtype: MPI_Datatype,
) -> u64 {
    if in_place(sendbuf) {
        c_bytes(recvcount, recvtype)
    } else {
        c_bytes(sendcount, sendtype)
    }
}

/// One block of an `Alltoall`.
unsafe fn c_alltoall_block(
    sendbuf: *const c_void,
    sendcount: MPI_Count,
    sendtype: MPI_Datatype,
    recvcount: MPI_Count,
    recvtype: MPI_Datatype,
) -> u64 {
    c_allgather_bytes(sendbuf, sendcount, sendtype, recvcount, recvtype)
}

/// Every block of an `Alltoallv`.
unsafe fn c_alltoallv_bytes(
    sendbuf: *const c_void,
    sendcounts: *const MPI_Count,
    sendtype: MPI_Datatype,
    recvcounts: *const MPI_Count,
    recvtype: MPI_Datatype,
    comm: MPI_Comm,
) -> u64 {
    if in_place(sendbuf) {
        c_sum_bytes(recvcounts, comm_size(comm), recvtype)
    } else {
        c_sum_bytes(sendcounts, comm_size(comm), sendtype)
    }
}

/// Every block of an `Alltoallw`.
unsafe fn c_alltoallw_bytes(
    sendbuf: *const c_void,
    sendcounts: *const MPI_Count,
    sendtypes: *const MPI_Datatype,
    recvcounts: *const MPI_Count,
    recvtypes: *const MPI_Datatype,
    comm: MPI_Comm,
) -> u64 {
    if in_place(sendbuf) {
        c_typed_bytes(recvcounts, recvtypes, comm_size(comm))
    } else {
        c_typed_bytes(sendcounts, sendtypes, comm_size(comm))
    }
}

impl Tracer {
    /// The untouched path of a persistent request's set-up (`MPI_X_init_c`): counted, its
    /// cell's messages marked as not comparable; nothing enters the request table, as for the
    /// int-count `MPI_X_init`.
    unsafe fn large_init(&self, func: Func, bytes: u64, call: impl FnOnce() -> c_int) -> c_int {
        use mpi_grade_protocol::trace::{UNPAIRED_LARGE, UNPAIRED_PERSISTENT};
        self.count(func, bytes);
        self.unpaired(UNPAIRED_LARGE | UNPAIRED_PERSISTENT);
        call()
    }

    /// The untouched path of a point-to-point call: counted, shown as blocked (without a
    /// condition) while a blocking one runs; a non-blocking one's request enters the table as
    /// `Unknown`.
    unsafe fn large_p2p(
        &self,
        func: Func,
        bytes: u64,
        request: Option<*mut MPI_Request>,
        call: impl FnOnce() -> c_int,
    ) -> c_int {
        self.count(func, bytes);
        self.unpaired(mpi_grade_protocol::trace::UNPAIRED_LARGE);
        match request {
            None => self.blocking(func, WaitMode::All, &[] as &[Wait], call),
            Some(request) => {
                let rc = call();
                if rc == 0 {
                    let w = Wait {
                        bytes,
                        ..Wait::bare(WaitKind::Unknown)
                    };
                    self.add_request(request, &w);
                }
                rc
            }
        }
    }
}

/// Defines each `MPI_X_c`:
///
/// ```text
/// MPI_X_c = PMPI_X_c(<args>)
///     if (<name> = <conversion>, ...) => <the int-count call, with the converted names>
///     else |t, call| <the untouched path: tracer `t`, the library's call `call`>;
/// ```
///
/// Every conversion is an `Option`; the int-count call runs when all are `Some`. Converted
/// arrays ([`Ints`]) are passed with `.ptr()`.
macro_rules! large {
    ($(
        $name:ident = $pname:ident($($arg:ident: $ty:ty),* $(,)?)
        if ($($fit:ident = $conv:expr),* $(,)?) => $int:expr;
        else |$t:ident, $call:ident| $over:expr;
    )*) => {$(
        #[doc = concat!("`", stringify!($name), "`: traced as its int-count twin.")]
        #[no_mangle]
        // Some conversions only feed later ones (a size, whether the rank is the root).
        #[allow(unused_variables)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> c_int {
            // The conversions in order (a later one may use an earlier one's result).
            let converted = (|| {
                $(let $fit = $conv?;)*
                Some(($($fit,)*))
            })();
            if let Some(($($fit,)*)) = converted {
                return $int;
            }
            let $call = || real::$pname($($arg),*);
            let a = traced!($call());
            let $t = a.t;
            $over
        }
    )*};
}

large! {
    MPI_Send_c = PMPI_Send_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm)
        if (count = int(count)) => p2p::MPI_Send(buf, count, datatype, dest, tag, comm);
        else |t, call| t.large_p2p(Func::Send, c_bytes(count, datatype), None, || {
            // Zero-buffer mode, as in `MPI_Send`.
            if t.zero_buffer() {
                real::PMPI_Ssend_c(buf, count, datatype, dest, tag, comm)
            } else {
                call()
            }
        });

    MPI_Ssend_c = PMPI_Ssend_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm)
        if (count = int(count)) => p2p::MPI_Ssend(buf, count, datatype, dest, tag, comm);
        else |t, call| t.large_p2p(Func::Ssend, c_bytes(count, datatype), None, call);

    MPI_Bsend_c = PMPI_Bsend_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm)
        if (count = int(count)) => p2p::MPI_Bsend(buf, count, datatype, dest, tag, comm);
        else |t, call| t.large_p2p(Func::Bsend, c_bytes(count, datatype), None, call);

    MPI_Rsend_c = PMPI_Rsend_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm)
        if (count = int(count)) => p2p::MPI_Rsend(buf, count, datatype, dest, tag, comm);
        else |t, call| t.large_p2p(Func::Rsend, c_bytes(count, datatype), None, call);

    MPI_Recv_c = PMPI_Recv_c(buf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, source: c_int, tag: c_int, comm: MPI_Comm, status: *mut MPI_Status)
        if (count = int(count)) => p2p::MPI_Recv(buf, count, datatype, source, tag, comm, status);
        else |t, call| t.large_p2p(Func::Recv, c_bytes(count, datatype), None, call);

    MPI_Sendrecv_c = PMPI_Sendrecv_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, dest: c_int, sendtag: c_int, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, source: c_int, recvtag: c_int, comm: MPI_Comm, status: *mut MPI_Status)
        if (sendcount = int(sendcount), recvcount = int(recvcount)) => p2p::MPI_Sendrecv(sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype, source, recvtag, comm, status);
        else |t, call| t.large_p2p(Func::Sendrecv, c_bytes(sendcount, sendtype), None, call);

    MPI_Sendrecv_replace_c = PMPI_Sendrecv_replace_c(buf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, sendtag: c_int, source: c_int, recvtag: c_int, comm: MPI_Comm, status: *mut MPI_Status)
        if (count = int(count)) => p2p::MPI_Sendrecv_replace(buf, count, datatype, dest, sendtag, source, recvtag, comm, status);
        else |t, call| t.large_p2p(Func::SendrecvReplace, c_bytes(count, datatype), None, call);

    MPI_Mrecv_c = PMPI_Mrecv_c(buf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, message: *mut MPI_Message, status: *mut MPI_Status)
        if (count = int(count)) => p2p::MPI_Mrecv(buf, count, datatype, message, status);
        else |t, call| t.large_p2p(Func::Mrecv, c_bytes(count, datatype), None, call);

    MPI_Isend_c = PMPI_Isend_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (count = int(count)) => nonblocking::MPI_Isend(buf, count, datatype, dest, tag, comm, request);
        else |t, call| t.large_p2p(Func::Isend, c_bytes(count, datatype), Some(request), call);

    MPI_Issend_c = PMPI_Issend_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (count = int(count)) => nonblocking::MPI_Issend(buf, count, datatype, dest, tag, comm, request);
        else |t, call| t.large_p2p(Func::Issend, c_bytes(count, datatype), Some(request), call);

    MPI_Ibsend_c = PMPI_Ibsend_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (count = int(count)) => nonblocking::MPI_Ibsend(buf, count, datatype, dest, tag, comm, request);
        else |t, call| t.large_p2p(Func::Ibsend, c_bytes(count, datatype), Some(request), call);

    MPI_Irsend_c = PMPI_Irsend_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (count = int(count)) => nonblocking::MPI_Irsend(buf, count, datatype, dest, tag, comm, request);
        else |t, call| t.large_p2p(Func::Irsend, c_bytes(count, datatype), Some(request), call);

    MPI_Irecv_c = PMPI_Irecv_c(buf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, source: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (count = int(count)) => nonblocking::MPI_Irecv(buf, count, datatype, source, tag, comm, request);
        else |t, call| t.large_p2p(Func::Irecv, c_bytes(count, datatype), Some(request), call);

    MPI_Imrecv_c = PMPI_Imrecv_c(buf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, message: *mut MPI_Message, request: *mut MPI_Request)
        if (count = int(count)) => nonblocking::MPI_Imrecv(buf, count, datatype, message, request);
        else |t, call| t.large_p2p(Func::Imrecv, c_bytes(count, datatype), Some(request), call);

    MPI_Send_init_c = PMPI_Send_init_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (count = int(count)) => nonblocking::MPI_Send_init(buf, count, datatype, dest, tag, comm, request);
        else |t, call| t.large_init(Func::SendInit, c_bytes(count, datatype), || {
            // Zero-buffer mode, as in `MPI_Send_init`.
            if t.zero_buffer() {
                real::PMPI_Ssend_init_c(buf, count, datatype, dest, tag, comm, request)
            } else {
                call()
            }
        });

    MPI_Ssend_init_c = PMPI_Ssend_init_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (count = int(count)) => nonblocking::MPI_Ssend_init(buf, count, datatype, dest, tag, comm, request);
        else |t, call| t.large_init(Func::SsendInit, c_bytes(count, datatype), call);

    MPI_Bsend_init_c = PMPI_Bsend_init_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (count = int(count)) => nonblocking::MPI_Bsend_init(buf, count, datatype, dest, tag, comm, request);
        else |t, call| t.large_init(Func::BsendInit, c_bytes(count, datatype), call);

    MPI_Rsend_init_c = PMPI_Rsend_init_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (count = int(count)) => nonblocking::MPI_Rsend_init(buf, count, datatype, dest, tag, comm, request);
        else |t, call| t.large_init(Func::RsendInit, c_bytes(count, datatype), call);

    MPI_Recv_init_c = PMPI_Recv_init_c(buf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, source: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (count = int(count)) => nonblocking::MPI_Recv_init(buf, count, datatype, source, tag, comm, request);
        else |t, call| t.large_init(Func::RecvInit, c_bytes(count, datatype), call);

    MPI_Bcast_c = PMPI_Bcast_c(buffer: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, root: c_int, comm: MPI_Comm)
        if (count = int(count)) => collective::MPI_Bcast(buffer, count, datatype, root, comm);
        else |t, call| t.collective(Func::Bcast, comm, Matching::UNKNOWN, |_| at_root(c_bytes(count, datatype), root, comm), call);

    MPI_Ibcast_c = PMPI_Ibcast_c(buffer: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, root: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (count = int(count)) => collective::MPI_Ibcast(buffer, count, datatype, root, comm, request);
        else |t, call| t.icollective(Func::Ibcast, comm, Matching::UNKNOWN, |_| at_root(c_bytes(count, datatype), root, comm), request, call);

    MPI_Reduce_c = PMPI_Reduce_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, root: c_int, comm: MPI_Comm)
        if (count = int(count)) => collective::MPI_Reduce(sendbuf, recvbuf, count, datatype, op, root, comm);
        else |t, call| t.collective(Func::Reduce, comm, Matching::UNKNOWN, |_| c_bytes(count, datatype), call);

    MPI_Ireduce_c = PMPI_Ireduce_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, root: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (count = int(count)) => collective::MPI_Ireduce(sendbuf, recvbuf, count, datatype, op, root, comm, request);
        else |t, call| t.icollective(Func::Ireduce, comm, Matching::UNKNOWN, |_| c_bytes(count, datatype), request, call);

    MPI_Allreduce_c = PMPI_Allreduce_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm)
        if (count = int(count)) => collective::MPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm);
        else |t, call| t.collective(Func::Allreduce, comm, Matching::UNKNOWN, |_| c_bytes(count, datatype), call);

    MPI_Iallreduce_c = PMPI_Iallreduce_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm, request: *mut MPI_Request)
        if (count = int(count)) => collective::MPI_Iallreduce(sendbuf, recvbuf, count, datatype, op, comm, request);
        else |t, call| t.icollective(Func::Iallreduce, comm, Matching::UNKNOWN, |_| c_bytes(count, datatype), request, call);

    MPI_Gather_c = PMPI_Gather_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm)
        if (sendcount = int(sendcount), recvcount = int(recvcount)) => collective::MPI_Gather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm);
        else |t, call| t.collective(Func::Gather, comm, Matching::UNKNOWN, |_| c_gather_bytes(sendbuf, sendcount, sendtype), call);

    MPI_Igather_c = PMPI_Igather_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (sendcount = int(sendcount), recvcount = int(recvcount)) => collective::MPI_Igather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm, request);
        else |t, call| t.icollective(Func::Igather, comm, Matching::UNKNOWN, |_| c_gather_bytes(sendbuf, sendcount, sendtype), request, call);

    MPI_Gatherv_c = PMPI_Gatherv_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, displs: *const MPI_Aint, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm)
        if (n = intra_size(comm), sendcount = int(sendcount),
            root_reads = Some(is_root(root, comm)),
            recvcounts = ints(recvcounts, n, root_reads), displs = ints(displs, n, root_reads)) => collective::MPI_Gatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts.ptr(), displs.ptr(), recvtype, root, comm);
        else |t, call| t.collective(Func::Gatherv, comm, Matching::UNKNOWN, |_| c_gather_bytes(sendbuf, sendcount, sendtype), call);

    MPI_Igatherv_c = PMPI_Igatherv_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, displs: *const MPI_Aint, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (n = intra_size(comm), sendcount = int(sendcount),
            root_reads = Some(is_root(root, comm)),
            recvcounts = ints(recvcounts, n, root_reads), displs = ints(displs, n, root_reads)) => collective::MPI_Igatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts.ptr(), displs.ptr(), recvtype, root, comm, request);
        else |t, call| t.icollective(Func::Igatherv, comm, Matching::UNKNOWN, |_| c_gather_bytes(sendbuf, sendcount, sendtype), request, call);

    MPI_Scatter_c = PMPI_Scatter_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm)
        if (sendcount = int(sendcount), recvcount = int(recvcount)) => collective::MPI_Scatter(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm);
        else |t, call| t.collective(Func::Scatter, comm, Matching::UNKNOWN, |_| at_root(per_member(c_bytes(sendcount, sendtype), comm), root, comm), call);

    MPI_Iscatter_c = PMPI_Iscatter_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (sendcount = int(sendcount), recvcount = int(recvcount)) => collective::MPI_Iscatter(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm, request);
        else |t, call| t.icollective(Func::Iscatter, comm, Matching::UNKNOWN, |_| at_root(per_member(c_bytes(sendcount, sendtype), comm), root, comm), request, call);

    MPI_Scatterv_c = PMPI_Scatterv_c(sendbuf: *const c_void, sendcounts: *const MPI_Count, displs: *const MPI_Aint, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm)
        if (n = intra_size(comm), root_reads = Some(is_root(root, comm)),
            sendcounts = ints(sendcounts, n, root_reads), displs = ints(displs, n, root_reads),
            recvcount = int(recvcount)) => collective::MPI_Scatterv(sendbuf, sendcounts.ptr(), displs.ptr(), sendtype, recvbuf, recvcount, recvtype, root, comm);
        else |t, call| t.collective(Func::Scatterv, comm, Matching::UNKNOWN, |_| at_root(c_sum_bytes(sendcounts, comm_size(comm), sendtype), root, comm), call);

    MPI_Iscatterv_c = PMPI_Iscatterv_c(sendbuf: *const c_void, sendcounts: *const MPI_Count, displs: *const MPI_Aint, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm, request: *mut MPI_Request)
        if (n = intra_size(comm), root_reads = Some(is_root(root, comm)),
            sendcounts = ints(sendcounts, n, root_reads), displs = ints(displs, n, root_reads),
            recvcount = int(recvcount)) => collective::MPI_Iscatterv(sendbuf, sendcounts.ptr(), displs.ptr(), sendtype, recvbuf, recvcount, recvtype, root, comm, request);
        else |t, call| t.icollective(Func::Iscatterv, comm, Matching::UNKNOWN, |_| at_root(c_sum_bytes(sendcounts, comm_size(comm), sendtype), root, comm), request, call);

    MPI_Allgather_c = PMPI_Allgather_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, comm: MPI_Comm)
        if (sendcount = int(sendcount), recvcount = int(recvcount)) => collective::MPI_Allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm);
        else |t, call| t.collective(Func::Allgather, comm, Matching::UNKNOWN, |_| c_allgather_bytes(sendbuf, sendcount, sendtype, recvcount, recvtype), call);

    MPI_Iallgather_c = PMPI_Iallgather_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, comm: MPI_Comm, request: *mut MPI_Request)
        if (sendcount = int(sendcount), recvcount = int(recvcount)) => collective::MPI_Iallgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request);
        else |t, call| t.icollective(Func::Iallgather, comm, Matching::UNKNOWN, |_| c_allgather_bytes(sendbuf, sendcount, sendtype, recvcount, recvtype), request, call);

    MPI_Allgatherv_c = PMPI_Allgatherv_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, displs: *const MPI_Aint, recvtype: MPI_Datatype, comm: MPI_Comm)
        if (n = intra_size(comm), sendcount = int(sendcount),
            recvcounts = ints(recvcounts, n, true), displs = ints(displs, n, true)) => collective::MPI_Allgatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts.ptr(), displs.ptr(), recvtype, comm);
        else |t, call| t.collective(Func::Allgatherv, comm, Matching::UNKNOWN, |_| c_gather_bytes(sendbuf, sendcount, sendtype), call);

    MPI_Iallgatherv_c = PMPI_Iallgatherv_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, displs: *const MPI_Aint, recvtype: MPI_Datatype, comm: MPI_Comm, request: *mut MPI_Request)
        if (n = intra_size(comm), sendcount = int(sendcount),
            recvcounts = ints(recvcounts, n, true), displs = ints(displs, n, true)) => collective::MPI_Iallgatherv(sendbuf, sendcount, sendtype, recvbuf, recvcounts.ptr(), displs.ptr(), recvtype, comm, request);
        else |t, call| t.icollective(Func::Iallgatherv, comm, Matching::UNKNOWN, |_| c_gather_bytes(sendbuf, sendcount, sendtype), request, call);

    MPI_Alltoall_c = PMPI_Alltoall_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, comm: MPI_Comm)
        if (sendcount = int(sendcount), recvcount = int(recvcount)) => collective::MPI_Alltoall(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm);
        else |t, call| t.collective(Func::Alltoall, comm, Matching::UNKNOWN, |_| per_member(c_alltoall_block(sendbuf, sendcount, sendtype, recvcount, recvtype), comm), call);

    MPI_Ialltoall_c = PMPI_Ialltoall_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, comm: MPI_Comm, request: *mut MPI_Request)
        if (sendcount = int(sendcount), recvcount = int(recvcount)) => collective::MPI_Ialltoall(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request);
        else |t, call| t.icollective(Func::Ialltoall, comm, Matching::UNKNOWN, |_| per_member(c_alltoall_block(sendbuf, sendcount, sendtype, recvcount, recvtype), comm), request, call);

    MPI_Alltoallv_c = PMPI_Alltoallv_c(sendbuf: *const c_void, sendcounts: *const MPI_Count, sdispls: *const MPI_Aint, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, rdispls: *const MPI_Aint, recvtype: MPI_Datatype, comm: MPI_Comm)
        if (n = intra_size(comm), sends = Some(!in_place(sendbuf)),
            sendcounts = ints(sendcounts, n, sends), sdispls = ints(sdispls, n, sends),
            recvcounts = ints(recvcounts, n, true), rdispls = ints(rdispls, n, true)) => collective::MPI_Alltoallv(sendbuf, sendcounts.ptr(), sdispls.ptr(), sendtype, recvbuf, recvcounts.ptr(), rdispls.ptr(), recvtype, comm);
        else |t, call| t.collective(Func::Alltoallv, comm, Matching::UNKNOWN, |_| c_alltoallv_bytes(sendbuf, sendcounts, sendtype, recvcounts, recvtype, comm), call);

    MPI_Ialltoallv_c = PMPI_Ialltoallv_c(sendbuf: *const c_void, sendcounts: *const MPI_Count, sdispls: *const MPI_Aint, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, rdispls: *const MPI_Aint, recvtype: MPI_Datatype, comm: MPI_Comm, request: *mut MPI_Request)
        if (n = intra_size(comm), sends = Some(!in_place(sendbuf)),
            sendcounts = ints(sendcounts, n, sends), sdispls = ints(sdispls, n, sends),
            recvcounts = ints(recvcounts, n, true), rdispls = ints(rdispls, n, true)) => collective::MPI_Ialltoallv(sendbuf, sendcounts.ptr(), sdispls.ptr(), sendtype, recvbuf, recvcounts.ptr(), rdispls.ptr(), recvtype, comm, request);
        else |t, call| t.icollective(Func::Ialltoallv, comm, Matching::UNKNOWN, |_| c_alltoallv_bytes(sendbuf, sendcounts, sendtype, recvcounts, recvtype, comm), request, call);

    MPI_Alltoallw_c = PMPI_Alltoallw_c(sendbuf: *const c_void, sendcounts: *const MPI_Count, sdispls: *const MPI_Aint, sendtypes: *const MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, rdispls: *const MPI_Aint, recvtypes: *const MPI_Datatype, comm: MPI_Comm)
        if (n = intra_size(comm), sends = Some(!in_place(sendbuf)),
            sendcounts = ints(sendcounts, n, sends), sdispls = ints(sdispls, n, sends),
            recvcounts = ints(recvcounts, n, true), rdispls = ints(rdispls, n, true)) => collective::MPI_Alltoallw(sendbuf, sendcounts.ptr(), sdispls.ptr(), sendtypes, recvbuf, recvcounts.ptr(), rdispls.ptr(), recvtypes, comm);
        else |t, call| t.collective(Func::Alltoallw, comm, Matching::UNKNOWN, |_| c_alltoallw_bytes(sendbuf, sendcounts, sendtypes, recvcounts, recvtypes, comm), call);

    MPI_Ialltoallw_c = PMPI_Ialltoallw_c(sendbuf: *const c_void, sendcounts: *const MPI_Count, sdispls: *const MPI_Aint, sendtypes: *const MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, rdispls: *const MPI_Aint, recvtypes: *const MPI_Datatype, comm: MPI_Comm, request: *mut MPI_Request)
        if (n = intra_size(comm), sends = Some(!in_place(sendbuf)),
            sendcounts = ints(sendcounts, n, sends), sdispls = ints(sdispls, n, sends),
            recvcounts = ints(recvcounts, n, true), rdispls = ints(rdispls, n, true)) => collective::MPI_Ialltoallw(sendbuf, sendcounts.ptr(), sdispls.ptr(), sendtypes, recvbuf, recvcounts.ptr(), rdispls.ptr(), recvtypes, comm, request);
        else |t, call| t.icollective(Func::Ialltoallw, comm, Matching::UNKNOWN, |_| c_alltoallw_bytes(sendbuf, sendcounts, sendtypes, recvcounts, recvtypes, comm), request, call);

    MPI_Reduce_scatter_c = PMPI_Reduce_scatter_c(sendbuf: *const c_void, recvbuf: *mut c_void, recvcounts: *const MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm)
        if (n = intra_size(comm), recvcounts = ints(recvcounts, n, true)) => collective::MPI_Reduce_scatter(sendbuf, recvbuf, recvcounts.ptr(), datatype, op, comm);
        else |t, call| t.collective(Func::ReduceScatter, comm, Matching::UNKNOWN, |_| c_sum_bytes(recvcounts, comm_size(comm), datatype), call);

    MPI_Ireduce_scatter_c = PMPI_Ireduce_scatter_c(sendbuf: *const c_void, recvbuf: *mut c_void, recvcounts: *const MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm, request: *mut MPI_Request)
        if (n = intra_size(comm), recvcounts = ints(recvcounts, n, true)) => collective::MPI_Ireduce_scatter(sendbuf, recvbuf, recvcounts.ptr(), datatype, op, comm, request);
        else |t, call| t.icollective(Func::IreduceScatter, comm, Matching::UNKNOWN, |_| c_sum_bytes(recvcounts, comm_size(comm), datatype), request, call);

    MPI_Reduce_scatter_block_c = PMPI_Reduce_scatter_block_c(sendbuf: *const c_void, recvbuf: *mut c_void, recvcount: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm)
        if (recvcount = int(recvcount)) => collective::MPI_Reduce_scatter_block(sendbuf, recvbuf, recvcount, datatype, op, comm);
        else |t, call| t.collective(Func::ReduceScatterBlock, comm, Matching::UNKNOWN, |_| per_member(c_bytes(recvcount, datatype), comm), call);

    MPI_Ireduce_scatter_block_c = PMPI_Ireduce_scatter_block_c(sendbuf: *const c_void, recvbuf: *mut c_void, recvcount: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm, request: *mut MPI_Request)
        if (recvcount = int(recvcount)) => collective::MPI_Ireduce_scatter_block(sendbuf, recvbuf, recvcount, datatype, op, comm, request);
        else |t, call| t.icollective(Func::IreduceScatterBlock, comm, Matching::UNKNOWN, |_| per_member(c_bytes(recvcount, datatype), comm), request, call);

    MPI_Scan_c = PMPI_Scan_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm)
        if (count = int(count)) => collective::MPI_Scan(sendbuf, recvbuf, count, datatype, op, comm);
        else |t, call| t.collective(Func::Scan, comm, Matching::UNKNOWN, |_| c_bytes(count, datatype), call);

    MPI_Iscan_c = PMPI_Iscan_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm, request: *mut MPI_Request)
        if (count = int(count)) => collective::MPI_Iscan(sendbuf, recvbuf, count, datatype, op, comm, request);
        else |t, call| t.icollective(Func::Iscan, comm, Matching::UNKNOWN, |_| c_bytes(count, datatype), request, call);

    MPI_Exscan_c = PMPI_Exscan_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm)
        if (count = int(count)) => collective::MPI_Exscan(sendbuf, recvbuf, count, datatype, op, comm);
        else |t, call| t.collective(Func::Exscan, comm, Matching::UNKNOWN, |_| c_bytes(count, datatype), call);

    MPI_Iexscan_c = PMPI_Iexscan_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm, request: *mut MPI_Request)
        if (count = int(count)) => collective::MPI_Iexscan(sendbuf, recvbuf, count, datatype, op, comm, request);
        else |t, call| t.icollective(Func::Iexscan, comm, Matching::UNKNOWN, |_| c_bytes(count, datatype), request, call);
}
