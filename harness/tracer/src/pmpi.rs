//! The `PMPI_` names: the MPI library's own entry points, and this library's exports of them.
//!
//! A program that calls `PMPI_Alltoall` instead of `MPI_Alltoall` (the profiling interface
//! every MPI library offers, for tools like this one) would skip a tracer that only exported the
//! `MPI_` names, and the grader would never see the call. So this library exports both names of
//! every function it traces:
//!
//! - [`exports`]: `PMPI_X`, called from outside a traced call (by the program, whatever its
//!   language, or by a library such as the Fortran bindings), is traced exactly like `MPI_X`: it
//!   runs the `MPI_X` wrapper. Called while a traced call runs (by the MPI library itself, in
//!   the middle of an `MPI_` call), it only forwards, so that nothing is counted twice.
//! - [`real`]: the library's `PMPI_X`, which every wrapper forwards to. Since the preloaded
//!   tracer now defines `PMPI_X` itself, the name would bind back to the tracer: the library's
//!   function is looked up once with `dlsym(RTLD_NEXT, "PMPI_X")` (the next definition after
//!   this library in the lookup order: the MPI library's, also where `MPI_X` is a weak alias of
//!   `PMPI_X` as in Open MPI and MPICH) and cached, so the hot path is one atomic load and an
//!   indirect call, as the PLT call was.
//!
//! Nothing here allocates or panics. A library without one of the functions is a broken
//! installation: the first call then ends the process with a message (the tracer cannot give
//! the call a meaning).
//!
//! The list below is the list of wrappers (`MPI_Cart_sub` included), and `large` (where the
//! library has them) that of the large-count ones; the signatures are checked at compile time
//! against the bindings' declarations.

#![allow(non_snake_case, clippy::missing_safety_doc, clippy::too_many_arguments)]

use mpi_sys::*;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicPtr, Ordering::*};

/// The function `name` (NUL-terminated) of the MPI library, found after this library in the
/// lookup order, stored in `slot`. `own` is this library's export of the same name, which must
/// never come back (the wrapper would call itself).
#[cold]
#[inline(never)]
unsafe fn resolve(slot: &AtomicPtr<c_void>, name: &'static [u8], own: *const ()) -> *mut c_void {
    let p = libc::dlsym(libc::RTLD_NEXT, name.as_ptr().cast());
    if p.is_null() || p as *const () == own {
        missing(name);
    }
    slot.store(p, Release);
    p
}

/// Ends the process: the MPI library lacks `name`.
#[cold]
fn missing(name: &[u8]) -> ! {
    let parts: [&[u8]; 3] = [
        b"mpi-grade tracer: the MPI library has no ",
        name.strip_suffix(b"\0").unwrap_or(name),
        b"\n",
    ];
    for part in parts {
        // SAFETY: writes a valid buffer to stderr; the result does not matter.
        unsafe { libc::write(2, part.as_ptr().cast(), part.len()) };
    }
    std::process::abort()
}

/// Whether the calling thread is inside a traced call: the tracer is active and one of its
/// wrappers runs below. When the thread-local state is gone (thread teardown), the call is
/// treated as nested: it is forwarded, as the wrappers do then.
#[inline(always)]
fn nested() -> bool {
    crate::tracer::inside_traced_call()
}

/// The library's `PMPI_` functions of a list, looked up once (see the module).
macro_rules! real_fns {
    ($($module:ident::$mpi:ident = $pmpi:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            #[doc = concat!("The library's `", stringify!($pmpi), "`.")]
            #[inline(always)]
            pub unsafe extern "C" fn $pmpi($($arg: $ty),*) -> c_int {
                type F = unsafe extern "C" fn($($ty),*) -> c_int;
                // The signature is the bindings' (a mismatch does not compile).
                const _: F = mpi_sys::$pmpi;
                static SLOT: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
                let mut p = SLOT.load(Acquire);
                if p.is_null() {
                    p = resolve(
                        &SLOT,
                        concat!(stringify!($pmpi), "\0").as_bytes(),
                        super::exports::$pmpi as *const (),
                    );
                }
                // SAFETY: `p` is the library's function of this name, with this signature.
                let f = std::mem::transmute::<*mut c_void, F>(p);
                f($($arg),*)
            }
        )*
    };
}

/// This library's `PMPI_` exports of a list: the `MPI_` wrapper when called directly.
macro_rules! export_fns {
    ($($module:ident::$mpi:ident = $pmpi:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            #[doc = concat!("`", stringify!($pmpi), "`: `", stringify!($mpi),
                            "` when called directly.")]
            #[no_mangle]
            pub unsafe extern "C" fn $pmpi($($arg: $ty),*) -> c_int {
                if nested() {
                    super::real::$pmpi($($arg),*)
                } else {
                    crate::wrappers::$module::$mpi($($arg),*)
                }
            }
        )*
    };
}

macro_rules! twins {
    ($($list:tt)*) => {
        /// The MPI library's own `PMPI_` functions, looked up once (see the module).
        pub mod real {
            use super::*;
            real_fns! { $($list)* }

            /// The library's `PMPI_Pcontrol` (variadic; the levels the tracer passes on take
            /// no further argument).
            #[inline(always)]
            pub unsafe extern "C" fn PMPI_Pcontrol(level: c_int) -> c_int {
                type F = unsafe extern "C" fn(c_int, ...) -> c_int;
                const _: F = mpi_sys::PMPI_Pcontrol;
                static SLOT: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
                let mut p = SLOT.load(Acquire);
                if p.is_null() {
                    p = resolve(
                        &SLOT,
                        b"PMPI_Pcontrol\0",
                        super::exports::PMPI_Pcontrol as *const (),
                    );
                }
                // SAFETY: as above.
                let f = std::mem::transmute::<*mut c_void, F>(p);
                f(level)
            }
        }

        /// This library's `PMPI_` functions: traced like their `MPI_` twins when called from
        /// outside a traced call (see the module).
        pub mod exports {
            use super::*;
            export_fns! { $($list)* }

            /// `PMPI_Pcontrol`: `MPI_Pcontrol` when called directly (a student's mark is seen
            /// whichever name it uses). Variadic in C, like `MPI_Pcontrol` (see there).
            #[no_mangle]
            pub unsafe extern "C" fn PMPI_Pcontrol(level: c_int) -> c_int {
                if nested() {
                    super::real::PMPI_Pcontrol(level)
                } else {
                    crate::wrappers::lifecycle::MPI_Pcontrol(level)
                }
            }
        }
    };
}

twins! {
    collective::MPI_Barrier = PMPI_Barrier(comm: MPI_Comm);
    collective::MPI_Ibarrier = PMPI_Ibarrier(comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Bcast = PMPI_Bcast(buffer: *mut c_void, count: c_int, datatype: MPI_Datatype, root: c_int, comm: MPI_Comm);
    collective::MPI_Ibcast = PMPI_Ibcast(buffer: *mut c_void, count: c_int, datatype: MPI_Datatype, root: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Reduce = PMPI_Reduce(sendbuf: *const c_void, recvbuf: *mut c_void, count: c_int, datatype: MPI_Datatype, op: MPI_Op, root: c_int, comm: MPI_Comm);
    collective::MPI_Ireduce = PMPI_Ireduce(sendbuf: *const c_void, recvbuf: *mut c_void, count: c_int, datatype: MPI_Datatype, op: MPI_Op, root: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Allreduce = PMPI_Allreduce(sendbuf: *const c_void, recvbuf: *mut c_void, count: c_int, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm);
    collective::MPI_Iallreduce = PMPI_Iallreduce(sendbuf: *const c_void, recvbuf: *mut c_void, count: c_int, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Gather = PMPI_Gather(sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: c_int, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm);
    collective::MPI_Igather = PMPI_Igather(sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: c_int, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Gatherv = PMPI_Gatherv(sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const c_int, displs: *const c_int, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm);
    collective::MPI_Igatherv = PMPI_Igatherv(sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const c_int, displs: *const c_int, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Scatter = PMPI_Scatter(sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: c_int, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm);
    collective::MPI_Iscatter = PMPI_Iscatter(sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: c_int, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Scatterv = PMPI_Scatterv(sendbuf: *const c_void, sendcounts: *const c_int, displs: *const c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: c_int, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm);
    collective::MPI_Iscatterv = PMPI_Iscatterv(sendbuf: *const c_void, sendcounts: *const c_int, displs: *const c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: c_int, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Allgather = PMPI_Allgather(sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: c_int, recvtype: MPI_Datatype, comm: MPI_Comm);
    collective::MPI_Iallgather = PMPI_Iallgather(sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: c_int, recvtype: MPI_Datatype, comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Allgatherv = PMPI_Allgatherv(sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const c_int, displs: *const c_int, recvtype: MPI_Datatype, comm: MPI_Comm);
    collective::MPI_Iallgatherv = PMPI_Iallgatherv(sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const c_int, displs: *const c_int, recvtype: MPI_Datatype, comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Alltoall = PMPI_Alltoall(sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: c_int, recvtype: MPI_Datatype, comm: MPI_Comm);
    collective::MPI_Ialltoall = PMPI_Ialltoall(sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: c_int, recvtype: MPI_Datatype, comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Alltoallv = PMPI_Alltoallv(sendbuf: *const c_void, sendcounts: *const c_int, sdispls: *const c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const c_int, rdispls: *const c_int, recvtype: MPI_Datatype, comm: MPI_Comm);
    collective::MPI_Ialltoallv = PMPI_Ialltoallv(sendbuf: *const c_void, sendcounts: *const c_int, sdispls: *const c_int, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const c_int, rdispls: *const c_int, recvtype: MPI_Datatype, comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Alltoallw = PMPI_Alltoallw(sendbuf: *const c_void, sendcounts: *const c_int, sdispls: *const c_int, sendtypes: *const MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const c_int, rdispls: *const c_int, recvtypes: *const MPI_Datatype, comm: MPI_Comm);
    collective::MPI_Ialltoallw = PMPI_Ialltoallw(sendbuf: *const c_void, sendcounts: *const c_int, sdispls: *const c_int, sendtypes: *const MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const c_int, rdispls: *const c_int, recvtypes: *const MPI_Datatype, comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Reduce_scatter = PMPI_Reduce_scatter(sendbuf: *const c_void, recvbuf: *mut c_void, recvcounts: *const c_int, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm);
    collective::MPI_Ireduce_scatter = PMPI_Ireduce_scatter(sendbuf: *const c_void, recvbuf: *mut c_void, recvcounts: *const c_int, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Reduce_scatter_block = PMPI_Reduce_scatter_block(sendbuf: *const c_void, recvbuf: *mut c_void, recvcount: c_int, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm);
    collective::MPI_Ireduce_scatter_block = PMPI_Ireduce_scatter_block(sendbuf: *const c_void, recvbuf: *mut c_void, recvcount: c_int, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Scan = PMPI_Scan(sendbuf: *const c_void, recvbuf: *mut c_void, count: c_int, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm);
    collective::MPI_Iscan = PMPI_Iscan(sendbuf: *const c_void, recvbuf: *mut c_void, count: c_int, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm, request: *mut MPI_Request);
    collective::MPI_Exscan = PMPI_Exscan(sendbuf: *const c_void, recvbuf: *mut c_void, count: c_int, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm);
    collective::MPI_Iexscan = PMPI_Iexscan(sendbuf: *const c_void, recvbuf: *mut c_void, count: c_int, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm, request: *mut MPI_Request);
    comm::MPI_Comm_dup = PMPI_Comm_dup(comm: MPI_Comm, newcomm: *mut MPI_Comm);
    comm::MPI_Comm_dup_with_info = PMPI_Comm_dup_with_info(comm: MPI_Comm, info: MPI_Info, newcomm: *mut MPI_Comm);
    comm::MPI_Comm_split = PMPI_Comm_split(comm: MPI_Comm, color: c_int, key: c_int, newcomm: *mut MPI_Comm);
    comm::MPI_Comm_split_type = PMPI_Comm_split_type(comm: MPI_Comm, split_type: c_int, key: c_int, info: MPI_Info, newcomm: *mut MPI_Comm);
    comm::MPI_Comm_create = PMPI_Comm_create(comm: MPI_Comm, group: MPI_Group, newcomm: *mut MPI_Comm);
    comm::MPI_Comm_create_group = PMPI_Comm_create_group(comm: MPI_Comm, group: MPI_Group, tag: c_int, newcomm: *mut MPI_Comm);
    comm::MPI_Cart_create = PMPI_Cart_create(old_comm: MPI_Comm, ndims: c_int, dims: *const c_int, periods: *const c_int, reorder: c_int, comm_cart: *mut MPI_Comm);
    comm::MPI_Cart_sub = PMPI_Cart_sub(comm: MPI_Comm, remain_dims: *const c_int, new_comm: *mut MPI_Comm);
    comm::MPI_Comm_free = PMPI_Comm_free(comm: *mut MPI_Comm);
    completion::MPI_Wait = PMPI_Wait(request: *mut MPI_Request, status: *mut MPI_Status);
    completion::MPI_Waitall = PMPI_Waitall(count: c_int, array_of_requests: *mut MPI_Request, array_of_statuses: *mut MPI_Status);
    completion::MPI_Waitany = PMPI_Waitany(count: c_int, array_of_requests: *mut MPI_Request, index: *mut c_int, status: *mut MPI_Status);
    completion::MPI_Waitsome = PMPI_Waitsome(incount: c_int, array_of_requests: *mut MPI_Request, outcount: *mut c_int, array_of_indices: *mut c_int, array_of_statuses: *mut MPI_Status);
    completion::MPI_Test = PMPI_Test(request: *mut MPI_Request, flag: *mut c_int, status: *mut MPI_Status);
    completion::MPI_Testall = PMPI_Testall(count: c_int, array_of_requests: *mut MPI_Request, flag: *mut c_int, array_of_statuses: *mut MPI_Status);
    completion::MPI_Testany = PMPI_Testany(count: c_int, array_of_requests: *mut MPI_Request, index: *mut c_int, flag: *mut c_int, status: *mut MPI_Status);
    completion::MPI_Testsome = PMPI_Testsome(incount: c_int, array_of_requests: *mut MPI_Request, outcount: *mut c_int, array_of_indices: *mut c_int, array_of_statuses: *mut MPI_Status);
    completion::MPI_Request_free = PMPI_Request_free(request: *mut MPI_Request);
    completion::MPI_Cancel = PMPI_Cancel(request: *mut MPI_Request);
    lifecycle::MPI_Init = PMPI_Init(argc: *mut c_int, argv: *mut *mut *mut c_char);
    lifecycle::MPI_Init_thread = PMPI_Init_thread(argc: *mut c_int, argv: *mut *mut *mut c_char, required: c_int, provided: *mut c_int);
    lifecycle::MPI_Finalize = PMPI_Finalize();
    lifecycle::MPI_Abort = PMPI_Abort(comm: MPI_Comm, errorcode: c_int);
    nonblocking::MPI_Isend = PMPI_Isend(buf: *const c_void, count: c_int, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    nonblocking::MPI_Issend = PMPI_Issend(buf: *const c_void, count: c_int, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    nonblocking::MPI_Ibsend = PMPI_Ibsend(buf: *const c_void, count: c_int, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    nonblocking::MPI_Irsend = PMPI_Irsend(buf: *const c_void, count: c_int, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    nonblocking::MPI_Irecv = PMPI_Irecv(buf: *mut c_void, count: c_int, datatype: MPI_Datatype, source: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    nonblocking::MPI_Iprobe = PMPI_Iprobe(source: c_int, tag: c_int, comm: MPI_Comm, flag: *mut c_int, status: *mut MPI_Status);
    nonblocking::MPI_Improbe = PMPI_Improbe(source: c_int, tag: c_int, comm: MPI_Comm, flag: *mut c_int, message: *mut MPI_Message, status: *mut MPI_Status);
    nonblocking::MPI_Imrecv = PMPI_Imrecv(buf: *mut c_void, count: c_int, datatype: MPI_Datatype, message: *mut MPI_Message, request: *mut MPI_Request);
    nonblocking::MPI_Send_init = PMPI_Send_init(buf: *const c_void, count: c_int, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    nonblocking::MPI_Ssend_init = PMPI_Ssend_init(buf: *const c_void, count: c_int, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    nonblocking::MPI_Bsend_init = PMPI_Bsend_init(buf: *const c_void, count: c_int, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    nonblocking::MPI_Rsend_init = PMPI_Rsend_init(buf: *const c_void, count: c_int, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    nonblocking::MPI_Recv_init = PMPI_Recv_init(buf: *mut c_void, count: c_int, datatype: MPI_Datatype, source: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
    nonblocking::MPI_Start = PMPI_Start(request: *mut MPI_Request);
    nonblocking::MPI_Startall = PMPI_Startall(count: c_int, array_of_requests: *mut MPI_Request);
    p2p::MPI_Send = PMPI_Send(buf: *const c_void, count: c_int, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm);
    p2p::MPI_Ssend = PMPI_Ssend(buf: *const c_void, count: c_int, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm);
    p2p::MPI_Bsend = PMPI_Bsend(buf: *const c_void, count: c_int, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm);
    p2p::MPI_Rsend = PMPI_Rsend(buf: *const c_void, count: c_int, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm);
    p2p::MPI_Recv = PMPI_Recv(buf: *mut c_void, count: c_int, datatype: MPI_Datatype, source: c_int, tag: c_int, comm: MPI_Comm, status: *mut MPI_Status);
    p2p::MPI_Sendrecv = PMPI_Sendrecv(sendbuf: *const c_void, sendcount: c_int, sendtype: MPI_Datatype, dest: c_int, sendtag: c_int, recvbuf: *mut c_void, recvcount: c_int, recvtype: MPI_Datatype, source: c_int, recvtag: c_int, comm: MPI_Comm, status: *mut MPI_Status);
    p2p::MPI_Sendrecv_replace = PMPI_Sendrecv_replace(buf: *mut c_void, count: c_int, datatype: MPI_Datatype, dest: c_int, sendtag: c_int, source: c_int, recvtag: c_int, comm: MPI_Comm, status: *mut MPI_Status);
    p2p::MPI_Probe = PMPI_Probe(source: c_int, tag: c_int, comm: MPI_Comm, status: *mut MPI_Status);
    p2p::MPI_Mprobe = PMPI_Mprobe(source: c_int, tag: c_int, comm: MPI_Comm, message: *mut MPI_Message, status: *mut MPI_Status);
    p2p::MPI_Mrecv = PMPI_Mrecv(buf: *mut c_void, count: c_int, datatype: MPI_Datatype, message: *mut MPI_Message, status: *mut MPI_Status);
}

/// The MPI-4 large-count twins (`PMPI_X_c`, with `MPI_Count` counts and `MPI_Aint`
/// displacements), where the library has them (see `build.rs`): the library's in `real`,
/// this library's in `exports`, which run the `MPI_X_c` wrappers of
/// [`crate::wrappers::large`].
#[cfg(mpi_large_count)]
pub mod large {
    use super::*;

    /// Passes the list of large-count twins to the macro `$m`.
    macro_rules! large_list {
        ($m:ident) => {
            $m! {
            large::MPI_Send_c = PMPI_Send_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm);
            large::MPI_Ssend_c = PMPI_Ssend_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm);
            large::MPI_Bsend_c = PMPI_Bsend_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm);
            large::MPI_Rsend_c = PMPI_Rsend_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm);
            large::MPI_Recv_c = PMPI_Recv_c(buf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, source: c_int, tag: c_int, comm: MPI_Comm, status: *mut MPI_Status);
            large::MPI_Sendrecv_c = PMPI_Sendrecv_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, dest: c_int, sendtag: c_int, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, source: c_int, recvtag: c_int, comm: MPI_Comm, status: *mut MPI_Status);
            large::MPI_Sendrecv_replace_c = PMPI_Sendrecv_replace_c(buf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, sendtag: c_int, source: c_int, recvtag: c_int, comm: MPI_Comm, status: *mut MPI_Status);
            large::MPI_Mrecv_c = PMPI_Mrecv_c(buf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, message: *mut MPI_Message, status: *mut MPI_Status);
            large::MPI_Isend_c = PMPI_Isend_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Issend_c = PMPI_Issend_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Ibsend_c = PMPI_Ibsend_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Irsend_c = PMPI_Irsend_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Irecv_c = PMPI_Irecv_c(buf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, source: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Imrecv_c = PMPI_Imrecv_c(buf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, message: *mut MPI_Message, request: *mut MPI_Request);
            large::MPI_Send_init_c = PMPI_Send_init_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Ssend_init_c = PMPI_Ssend_init_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Bsend_init_c = PMPI_Bsend_init_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Rsend_init_c = PMPI_Rsend_init_c(buf: *const c_void, count: MPI_Count, datatype: MPI_Datatype, dest: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Recv_init_c = PMPI_Recv_init_c(buf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, source: c_int, tag: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Bcast_c = PMPI_Bcast_c(buffer: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, root: c_int, comm: MPI_Comm);
            large::MPI_Ibcast_c = PMPI_Ibcast_c(buffer: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, root: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Reduce_c = PMPI_Reduce_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, root: c_int, comm: MPI_Comm);
            large::MPI_Ireduce_c = PMPI_Ireduce_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, root: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Allreduce_c = PMPI_Allreduce_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm);
            large::MPI_Iallreduce_c = PMPI_Iallreduce_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Gather_c = PMPI_Gather_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm);
            large::MPI_Igather_c = PMPI_Igather_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Gatherv_c = PMPI_Gatherv_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, displs: *const MPI_Aint, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm);
            large::MPI_Igatherv_c = PMPI_Igatherv_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, displs: *const MPI_Aint, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Scatter_c = PMPI_Scatter_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm);
            large::MPI_Iscatter_c = PMPI_Iscatter_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Scatterv_c = PMPI_Scatterv_c(sendbuf: *const c_void, sendcounts: *const MPI_Count, displs: *const MPI_Aint, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm);
            large::MPI_Iscatterv_c = PMPI_Iscatterv_c(sendbuf: *const c_void, sendcounts: *const MPI_Count, displs: *const MPI_Aint, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, root: c_int, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Allgather_c = PMPI_Allgather_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, comm: MPI_Comm);
            large::MPI_Iallgather_c = PMPI_Iallgather_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Allgatherv_c = PMPI_Allgatherv_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, displs: *const MPI_Aint, recvtype: MPI_Datatype, comm: MPI_Comm);
            large::MPI_Iallgatherv_c = PMPI_Iallgatherv_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, displs: *const MPI_Aint, recvtype: MPI_Datatype, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Alltoall_c = PMPI_Alltoall_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, comm: MPI_Comm);
            large::MPI_Ialltoall_c = PMPI_Ialltoall_c(sendbuf: *const c_void, sendcount: MPI_Count, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcount: MPI_Count, recvtype: MPI_Datatype, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Alltoallv_c = PMPI_Alltoallv_c(sendbuf: *const c_void, sendcounts: *const MPI_Count, sdispls: *const MPI_Aint, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, rdispls: *const MPI_Aint, recvtype: MPI_Datatype, comm: MPI_Comm);
            large::MPI_Ialltoallv_c = PMPI_Ialltoallv_c(sendbuf: *const c_void, sendcounts: *const MPI_Count, sdispls: *const MPI_Aint, sendtype: MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, rdispls: *const MPI_Aint, recvtype: MPI_Datatype, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Alltoallw_c = PMPI_Alltoallw_c(sendbuf: *const c_void, sendcounts: *const MPI_Count, sdispls: *const MPI_Aint, sendtypes: *const MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, rdispls: *const MPI_Aint, recvtypes: *const MPI_Datatype, comm: MPI_Comm);
            large::MPI_Ialltoallw_c = PMPI_Ialltoallw_c(sendbuf: *const c_void, sendcounts: *const MPI_Count, sdispls: *const MPI_Aint, sendtypes: *const MPI_Datatype, recvbuf: *mut c_void, recvcounts: *const MPI_Count, rdispls: *const MPI_Aint, recvtypes: *const MPI_Datatype, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Reduce_scatter_c = PMPI_Reduce_scatter_c(sendbuf: *const c_void, recvbuf: *mut c_void, recvcounts: *const MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm);
            large::MPI_Ireduce_scatter_c = PMPI_Ireduce_scatter_c(sendbuf: *const c_void, recvbuf: *mut c_void, recvcounts: *const MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Reduce_scatter_block_c = PMPI_Reduce_scatter_block_c(sendbuf: *const c_void, recvbuf: *mut c_void, recvcount: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm);
            large::MPI_Ireduce_scatter_block_c = PMPI_Ireduce_scatter_block_c(sendbuf: *const c_void, recvbuf: *mut c_void, recvcount: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Scan_c = PMPI_Scan_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm);
            large::MPI_Iscan_c = PMPI_Iscan_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm, request: *mut MPI_Request);
            large::MPI_Exscan_c = PMPI_Exscan_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm);
            large::MPI_Iexscan_c = PMPI_Iexscan_c(sendbuf: *const c_void, recvbuf: *mut c_void, count: MPI_Count, datatype: MPI_Datatype, op: MPI_Op, comm: MPI_Comm, request: *mut MPI_Request);
            }
        };
    }

    /// The library's `PMPI_X_c` functions.
    pub mod real {
        use super::*;
        large_list!(real_fns);
    }

    /// This library's `PMPI_X_c` exports.
    pub mod exports {
        use super::*;
        large_list!(export_fns);
    }
}
